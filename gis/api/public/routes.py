"""The residents' page (trang thông tin công khai): confirmed violations and project clearance
progress, read-only, without signing in, and only when an administrator turns it on
(``GIS_RESIDENTS_PAGE=true``; otherwise every address here answers 404).

Nothing personal leaves through it. Cases are published by an allow-list of fields (case
number, kind, status, ward, dates, area) and a representative point of the place, never the
owner's name, notes, inspector, evidence, parcel numbers, documents or attachments; projects by
their progress figures (parcels, area, percentages), never households or amounts.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from gis.api.cases import service as data
from gis.api.deps import context, store_of
from gis.api.i18n import lang_of
from gis.api.pages import render
from gis.core.clearance.values import format_number
from gis.errors import NotFoundError

__all__ = ["router", "CONFIRMED_EXCLUDED", "CASE_FIELDS", "PROJECT_FIELDS", "public_cases",
           "public_projects"]

router = APIRouter(prefix="/public", tags=["residents"])

#: statuses that are not (yet) a confirmed violation: detected by overlay or reported, being
#: verified, or found not to be a violation
CONFIRMED_EXCLUDED = frozenset({"DETECTED", "VERIFYING", "DISMISSED"})
#: what a resident sees of a case (allow-list)
CASE_FIELDS = ("case_id", "kind", "kind_label", "status", "status_label", "ward_code",
               "ward_name", "recorded_on", "updated_on", "area_m2")
#: what a resident sees of a project (allow-list: no households, no money)
PROJECT_FIELDS = ("project_id", "name", "ward_codes", "ward_names", "key_project", "start_year",
                  "planned_area_ha", "parcels_affected", "parcels_handed_over",
                  "parcels_not_started", "area_affected_ha", "area_recovered_ha",
                  "pct_area_recovered", "pct_plans_approved", "completed", "as_of")
_CACHE = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}



def residents_enabled(request: Request) -> None:
    """404 unless the administrator published the residents' page."""
    if not context(request).service.residents_page:
        raise NotFoundError("not found")


Enabled = Depends(residents_enabled)


def public_cases(store: Any, *, ward: str | None = None, lang: str = "vi"
                 ) -> tuple[list[dict[str, object]], np.ndarray]:
    """Confirmed cases as allow-listed records, and a point (WGS 84) for each."""
    cases = data.filtered_cases(store, data.CaseFilter(ward=ward or None))
    cases = cases[~cases["status"].isin(CONFIRMED_EXCLUDED)]
    wards = data.ward_names(store)
    points = shapely.point_on_surface(cases.geometry.values) if len(cases) else np.array([])
    points = data.to_wgs84(points, cases.crs) if len(points) else points
    records = []
    for r in cases.drop(columns="geometry").to_dict("records"):
        area = r.get("area_m2")
        records.append({
            "case_id": r["case_id"], "kind": r["kind"], "kind_label": data.kind_label(r["kind"], lang),
            "status": r["status"], "status_label": data.status_label(r["status"], lang),
            "ward_code": r["ward_code"], "ward_name": wards.get(str(r["ward_code"]), ""),
            "recorded_on": _day(r.get("created_at")), "updated_on": _day(r.get("updated_at")),
            "area_m2": None if area is None or pd.isna(area) else round(float(area), 1)})
    return [{k: rec[k] for k in CASE_FIELDS} for rec in records], points


def _day(value: object) -> str | None:
    text = data.local_date(value)
    if not text:
        return None
    d, m, y = text.split("/")
    return f"{y}-{m}-{d}"


def public_projects(store: Any) -> list[dict[str, object]]:
    """Clearance progress per project from ``clearance_projects`` (written by `gis clearance
    report`), allow-listed; empty before the first report."""
    if not store.has("clearance_projects"):
        return []
    table = store.read_table("clearance_projects")
    wards = data.ward_names(store)
    out = []
    for r in table.drop(columns="geometry", errors="ignore").to_dict("records"):
        codes = [c for c in str(r.get("ward_codes") or "").split(",") if c]
        rec = {k: data.json_value(r.get(k)) for k in PROJECT_FIELDS}
        rec.update(ward_codes=codes, ward_names=[wards.get(c, c) for c in codes],
                   area_affected_ha=_ha(r.get("area_affected_m2")),
                   area_recovered_ha=_ha(r.get("area_recovered_m2")))
        for key in ("pct_area_recovered", "pct_plans_approved"):
            rec[key] = None if rec[key] is None else round(float(rec[key]), 1)  # type: ignore[arg-type]
        out.append({k: rec.get(k) for k in PROJECT_FIELDS})
    return sorted(out, key=lambda p: str(p["project_id"]))


def _ha(value: object) -> float | None:
    clean = data.json_value(value)
    return None if clean is None else round(float(clean) / 10_000, 3)  # type: ignore[arg-type]


def _features(records: list[dict[str, object]], points: np.ndarray) -> dict[str, object]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": rec["case_id"],
         "geometry": {"type": "Point", "coordinates": [round(p.x, 5), round(p.y, 5)]},
         "properties": rec} for rec, p in zip(records, points)]}


@router.get("/violations.geojson", dependencies=[Enabled],
            summary="Verified violations (no personal data), GeoJSON points in WGS 84")
def violations_geojson(request: Request,
                       ward: Annotated[str | None, Query(max_length=10)] = None) -> JSONResponse:
    records, points = public_cases(store_of(context(request)), ward=ward, lang=lang_of(request))
    return JSONResponse(_features(records, points), media_type="application/geo+json",
                        headers=_CACHE)


@router.get("/projects.json", dependencies=[Enabled],
            summary="Clearance progress per project (no household data)")
def projects_json(request: Request) -> JSONResponse:
    projects = public_projects(store_of(context(request)))
    as_of = next((p["as_of"] for p in projects if p.get("as_of")), None)
    return JSONResponse({"as_of": as_of, "projects": projects}, headers=_CACHE)


def _outlines(store: Any, layer: str, columns: list[str]) -> dict[str, object]:
    """Simplified outlines (5 m) in WGS 84 for the page's map."""
    if not store.has(layer):
        return {"type": "FeatureCollection", "features": []}
    frame = store.read(layer, columns=columns)
    geoms = data.to_wgs84(shapely.simplify(frame.geometry.values, 5.0), frame.crs)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": data.rounded_geometry(g),
         "properties": {c: data.json_value(v) for c, v in zip(columns, vals)}}
        for g, *vals in zip(geoms, *(frame[c] for c in columns)) if g is not None]}


@router.get("", response_class=HTMLResponse, include_in_schema=False, dependencies=[Enabled])
def public_page(request: Request, ward: Annotated[str, Query(max_length=10)] = "") -> HTMLResponse:
    lang = lang_of(request)
    store = store_of(context(request))
    records, points = public_cases(store, ward=ward or None, lang=lang)
    projects = public_projects(store)
    for p in projects:
        p["recovered_text"] = _number(p["area_recovered_ha"], lang, 2)
        p["affected_text"] = _number(p["area_affected_ha"], lang, 2)
        p["pct_text"] = _number(p["pct_area_recovered"] or 0, lang, 1)
        p["plans_text"] = _number(p["pct_plans_approved"] or 0, lang, 1)
    progress = {str(p["project_id"]): p["pct_area_recovered"] for p in projects}
    map_data = {"cases": _features(records, points),
                "wards": _outlines(store, "wards", ["ward_code", "name"]),
                "projects": _outlines(store, "clearance_projects", ["project_id", "name"])
                if projects else {"type": "FeatureCollection", "features": []},
                "progress": progress}
    shown = [dict(r) for r in records[:500]]
    for rec in shown:
        rec["area_text"] = _number(rec["area_m2"], lang, 1)
        rec["recorded_text"] = data.local_date(rec["recorded_on"])
        rec["updated_text"] = data.local_date(rec["updated_on"])
    response = render(request, "public.html", user=None, cases=shown,
                      total=len(records), projects=projects, wards=data.ward_names(store),
                      ward=ward, map_data=map_data,
                      as_of=data.local_date(next((p["as_of"] for p in projects if p["as_of"]),
                                                 None)))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _number(value: object, lang: str, decimals: int) -> str:
    if not isinstance(value, (int, float)):
        return ""
    return format_number(float(value), lang, decimals)
