"""What the dashboard shows and lets people download: clearance tables (the report's own tables,
:mod:`gis.report.clearance`), violation counts (:mod:`gis.core.violations.summary`), charts
(:mod:`gis.report.charts`) and one Excel workbook per table.

Numbers are formatted the Vietnamese way (1.052,19; ha and tỷ đồng) from each column's Excel
number format, so the page and the workbook show the same precision.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gis.core.clearance.values import format_number
from gis.text import N_, Text, gettext, text, translator

__all__ = [
    "CHARTS",
    "CLEARANCE_TABLES",
    "TABLES",
    "VIOLATION_TABLES",
    "Table",
    "chart_png",
    "clearance_tables",
    "format_cell",
    "table_xlsx",
    "violation_tables",
]

CLEARANCE_TABLES: dict[str, Text] = {
    "projects": N_("Clearance progress by project"),
    "units": N_("Clearance progress by commune-level unit"),
    "provinces": N_("Clearance progress by province"),
    "wards": N_("Clearance progress by ward"),
    "district": N_("District totals"),
    "problems": N_("Problems to follow up"),
}
VIOLATION_TABLES: dict[str, Text] = {
    "violations_kind": N_("Violation cases by kind"),
    "violations_status": N_("Violation cases by status"),
    "violations_ward": N_("Violation cases by ward"),
}
TABLES = {**CLEARANCE_TABLES, **VIOLATION_TABLES}
CHARTS = ("projects", "wards", "violations")


@dataclass(frozen=True)
class Table:
    """A table as shown: its name (URL), title, column titles, Excel formats and rows."""

    name: str
    title: str
    frame: pd.DataFrame
    formats: list[str]

    def rows(self, lang: str) -> list[list[tuple[str, bool]]]:
        """Each cell as (text, is_number), formatted for ``lang``."""
        out = []
        for row in self.frame.itertuples(index=False):
            out.append([format_cell(v, f, lang) for v, f in zip(row, self.formats)])
        return out


def _decimals(fmt: str) -> int:
    return len(fmt.split(".", 1)[1]) if "." in fmt else 0


def format_cell(value: object, fmt: str, lang: str) -> tuple[str, bool]:
    """A cell's text and whether it is a number: ``#,##0.00`` → ``1.052,19`` in Vietnamese,
    ``1,052.19`` in English; ``@`` is text; booleans read Có/Không."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "", False
    if isinstance(value, bool):
        return (gettext("yes", lang) if value else gettext("no", lang)), False
    if fmt != "@" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(float(value), lang, _decimals(fmt)), True
    if hasattr(value, "item"):
        value = value.item()  # type: ignore[union-attr]
    return str(value), False


def _district_formats(frame: pd.DataFrame) -> list[str]:
    """The district table holds counts, ha (2 decimals) and tỷ đồng (3) in one column."""
    label = frame.columns[0]
    formats = []
    for row_label in frame[label].astype(str):
        if "(ha)" in row_label:
            formats.append("#,##0.00")
        elif "tỷ" in row_label or "bn VND" in row_label:
            formats.append("#,##0.000")
        else:
            formats.append("#,##0")
    return formats


def clearance_tables(progress: Any, lang: str) -> list[Table]:
    """Projects, commune-level units and provinces (the levels since 1 July 2025), then legacy
    wards and district totals (for comparisons with earlier years) and problems, as the XLSX
    reports have them; a level the run has no rows for (no units decided) is left out."""
    from gis.report.clearance import district_table, report_table

    title = {name: text(t, lang) for name, t in CLEARANCE_TABLES.items()}
    tables = []
    for name in ("projects", "units", "provinces", "wards"):
        if name in ("units", "provinces") and not len(getattr(progress, name)):
            continue
        frame, formats = report_table(progress, name, lang=lang)
        tables.append(Table(name, title[name], frame, formats))
    district = district_table(progress, lang=lang)
    tables.append(_DistrictTable("district", title["district"], district,
                                 ["@", "#,##0"], _district_formats(district)))
    problems, formats = report_table(progress, "problems", lang=lang)
    tables.append(Table("problems", title["problems"], problems, formats))
    return tables


@dataclass(frozen=True)
class _DistrictTable(Table):
    """Label/value rows whose value format depends on the row."""

    row_formats: list[str] | None = None

    def rows(self, lang: str) -> list[list[tuple[str, bool]]]:
        out = []
        for (label, value), fmt in zip(self.frame.itertuples(index=False),
                                       self.row_formats or []):
            out.append([format_cell(label, "@", lang), format_cell(value, fmt, lang)])
        return out


def violation_tables(cases: pd.DataFrame, wards: pd.DataFrame | None, lang: str) -> list[Table]:
    """Counts by kind, status and ward (dismissed cases are counted by status only: they were
    found not to be violations)."""
    from gis.core.violations.summary import hotspots_by_ward
    from gis.labels import case_status_label, kind_label

    _ = translator(lang)
    h = {"kind": _.pgettext("dashboard", "Kind"), "name": _("Name"),
         "status": _.pgettext("dashboard", "Status"), "cases": _.pgettext("dashboard", "Cases"),
         "area": _("Area (m²)"), "ward": _("Ward code"), "ward_name": _("Ward"),
         "open": _.pgettext("dashboard", "Open"), "per_km2": _("Cases per km²")}
    area = pd.to_numeric(cases["area_m2"], errors="coerce").fillna(0.0)
    live = cases.assign(_area=area)[cases["status"] != "DISMISSED"]
    by_kind = live.groupby("kind").agg(n=("_area", "size"), a=("_area", "sum")).reset_index()
    kind = pd.DataFrame({h["kind"]: by_kind["kind"],
                         h["name"]: by_kind["kind"].map(lambda k: kind_label(k, lang)),
                         h["cases"]: by_kind["n"].astype(int), h["area"]: by_kind["a"]})
    by_status = cases.assign(_area=area).groupby("status").agg(
        n=("_area", "size"), a=("_area", "sum")).reset_index()
    status = pd.DataFrame({h["status"]: by_status["status"],
                           h["name"]: by_status["status"].map(lambda s: case_status_label(s, lang)),
                           h["cases"]: by_status["n"].astype(int), h["area"]: by_status["a"]})
    hot = hotspots_by_ward(cases, wards)
    names = {}
    if wards is not None and len(wards) and "name" in wards:
        names = dict(zip(wards["ward_code"].astype(str), wards["name"].astype(str)))
    ward = pd.DataFrame({h["ward"]: hot["ward_code"].astype(str),
                         h["ward_name"]: hot["ward_code"].astype(str).map(names).fillna(""),
                         h["cases"]: hot["cases"].astype(int), h["open"]: hot["open"].astype(int),
                         h["area"]: pd.to_numeric(hot["area_m2"], errors="coerce")})
    formats_ward = ["@", "@", "#,##0", "#,##0", "#,##0.00"]
    if "per_km2" in hot:
        ward[h["per_km2"]] = pd.to_numeric(hot["per_km2"], errors="coerce")
        formats_ward.append("#,##0.0")
    title = {name: text(t, lang) for name, t in VIOLATION_TABLES.items()}
    return [Table("violations_kind", title["violations_kind"], kind,
                  ["@", "@", "#,##0", "#,##0.00"]),
            Table("violations_status", title["violations_status"], status,
                  ["@", "@", "#,##0", "#,##0.00"]),
            Table("violations_ward", title["violations_ward"], ward, formats_ward)]


def table_xlsx(table: Table, out: Path, *, progress: Any = None, summary: str = "",
               lang: str = "vi") -> Path:
    """One table as a workbook. Clearance tables come from the report's own workbook
    (:func:`gis.report.clearance.write_xlsx`, the other sheets removed); violation tables are
    written with the same header style, number formats and frozen header row."""
    from openpyxl import Workbook, load_workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    if table.name in CLEARANCE_TABLES and progress is not None:
        from gis.report.clearance import sheet_title, write_xlsx

        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".xlsx-") as tmp:
            full = write_xlsx(progress, Path(tmp) / "report.xlsx", lang=lang, summary=summary,
                              units="legacy" if table.name in ("wards", "district") else "2025")
            wb = load_workbook(full)
            keep = sheet_title(table.name, lang)
            for ws in list(wb.worksheets):
                if ws.title != keep:
                    wb.remove(ws)
            wb.save(out)
        return out
    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\\/?*\[\]:]", "-", table.title)[:31]  # what Excel allows
    ws.append([str(c) for c in table.frame.columns])
    for row in table.frame.astype(object).where(table.frame.notna(), None).itertuples(index=False):
        ws.append([v.item() if hasattr(v, "item") else v for v in row])
    for j, fmt in enumerate(table.formats, start=1):
        cell = ws.cell(row=1, column=j)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E78")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = max(12, min(45, len(str(cell.value)) + 2))
        for r in range(2, ws.max_row + 1):
            ws.cell(row=r, column=j).number_format = fmt
    from gis.io.tables_out import keep_text_cells

    keep_text_cells(ws)
    ws.freeze_panes = "A2"
    wb.save(out)
    return out


def chart_png(name: str, *, progress: Any = None, cases: pd.DataFrame | None = None,
              lang: str = "vi") -> Any:
    """Charts as PNG bytes: ``clearance`` gives ``{"projects": …, "wards": …}``
    (:func:`gis.report.charts.clearance_charts`); ``violations`` (cases by kind and status,
    :func:`gis.report.violations.violations_chart`) gives the bytes. Requests draw at once:
    the reports use matplotlib's object API, no shared state."""
    if name == "clearance":
        from gis.report.charts import clearance_charts

        return clearance_charts(progress, lang=lang)
    from gis.report.violations import violations_chart

    assert cases is not None
    return violations_chart(cases, lang=lang)
