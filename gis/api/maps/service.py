"""The service's maps apart from HTTP: which layers of a map the store holds and how the page
loads them, the frame script rendered from the static map's elements, what lies under a click
and what the find box names."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

import numpy as np
import shapely

from gis.api.auth.security import User
from gis.api.deps import visible_fields
from gis.api.scope import row_filter
from gis.api.tiles.cache import ServedLayer
from gis.api.tiles.routes import MapServices
from gis.api.tiles.sources import Source, to_wgs84
from gis.catalog import MapSpec
from gis.render.build import layer_config, map_legend
from gis.render.elements import Frame, FrameEnd
from gis.render.labels import yes_no
from gis.render.tools import MapTools
from gis.store import Store

__all__ = ["GEOJSON_MAX", "served_layers", "map_document", "frame_script", "hits_at",
           "find_in"]

#: Layers up to this many features come whole as GeoJSON; larger ones as vector tiles.
GEOJSON_MAX = 1_000
CLICK_PX = 5  # how near a click must be to a point or a line (screen pixels)


def served_layers(svc: MapServices, store: Store, map_id: str
                  ) -> tuple[MapSpec, list[tuple[ServedLayer, Source]]]:
    """The map spec and its layers present in the store, with their data."""
    spec, layers = svc.registry.get(map_id)
    out = []
    for layer in layers:
        served = ServedLayer(map_id, layer)
        data = svc.cache.layer(store, served)
        if data.table is not None:  # a table the store lacks: left out, like the static map
            out.append((served, data))
    return spec, out


def _bounds(items: list[tuple[ServedLayer, Source]]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the content (wards only when nothing else)."""
    content = [d for s, d in items if s.key != "wards" and d.count] or [d for _, d in items
                                                                      if d.count]
    if not content:
        return None
    b = np.vstack([d.extent() for d in content])
    box = np.array([np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]), np.nanmax(b[:, 3])])
    corners = to_wgs84(np.array([shapely.Point(box[0], box[1]), shapely.Point(box[2], box[3])]))
    (w, s), (e, n) = shapely.get_coordinates(corners)
    return [[float(s), float(w)], [float(n), float(e)]]


def _scope_bounds(store: Store, user: User | None) -> list[list[float]] | None:
    """[[south, west], [north, east]] of a scoped user's units (None: whole store, or the
    units have no area)."""
    if user is None or user.units is None:
        return None
    from gis import crs as crsmod
    from gis.api.scope import scope_area

    area = scope_area(store, tuple(sorted(user.units)))
    if area.is_empty:
        return None
    box = crsmod.transform_geometries(np.array([shapely.box(*area.bounds)], dtype=object),
                                      store.crs(), "EPSG:4326")[0]
    w, s, e, n = box.bounds
    return [[float(s), float(w)], [float(n), float(e)]]


def map_document(svc: MapServices, store: Store, map_id: str, lang: str, *,
                 source: Literal["auto", "tiles", "geojson"] = "auto",
                 user: User | None = None) -> dict[str, object]:
    """Everything the page needs to draw the map (also ``GET /api/maps/{id}``): its layers
    with their source (GeoJSON up to ``GEOJSON_MAX`` features, else vector tiles) and
    config, its bounds in WGS 84 (a scoped user's units), its base map."""
    spec, items = served_layers(svc, store, map_id)
    layers = []
    for served, data in items:
        use = source if source != "auto" else ("geojson" if data.count <= GEOJSON_MAX else "tiles")
        key, mid = quote(served.key, safe=""), quote(map_id, safe="")
        url = (f"/tiles/{key}/{{z}}/{{x}}/{{y}}.mvt?map={mid}&properties=style"
               if use == "tiles" else f"/api/layers/{key}.geojson?map={mid}")
        layers.append({"key": served.key, "source": use, "url": url, "show": served.layer.show,
                       "count": data.count, "cases": data.table == "violation_cases",
                       "parcels": data.table == "parcels",
                       "config": layer_config(served.layer, lang)})
    return {"id": map_id, "title": spec.title.text(lang),
            "lang": lang, "bounds": _scope_bounds(store, user) or _bounds(items),
            "layers": layers,
            "base_map": spec.base_map, "attribution": spec.base_map_attribution}


def _frame_script(element: object, map_var: str, macro: str = "script") -> str:
    """A folium element's ``macro`` as it renders in a static map, its map being ``map_var``."""
    class _Parent:
        @staticmethod
        def get_name() -> str:
            return map_var

    element._parent = _Parent()  # type: ignore[attr-defined]
    return str(getattr(element._template.module, macro)(element, {}))  # type: ignore[attr-defined]


def frame_script(svc: MapServices, store: Store, map_id: str, lang: str) -> str:
    """The static map's frame (formatting, styles, popups, legend, layer control), its tools
    and its frame end (the layer control goes on the map) as functions of the map, for
    static/map.js to call."""
    import pandas as pd

    _, items = served_layers(svc, store, map_id)
    frames = {}
    for served, data in items:  # what map_legend looks at: the style's values present, emptiness
        by = served.layer.style.by
        values = data.style_values(by) if by and data.count else []
        if values:
            frames[served.key] = pd.DataFrame({by: values})
        else:
            frames[served.key] = pd.DataFrame({"rows": [0] * min(data.count, 1)})
    legend = map_legend([s.layer for s, _ in items], frames, lang)
    frame = Frame(legend, lang, yes_no(lang), collapsed=len(items) > 6)
    tools = MapTools(lang, crs=store.crs())
    header = _frame_script(tools, "gisMap", "header")
    css = "\n".join(re.findall(r"<style>(.*?)</style>", header, flags=re.DOTALL))
    return "\n".join([
        "// generated from gis/render/elements.py (Frame) and gis/render/tools.py (MapTools)",
        "window.gisSetupFrame = function (gisMap) {", _frame_script(frame, "gisMap"), "};",
        "window.gisSetupTools = function (gisMap) {", _frame_script(tools, "gisMap"), "};",
        "window.gisSetupFrameEnd = function (gisMap) {", _frame_script(FrameEnd(), "gisMap"),
        "};",
        "window.gisToolsCss = " + _js_string(css) + ";"])


def _js_string(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False).replace("</", "<\\/")


def hits_at(store: Store, items: list[tuple[ServedLayer, Source]], lon: float, lat: float,
            zoom: float, user: User, wanted: set[str] | None) -> list[dict[str, object]]:
    """What lies at a point in each layer (those ``wanted``, or all), top layer first, with the
    fields this user may see."""
    from gis.api.tiles import mvt

    tolerance = CLICK_PX * 2 * mvt.WORLD / 256 / 2 ** zoom  # Web Mercator metres
    hits = []
    for served, data in reversed(items):
        if wanted is not None and served.key not in wanted:
            continue
        fields = visible_fields(user, served.fields)
        scope = row_filter(store, data.table, user)
        for fid, props in data.at(store, lon, lat, tolerance, fields, scope=scope):
            hits.append({"layer": served.key, "id": fid, "properties": props})
    return hits


def find_in(store: Store, items: list[tuple[ServedLayer, Source]], q: str, user: User
            ) -> dict[str, object] | None:
    """The first feature ``q`` names among those in the user's units: identifiers in every
    layer first, then names."""
    for names in (False, True):  # identifiers in every layer first, then names
        for served, data in items:
            found = data.find(store, q, visible_fields(user, served.fields), names=names,
                              scope=row_filter(store, data.table, user))
            if found is not None:
                fid, bounds, props = found
                return {"layer": served.key, "id": fid, "bounds": bounds, "properties": props}
    return None
