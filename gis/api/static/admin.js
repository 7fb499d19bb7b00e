// Uploads form: show only the options that apply to the chosen kind (all show without JS).
(function () {
  "use strict";
  var kind = document.getElementById("up-kind");
  var file = document.getElementById("up-file");
  if (!kind) { return; }
  var accept = { clearance: ".xlsx,.csv" };
  function update() {
    var k = kind.value;
    document.querySelectorAll("[data-for]").forEach(function (el) {
      var want = el.getAttribute("data-for");
      var show = want === k || (want === "layers" && k !== "clearance") ||
        (want === "codes" && (k === "parcels" || k === "clearance")) ||
        (want === "replace" && (k === "parcels" || k === "units"));
      el.hidden = !show;
      el.querySelectorAll("input, select").forEach(function (input) { input.disabled = !show; });
    });
    if (file) { file.setAttribute("accept", accept[k] || ".zip,.gpkg"); }
  }
  kind.addEventListener("change", update);
  update();
}());
