"""The folium elements a map page is made of: the frame (decoder, formatter, layer control,
legend, the bulk layer class) and one data layer per map layer.

Every value reaches the page as JSON and is put on screen with ``textContent``. A layer's data is
a ``<script type="application/json">`` element the page reads with ``JSON.parse`` (faster to load
than the same data as a script literal) and never passes through a Jinja template (a value
holding ``{{ … }}`` stays text); "</" and "<!--" are escaped so a value cannot end or disturb the
element. JSON that does pass through a template has its "{{", "{%" and "{#" escaped.

A layer with more than :data:`BULK_FEATURES` features is drawn by ``window.GisBulkLayer``: one
Leaflet path on the shared canvas renderer that keeps the features in typed arrays (projected
once, each feature's style computed once), redraws only the features in view, one fill and one
outline per style, and finds the feature under the cursor by bounding box then point in polygon.
Its ``eachLayer``/``getLayers`` give per-feature objects with ``feature``, ``options``,
``getBounds``/``getLatLng``, ``openPopup`` and ``getPopup``, as an ``L.GeoJSON`` layer does.
"""

from __future__ import annotations

import json
import re

from branca.element import Element, MacroElement
from jinja2 import Template

__all__ = ["Frame", "FrameEnd", "DataLayer", "to_json", "BULK_FEATURES"]

#: Layers with more features than this are drawn by the bulk canvas layer, not ``L.GeoJSON``.
BULK_FEATURES = 1500

_TEMPLATE_TAG = re.compile(r"\{(?=[{%#])")


def to_json(value: object) -> str:
    """JSON safe to embed in a ``<script>`` element and in a Jinja template's output: "</" and
    "<!--" cannot end or disturb the script, "{{", "{%" and "{#" (only ever inside strings)
    are written ``\\u007b…``, the same value."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _TEMPLATE_TAG.sub(r"\\u007b", text.replace("</", "<\\/").replace("<!--", "<\\u0021--"))


class _Raw(Element):
    """Text put into the page as it is (never compiled as a template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: object) -> str:
        return self._text


def _features(data: dict[str, object]) -> int:
    """How many rows of a payload have a geometry (walking its ``shapes``)."""
    shapes: list[int] = data.get("shapes", [])  # type: ignore[assignment]
    count = i = 0
    while i < len(shapes):
        token = shapes[i]
        i += 1
        count += token != 0
        for _ in range(max(token, 0)):
            i += 1 + shapes[i]
    return count


class DataLayer(MacroElement):
    """One layer: canvas renderer, one style function with rules, escaped popups and tooltips,
    progress bars, registered in the layer control and in ``window.gisLayers``; its data in a
    JSON element; an ``L.GeoJSON`` layer or, above :data:`BULK_FEATURES` features (or with
    ``bulk=True``), a ``GisBulkLayer``."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var cfg = {{ this.config_json }};
  var script = document.getElementById("{{ this.get_name() }}_data");
  var data = JSON.parse(script.textContent);
  script.parentNode.removeChild(script);  // read once: its text need not stay in the page
  // one canvas for every layer: separate canvases would each swallow the clicks meant for
  // the layers under them
  var renderer = window.gisRenderer = window.gisRenderer || L.canvas({padding: 0.2});
{%- if this.bulk %}
  var layer = new window.GisBulkLayer(cfg, data, {renderer: renderer});
{%- else %}
  var layer = L.geoJSON(window.gisDecode(data), {
    renderer: renderer,
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, {renderer: renderer, radius: 6});
    },
    style: function (f) { return window.gisStyle(cfg.style, f.properties); },
    onEachFeature: function (f, l) {
      l.bindPopup(function () { return window.gisPopup(cfg, f.properties); }, {maxWidth: 360});
    }
  });
  if (cfg.tooltip) {  // one tooltip for the whole layer (10k per-feature tooltips cost 0.1 s)
    layer.bindTooltip(function (l) {
      var tip = l.feature ? l.feature.properties[cfg.tooltip] : null;
      // a node, not a string: Leaflet puts string tooltips in with innerHTML
      return window.gisTextNode(tip === null || tip === undefined ? ""
        : window.gisText(cfg, cfg.tooltip, tip));
    }, {sticky: true});
  }
{%- endif %}
  layer.gisTitle = cfg.title;
  {% if this.show %}layer.addTo(map);{% endif %}
  window.gisLayers = window.gisLayers || {};
  window.gisLayers[cfg.key] = layer;
  window.gisControl.addOverlay(layer, cfg.title);
  if (window.gisLegendDraw) { window.gisLegendDraw(); }
})();
{% endmacro %}
""")

    def __init__(self, config: dict[str, object], data: dict[str, object], show: bool,
                 bulk: bool | None = None) -> None:
        super().__init__()
        self._name = "GisDataLayer"
        self.config_json = to_json(config)
        self.data_json = to_json(data)
        self.show = show
        self.bulk = _features(data) > BULK_FEATURES if bulk is None else bulk

    def render(self, **kwargs):  # type: ignore[no-untyped-def]
        # the data as a JSON element in the body, before the scripts that read it
        self.get_root().html.add_child(_Raw(  # type: ignore[attr-defined]
            f'<script type="application/json" id="{self.get_name()}_data">{self.data_json}'
            "</script>"), name=f"{self.get_name()}_data")
        return super().render(**kwargs)


class Frame(MacroElement):
    """Decoder, style and popup functions, the layer control and the legend, before the layers."""

    _template = Template("""
{% macro script(this, kwargs) %}
window.gisValue = function (column, i) {  // a plain list, or distinct values and codes
  return Array.isArray(column) ? column[i] : column.values[column.codes[i]];
};
window.gisProps = function (payload, names, i) {
  var props = {};
  for (var k = 0; k < names.length; k++) {
    props[names[k]] = window.gisValue(payload.columns[names[k]], i);
  }
  return props;
};
window.gisDecode = function (payload) {
  // columns + the flat shapes/coords stream (see gis/render/payload.py) back into GeoJSON
  var names = Object.keys(payload.columns), features = [], shapes = payload.shapes;
  var c = payload.coords, s = 0, k = 0, x = 0, y = 0, row = 0;
  while (s < shapes.length) {
    var t = shapes[s++], geometry = null;
    if (t === -1) {
      x += c[k++]; y += c[k++];
      geometry = {type: "Point", coordinates: [x / 1e6, y / 1e6]};
    } else if (t > 0) {
      var polygons = [];
      for (var p = 0; p < t; p++) {
        var rings = [], nr = shapes[s++];
        for (var r = 0; r < nr; r++) {
          var ring = [], nv = shapes[s++];
          for (var v = 0; v < nv; v++) { x += c[k++]; y += c[k++]; ring.push([x / 1e6, y / 1e6]); }
          ring.push(ring[0]);
          rings.push(ring);
        }
        polygons.push(rings);
      }
      geometry = {type: "MultiPolygon", coordinates: polygons};
    }
    if (geometry) {
      features.push({type: "Feature", properties: window.gisProps(payload, names, row),
                     geometry: geometry});
    }
    row++;
  }
  return {type: "FeatureCollection", features: features};
};
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
window.gisLocale = {{ this.locale_json }};
window.gisYesNo = {{ this.yes_no_json }};
window.gisNumber = function (v, fmt) {
  fmt = fmt || {};
  var digits = fmt.digits === undefined ? 2 : fmt.digits;
  var text = (v * (fmt.scale || 1)).toLocaleString(window.gisLocale, {
    maximumFractionDigits: digits, minimumFractionDigits: fmt.unit === "m²" || fmt.scale ? digits : 0,
    useGrouping: fmt.grouping !== false});
  return fmt.unit ? text + " " + fmt.unit : text;
};
window.gisFormat = function (v, fmt) {
  if (typeof v === "boolean") { return v ? window.gisYesNo[0] : window.gisYesNo[1]; }
  if (typeof v === "number") { return window.gisNumber(v, fmt); }
  return v === null || v === undefined ? "" : String(v);
};
window.gisTextNode = function (text) {  // tooltips get nodes: a string would be HTML to Leaflet
  var span = document.createElement("span");
  span.textContent = text;
  return span;
};
window.gisText = function (cfg, field, v) {
  var labels = cfg.values[field];
  if (labels && v !== null && v !== undefined && labels[v] !== undefined) { return labels[v]; }
  if (cfg.booleans.indexOf(field) >= 0 && (v === 0 || v === 1)) { v = v === 1; }
  return window.gisFormat(v, cfg.formats[field]);
};
window.gisStyle = function (style, props) {
  var value = style.by ? props[style.by] : null;
  var color = (value !== null && value !== undefined && style.colors[value]) || style.default_color;
  var out = {color: style.stroke_color, weight: style.stroke_width, fillColor: color,
             fillOpacity: style.fill_opacity, dashArray: null};
  for (var i = 0; i < style.rules.length; i++) {
    var rule = style.rules[i], hit = true;
    Object.keys(rule.when).forEach(function (k) {
      var v = props[k];
      if (v === true || v === false) { v = v ? 1 : 0; }
      if (rule.when[k].map(function (w) { return w === true ? 1 : w === false ? 0 : w; }).indexOf(v) < 0) { hit = false; }
    });
    if (hit) {
      if (rule.dash) { out.dashArray = rule.dash; }
      if (rule.stroke_width !== null) { out.weight = rule.stroke_width; }
      if (rule.stroke_color) { out.color = rule.stroke_color; }
      if (rule.fill_opacity !== null) { out.fillOpacity = rule.fill_opacity; }
      break;
    }
  }
  return out;
};
window.gisPopup = function (cfg, props) {
  var box = document.createElement("div");
  box.className = "gis-popup";
  var title = document.createElement("b");
  title.textContent = cfg.title;
  box.appendChild(title);
  var table = document.createElement("table");
  cfg.popup.forEach(function (key) {
    if (!(key in props)) { return; }
    var row = table.insertRow();
    var name = row.insertCell();
    name.textContent = cfg.labels[key];
    name.style.cssText = "white-space:nowrap;color:#555;padding-right:8px;vertical-align:top";
    var text = window.gisText(cfg, key, props[key]);
    row.insertCell().textContent = text === "" ? "—" : text;
  });
  box.appendChild(table);
  cfg.progress.forEach(function (key) {
    var v = props[key];
    if (typeof v !== "number") { return; }
    var wrap = document.createElement("div");
    wrap.className = "gis-progress";
    wrap.style.cssText = "margin-top:4px;font:12px sans-serif";
    var label = document.createElement("div");
    label.textContent = cfg.labels[key] + ": " + window.gisNumber(v, {digits: 1, unit: "%"});
    var bar = document.createElement("div");
    bar.style.cssText = "height:8px;background:#e0e0e0;border-radius:4px;overflow:hidden";
    var fill = document.createElement("div");
    fill.style.cssText = "height:100%;background:#2e7d32;width:" + Math.max(0, Math.min(100, v)) + "%";
    bar.appendChild(fill);
    wrap.appendChild(label);
    wrap.appendChild(bar);
    box.appendChild(wrap);
  });
  return box;
};
// on the map only once the layers are in it (FrameEnd): an overlay added to a control already on
// the map makes the page lay itself out again
window.gisControl = L.control.layers(null, null, {collapsed: {{ this.collapsed_json }}});
(function () {
  var legend = L.control({position: "bottomright"});
  var entries = {{ this.legend_json }};
  var map = {{ this._parent.get_name() }};
  var div = L.DomUtil.create("div", "gis-legend");
  div.style.cssText = "background:#fff;padding:6px 8px;font:12px sans-serif;line-height:18px;" +
    "max-height:60vh;overflow:auto;box-shadow:0 1px 4px rgba(0,0,0,.3)";
  function draw() {  // only the layers on the map: redrawn when one is switched on or off
    while (div.firstChild) { div.removeChild(div.firstChild); }
    entries.forEach(function (group) {
      var layer = (window.gisLayers || {})[group.key];
      if (layer && !map.hasLayer(layer)) { return; }
      var h = document.createElement("div");
      h.style.fontWeight = "bold";
      h.textContent = group.title;
      div.appendChild(h);
      group.items.forEach(function (item) {
        var row = document.createElement("div");
        var swatch = document.createElement("span");
        swatch.style.cssText = "display:inline-block;width:12px;height:12px;margin-right:6px;" +
          "vertical-align:middle;border:" + (item.dash ? "2px dashed " : "1px solid ") +
          (item.stroke || "#555") + ";background:" + (item.color || "transparent");
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(item.label));
        div.appendChild(row);
      });
    });
  }
  window.gisLegendDraw = draw;
  legend.onAdd = function () { draw(); return div; };
  map.on("overlayadd overlayremove", draw);
  map.whenReady(draw);
  legend.addTo(map);
})();
{% endmacro %}
""")

    def __init__(self, legend: list[dict[str, object]], lang: str, yes_no: tuple[str, str],
                 collapsed: bool) -> None:
        super().__init__()
        self._name = "GisFrame"
        self.locale_json = json.dumps("vi-VN" if lang == "vi" else "en-GB")
        self.legend_json = to_json(legend)
        self.yes_no_json = to_json(list(yes_no))
        self.collapsed_json = json.dumps(collapsed)


class FrameEnd(MacroElement):
    """After the layers and the tools: the layer control goes on the map (added earlier, it would
    lay the page out once per layer while the page loads)."""

    _template = Template("""
{% macro script(this, kwargs) %}
window.gisControl.addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "GisFrameEnd"
