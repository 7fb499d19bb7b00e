"""The residents' page (trang thông tin công khai): confirmed violations and project clearance
progress, read-only, without signing in, and only when an administrator turns it on
(``GIS_RESIDENTS_PAGE=true``; otherwise every address here answers 404).

Nothing personal leaves through it. Cases are published by an allow-list of fields (case
number, kind, status, ward, dates, area) and a representative point of the place, never the
owner's name, notes, inspector, evidence, parcel numbers, documents or attachments; projects by
their progress figures (parcels, area, percentages), never households or amounts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from gis.api.cases import service as data
from gis.api.deps import StoreDep, context
from gis.api.i18n import lang_of
from gis.api.pages import render
from gis.api.public import service
from gis.core.clearance.values import format_number
from gis.errors import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/public", tags=["residents"])

_CACHE = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}



def residents_enabled(request: Request) -> None:
    """404 unless the administrator published the residents' page."""
    if not context(request).service.residents_page:
        raise NotFoundError("not found")


Enabled = Depends(residents_enabled)


@router.get("/violations.geojson", dependencies=[Enabled],
            summary="Verified violations (no personal data), GeoJSON points in WGS 84")
def violations_geojson(request: Request, store: StoreDep,
                       ward: Annotated[str | None, Query(max_length=10)] = None,
                       unit: Annotated[str | None, Query(max_length=10, description=
                                                         "one 2025 unit code")] = None
                       ) -> JSONResponse:
    records, points = service.public_cases(store, ward=ward, lang=lang_of(request),
                                           scope=service.unit_scope(unit, store))
    return JSONResponse(service.features(records, points), media_type="application/geo+json",
                        headers=_CACHE)


@router.get("/projects.json", dependencies=[Enabled],
            summary="Clearance progress per project (no household data)")
def projects_json(store: StoreDep,
                  unit: Annotated[str | None, Query(max_length=10, description=
                                                    "one 2025 unit code")] = None
                  ) -> JSONResponse:
    projects = service.public_projects(store, service.unit_scope(unit, store))
    as_of = next((p["as_of"] for p in projects if p.get("as_of")), None)
    return JSONResponse({"as_of": as_of, "projects": projects}, headers=_CACHE)


@router.get("", response_class=HTMLResponse, include_in_schema=False, dependencies=[Enabled])
def public_page(request: Request, store: StoreDep,
                ward: Annotated[str, Query(max_length=10)] = "",
                unit: Annotated[str, Query(max_length=10)] = "") -> HTMLResponse:
    lang = lang_of(request)
    scope = service.unit_scope(unit, store)
    records, points = service.public_cases(store, ward=ward or None, lang=lang, scope=scope)
    projects = service.public_projects(store, scope)
    for p in projects:
        p["recovered_text"] = _number(p["area_recovered_ha"], lang, 2)
        p["affected_text"] = _number(p["area_affected_ha"], lang, 2)
        p["pct_text"] = _number(p["pct_area_recovered"] or 0, lang, 1)
        p["plans_text"] = _number(p["pct_plans_approved"] or 0, lang, 1)
    progress = {str(p["project_id"]): p["pct_area_recovered"] for p in projects}
    map_data = {"cases": service.features(records, points),
                "wards": service.outlines(store, "wards", ["ward_code", "name"], scope),
                "projects": service.outlines(store, "clearance_projects", ["project_id", "name"],
                                             scope)
                if projects else {"type": "FeatureCollection", "features": []},
                "progress": progress}
    shown = [dict(r) for r in records[:500]]
    for rec in shown:
        rec["area_text"] = _number(rec["area_m2"], lang, 1)
        rec["recorded_text"] = data.local_date(rec["recorded_on"])
        rec["updated_text"] = data.local_date(rec["updated_on"])
    response = render(request, "public.html", user=None, cases=shown,
                      total=len(records), projects=projects, wards=data.ward_names(store),
                      ward=ward, map_data=map_data, unit=",".join(scope.units or ()) if scope else "",
                      unit_title=service.unit_title(scope),
                      as_of=data.local_date(next((p["as_of"] for p in projects if p["as_of"]),
                                                 None)))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _number(value: object, lang: str, decimals: int) -> str:
    if not isinstance(value, (int, float)):
        return ""
    return format_number(float(value), lang, decimals)
