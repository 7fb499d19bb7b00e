"""The folium elements a map page is made of: the frame (decoder, formatter, layer control,
legend) and one data layer per map layer.

Every value reaches the page as JSON inside a script and is put on screen with
``textContent``; "</" is escaped so a value cannot close the script element.
"""

from __future__ import annotations

import json

from branca.element import MacroElement
from jinja2 import Template

__all__ = ["Frame", "DataLayer", "to_json"]


def to_json(value: object) -> str:
    """JSON safe to embed in a ``<script>`` element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


class DataLayer(MacroElement):
    """One layer: canvas renderer, one style function with rules, escaped popups and tooltips,
    progress bars, registered in the layer control and in ``window.gisLayers``."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var cfg = {{ this.config_json }};
  var data = window.gisDecode({{ this.data_json }});
  // one canvas for every layer: separate canvases would each swallow the clicks meant for
  // the layers under them
  var renderer = window.gisRenderer = window.gisRenderer || L.canvas({padding: 0.2});
  var layer = L.geoJSON(data, {
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
      return tip === null || tip === undefined ? "" : window.gisText(cfg, cfg.tooltip, tip);
    }, {sticky: true});
  }
  layer.gisTitle = cfg.title;
  {% if this.show %}layer.addTo(map);{% endif %}
  window.gisLayers = window.gisLayers || {};
  window.gisLayers[cfg.key] = layer;
  window.gisControl.addOverlay(layer, cfg.title);
  if (window.gisLegendDraw) { window.gisLegendDraw(); }
})();
{% endmacro %}
""")

    def __init__(self, config: dict[str, object], data: dict[str, object], show: bool) -> None:
        super().__init__()
        self._name = "GisDataLayer"
        self.config_json = to_json(config)
        self.data_json = to_json(data)
        self.show = show


class Frame(MacroElement):
    """Decoder, style and popup functions, the layer control and the legend, before the layers."""

    _template = Template("""
{% macro script(this, kwargs) %}
window.gisDecode = function (payload) {
  // columns + delta-encoded integer rings (see gis/render/payload.py) back into GeoJSON
  var names = Object.keys(payload.columns), features = [];
  function ring(flat) {
    var x = 0, y = 0, out = [];
    for (var i = 0; i < flat.length; i += 2) {
      x += flat[i]; y += flat[i + 1];
      out.push([x / 1e6, y / 1e6]);
    }
    out.push(out[0]);
    return out;
  }
  payload.geometries.forEach(function (g, i) {
    if (!g) { return; }
    var props = {};
    names.forEach(function (n) { props[n] = payload.columns[n][i]; });
    var geometry = g[0] === 0
      ? {type: "Point", coordinates: [g[1][0] / 1e6, g[1][1] / 1e6]}
      : {type: "MultiPolygon", coordinates: g[1].map(function (p) { return p.map(ring); })};
    features.push({type: "Feature", properties: props, geometry: geometry});
  });
  return {type: "FeatureCollection", features: features};
};
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
window.gisControl = L.control.layers(null, null, {collapsed: {{ this.collapsed_json }}}).addTo({{ this._parent.get_name() }});
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
