// Measure distance and area (in the VN-2000 zone plane when the map has one) (gis.render.tools.MapTools wires it: tools.js).
window.gisToolMeasure = function (tools) {
  var map = tools.map, text = tools.text, zone = tools.zone, fixed = tools.fixed;
  var EARTH = L.CRS.Earth.R;
  function planeXY(latlngs) {
    return latlngs.map(function (ll) { return window.gisVn2000(ll.lng, ll.lat); });
  }
  function lengthOf(latlngs, closed) {
    var total = 0, m = latlngs.length, last = closed ? m : m - 1, i;
    if (m < 2) { return 0; }
    if (window.gisVn2000) {
      var xy = planeXY(latlngs);
      for (i = 0; i < last; i++) {
        var b = xy[(i + 1) % m];
        total += Math.sqrt(Math.pow(b[0] - xy[i][0], 2) + Math.pow(b[1] - xy[i][1], 2));
      }
    } else {
      for (i = 0; i < last; i++) { total += map.distance(latlngs[i], latlngs[(i + 1) % m]); }
    }
    return total;
  }
  function areaOf(latlngs) {
    var m = latlngs.length, sum = 0, i;
    if (m < 3) { return 0; }
    if (window.gisVn2000) {  // shoelace in the zone plane, as the cadastre computes areas
      var xy = planeXY(latlngs);
      for (i = 0; i < m; i++) {
        var b = xy[(i + 1) % m];
        sum += xy[i][0] * b[1] - b[0] * xy[i][1];
      }
      return Math.abs(sum) / 2;
    }
    var rad = Math.PI / 180;  // spherical polygon on Leaflet's sphere
    for (i = 0; i < m; i++) {
      var p1 = latlngs[i], p2 = latlngs[(i + 1) % m];
      sum += (p2.lng - p1.lng) * rad * (2 + Math.sin(p1.lat * rad) + Math.sin(p2.lat * rad));
    }
    return Math.abs(sum * EARTH * EARTH / 2);
  }
  function distanceText(d) {
    return d >= 1000 ? fixed(d / 1000, 3) + " km" : fixed(d, 2) + " m";
  }
  var measure = {mode: null, shown: null, points: [], drawn: L.layerGroup(), muted: [],
                 dblZoom: false, cursor: null};
  // its own pane, above the data, letting every pointer event through to the layers below
  // (a canvas on top would otherwise take the clicks meant for the data layers' canvases)
  map.createPane("gisMeasurePane").style.cssText = "z-index:450;pointer-events:none";
  var measureRenderer = L.canvas({pane: "gisMeasurePane", padding: 0.2});
  var shapeStyle = {color: "#d81b60", weight: 3, dashArray: "8 6", fillColor: "#d81b60",
                    fillOpacity: 0.15, interactive: false, renderer: measureRenderer};
  var buttons = {}, result, note, hint;
  function current() {
    var pts = measure.points.slice();
    if (measure.mode && measure.cursor) { pts.push(measure.cursor); }
    return pts;
  }
  function values(pts, mode) {
    return mode === "area" ? {area: areaOf(pts), perimeter: lengthOf(pts, true)}
                           : {distance: lengthOf(pts, false)};
  }
  function redraw() {
    var pts = current(), mode = measure.mode || measure.shown;
    measure.drawn.clearLayers();
    if (!mode || !pts.length) { result.textContent = ""; note.textContent = ""; return; }
    if (mode === "area" && pts.length >= 3) { L.polygon(pts, shapeStyle).addTo(measure.drawn); }
    else { L.polyline(pts, shapeStyle).addTo(measure.drawn); }
    measure.points.forEach(function (ll) {
      L.circleMarker(ll, {radius: 4, color: "#d81b60", weight: 2, fillColor: "#fff", fillOpacity: 1,
                          interactive: false, renderer: measureRenderer}).addTo(measure.drawn);
    });
    var v = values(pts, mode);
    result.textContent = mode === "area"
      ? text.area_label + ": " + fixed(v.area, 1) + " m\u00b2 (" + fixed(v.area / 1e4, 4) +
        " ha), " + text.perimeter + " " + distanceText(v.perimeter)
      : text.distance_label + ": " + distanceText(v.distance);
    note.textContent = zone ? text.plane + " " + zone.label : text.sphere;
  }
  function mutePopups(on) {
    if (on) {
      map.closePopup();
      Object.keys(window.gisLayers || {}).forEach(function (k) {
        var layer = window.gisLayers[k];
        if (layer.gisMute) {  // a bulk layer (gis/render/elements.py): one switch for all
          layer.gisMute(true);
          measure.muted.push([layer, null]);
          return;
        }
        layer.eachLayer(function (f) {
          var popup = f.getPopup && f.getPopup();
          if (popup) { f.unbindPopup(); measure.muted.push([f, popup]); }
        });
      });
    } else {
      measure.muted.forEach(function (item) {
        if (item[1] === null) { item[0].gisMute(false); } else { item[0].bindPopup(item[1]); }
      });
      measure.muted = [];
    }
  }
  function setMode(mode) {
    Object.keys(buttons).forEach(function (k) {
      buttons[k].setAttribute("aria-pressed", String(k === mode));
    });
    hint.textContent = mode ? text.hint : "";
    var container = map.getContainer();
    if (mode) { L.DomUtil.addClass(container, "gis-measuring"); }
    else { L.DomUtil.removeClass(container, "gis-measuring"); }
  }
  function start(mode) {
    if (measure.mode) { stop(); }
    measure.mode = mode;
    measure.shown = null;
    measure.points = [];
    measure.cursor = null;
    measure.dblZoom = map.doubleClickZoom.enabled();
    map.doubleClickZoom.disable();
    mutePopups(true);
    setMode(mode);
    redraw();
  }
  function stop() {
    var mode = measure.mode;
    measure.mode = null;
    measure.cursor = null;
    if (measure.dblZoom) { map.doubleClickZoom.enable(); }
    mutePopups(false);
    setMode(null);
    return mode;
  }
  function finish() {
    var mode = stop();
    var enough = measure.points.length >= (mode === "area" ? 3 : 2);
    measure.shown = enough ? mode : null;
    if (!enough) { measure.points = []; }
    redraw();
  }
  function cancel() {
    stop();
    measure.shown = null;
    measure.points = [];
    redraw();
  }
  window.gisMeasure = {
    start: start, finish: finish, cancel: cancel,
    mode: function () { return measure.mode; },
    points: function () { return measure.points.map(function (ll) { return [ll.lat, ll.lng]; }); },
    result: function () {  // the figures shown: while measuring, up to the cursor
      var mode = measure.mode || measure.shown;
      return mode ? values(current(), mode) : null;
    }
  };
  var tool = L.control({position: "topleft"});
  tool.onAdd = function () {
    var div = L.DomUtil.create("div", "gis-measure leaflet-bar");
    div.style.cssText = "background:#fff;max-width:268px";
    ["distance", "area"].forEach(function (mode) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "gis-tool-button gis-measure-" + mode;
      b.textContent = text[mode];
      b.setAttribute("aria-pressed", "false");
      L.DomEvent.on(b, "click", function (e) {
        L.DomEvent.stop(e);
        if (measure.mode === mode) { finish(); } else { start(mode); }
      });
      buttons[mode] = b;
      div.appendChild(b);
    });
    result = document.createElement("div");
    result.className = "gis-measure-result";
    result.style.cssText = "font:bold 13px sans-serif;padding:0 8px;color:#ad1457";
    note = document.createElement("div");
    note.className = "gis-measure-note";
    note.style.cssText = "font:11px sans-serif;padding:0 8px;color:#555";
    hint = document.createElement("div");
    hint.className = "gis-measure-hint";
    hint.style.cssText = "font:11px sans-serif;padding:0 8px 4px;color:#555";
    div.appendChild(result);
    div.appendChild(note);
    div.appendChild(hint);
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  tool.addTo(map);
  measure.drawn.addTo(map);
  map.on("click", function (e) {
    if (!measure.mode) { return; }
    var last = measure.points[measure.points.length - 1];
    // the two clicks of a double-click land on one point: keep it once
    if (last && map.latLngToContainerPoint(last).distanceTo(e.containerPoint) < 4) { return; }
    measure.points.push(e.latlng);
    measure.cursor = e.latlng;
    redraw();
  });
  map.on("dblclick", function () { if (measure.mode) { finish(); } });
  tools.onPointer(function (latlng) {
    if (measure.mode && measure.points.length) { measure.cursor = latlng; redraw(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && (measure.mode || measure.shown)) { cancel(); }
  });
};
