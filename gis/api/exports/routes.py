"""Planners' exports: ``GET /api/export/{layer}`` and the ``/exports`` page that builds its URL.

Any layer (parcels, projects, clearance parts, violation cases, buildings, wards), filtered by
ward, project, status or bounding box, as zipped Shapefile, GeoPackage, GeoJSON, KML, CSV or
XLSX, in the layer's VN-2000 zone or WGS 84 (through the pinned EPSG:6960 transformation). The
file is written completely into a private temporary folder, then streamed in chunks and the
folder removed; a failure answers with a message and leaves nothing behind.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pyproj import CRS
from starlette.background import BackgroundTask

from gis.api.auth.security import Permission, User
from gis.api.deps import Context, context, require, require_page, store_of
from gis.api.exports.clearance import clearance_pairs
from gis.api.exports.formats import (
    SHP_EXTRA_NAMES,
    Format,
    parse_lang,
    shp_field_names,
    write_export,
    write_geojson_stream,
)
from gis.api.exports.layers import (
    LAYERS,
    LayerDef,
    Selection,
    iter_select,
    layer_def,
    parse_output_crs,
    parse_selection,
    select,
    ward_names,
)
from gis.errors import CRSError, NotFoundError
from gis.io.write import SHP_DROPPED, reproject

__all__ = ["export_url", "file_base", "router"]

router = APIRouter()
_STALE_SECONDS = 6 * 3600
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _workdir(ctx: Context) -> Path:
    """A private folder for one export, beside the store (same file system); folders left by
    interrupted downloads are removed after six hours."""
    root = ctx.storage.store_path.parent / ".exports"
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in root.iterdir():
        try:
            if now - old.stat().st_mtime > _STALE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:
            continue
    return Path(tempfile.mkdtemp(prefix="export-", dir=root))


def file_base(layer: str, sel: Selection, crs: CRS) -> str:
    """The download's name without suffix, from the layer, the filters and the CRS (never a
    name the client sent): ``parcels_09880_vn2000``."""
    tag = "wgs84" if crs.to_epsg() == 4326 else "vn2000"
    text = "_".join([layer, *sel.tags(), tag])
    return _SAFE.sub("-", text)[:120]


def export_url(layer: str, *, fmt: str, crs: str | None = None, ward: str | None = None,
               project: str | None = None, status: str | None = None,
               bbox: str | None = None, lang: str | None = None) -> str:
    """The API URL for these choices (what the /exports form builds)."""
    from urllib.parse import urlencode

    params = {"format": fmt, "crs": crs, "ward": ward, "project": project, "status": status,
              "bbox": bbox, "lang": lang}
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/api/export/{layer}" + (f"?{query}" if query else "")


def _computed(definition: LayerDef, request: Request, store: Any) -> gpd.GeoDataFrame:
    if definition.name == "clearance":
        for needed in ("parcels", "projects"):
            if not store.has(needed):
                raise NotFoundError(f"the store has no {needed} layer yet, so no clearance "
                                    "parts", field="layer", value=definition.name)
        return clearance_pairs(request.app.state, store)
    from gis.violations import list_cases

    return list_cases(store)


@router.get("/api/export/{layer}", tags=["export"], response_class=FileResponse,
            summary="Export a layer (planner role)",
            responses={200: {"description": "the file, as an attachment",
                             "content": {Format(f).media_type: {} for f in Format}}})
def export_layer(
        request: Request,
        layer: str,
        format: Annotated[str, Query(description="shp (zip), gpkg, geojson, kml, csv, xlsx")] = "gpkg",
        crs: Annotated[str | None, Query(description="vn2000 (the layer's zone; default except "
                                                     "GeoJSON and KML) or wgs84")] = None,
        ward: Annotated[str | None, Query(description="5-digit ward code")] = None,
        project: Annotated[str | None, Query(description="project id, e.g. DA-001")] = None,
        status: Annotated[str | None, Query(description="clearance status (parcels, clearance)"
                                                        " or case status (violations)")] = None,
        bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy")] = None,
        bbox_crs: Annotated[str | None, Query(alias="bbox-crs",
                                              description="CRS of bbox: wgs84 (default) or "
                                                          "vn2000")] = None,
        lang: Annotated[str | None, Query(description="CSV and XLSX column headers: vi "
                                                      "(default) or en")] = None,
        user: User = Depends(require(Permission.EXPORT))) -> FileResponse:
    """Features of ``layer`` matching every filter, as one file."""
    ctx = context(request)
    definition = layer_def(layer)
    fmt = Format.parse(format)
    store = store_of(ctx)
    store_crs = store.crs()
    if store_crs is None:
        raise NotFoundError("the store is empty: nothing to export yet", field="layer",
                            value=layer)
    out_crs = parse_output_crs(crs or ("wgs84" if fmt.default_wgs84 else "vn2000"), store_crs)
    if fmt.wgs84_only and out_crs.to_epsg() != 4326:
        raise CRSError(f"KML is always WGS 84; use crs=wgs84 or leave crs out (got {crs!r})",
                       field="crs", value=crs)
    sel = parse_selection(definition, store, ward=ward, project=project, status=status,
                          bbox=bbox, bbox_crs=bbox_crs)
    def computed() -> gpd.GeoDataFrame:
        return _computed(definition, request, store)

    def pairs() -> gpd.GeoDataFrame:
        return clearance_pairs(request.app.state, store)

    base = file_base(definition.name, sel, out_crs)
    folder = _workdir(ctx)
    try:
        if fmt is Format.GEOJSON:  # feature by feature, batch by batch
            result = write_geojson_stream(iter_select(definition, store, sel, computed=computed,
                                                      pairs=pairs),
                                          folder, base, crs=out_crs, layer=definition.name,
                                          reproject=reproject)
        else:
            frame = reproject(select(definition, store, sel, computed=computed, pairs=pairs),
                              out_crs)
            result = write_export(frame, fmt, folder, base, layer=definition.name,
                                  key=definition.key, lang=parse_lang(lang),
                                  ward_names=ward_names(store))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    headers = {"X-Feature-Count": str(result.features),
               "X-CRS": f"EPSG:{out_crs.to_epsg()}" if out_crs.to_epsg() else out_crs.name}
    if result.notes:
        headers["X-Export-Notes"] = "; ".join(result.notes).encode("ascii", "replace").decode()
    return FileResponse(result.path, media_type=fmt.media_type, filename=result.path.name,
                        headers=headers,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


_FORMAT_LABELS = {"shp": "Shapefile (.shp.zip)", "gpkg": "GeoPackage (.gpkg)",
                  "geojson": "GeoJSON", "kml": "KML (Google Earth)", "csv": "CSV (WKT)",
                  "xlsx": "Excel (XLSX)"}


def _choices(store: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    wards: list[tuple[str, str]] = []
    projects: list[tuple[str, str]] = []
    if store.has("wards"):
        frame = store.read_table("wards")
        wards = sorted((str(c), str(n)) for c, n in zip(frame["ward_code"],
                                                        frame.get("name", frame["ward_code"])))
    if store.has("projects"):
        frame = store.read("projects", columns=["project_id", "name"])
        projects = sorted((str(c), str(n)) for c, n in zip(frame["project_id"], frame["name"]))
    return wards, projects


@router.get("/exports", response_class=HTMLResponse, include_in_schema=False)
def exports_page(request: Request, layer: str = "parcels", format: str = "shp",
                 crs: str | None = None, ward: str | None = None, project: str | None = None,
                 status: str | None = None, bbox: str | None = None,
                 user: User = Depends(require_page(Permission.EXPORT))) -> HTMLResponse:
    from gis.api.pages import render

    store = store_of(context(request))
    wards, projects = _choices(store)
    layer = layer if layer in LAYERS else "parcels"
    fmt = format if format in {f.value for f in Format} else "shp"
    crs = crs if crs in ("vn2000", "wgs84") else None
    statuses = LAYERS[layer].statuses or ()
    url = export_url(layer, fmt=fmt, crs=crs, ward=ward if ward in dict(wards) else None,
                     project=project if project in dict(projects) else None,
                     status=status if status in statuses else None, bbox=bbox or None)
    mapping = sorted(shp_field_names().items())
    return render(request, "exports.html", user=user, layers=LAYERS,
                  formats=_FORMAT_LABELS, wards=wards, projects=projects,
                  chosen={"layer": layer, "format": fmt, "crs": crs or "", "ward": ward or "",
                          "project": project or "", "status": status or "", "bbox": bbox or ""},
                  url=url, mapping=mapping, extra_names=set(SHP_EXTRA_NAMES),
                  dropped=SHP_DROPPED,
                  statuses={name: [(v, _status_label(v, name)) for v in d.statuses or ()]
                            for name, d in LAYERS.items()})


def _status_label(value: str, layer: str) -> str:
    """``PAID — Đã chi trả``: the code (what the URL takes) with its Vietnamese name."""
    from gis.core.clearance.status import LABELS_VI, Status
    from gis.labels import CASE_STATUS_LABELS, case_status_label

    if layer == "violations":
        name = case_status_label(value, "vi") if value in CASE_STATUS_LABELS else ""
    else:
        name = LABELS_VI[Status(value)] if value in Status.__members__ else "Chưa triển khai"
    return f"{value} — {name}" if name else value
