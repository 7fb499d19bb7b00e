"""Map tools a land officer uses: find (parcel, project, case), full screen, cursor coordinates.

One folium MacroElement; every label and every found value is set with ``textContent``.
"""

from __future__ import annotations

import json

from branca.element import MacroElement
from jinja2 import Template

__all__ = ["MapTools"]

_TEXT = {
    "vi": {"placeholder": "Tìm thửa (xã-tờ-thửa hoặc tờ/thửa), dự án, vụ việc…",
           "none": "Không tìm thấy", "full": "Toàn màn hình"},
    "en": {"placeholder": "Find parcel (ward-sheet-no or sheet/no), project, case…",
           "none": "Nothing found", "full": "Full screen"},
}


class MapTools(MacroElement):
    """Search box, full-screen button and WGS 84 cursor coordinates."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var text = {{ this.text_json }};
  function norm(s) { return String(s).toLowerCase().normalize("NFD").replace(/[\\u0300-\\u036f]/g, "").replace(/đ/g, "d"); }
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
  var coords = L.control({position: "bottomleft"});
  coords.onAdd = function () {
    var div = L.DomUtil.create("div", "gis-coords");
    div.style.cssText = "background:rgba(255,255,255,.8);padding:2px 6px;font:12px monospace";
    map.on("mousemove", function (e) {
      div.textContent = "WGS 84: " + e.latlng.lat.toFixed(6) + ", " + e.latlng.lng.toFixed(6);
    });
    return div;
  };
  coords.addTo(map);
})();
{% endmacro %}
""")

    def __init__(self, lang: str, *, crs: object | None = None) -> None:
        super().__init__()
        self._name = "GisTools"
        self.text_json = json.dumps(_TEXT[lang], ensure_ascii=False)
