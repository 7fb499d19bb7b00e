/* Case page: a small Leaflet map of the case over its neighbouring parcels.
   Data comes from the page's JSON block (WGS 84); labels are set with textContent. */
(function () {
  "use strict";
  var el = document.getElementById("case-map");
  var src = document.getElementById("case-map-data");
  if (!el || !src || !window.L) { return; }
  var data = JSON.parse(src.textContent);
  var map = L.map(el, { scrollWheelZoom: false, attributionControl: false, maxZoom: 21 });
  window.gisCaseMap = map;

  function label(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  L.geoJSON(data.parcels, {
    style: { color: "#6d4c41", weight: 1, fillColor: "#fff3e0", fillOpacity: 0.6 },
    onEachFeature: function (feature, layer) {
      var p = feature.properties || {};
      layer.bindTooltip(label(p.parcel_key + (p.land_use ? " · " + p.land_use : "")),
                        { sticky: true });
    }
  }).addTo(map);

  if (!data["case"]) { map.setView([21.0, 105.8], 12); return; }
  var caseLayer = L.geoJSON(data["case"], {
    style: { color: "#b71c1c", weight: 2, fillColor: "#e53935", fillOpacity: 0.55 },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 9, color: "#b71c1c", weight: 2,
                                      fillColor: "#e53935", fillOpacity: 0.8 });
    }
  }).addTo(map);
  var bounds = caseLayer.getBounds();
  if (data["case"].type === "Point") {
    map.setView(bounds.getCenter(), 19);
  } else {
    map.fitBounds(bounds.pad(1.5), { maxZoom: 20 });
  }
  L.control.scale({ imperial: false }).addTo(map);
})();
