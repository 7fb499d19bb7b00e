"""Violation cases over HTTP: ``/api/violations`` (JSON and GeoJSON for scripts and the map)
and, through :mod:`gis.api.cases.pages`, the inspectors' pages under ``/cases``.

Reads need the viewer role, writes the inspector role; the user recorded in a case's history is
always the authenticated one. Every change goes through :mod:`gis.violations`, which enforces the
lifecycle (a refused change answers 409 with the library's message and changes nothing).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import shapely
import shapely.geometry
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from gis import crs as crsmod
from gis.api.auth.security import Permission, User
from gis.api.cases import service as data
from gis.api.cases.upload import (
    UPLOAD_OPENAPI,
    body_limit,
    read_upload,
    store_upload,
    thumbnail,
    upload_limit,
)
from gis.api.deps import BBox, Paging, StoreDep, Writer, require
from gis.api.i18n import lang_of
from gis.core.violations.cases import EDITABLE
from gis.errors import GisError
from gis.violations import flag, update

__all__ = ["router", "NewCase", "parse_geometry"]

router = APIRouter(prefix="/api/violations", tags=["violations"])

CaseId = Annotated[str, Path(description="case number, e.g. VP-2026-00011")]
#: case files are not for anonymous readers, even with ``public_read``
Reader = Annotated[User, Depends(require(Permission.READ, public=False))]


class NewCase(BaseModel):
    """A case drawn on the map or typed in: where, what, and what the inspector saw."""

    model_config = ConfigDict(extra="forbid")

    geometry: dict[str, Any] = Field(description="GeoJSON Point, Polygon or MultiPolygon, in "
                                                 "WGS 84 lon/lat unless `crs` says otherwise")
    kind: str = Field(description="Decree 123/2024 category, e.g. encroachment_public_land")
    notes: str | None = Field(default=None, max_length=4000)
    owner_name: str | None = Field(default=None, max_length=200)
    crs: str | None = Field(default=None, description="CRS of the coordinates, e.g. EPSG:5897 "
                                                      "(VN-2000 TM-3); default WGS 84")
    source: Literal["inspector", "citizen"] = "inspector"


def parse_geometry(geojson: dict[str, Any], crs: str | None) -> shapely.Geometry:
    """A shapely geometry from GeoJSON; 422 naming what is wrong."""
    kind = geojson.get("type") if isinstance(geojson, dict) else None
    if kind not in ("Point", "Polygon", "MultiPolygon"):
        raise GisError(f"geometry type {kind!r}: a case is a Point, Polygon or MultiPolygon",
                       field="geometry.type", value=kind)
    try:
        geom = shapely.geometry.shape(geojson)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            shapely.errors.GEOSException) as exc:
        raise GisError(f"geometry is not valid GeoJSON ({exc})", field="geometry") from None
    if crs is None and not geom.is_empty:
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise GisError("the coordinates are not longitude/latitude; for VN-2000 metres add "
                           '"crs", e.g. "EPSG:5897"', field="geometry")
    return geom


@router.get("", summary="List cases (JSON rows, or GeoJSON in WGS 84 with f=geojson)")
def list_violations(
        request: Request, user: Reader, store: StoreDep, paged: Paging, bbox: BBox,
        ward: Annotated[str | None, Query(description="legacy ward code, e.g. 09880")] = None,
        unit: Annotated[str | None, Query(description="2025 commune-level unit code, e.g. "
                                          "09574")] = None,
        kind: Annotated[str | None, Query(description="case kind")] = None,
        status: Annotated[str | None, Query(description="lifecycle status, e.g. DETECTED")] = None,
        source: Annotated[Literal["detection", "inspector", "citizen"] | None, Query()] = None,
        overdue: Annotated[bool | None, Query(description="only overdue (true) or not (false)")]
        = None,
        q: Annotated[str | None, Query(max_length=200, description="text search (case number, "
                                       "parcel, notes, owner, documents); accents optional")]
        = None,
        bbox_crs: Annotated[str, Query(alias="bbox-crs", description="CRS of bbox (default "
                                       "WGS 84 lon/lat)")] = "EPSG:4326",
        f: Annotated[Literal["json", "geojson"], Query(description="json rows or GeoJSON")]
        = "json") -> Response:
    lang = lang_of(request)
    filt = data.CaseFilter(
        ward=ward, unit=data.parse_unit(unit) if unit else None,
        kind=data.parse_kind(kind) if kind else None,
        status=data.parse_status(status) if status else None, source=source, overdue=overdue,
        q=q, bbox=bbox, bbox_crs=bbox_crs)
    cases = data.filtered_cases(store, filt, user=user)
    limit, offset = paged.limit, paged.offset
    page = cases.iloc[offset:offset + limit]
    links = _links(request, len(cases), limit, offset)
    if f == "geojson":
        body = data.feature_collection(page, lang=lang)
        body.update(numberMatched=len(cases), numberReturned=len(page), links=links)
        return JSONResponse(body, media_type="application/geo+json")
    rows = [data.case_record(r, lang=lang) for r in page.drop(columns="geometry")
            .to_dict("records")]
    return JSONResponse({"total": len(cases), "limit": limit, "offset": offset,
                         "returned": len(rows), "cases": rows, "links": links})


def _links(request: Request, total: int, limit: int, offset: int) -> list[dict[str, str]]:
    links = [{"rel": "self", "href": str(request.url)}]
    if offset + limit < total:
        links.append({"rel": "next",
                      "href": str(request.url.include_query_params(offset=offset + limit))})
    if offset > 0:
        links.append({"rel": "prev",
                      "href": str(request.url.include_query_params(offset=max(0, offset - limit)))})
    return links


@router.post("", status_code=201, summary="Flag a case (point or polygon); the inspector is you")
def create_violation(request: Request, body: NewCase, user: Writer, store: StoreDep
                     ) -> JSONResponse:
    geom = parse_geometry(body.geometry, body.crs)
    if body.crs is not None:
        crsmod.parse_crs(body.crs, option="crs")  # the error names the API's field
    case_id = flag(store, geom, kind=body.kind, who=user.name, crs=body.crs or "EPSG:4326",
                   source=body.source, notes=body.notes, owner_name=body.owner_name,
                   units=user.units)
    return JSONResponse(data.case_payload(store, case_id, lang_of(request)), status_code=201,
                        headers={"Location": f"/api/violations/{case_id}"})


@router.get("/{case_id}", summary="A case with geometry (WGS 84), history and attachments")
def get_violation(request: Request, case_id: CaseId, user: Reader, store: StoreDep
                  ) -> dict[str, object]:
    data.require_case(store, case_id, user)
    return data.case_payload(store, case_id, lang_of(request))


@router.patch("/{case_id}", summary="Change editable fields (and status, if the lifecycle allows)")
def patch_violation(request: Request, case_id: CaseId, user: Writer, store: StoreDep,
                    body: Annotated[dict[str, Any], Body(examples=[{"notes": "Đã liên hệ chủ hộ",
                                                                    "owner_name": "Nguyễn Văn A"}])]
                    ) -> dict[str, object]:
    data.require_case(store, case_id, user)
    changes = data.editable_changes(body, allow=("status", *EDITABLE))
    if not changes:
        raise GisError("nothing to change: send editable fields", field="body")
    lines = update(store, case_id, changes, who=user.name)
    return {"case": data.case_payload(store, case_id, lang_of(request)), "changes": lines}


@router.post("/{case_id}/transitions", summary="Move a case to its next status")
def transition_violation(
        request: Request, case_id: CaseId, user: Writer, store: StoreDep,
        body: Annotated[dict[str, Any], Body(examples=[
            {"to": "MINUTES_ISSUED", "minutes_no": "12/BB-VPHC", "minutes_date": "2026-11-20",
             "note": "Lập biên bản tại hiện trường"}])]) -> dict[str, object]:
    data.require_case(store, case_id, user)
    changes, note = data.transition_changes(body)
    lines = update(store, case_id, changes, who=user.name, note=note)
    return {"case": data.case_payload(store, case_id, lang_of(request)), "changes": lines}


@router.get("/{case_id}/attachments", summary="The photos and documents of a case")
def list_attachments(request: Request, case_id: CaseId, user: Reader, store: StoreDep
                     ) -> dict[str, object]:
    data.require_case(store, case_id, user)
    return {"case_id": case_id, "attachments": data.attachment_records(store, case_id)}


@router.post("/{case_id}/attachments", status_code=201, openapi_extra=UPLOAD_OPENAPI,
          summary="Attach a photo or document (multipart field 'file', optional 'role', 'note')",
          dependencies=[Depends(body_limit)])
async def add_attachment(request: Request, case_id: CaseId, user: Writer, store: StoreDep
                         ) -> JSONResponse:
    await run_in_threadpool(data.require_case, store, case_id, user)
    upload = await read_upload(request)
    row = await run_in_threadpool(store_upload, store, case_id, upload, who=user.name,
                                  limit=upload_limit(request))
    records = await run_in_threadpool(data.attachment_records, store, case_id)
    record = next((r for r in records if r["sha256"] == row.get("sha256")), records[-1])
    return JSONResponse(record, status_code=201, headers={"Location": str(record["url"])})


@router.get("/{case_id}/attachments/{n}", summary="Download attachment n (1-based)",
         response_class=FileResponse)
def get_attachment(request: Request, case_id: CaseId, n: int, user: Reader, store: StoreDep,
                   thumb: Annotated[bool, Query(description="a small JPEG of a photo")] = False
                   ) -> Response:
    data.require_case(store, case_id, user)
    path, row = data.attachment_file(store, case_id, n)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
               "Content-Security-Policy": "default-src 'none'; sandbox"}
    if thumb:
        small = thumbnail(path) if str(row["mime"]).startswith("image/") else None
        if small is None:
            raise GisError(f"attachment {n} has no thumbnail ({row['mime']})", field="thumb")
        return Response(small, media_type="image/jpeg", headers=headers)
    inline = str(row["mime"]) in ("image/jpeg", "image/png", "image/webp")
    return FileResponse(path, media_type=str(row["mime"]), headers=headers,
                        filename=data.safe_filename(str(row["filename"])),
                        content_disposition_type="inline" if inline else "attachment")


@router.get("/{case_id}/dossier.pdf", summary="The case dossier (PDF, Vietnamese)",
         response_class=Response)
def get_dossier(request: Request, case_id: CaseId, user: Reader, store: StoreDep) -> Response:
    data.require_case(store, case_id, user)
    pdf = data.dossier_pdf(store, case_id)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{case_id}.pdf"',
        "X-Content-Type-Options": "nosniff"})

