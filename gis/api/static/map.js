/* The service's web map (templates/map.html, gis/api/maps/routes.py).
 *
 * The static map's frame and tools come from /maps/{id}/frame.js (window.gisSetupFrame,
 * window.gisSetupTools: the folium elements of gis/render rendered for this map); this file
 * adds the service's data sources (vector tiles drawn by Leaflet.VectorGrid on canvas, GeoJSON
 * for small layers), popups for a click in every visible layer (/api/maps/{id}/at), the find
 * box through the service, "locate me", and for inspectors drawing a point or an area and the
 * flag form. Every value is put on screen with textContent.
 */
(function () {
  "use strict";
  var doc = JSON.parse(document.getElementById("gis-map-doc").textContent);
  var T = doc.texts;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var statusBox = document.querySelector(".gis-map-status");
  var statusTimer = null;

  function status(text, link, keep) {
    statusBox.textContent = text;
    if (link) {
      statusBox.appendChild(document.createTextNode(" "));
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      statusBox.appendChild(a);
    }
    statusBox.hidden = false;
    clearTimeout(statusTimer);
    if (!keep) { statusTimer = setTimeout(function () { statusBox.hidden = true; }, 6000); }
  }

  if (!window.L || !L.vectorGrid || !window.gisSetupFrame || !window.gisSetupFrameEnd) {
    status(T.no_plugins, null, true);
    return;
  }

  L.Control.Scale.mergeOptions({imperial: false});  // metric only, as the static map
  var map = L.map("map", {preferCanvas: true, maxZoom: 22, zoomSnap: 1});
  window.gisMap = map;
  if (doc.bounds) { map.fitBounds(doc.bounds); } else { map.setView([21.03, 105.85], 13); }
  if (doc.base_map && doc.base_map !== "none") {
    var baseUrl = doc.base_map === "osm" ? "https://tile.openstreetmap.org/{z}/{x}/{y}.png" : doc.base_map;
    L.tileLayer(baseUrl, {maxZoom: 22, maxNativeZoom: 19, attribution: doc.attribution}).addTo(map);
  }
  L.control.scale().addTo(map);
  var css = document.createElement("style");
  css.textContent = window.gisToolsCss || "";
  document.head.appendChild(css);
  window.gisSetupFrame(map);  // formatting, styles, popups, legend, layer control
  if (window.matchMedia("(max-width: 600px)").matches) {
    window.gisControl.options.collapsed = true;  // on a phone the layer list opens from a button
  }

  // ---- layers ----------------------------------------------------------------------------
  var configs = {}, entries = {}, pending = [];
  window.gisLayers = {};
  window.gisStats = {tiles: {}, features: {}, firstDrawn: {}, loaded: {}};

  function styleOf(cfg, props) {
    var s = window.gisStyle(cfg.style, props);
    s.fill = s.fillOpacity > 0;
    s.radius = 6;
    s.interactive = false;
    return s;
  }

  // VectorGrid decodes and draws a whole tile in one task: the fetch starts two frames after
  // the tile is wanted, so a zoom or a pan is on screen before new tiles take the main thread
  var fetchTile = L.VectorGrid.Protobuf.prototype._getVectorTilePromise;
  var Grid = L.VectorGrid.Protobuf.extend({
    _getVectorTilePromise: function (coords) {
      var self = this;
      return new Promise(function (resolve) {
        L.Util.requestAnimFrame(function () { L.Util.requestAnimFrame(resolve); });
      }).then(function () { return fetchTile.call(self, coords); });
    }
  });

  function tileLayer(entry, index) {
    var cfg = entry.config, styles = {};
    styles[entry.key] = function (props) { return styleOf(cfg, props); };
    var layer = new Grid(entry.url, {
      rendererFactory: L.canvas.tile, vectorTileLayerStyles: styles, interactive: false,
      getFeatureId: function (f) { return f.id; }, maxZoom: 22, maxNativeZoom: 22,
      zIndex: 10 + index, fetchOptions: {credentials: "same-origin"}
    });
    layer.eachLayer = function () { return layer; };  // the tools walk GeoJSON layers' features
    layer.on("tileload", function (e) {
      var tile = layer._vectorTiles && layer._vectorTiles[layer._tileCoordsToKey(e.coords)];
      var n = tile && tile._features ? Object.keys(tile._features).length : 0;
      var stats = window.gisStats;
      stats.tiles[entry.key] = (stats.tiles[entry.key] || 0) + 1;
      stats.features[entry.key] = (stats.features[entry.key] || 0) + n;
      if (n && stats.firstDrawn[entry.key] === undefined) { stats.firstDrawn[entry.key] = performance.now(); }
    });
    layer.on("load", function () {  // every tile in view is drawn
      if (window.gisStats.loaded[entry.key] === undefined) { window.gisStats.loaded[entry.key] = performance.now(); }
    });
    layer.gisRefresh = function () {
      layer.setUrl(entry.url + "&v=" + Date.now());
      return Promise.resolve();
    };
    return layer;
  }

  function geojsonLayer(entry) {
    var cfg = entry.config;
    var renderer = L.canvas({padding: 0.2});
    var layer = L.geoJSON(null, {
      renderer: renderer, interactive: false,
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {renderer: renderer, radius: 6, interactive: false});
      },
      style: function (f) { return styleOf(cfg, f.properties); }
    });
    layer.gisRefresh = function () {
      var sep = entry.url.indexOf("?") >= 0 ? "&" : "?";
      return fetch(entry.url + sep + "v=" + Date.now(), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
        .then(function (data) {
          layer.clearLayers();
          layer.addData(data);
          window.gisStats.features[entry.key] = data.features.length;
        })
        .catch(function () { status(T.load_failed + ": " + cfg.title); });
    };
    pending.push(layer.gisRefresh());
    return layer;
  }

  doc.layers.forEach(function (entry, i) {
    var layer = entry.source === "tiles" ? tileLayer(entry, i) : geojsonLayer(entry);
    configs[entry.key] = entry.config;
    entries[entry.key] = entry;
    layer.gisTitle = entry.config.title;
    window.gisLayers[entry.key] = layer;
    window.gisControl.addOverlay(layer, entry.config.title);
    if (entry.show) { layer.addTo(map); }
  });
  window.gisSetupFrameEnd(map);  // the layer control on the map, once it lists the layers
  if (window.gisLegendDraw) { window.gisLegendDraw(); }

  // ---- popups: what lies under a click in every visible layer, top layer first -------------
  var drawing = false;
  function hitBox(hit) {
    var cfg = configs[hit.layer];
    var box = window.gisPopup(cfg, hit.properties);
    var p = hit.properties, link = null;
    if (entries[hit.layer].parcels && p.parcel_key) {
      link = {href: "/api/parcels/" + encodeURIComponent(p.parcel_key) + "/extract.pdf", text: T.extract};
    } else if (entries[hit.layer].cases && p.case_id) {
      link = {href: "/cases/" + encodeURIComponent(p.case_id), text: T.open_case};
    }
    if (link) {
      var a = document.createElement("a");
      a.className = "gis-hit-link";
      a.href = link.href;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = link.text;
      box.appendChild(a);
    }
    return box;
  }
  // on a phone the answer is a sheet at the bottom (a popup would hide under the controls)
  var narrow = window.matchMedia("(max-width: 600px)");
  var sheet = document.createElement("div");
  sheet.className = "gis-sheet";
  sheet.hidden = true;
  var sheetClose = document.createElement("button");
  sheetClose.type = "button";
  sheetClose.className = "gis-sheet-close";
  sheetClose.setAttribute("aria-label", T.cancel);
  sheetClose.textContent = "\u00D7";
  sheetClose.addEventListener("click", function () { sheet.hidden = true; });
  var sheetBody = document.createElement("div");
  sheet.appendChild(sheetClose);
  sheet.appendChild(sheetBody);
  map.getContainer().parentNode.appendChild(sheet);
  L.DomEvent.disableClickPropagation(sheet);
  L.DomEvent.disableScrollPropagation(sheet);
  function showHits(latlng, hits) {
    if (!hits.length) { sheet.hidden = true; return null; }
    var wrap = document.createElement("div");
    wrap.className = "gis-hits";
    hits.forEach(function (hit) { wrap.appendChild(hitBox(hit)); });
    if (narrow.matches) {
      while (sheetBody.firstChild) { sheetBody.removeChild(sheetBody.firstChild); }
      sheetBody.appendChild(wrap);
      sheet.hidden = false;
      return sheet;
    }
    return L.popup({maxWidth: 360, autoPanPadding: [20, 20]}).setLatLng(latlng).setContent(wrap).openOn(map);
  }
  function visibleKeys() {
    return doc.layers.filter(function (e) { return map.hasLayer(window.gisLayers[e.key]); })
      .map(function (e) { return e.key; });
  }
  window.gisLookup = function (latlng) {
    var keys = visibleKeys();
    if (!keys.length) { return Promise.resolve([]); }
    var url = "/api/maps/" + encodeURIComponent(doc.id) + "/at?lon=" + latlng.lng.toFixed(7) +
      "&lat=" + latlng.lat.toFixed(7) + "&zoom=" + map.getZoom() + "&layers=" + encodeURIComponent(keys.join(","));
    return fetch(url, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {hits: []}; })
      .then(function (d) { showHits(latlng, d.hits); return d.hits; });
  };
  map.on("click", function (e) {
    if (drawing || (window.gisMeasure && window.gisMeasure.mode())) { return; }
    window.gisLookup(e.latlng);
  });

  // ---- locate me ---------------------------------------------------------------------------
  var here = L.layerGroup().addTo(map);
  var locate = L.control({position: "topleft"});
  var locateButton;
  locate.onAdd = function () {
    var div = L.DomUtil.create("div", "gis-locate-control leaflet-bar");
    locateButton = document.createElement("button");
    locateButton.type = "button";
    locateButton.className = "gis-locate";
    locateButton.title = T.locate;
    locateButton.setAttribute("aria-label", T.locate);
    locateButton.textContent = "\u25CE";  // ◎, in every font
    L.DomEvent.on(locateButton, "click", function (e) {
      L.DomEvent.stop(e);
      locateButton.setAttribute("aria-busy", "true");
      status(T.locating);
      map.locate({setView: true, maxZoom: 18, enableHighAccuracy: true, timeout: 15000});
    });
    div.appendChild(locateButton);
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  locate.addTo(map);
  map.on("locationfound", function (e) {
    locateButton.removeAttribute("aria-busy");
    statusBox.hidden = true;
    here.clearLayers();
    L.circle(e.latlng, {radius: e.accuracy, color: "#1565c0", weight: 1, fillOpacity: 0.1,
                        interactive: false}).addTo(here);
    L.circleMarker(e.latlng, {radius: 7, color: "#fff", weight: 2, fillColor: "#1565c0",
                              fillOpacity: 1, interactive: false}).addTo(here);
    window.gisLocated = [e.latlng.lat, e.latlng.lng];
  });
  map.on("locationerror", function () {
    locateButton.removeAttribute("aria-busy");
    status(T.no_location);
  });

  // ---- tools of the static map, once the small layers are in (zoom-to lists need them) ----
  Promise.all(pending).then(function () {
    window.gisSetupTools(map);
    window.gisFind = function (query) {  // the service searches every layer, tiles included
      var url = "/api/maps/" + encodeURIComponent(doc.id) + "/find?q=" + encodeURIComponent(query);
      fetch(url, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : {found: null}; })
        .then(function (d) {
          var note = document.querySelector(".gis-search-note");
          if (!d.found) { if (note) { note.textContent = T.not_found; } return; }
          if (note) { note.textContent = ""; }
          var f = d.found, b = L.latLngBounds(f.bounds);
          var layer = window.gisLayers[f.layer];
          if (layer && !map.hasLayer(layer)) { layer.addTo(map); }
          map.fitBounds(b, {maxZoom: 19});
          showHits(b.getCenter(), [{layer: f.layer, properties: f.properties}]);
        });
      return query.trim() !== "";
    };
    window.gisReady = true;
  });

  // ---- inspectors: draw a point or an area, fill the form, save -----------------------------
  var form = document.getElementById("gis-flag");
  if (!doc.can_write || !form || !L.Control.Draw) { return; }
  var local = L.drawLocal.draw;
  local.toolbar.buttons.polygon = T.draw_polygon;
  local.toolbar.buttons.circlemarker = T.draw_point;
  local.toolbar.actions = {title: T.cancel, text: T.cancel};
  local.toolbar.finish = {title: T.finish, text: T.finish};
  local.toolbar.undo = {title: T.delete_last, text: T.delete_last};
  local.handlers.polygon.tooltip = {start: T.draw_start, cont: T.draw_cont, end: T.draw_end};
  local.handlers.circlemarker.tooltip = {start: T.draw_point_tip};
  var drawn = L.featureGroup().addTo(map);
  var draw = new L.Control.Draw({
    position: "topleft", edit: false,
    draw: {polyline: false, rectangle: false, circle: false, marker: false,
           polygon: {allowIntersection: false, showArea: false,
                     shapeOptions: {color: "#d50000", weight: 3, fillOpacity: 0.2}},
           circlemarker: {color: "#d50000", radius: 8}}
  });
  map.addControl(draw);
  var shape = null;
  var formStatus = form.querySelector(".gis-flag-status");
  function formMessage(text, isError) {
    formStatus.textContent = text;
    formStatus.className = "gis-flag-status" + (isError ? " error" : "");
  }
  function closeForm() {
    form.hidden = true;
    form.reset();
    formMessage("");
    drawn.clearLayers();
    shape = null;
  }
  map.on(L.Draw.Event.DRAWSTART, function () { drawing = true; map.closePopup(); sheet.hidden = true; });
  map.on(L.Draw.Event.DRAWSTOP, function () { setTimeout(function () { drawing = false; }, 0); });
  map.on(L.Draw.Event.CREATED, function (e) {
    drawn.clearLayers();
    drawn.addLayer(e.layer);
    shape = e.layer;
    sheet.hidden = true;
    form.hidden = false;
    formMessage("");
    form.querySelector("select").focus();
  });
  L.DomEvent.disableClickPropagation(form);
  L.DomEvent.disableScrollPropagation(form);
  form.querySelector("[data-cancel]").addEventListener("click", closeForm);
  window.gisFlagShape = function (geojson) {  // for scripts and tests: a shape without drawing
    drawn.clearLayers();
    shape = L.geoJSON(geojson).getLayers()[0];
    drawn.addLayer(shape);
    form.hidden = false;
  };

  function send(url, options) {
    options.credentials = "same-origin";
    options.headers = Object.assign({"X-CSRF-Token": csrf}, options.headers || {});
    return fetch(url, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { throw new Error(body.message || String(r.status)); }
        return body;
      });
    });
  }
  function value(name) {
    var v = form.elements[name].value.trim();
    return v === "" ? null : v;
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!shape) { return; }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    formMessage(T.saving);
    var body = {geometry: shape.toGeoJSON().geometry, kind: form.elements.kind.value,
                notes: value("notes"), owner_name: value("owner_name")};
    var files = [];
    Array.prototype.forEach.call(form.elements.photos.files, function (f) { files.push([f, "photo"]); });
    Array.prototype.forEach.call(form.elements.documents.files, function (f) { files.push([f, "document"]); });
    var caseId = null, failures = [];
    send("/api/violations", {method: "POST", headers: {"Content-Type": "application/json"},
                             body: JSON.stringify(body)})
      .then(function (created) {
        caseId = created.case_id;
        if (files.length) { formMessage(T.uploading); }
        return files.reduce(function (chain, item) {
          return chain.then(function () {
            var data = new FormData();
            data.append("file", item[0]);
            data.append("role", item[1]);
            return send("/api/violations/" + encodeURIComponent(caseId) + "/attachments",
                        {method: "POST", body: data})
              .catch(function (err) { failures.push(item[0].name + ": " + err.message); });
          });
        }, Promise.resolve());
      })
      .then(function () {
        var refresh = doc.layers.filter(function (l) { return l.cases; }).map(function (l) {
          var layer = window.gisLayers[l.key];
          if (!map.hasLayer(layer)) { layer.addTo(map); }
          return layer.gisRefresh();
        });
        return Promise.all(refresh);
      })
      .then(function () {
        closeForm();
        var text = T.saved + " " + caseId + (failures.length ? " — " + T.upload_failed + ": " + failures.join("; ") : "");
        status(text, {href: "/cases/" + encodeURIComponent(caseId), text: T.open_case}, failures.length > 0);
        window.gisLastCase = caseId;
      })
      .catch(function (err) {
        formMessage(T.save_failed + ": " + err.message, true);
      })
      .then(function () { button.disabled = false; });
  });
})();
