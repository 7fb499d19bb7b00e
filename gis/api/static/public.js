/* Residents' page: wards, project outlines (coloured by progress) and verified violations.
   Data comes from the page's JSON block (WGS 84); labels are set with textContent. */
(function () {
  "use strict";
  var el = document.getElementById("public-map");
  var src = document.getElementById("public-map-data");
  if (!el || !src || !window.L) { return; }
  var data = JSON.parse(src.textContent);
  var map = L.map(el, { scrollWheelZoom: false, attributionControl: false });
  window.gisPublicMap = map;

  function label(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  var wards = L.geoJSON(data.wards, {
    style: { color: "#1b5e20", weight: 1.5, fill: false },
    onEachFeature: function (f, layer) { layer.bindTooltip(label(f.properties.name || ""), { sticky: true }); }
  }).addTo(map);
  L.geoJSON(data.projects, {
    style: function (f) {
      var pct = data.progress[f.properties.project_id] || 0;
      return { color: "#0d47a1", weight: 2, fillColor: pct >= 100 ? "#43a047" : "#64b5f6", fillOpacity: 0.35 };
    },
    onEachFeature: function (f, layer) {
      var pct = data.progress[f.properties.project_id] || 0;
      layer.bindTooltip(label((f.properties.name || "") + " — " + pct + " %"), { sticky: true });
    }
  }).addTo(map);
  var cases = L.geoJSON(data.cases, {
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: 7, color: "#b71c1c", weight: 2, fillColor: "#e53935", fillOpacity: 0.85 });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip(label(p.case_id + " · " + p.kind_label + " · " + p.status_label));
    }
  }).addTo(map);
  var bounds = wards.getBounds();
  if (cases.getLayers().length) { bounds = bounds.isValid() ? bounds.extend(cases.getBounds()) : cases.getBounds(); }
  if (bounds.isValid()) { map.fitBounds(bounds, { maxZoom: 18 }); } else { map.setView([21.0, 105.8], 11); }
  L.control.scale({ imperial: false }).addTo(map);
})();
