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

__all__ = ["LEVELS", "report_table", "district_table", "write_xlsx", "write_csv", "column_title"]

# column -> (vi, en, unit conversion, Excel number format)
_COLUMNS: dict[str, tuple[str, str, float, str]] = {
    "project_id": ("Mã dự án", "Project", 1, "@"),
    "ward_code": ("Mã phường/xã", "Ward code", 1, "@"),
    "name": ("Tên dự án", "Project name", 1, "@"),
    "capital_source": ("Nguồn vốn", "Capital source", 1, "@"),
    "start_type": ("Khởi công", "Start type", 1, "@"),
    "key_project": ("Trọng điểm", "Key project", 1, "@"),
    "projects": ("Số dự án", "Projects", 1, "#,##0"),
    "parcels_affected": ("Số thửa bị ảnh hưởng", "Parcels affected", 1, "#,##0"),
    "parcels_handed_over": ("Số thửa đã bàn giao", "Parcels handed over", 1, "#,##0"),
    "parcels_not_started": ("Số thửa chưa triển khai", "Parcels not started", 1, "#,##0"),
    "area_affected_m2": ("Diện tích phải thu hồi (ha)", "Area to recover (ha)", 1e-4, "#,##0.00"),
    "area_recovered_m2": ("Diện tích đã thu hồi (ha)", "Area recovered (ha)", 1e-4, "#,##0.00"),
    "pct_area_recovered": ("Tỷ lệ diện tích (%)", "Area recovered (%)", 1, "0.0"),
    "plans_total": ("Số phương án phải phê duyệt", "Plans to approve", 1, "#,##0"),
    "plans_approved": ("Số phương án đã phê duyệt", "Plans approved", 1, "#,##0"),
    "pct_plans_approved": ("Tỷ lệ phê duyệt (%)", "Plans approved (%)", 1, "0.0"),
    "households": ("Số hộ", "Households", 1, "#,##0"),
    "compensation_approved_vnd": ("Kinh phí đã phê duyệt (tỷ đồng)",
                                  "Compensation approved (bn VND)", 1e-9, "#,##0.000"),
    "compensation_paid_vnd": ("Kinh phí đã chi trả (tỷ đồng)", "Compensation paid (bn VND)",
                              1e-9, "#,##0.000"),
    "pct_paid": ("Tỷ lệ chi trả (%)", "Paid (%)", 1, "0.0"),
    "capital_plan_vnd": ("Kế hoạch vốn (tỷ đồng)", "Capital plan (bn VND)", 1e-9, "#,##0.000"),
    "disbursed_vnd": ("Đã giải ngân (tỷ đồng)", "Disbursed (bn VND)", 1e-9, "#,##0.000"),
    "disbursement_pct": ("Tỷ lệ giải ngân (%)", "Disbursed (%)", 1, "0.0"),
    "area_recovered_this_year_m2": ("Thu hồi trong năm (ha)", "Recovered this year (ha)", 1e-4,
                                    "#,##0.00"),
    "area_recovered_last_year_m2": ("Thu hồi năm trước (ha)", "Recovered last year (ha)", 1e-4,
                                    "#,##0.00"),
    "overdue_payments": ("Chi trả quá hạn", "Overdue payments", 1, "#,##0"),
    "complaints": ("Khiếu nại", "Complaints", 1, "#,##0"),
    "completed": ("Hoàn thành GPMB", "Completed", 1, "@"),
}
_VOCAB = {"vi": {"STATE_BUDGET": "Ngân sách", "NON_BUDGET": "Ngoài ngân sách",
                 "UNKNOWN": "Không xác định",
                 "CARRIED_OVER": "Chuyển tiếp", "NEW": "Mới", True: "Có", False: "Không"},
          "en": {"STATE_BUDGET": "State budget", "NON_BUDGET": "Non-budget",
                 "UNKNOWN": "Unknown",
                 "CARRIED_OVER": "Carried over", "NEW": "New", True: "yes", False: "no"}}
LEVELS = {"projects": ("Dự án", "Projects"), "wards": ("Phường xã", "Wards"),
          "district": ("Toàn huyện", "District"), "problems": ("Vấn đề", "Problems")}
_PROJECT_ORDER = ["project_id", "name", "capital_source", "start_type", "key_project",
                  "parcels_affected", "parcels_handed_over", "parcels_not_started",
                  "area_affected_m2", "area_recovered_m2", "pct_area_recovered", "plans_total",
                  "plans_approved", "pct_plans_approved", "households",
                  "compensation_approved_vnd", "compensation_paid_vnd", "pct_paid",
                  "capital_plan_vnd", "disbursed_vnd", "disbursement_pct",
                  "area_recovered_this_year_m2", "area_recovered_last_year_m2",
                  "overdue_payments", "complaints", "completed"]
_WARD_ORDER = ["ward_code", "projects", "parcels_affected", "parcels_handed_over",
               "parcels_not_started", "area_affected_m2", "area_recovered_m2",
               "pct_area_recovered", "plans_total", "plans_approved", "pct_plans_approved",
               "households", "compensation_approved_vnd", "compensation_paid_vnd", "pct_paid",
               "overdue_payments", "complaints"]


def column_title(column: str, lang: str) -> str:
    """The display title of a model column."""
    vi, en, _, _ = _COLUMNS[column]
    return vi if lang == "vi" else en


def _lang_index(lang: str) -> int:
    if lang not in ("vi", "en"):
        raise ValueError(f"unknown language {lang!r}; valid: vi, en")
    return 0 if lang == "vi" else 1


def report_table(progress: Progress, level: str, *, lang: str = "vi"
                 ) -> tuple[pd.DataFrame, list[str]]:
    """A level (``projects``, ``wards``, ``problems``) as display columns; returns the frame and
    the Excel number format of each column."""
    i = _lang_index(lang)
    if level == "problems":
        kinds = {"ahead_of_paperwork": ("Bàn giao khi chưa có quyết định phê duyệt phương án",
                                        "Handed over without plan approval"),
                 "payment_overdue": ("Chậm chi trả quá 30 ngày sau phê duyệt",
                                     "Payment overdue (30 days after approval)"),
                 "complaints": ("Có khiếu nại", "Complaints"),
                 "row_outside_project": ("Dòng bảng kê ngoài ranh dự án",
                                         "Sheet row outside its project"),
                 "amount_not_counted": ("Số tiền trên bảng kê chưa được cộng vào tổng",
                                        "Sheet amount not in the totals"),
                 "status_disagrees_with_dates": ("Trạng thái khác với các mốc ngày trên dòng",
                                                 "Stated status disagrees with the row's dates"),
                 "area_differs": ("Diện tích thu hồi trên bảng kê khác bản đồ",
                                  "Sheet area differs from the map"),
                 "capital_source_unknown": ("Nguồn vốn không xác định",
                                            "Unknown capital source")}
        problems = progress.problems.assign(kind=progress.problems["kind"].map(
            lambda k: kinds.get(k, (k, k))[i]))
        frame = problems.rename(columns={
            "kind": ("Loại vấn đề", "Problem")[i], "project_id": ("Mã dự án", "Project")[i],
            "parcel_key": ("Thửa (xã-tờ-thửa)", "Parcel (ward-sheet-no)")[i],
            "detail": ("Chi tiết", "Detail")[i],
            "approved_vnd": ("Số tiền phê duyệt (đồng)", "Approved amount (VND)")[i],
            "paid_vnd": ("Số tiền đã chi trả (đồng)", "Paid amount (VND)")[i]})
        frame = frame.astype(object).where(frame.notna(), None)
        return frame, ["@" if c not in ("approved_vnd", "paid_vnd") else "#,##0"
                       for c in problems.columns]
    source = progress.projects if level == "projects" else progress.wards
    order = [c for c in (_PROJECT_ORDER if level == "projects" else _WARD_ORDER) if c in source]
    out = pd.DataFrame(index=source.index)
    formats = []
    for column in order:
        vi, en, factor, fmt = _COLUMNS[column]
        values = source[column]
        if factor != 1:
            values = pd.to_numeric(values, errors="coerce") * factor
        elif column in ("capital_source", "start_type", "key_project", "completed"):
            values = values.map(lambda v: _VOCAB[lang].get(v, v))
        out[(vi, en)[i]] = values
        formats.append(fmt)
    return out.reset_index(drop=True), formats


def district_table(progress: Progress, *, lang: str = "vi") -> pd.DataFrame:
    """The district totals as a two-column table (label, value)."""
    d = progress.district
    i = _lang_index(lang)
    def grp(key: str, vi: str, en: str) -> list[tuple[str, object]]:
        g = d[key]
        return [((f"{vi}: số dự án", f"{en}: projects")[i], g["projects"]),
                ((f"{vi}: diện tích đã thu hồi (ha)", f"{en}: area recovered (ha)")[i],
                 round(g["area_recovered_m2"] / 1e4, 3)),
                ((f"{vi}: phương án đã phê duyệt", f"{en}: plans approved")[i],
                 f"{g['plans_approved']}/{g['plans_total']}"),
                ((f"{vi}: đã chi trả (tỷ đồng)", f"{en}: paid (bn VND)")[i],
                 round(g["compensation_paid_vnd"] / 1e9, 3))]

    rows = [(("Số dự án", "Projects")[i], d["projects_total"]),
            (("Dự án vốn ngân sách", "State-budget projects")[i], d["state_budget"]["projects"]),
            (("  trong đó chuyển tiếp", "  of which carried over")[i], d["state_budget"]["carried_over"]),
            (("  trong đó khởi công mới", "  of which new")[i], d["state_budget"]["new"]),
            (("Dự án vốn ngoài ngân sách", "Non-budget projects")[i], d["non_budget"]["projects"]),
            (("Dự án chưa xác định nguồn vốn", "Projects with unknown capital source")[i],
             d.get("unknown_capital", {}).get("projects", 0)),
            (("Dự án trọng điểm", "Key projects")[i], d["key_projects"]["projects"]),
            (("Dự án hoàn thành GPMB", "Projects completed")[i], d["projects_completed"])]
    for column in ("parcels_affected", "parcels_handed_over", "parcels_not_started",
                   "area_affected_m2", "area_recovered_m2", "plans_total", "plans_approved",
                   "households", "compensation_approved_vnd", "compensation_paid_vnd",
                   "area_recovered_this_year_m2", "area_recovered_last_year_m2",
                   "overdue_payments", "complaints"):
        vi, en, factor, _ = _COLUMNS[column]
        rows.append(((vi, en)[i], round(float(d[column]) * factor, 3) if factor != 1 else d[column]))
    rows += grp("state_budget", "Vốn ngân sách", "State budget")
    rows += grp("non_budget", "Vốn ngoài ngân sách", "Non-budget")
    rows += grp("carried_over", "Chuyển tiếp", "Carried over")
    rows += grp("new", "Khởi công mới", "New")
    rows += grp("key_projects", "Dự án trọng điểm", "Key projects")
    rule = d.get("plans_rule")
    if isinstance(rule, dict):
        rows.append((("Cách đếm phương án", "How plans are counted")[i], rule[lang]))
    lacking = d.get("columns_lacking")
    if lacking:
        rows.append((("Cột không có trong các bảng kê đã nạp (số liệu để trống)",
                      "Columns no loaded sheet had (figures empty)")[i], ", ".join(lacking)))
    return pd.DataFrame(rows, columns=[("Chỉ tiêu", "Figure")[i], ("Giá trị", "Value")[i]])


def write_xlsx(progress: Progress, path: str | os.PathLike[str], *, lang: str = "vi",
               summary: str = "") -> Path:
    """One sheet per level, Vietnamese headers, number formats, frozen header row; atomic."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    i = _lang_index(lang)
    wb = Workbook()
    wb.remove(wb.active)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E78")
    sheets: list[tuple[str, pd.DataFrame, list[str]]] = []
    for level in ("projects", "wards", "problems"):
        frame, formats = report_table(progress, level, lang=lang)
        sheets.append((LEVELS[level][i], frame, formats))
    district = district_table(progress, lang=lang)
    sheets.insert(2, (LEVELS["district"][i], district, ["@", "#,##0.###"]))
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
        if title == LEVELS["district"][i] and summary:
            ws.cell(row=ws.max_row + 2, column=1, value=summary)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    os.replace(tmp, path)
    return path


def write_csv(progress: Progress, path: str | os.PathLike[str], *, lang: str = "vi") -> list[Path]:
    """Projects to ``path``; wards, district and problems beside it (``<stem>_wards.csv`` …)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    tables = {"": report_table(progress, "projects", lang=lang)[0],
              "_wards": report_table(progress, "wards", lang=lang)[0],
              "_district": district_table(progress, lang=lang),
              "_problems": report_table(progress, "problems", lang=lang)[0]}
    for suffix, frame in tables.items():
        target = path.with_name(f"{path.stem}{suffix}{path.suffix or '.csv'}")
        atomic_write_csv(frame, target)
        out.append(target)
    return out
