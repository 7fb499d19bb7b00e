"""Planners' exports: ``GET /api/export/{layer}`` and the ``/exports`` page that builds its URL.

Any layer (parcels, projects, clearance parts, violation cases, buildings, wards), filtered by
ward, project, status or bounding box, as zipped Shapefile, GeoPackage, GeoJSON, KML, CSV or
XLSX, in the layer's VN-2000 zone or WGS 84 (through the pinned EPSG:6960 transformation). The
file is written completely into a private temporary folder (:mod:`gis.api.exports.service`),
then streamed in chunks and the folder removed; a failure answers with a message and leaves
nothing behind.
"""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.background import BackgroundTask

from gis.api.deps import (
    BBox,
    ExportBBoxCrs,
    ExportCrs,
    Exporter,
    OutputFormat,
    PageExporter,
    StoreDep,
    context,
)
from gis.api.exports import service
from gis.api.exports.formats import SHP_EXTRA_NAMES, Format, parse_lang, shp_field_names
from gis.api.exports.layers import LAYERS, layer_def, parse_selection
from gis.errors import NotFoundError
from gis.io.write import SHP_DROPPED

__all__ = ["router", "pages"]

router = APIRouter(prefix="/api/export", tags=["export"])
pages = APIRouter(prefix="/exports", tags=["export"], include_in_schema=False)


@router.get("/{layer}", response_class=FileResponse,
            summary="Export a layer (planner role)",
            responses={200: {"description": "the file, as an attachment",
                             "content": {Format(f).media_type: {} for f in Format}}})
def export_layer(
        request: Request,
        user: Exporter,
        store: StoreDep,
        layer: str,
        format: OutputFormat,
        crs: ExportCrs,
        bbox: BBox,
        bbox_crs: ExportBBoxCrs,
        ward: Annotated[str | None, Query(description="5-digit ward code")] = None,
        project: Annotated[str | None, Query(description="project id, e.g. DA-001")] = None,
        status: Annotated[str | None, Query(description="clearance status (parcels, clearance)"
                                                        " or case status (violations)")] = None,
        lang: Annotated[str | None, Query(description="CSV and XLSX column headers: vi "
                                                      "(default) or en")] = None,
) -> FileResponse:
    """Features of ``layer`` matching every filter, as one file."""
    definition = layer_def(layer)
    store_crs = store.crs()
    if store_crs is None:
        raise NotFoundError("the store is empty: nothing to export yet", field="layer",
                            value=layer)
    out_crs = service.output_crs(format, crs, store_crs)
    # parse_selection reads the box and its CRS as text: give it what the dependencies checked
    sel = parse_selection(definition, store, ward=ward, project=project, status=status,
                          bbox=",".join(repr(v) for v in bbox) if bbox else None,
                          bbox_crs=f"EPSG:{bbox_crs.to_epsg()}" if bbox_crs else None)
    done = service.export_layer(context(request), request.app.state, store, definition, sel,
                                format, out_crs, lang=parse_lang(lang), user=user)
    result = done.file
    headers = {"X-Feature-Count": str(result.features),
               "X-CRS": f"EPSG:{out_crs.to_epsg()}" if out_crs.to_epsg() else out_crs.name}
    if result.notes:
        headers["X-Export-Notes"] = "; ".join(result.notes).encode("ascii", "replace").decode()
    return FileResponse(result.path, media_type=format.media_type, filename=result.path.name,
                        headers=headers,
                        background=BackgroundTask(shutil.rmtree, done.folder, ignore_errors=True))


_FORMAT_LABELS = {"shp": "Shapefile (.shp.zip)", "gpkg": "GeoPackage (.gpkg)",
                  "geojson": "GeoJSON", "kml": "KML (Google Earth)", "csv": "CSV (WKT)",
                  "xlsx": "Excel (XLSX)"}


@pages.get("", response_class=HTMLResponse)
def exports_page(request: Request, user: PageExporter, store: StoreDep, layer: str = "parcels",
                 format: str = "shp", crs: str | None = None, ward: str | None = None,
                 project: str | None = None, status: str | None = None,
                 bbox: str | None = None) -> HTMLResponse:
    """The form that builds an export's URL (what it is given is only preselected)."""
    from gis.api.pages import render

    wards, projects = service.form_choices(store, user)
    layer = layer if layer in LAYERS else "parcels"
    fmt = format if format in {f.value for f in Format} else "shp"
    crs = crs if crs in ("vn2000", "wgs84") else None
    statuses = LAYERS[layer].statuses or ()
    url = service.export_url(layer, fmt=fmt, crs=crs, ward=ward if ward in dict(wards) else None,
                     project=project if project in dict(projects) else None,
                     status=status if status in statuses else None, bbox=bbox or None)
    mapping = sorted(shp_field_names().items())
    return render(request, "exports.html", user=user, layers=LAYERS,
                  formats=_FORMAT_LABELS, wards=wards, projects=projects,
                  chosen={"layer": layer, "format": fmt, "crs": crs or "", "ward": ward or "",
                          "project": project or "", "status": status or "", "bbox": bbox or ""},
                  url=url, mapping=mapping, extra_names=set(SHP_EXTRA_NAMES),
                  dropped=SHP_DROPPED,
                  statuses={name: [(v, service.status_label(v, name)) for v in d.statuses or ()]
                            for name, d in LAYERS.items()})
