// The /exports form: keeps the API link in step with the choices (the server builds the same
// link when the form is submitted without JavaScript).
(function () {
  "use strict";
  var form = document.getElementById("export-form");
  if (!form) { return; }
  var code = document.getElementById("export-url");
  var link = document.getElementById("export-link");

  function value(name) {
    var el = form.elements[name];
    return el ? el.value.trim() : "";
  }

  function statusOptions(layer) {
    var select = form.elements.status;
    Array.prototype.forEach.call(select.options, function (opt) {
      var layerOf = opt.getAttribute("data-layer");
      if (!layerOf) { return; }
      var off = layerOf !== layer;
      opt.hidden = off;
      opt.disabled = off;
      if (off && opt.selected) { select.value = ""; }
    });
  }

  function update() {
    var layer = value("layer");
    statusOptions(layer);
    var params = new URLSearchParams();
    ["format", "crs", "ward", "project", "status", "bbox"].forEach(function (name) {
      var v = value(name);
      if (v) { params.set(name, v); }
    });
    var query = params.toString();
    var url = "/api/export/" + encodeURIComponent(layer) + (query ? "?" + query : "");
    code.textContent = url;
    link.setAttribute("href", url);
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}());
