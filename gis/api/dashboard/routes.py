"""The land officers' dashboard: clearance progress per project and ward, the district summary,
violation counts, charts, and an Excel workbook per table; and ``GET /api/clearance/progress``.

Figures are those of ``gis clearance report`` on the same store (the same function, never
written back by a GET), optionally as known on ``as_of`` and for one ``project``.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from gis.api.auth.security import Permission, User
from gis.api.deps import context, require, require_page, store_of
from gis.api.exports.clearance import cached, clearance_run, parse_day, store_version
from gis.api.exports.dashboard import (
    CHARTS,
    CLEARANCE_TABLES,
    TABLES,
    chart_png,
    clearance_tables,
    table_xlsx,
    violation_tables,
)
from gis.api.i18n import lang_of
from gis.errors import NotFoundError
from gis.text import N_, gettext

__all__ = ["router"]

router = APIRouter()

_AS_OF = Annotated[str | None, Query(description="figures as known on this day (YYYY-MM-DD or "
                                                 "dd/mm/yyyy; default today)")]
_PROJECT = Annotated[str | None, Query(description="one project id (e.g. DA-001)")]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _run(request: Request, as_of: str | None, project: str | None):  # type: ignore[no-untyped-def]
    store = store_of(context(request))
    for needed in ("parcels", "projects"):
        if not store.has(needed):
            raise NotFoundError(f"the store has no {needed} layer yet: no clearance figures",
                                layer=needed)
    run = clearance_run(request.app.state, store, as_of=parse_day(as_of),
                        project=(project or "").strip() or None)
    return store, run


@router.get("/api/clearance/progress", tags=["clearance"],
            summary="Clearance progress per project, ward and district")
def clearance_progress(request: Request, as_of: _AS_OF = None, project: _PROJECT = None,
                       user: User = Depends(require(Permission.READ))) -> Response:
    """The JSON of ``gis clearance report --format json``: ``as_of``, ``projects``, ``wards``,
    ``district``, ``summary`` (``vi``, ``en``), ``overlay``, ``problems``,
    ``rows_outside_project``."""
    _, run = _run(request, as_of, project)
    body = json.dumps(run.to_dict(), ensure_ascii=False, default=str)
    return Response(body, media_type="application/json")


def _violations(store: Any) -> tuple[Any, Any]:
    from gis.violations import list_cases

    wards = store.read("wards") if store.has("wards") else None
    return list_cases(store), wards


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


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, as_of: str | None = None, project: str | None = None,
                   user: User = Depends(require_page(Permission.READ))) -> HTMLResponse:
    from gis.api.pages import render
    from gis.core.clearance.values import format_number
    from gis.core.violations.summary import counts

    lang = lang_of(request)
    store, run = _run(request, as_of, project)
    progress = run.progress
    cases, wards = _violations(store)
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


@router.get("/dashboard/charts/{name}.png", include_in_schema=False)
def dashboard_chart(request: Request, name: str, as_of: str | None = None,
                    project: str | None = None,
                    user: User = Depends(require(Permission.READ))) -> Response:
    if name not in CHARTS:
        raise NotFoundError(f"no chart {name!r}; charts: {', '.join(CHARTS)}", field="name",
                            value=name)
    lang = lang_of(request)
    store, run = _run(request, as_of, project)

    def draw() -> dict[str, bytes]:
        if name == "violations":
            return {name: chart_png(name, cases=_violations(store)[0], lang=lang)}
        return chart_png("clearance", progress=run.progress, lang=lang)

    group = "violations" if name == "violations" else "clearance"  # drawn together
    key = ("chart", group, str(store.path), store_version(Path(store.path)),
           run.progress.as_of.isoformat(), project, lang, dt.date.today().isoformat())
    png = cached(request.app.state, key, draw)[name]
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


@router.get("/dashboard/{table}.xlsx", include_in_schema=False)
def dashboard_xlsx(request: Request, table: str, as_of: str | None = None,
                   project: str | None = None,
                   user: User = Depends(require(Permission.READ))) -> Response:
    if table not in TABLES and table != "clearance":
        raise NotFoundError(f"no table {table!r}; tables: clearance, {', '.join(TABLES)}",
                            field="table", value=table)
    lang = lang_of(request)
    store, run = _run(request, as_of, project)
    day = run.progress.as_of.isoformat()
    with tempfile.TemporaryDirectory(prefix="gis-xlsx-") as tmp:
        out = Path(tmp) / "table.xlsx"
        if table == "clearance":
            from gis.report.clearance import write_xlsx

            write_xlsx(run.progress, out, lang=lang, summary=run.summary[lang])
        elif table in CLEARANCE_TABLES:
            chosen = next(t for t in clearance_tables(run.progress, lang) if t.name == table)
            table_xlsx(chosen, out, progress=run.progress, summary=run.summary[lang], lang=lang)
        else:
            cases, wards = _violations(store)
            chosen = next(t for t in violation_tables(cases, wards, lang) if t.name == table)
            table_xlsx(chosen, out, lang=lang)
        body = out.read_bytes()
    scope = f"_{project}" if project else ""
    name = f"{'gpmb' if table in CLEARANCE_TABLES or table == 'clearance' else 'vi-pham'}_" \
           f"{table}{scope}_{day}.xlsx"
    name = "".join(c if c.isalnum() or c in "._-" else "-" for c in name)
    return Response(body, media_type=_XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
