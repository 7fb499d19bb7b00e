"""Clearance status sheets of the compensation board → records and dated status events.

Headers are matched by an alias table (Vietnamese with or without diacritics; a YAML may
override), statuses parsed to the workflow, amounts and dates parsed. Every problem becomes an
issue naming the sheet, the spreadsheet row number and the column; a row with an error is kept
aside (``rejected``) with its reasons, never dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from gis.core.clearance.status import Status, parse_status
from gis.core.clearance.values import column_unit, parse_date, parse_vnd
from gis.core.model import normalise_ward_code
from gis.errors import FieldMappingError
from gis.fields import fold_name

__all__ = ["SHEET_ALIASES", "SheetParse", "map_sheet_columns", "parse_sheet", "DATE_STATUS"]

SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    "project_id": ("Mã dự án", "Mã DA", "MaDuAn", "Dự án", "project_id"),
    "ward_code": ("Mã xã", "Mã phường", "Mã phường xã", "MaXa", "ward_code"),
    "map_sheet": ("Số tờ", "Tờ bản đồ", "Số tờ bản đồ", "Tờ", "SoTo", "map_sheet"),
    "parcel_no": ("Số thửa", "Thửa", "Thửa đất số", "SoThua", "parcel_no"),
    "owner_name": ("Chủ sử dụng", "Họ tên", "Tên chủ", "Chủ hộ", "Họ và tên", "owner_name"),
    "households": ("Số hộ", "households"),
    "status": ("Trạng thái", "Tình trạng", "Tiến độ", "status"),
    "date_notified": ("Ngày thông báo", "Ngày TB", "Ngày thông báo thu hồi"),
    "date_inventoried": ("Ngày kiểm đếm",),
    "date_approved": ("Ngày phê duyệt PA", "Ngày phê duyệt", "Ngày phê duyệt phương án"),
    "compensation_approved_vnd": ("Số tiền phê duyệt", "Kinh phí phê duyệt", "Tiền phê duyệt",
                                  "Số tiền bồi thường phê duyệt"),
    "compensation_paid_vnd": ("Số tiền đã chi trả", "Đã chi trả", "Kinh phí đã chi trả",
                              "Tiền đã chi trả"),
    "date_paid": ("Ngày chi trả",),
    "date_recovery_decided": ("Ngày quyết định thu hồi", "Ngày QĐ thu hồi"),
    "date_handed_over": ("Ngày bàn giao", "Ngày bàn giao mặt bằng"),
    "complaint": ("Khiếu nại", "Có khiếu nại"),
    "note": ("Ghi chú", "note"),
}
REQUIRED = ("project_id", "ward_code", "map_sheet", "parcel_no", "status")
DATE_STATUS = {"date_notified": Status.NOTIFIED, "date_inventoried": Status.INVENTORIED,
               "date_approved": Status.PLAN_APPROVED, "date_paid": Status.PAID,
               "date_recovery_decided": Status.RECOVERY_DECIDED,
               "date_handed_over": Status.HANDED_OVER}
_TRUE = {"co", "x", "1", "true", "yes", "cokhieunai"}

ISSUE_COLUMNS = ["sheet", "row", "column", "value", "rule", "severity", "message"]


def map_sheet_columns(headers: list[str], *, overrides: Mapping[str, str] | None = None,
                      sheet: str = "", path: str | None = None) -> dict[str, str]:
    """Model field → sheet header. A header matches an alias exactly (folded) or starts with it
    (units in brackets: "Số tiền phê duyệt (đồng)")."""
    out: dict[str, str] = dict(overrides or {})
    used = set(out.values())
    folded = {h: fold_name(str(h)) for h in headers}
    for model, aliases in SHEET_ALIASES.items():
        if model in out:
            continue
        for exact in (True, False):
            hit = next((h for a in aliases for h in headers if h not in used and (
                folded[h] == fold_name(a) if exact else folded[h].startswith(fold_name(a)))), None)
            if hit is not None:
                out[model] = hit
                used.add(hit)
                break
    missing = [m for m in REQUIRED if m not in out]
    if missing:
        raise FieldMappingError(
            f"sheet {sheet!r}: cannot find column(s) for {', '.join(missing)}; looked for "
            + "; ".join(f"{m} as {'/'.join(SHEET_ALIASES[m])}" for m in missing)
            + f"; the sheet has: {', '.join(map(str, headers))}", path=path, layer=sheet,
            field=missing[0])
    return out


@dataclass
class SheetParse:
    """Accepted records, their dated status events, rows kept aside, and every issue."""

    records: pd.DataFrame
    events: pd.DataFrame
    rejected: pd.DataFrame
    issues: pd.DataFrame
    columns: dict[str, str]
    rows_total: int

    def summary(self) -> dict[str, object]:
        """Counts that add up: total = accepted + rejected."""
        counts = self.issues.groupby("rule").size().to_dict() if len(self.issues) else {}
        return {"rows_total": self.rows_total, "rows_accepted": len(self.records),
                "rows_rejected": len(self.rejected), "events": len(self.events),
                "issues": {str(k): int(v) for k, v in counts.items()}}


def parse_sheet(frame: pd.DataFrame, *, sheet: str = "", header_row: int = 1,
                overrides: Mapping[str, str] | None = None, path: str | None = None,
                parcel_keys: set[str] | None = None, project_ids: set[str] | None = None,
                known_on: dt.date | None = None) -> SheetParse:
    """Parse a status sheet (one row per parcel × project) read as text/values.

    ``header_row`` is the spreadsheet row of the headers, so issue rows are the numbers a user
    sees in Excel. ``parcel_keys``/``project_ids``, when given, are the keys known to the store:
    rows that match none are kept aside. ``known_on`` is the day the sheet describes (default
    today): a status or amount without its own date is known from that day.
    """
    known_on = known_on or dt.date.today()
    columns = map_sheet_columns([str(c) for c in frame.columns], overrides=overrides, sheet=sheet,
                                path=path)
    units = {m: column_unit(columns[m]) for m in ("compensation_approved_vnd",
                                                  "compensation_paid_vnd") if m in columns}
    issues: list[dict[str, object]] = []
    for model in ("date_approved", "compensation_approved_vnd", "compensation_paid_vnd",
                  "date_paid", "date_handed_over", "households"):
        if model not in columns:
            issues.append({"sheet": sheet, "row": header_row, "column": model, "value": None,
                           "rule": "missing_column", "severity": "warning",
                           "message": f"no column for {model} (looked for "
                                      f"{' / '.join(SHEET_ALIASES[model])}); its figures will be "
                                      "empty — map it in a sheet YAML"})
    records: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []
    seen: dict[tuple[str, str], int] = {}

    def cell(row: Mapping[str, object], model: str) -> object:
        header = columns.get(model)
        if header is None:
            return None
        value = row.get(header)
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        if isinstance(value, str) and not value.strip():
            return None
        return value

    for i, row in enumerate(frame.to_dict("records")):
        excel_row = header_row + 1 + i
        errors: list[str] = []
        bad_models: set[str] = set()

        def issue(model: str, value: object, rule: str, message: str, severity: str = "error"
                  ) -> None:
            issues.append({"sheet": sheet, "row": excel_row, "column": columns.get(model, model),
                           "value": None if value is None else str(value), "rule": rule,
                           "severity": severity, "message": message})
            if severity == "error":
                errors.append(f"{columns.get(model, model)}: {message}")
                bad_models.add(model)

        if all(v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v.strip())
               for v in row.values()):
            continue  # blank spreadsheet row
        rec: dict[str, object] = {"sheet": sheet, "sheet_row": excel_row}
        project = cell(row, "project_id")
        rec["project_id"] = str(project).strip() if project is not None else None
        rec["ward_code"] = normalise_ward_code(cell(row, "ward_code"))
        for model in ("map_sheet", "parcel_no", "households"):
            value = cell(row, model)
            try:
                number = float(str(value).strip().replace(",", ".")) if value is not None else None
                if number is not None and not number.is_integer():
                    raise ValueError
                rec[model] = int(number) if number is not None else None
            except ValueError:
                rec[model] = None
                issue(model, value, "bad_number", f"not a whole number: {value!r}")
        for model in ("project_id", "ward_code", "map_sheet", "parcel_no"):
            if rec.get(model) is None and model not in bad_models:
                issue(model, None, "missing_key", "empty key cell")
        rec["parcel_key"] = (f"{rec['ward_code']}-{rec['map_sheet']}-{rec['parcel_no']}"
                             if None not in (rec["ward_code"], rec["map_sheet"], rec["parcel_no"])
                             else None)
        rec["owner_name"] = _text(cell(row, "owner_name"))
        raw_status = cell(row, "status")
        status = parse_status(raw_status)
        if raw_status is None:
            issue("status", None, "missing_status", "empty status")
        elif status is None:
            issue("status", raw_status, "unknown_status",
                  f"unknown status {raw_status!r}; expected a workflow step such as "
                  "'Đã thông báo thu hồi', 'Đã phê duyệt phương án', 'Đã bàn giao mặt bằng'")
        rec["status"] = status.value if status else None
        rec["status_text"] = _text(raw_status)
        for model in ("compensation_approved_vnd", "compensation_paid_vnd"):
            value = cell(row, model)
            try:
                rec[model] = parse_vnd(value, unit=units.get(model, 1))
            except ValueError as exc:
                rec[model] = None
                issue(model, value, "bad_amount", str(exc))
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
        if rec["parcel_key"] and parcel_keys is not None and rec["parcel_key"] not in parcel_keys:
            issue("parcel_no", rec["parcel_key"], "unknown_parcel",
                  f"parcel {rec['parcel_key']} (ward-sheet-number) is not in the parcels layer")
        if rec["project_id"] and project_ids is not None and rec["project_id"] not in project_ids:
            issue("project_id", rec["project_id"], "unknown_project",
                  f"project {rec['project_id']} is not in the projects layer")
        pair = (str(rec["project_id"]), str(rec["parcel_key"]))
        if not errors and pair in seen:
            issue("parcel_no", rec["parcel_key"], "duplicate_row",
                  f"the same project and parcel as row {seen[pair]}")
        if errors:
            rejected.append({**rec, "reason": "; ".join(errors)})
            continue
        seen[pair] = excel_row
        status_obj = Status(rec["status"])
        if status_obj.cleared and dates["date_approved"] is None:
            issue("date_approved", None, "handed_over_without_approval",
                  f"status {status_obj.value} but no plan approval date (paperwork behind)",
                  severity="warning")
        records.append(rec)
        events.extend(_events(rec, status_obj, dates))
    return SheetParse(
        pd.DataFrame(records), pd.DataFrame(events, columns=EVENT_COLUMNS),
        pd.DataFrame(rejected), pd.DataFrame(issues, columns=ISSUE_COLUMNS), columns,
        rows_total=len(records) + len(rejected))


EVENT_COLUMNS = ["project_id", "parcel_key", "status", "rank", "date", "amount_vnd", "sheet",
                 "sheet_row", "dated_by"]


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
            later = [dates[m] for m in after if dates.get(m) is not None]
            out.append({**base, "status": step.value, "rank": step.rank,
                        "date": min(later) if later else rec["known_on"],
                        "amount_vnd": rec.get(amount_field),
                        "dated_by": "inferred" if later else "known_on"})
    if not any(e["status"] == status.value for e in out):
        out.append({**base, "status": status.value, "rank": status.rank,
                    "date": rec["known_on"], "amount_vnd": None, "dated_by": "known_on"})
    return out


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
