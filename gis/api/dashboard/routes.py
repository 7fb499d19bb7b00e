"""The land officers' dashboard: clearance progress per project and ward, the district summary,
violation counts, charts, and an Excel workbook per table; and ``GET /api/clearance/progress``.

Figures are those of ``gis clearance report`` on the same store (the same function, never
written back by a GET), optionally as known on ``as_of`` and for one ``project``; they are
computed by :mod:`gis.api.dashboard.service`.
"""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from gis.api.dashboard import service
from gis.api.deps import PageReader, Reader, StoreDep
from gis.api.exports.dashboard import CHARTS, clearance_tables, violation_tables
from gis.api.i18n import lang_of
from gis.text import N_, gettext

__all__ = ["router", "pages"]

router = APIRouter(prefix="/api/clearance", tags=["clearance"])
pages = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)

_AS_OF = Annotated[str | None, Query(description="figures as known on this day (YYYY-MM-DD or "
                                                 "dd/mm/yyyy; default today)")]
_PROJECT = Annotated[str | None, Query(description="one project id (e.g. DA-001)")]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/progress", summary="Clearance progress per project, ward and district")
def clearance_progress(request: Request, user: Reader, store: StoreDep, as_of: _AS_OF = None,
                       project: _PROJECT = None) -> Response:
    """The JSON of ``gis clearance report --format json``: ``as_of``, ``projects``, ``wards``,
    ``district``, ``summary`` (``vi``, ``en``), ``overlay``, ``problems``,
    ``rows_outside_project``."""
    run = service.clearance_figures(request.app.state, store, as_of, project, user.units)
    body = json.dumps(run.to_dict(), ensure_ascii=False, default=str)
    return Response(body, media_type="application/json")


#: the labels of the key figures and the charts (the figures pick them by key)
_LABELS: dict[str, str] = {
    "k_projects": N_("projects"), "k_parcels": N_("parcels affected"),
    "k_handed": N_("parcels handed over"), "k_area": N_("ha recovered"),
    "k_plans": N_("plans approved"), "k_paid": N_("bn VND paid"), "k_cases": N_("cases"),
    "k_open": N_("open"), "k_overdue": N_("overdue"),
    "chart_projects": N_("Progress by project"), "chart_wards": N_("Area by ward"),
    "chart_violations": N_("Cases by kind and status"),
}
_MAX_ROWS = 100  # a long table (problems of a large district) is shown in part, all in Excel


@pages.get("", response_class=HTMLResponse)
def dashboard_page(request: Request, user: PageReader, store: StoreDep, as_of: str | None = None,
                   project: str | None = None) -> HTMLResponse:
    from gis.api.pages import render
    from gis.core.clearance.values import format_number
    from gis.core.violations.summary import counts

    lang = lang_of(request)
    run = service.clearance_figures(request.app.state, store, as_of, project, user.units)
    progress = run.progress
    cases, wards = service.violations(store, user.units)
    count = counts(cases)
    query = {k: v for k, v in (("as_of", as_of), ("project", project)) if v}
    suffix = f"?{urlencode(query)}" if query else ""
    d = progress.district

    def n(value: float, places: int = 0) -> str:
        return format_number(value, lang, places)

    kpis = [(n(d["projects_total"]), "k_projects"), (n(d["parcels_affected"]), "k_parcels"),
            (n(d["parcels_handed_over"]), "k_handed"),
            (f"{n(d['area_recovered_m2'] / 1e4, 2)} / {n(d['area_affected_m2'] / 1e4, 2)}",
             "k_area"),
            (f"{n(d['plans_approved'])} / {n(d['plans_total'])}", "k_plans"),
            (n(d["compensation_paid_vnd"] / 1e9, 2), "k_paid")]
    case_kpis = [(n(count["cases"]), "k_cases"), (n(count["open"]), "k_open"),
                 (n(count["overdue"]), "k_overdue")]
    from gis.api.exports.clearance import project_ids

    return render(request, "dashboard.html", user=user,
                  labels={k: gettext(v, lang) for k, v in _LABELS.items()},
                  as_of=progress.as_of, as_of_text=progress.as_of.strftime("%d/%m/%Y"),
                  project=project or "", projects=project_ids(store),
                  summary=run.summary[lang], kpis=kpis, case_kpis=case_kpis,
                  tables=clearance_tables(progress, lang),
                  violation_tables=violation_tables(cases, wards, lang),
                  charts=CHARTS, suffix=suffix, max_rows=_MAX_ROWS)


@pages.get("/charts/{name}.png")
def dashboard_chart(request: Request, user: Reader, store: StoreDep, name: str,
                    as_of: str | None = None, project: str | None = None) -> Response:
    service.known_chart(name)  # before the figures are computed
    run = service.clearance_figures(request.app.state, store, as_of, project, user.units)
    png = service.chart(request.app.state, store, run, name, project=project,
                        lang=lang_of(request), units=user.units)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


@pages.get("/{table}.xlsx")
def dashboard_xlsx(request: Request, user: Reader, store: StoreDep, table: str,
                   as_of: str | None = None, project: str | None = None) -> Response:
    service.known_table(table)  # before the figures are computed
    run = service.clearance_figures(request.app.state, store, as_of, project, user.units)
    body, name = service.workbook(store, run, table, project=project, lang=lang_of(request),
                                  units=user.units)
    return Response(body, media_type=_XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
