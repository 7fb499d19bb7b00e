"""Map data for the service's maps: Mapbox vector tiles and GeoJSON by bounding box.

- ``GET /tiles/{layer}/{z}/{x}/{y}.mvt`` — one map layer (its key in ``maps/*.yaml``: parcels,
  project_parcels, violation_cases, …) as a Mapbox vector tile: Web Mercator XYZ, extent 4096,
  a 128-unit buffer, the tile layer named after the map layer, properties = the layer's popup,
  progress and style fields (``?properties=style``: the style fields only, what the web map
  needs, since its popups ask ``/api/maps/{id}/at``). Empty tiles are ``204``. ``?map=`` picks
  the map when several define the key.
- ``GET /api/layers/{layer}.geojson?bbox=minlon,minlat,maxlon,maxlat`` — the same layer as
  GeoJSON in WGS 84 (the web map loads small layers this way, whole).

Both need the viewer role (or ``public_read``) and show only the rows of the user's units
(:mod:`gis.api.scope`; the scope is part of the cache key and the ETag); answers carry an ETag (the layer's data
version) with ``Cache-Control: private, no-cache``, so browsers revalidate and a change in the
store (a new case) is on the next request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gis.api.deps import LonLatBBox, Reader, StoreDep, visible_fields
from gis.api.scope import row_filter
from gis.api.tiles import mvt
from gis.api.tiles.cache import MapRegistry, ServedLayer, TileCache

__all__ = ["CACHE_CONTROL", "MVT_TYPE", "MapServices", "router", "layers", "services",
           "services_of", "warm"]

MVT_TYPE = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = "private, no-cache"
_CREATE = threading.Lock()
log = logging.getLogger("gis.api")


@asynccontextmanager
async def _warm_up(app: Any) -> AsyncIterator[None]:
    """At start, read the maps' layers in the background, so the first page does not wait."""
    threading.Thread(target=warm, args=(app,), name="gis-map-warm-up", daemon=True).start()
    yield


router = APIRouter(prefix="/tiles", tags=["map data"], lifespan=_warm_up)
layers = APIRouter(prefix="/api/layers", tags=["map data"])


@dataclass(frozen=True)
class MapServices:
    """The map registry and the tile cache of one app (built on first use, kept in
    ``app.state``; one per worker process)."""

    registry: MapRegistry
    cache: TileCache


def services(request: Request) -> MapServices:
    return services_of(request.app)


def services_of(app: Any) -> MapServices:
    state = app.state
    found = getattr(state, "gis_maps", None)
    if found is None:
        with _CREATE:
            found = getattr(state, "gis_maps", None)
            if found is None:
                ctx = state.gis
                found = MapServices(
                    MapRegistry(ctx.root / ctx.service.maps, ctx.root / ctx.ingest.catalog),
                    TileCache(ctx.service.tile_cache_mb * 1024 * 1024))
                state.gis_maps = found
    return found


def warm(app: Any) -> None:
    """Load every layer of every map into the cache (a failure is logged: requests will meet
    it again and answer it)."""
    try:
        svc = services_of(app)
        store = app.state.gis.store()
        for map_id, (_, layers) in svc.registry.maps().items():
            for layer in layers:
                svc.cache.layer(store, ServedLayer(map_id, layer))
    except Exception:  # a background thread: log it, never die loudly
        log.warning("map layers not loaded at start", exc_info=True)


def _tile_numbers(z: str, x: str, y: str) -> tuple[int, int, int]:
    try:
        zi, xi, yi = int(z), int(x), int(y)
    except ValueError:
        raise HTTPException(400, f"z, x and y are whole numbers; got {z}/{x}/{y}") from None
    if not 0 <= zi <= mvt.MAX_ZOOM or not (0 <= xi < 1 << zi and 0 <= yi < 1 << zi):
        raise HTTPException(404, f"no tile {zi}/{xi}/{yi} (zoom 0-{mvt.MAX_ZOOM}, x and y "
                                 f"0 to 2^z-1)")
    return zi, xi, yi


def _not_modified(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    return etag in {t.strip() for t in sent.split(",")} or sent.strip() == "*"


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": CACHE_CONTROL}


@router.get("/{layer}/{z}/{x}/{y}.mvt", response_class=Response,
            summary="A map layer as a Mapbox vector tile",
            responses={200: {"content": {MVT_TYPE: {}}}, 204: {"description": "empty tile"},
                       304: {"description": "not modified (ETag)"}})
async def tile(request: Request, user: Reader, store: StoreDep, layer: str, z: str, x: str,
               y: str,
               map_id: Annotated[str | None, Query(alias="map", description="map id "
                                                   "(maps/*.yaml) when several maps define "
                                                   "the layer")] = None,
               properties: Annotated[Literal["all", "style"], Query(
                   description="all: popup, progress and style fields; style: style fields "
                               "only")] = "all") -> Response:
    """A cached tile of an unchanged layer is answered on the event loop; reading a layer and
    encoding a tile go to the thread pool."""
    zi, xi, yi = _tile_numbers(z, x, y)
    svc = services(request)
    served = svc.registry.layer(layer, map_id)
    data = svc.cache.current(store, served)
    if data is None:
        data = await run_in_threadpool(svc.cache.layer, store, served)
    fields = visible_fields(user, served.style_fields if properties == "style" else served.fields)
    scope = None if user.units is None else \
        await run_in_threadpool(row_filter, store, data.table, user)
    etag = svc.cache.etag(data.signature, served.map_id, served.key, fields, zi, xi, yi,
                          scope.token if scope is not None else None)
    if _not_modified(request, etag):
        return Response(status_code=304, headers=_headers(etag))
    body = svc.cache.cached_tile(data, served, zi, xi, yi, fields, scope)
    if body is None:
        body = await run_in_threadpool(svc.cache.tile, store, data, served, zi, xi, yi, fields,
                                       scope)
    if not body:
        return Response(status_code=204, headers=_headers(etag))
    return Response(body, media_type=MVT_TYPE, headers=_headers(etag))


@layers.get("/{layer}.geojson", response_class=Response,
            summary="A map layer as GeoJSON (WGS 84), optionally within a bounding box",
            responses={200: {"content": {"application/geo+json": {}}}})
def layer_geojson(request: Request, user: Reader, store: StoreDep, layer: str, bbox: LonLatBBox,
                  map_id: Annotated[str | None, Query(alias="map")] = None) -> Response:
    svc = services(request)
    served: ServedLayer = svc.registry.layer(layer, map_id)
    data = svc.cache.layer(store, served)
    fields = visible_fields(user, served.fields)
    scope = row_filter(store, data.table, user)
    etag = svc.cache.etag(data.signature, served.map_id, served.key, "geojson", bbox, fields,
                          scope.token if scope is not None else None)
    if _not_modified(request, etag):
        return Response(status_code=304, headers=_headers(etag))
    return Response(data.geojson(store, fields, bbox, scope), media_type="application/geo+json",
                    headers=_headers(etag))
