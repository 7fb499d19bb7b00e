"""The inspectors' case pages: ``/cases`` (list with filters and paging) and ``/cases/{id}``
(fields, a small map, history, attachments, the allowed transitions as forms, upload from the
phone's camera, the dossier). Vietnamese by default, English with ``?lang=en``.

Forms post back here with the session's CSRF token; a refused change shows the page again with
the library's message (and the status the API would answer).
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from gis.api.auth.security import Permission, User
from gis.api.cases import service as data
from gis.api.cases.upload import body_limit, read_upload, store_upload, upload_limit
from gis.api.deps import PageWriter, StoreDep, require_page, see_other
from gis.api.errors import message_of, status_of
from gis.api.i18n import lang_of
from gis.api.pages import render
from gis.core.clearance.values import format_number
from gis.core.violations.rules import KINDS
from gis.errors import GisError
from gis.labels import CASE_STATUS_LABELS
from gis.store import Store
from gis.text import N_
from gis.violations import case_detail, update

__all__ = ["router", "PAGE_SIZE"]

CaseReader = Annotated[User, Depends(require_page(Permission.READ, public=False))]
router = APIRouter(prefix="/cases", tags=["cases"], include_in_schema=False)
PAGE_SIZE = 50

#: the notice after a change, by ``?done=``
_DONE = {"transition": N_("The case moved on."), "upload": N_("The file is attached."),
         "note": N_("The note is saved.")}
#: the kinds of attachment an officer picks
_ROLES = {"photo": N_("Site photo"), "document": N_("Document")}

_INPUT_TYPES = {"minutes_date": "date", "decision_date": "date", "conclusion_date": "date",
                "remedy_deadline": "date", "occurred_on": "date", "fine_vnd": "number"}
_PLACEHOLDERS = {"minutes_no": "12/BB-VPHC", "decision_no": "45/QĐ-XPHC",
                 "conclusion_no": "316/KL-STNMT-TTr"}
_SHOWN = ("kind", "status", "source", "area_m2", "unit_code", "ward_code", "parcel_keys", "building_id",
          "year_built", "owner_name", "inspector", "minutes_no", "minutes_date", "decision_no",
          "decision_date", "conclusion_no", "conclusion_date", "fine_vnd", "remedy_deadline",
          "closed_reason", "occurred_on", "evidence", "notes", "overdue", "created_at",
          "updated_at")


def _opt(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


@router.get("", response_class=HTMLResponse)
def cases_page(request: Request, user: CaseReader, store: StoreDep,
               ward: str = "", unit: str = "", kind: str = "", status: str = "",
               overdue: str = "",
               q: Annotated[str, Query(max_length=200)] = "",
               page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    lang = lang_of(request)
    filt = data.CaseFilter(ward=_opt(ward),
                           unit=data.parse_unit(unit) if _opt(unit) else None,
                           kind=data.parse_kind(kind) if _opt(kind) else None,
                           status=data.parse_status(status) if _opt(status) else None,
                           overdue=True if overdue else None, q=_opt(q))
    cases = data.filtered_cases(store, filt, user=user)
    pages = max(1, math.ceil(len(cases) / PAGE_SIZE))
    page = min(page, pages)
    shown = cases.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE].drop(columns="geometry")
    wards = data.ward_names(store)
    units = data.unit_choices(store, user)
    names = {**units, **_unit_names(shown)}
    rows = []
    for r in shown.to_dict("records"):
        rec = data.case_record(r, lang=lang)
        rows.append({**rec, "ward_name": wards.get(str(rec["ward_code"]), rec["ward_code"]),
                     "unit_name": names.get(str(r.get("unit_code")), r.get("unit_code") or ""),
                     "area": _number(rec["area_m2"], lang, 1) if rec["area_m2"] else "",
                     "source_label": data.source_label(rec["source"], lang)})
    params = {k: v for k, v in (("unit", unit), ("ward", ward), ("kind", kind), ("status", status),
                                ("overdue", overdue), ("q", q)) if v}

    def link(n: int) -> str:
        return "/cases?" + urlencode({**params, "page": n})

    return render(request, "cases.html", user=user, rows=rows,
                  total=len(cases), page=page, pages=pages,
                  prev_url=link(page - 1) if page > 1 else None,
                  next_url=link(page + 1) if page < pages else None,
                  wards=wards, units=units,
                  kinds=[(k, data.kind_label(k, lang)) for k in KINDS],
                  statuses=[(s, data.status_label(s, lang)) for s in CASE_STATUS_LABELS],
                  f={"ward": ward, "unit": unit, "kind": kind, "status": status,
                     "overdue": overdue, "q": q})


def _unit_names(cases: Any) -> dict[str, str]:
    """Names of the units the shown cases are in (the national list over the stored units)."""
    if "unit_code" not in cases or not len(cases):
        return {}
    from gis.units import unit_names

    names = unit_names()
    return {str(c): names.get(str(c), str(c)) for c in cases["unit_code"].dropna().unique()}


def _number(value: object, lang: str, decimals: int = 0) -> str:
    if value is None:
        return ""
    number = float(value)  # type: ignore[arg-type]
    return format_number(number, lang, decimals)


def _display(key: str, record: dict[str, Any], lang: str, wards: dict[str, str]) -> str | None:
    value = record.get(key)
    if value in (None, "", []):
        return None
    if key == "kind":
        return data.kind_label(value, lang)
    if key == "status":
        return data.status_label(value, lang)
    if key == "source":
        return data.source_label(value, lang)
    if key == "ward_code":
        return f"{wards.get(str(value), value)} ({value})"
    if key == "unit_code":
        from gis.units import unit_names

        return f"{unit_names().get(str(value), value)} ({value})"
    if key == "parcel_keys":
        return ", ".join(value)
    if key == "area_m2":
        return _number(value, lang, 1) if value else None  # a point has no area
    if key == "fine_vnd":
        return _number(value, lang)
    if key in ("created_at", "updated_at"):
        return data.local_time(value)
    if key in data.DATE_FIELDS:
        return data.local_date(value)
    return str(value)


def _detail(store: Store, case_id: str, lang: str, user: User | None = None) -> dict[str, Any]:
    """Everything the case page shows (read in a worker thread); 403 outside the user's
    units."""
    data.require_case(store, case_id, user)
    record = data.case_payload(store, case_id, lang)
    wards = data.ward_names(store)
    fields = [(key, data.field_label(key, lang), _display(key, record, lang, wards))
              for key in _SHOWN]
    case, _ = case_detail(store, case_id)
    parcels = data.nearby_parcels(store, case["geometry"])
    geoms = data.to_wgs84(parcels.geometry.values, parcels.crs) if len(parcels) else \
        np.array([])
    parcel_features = [{"type": "Feature", "geometry": data.rounded_geometry(g),
                        "properties": {"parcel_key": k, "land_use": u if isinstance(u, str)
                                       else None}}
                       for g, k, u in zip(geoms, parcels["parcel_key"], parcels["land_use"])
                       if g is not None]
    transitions = [{"to": to, "label": data.status_label(to, lang),
                    "fields": [{"name": f, "label": data.field_label(f, lang), "required": req,
                                "type": _INPUT_TYPES.get(f, "text"),
                                "placeholder": _PLACEHOLDERS.get(f, "")}
                               for f, req in data.TRANSITION_FIELDS.get(to, ())]}
                   for to in data.allowed_transitions(record["status"])]
    return {"case": record, "fields": [f for f in fields if f[2] is not None],
            "transitions": transitions,
            "map_data": {"case": record["geometry"],
                         "parcels": {"type": "FeatureCollection", "features": parcel_features}}}


def _render_detail(request: Request, user: User, values: dict[str, Any], *,
                   error: str | None = None, status_code: int = 200) -> HTMLResponse:
    done = request.query_params.get("done")
    limit_mb = upload_limit(request) / (1024 * 1024)
    return render(request, "case.html", user=user, error=error,
                  done=_DONE.get(done or ""), roles=_ROLES,
                  can_write=user.can(Permission.WRITE), limit_mb=f"{limit_mb:g}",
                  status_code=status_code, **values)


@router.get("/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, user: CaseReader, store: StoreDep) -> HTMLResponse:
    values = _detail(store, case_id, lang_of(request), user)
    return _render_detail(request, user, values)


async def _after_write(request: Request, user: User, store: Store, case_id: str, work: Any,
                       done: str) -> Response:
    """Run a change; on success back to the page (303), else the page with the message."""
    lang = lang_of(request)
    await run_in_threadpool(data.require_case, store, case_id, user)
    try:
        await work(store)
    except (GisError, HTTPException) as exc:
        if isinstance(exc, HTTPException) and exc.status_code in (401, 403):
            raise
        values = await run_in_threadpool(_detail, store, case_id, lang)
        return _render_detail(request, user, values, error=message_of(exc),
                              status_code=status_of(exc))
    return see_other(f"/cases/{case_id}?done={done}")


def _form_body(form: Any) -> dict[str, Any]:
    return {k: v.strip() for k, v in form.items()
            if k != "csrf_token" and isinstance(v, str) and v.strip()}


@router.post("/{case_id}/transition")
async def transition_form(request: Request, case_id: str, user: PageWriter,
                          store: StoreDep) -> Response:
    form = await request.form()

    async def work(store: Store) -> None:
        def run() -> None:
            changes, note = data.transition_changes(_form_body(form))
            update(store, case_id, changes, who=user.name, note=note)
        await run_in_threadpool(run)

    return await _after_write(request, user, store, case_id, work, "transition")


@router.post("/{case_id}/note")
async def note_form(request: Request, case_id: str, user: PageWriter,
                    store: StoreDep) -> Response:
    form = await request.form()

    async def work(store: Store) -> None:
        def run() -> None:
            note = str(form.get("note") or "").strip()
            if not note:
                raise GisError("write the note first", field="note")
            update(store, case_id, {}, who=user.name, note=note)
        await run_in_threadpool(run)

    return await _after_write(request, user, store, case_id, work, "note")


@router.post("/{case_id}/attachments", dependencies=[Depends(body_limit)])
async def upload_form(request: Request, case_id: str, user: PageWriter,
                      store: StoreDep) -> Response:
    async def work(store: Store) -> None:
        upload = await read_upload(request)
        await run_in_threadpool(store_upload, store, case_id, upload, who=user.name,
                                limit=upload_limit(request))

    return await _after_write(request, user, store, case_id, work, "upload")
