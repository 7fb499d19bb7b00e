// ---- the bulk layer: many features as one path on the shared canvas renderer ----
// Geometry in typed arrays: lon/lat in 1e-6 degree as decoded, and the same points projected
// once (the CRS's pixel coordinates at zoom 0; at zoom z a point is at xy * 2^z - pixel origin).
// A redraw takes the features whose box meets the canvas, one Path2D per style, fills them,
// then outlines them; features under STROKE_THIN_PX on screen get half an outline and under
// STROKE_NONE_PX none, so a dense block seen from afar keeps its colours instead of turning
// into outline colour.
window.GisBulkLayer = L.Path.extend({
  options: {fill: true},
  STROKE_NONE_PX: 3,
  STROKE_THIN_PX: 5,
  RADIUS: 6,  // points, as L.circleMarker's radius in the GeoJSON layers

  initialize: function (cfg, payload, options) {
    L.setOptions(this, options);
    this._cfg = cfg;
    this._payload = payload;
    this._names = Object.keys(payload.columns);
    this._decode(payload.shapes, payload.coords);
    this._styleAll();
    this._hit = -1;
    this._muted = false;
    this._features = [];
    this.on("click", this._onFeatureClick, this);
    if (cfg.tooltip) {  // Leaflet's sticky tooltip, its text that of the feature under the cursor
      this.bindTooltip(L.bind(this._tipText, this), {sticky: true});
      this.on("mousemove", this._onHover, this);
    }
  },

  _decode: function (shapes, c) {  // the flat stream of gis/render/payload.py
    var n = 0, nr = 0, s = 0, t, p, q, cnt, len = shapes.length;
    while (s < len) {  // count features and rings first
      t = shapes[s++];
      if (t === 0) { continue; }
      n++;
      if (t === -1) { nr++; continue; }
      for (p = 0; p < t; p++) { q = shapes[s++]; nr += q; s += q; }
    }
    var nv = c.length >> 1;
    var rows = this._row = new Int32Array(n), kind = this._kind = new Uint8Array(n);
    var fr = this._featRing = new Int32Array(n + 1), rs = this._ringStart = new Int32Array(nr + 1);
    var outer = this._outer = new Uint8Array(nr), ll = this._ll = new Int32Array(2 * nv);
    var box = this._llBox = new Float64Array(4 * n);
    var f = 0, ri = 0, v = 0, x = 0, y = 0, row = 0;
    for (s = 0; s < len; row++) {
      t = shapes[s++];
      if (t === 0) { continue; }
      rows[f] = row;
      fr[f] = ri;
      var w = Infinity, so = Infinity, e = -Infinity, no = -Infinity;
      if (t === -1) {
        kind[f] = 0;
        rs[ri] = v;
        outer[ri++] = 1;
        x += c[2 * v]; y += c[2 * v + 1];
        ll[2 * v] = w = e = x;
        ll[2 * v + 1] = so = no = y;
        v++;
      } else {
        kind[f] = 1;
        for (p = 0; p < t; p++) {
          var nrings = shapes[s++];
          for (q = 0; q < nrings; q++) {
            cnt = shapes[s++];
            rs[ri] = v;
            outer[ri++] = q === 0 ? 1 : 0;
            var start = v, end = v + cnt, x0 = x + c[2 * v], y0 = y + c[2 * v + 1], area = 0;
            for (; v < end; v++) {
              var px = x - x0, py = y - y0;  // the point before, relative to the ring's first
              x += c[2 * v]; y += c[2 * v + 1];
              if (v > start) { area += px * (y - y0) - (x - x0) * py; }  // shoelace
              ll[2 * v] = x; ll[2 * v + 1] = y;
              if (x < w) { w = x; } if (x > e) { e = x; }
              if (y < so) { so = y; } if (y > no) { no = y; }
            }
            // outer rings anticlockwise, holes clockwise: the styles' batches are filled with
            // the nonzero rule, and a feature's holes stay holes
            if ((q === 0) !== (area > 0)) { this._reverse(ll, start, end); }
          }
        }
      }
      box[4 * f] = w; box[4 * f + 1] = so; box[4 * f + 2] = e; box[4 * f + 3] = no;
      f++;
    }
    fr[n] = ri;
    rs[nr] = v;
    this._n = n;
  },

  _reverse: function (a, start, end) {
    for (var i = start, j = end - 1; i < j; i++, j--) {
      var x = a[2 * i], y = a[2 * i + 1];
      a[2 * i] = a[2 * j]; a[2 * i + 1] = a[2 * j + 1];
      a[2 * j] = x; a[2 * j + 1] = y;
    }
  },

  _styleAll: function () {  // window.gisStyle once per distinct combination of the style's fields
    var st = this._cfg.style, fields = [], n = this._n, rows = this._row, i, k;
    if (st.by) { fields.push(st.by); }
    st.rules.forEach(function (rule) {
      Object.keys(rule.when).forEach(function (k) {
        if (fields.indexOf(k) < 0) { fields.push(k); }
      });
    });
    // each feature's combination as one number: the kind (point or not), then per field the
    // value's code (a coded column's own, or one given here in order of appearance)
    var keys = new Float64Array(n), span = 2, columns = this._payload.columns;
    for (i = 0; i < n; i++) { keys[i] = this._kind[i]; }
    fields.forEach(function (name) {
      var column = columns[name], codes = new Int32Array(n), count = 1;
      if (column !== undefined && !Array.isArray(column)) {
        for (i = 0; i < n; i++) { codes[i] = column.codes[rows[i]]; }
        count = column.values.length;
      } else if (column !== undefined) {
        var ids = new Map();
        for (i = 0; i < n; i++) {
          var id = ids.get(column[rows[i]]);
          if (id === undefined) { ids.set(column[rows[i]], id = ids.size); }
          codes[i] = id;
        }
        count = ids.size;
      }
      if (span * count > 1e15) {  // too many combinations for exact numbers: renumber first
        var dense = new Map();
        for (i = 0; i < n; i++) {
          var d = dense.get(keys[i]);
          if (d === undefined) { dense.set(keys[i], d = dense.size); }
          keys[i] = d;
        }
        span = dense.size;
      }
      for (i = 0; i < n; i++) { keys[i] = keys[i] * count + codes[i]; }
      span *= count;
    });
    var cache = new Map(), styles = this._styles = [], index = this._style = new Uint32Array(n);
    var base = L.extend({}, L.Path.prototype.options, {fill: true});
    this._maxWeight = 0;
    for (i = 0; i < n; i++) {
      var at = cache.get(keys[i]);
      if (at === undefined) {  // the first feature of this combination: its values
        var props = {};
        for (k = 0; k < fields.length; k++) {
          props[fields[k]] = columns[fields[k]] === undefined ? null
            : window.gisValue(columns[fields[k]], rows[i]);
        }
        var style = L.extend({}, base, window.gisStyle(st, props));
        if (this._kind[i] === 0) { style.radius = this.RADIUS; }
        style._dashArray = typeof style.dashArray === "string"
          ? style.dashArray.split(/[, ]+/).map(Number) : style.dashArray;
        if (style._dashArray && style._dashArray.some(isNaN)) { style._dashArray = null; }
        cache.set(keys[i], at = styles.length);
        styles.push(style);
        this._maxWeight = Math.max(this._maxWeight, style.stroke ? style.weight : 0);
      }
      index[i] = at;
    }
  },

  _projectAll: function (crs) {
    var ll = this._ll, nv = ll.length >> 1, xy = this._xy = new Float64Array(2 * nv), i;
    if (crs.code === "EPSG:3857" && crs.projection === L.Projection.SphericalMercator) {
      // Leaflet's spherical Mercator and EPSG:3857 transformation at zoom 0, inlined
      var d = Math.PI / 180, max = L.Projection.SphericalMercator.MAX_LATITUDE;
      for (i = 0; i < nv; i++) {
        var lat = Math.max(Math.min(max, ll[2 * i + 1] / 1e6), -max), sin = Math.sin(lat * d);
        xy[2 * i] = 256 * (0.5 + ll[2 * i] / 1e6 / 360);
        xy[2 * i + 1] = 256 * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI));
      }
    } else {
      for (i = 0; i < nv; i++) {
        var pt = crs.latLngToPoint(L.latLng(ll[2 * i + 1] / 1e6, ll[2 * i] / 1e6), 0);
        xy[2 * i] = pt.x; xy[2 * i + 1] = pt.y;
      }
    }
    var n = this._n, rs = this._ringStart, fr = this._featRing;
    var box = this._box = new Float64Array(4 * n), all = [Infinity, Infinity, -Infinity, -Infinity];
    for (var f = 0; f < n; f++) {
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, j = 4 * f;
      for (var v = rs[fr[f]]; v < rs[fr[f + 1]]; v++) {
        var x = xy[2 * v], y = xy[2 * v + 1];
        if (x < x0) { x0 = x; } if (x > x1) { x1 = x; }
        if (y < y0) { y0 = y; } if (y > y1) { y1 = y; }
      }
      box[j] = x0; box[j + 1] = y0; box[j + 2] = x1; box[j + 3] = y1;
      all[0] = Math.min(all[0], x0); all[1] = Math.min(all[1], y0);
      all[2] = Math.max(all[2], x1); all[3] = Math.max(all[3], y1);
    }
    this._all = all;
  },

  // ---- what the canvas renderer calls ----
  _project: function () {
    var map = this._map, crs = map.options.crs;
    if (!this._xy) { this._projectAll(crs); }
    this._scale = crs.scale(map.getZoom()) / crs.scale(0);
    var origin = map.getPixelOrigin(), s = this._scale, a = this._all;
    this._ox = origin.x;
    this._oy = origin.y;
    var pad = this._maxWeight / 2 + this.RADIUS + 1;
    this._pxBounds = this._n ? L.bounds([a[0] * s - origin.x - pad, a[1] * s - origin.y - pad],
                                        [a[2] * s - origin.x + pad, a[3] * s - origin.y + pad])
                             : null;
  },

  _update: function () {},  // nothing to clip: the redraw picks the features in view

  _updatePath: function () {
    var r = this._renderer;
    if (!r._drawing || !this._n || !this._xy) { return; }
    var ctx = r._ctx, b = r._redrawBounds || r._bounds, s = this._scale, ox = this._ox,
        oy = this._oy, box = this._box, kind = this._kind, index = this._style,
        styles = this._styles, pad = this._maxWeight / 2 + this.RADIUS + 1;
    var x0 = (b.min.x - pad + ox) / s, y0 = (b.min.y - pad + oy) / s,
        x1 = (b.max.x + pad + ox) / s, y1 = (b.max.y + pad + oy) / s;
    // by size on screen (the box's longer side): no outline, half an outline, the outline
    var none = this.STROKE_NONE_PX / s, thin = this.STROKE_THIN_PX / s, i, j, k, st, size;
    var groups = [[], [], []], widths = [0, 0.5, 1];
    for (i = 0; i < this._n; i++) {
      j = 4 * i;
      if (box[j] > x1 || box[j + 2] < x0 || box[j + 1] > y1 || box[j + 3] < y0) { continue; }
      k = index[i];
      size = Math.max(box[j + 2] - box[j], box[j + 3] - box[j + 1]);
      var paths = groups[kind[i] === 0 || size >= thin ? 2 : size >= none ? 1 : 0];
      this._trace(paths[k] || (paths[k] = new Path2D()), i, s, ox, oy);
    }
    for (k = 0; k < styles.length; k++) {
      st = styles[k];
      if (!st.fill) { continue; }
      ctx.globalAlpha = st.fillOpacity;
      ctx.fillStyle = st.fillColor || st.color;
      for (j = 0; j < 3; j++) { if (groups[j][k]) { ctx.fill(groups[j][k]); } }
    }
    for (k = 0; k < styles.length; k++) {
      st = styles[k];
      if (!st.stroke || st.weight === 0) { continue; }
      ctx.setLineDash(st._dashArray || []);
      ctx.globalAlpha = st.opacity;
      ctx.strokeStyle = st.color;
      ctx.lineCap = st.lineCap;
      ctx.lineJoin = st.lineJoin;
      for (j = 1; j < 3; j++) {
        if (!groups[j][k]) { continue; }
        ctx.lineWidth = st.weight * widths[j];
        ctx.stroke(groups[j][k]);
      }
    }
  },

  _trace: function (path, i, s, ox, oy) {  // feature i into path, in the renderer's pixels
    // Points are rounded to whole pixels, as Leaflet's latLngToLayerPoint rounds them: the same
    // picture, and neighbours' shared edges on pixel boundaries fill 2-3 times faster (Skia's
    // anti-aliasing slows down when two edges of one path cross a pixel at fractions of it)
    var xy = this._xy, rs = this._ringStart, v = rs[this._featRing[i]], round = Math.round;
    if (this._kind[i] === 0) {
      var cx = round(xy[2 * v] * s) - ox, cy = round(xy[2 * v + 1] * s) - oy;
      path.moveTo(cx + this.RADIUS, cy);
      path.arc(cx, cy, this.RADIUS, 0, 2 * Math.PI);
      return;
    }
    // each ring closed by a line back to its start: closePath() on a long path takes time
    // growing with the path in Chromium (seconds for 10k rings)
    for (var r = this._featRing[i]; r < this._featRing[i + 1]; r++) {
      var end = rs[r + 1], x0, y0;
      v = rs[r];
      path.moveTo(x0 = round(xy[2 * v] * s) - ox, y0 = round(xy[2 * v + 1] * s) - oy);
      for (v++; v < end; v++) {
        path.lineTo(round(xy[2 * v] * s) - ox, round(xy[2 * v + 1] * s) - oy);
      }
      path.lineTo(x0, y0);
    }
  },

  _containsPoint: function (p) {  // the renderer asks on clicks and mouse moves, layer by layer
    this._hit = this._featureAt(p);
    return this._hit >= 0;
  },

  _featureAt: function (p) {  // the top-most feature at a layer point: box, then even-odd
    if (!this._n || !this._xy) { return -1; }
    var s = this._scale, x = (p.x + this._ox) / s, y = (p.y + this._oy) / s, box = this._box;
    var tolerance = (this._renderer.options.tolerance || 0) / s;
    for (var i = this._n - 1; i >= 0; i--) {
      var j = 4 * i;
      if (this._kind[i] === 0) {
        var st = this._styles[this._style[i]];
        var reach = (this.RADIUS + (st.stroke ? st.weight / 2 : 0)) / s + tolerance;
        var dx = x - box[j], dy = y - box[j + 1];
        if (dx * dx + dy * dy <= reach * reach) { return i; }
        continue;
      }
      if (x < box[j] - tolerance || x > box[j + 2] + tolerance || y < box[j + 1] - tolerance ||
          y > box[j + 3] + tolerance) { continue; }
      if (this._inside(i, x, y)) { return i; }
    }
    return -1;
  },

  _inside: function (i, x, y) {
    var xy = this._xy, rs = this._ringStart, inside = false;
    for (var r = this._featRing[i]; r < this._featRing[i + 1]; r++) {
      for (var a = rs[r], e = rs[r + 1], k = a, m = e - 1; k < e; m = k++) {
        var xi = xy[2 * k], yi = xy[2 * k + 1], xj = xy[2 * m], yj = xy[2 * m + 1];
        if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) {
          inside = !inside;
        }
      }
    }
    return inside;
  },

  // ---- popups, tooltip, measuring ----
  _onFeatureClick: function (e) {
    if (this._muted || this._hit < 0) { return; }
    L.DomEvent.stop(e);  // as a bound popup does: the map does not take this click
    this._feature(this._hit).openPopup(e.latlng);
  },

  _tipText: function () {
    var i = this._hit, column = this._payload.columns[this._cfg.tooltip];
    if (i < 0 || column === undefined) { return window.gisTextNode(""); }
    var tip = window.gisValue(column, this._row[i]);
    return window.gisTextNode(tip === null || tip === undefined ? ""
      : window.gisText(this._cfg, this._cfg.tooltip, tip));
  },

  _onHover: function () {
    if (this._hit !== this._tipAt && this.isTooltipOpen()) { this.getTooltip().update(); }
    this._tipAt = this._hit;
  },

  gisMute: function (on) {  // the measuring tool: clicks measure, no popup opens
    this._muted = !!on;
    if (on && this._popup && this._map && this._map.hasLayer(this._popup)) {
      this._map.closePopup(this._popup);
    }
  },

  onRemove: function (map) {
    if (this._popup && map.hasLayer(this._popup)) { map.closePopup(this._popup); }
    L.Path.prototype.onRemove.call(this, map);
  },

  // ---- per-feature objects, as L.GeoJSON's layers ----
  _feature: function (i) {
    return this._features[i] || (this._features[i] = new (this._kind[i] === 0
      ? window.GisBulkLayer.Point : window.GisBulkLayer.Polygon)(this, i));
  },

  eachLayer: function (fn, context) {
    for (var i = 0; i < this._n; i++) { fn.call(context, this._feature(i)); }
    return this;
  },

  getLayers: function () {
    var out = [];
    this.eachLayer(function (f) { out.push(f); });
    return out;
  },

  getBounds: function () {
    var b = this._llBox, w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
    for (var j = 0; j < b.length; j += 4) {
      w = Math.min(w, b[j]); s = Math.min(s, b[j + 1]);
      e = Math.max(e, b[j + 2]); n = Math.max(n, b[j + 3]);
    }
    return this._n ? L.latLngBounds([s / 1e6, w / 1e6], [n / 1e6, e / 1e6]) : L.latLngBounds([]);
  },

  toGeoJSON: function () {
    return {type: "FeatureCollection",
            features: this.getLayers().map(function (f) { return f.toGeoJSON(); })};
  },

  _bounds: function (i) {
    var b = this._llBox, j = 4 * i;
    return L.latLngBounds([b[j + 1] / 1e6, b[j] / 1e6], [b[j + 3] / 1e6, b[j + 2] / 1e6]);
  },

  _geometry: function (i) {
    var ll = this._ll, rs = this._ringStart, v = rs[this._featRing[i]];
    if (this._kind[i] === 0) {
      return {type: "Point", coordinates: [ll[2 * v] / 1e6, ll[2 * v + 1] / 1e6]};
    }
    var polygons = [];
    for (var r = this._featRing[i]; r < this._featRing[i + 1]; r++) {
      var ring = [];
      for (v = rs[r]; v < rs[r + 1]; v++) { ring.push([ll[2 * v] / 1e6, ll[2 * v + 1] / 1e6]); }
      ring.push(ring[0]);
      if (this._outer[r]) { polygons.push([ring]); }
      else { polygons[polygons.length - 1].push(ring); }
    }
    return {type: "MultiPolygon", coordinates: polygons};
  },

  _center: function (i) {  // the centroid of the first ring, as L.Polygon's getCenter
    if (!this._xy || !this._map) { return this._bounds(i).getCenter(); }
    var xy = this._xy, r = this._featRing[i], a = this._ringStart[r], e = this._ringStart[r + 1];
    var bx = xy[2 * a], by = xy[2 * a + 1], area = 0, cx = 0, cy = 0;
    for (var k = a, m = e - 1; k < e; m = k++) {
      var x1 = xy[2 * k] - bx, y1 = xy[2 * k + 1] - by;
      var x2 = xy[2 * m] - bx, y2 = xy[2 * m + 1] - by;
      var f = y1 * x2 - y2 * x1;
      cx += (x1 + x2) * f; cy += (y1 + y2) * f; area += f * 3;
    }
    var p = area === 0 ? L.point(bx, by) : L.point(bx + cx / area, by + cy / area);
    return this._map.options.crs.pointToLatLng(p, 0);
  },

  _openPopup: function (i, latlng) {
    var map = this._map;
    if (!map || this._muted) { return; }
    var popup = this._feature(i).getPopup();
    popup._source = this;
    popup.setLatLng(latlng || (this._kind[i] === 0 ? this._feature(i).getLatLng()
                                                   : this._center(i)));
    this._popup = popup;
    map.openPopup(popup);
  }
});

window.GisBulkLayer.Feature = L.Class.extend({
  initialize: function (layer, i) {
    this._layer = layer;
    this._i = i;
    this.feature = {type: "Feature",
                    properties: window.gisProps(layer._payload, layer._names, layer._row[i]),
                    geometry: layer._geometry(i)};
    this.options = layer._styles[layer._style[i]];
  },
  getPopup: function () {
    var layer = this._layer, props = this.feature.properties;
    return this._popup || (this._popup = L.popup({maxWidth: 360}).setContent(function () {
      return window.gisPopup(layer._cfg, props);
    }));
  },
  openPopup: function (latlng) { this._layer._openPopup(this._i, latlng); return this; },
  closePopup: function () {
    if (this._popup && this._popup._map) { this._popup._map.closePopup(this._popup); }
    return this;
  },
  isPopupOpen: function () { return !!(this._popup && this._popup.isOpen()); },
  toGeoJSON: function () { return this.feature; }
});
window.GisBulkLayer.Polygon = window.GisBulkLayer.Feature.extend({
  getBounds: function () { return this._layer._bounds(this._i); },
  getCenter: function () { return this._layer._center(this._i); }
});
window.GisBulkLayer.Point = window.GisBulkLayer.Feature.extend({
  getLatLng: function () { return this._layer._bounds(this._i).getSouthWest(); }
});
