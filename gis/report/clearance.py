"""Clearance progress tables for people: Vietnamese (or English) headers, ha and tỷ đồng.

The JSON report keeps the model's raw fields (m², VND); these tables are what a land officer
hands up: one sheet per level (projects, wards, district), a problems sheet, formatted numbers
and a frozen header row.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from gis.core.clearance.progress import Progress
from gis.io.files import atomic_write_csv
from gis.io.tables_out import keep_text_cells
from gis.text import LANGS, N_, NC_, Text, Translator, text, translator

__all__ = ["LEVELS", "SYSTEM_LEVELS", "sheet_title", "report_table", "district_table", "write_xlsx", "write_csv", "column_title"]

# column -> (title, unit conversion, Excel number format)
_COLUMNS: dict[str, tuple[Text, float, str]] = {
    "project_id": (NC_("report column", "Project"), 1, "@"),
    "ward_code": (N_("Ward code"), 1, "@"),
    "ward_name": (NC_("report column", "Ward"), 1, "@"),
    "district": (N_("Former district"), 1, "@"),
    "unit_code": (N_("Unit code"), 1, "@"),
    "unit_name": (N_("Commune-level unit"), 1, "@"),
    "province_code": (N_("Province code"), 1, "@"),
    "province": (NC_("report column", "Province"), 1, "@"),
    "name": (N_("Project name"), 1, "@"),
    "capital_source": (N_("Capital source"), 1, "@"),
    "start_type": (N_("Start type"), 1, "@"),
    "key_project": (N_("Key project"), 1, "@"),
    "projects": (NC_("report column", "Projects"), 1, "#,##0"),
    "parcels_affected": (N_("Parcels affected"), 1, "#,##0"),
    "parcels_handed_over": (NC_("report column", "Parcels handed over"), 1, "#,##0"),
    "parcels_not_started": (N_("Parcels not started"), 1, "#,##0"),
    "area_affected_m2": (N_("Area to recover (ha)"), 1e-4, "#,##0.00"),
    "area_recovered_m2": (N_("Area recovered (ha)"), 1e-4, "#,##0.00"),
    "pct_area_recovered": (N_("Area recovered (%)"), 1, "0.0"),
    "plans_total": (N_("Plans to approve"), 1, "#,##0"),
    "plans_approved": (NC_("report column", "Plans approved"), 1, "#,##0"),
    "pct_plans_approved": (N_("Plans approved (%)"), 1, "0.0"),
    "households": (N_("Households"), 1, "#,##0"),
    "compensation_approved_vnd": (N_("Compensation approved (bn VND)"), 1e-9, "#,##0.000"),
    "compensation_paid_vnd": (N_("Compensation paid (bn VND)"), 1e-9, "#,##0.000"),
    "pct_paid": (N_("Paid (%)"), 1, "0.0"),
    "capital_plan_vnd": (N_("Capital plan (bn VND)"), 1e-9, "#,##0.000"),
    "disbursed_vnd": (N_("Disbursed (bn VND)"), 1e-9, "#,##0.000"),
    "disbursement_pct": (N_("Disbursed (%)"), 1, "0.0"),
    "area_recovered_this_year_m2": (N_("Recovered this year (ha)"), 1e-4, "#,##0.00"),
    "area_recovered_last_year_m2": (N_("Recovered last year (ha)"), 1e-4, "#,##0.00"),
    "overdue_payments": (NC_("report column", "Overdue payments"), 1, "#,##0"),
    "complaints": (NC_("report column", "Complaints"), 1, "#,##0"),
    "completed": (NC_("report column", "Completed"), 1, "@"),
}
#: coded values of the project columns
_VOCAB: dict[object, Text] = {
    "STATE_BUDGET": N_("State budget"), "NON_BUDGET": N_("Non-budget"), "UNKNOWN": N_("Unknown"),
    "CARRIED_OVER": NC_("capital", "Carried over"), "NEW": NC_("capital", "New"),
    True: N_("yes"), False: N_("no")}
#: the sheet of each level
LEVELS: dict[str, Text] = {
    "projects": NC_("report sheet", "Projects"), "wards": NC_("report sheet", "Wards"),
    "district": NC_("report sheet", "District"), "problems": NC_("report sheet", "Problems"),
    "units": NC_("report sheet", "Units"), "provinces": NC_("report sheet", "Provinces")}
#: the levels of a report in each code system: 2025 units and provinces, or the legacy wards
#: and district (for comparisons with earlier years)
SYSTEM_LEVELS = {"2025": ("projects", "units", "provinces", "problems"),
                 "legacy": ("projects", "wards", "district", "problems")}
#: the problems a report lists
_PROBLEMS: dict[str, Text] = {
    "ahead_of_paperwork": N_("Handed over without plan approval"),
    "payment_overdue": N_("Payment overdue (30 days after approval)"),
    "complaints": NC_("report problem", "Complaints"),
    "row_outside_project": N_("Sheet row outside its project"),
    "amount_not_counted": N_("Sheet amount not in the totals"),
    "status_disagrees_with_dates": N_("Stated status disagrees with the row's dates"),
    "area_differs": N_("Sheet area differs from the map"),
    "capital_source_unknown": N_("Unknown capital source")}
_PROJECT_ORDER = ["project_id", "name", "capital_source", "start_type", "key_project",
                  "parcels_affected", "parcels_handed_over", "parcels_not_started",
                  "area_affected_m2", "area_recovered_m2", "pct_area_recovered", "plans_total",
                  "plans_approved", "pct_plans_approved", "households",
                  "compensation_approved_vnd", "compensation_paid_vnd", "pct_paid",
                  "capital_plan_vnd", "disbursed_vnd", "disbursement_pct",
                  "area_recovered_this_year_m2", "area_recovered_last_year_m2",
                  "overdue_payments", "complaints", "completed"]
_FIGURES = ["projects", "parcels_affected", "parcels_handed_over",
               "parcels_not_started", "area_affected_m2", "area_recovered_m2",
               "pct_area_recovered", "plans_total", "plans_approved", "pct_plans_approved",
               "households", "compensation_approved_vnd", "compensation_paid_vnd", "pct_paid",
               "overdue_payments", "complaints"]
_WARD_ORDER = ["ward_code", "ward_name", "district", *_FIGURES]
_ORDERS = {"wards": _WARD_ORDER, "units": ["unit_code", "unit_name", "province", *_FIGURES],
           "provinces": ["province_code", "province", *_FIGURES], "projects": _PROJECT_ORDER}


def column_title(column: str, lang: str) -> str:
    """The display title of a model column."""
    return text(_COLUMNS[column][0], lang)


def sheet_title(level: str, lang: str) -> str:
    """The workbook sheet of a level (``projects``, ``wards``, ``district``, ``problems``)."""
    return text(LEVELS[level], lang)


def _translator(lang: str) -> Translator:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; valid: {', '.join(LANGS)}")
    return translator(lang)


def _coded(value: object) -> bool:
    try:
        return value in _VOCAB
    except TypeError:  # unhashable
        return False


def report_table(progress: Progress, level: str, *, lang: str = "vi"
                 ) -> tuple[pd.DataFrame, list[str]]:
    """A level (``projects``, ``wards``, ``problems``) as display columns; returns the frame and
    the Excel number format of each column."""
    _ = _translator(lang)
    if level == "problems":
        problems = progress.problems.assign(kind=progress.problems["kind"].map(
            lambda k: _(_PROBLEMS[k]) if k in _PROBLEMS else k))
        frame = problems.rename(columns={
            "kind": _("Problem"), "project_id": _.pgettext("report column", "Project"),
            "parcel_key": _("Parcel (ward-sheet-no)"), "detail": _("Detail"),
            "approved_vnd": _("Approved amount (VND)"), "paid_vnd": _("Paid amount (VND)")})
        frame = frame.astype(object).where(frame.notna(), None)
        return frame, ["@" if c not in ("approved_vnd", "paid_vnd") else "#,##0"
                       for c in problems.columns]
    source = {"projects": progress.projects, "wards": progress.wards, "units": progress.units,
              "provinces": progress.provinces}[level]
    order = [c for c in _ORDERS[level] if c in source]
    out = pd.DataFrame(index=source.index)
    formats = []
    for column in order:
        title, factor, fmt = _COLUMNS[column]
        values = source[column]
        if factor != 1:
            values = pd.to_numeric(values, errors="coerce") * factor
        elif column in ("capital_source", "start_type", "key_project", "completed"):
            values = values.map(lambda v: _(_VOCAB[v]) if _coded(v) else v)
        out[_(title)] = values
        formats.append(fmt)
    return out.reset_index(drop=True), formats


def district_table(progress: Progress, *, lang: str = "vi") -> pd.DataFrame:
    """The district totals as a two-column table (label, value)."""
    d = progress.district
    _ = _translator(lang)

    def grp(key: str, group: Text) -> list[tuple[str, object]]:
        g, name = d[key], _(group)
        return [(_("%(group)s: projects", group=name), g["projects"]),
                (_("%(group)s: area recovered (ha)", group=name),
                 round(g["area_recovered_m2"] / 1e4, 3)),
                (_("%(group)s: plans approved", group=name),
                 f"{g['plans_approved']}/{g['plans_total']}"),
                (_("%(group)s: paid (bn VND)", group=name),
                 round(g["compensation_paid_vnd"] / 1e9, 3))]

    rows = [(_.pgettext("report column", "Projects"), d["projects_total"]),
            (_("State-budget projects"), d["state_budget"]["projects"]),
            (_("  of which carried over"), d["state_budget"]["carried_over"]),
            (_("  of which new"), d["state_budget"]["new"]),
            (_("Non-budget projects"), d["non_budget"]["projects"]),
            (_("Projects with unknown capital source"),
             d.get("unknown_capital", {}).get("projects", 0)),
            (_("Key projects"), d["key_projects"]["projects"]),
            (_("Projects completed"), d["projects_completed"])]
    for column in ("parcels_affected", "parcels_handed_over", "parcels_not_started",
                   "area_affected_m2", "area_recovered_m2", "plans_total", "plans_approved",
                   "households", "compensation_approved_vnd", "compensation_paid_vnd",
                   "area_recovered_this_year_m2", "area_recovered_last_year_m2",
                   "overdue_payments", "complaints"):
        title, factor, _fmt = _COLUMNS[column]
        rows.append((_(title), round(float(d[column]) * factor, 3) if factor != 1 else d[column]))
    rows += grp("state_budget", NC_("capital", "State budget"))
    rows += grp("non_budget", NC_("capital", "Non-budget"))
    rows += grp("carried_over", N_("Carried over"))
    rows += grp("new", NC_("capital group", "New"))
    rows += grp("key_projects", N_("Key projects"))
    rule = d.get("plans_rule")
    if isinstance(rule, dict):
        rows.append((_("How plans are counted"), _(
            "Plans counted per land user where the sheet names owners (%(owners)s projects), "
            "else per parcel with a private user (%(parcels)s projects); land the state manages "
            "(roads, canals, rivers, the commune) has no plan.", **rule)))
    lacking = d.get("columns_lacking")
    if lacking:
        rows.append((_("Columns no loaded sheet had (figures empty)"), ", ".join(lacking)))
    return pd.DataFrame(rows, columns=[_("Figure"), _("Value")])


def write_xlsx(progress: Progress, path: str | os.PathLike[str], *, lang: str = "vi",
               summary: str = "", units: str = "2025") -> Path:
    """One sheet per level, Vietnamese headers, number formats, frozen header row; atomic.
    ``units``: the 2025 levels (units, provinces) or the legacy ones (wards, district)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet = {level: sheet_title(level, lang) for level in LEVELS}
    wb = Workbook()
    wb.remove(wb.active)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E78")
    sheets: list[tuple[str, pd.DataFrame, list[str]]] = []
    for level in SYSTEM_LEVELS[units]:
        if level == "district":
            sheets.append((sheet[level], district_table(progress, lang=lang), ["@", "#,##0.###"]))
            continue
        frame, formats = report_table(progress, level, lang=lang)
        sheets.append((sheet[level], frame, formats))
    summary_sheet = sheet["district" if units == "legacy" else "provinces"]
    for title, frame, formats in sheets:
        ws = wb.create_sheet(title)
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            ws.append([None if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) else
                       (v.item() if hasattr(v, "item") else v) for v in row])
        for j, fmt in enumerate(formats, start=1):
            letter = get_column_letter(j)
            cell = ws.cell(row=1, column=j)
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.column_dimensions[letter].width = max(12, min(45, len(str(cell.value)) + 2))
            for r in range(2, ws.max_row + 1):
                ws.cell(row=r, column=j).number_format = fmt
        keep_text_cells(ws)
        ws.freeze_panes = "A2"
        if title == summary_sheet and summary:
            ws.cell(row=ws.max_row + 2, column=1, value=summary)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    os.replace(tmp, path)
    return path


def write_csv(progress: Progress, path: str | os.PathLike[str], *, lang: str = "vi",
              units: str = "2025") -> list[Path]:
    """Projects to ``path``; the other levels beside it (``<stem>_units.csv``,
    ``<stem>_provinces.csv`` …; ``units="legacy"``: ``_wards``, ``_district``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    tables = {("" if level == "projects" else f"_{level}"):
              (district_table(progress, lang=lang) if level == "district"
               else report_table(progress, level, lang=lang)[0])
              for level in SYSTEM_LEVELS[units]}
    for suffix, frame in tables.items():
        target = path.with_name(f"{path.stem}{suffix}{path.suffix or '.csv'}")
        atomic_write_csv(frame, target)
        out.append(target)
    return out
