"""Clearance status sheets of the compensation board → records and dated status events.

Sheets come as boards keep them: one sheet per project with no project column (the project is
given, or named in a title row), wards by code or by name ("Phường/Xã"), an "STT" column, title
rows, section rows ("I. Phường Phúc Diễn"), total and subtotal rows ("Tổng cộng", "Cộng"), any
optional column absent. Headers are matched by an alias table (accent-, case- and unit-blind; a
YAML may override), statuses by the board's own words (:mod:`gis.core.clearance.wording`).
Every problem is an issue naming the sheet, the spreadsheet row and the column; a data row with
an error is kept aside (``rejected``) with its reasons, never dropped.

The parts: headers (:mod:`~gis.core.clearance.columns`), cells (:mod:`~gis.core.clearance.cells`,
:mod:`~gis.core.clearance.values`), wards and projects (:mod:`~gis.core.clearance.places`),
dated events (:mod:`~gis.core.clearance.events`), total rows (:mod:`~gis.core.clearance.totals`).

A ward column in 2025 unit codes (``--units 2025``) is matched to the stored parcels by unit,
sheet and number (:mod:`~gis.core.clearance.unit_match`); the row keeps the parcel's legacy key.

Rows read = accepted + kept aside + total rows + section rows (blank rows are not read).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import pandas as pd

from gis.core.clearance.cells import cell_text, cell_value, parse_area, parse_whole
from gis.core.clearance.columns import (
    DATE_STATUS,
    OPTIONAL_FIGURES,
    SHEET_ALIASES,
    map_sheet_columns,
)
from gis.core.clearance.events import agree_with_dates, join_problem, row_events
from gis.core.clearance.places import (
    WARD_WORDS,
    NameIndex,
    find_project,
    project_in_title,
    resolve_ward,
)
from gis.core.clearance.status import Status
from gis.core.clearance.totals import check_total, first_text, is_grand_total
from gis.core.clearance.unit_match import UnitParcels, resolve_unit, unit_code_findings
from gis.core.clearance.values import column_unit, parse_date, parse_vnd
from gis.core.clearance.wording import Vocabulary, fold_words
from gis.core.model import normalise_ward_code
from gis.core.units import AdminRegistry, CodeSystem, UnitCode
from gis.fields import fold_name

__all__ = ["SHEET_ALIASES", "SheetContext", "SheetParse", "map_sheet_columns", "parse_sheet",
           "DATE_STATUS", "EVENT_COLUMNS", "RECORD_COLUMNS", "OPTIONAL_FIGURES"]

_TRUE = {"co", "x", "1", "true", "yes", "cokhieunai", "dangkhieunai", "cokn"}

ISSUE_COLUMNS = ["sheet", "row", "column", "value", "rule", "severity", "message"]
EVENT_COLUMNS = ["project_id", "parcel_key", "status", "rank", "date", "amount_vnd", "sheet",
                 "sheet_row", "dated_by"]
RECORD_COLUMNS = ["sheet", "sheet_row", "project_id", "ward_code", "sheet_unit_code",
                  "map_sheet", "parcel_no",
                  "parcel_key", "owner_name", "households", "status", "status_text",
                  "compensation_approved_vnd", "compensation_paid_vnd", "area_recovered_m2",
                  *DATE_STATUS, "complaint", "note", "known_on", "problem"]


@dataclass(frozen=True)
class SheetContext:
    """What the store and the command line tell about a sheet.

    ``projects`` (id → name) and ``wards`` (code → name) are the stored ones, None when the
    store has none; ``parcel_keys`` likewise. ``project_id`` and ``ward`` are given on the
    command line (``--project``, ``--ward``) and fill the rows that name none.

    ``code_system`` is the system of the ward column's codes (``--units``). In 2025 codes a
    row's unit, sheet and number are matched against ``unit_parcels`` (required then) and the
    row takes the parcel's legacy key; ``ward`` is then a unit. ``registry`` (the national
    lists) checks 2025 codes, and names the 2025 unit of a legacy sheet's unknown code.
    """

    project_id: str | None = None
    ward: str | None = None
    projects: Mapping[str, str] | None = None
    wards: Mapping[str, str] | None = None
    parcel_keys: frozenset[str] | set[str] | None = None
    title_lines: tuple[str, ...] = ()
    header_parts: tuple[tuple[str, str], ...] | None = None
    code_system: CodeSystem = CodeSystem.LEGACY
    unit_parcels: UnitParcels | None = None
    registry: AdminRegistry | None = None


@dataclass
class SheetParse:
    """Accepted records, their dated status events, rows kept aside, and every issue."""

    records: pd.DataFrame
    events: pd.DataFrame
    rejected: pd.DataFrame
    issues: pd.DataFrame
    columns: dict[str, str]
    rows_total: int
    total_rows: int = 0
    section_rows: int = 0
    lacking: list[str] = field(default_factory=list)
    project_from: str | None = None

    @property
    def rows_read(self) -> int:
        """Every non-blank row under the header."""
        return self.rows_total + self.total_rows + self.section_rows

    def summary(self) -> dict[str, object]:
        """Counts that add up: read = accepted + kept aside + totals + sections."""
        counts = self.issues.groupby("rule").size().to_dict() if len(self.issues) else {}
        return {"rows_read": self.rows_read, "rows_total": self.rows_total,
                "rows_accepted": len(self.records), "rows_rejected": len(self.rejected),
                "total_rows": self.total_rows, "section_rows": self.section_rows,
                "events": len(self.events), "columns_lacking": list(self.lacking),
                "project_from": self.project_from,
                "issues": {str(k): int(v) for k, v in counts.items()}}


def parse_sheet(frame: pd.DataFrame, *, vocabulary: Vocabulary, sheet: str = "",
                header_row: int = 1, overrides: Mapping[str, str] | None = None,
                path: str | None = None, context: SheetContext = SheetContext(),
                known_on: dt.date | None = None) -> SheetParse:
    """Parse a status sheet (one row per parcel × project) read as text/values.

    ``frame.index`` is the spreadsheet row number of each row (as the reader gives it), so
    issues name the row a user sees in Excel; a default 0-based index is counted from
    ``header_row``. ``known_on`` is the day the sheet describes (default today): a status or
    amount without its own date is known from that day.
    """
    known_on = known_on or dt.date.today()
    headers = [str(c) for c in frame.columns]
    columns = map_sheet_columns(headers, overrides=overrides, sheet=sheet, path=path,
                                header_parts=context.header_parts)
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
        row_numbers = [header_row + 1 + i for i in range(len(frame))]
    else:
        row_numbers = [int(i) for i in frame.index]
    units: dict[str, int] = {m: column_unit(columns[m]) for m in (
        "compensation_approved_vnd", "compensation_paid_vnd") if m in columns}
    area_unit = 10_000.0 if "area_recovered_m2" in columns and re.search(
        r"\bha\b", " ".join(fold_words(columns["area_recovered_m2"]))) else 1.0
    issues: list[dict[str, object]] = []
    lacking = [m for m in OPTIONAL_FIGURES if m not in columns]
    for model in lacking:
        issues.append({"sheet": sheet, "row": header_row, "column": model, "value": None,
                       "rule": "missing_column", "severity": "note",
                       "message": f"no column for {model} (looked for "
                                  f"{' / '.join(SHEET_ALIASES[model])}); its figures stay "
                                  "empty for these rows (map it in a sheet YAML if it is there)"})
    # where the project and the ward come from
    project_from = None
    default_project = context.project_id
    if default_project:
        project_from = "option"
    elif "project_id" not in columns and "project_name" not in columns:
        default_project = project_in_title(context.title_lines, context.projects)
        project_from = "title" if default_project else None
    wards = NameIndex(context.wards or {}, strip=list(WARD_WORDS)) if context.wards else None
    projects = NameIndex(context.projects or {}) if context.projects else None
    default_ward = default_unit = None
    current = context.code_system is CodeSystem.CURRENT
    if current and context.unit_parcels is None:
        raise ValueError("a sheet in 2025 unit codes needs the stored parcels by unit")
    unit_parcels = cast(UnitParcels, context.unit_parcels)
    units_index = NameIndex(unit_parcels.unit_names, strip=list(WARD_WORDS)) if current \
        else None
    if context.ward and current:
        default_unit = resolve_unit(context.ward, unit_parcels, cast(NameIndex, units_index))[0]
    elif context.ward:
        default_ward = resolve_ward(context.ward, context.wards, wards)[0]
    by_number: dict[tuple[int, int], list[str]] = {}
    if context.parcel_keys is not None:
        for key in context.parcel_keys:
            parts = key.rsplit("-", 2)
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                by_number.setdefault((int(parts[1]), int(parts[2])), []).append(parts[0])

    records: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []
    seen: dict[tuple[str, str], int] = {}
    section_project, section_ward, section_unit = None, None, None
    total_rows = section_rows = 0
    span: list[dict[str, object]] = []  # parsed figures since the last total row
    everything: list[dict[str, object]] = []

    def cell(row: Mapping[str, object], model: str) -> object:
        header = columns.get(model)
        if header is None:
            return None
        return cell_value(row.get(header))

    found_codes: dict[int, list[tuple[str, str, str]]] = {}
    rows = frame.to_dict("records")
    if current and context.registry is not None and "ward_code" in columns:
        found_codes = unit_code_findings(
            [cell(r, "ward_code") for r in rows],
            [cell(r, "ward_name") for r in rows] if "ward_name" in columns else None,
            context.registry)
    for position, (excel_row, row) in enumerate(zip(row_numbers, rows)):
        values = [cell_value(v) for v in row.values()]
        if all(v is None for v in values):
            continue  # blank spreadsheet row
        errors: list[str] = []
        bad_models: set[str] = set()

        def issue(model: str, value: object, rule: str, message: str, severity: str = "error",
                  _row: int = excel_row, _errors: list[str] = errors,
                  _bad: set[str] = bad_models) -> None:
            issues.append({"sheet": sheet, "row": _row, "column": columns.get(model, model),
                           "value": None if value is None else str(value), "rule": rule,
                           "severity": severity, "message": message})
            if severity == "error":
                _errors.append(f"{columns.get(model, model)}: {message}")
                _bad.add(model)

        keys_empty = cell(row, "map_sheet") is None and cell(row, "parcel_no") is None
        texts = [v for v in values if isinstance(v, str)]
        if keys_empty and texts and vocabulary.is_total(first_text(row, columns)):
            total_rows += 1
            check_total(row, columns, units, area_unit, span if not is_grand_total(
                first_text(row, columns), vocabulary) else everything, excel_row, issue)
            span = []
            continue
        if keys_empty and cell(row, "status") is None:
            # a section row: "I. Phường Phúc Diễn", "Dự án: …", or a heading
            section_rows += 1
            for text in [*texts, " ".join(texts)]:
                label = re.sub(r"^\s*([IVXLC]+|[0-9]+|[a-zA-Z])([.)]\s*|\s+)", "", text)
                if units_index is not None and len(units_index.find(label)) == 1:
                    section_unit = next(iter(units_index.find(label)))
                    break
                if not current and wards is not None and len(wards.find(label)) == 1:
                    section_ward = next(iter(wards.find(label)))
                    break
                if projects is not None and (
                        hit := find_project(label, context.projects, projects)):
                    section_project = hit
                    break
            span = []
            continue
        rec: dict[str, object] = {"sheet": sheet, "sheet_row": excel_row}
        # project
        raw_project = cell(row, "project_id") or cell(row, "project_name")
        project_model = "project_id" if "project_id" in columns else "project_name"
        if raw_project is not None:
            pid = find_project(raw_project, context.projects, projects)
            if pid is None:
                near = ", ".join(sorted(context.projects or {})[:5])
                issue(project_model, raw_project, "unknown_project",
                      f"project {raw_project!s} is not in the projects layer (by id or name)"
                      + (f"; stored: {near}…" if near else ""))
            rec["project_id"] = pid or str(raw_project).strip()
        else:
            rec["project_id"] = section_project or default_project
            if rec["project_id"] is None:
                issue(project_model, None, "missing_project",
                      "no project: the sheet has no project column or cell; give --project ID or "
                      "name the project in the sheet's title")
        # sheet and parcel numbers
        for model in ("map_sheet", "parcel_no", "households"):
            value = cell(row, model)
            number, problem = parse_whole(value, allow_unit="ho" if model == "households" else None)
            rec[model] = number
            if problem:
                issue(model, value, "bad_number", problem)
        for model in ("map_sheet", "parcel_no"):
            if rec.get(model) is None and model not in bad_models:
                issue(model, None, "missing_key", "empty key cell")
        # ward
        raw_code, raw_name = cell(row, "ward_code"), cell(row, "ward_name")
        ward: str | None = None
        rec["sheet_unit_code"] = None
        if current and (raw_code is not None or raw_name is not None or section_unit
                        or default_unit):
            # a 2025 unit: its code checked in the national list, then its (sheet, number)
            model = "ward_code" if raw_code is not None else "ward_name"
            raw = raw_code if raw_code is not None else raw_name
            unit, problem = (resolve_unit(raw, unit_parcels, cast(NameIndex, units_index), wards)
                             if raw is not None else (section_unit or default_unit, None))
            for rule, severity, message in found_codes.get(position, ()):
                issue("ward_code", raw_code, rule, message, severity=severity)
                unit = None if severity == "error" else unit
            if problem:
                issue(model, raw, "unknown_unit", problem)
            rec["sheet_unit_code"] = normalise_ward_code(raw_code) if raw_code is not None \
                else unit  # the code as the sheet wrote it, kept for the record
            if unit is not None and rec["map_sheet"] is not None and \
                    rec["parcel_no"] is not None:
                parcel = unit_parcels.match(unit, cast(int, rec["map_sheet"]),
                                            cast(int, rec["parcel_no"]))
                ward = parcel.ward
                if parcel.rule is not None:
                    issue("parcel_no", f"{unit}-{rec['map_sheet']}-{rec['parcel_no']}",
                          parcel.rule, cast(str, parcel.message))
        elif raw_code is not None or raw_name is not None:
            model = "ward_code" if raw_code is not None else "ward_name"
            ward, problem = resolve_ward(raw_code if raw_code is not None else raw_name,
                                          context.wards, wards)
            if problem:
                issue(model, raw_code if raw_code is not None else raw_name, "unknown_ward",
                      problem + _hint_2025(raw_code, context.registry))
        else:
            ward = section_ward or default_ward
            if ward is None and rec["map_sheet"] is not None and rec["parcel_no"] is not None:
                numbers = (cast(int, rec["map_sheet"]), cast(int, rec["parcel_no"]))
                found = sorted(set(by_number.get(numbers, [])))
                if len(found) == 1:
                    ward = found[0]
                elif len(found) > 1:
                    issue("ward_code", None, "ambiguous_ward",
                          f"sheet {rec['map_sheet']} parcel {rec['parcel_no']} exists in wards "
                          f"{', '.join(found)}; add a Phường/Xã column or give --ward")
            ambiguous = any(i["rule"] == "ambiguous_ward" and i["row"] == excel_row
                            for i in issues)
            if ward is None and not ambiguous:
                has_column = "ward_code" in columns or "ward_name" in columns
                issue("ward_name" if "ward_name" in columns else "ward_code", None,
                      "missing_ward", "empty ward cell and no section row naming the ward"
                      if has_column else "no ward: the sheet has no ward column (Mã xã / "
                      "Phường/Xã); give --ward CODE|NAME")
        rec["ward_code"] = ward
        rec["parcel_key"] = (f"{ward}-{rec['map_sheet']}-{rec['parcel_no']}"
                             if None not in (ward, rec["map_sheet"], rec["parcel_no"]) else None)
        rec["owner_name"] = cell_text(cell(row, "owner_name"))
        # status
        raw_status = cell(row, "status")
        match = vocabulary.match_status(raw_status)
        if raw_status is None:
            issue("status", None, "missing_status", "empty status")
        elif match.status is None:
            near = "; ".join(f"'{n}'" for n in match.nearest) or "'Đã thông báo thu hồi'"
            issue("status", raw_status, "unknown_status",
                  f"unknown status {raw_status!s}; nearest known steps: {near} (add the "
                  "board's wording to layers/sheets/vocabulary.yaml)")
        status = match.status
        rec["status"] = status.value if status else None
        rec["status_text"] = cell_text(raw_status)
        for model in ("compensation_approved_vnd", "compensation_paid_vnd"):
            value = cell(row, model)
            try:
                rec[model] = parse_vnd(value, unit=units.get(model, 1))
            except ValueError as exc:
                rec[model] = None
                issue(model, value, "bad_amount", str(exc))
        area = cell(row, "area_recovered_m2")
        rec["area_recovered_m2"], problem = parse_area(area, area_unit)
        if problem:
            issue("area_recovered_m2", area, "bad_area", problem)
        dates: dict[str, dt.date | None] = {}
        for model in DATE_STATUS:
            value = cell(row, model)
            try:
                dates[model] = parse_date(value)
            except ValueError as exc:
                dates[model] = None
                issue(model, value, "bad_date", str(exc))
            rec[model] = dates[model]
        complaint = cell(row, "complaint")
        rec["complaint"] = complaint is not None and fold_name(str(complaint)) in _TRUE
        rec["note"] = cell_text(cell(row, "note"))
        rec["known_on"] = known_on
        rec["problem"] = None
        figures = {m: rec.get(m) for m in ("households", "compensation_approved_vnd",
                                           "compensation_paid_vnd", "area_recovered_m2")}
        span.append(figures)
        everything.append(figures)
        if rec["parcel_key"] and context.parcel_keys is not None and \
                rec["parcel_key"] not in context.parcel_keys:
            issue("parcel_no", rec["parcel_key"], "unknown_parcel",
                  f"parcel {rec['parcel_key']} (ward-sheet-number) is not in the parcels layer")
        pair = (str(rec["project_id"]), str(rec["parcel_key"]))
        if not errors and pair in seen:
            issue("parcel_no", rec["parcel_key"], "duplicate_row",
                  f"the same project and parcel as row {seen[pair]}")
        if errors:
            rejected.append({**rec, "reason": "; ".join(errors)})
            continue
        seen[pair] = excel_row
        assert status is not None
        status, dates = agree_with_dates(rec, status, dates, issue)
        if status.cleared and dates["date_approved"] is None:
            issue("date_approved", None, "handed_over_without_approval",
                  f"status {status.value} but no plan approval date (paperwork behind)",
                  severity="warning")
        if rec.get("compensation_approved_vnd") is not None and \
                status.rank < Status.PLAN_APPROVED.rank:
            rec["problem"] = join_problem(rec["problem"], "approved_amount_before_approval")
            issue("compensation_approved_vnd", rec["compensation_approved_vnd"],
                  "amount_not_counted",
                  f"an approved amount of {rec['compensation_approved_vnd']:,} đồng on a row "
                  f"whose status ({rec['status_text']}) is before plan approval: it is listed "
                  "as a problem, not added to the approved total", severity="warning")
        if rec.get("compensation_paid_vnd") is not None and status.rank < Status.PAID.rank:
            rec["problem"] = join_problem(rec["problem"], "paid_amount_before_payment")
            issue("compensation_paid_vnd", rec["compensation_paid_vnd"], "amount_not_counted",
                  f"a paid amount of {rec['compensation_paid_vnd']:,} đồng on a row whose "
                  f"status ({rec['status_text']}) is before payment: it is listed as a "
                  "problem, not added to the paid total", severity="warning")
        records.append(rec)
        events.extend(row_events(rec, status, dates))
    return SheetParse(
        pd.DataFrame(records, columns=RECORD_COLUMNS),
        pd.DataFrame(events, columns=EVENT_COLUMNS),
        pd.DataFrame(rejected, columns=[*RECORD_COLUMNS, "reason"]),
        pd.DataFrame(issues, columns=ISSUE_COLUMNS), columns,
        rows_total=len(records) + len(rejected), total_rows=total_rows,
        section_rows=section_rows, lacking=lacking, project_from=project_from)


def _hint_2025(code: object, registry: AdminRegistry | None) -> str:
    """For a legacy sheet's code that no stored ward has: the 2025 unit it is, if any."""
    text = normalise_ward_code(code)
    if registry is None or text is None or text not in registry.current.index:
        return ""
    return (f"; {text} is the 2025 code of {registry.describe(UnitCode(text, CodeSystem.CURRENT))}"
            ": pass --units 2025 if the sheet writes 2025 unit codes")
