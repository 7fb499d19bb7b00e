// The find box: a parcel key, sheet and number, a case or a name (gis.render.tools.MapTools wires it: tools.js).
window.gisToolFind = function (tools) {
  var map = tools.map, text = tools.text;
  function norm(s) { return String(s).toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d"); }
  function matches(props, q) {
    var key = props.parcel_key;
    if (key && (norm(key) === q || (props.map_sheet + "/" + props.parcel_no) === q)) { return true; }
    if (props.case_id && norm(props.case_id) === q) { return true; }
    if (props.project_id && norm(props.project_id) === q) { return true; }
    if (props.name && norm(props.name).indexOf(q) >= 0) { return true; }
    return false;
  }
  window.gisFind = function (query) {
    var q = norm(query.trim());
    if (!q) { return null; }
    var found = null;
    Object.keys(window.gisLayers || {}).forEach(function (k) {
      if (found) { return; }
      window.gisLayers[k].eachLayer(function (f) {
        if (!found && matches(f.feature.properties, q)) { found = f; }
      });
    });
    if (found) {
      if (found.getBounds) { map.fitBounds(found.getBounds(), {maxZoom: 19}); }
      else { map.setView(found.getLatLng(), 19); }
      found.openPopup();
    }
    return found;
  };
  var box = L.control({position: "topleft"});
  box.onAdd = function () {
    var div = L.DomUtil.create("div", "gis-search leaflet-bar");
    div.style.cssText = "background:#fff;padding:4px";
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = text.placeholder;
    input.style.cssText = "width:260px;font:13px sans-serif;border:0;outline:none";
    var note = document.createElement("div");
    note.className = "gis-search-note";
    note.style.cssText = "font:12px sans-serif;color:#b71c1c";
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { note.textContent = window.gisFind(input.value) ? "" : text.none; }
    });
    div.appendChild(input);
    div.appendChild(note);
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  box.addTo(map);
};
