"""The service's web map: ``/maps/{id}`` for every ``maps/*.yaml``.

The page is the static map (:mod:`gis.render`) fed by the service: the same layer configs
(``layer_config``: styles, rules, Vietnamese labels and number formats), the same frame script
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

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from gis.api.auth.security import Permission
from gis.api.deps import PageReader, Reader, StoreDep, context
from gis.api.i18n import lang_of
from gis.api.maps import service
from gis.api.pages import render
from gis.api.tiles.routes import services
from gis.labels import kind_label
from gis.text import N_, gettext

__all__ = ["router", "pages"]

#: the home page (pick a map) and the map pages (their paths share no prefix)
pages = APIRouter(tags=["maps"], include_in_schema=False)
router = APIRouter(prefix="/api/maps", tags=["map data"])


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


@pages.get("/", response_class=HTMLResponse)
def home(request: Request, user: PageReader) -> HTMLResponse:
    """The maps of ``maps/*.yaml`` to pick from."""
    from gis.catalog import load_map_spec

    ctx = context(request)
    maps = [load_map_spec(p) for p in sorted(Path(ctx.service.maps).glob("*.yaml"))]
    return render(request, "home.html", user=user, maps=maps)


@pages.get("/maps/{map_id}", response_class=HTMLResponse)
def map_page(request: Request, user: PageReader, store: StoreDep, map_id: str,
             source: Literal["auto", "tiles", "geojson"] = "auto") -> HTMLResponse:
    from gis.core.violations.rules import KINDS

    lang = lang_of(request)
    doc = service.map_document(services(request), store, map_id, lang, source=source,
                               user=user)
    can_write = user.can(Permission.WRITE)
    doc.update({
        "texts": _pick(lang), "can_write": can_write,
        "frame": f"/maps/{quote(map_id, safe='')}/frame.js?lang={lang}",
        "kinds": [[k, kind_label(k, lang)] for k in KINDS] if can_write else []})
    return render(request, "map.html", user=user, doc=doc,
                  map_title=doc["title"], can_write=can_write)


@pages.get("/maps/{map_id}/frame.js")
def frame_js(request: Request, user: Reader, store: StoreDep, map_id: str) -> Response:
    """The static map's frame (formatting, styles, popups, legend, layer control), its tools
    and its frame end (the layer control goes on the map) as functions of the map, for
    static/map.js to call."""
    body = service.frame_script(services(request), store, map_id, lang_of(request))
    return Response(body, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "private, no-cache"})


@router.get("/{map_id}", summary="A map: its layers, their "
            "sources (tiles or GeoJSON) and configs, and its bounds in WGS 84")
def map_json(request: Request, user: Reader, store: StoreDep, map_id: str) -> dict[str, object]:
    return service.map_document(services(request), store, map_id, lang_of(request), user=user)


@router.get("/{map_id}/at",
            summary="What lies at a point in each layer of a map, top layer first")
def features_at(request: Request, user: Reader, store: StoreDep, map_id: str,
                lon: Annotated[float, Query(ge=-180, le=180)],
                lat: Annotated[float, Query(ge=-90, le=90)],
                zoom: Annotated[float, Query(ge=0, le=24, description="map zoom: sets how "
                                             "near a point or line must be")] = 18,
                layers: Annotated[str | None, Query(description="comma-separated layer keys "
                                                    "(default all)")] = None,
                ) -> dict[str, object]:
    wanted = {k.strip() for k in layers.split(",")} if layers else None
    _, items = service.served_layers(services(request), store, map_id)
    return {"hits": service.hits_at(store, items, lon, lat, zoom, user, wanted)}


@router.get("/{map_id}/find",
            summary="Find a parcel (ward-sheet-number or sheet/number), case, project or name")
def find_feature(request: Request, user: Reader, store: StoreDep, map_id: str,
                 q: Annotated[str, Query(min_length=1, max_length=200)]) -> dict[str, object]:
    _, items = service.served_layers(services(request), store, map_id)
    return {"found": service.find_in(store, items, q, user)}
