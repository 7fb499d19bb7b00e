"""The dashboard's figures, charts and workbooks, apart from HTTP: clearance figures of
:func:`gis.clearance.run_clearance` (never written back by a GET, cached per store version),
violation counts, and the drawings and Excel files made of them."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gis.api.exports.clearance import cached, clearance_run, parse_day
from gis.api.exports.dashboard import (
    CHARTS,
    CLEARANCE_TABLES,
    TABLES,
    chart_png,
    clearance_tables,
    table_xlsx,
    violation_tables,
)
from gis.errors import NotFoundError
from gis.store import Store

__all__ = ["clearance_figures", "violations", "chart", "workbook", "known_chart",
           "known_table"]


def known_chart(name: str) -> str:
    """``name`` if the dashboard draws such a chart (404 otherwise)."""
    if name not in CHARTS:
        raise NotFoundError(f"no chart {name!r}; charts: {', '.join(CHARTS)}", field="name",
                            value=name)
    return name


def known_table(table: str) -> str:
    """``table`` if the dashboard has such a table (404 otherwise)."""
    if table not in TABLES and table != "clearance":
        raise NotFoundError(f"no table {table!r}; tables: clearance, {', '.join(TABLES)}",
                            field="table", value=table)
    return table


def clearance_figures(state: Any, store: Store, as_of: str | None, project: str | None,
                      units: tuple[str, ...] | None = None) -> Any:
    """The clearance run (progress, summary) as known on ``as_of`` (text: YYYY-MM-DD or
    dd/mm/yyyy; default today), for one ``project`` or all; 404 before parcels and projects
    are loaded."""
    for needed in ("parcels", "projects"):
        if not store.has(needed):
            raise NotFoundError(f"the store has no {needed} layer yet: no clearance figures",
                                layer=needed)
    return clearance_run(state, store, as_of=parse_day(as_of),
                         project=(project or "").strip() or None, units=units)


def violations(store: Store, units: tuple[str, ...] | None = None
               ) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None]:
    """The violation cases (of some 2025 units; None: all) and the wards (None before wards
    are loaded)."""
    from gis.violations import list_cases

    wards = store.read("wards") if store.has("wards") else None
    return list_cases(store, units=units), wards  # type: ignore[arg-type]


def chart(state: Any, store: Store, run: Any, name: str, *, project: str | None,
          lang: str, units: tuple[str, ...] | None = None) -> bytes:
    """One chart of the dashboard as PNG (the clearance charts are drawn together, and kept
    per store version, day, project and language)."""
    known_chart(name)

    def draw() -> dict[str, bytes]:
        if name == "violations":
            return {name: chart_png(name, cases=violations(store, units)[0], lang=lang)}
        return chart_png("clearance", progress=run.progress, lang=lang)

    group = "violations" if name == "violations" else "clearance"  # drawn together
    key = ("chart", group, repr(store), store.change_token(),
           run.progress.as_of.isoformat(), project, lang, dt.date.today().isoformat(),
           None if units is None else ",".join(sorted(units)))
    return cached(state, key, draw)[name]


def workbook(store: Store, run: Any, table: str, *, project: str | None,
             lang: str, units: tuple[str, ...] | None = None) -> tuple[bytes, str]:
    """One table of the dashboard (or the whole clearance report, ``clearance``) as an Excel
    workbook, and its file name."""
    known_table(table)
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
            cases, wards = violations(store, units)
            chosen = next(t for t in violation_tables(cases, wards, lang) if t.name == table)
            table_xlsx(chosen, out, lang=lang)
        body = out.read_bytes()
    scope = f"_{project}" if project else ""
    name = f"{'gpmb' if table in CLEARANCE_TABLES or table == 'clearance' else 'vi-pham'}_" \
           f"{table}{scope}_{day}.xlsx"
    return body, "".join(c if c.isalnum() or c in "._-" else "-" for c in name)
