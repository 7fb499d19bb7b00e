"""Administrators: upload a zipped shapefile, GeoPackage or clearance sheet, read the validation
report, then commit it to the store or discard it; the ingest log says who loaded what.

Pages under ``/admin/uploads``, the same for scripts under ``/api/uploads`` (multipart field
``file`` with ``kind`` and the ``gis ingest`` options). Everything needs the admin role. The
upload's own files are handled by :mod:`gis.api.admin.uploads`, validation and commit by
:mod:`gis.api.admin.ingest` (the library's ``prepare_*``/``ingest_*``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from gis.api.admin import ingest as admin_ingest
from gis.api.admin.uploads import KINDS, Upload, UploadOptions, Uploads
from gis.api.auth.security import User
from gis.api.deps import Admin, StoreDep, context, see_other
from gis.api.deps import PageAdmin as AdminPage
from gis.api.errors import status_of
from gis.api.i18n import lang_of, translator_of
from gis.api.scope import require_record, sees_record
from gis.core.clearance.values import format_number
from gis.errors import GisError
from gis.store import Store
from gis.text import N_, NC_, Text

__all__ = ["router", "pages"]

router = APIRouter(prefix="/api/uploads", tags=["uploads"])
pages = APIRouter(prefix="/admin/uploads", tags=["uploads"], include_in_schema=False)
UploadId = Annotated[str, Path(description="upload id (16 hex digits)")]
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
_MULTIPART_SLACK = 64 * 1024  # boundaries and the option fields around the file

KIND_TEXTS: dict[str, Text] = {
    "parcels": N_("Parcels"),
    "projects": NC_("admin", "Projects"),
    "buildings": NC_("admin", "Buildings"),
    "wards": NC_("admin", "Wards"),
    "units": NC_("admin kind", "Commune-level units (2025)"),
    "clearance": N_("Clearance sheet"),
}


# -- shared steps ----------------------------------------------------------------------------
def _uploads(request: Request) -> Uploads:
    return Uploads(context(request).storage.data_dir / "uploads")


def _limit_bytes(request: Request) -> int:
    return context(request).service.max_upload_mb * 2**20


async def body_limit(request: Request) -> None:
    """413 before anything is read when the declared body is over the limit."""
    declared = request.headers.get("content-length")
    limit = _limit_bytes(request)
    if declared and declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
        raise HTTPException(413, f"the upload is {int(declared) / 2**20:.1f} MB, over the limit "
                                 f"of {limit // 2**20} MB (GIS_MAX_UPLOAD_MB)")


async def _receive(request: Request, user: User, store: Store) -> Upload:
    """Store the posted file, validate it against the store, keep the report. Refusals delete
    the upload and raise HTTPException with a message free of server paths."""
    form = await request.form(max_files=1, max_fields=40)
    file = form.get("file")
    kind = str(form.get("kind") or "").strip()
    if not isinstance(file, UploadFile):
        raise HTTPException(422, "choose a file to upload (multipart field 'file')")
    if kind not in KINDS:
        raise HTTPException(422, f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    try:
        return await run_in_threadpool(
            admin_ingest.receive, context(request), store, _uploads(request), file.file,
            file.filename, kind, {k: form.get(k) for k in UploadOptions.__dataclass_fields__},
            who=user.name, limit_bytes=_limit_bytes(request), units=user.units)
    except GisError as exc:
        raise HTTPException(status_of(exc), str(exc)) from None


async def _commit(request: Request, upload_id: str, user: User, store: Store) -> Upload:
    uploads = _uploads(request)
    known = _get(request, upload_id, user)
    try:
        return await run_in_threadpool(admin_ingest.commit_pending, context(request), store,
                                       uploads, upload_id, who=user.name, units=user.units)
    except GisError as exc:
        refused = HTTPException(status_of(exc), uploads.scrub(str(exc), known))
        report = getattr(exc, "report", None)
        if report is not None and hasattr(report, "to_dict"):
            # a sheet with no loadable row: the per-row report comes back with the 422
            plain = json.loads(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
            refused.report = admin_ingest._scrubbed(plain, uploads, known)  # type: ignore[attr-defined]
        raise refused from None


def _discard(request: Request, upload_id: str, user: User) -> Upload:
    _get(request, upload_id, user)
    try:
        return _uploads(request).discard(upload_id)
    except GisError as exc:
        raise HTTPException(status_of(exc), str(exc)) from None


def _get(request: Request, upload_id: str, user: User) -> Upload:
    """An upload the user sees (403 for one of another unit, as a case or an extract)."""
    try:
        upload = _uploads(request).get(upload_id)
    except GisError as exc:
        raise HTTPException(status_of(exc), str(exc)) from None
    require_record(user, upload.uploaded_by, upload.units, f"upload {upload_id}")
    return upload


def _visible(request: Request, user: User) -> list[Upload]:
    """The uploads the user sees, newest first: all for the province department; an officer's
    own and those touching only their units (:func:`gis.api.scope.sees_record`)."""
    return [u for u in _uploads(request).list() if sees_record(user, u.uploaded_by, u.units)]


# -- JSON for scripts ------------------------------------------------------------------------
@router.get("/log", summary="The ingest log, newest first: who loaded what, when, with counts")
def ingest_log(request: Request, user: Admin, store: StoreDep) -> list[dict[str, Any]]:
    """Of an officer's units: their own lines and those touching only their units."""
    return admin_ingest.log_rows(store, _uploads(request), limit=1000, user=user)


@router.get("", summary="Uploads, newest first (pending and committed)")
def list_uploads(request: Request, user: Admin) -> list[dict[str, Any]]:
    """Of an officer's units: their own uploads and those touching only their units."""
    return [u.public() for u in _visible(request, user)]


@router.post("", status_code=201, dependencies=[Depends(body_limit)],
          summary="Upload a file (multipart: file, kind, options); answers the validation report",
          openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
              "type": "object", "required": ["file", "kind"], "properties": {
                  "file": {"type": "string", "format": "binary"},
                  "kind": {"type": "string", "enum": list(KINDS)},
                  **{name: {"type": "boolean" if name in ("replace_all", "strict") else "string"}
                     for name in UploadOptions.__dataclass_fields__}}}}}}})
async def create_upload(request: Request, user: Admin, store: StoreDep) -> JSONResponse:
    upload = await _receive(request, user, store)
    body = {**upload.public(), "report": _uploads(request).report(upload)}
    return JSONResponse(body, status_code=201,
                        headers={"Location": f"/api/uploads/{upload.id}"})


@router.get("/{upload_id}", summary="An upload and its validation report")
def get_upload(request: Request, upload_id: UploadId, user: Admin) -> dict[str, Any]:
    upload = _get(request, upload_id, user)
    return {**upload.public(), "report": _uploads(request).report(upload)}


@router.post("/{upload_id}/commit", summary="Load the upload into the store (ingest log: you)")
async def commit_upload(request: Request, upload_id: UploadId, user: Admin,
                        store: StoreDep) -> dict[str, Any]:
    upload = await _commit(request, upload_id, user, store)
    return upload.public()


@router.delete("/{upload_id}", status_code=204, summary="Discard a pending upload (its files go)")
def delete_upload(request: Request, upload_id: UploadId, user: Admin) -> Response:
    _discard(request, upload_id, user)
    return Response(status_code=204)


# -- pages -----------------------------------------------------------------------------------
def local_time(value: object) -> str:
    """An ISO time as dd/mm/yyyy HH:MM in Vietnam."""
    try:
        stamp = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return str(value or "")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")


def size_text(n: int, lang: str) -> str:
    if n >= 2**20:
        return f"{format_number(n / 2**20, lang, 1)} MB"
    return f"{n / 1024:.0f} KB"


def _render(request: Request, template: str, user: User, status_code: int = 200,
            **values: Any) -> HTMLResponse:
    from gis.api.pages import render

    _ = translator_of(request)
    labels = {"kinds": {k: _.text(v) for k, v in KIND_TEXTS.items()},
              "rules": {k: _.text(v) for k, v in admin_ingest.RULES.items()},
              "severities": {k: _.text(v) for k, v in admin_ingest.SEVERITIES.items()},
              "how": {k: _.text(v) for k, v in admin_ingest.HOW.items()}}
    return render(request, template, user=user, status_code=status_code,
                  labels=labels, local_time=local_time,
                  size_text=lambda n: size_text(int(n), lang_of(request)), **values)


def _uploads_page(request: Request, user: User, store: Store, *, error: str | None = None,
                  status_code: int = 200, kind: str = "parcels") -> HTMLResponse:
    uploads = _uploads(request)
    ctx = context(request)
    return _render(request, "uploads.html", user, status_code=status_code, error=error,
                   pending=[u for u in _visible(request, user) if u.state == "pending"],
                   log=admin_ingest.log_rows(store, uploads, user=user), kind=kind,
                   # an officer loads parcels and clearance sheets of their units only
                   kinds=KINDS if user.units is None else ("parcels", "clearance"),
                   limit_mb=ctx.service.max_upload_mb)


@pages.get("", response_class=HTMLResponse)
def uploads_page(request: Request, user: AdminPage, store: StoreDep) -> HTMLResponse:
    return _uploads_page(request, user, store)


@pages.post("", dependencies=[Depends(body_limit)], response_class=HTMLResponse)
async def upload_form(request: Request, user: AdminPage, store: StoreDep) -> Response:
    try:
        upload = await _receive(request, user, store)
    except HTTPException as exc:
        form = await request.form()
        kind = str(form.get("kind") or "parcels")
        return await run_in_threadpool(_uploads_page, request, user, store, error=str(exc.detail),
                                       status_code=exc.status_code,
                                       kind=kind if kind in KINDS else "parcels")
    return see_other(f"/admin/uploads/{upload.id}")


@pages.get("/{upload_id}", response_class=HTMLResponse)
def upload_page(request: Request, upload_id: UploadId, user: AdminPage) -> HTMLResponse:
    upload = _get(request, upload_id, user)
    return _render(request, "upload.html", user, upload=upload,
                   report=_uploads(request).report(upload))


@pages.post("/{upload_id}/commit")
async def commit_form(request: Request, upload_id: UploadId, user: AdminPage,
                      store: StoreDep) -> Response:
    await _commit(request, upload_id, user, store)
    return see_other(f"/admin/uploads/{upload_id}")


@pages.post("/{upload_id}/discard")
def discard_form(request: Request, upload_id: UploadId, user: AdminPage) -> Response:
    _discard(request, upload_id, user)
    return see_other("/admin/uploads")

