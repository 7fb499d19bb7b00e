// Zoom to a ward or a project: one list per layer present (gis.render.tools.MapTools wires it: tools.js).
window.gisToolZoomTo = function (tools) {
  var map = tools.map, text = tools.text, locale = tools.locale;
  var lists = [["wards", "ward_code", text.zoom_wards],
               ["projects", "project_id", text.zoom_projects]]
    .filter(function (item) { return window.gisLayers && window.gisLayers[item[0]]; });
  if (lists.length) {
    var zoomTo = L.control({position: "topleft"});
    zoomTo.onAdd = function () {
      var div = L.DomUtil.create("div", "gis-zoomto leaflet-bar");
      div.style.cssText = "background:#fff;padding:4px";
      lists.forEach(function (item) {
        var layer = window.gisLayers[item[0]], entries = [];
        layer.eachLayer(function (f) {
          var p = f.feature.properties, code = p[item[1]], name = p.name;
          var label = name && code ? name + " (" + code + ")" : String(name || code || "?");
          entries.push({label: label, feature: f});
        });
        entries.sort(function (x, y) { return x.label.localeCompare(y.label, locale); });
        var select = document.createElement("select");
        select.className = "gis-zoomto-" + item[0];
        select.style.cssText = "display:block;width:268px;font:13px sans-serif;margin:2px 0";
        var first = document.createElement("option");
        first.value = "";
        first.textContent = item[2];
        select.appendChild(first);
        entries.forEach(function (entry, i) {
          var option = document.createElement("option");
          option.value = String(i);
          option.textContent = entry.label;
          select.appendChild(option);
        });
        select.addEventListener("change", function () {
          if (select.value === "") { return; }
          var f = entries[Number(select.value)].feature;
          if (!map.hasLayer(layer)) { layer.addTo(map); }  // show the boundary chosen
          if (f.getBounds) { map.fitBounds(f.getBounds()); }
          else { map.setView(f.getLatLng(), 18); }
        });
        div.appendChild(select);
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    zoomTo.addTo(map);
  }
};
