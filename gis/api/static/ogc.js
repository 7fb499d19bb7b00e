/* The small map of the OGC API pages: draws the page's own features, fetched from the same URL
   with f=json (same origin, the session cookie). Text is set with textContent only. */
(function () {
  "use strict";
  var el = document.getElementById("ogc-map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { preferCanvas: true, attributionControl: false });
  L.control.scale({ imperial: false }).addTo(map);
  map.setView([16.0, 106.0], 5);
  var style = { color: "#1b5e20", weight: 1, fillColor: "#66bb6a", fillOpacity: 0.35 };

  function popup(feature) {
    var box = document.createElement("div");
    var id = feature.id === undefined || feature.id === null ? "" : String(feature.id);
    if (el.dataset.item) {
      var a = document.createElement("a");
      a.href = el.dataset.item + encodeURIComponent(id) + "?f=html";
      a.textContent = id;
      box.appendChild(a);
    } else {
      box.textContent = id;
    }
    return box;
  }

  fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (res) { if (!res.ok) { throw new Error(String(res.status)); } return res.json(); })
    .then(function (collection) {
      var layer = L.geoJSON(collection, {
        style: function () { return style; },
        pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 6 }); },
        onEachFeature: function (f, l) { l.bindPopup(popup(f)); }
      }).addTo(map);
      var bounds = layer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10], maxZoom: 19 }); }
      el.dataset.loaded = String(layer.getLayers().length);
    })
    .catch(function () {
      var note = document.createElement("p");
      note.className = "ogc-map-failed";
      note.textContent = el.dataset.failed || "";
      el.replaceWith(note);
    });
}());
