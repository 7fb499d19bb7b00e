"""Clearance status sheets of the compensation board → records and dated status events.

Sheets come as boards keep them: one sheet per project with no project column (the project is
given, or named in a title row), wards by code or by name ("Phường/Xã"), an "STT" column, title
rows, section rows ("I. Phường Phúc Diễn"), total and subtotal rows ("Tổng cộng", "Cộng"), any
optional column absent. Headers are matched by an alias table (accent-, case- and unit-blind; a
YAML may override), statuses by the board's own words (:mod:`gis.core.clearance.wording`).
Every problem is an issue naming the sheet, the spreadsheet row and the column; a data row with
an error is kept aside (``rejected``) with its reasons, never dropped.

Rows read = accepted + kept aside + total rows + section rows (blank rows are not read).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

import pandas as pd

from gis.core.clearance.status import Status
from gis.core.clearance.values import column_unit, parse_date, parse_vnd
from gis.core.clearance.wording import Vocabulary, fold_words
from gis.core.model import normalise_ward_code
from gis.errors import FieldMappingError
from gis.fields import fold_name

__all__ = ["SHEET_ALIASES", "SheetContext", "SheetParse", "map_sheet_columns", "parse_sheet",
           "DATE_STATUS", "EVENT_COLUMNS", "RECORD_COLUMNS", "OPTIONAL_FIGURES"]

SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    "project_id": ("Mã dự án", "Mã DA", "MaDuAn", "Mã công trình", "project_id"),
    "project_name": ("Dự án", "Tên dự án", "Tên công trình", "Công trình", "Tên DA",
                     "Công trình, dự án", "Dự án, công trình", "project"),
    "ward_code": ("Mã xã", "Mã phường", "Mã phường xã", "Mã phường/xã", "MaXa", "Mã ĐVHC",
                  "ward_code"),
    "ward_name": ("Phường/Xã", "Phường, xã", "Xã/Phường", "Phường xã", "Xã phường", "Phường",
                  "Xã", "Tên phường", "Tên xã", "Tên phường/xã", "Địa bàn", "Địa bàn phường/xã",
                  "Đơn vị hành chính", "ward", "ward_name"),
    "map_sheet": ("Số tờ", "Tờ bản đồ", "Số tờ bản đồ", "Tờ", "Tờ BĐ", "Số hiệu tờ", "SoTo",
                  "Tờ bản đồ số", "map_sheet"),
    "parcel_no": ("Số thửa", "Thửa", "Thửa đất số", "Thửa số", "SoThua", "Số hiệu thửa",
                  "parcel_no"),
    "owner_name": ("Chủ sử dụng", "Họ tên", "Tên chủ", "Chủ hộ", "Họ và tên", "Tên chủ sử dụng",
                   "Người sử dụng đất", "Chủ sử dụng đất", "Họ tên chủ sử dụng", "Tên hộ",
                   "Họ tên chủ hộ", "Tên tổ chức, cá nhân", "Hộ gia đình, cá nhân",
                   "owner_name"),
    "households": ("Số hộ", "Số hộ bị ảnh hưởng", "Số hộ dân", "Số hộ gia đình", "households"),
    "status": ("Trạng thái", "Tình trạng", "Tiến độ", "Tình hình thực hiện",
               "Tiến độ thực hiện", "Kết quả thực hiện", "Kết quả", "status"),
    "date_notified": ("Ngày thông báo", "Ngày TB", "Ngày thông báo thu hồi", "Ngày TBTH",
                      "Ngày thông báo thu hồi đất"),
    "date_inventoried": ("Ngày kiểm đếm", "Ngày KĐ"),
    "date_approved": ("Ngày phê duyệt PA", "Ngày phê duyệt", "Ngày phê duyệt phương án",
                      "Ngày PD PA", "Ngày PDPA", "Ngày duyệt PA"),
    "compensation_approved_vnd": (
        "Số tiền phê duyệt", "Kinh phí phê duyệt", "Tiền phê duyệt", "Số tiền bồi thường phê duyệt",
        "Số tiền bồi thường", "Tổng kinh phí bồi thường, hỗ trợ", "Tổng kinh phí bồi thường",
        "Kinh phí bồi thường, hỗ trợ", "Kinh phí bồi thường", "Số tiền bồi thường, hỗ trợ",
        "Tổng số tiền bồi thường, hỗ trợ", "Tổng số tiền bồi thường", "Giá trị phương án",
        "Tổng giá trị bồi thường", "Giá trị bồi thường", "Tổng kinh phí",
        "Kinh phí phê duyệt phương án", "Số tiền phê duyệt phương án", "Tiền bồi thường",
        "compensation_approved_vnd"),
    "compensation_paid_vnd": ("Số tiền đã chi trả", "Đã chi trả", "Kinh phí đã chi trả",
                              "Tiền đã chi trả", "Số tiền đã nhận", "Đã nhận", "Đã nhận tiền",
                              "Số tiền đã trả", "Đã thanh toán", "Số tiền đã thanh toán",
                              "Đã chi", "Kinh phí đã chi", "Đã giải ngân", "Giải ngân",
                              "compensation_paid_vnd"),
    "date_paid": ("Ngày chi trả", "Ngày nhận tiền", "Ngày thanh toán"),
    "date_recovery_decided": ("Ngày quyết định thu hồi", "Ngày QĐ thu hồi", "Ngày QĐTH",
                              "Ngày ban hành quyết định thu hồi"),
    "date_handed_over": ("Ngày bàn giao", "Ngày bàn giao mặt bằng", "Ngày BGMB",
                         "Ngày nhận bàn giao"),
    "area_recovered_m2": ("Diện tích thu hồi", "DT thu hồi", "Diện tích bị thu hồi",
                          "Diện tích thu hồi đất", "DT bị thu hồi", "Diện tích ảnh hưởng",
                          "Diện tích GPMB", "area_recovered_m2"),
    "complaint": ("Khiếu nại", "Có khiếu nại", "Khiếu nại, kiến nghị", "Đơn thư"),
    "note": ("Ghi chú", "Lý do", "note"),
    "stt": ("STT", "TT", "Số TT", "Số thứ tự"),
}
# a sheet needs these; the project and the ward may instead come from the context
REQUIRED = ("map_sheet", "parcel_no", "status")
OPTIONAL_FIGURES = ("households", "owner_name", "compensation_approved_vnd",
                    "compensation_paid_vnd", "date_notified", "date_inventoried", "date_approved",
                    "date_paid", "date_recovery_decided", "date_handed_over", "area_recovered_m2",
                    "complaint")
DATE_STATUS = {"date_notified": Status.NOTIFIED, "date_inventoried": Status.INVENTORIED,
               "date_approved": Status.PLAN_APPROVED, "date_paid": Status.PAID,
               "date_recovery_decided": Status.RECOVERY_DECIDED,
               "date_handed_over": Status.HANDED_OVER}
_TRUE = {"co", "x", "1", "true", "yes", "cokhieunai", "dangkhieunai", "cokn"}
_UNIT = re.compile(r"\([^)]*\)|\[[^]]*\]")
_WARD_WORDS = ("phuong", "xa", "thi tran", "p", "x", "tt", "dac khu")

ISSUE_COLUMNS = ["sheet", "row", "column", "value", "rule", "severity", "message"]
EVENT_COLUMNS = ["project_id", "parcel_key", "status", "rank", "date", "amount_vnd", "sheet",
                 "sheet_row", "dated_by"]
RECORD_COLUMNS = ["sheet", "sheet_row", "project_id", "ward_code", "map_sheet", "parcel_no",
                  "parcel_key", "owner_name", "households", "status", "status_text",
                  "compensation_approved_vnd", "compensation_paid_vnd", "area_recovered_m2",
                  *DATE_STATUS, "complaint", "note", "known_on", "problem"]


def _fold_header(text: str) -> str:
    return fold_name(_UNIT.sub(" ", str(text)))


def map_sheet_columns(headers: list[str], *, overrides: Mapping[str, str] | None = None,
                      sheet: str = "", path: str | None = None,
                      header_parts: Sequence[tuple[str, str]] | None = None,
                      required: Sequence[str] = REQUIRED) -> dict[str, str]:
    """Model field → sheet header.

    A header matches an alias exactly or starts with it, units in brackets left out ("Số tiền
    bồi thường (đồng)" is "Số tiền bồi thường"). With two-row headers (``header_parts``: group,
    child per column) "Ngày | Thông báo" and "Kinh phí (đồng) | Phê duyệt" match too.
    """
    out: dict[str, str] = dict(overrides or {})
    used = set(out.values())
    forms: dict[str, list[str]] = {}
    for i, h in enumerate(headers):
        names = [_fold_header(h)]
        if header_parts and i < len(header_parts) and header_parts[i][0]:
            group, child = header_parts[i]
            names += [_fold_header(f"{group} {child}"), _fold_header(f"{child} {group}"),
                      _fold_header(child)]
        forms[h] = [n for n in names if n]
    for exact in (True, False):
        for model, aliases in SHEET_ALIASES.items():
            if model in out:
                continue
            for alias in aliases:
                a = _fold_header(alias)
                hit = next((h for h in headers if h not in used and any(
                    n == a if exact else (len(a) > 3 and n.startswith(a)) for n in forms[h])),
                    None)
                if hit is not None:
                    out[model] = hit
                    used.add(hit)
                    break
    missing = [m for m in required if m not in out]
    if missing:
        raise FieldMappingError(
            f"sheet {sheet!r}: cannot find column(s) for {', '.join(missing)}; looked for "
            + "; ".join(f"{m} as {'/'.join(SHEET_ALIASES[m])}" for m in missing)
            + f"; the sheet has: {', '.join(map(str, headers))}", path=path, layer=sheet,
            field=missing[0])
    return out


@dataclass(frozen=True)
class SheetContext:
    """What the store and the command line tell about a sheet.

    ``projects`` (id → name) and ``wards`` (code → name) are the stored ones, None when the
    store has none; ``parcel_keys`` likewise. ``project_id`` and ``ward`` are given on the
    command line (``--project``, ``--ward``) and fill the rows that name none.
    """

    project_id: str | None = None
    ward: str | None = None
    projects: Mapping[str, str] | None = None
    wards: Mapping[str, str] | None = None
    parcel_keys: frozenset[str] | set[str] | None = None
    title_lines: tuple[str, ...] = ()
    header_parts: tuple[tuple[str, str], ...] | None = None


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


class _Names:
    """Accent- and case-blind lookup of names (wards, projects) → code, with ambiguity."""

    def __init__(self, names: Mapping[str, str], strip: Sequence[str] = ()) -> None:
        self.strip = [tuple(s.split()) for s in strip]
        self.by_name: dict[str, set[str]] = {}
        for code, name in names.items():
            for key in {self.key(name), self.key(code)}:
                if key:
                    self.by_name.setdefault(key, set()).add(code)

    def key(self, text: object) -> str:
        words = fold_words(str(text or ""))
        for s in sorted(self.strip, key=len, reverse=True):
            if tuple(words[:len(s)]) == s and len(words) > len(s):
                words = words[len(s):]
                break
        return " ".join(words)

    def find(self, text: object) -> set[str]:
        return self.by_name.get(self.key(text), set())


def _ward_key_words() -> list[str]:
    return list(_WARD_WORDS)


def _project_in_title(lines: Sequence[str], projects: Mapping[str, str] | None) -> str | None:
    """The stored project a title names ("BẢNG TỔNG HỢP … DỰ ÁN: Đường X"), by id or name."""
    if not projects or not lines:
        return None
    text = " " + " ".join(fold_words(" ".join(lines))) + " "
    hits = []
    for pid, name in projects.items():
        for candidate in (pid, name):
            words = " ".join(fold_words(str(candidate or "")))
            if len(words) >= 3 and f" {words} " in text:
                hits.append((len(words), pid))
    if not hits:
        return None
    hits.sort(reverse=True)
    best = [p for n, p in hits if n == hits[0][0]]
    return best[0] if len(set(best)) == 1 else None


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
        default_project = _project_in_title(context.title_lines, context.projects)
        project_from = "title" if default_project else None
    wards = _Names(context.wards or {}, strip=_ward_key_words()) if context.wards else None
    projects = _Names(context.projects or {}) if context.projects else None
    default_ward: str | None = None
    if context.ward:
        default_ward = _resolve_ward(context.ward, context.wards, wards)[0]
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
    section_project, section_ward = None, None
    total_rows = section_rows = 0
    span: list[dict[str, object]] = []  # parsed figures since the last total row
    everything: list[dict[str, object]] = []

    def cell(row: Mapping[str, object], model: str) -> object:
        header = columns.get(model)
        if header is None:
            return None
        return _value(row.get(header))

    for excel_row, row in zip(row_numbers, frame.to_dict("records")):
        values = [_value(v) for v in row.values()]
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
        if keys_empty and texts and vocabulary.is_total(_first_text(row, columns)):
            total_rows += 1
            _check_total(row, columns, units, area_unit, span if not _is_grand(
                _first_text(row, columns), vocabulary) else everything, excel_row, issue)
            span = []
            continue
        if keys_empty and cell(row, "status") is None:
            # a section row: "I. Phường Phúc Diễn", "Dự án: …", or a heading
            section_rows += 1
            for text in [*texts, " ".join(texts)]:
                label = re.sub(r"^\s*([IVXLC]+|[0-9]+|[a-zA-Z])([.)]\s*|\s+)", "", text)
                if wards is not None and len(wards.find(label)) == 1:
                    section_ward = next(iter(wards.find(label)))
                    break
                if projects is not None and (hit := _find_project(label, context, projects)):
                    section_project = hit
                    break
            span = []
            continue
        rec: dict[str, object] = {"sheet": sheet, "sheet_row": excel_row}
        # project
        raw_project = cell(row, "project_id") or cell(row, "project_name")
        project_model = "project_id" if "project_id" in columns else "project_name"
        if raw_project is not None:
            pid = _find_project(raw_project, context, projects)
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
            number, problem = _whole(value, allow_unit="ho" if model == "households" else None)
            rec[model] = number
            if problem:
                issue(model, value, "bad_number", problem)
        for model in ("map_sheet", "parcel_no"):
            if rec.get(model) is None and model not in bad_models:
                issue(model, None, "missing_key", "empty key cell")
        # ward
        raw_code, raw_name = cell(row, "ward_code"), cell(row, "ward_name")
        ward: str | None = None
        if raw_code is not None or raw_name is not None:
            model = "ward_code" if raw_code is not None else "ward_name"
            ward, problem = _resolve_ward(raw_code if raw_code is not None else raw_name,
                                          context.wards, wards)
            if problem:
                issue(model, raw_code if raw_code is not None else raw_name, "unknown_ward",
                      problem)
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
        rec["owner_name"] = _text(cell(row, "owner_name"))
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
        rec["status_text"] = _text(raw_status)
        for model in ("compensation_approved_vnd", "compensation_paid_vnd"):
            value = cell(row, model)
            try:
                rec[model] = parse_vnd(value, unit=units.get(model, 1))
            except ValueError as exc:
                rec[model] = None
                issue(model, value, "bad_amount", str(exc))
        area = cell(row, "area_recovered_m2")
        rec["area_recovered_m2"], problem = _area(area, area_unit)
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
        rec["note"] = _text(cell(row, "note"))
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
        status, dates = _agree(rec, status, dates, issue)
        if status.cleared and dates["date_approved"] is None:
            issue("date_approved", None, "handed_over_without_approval",
                  f"status {status.value} but no plan approval date (paperwork behind)",
                  severity="warning")
        if rec.get("compensation_approved_vnd") is not None and \
                status.rank < Status.PLAN_APPROVED.rank:
            rec["problem"] = _join(rec["problem"], "approved_amount_before_approval")
            issue("compensation_approved_vnd", rec["compensation_approved_vnd"],
                  "amount_not_counted",
                  f"an approved amount of {rec['compensation_approved_vnd']:,} đồng on a row "
                  f"whose status ({rec['status_text']}) is before plan approval: it is listed "
                  "as a problem, not added to the approved total", severity="warning")
        if rec.get("compensation_paid_vnd") is not None and status.rank < Status.PAID.rank:
            rec["problem"] = _join(rec["problem"], "paid_amount_before_payment")
            issue("compensation_paid_vnd", rec["compensation_paid_vnd"], "amount_not_counted",
                  f"a paid amount of {rec['compensation_paid_vnd']:,} đồng on a row whose "
                  f"status ({rec['status_text']}) is before payment: it is listed as a "
                  "problem, not added to the paid total", severity="warning")
        records.append(rec)
        events.extend(_events(rec, status, dates))
    return SheetParse(
        pd.DataFrame(records, columns=RECORD_COLUMNS),
        pd.DataFrame(events, columns=EVENT_COLUMNS),
        pd.DataFrame(rejected, columns=[*RECORD_COLUMNS, "reason"]),
        pd.DataFrame(issues, columns=ISSUE_COLUMNS), columns,
        rows_total=len(records) + len(rejected), total_rows=total_rows,
        section_rows=section_rows, lacking=lacking, project_from=project_from)


class _Issue(Protocol):
    """The row's issue recorder (``parse_sheet``'s ``issue``)."""

    def __call__(self, model: str, value: object, rule: str, message: str,
                 severity: str = ..., *, _row: int = ..., _errors: list[str] = ...,
                 _bad: set[str] = ...) -> None: ...


def _agree(rec: dict[str, object], status: Status, dates: dict[str, dt.date | None],
           issue: _Issue) -> tuple[Status, dict[str, dt.date | None]]:
    """The sheet's own statement wins: milestone dates of steps after the stated status are
    not used as events, and the disagreement is listed."""
    later = {m: d for m, d in dates.items() if d is not None and DATE_STATUS[m].rank > status.rank
             and not (status.cleared and DATE_STATUS[m].cleared)}
    if not later:
        return status, dates
    names = ", ".join(f"{m} {d:%d/%m/%Y}" for m, d in later.items())
    rec["problem"] = _join(rec.get("problem"), "status_disagrees_with_dates")
    issue("status", rec.get("status_text"), "status_disagrees_with_dates",
          f"the sheet says {rec.get('status_text')!s} ({status.value}) but the row has later "
          f"milestone dates ({names}); the stated status is kept and the dates are listed",
          severity="warning")
    return status, {m: (None if m in later else d) for m, d in dates.items()}


def _events(rec: Mapping[str, object], status: Status,
            dates: Mapping[str, dt.date | None]) -> list[dict[str, object]]:
    """Dated steps of one row: each milestone date is an event; the current status without a
    date of its own, and an amount without its date, are known from the sheet's ``known_on``."""
    out = []
    base = {"project_id": rec["project_id"], "parcel_key": rec["parcel_key"],
            "sheet": rec["sheet"], "sheet_row": rec["sheet_row"]}
    for model, step in DATE_STATUS.items():
        date = dates.get(model)
        if date is None:
            continue
        amount = (rec.get("compensation_approved_vnd") if step is Status.PLAN_APPROVED else
                  rec.get("compensation_paid_vnd") if step is Status.PAID else None)
        out.append({**base, "status": step.value, "rank": step.rank, "date": date,
                    "amount_vnd": amount, "dated_by": model})
    later_steps = ("date_paid", "date_recovery_decided", "date_handed_over")
    for step, date_field, amount_field, after in (
            (Status.PLAN_APPROVED, "date_approved", "compensation_approved_vnd", later_steps),
            (Status.PAID, "date_paid", "compensation_paid_vnd", later_steps[1:])):
        if (status.rank >= step.rank and dates.get(date_field) is None
                and rec.get(amount_field) is not None):
            # past this step with an amount but no date: dated by the next step's date, else by
            # the day the sheet describes, so the money is not lost from the totals
            later = [d for m in after if (d := dates.get(m)) is not None]
            out.append({**base, "status": step.value, "rank": step.rank,
                        "date": min(later) if later else rec["known_on"],
                        "amount_vnd": rec.get(amount_field),
                        "dated_by": "inferred" if later else "known_on"})
    if not any(e["status"] == status.value for e in out):
        out.append({**base, "status": status.value, "rank": status.rank,
                    "date": rec["known_on"], "amount_vnd": None, "dated_by": "known_on"})
    return out


def _check_total(row: Mapping[str, object], columns: Mapping[str, str], units: Mapping[str, int],
                 area_unit: float, rows: list[dict[str, object]], excel_row: int,
                 issue: _Issue) -> None:
    """A total row's sums against the rows it covers; a mismatch is a warning."""
    for model in ("households", "compensation_approved_vnd", "compensation_paid_vnd",
                  "area_recovered_m2"):
        header = columns.get(model)
        value = _value(row.get(header)) if header else None
        if value is None:
            continue
        try:
            if model == "households":
                stated: float | None = _whole(value, allow_unit="ho")[0]
            elif model == "area_recovered_m2":
                stated = _area(value, area_unit)[0]
            else:
                stated = parse_vnd(value, unit=units.get(model, 1))
        except ValueError:
            stated = None
        if stated is None:
            continue
        summed = sum(float(cast(float, r[model])) for r in rows if r.get(model) is not None)
        tolerance = 0.5 if model == "area_recovered_m2" else 1.0
        if abs(summed - float(stated)) > tolerance:
            issue(model, value, "total_mismatch",
                  f"the total row says {stated:,.0f} but its {len(rows)} rows add up to "
                  f"{summed:,.0f}", severity="warning", _row=excel_row, _errors=[], _bad=set())


def _is_grand(text: object, vocabulary: Vocabulary) -> bool:
    words = fold_words(str(text or ""))
    return words[:2] in (["tong", "cong"], ["tong", "so"]) or words[:1] == ["total"] or \
        (words[:1] == ["tong"] and len(words) == 1)


def _first_text(row: Mapping[str, object], columns: Mapping[str, str]) -> object:
    for value in row.values():
        value = _value(value)
        if isinstance(value, str):
            return value
    return None


def _find_project(text: object, context: SheetContext, names: _Names | None) -> str | None:
    raw = str(text).strip()
    if context.projects is None:
        return raw or None
    if raw in context.projects:
        return raw
    if names is None:
        return None
    hits = names.find(raw)
    if len(hits) == 1:
        return next(iter(hits))
    label = re.sub(r"^\s*(du an|cong trinh)\s*:?\s*", "", " ".join(fold_words(raw)))
    hits = names.find(label)
    return next(iter(hits)) if len(hits) == 1 else None


def _resolve_ward(value: object, stored: Mapping[str, str] | None,
                  names: _Names | None) -> tuple[str | None, str | None]:
    """A ward code from a code or a name; (code, None) or (None, the problem)."""
    code = normalise_ward_code(value)
    if code is not None and code.isdigit():
        if len(code) != 5:
            return None, f"{value!s} is not a ward code (5 digits)"
        if stored is not None and code not in stored:
            return None, f"ward {code} is not in the wards layer"
        return code, None
    if names is None:
        return None, (f"ward {value!s} is given by name but the store has no wards layer to "
                      "look it up; load the wards or use ward codes")
    hits = names.find(value)
    if len(hits) == 1:
        return next(iter(hits)), None
    if len(hits) > 1:
        return None, (f"ward name {value!s} is ambiguous: "
                      + ", ".join(f"{c} {stored.get(c, '')}" for c in sorted(hits)  # type: ignore[union-attr]
                                  ) + "; use the ward code")
    import difflib

    near = difflib.get_close_matches(names.key(value), list(names.by_name), n=3, cutoff=0.6)
    return None, (f"ward {value!s} is not in the wards layer"
                  + (f"; nearest: {', '.join(near)}" if near else ""))


def _whole(value: object, *, allow_unit: str | None = None) -> tuple[int | None, str | None]:
    """A whole non-negative number from a cell: (number, None) or (None, the problem)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, f"not a whole number: {value!r}"
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if allow_unit:
            words = fold_words(text)
            if words and words[-1] == allow_unit:
                text = text[: len(text) - len(text.split()[-1])].strip() if " " in text else text
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return None, f"not a whole number: {value!r}"
    if number != number or not number.is_integer():
        return None, f"not a whole number: {value!r}"
    if number < 0:
        return None, f"a negative number: {value!r}"
    return int(number), None


def _area(value: object, unit: float) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = re.sub(r"\s*(m2|m²|ha)\s*$", "", str(value).strip(), flags=re.I).replace(" ", "")
        if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", text):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None, f"not an area: {value!r}"
    if number != number or number < 0:
        return None, f"not an area: {value!r}"
    return number * unit, None


def _value(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _join(old: object, new: str) -> str:
    return new if not old else f"{old},{new}"


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
