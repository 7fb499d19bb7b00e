// The map tools (gis.render.tools.MapTools): find, zoom-to lists, measuring, full screen,
// cursor coordinates in WGS 84 and the VN-2000 zone, metric scale. Called once per map with
// the map, the texts of the page's language and the zone parameters (or null).
window.gisMapTools = function (map, text, zone) {
  var locale = text.locale;

  // ---- VN-2000: WGS 84 lon/lat -> zone easting, northing (see gis/render/tools.py) ----
  window.gisVn2000Projector = function (p) {
    var rad = Math.PI / 180, sec = Math.PI / 648000;
    var a = p.a, f = p.f, e2 = f * (2 - f), e = Math.sqrt(e2);
    var h = p.helmert, sign = h.convention === "coordinate_frame" ? 1 : -1;
    var rx = sign * h.rx * sec, ry = sign * h.ry * sec, rz = sign * h.rz * sec;
    var scale = 1 + h.s * 1e-6;
    // PROJ's small-angle rotation, coordinate-frame form: WGS84 = T + scale * R * VN2000
    var R = [[1, rz, -ry], [-rz, 1, rx], [ry, -rx, 1]];
    var n = f / (2 - f), n2 = n * n, n3 = n2 * n, n4 = n3 * n, n5 = n4 * n, n6 = n5 * n;
    var A = a / (1 + n) * (1 + n2 / 4 + n4 / 64 + n6 / 256);
    var alpha = [
      n / 2 - 2 * n2 / 3 + 5 * n3 / 16 + 41 * n4 / 180 - 127 * n5 / 288 + 7891 * n6 / 37800,
      13 * n2 / 48 - 3 * n3 / 5 + 557 * n4 / 1440 + 281 * n5 / 630 - 1983433 * n6 / 1935360,
      61 * n3 / 240 - 103 * n4 / 140 + 15061 * n5 / 26880 + 167603 * n6 / 181440,
      49561 * n4 / 161280 - 179 * n5 / 168 + 6601661 * n6 / 7257600,
      34729 * n5 / 80640 - 3418889 * n6 / 1995840,
      212378941 * n6 / 319334400];
    function kruger(phi, lam) {  // [A eta, A xi] of Transverse Mercator, unit scale
      var t = Math.tan(phi), s = Math.sinh(e * Math.atanh(e * t / Math.sqrt(1 + t * t)));
      var tc = t * Math.sqrt(1 + s * s) - s * Math.sqrt(1 + t * t);  // conformal latitude
      var xi0 = Math.atan2(tc, Math.cos(lam));
      var eta0 = Math.asinh(Math.sin(lam) / Math.sqrt(tc * tc + Math.cos(lam) * Math.cos(lam)));
      var xi = xi0, eta = eta0;
      for (var j = 1; j <= 6; j++) {
        xi += alpha[j - 1] * Math.sin(2 * j * xi0) * Math.cosh(2 * j * eta0);
        eta += alpha[j - 1] * Math.cos(2 * j * xi0) * Math.sinh(2 * j * eta0);
      }
      return [A * eta, A * xi];
    }
    var origin = kruger(p.lat0 * rad, 0)[1];
    return function (lon, lat) {
      var phi = lat * rad, lam = lon * rad;
      var sp = Math.sin(phi), cp = Math.cos(phi), N = a / Math.sqrt(1 - e2 * sp * sp);
      var x = N * cp * Math.cos(lam) - h.tx, y = N * cp * Math.sin(lam) - h.ty,
          z = N * (1 - e2) * sp - h.tz;
      // PROJ's reverse Helmert: translation off, transposed rotation, scale off
      var xv = (R[0][0] * x + R[1][0] * y + R[2][0] * z) / scale;
      var yv = (R[0][1] * x + R[1][1] * y + R[2][1] * z) / scale;
      var zv = (R[0][2] * x + R[1][2] * y + R[2][2] * z) / scale;
      var pp = Math.sqrt(xv * xv + yv * yv), lonv = Math.atan2(yv, xv);
      var latv = Math.atan2(zv, pp * (1 - e2));
      for (var i = 0; i < 6; i++) {
        var s2 = Math.sin(latv), N2 = a / Math.sqrt(1 - e2 * s2 * s2);
        var hv = pp / Math.cos(latv) - N2;
        latv = Math.atan2(zv, pp * (1 - e2 * N2 / (N2 + hv)));
      }
      var en = kruger(latv, lonv - p.lon0 * rad);
      return [p.fe + p.k0 * en[0], p.fn + p.k0 * (en[1] - origin)];
    };
  };
  window.gisVn2000 = zone ? window.gisVn2000Projector(zone) : null;
  window.gisZone = zone;

  function fixed(v, digits) {
    return v.toLocaleString(locale, {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }
  var coordFormat = null;  // made at the first mouse move: ICU's set-up costs tens of ms at load
  function coord(v) {  // 2 323 456,78: thin spaces between thousands, the language's decimal mark
    coordFormat = coordFormat || new Intl.NumberFormat(locale, {minimumFractionDigits: 2,
                                                                maximumFractionDigits: 2});
    return coordFormat.formatToParts(v).map(function (part) {
      return part.type === "group" ? "\u202f" : part.value;
    }).join("");
  }

  // ---- find ----
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

  // ---- zoom to a ward or a project: one list per layer present ----
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

  // ---- full screen ----
  var full = L.control({position: "topleft"});
  full.onAdd = function () {
    var a = L.DomUtil.create("a", "gis-fullscreen leaflet-bar");
    a.href = "#";
    a.title = text.full;
    a.textContent = "\u25A1";  // a square: available in every font, unlike ⛶
    a.style.cssText = "display:block;width:30px;height:30px;line-height:30px;text-align:center;background:#fff;font-size:18px";
    L.DomEvent.on(a, "click", function (e) {
      L.DomEvent.preventDefault(e);
      var el = map.getContainer();
      if (document.fullscreenElement) { document.exitFullscreen(); } else if (el.requestFullscreen) { el.requestFullscreen(); }
    });
    return a;
  };
  full.addTo(map);

  // ---- measure distance and area ----
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
  // Leaflet drops canvas mouse moves within 32 ms of the last one (hover throttling): the
  // cursor position is taken from the DOM event itself, so the last position always counts
  var pointerHandlers = [];
  L.DomEvent.on(map.getContainer(), "mousemove", function (e) {
    var controls = map.getContainer().querySelector(".leaflet-control-container");
    if (controls && controls.contains(e.target)) { return; }
    var latlng = map.mouseEventToLatLng(e);
    pointerHandlers.forEach(function (handler) { handler(latlng); });
  });
  pointerHandlers.push(function (latlng) {
    if (measure.mode && measure.points.length) { measure.cursor = latlng; redraw(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && (measure.mode || measure.shown)) { cancel(); }
  });

  // ---- cursor coordinates ----
  var coords = L.control({position: "bottomleft"});
  coords.onAdd = function () {
    var div = L.DomUtil.create("div", "gis-coords");
    div.style.cssText = "background:rgba(255,255,255,.85);padding:2px 6px;font:12px monospace;" +
      "display:none";
    var wgs = document.createElement("div");
    wgs.className = "gis-coords-wgs84";
    div.appendChild(wgs);
    var vn = document.createElement("div");
    vn.className = "gis-coords-vn2000";
    if (zone) { div.appendChild(vn); }
    pointerHandlers.push(function (latlng) {
      div.style.display = "";
      wgs.textContent = "WGS 84: " + latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6);
      if (zone) {
        var en = window.gisVn2000(latlng.lng, latlng.lat);
        vn.textContent = zone.label + ": " + text.north + " " + coord(en[1]) + "  " +
          text.east + " " + coord(en[0]);
      }
    });
    return div;
  };
  coords.addTo(map);
};
