"""Map tools a land officer uses: find (parcel, project, case), zoom to a ward or project,
measure distance and area, cursor coordinates in WGS 84 and in the layer's VN-2000 zone, full
screen, a metric scale bar.

One folium MacroElement; every label and every found value is set with ``textContent``.

VN-2000 in the page: WGS 84 lon/lat → geocentric → the inverse of the national Helmert
(EPSG:6960, exactly the step :mod:`gis.crs` pins, PROJ's small-angle matrix and PROJ's reverse)
→ VN-2000 geographic on the WGS 84 ellipsoid → Transverse Mercator by Krüger's n-series to
6th order (Karney 2011; nanometres inside a zone). Its parameters come from the store's CRS
through :func:`gis.render.zone.zone_parameters`; a CRS that is not a VN-2000 zone gives WGS 84
only, and the measurements fall back to Leaflet's spherical distance and a spherical area.

The measuring tool is written here rather than taken from a plugin (Leaflet.Measure,
leaflet-measure): those are not on PyPI (so could not be inlined from a registry the way Leaflet
is, see :mod:`gis.render.assets`), they measure on the sphere while officers compare with the
plane areas of the cadastre, and they format numbers their own way; the tool is ~150 lines.
"""

from __future__ import annotations

import json

from branca.element import MacroElement
from jinja2 import Template

from gis.render.elements import read_js
from gis.render.zone import zone_parameters
from gis.text import BROWSER_LOCALES, N_, NC_, Text, lang_or_default, text

__all__ = ["MapTools"]

#: the tools' texts, by the key the script reads
_TEXT: dict[str, Text] = {
    "placeholder": N_("Find parcel (ward-sheet-no or sheet/no), project, case…"),
    "none": N_("Nothing found"),
    "full": N_("Full screen"),
    "zoom_wards": N_("Zoom to ward…"),
    "zoom_projects": N_("Zoom to project…"),
    "distance": N_("Measure distance"),
    "area": N_("Measure area"),
    "distance_label": N_("Distance"),
    "area_label": N_("Area"),
    "perimeter": N_("perimeter"),
    "hint": N_("Click to add points; double-click or press the button again to finish; Esc cancels"),
    "plane": N_("computed in the plane of"),
    "sphere": N_("computed on the sphere (no VN-2000 zone)"),
    "north": NC_("map tools", "X (N)"),
    "east": NC_("map tools", "Y (E)"),
}


#: the map controls' scripts (gis/render/*.js), one per control; ``tools`` wires them
TOOL_SCRIPTS = ("tool_vn2000", "tool_find", "tool_zoomto", "tool_fullscreen", "tool_measure",
                "tool_coordinates", "tools")


class MapTools(MacroElement):
    """Search box, zoom-to lists, measuring, full screen, cursor coordinates, metric scale."""

    _template = Template("""
{% macro header(this, kwargs) %}
<script>
  // before folium's L.control.scale() runs: metric only (m, km), as land offices work
  if (window.L && L.Control && L.Control.Scale) { L.Control.Scale.mergeOptions({imperial: false}); }
</script>
<style>
  .gis-measuring.leaflet-container,
  .gis-measuring .leaflet-interactive { cursor: crosshair !important; }
  .gis-tool-button { display:block; padding:0 8px; height:28px; line-height:28px; background:#fff;
    border:0; font:13px sans-serif; cursor:pointer; text-align:left; width:100%; color:#222; }
  .gis-tool-button + .gis-tool-button { border-top:1px solid #ccc; }
  .gis-tool-button[aria-pressed="true"] { background:#fce4ec; font-weight:bold; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
{{ this.tools_js }}
window.gisMapTools({{ this._parent.get_name() }}, {{ this.text_json }}, {{ this.zone_json }});
{% endmacro %}
""")

    def __init__(self, lang: str, *, crs: object | None = None) -> None:
        super().__init__()
        self._name = "GisTools"
        # one file per control, then the function that wires them on a map
        self.tools_js = "\n".join(read_js(name) for name in TOOL_SCRIPTS)
        texts = {k: text(v, lang) for k, v in _TEXT.items()}
        texts["locale"] = BROWSER_LOCALES[lang_or_default(lang)]
        self.text_json = json.dumps(texts, ensure_ascii=False)
        params = zone_parameters(crs, lang) if crs is not None else None  # type: ignore[arg-type]
        # "</" cannot close the page's script element
        self.zone_json = json.dumps(params, ensure_ascii=False).replace("</", "<\\/")
