"""The service's web map: ``/maps/{id}`` for every ``maps/*.yaml``.

The page is the static map (:mod:`gis.render`) fed by the service: the same layer configs
(``_layer_config``: styles, rules, Vietnamese labels and number formats), the same frame script
(legend of the visible layers, layer control, formatting and popup functions) and the same
tools (find, zoom to ward or project, measure in the VN-2000 plane, cursor coordinates, full
screen), rendered from their folium elements into ``/maps/{id}/frame.js``. Data does not sit in
the page: layers of up to ``GEOJSON_MAX`` features come whole as GeoJSON
(``/api/layers/{key}.geojson``), larger ones as vector tiles (``/tiles/{key}/{z}/{x}/{y}.mvt``,
drawn on canvas by Leaflet.VectorGrid).

One click asks ``/api/maps/{id}/at`` what lies there in every visible layer and shows their
popups top layer first (a parcel, its clearance part, the project around it, its ward): with
several layers stacked on canvases only the top one would receive the click otherwise. The find
box asks ``/api/maps/{id}/find``.

Inspectors (write permission) also get drawing (leaflet-draw: point or polygon) and the flag
form (kind, notes, owner, photos from the phone's camera, documents), saved through
``POST /api/violations`` and ``/api/violations/{id}/attachments``; the case layer reloads at
once.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import quote

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from gis.api.auth.security import Permission, User
from gis.api.deps import context, require_page, store_of, visible_fields
from gis.api.i18n import lang_of
from gis.api.tiles.cache import LayerData, ServedLayer, at, find, to_wgs84
from gis.api.tiles.routes import Reader, services
from gis.catalog import MapSpec
from gis.labels import kind_label
from gis.render.build import _layer_config, _legend
from gis.render.elements import Frame, FrameEnd
from gis.render.labels import yes_no
from gis.render.tools import MapTools
from gis.text import N_, gettext

__all__ = ["GEOJSON_MAX", "map_document", "router"]

router = APIRouter()
PageReader = Annotated[User, Depends(require_page(Permission.READ))]

#: Layers up to this many features come whole as GeoJSON; larger ones as vector tiles.
GEOJSON_MAX = 1_000
CLICK_PX = 5  # how near a click must be to a point or a line (screen pixels)

_TEXTS: dict[str, str] = {
    "locate": N_("Locate me"),
    "locating": N_("Finding your position…"),
    "no_location": N_("Your position is not available"),
    "draw_hint": N_("Draw a point or an area with the buttons on the left"),
    "draw_polygon": N_("Draw an area"),
    "draw_point": N_("Mark a point"),
    "new_case": N_("New violation case"),
    "kind": N_("Kind"),
    "notes": N_("Notes"),
    "owner_name": N_("Land user / offender"),
    "photos": N_("Photos (from the camera)"),
    "documents": N_("Documents (images, PDF)"),
    "save": N_("Save case"),
    "cancel": N_("Cancel"),
    "saving": N_("Saving…"),
    "uploading": N_("Uploading files…"),
    "saved": N_("Case saved"),
    "save_failed": N_("Could not save"),
    "upload_failed": N_("Could not upload"),
    "open_case": N_("Open the case"),
    "extract": N_("Parcel extract (PDF)"),
    "nothing_here": N_("Nothing here"),
    "not_found": N_("Nothing found"),
    "no_plugins": N_("Map plugins missing (run scripts/vendor)"),
    "load_failed": N_("Could not load layer"),
    "draw_start": N_("Click to start drawing the area"),
    "draw_cont": N_("Click to continue drawing"),
    "draw_end": N_("Click the first point to close the area"),
    "draw_point_tip": N_("Click the map to mark the point"),
    "finish": N_("Finish"),
    "delete_last": N_("Delete last point"),
}


def _pick(lang: str) -> dict[str, str]:
    return {k: gettext(v, lang) for k, v in _TEXTS.items()}


def _served(request: Request, map_id: str) -> tuple[MapSpec, list[tuple[ServedLayer, LayerData]]]:
    """The map spec and its layers present in the store, with their data."""
    svc = services(request)
    spec, layers = svc.registry.get(map_id)
    store = store_of(context(request))
    out = []
    for layer in layers:
        served = ServedLayer(map_id, layer)
        data = svc.cache.layer(store, served)
        if data.table is not None:  # a table the store lacks: left out, like the static map
            out.append((served, data))
    return spec, out


def _bounds(items: list[tuple[ServedLayer, LayerData]]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the content (wards only when nothing else)."""
    content = [d for s, d in items if s.key != "wards" and d.count] or [d for _, d in items
                                                                      if d.count]
    if not content:
        return None
    b = np.vstack([d.bounds for d in content])
    box = np.array([np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]), np.nanmax(b[:, 3])])
    corners = to_wgs84(np.array([shapely.Point(box[0], box[1]), shapely.Point(box[2], box[3])]))
    (w, s), (e, n) = shapely.get_coordinates(corners)
    return [[float(s), float(w)], [float(n), float(e)]]


def map_document(request: Request, map_id: str, lang: str, *,
                 source: Literal["auto", "tiles", "geojson"] = "auto") -> dict[str, object]:
    """Everything the page needs to draw the map (also ``GET /api/maps/{id}``)."""
    spec, items = _served(request, map_id)
    layers = []
    for served, data in items:
        use = source if source != "auto" else ("geojson" if data.count <= GEOJSON_MAX else "tiles")
        key, mid = quote(served.key, safe=""), quote(map_id, safe="")
        url = (f"/tiles/{key}/{{z}}/{{x}}/{{y}}.mvt?map={mid}&properties=style"
               if use == "tiles" else f"/api/layers/{key}.geojson?map={mid}")
        layers.append({"key": served.key, "source": use, "url": url, "show": served.layer.show,
                       "count": data.count, "cases": data.table == "violation_cases",
                       "parcels": data.table == "parcels",
                       "config": _layer_config(served.layer, lang)})
    return {"id": map_id, "title": spec.title.text(lang),
            "lang": lang, "bounds": _bounds(items), "layers": layers,
            "base_map": spec.base_map, "attribution": spec.base_map_attribution}


@router.get("/maps/{map_id}", response_class=HTMLResponse, include_in_schema=False)
def map_page(request: Request, user: PageReader, map_id: str,
             source: Literal["auto", "tiles", "geojson"] = "auto") -> HTMLResponse:
    from gis.api.pages import render
    from gis.core.violations.rules import KINDS

    lang = lang_of(request)
    doc = map_document(request, map_id, lang, source=source)
    can_write = user.can(Permission.WRITE)
    doc.update({
        "texts": _pick(lang), "can_write": can_write,
        "frame": f"/maps/{quote(map_id, safe='')}/frame.js?lang={lang}",
        "kinds": [[k, kind_label(k, lang)] for k in KINDS] if can_write else []})
    return render(request, "map.html", user=user, doc=doc,
                  map_title=doc["title"], can_write=can_write)


def _frame_script(element: object, map_var: str, macro: str = "script") -> str:
    """A folium element's ``macro`` as it renders in a static map, its map being ``map_var``."""
    class _Parent:
        @staticmethod
        def get_name() -> str:
            return map_var

    element._parent = _Parent()  # type: ignore[attr-defined]
    return str(getattr(element._template.module, macro)(element, {}))  # type: ignore[attr-defined]


@router.get("/maps/{map_id}/frame.js", include_in_schema=False)
def frame_js(request: Request, user: Reader, map_id: str) -> Response:
    """The static map's frame (formatting, styles, popups, legend, layer control), its tools
    and its frame end (the layer control goes on the map) as functions of the map, for
    static/map.js to call."""
    import pandas as pd

    lang = lang_of(request)
    _, items = _served(request, map_id)
    frames = {}
    for served, data in items:  # what _legend looks at: the style's values present, emptiness
        by = served.layer.style.by
        if by and by in data.props.columns and data.count:
            frames[served.key] = pd.DataFrame({by: data.props[by].dropna().unique()})
        else:
            frames[served.key] = pd.DataFrame({"rows": [0] * min(data.count, 1)})
    legend = _legend([s.layer for s, _ in items], frames, lang)
    frame = Frame(legend, lang, yes_no(lang), collapsed=len(items) > 6)
    tools = MapTools(lang, crs=store_of(context(request)).crs())
    header = _frame_script(tools, "gisMap", "header")
    css = "\n".join(re.findall(r"<style>(.*?)</style>", header, flags=re.DOTALL))
    body = "\n".join([
        "// generated from gis/render/elements.py (Frame) and gis/render/tools.py (MapTools)",
        "window.gisSetupFrame = function (gisMap) {", _frame_script(frame, "gisMap"), "};",
        "window.gisSetupTools = function (gisMap) {", _frame_script(tools, "gisMap"), "};",
        "window.gisSetupFrameEnd = function (gisMap) {", _frame_script(FrameEnd(), "gisMap"),
        "};",
        "window.gisToolsCss = " + _js_string(css) + ";"])
    return Response(body, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "private, no-cache"})


def _js_string(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False).replace("</", "<\\/")


@router.get("/api/maps/{map_id}", tags=["map data"], summary="A map: its layers, their "
            "sources (tiles or GeoJSON) and configs, and its bounds in WGS 84")
def map_json(request: Request, user: Reader, map_id: str) -> dict[str, object]:
    return map_document(request, map_id, lang_of(request))


@router.get("/api/maps/{map_id}/at", tags=["map data"],
            summary="What lies at a point in each layer of a map, top layer first")
def features_at(request: Request, user: Reader, map_id: str,
                lon: Annotated[float, Query(ge=-180, le=180)],
                lat: Annotated[float, Query(ge=-90, le=90)],
                zoom: Annotated[float, Query(ge=0, le=24, description="map zoom: sets how "
                                             "near a point or line must be")] = 18,
                layers: Annotated[str | None, Query(description="comma-separated layer keys "
                                                    "(default all)")] = None,
                ) -> dict[str, object]:
    from gis.api.tiles import mvt
    from gis.api.tiles.cache import from_wgs84

    wanted = {k.strip() for k in layers.split(",")} if layers else None
    _, items = _served(request, map_id)
    (x,), (y,) = from_wgs84(np.array([lon]), np.array([lat]))
    tolerance = CLICK_PX * 2 * mvt.WORLD / 256 / 2 ** zoom
    hits = []
    for served, data in reversed(items):
        if wanted is not None and served.key not in wanted:
            continue
        rows = at(data, float(x), float(y), tolerance)
        for row, props in zip(rows, data.records(rows, visible_fields(user, served.fields))):
            hits.append({"layer": served.key, "id": int(row) + 1, "properties": props})
    return {"hits": hits}


@router.get("/api/maps/{map_id}/find", tags=["map data"],
            summary="Find a parcel (ward-sheet-number or sheet/number), case, project or name")
def find_feature(request: Request, user: Reader, map_id: str,
                 q: Annotated[str, Query(min_length=1, max_length=200)]) -> dict[str, object]:
    _, items = _served(request, map_id)
    for names in (False, True):  # identifiers in every layer first, then names
        for served, data in items:
            row = find(data, q, names=names)
            if row is None:
                continue
            geom = to_wgs84(data.geoms[[row]])
            w, s, e, n = shapely.bounds(geom)[0]
            return {"found": {"layer": served.key, "id": row + 1,
                              "bounds": [[float(s), float(w)], [float(n), float(e)]],
                              "properties": data.records(
                                  np.array([row]), visible_fields(user, served.fields))[0]}}
    return {"found": None}
