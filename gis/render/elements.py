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

from gis.text import BROWSER_LOCALES, lang_or_default

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
def read_js(name: str) -> str:
    """The JavaScript of one map control, shipped beside this module (``gis/render/<name>.js``)."""
    return (Path(__file__).parent / f"{name}.js").read_text(encoding="utf-8")


class Frame(MacroElement):
    """Decoder, style and popup functions, the layer control and the legend, before the layers."""

    _template = Template("""
{% macro script(this, kwargs) %}
{{ this.frame_js }}
{{ this.bulk_js }}
window.gisLocale = {{ this.locale_json }};
window.gisYesNo = {{ this.yes_no_json }};
// on the map only once the layers are in it (FrameEnd): an overlay added to a control already on
// the map makes the page lay itself out again
window.gisControl = L.control.layers(null, null, {collapsed: {{ this.collapsed_json }}});
window.gisLegend({{ this._parent.get_name() }}, {{ this.legend_json }});
{% endmacro %}
""")

    def __init__(self, legend: list[dict[str, object]], lang: str, yes_no: tuple[str, str],
                 collapsed: bool) -> None:
        super().__init__()
        self._name = "GisFrame"
        self.frame_js = read_js("frame")
        self.bulk_js = read_js("bulk")  # window.GisBulkLayer: many features on one canvas
        self.locale_json = json.dumps(BROWSER_LOCALES[lang_or_default(lang)])
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
