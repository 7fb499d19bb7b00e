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

import functools
import json
import re
from pathlib import Path

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


@functools.lru_cache(maxsize=1)
def _bulk_js() -> str:
    """``window.GisBulkLayer``: many features as one path on the shared canvas (bulk.js)."""
    return (Path(__file__).parent / "bulk.js").read_text(encoding="utf-8")


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
{{ this.bulk_js }}
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
        self.bulk_js = _bulk_js()
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
