"""Build a self-contained, offline web map of store layers with folium.

Data goes to WGS 84 through the pinned EPSG:6960 transformation, is simplified for display only
(never for exports), quantised to ~0.1 m (6 decimals) and trimmed to the properties the popups
and styles use. Each layer is one Leaflet GeoJSON layer on a canvas renderer with one style
function in JavaScript; popups and the legend are built with ``textContent``, so a note holding
``<script>`` shows as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from gis.catalog import Catalog, MapSpec, StyleSpec, Title
from gis.errors import GisError
from gis.render.assets import LEAFLET_CSS, LEAFLET_JS, inline_assets

__all__ = ["ResolvedLayer", "resolve_layers", "build_map", "render_html"]


@dataclass(frozen=True)
class ResolvedLayer:
    """A map layer with everything needed to draw it."""

    key: str
    table: str
    title: Title
    style: StyleSpec
    popup: tuple[str, ...]
    show: bool


def resolve_layers(spec: MapSpec, catalog: Catalog) -> list[ResolvedLayer]:
    """Combine the map's layer entries with the catalog's layer YAMLs."""
    out = []
    for i, entry in enumerate(spec.layers):
        base = catalog.layers.get(entry.layer) if entry.layer else None
        if entry.layer and base is None:
            raise GisError(f"map {spec.id}: layer {entry.layer!r} is not in the catalog; known: "
                           f"{', '.join(catalog.layers)}", field=f"layers.{i}.layer")
        table = entry.table or (base.kind.value if base else None)
        title = entry.title or (base.title if base else None)
        if table is None or title is None:
            raise GisError(f"map {spec.id}: layer {i} needs `layer:` or `table:` and `title:`",
                           field=f"layers.{i}")
        style = entry.style or (base.style if base and isinstance(base.style, StyleSpec) else None) \
            or StyleSpec()
        popup = entry.popup or (base.popup if base else ())
        out.append(ResolvedLayer(entry.layer or table, table, title, style, tuple(popup), entry.show))
    return out


def _display_payload(frame: gpd.GeoDataFrame, layer: ResolvedLayer) -> dict[str, object]:
    """A compact payload the page turns back into GeoJSON: properties as columns (names written
    once), coordinates as integers of 1e-6 degree (~0.1 m), each ring's points as deltas from the
    previous one, closing points dropped. About half the size of GeoJSON text."""
    from gis.io.write import reproject

    keep = [c for c in dict.fromkeys((*layer.popup, *([layer.style.by] if layer.style.by else ())))
            if c in frame.columns]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geoms = shapely.simplify(geoms, 0.05, preserve_topology=True)  # display only
    wgs = reproject(gpd.GeoDataFrame(geometry=geoms, crs=frame.crs), "EPSG:4326")
    geoms = np.asarray(wgs.geometry.values, dtype=object)
    columns: dict[str, list[object]] = {}
    for column in keep:
        values = frame[column]
        if values.dtype.kind == "f":
            values = values.round(2)
        columns[column] = [None if v is None or (isinstance(v, float) and v != v) or v is pd.NA
                           else (v.item() if hasattr(v, "item") else v)
                           for v in values.astype(object).tolist()]
    return {"columns": columns, "geometries": [_encode(g) for g in geoms]}


def _encode(geom: shapely.Geometry | None) -> list[object] | None:
    """[type, parts]: type 0 point, 1 polygon(s); a polygon is a list of rings, a ring a flat
    list [x0, y0, dx1, dy1, …] of 1e-6 degree integers."""
    if geom is None or geom.is_empty:
        return None
    kind = shapely.get_type_id(geom)
    if kind == 0:
        return [0, [int(round(geom.x * 1e6)), int(round(geom.y * 1e6))]]
    polys = shapely.get_parts(geom) if kind == 6 else [geom]
    out = []
    for poly in polys:
        rings = [poly.exterior, *poly.interiors]
        encoded = []
        for ring in rings:
            xy = np.round(np.asarray(ring.coords)[:-1, :2] * 1e6).astype(np.int64)
            if len(xy) < 3:
                continue
            deltas = np.vstack([xy[:1], np.diff(xy, axis=0)])
            encoded.append(deltas.ravel().tolist())
        if encoded:
            out.append(encoded)
    return [1, out] if out else None


class _DataLayer(MacroElement):
    """One GeoJSON layer: canvas, one style function, escaped popups, in the layer control."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var style = {{ this.style_json }};
  var labels = {{ this.labels_json }};
  var data = window.gisDecode({{ this.data_json }});
  var renderer = L.canvas({padding: 0.2});
  var layer = L.geoJSON(data, {
    renderer: renderer,
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, {renderer: renderer, radius: 6});
    },
    style: function (f) {
      var value = style.by ? f.properties[style.by] : null;
      var color = (value !== null && value !== undefined && style.colors[value]) || style.default_color;
      return {color: style.stroke_color, weight: style.stroke_width, fillColor: color,
              fillOpacity: style.fill_opacity};
    },
    onEachFeature: function (f, l) {
      l.bindPopup(function () {
        var box = document.createElement("div");
        var title = document.createElement("b");
        title.textContent = {{ this.title_json }};
        box.appendChild(title);
        var table = document.createElement("table");
        Object.keys(labels).forEach(function (key) {
          if (!(key in f.properties)) { return; }
          var row = table.insertRow();
          var name = row.insertCell();
          name.textContent = labels[key];
          name.style.cssText = "white-space:nowrap;color:#555;padding-right:8px;vertical-align:top";
          row.insertCell().textContent = window.gisFormat(f.properties[key]);
        });
        box.appendChild(table);
        return box;
      });
    }
  });
  layer.gisTitle = {{ this.title_json }};
  {% if this.show %}layer.addTo(map);{% endif %}
  window.gisLayers = window.gisLayers || {};
  window.gisLayers[{{ this.key_json }}] = layer;
  window.gisControl.addOverlay(layer, {{ this.title_json }});
})();
{% endmacro %}
""")

    def __init__(self, layer: ResolvedLayer, data: dict[str, object], lang: str,
                 field_labels: dict[str, str]) -> None:
        super().__init__()
        self._name = "GisDataLayer"
        title = layer.title.vi if lang == "vi" else layer.title.en
        style = layer.style
        self.title_json = json.dumps(title, ensure_ascii=False)
        self.key_json = json.dumps(layer.key)
        self.show = layer.show
        self.style_json = json.dumps({"by": style.by, "colors": style.colors,
                                      "default_color": style.default_color,
                                      "stroke_color": style.stroke_color,
                                      "stroke_width": style.stroke_width,
                                      "fill_opacity": style.fill_opacity})
        self.labels_json = json.dumps({f: field_labels.get(f, f) for f in layer.popup},
                                      ensure_ascii=False)
        # "</" cannot close the script element: JSON escapes it as "<\\/"
        self.data_json = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace(
            "</", "<\\/")


class _Frame(MacroElement):
    """Number formatting (Vietnamese), the layer control and the legend, before the layers."""

    _template = Template("""
{% macro script(this, kwargs) %}
window.gisDecode = function (payload) {
  // columns + delta-encoded integer rings (see gis/render/build.py) back into GeoJSON
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
window.gisFormat = function (v) {
  if (typeof v === "number") {
    return v.toLocaleString({{ this.locale_json }}, {maximumFractionDigits: 2});
  }
  return v === null || v === undefined ? "" : String(v);
};
window.gisControl = L.control.layers(null, null, {collapsed: false}).addTo({{ this._parent.get_name() }});
(function () {
  var legend = L.control({position: "bottomright"});
  var entries = {{ this.legend_json }};
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "gis-legend");
    div.style.cssText = "background:#fff;padding:6px 8px;font:12px sans-serif;line-height:18px;" +
      "max-height:60vh;overflow:auto;box-shadow:0 1px 4px rgba(0,0,0,.3)";
    entries.forEach(function (group) {
      var h = document.createElement("div");
      h.style.fontWeight = "bold";
      h.textContent = group.title;
      div.appendChild(h);
      group.items.forEach(function (item) {
        var row = document.createElement("div");
        var swatch = document.createElement("span");
        swatch.style.cssText = "display:inline-block;width:12px;height:12px;margin-right:6px;" +
          "vertical-align:middle;border:1px solid #555;background:" + item.color;
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(item.label));
        div.appendChild(row);
      });
    });
    return div;
  };
  legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
""")

    def __init__(self, legend: list[dict[str, object]], lang: str) -> None:
        super().__init__()
        self._name = "GisFrame"
        self.locale_json = json.dumps("vi-VN" if lang == "vi" else "en-GB")
        self.legend_json = json.dumps(legend, ensure_ascii=False)


FIELD_LABELS = {
    "vi": {"parcel_key": "Thửa (xã-tờ-thửa)", "map_sheet": "Tờ bản đồ", "parcel_no": "Số thửa",
           "land_use": "Loại đất", "area_m2": "Diện tích (m²)", "owner_name": "Chủ sử dụng",
           "address": "Địa chỉ", "project_id": "Mã dự án", "name": "Tên", "investor": "Chủ đầu tư",
           "capital_source": "Nguồn vốn", "start_type": "Khởi công",
           "planned_area_ha": "Diện tích quy hoạch (ha)", "ward_code": "Mã phường/xã",
           "district": "Quận/huyện", "building_id": "Công trình", "floors": "Số tầng",
           "year_built": "Năm xây dựng", "case_id": "Mã vụ việc", "kind": "Loại vi phạm",
           "status": "Trạng thái", "parcel_keys": "Thửa đất", "notes": "Ghi chú"},
    "en": {},
}


def build_map(spec: MapSpec, layers: list[ResolvedLayer], frames: dict[str, gpd.GeoDataFrame],
              *, lang: str = "vi") -> folium.Map:
    """The folium map (pure: frames in, map out; the caller saves it)."""
    labels = FIELD_LABELS.get(lang, {})
    total = sum(len(f) for f in frames.values())
    if total > spec.max_features:
        raise GisError(f"{total:,} features are more than a static map file can carry "
                       f"({spec.max_features:,}); narrow it with --ward or --project, or open the "
                       "map in the web service (`gis serve`)", field="max_features")
    bounds = None
    for frame in frames.values():
        if len(frame):
            from gis.io.write import reproject

            b = reproject(frame[["geometry"]], "EPSG:4326").total_bounds
            bounds = b if bounds is None else np.r_[np.minimum(bounds[:2], b[:2]),
                                                     np.maximum(bounds[2:], b[2:])]
    tiles = None if spec.base_map == "none" else (
        "OpenStreetMap" if spec.base_map == "osm" else spec.base_map)
    fmap = _OfflineMap(location=[0, 0], zoom_start=2, tiles=tiles, control_scale=True,
                       prefer_canvas=True, attr="local tiles" if tiles not in (None, "OpenStreetMap") else None)
    legend = []
    for layer in layers:
        if layer.key not in frames:
            continue  # not in the store: no legend entry for a layer the map does not show
        style = layer.style
        items = [{"color": color, "label": (style.labels[v].vi if lang == "vi" else style.labels[v].en)
                  if v in style.labels else v} for v, color in style.colors.items()]
        if not items:
            items = [{"color": style.default_color, "label": layer.title.vi if lang == "vi" else layer.title.en}]
        legend.append({"title": layer.title.vi if lang == "vi" else layer.title.en, "items": items})
    fmap.add_child(_Frame(legend, lang))
    for layer in layers:
        frame = frames.get(layer.key)
        if frame is None:
            continue
        fmap.add_child(_DataLayer(layer, _display_payload(frame, layer), lang, labels))
    from gis.render.tools import MapTools

    crs = next((f.crs for f in frames.values() if f.crs is not None), None)
    fmap.add_child(MapTools(lang, crs=crs))
    if bounds is not None:
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


class _OfflineMap(folium.Map):
    """folium's Map with only Leaflet, referenced locally and inlined at save time."""

    default_js = [("leaflet", LEAFLET_JS)]
    default_css = [("leaflet_css", LEAFLET_CSS)]


def render_html(fmap: folium.Map) -> str:
    """The self-contained HTML of a map."""
    return inline_assets(fmap.get_root().render())
