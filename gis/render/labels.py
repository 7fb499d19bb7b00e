"""Field labels, number formats and value labels for map popups, in Vietnamese and English.

Numbers are formatted in the page with ``toLocaleString`` ("vi-VN" gives 1.052,19); the table
here says which unit, scale and digits each field takes (money in billions of đồng, as the
compensation boards report it: 182,9 tỷ đồng).
"""

from __future__ import annotations

from gis.catalog import StyleSpec

__all__ = ["column_headers", "field_labels", "field_formats", "value_labels"]

_FIELDS: dict[str, tuple[str, str]] = {
    "parcel_key": ("Thửa (xã-tờ-thửa)", "Parcel (ward-sheet-no)"),
    "map_sheet": ("Tờ bản đồ", "Map sheet"), "parcel_no": ("Số thửa", "Parcel no."),
    "land_use": ("Loại đất", "Land use"), "area_m2": ("Diện tích", "Area"),
    "owner_name": ("Chủ sử dụng", "Land user"), "address": ("Địa chỉ", "Address"),
    "project_id": ("Mã dự án", "Project ID"), "name": ("Tên", "Name"),
    "investor": ("Chủ đầu tư", "Investor"), "capital_source": ("Nguồn vốn", "Capital source"),
    "start_type": ("Khởi công", "Start"), "key_project": ("Dự án trọng điểm", "Key project"),
    "planned_area_ha": ("Diện tích quy hoạch", "Planned area"),
    "ward_code": ("Mã phường/xã", "Ward code"), "district": ("Quận/huyện", "District"),
    "building_id": ("Công trình", "Building"), "floors": ("Số tầng", "Floors"),
    "year_built": ("Năm xây dựng", "Year built"), "case_id": ("Mã vụ việc", "Case no."),
    "kind": ("Loại vi phạm", "Violation"), "status": ("Trạng thái", "Status"),
    "parcel_keys": ("Thửa đất", "Parcels"), "notes": ("Ghi chú", "Notes"),
    "minutes_no": ("Biên bản số", "Minutes no."), "decision_no": ("Quyết định số", "Decision no."),
    "age_days": ("Đã phát hiện", "Age"), "source": ("Nguồn", "Source"),
    "status_date": ("Ngày cập nhật", "Status date"), "share": ("Tỷ lệ thửa trong dự án", "Share inside"),
    "households": ("Số hộ", "Households"), "approved_vnd": ("Bồi thường được duyệt", "Approved"),
    "paid_vnd": ("Đã chi trả", "Paid"), "handed_over": ("Đã bàn giao", "Handed over"),
    "parcels_affected": ("Số thửa bị thu hồi", "Parcels affected"),
    "parcels_handed_over": ("Số thửa đã bàn giao", "Parcels handed over"),
    "compensation_approved_vnd": ("Bồi thường được duyệt", "Compensation approved"),
    "compensation_paid_vnd": ("Đã chi trả", "Compensation paid"),
    "pct_area_recovered": ("Diện tích đã thu hồi", "Area recovered"),
    "pct_plans_approved": ("Phương án đã duyệt", "Plans approved"),
    "pct_paid": ("Đã chi trả", "Paid"), "capital_plan_vnd": ("Kế hoạch vốn", "Capital plan"),
    "disbursed_vnd": ("Đã giải ngân", "Disbursed"), "is_public": ("Đất công", "Public land"),
    "land_group": ("Nhóm đất", "Land group"), "public_rule": ("Căn cứ xác định", "Rule"),
    # model fields that exports show as column headers (CSV, XLSX)
    "ward_name": ("Tên phường/xã", "Ward name"), "ward_codes": ("Mã phường/xã", "Ward codes"),
    "province": ("Tỉnh/thành phố", "Province"),
    "land_use_codes": ("Các loại đất", "Land use codes"),
    "land_use_source": ("Loại đất (nguồn)", "Land use (as found)"),
    "land_use_system": ("Hệ mã loại đất", "Land use code system"),
    "owner_code": ("Mã chủ sử dụng", "Land user code"),
    "origin_code": ("Nguồn gốc sử dụng", "Origin of use"),
    "area_recorded_m2": ("Diện tích ghi nhận", "Recorded area"),
    "legal_area_m2": ("Diện tích pháp lý", "Legal area"),
    "geometry_repaired": ("Hình học đã sửa", "Geometry repaired"),
    "geometry_original_wkt": ("Hình học gốc (WKT)", "Original geometry (WKT)"),
    "source_row": ("Dòng nguồn", "Source row"), "extra": ("Trường khác", "Other fields"),
    "start_year": ("Năm khởi công", "Start year"),
    "overlap_m2": ("Diện tích trong dự án", "Area inside the project"),
    "parcel_area_m2": ("Diện tích thửa", "Parcel area"),
    "approval_date": ("Ngày phê duyệt", "Approval date"),
    "cleared_date": ("Ngày bàn giao mặt bằng", "Cleared date"),
    "as_of": ("Số liệu đến ngày", "As of"), "overdue": ("Quá hạn", "Overdue"),
    "occurred_on": ("Ngày xảy ra", "Occurred on"), "created_at": ("Ngày tạo", "Created at"),
    "fine_vnd": ("Tiền phạt", "Fine"), "inspector": ("Cán bộ thanh tra", "Inspector"),
    "closed_reason": ("Lý do kết thúc", "Reason closed"),
    "remedy_deadline": ("Hạn khắc phục", "Remedy deadline"),
    "wkt": ("Hình học (WKT)", "Geometry (WKT)"),
}

_UNITS = {"vi": {"days": "ngày", "bn": "tỷ đồng", "yes": "Có", "no": "Không"},
          "en": {"days": "days", "bn": "bn VND", "yes": "Yes", "no": "No"}}


def field_labels(fields: tuple[str, ...] | list[str], lang: str) -> dict[str, str]:
    """The label of each field (the field name itself when none is known)."""
    i = 0 if lang == "vi" else 1
    return {f: _FIELDS[f][i] if f in _FIELDS else f for f in fields}


def _unit(field: str, lang: str) -> str:
    """The unit a raw model column is written in (exports keep m² and đồng, unconverted)."""
    if field.endswith("_m2"):
        return "m²"
    if field.endswith("_vnd"):
        return "đồng" if lang == "vi" else "VND"
    if field.endswith("_ha"):
        return "ha"
    if field.startswith("pct_"):
        return "%"
    return ""


def column_headers(columns: tuple[str, ...] | list[str], lang: str) -> dict[str, str]:
    """Column headers for a table people read (CSV, XLSX exports): the field label with its
    unit (``Diện tích (m²)``); a label two columns would share keeps its field name too."""
    labels = field_labels(list(columns), lang)
    out = {}
    for c in columns:
        unit = _unit(c, lang) if c in _FIELDS else ""
        out[c] = f"{labels[c]} ({unit})" if unit else labels[c]
    seen: dict[str, int] = {}
    for header in out.values():
        seen[header] = seen.get(header, 0) + 1
    return {c: (f"{h} [{c}]" if seen[h] > 1 and h != c else h) for c, h in out.items()}


def field_formats(fields: tuple[str, ...] | list[str], lang: str) -> dict[str, dict[str, object]]:
    """How the page formats each numeric field: ``scale``, ``digits``, ``unit``."""
    units = _UNITS[lang]
    out: dict[str, dict[str, object]] = {}
    for f in fields:
        if f.endswith("_vnd"):
            out[f] = {"scale": 1e-9, "digits": 1, "unit": units["bn"]}
        elif f.startswith("pct_") or f == "share":
            out[f] = {"scale": 100.0 if f == "share" else 1.0, "digits": 1, "unit": "%"}
        elif f == "area_m2":
            out[f] = {"digits": 2, "unit": "m²"}
        elif f.endswith("_ha"):
            out[f] = {"digits": 2, "unit": "ha"}
        elif f == "age_days":
            out[f] = {"digits": 0, "unit": units["days"]}
        elif f in ("map_sheet", "parcel_no", "year_built", "start_year"):
            out[f] = {"digits": 0, "grouping": False}
    return out


def yes_no(lang: str) -> tuple[str, str]:
    """The words for true and false."""
    return _UNITS[lang]["yes"], _UNITS[lang]["no"]


def value_labels(style: StyleSpec, fields: tuple[str, ...] | list[str],
                 lang: str) -> dict[str, dict[str, str]]:
    """Labels for coded values: the style's own labels for its ``by`` field, violation kinds and
    clearance statuses wherever those fields appear."""
    from gis.core.clearance.status import LABELS_VI, Status
    from gis.core.violations.rules import KINDS
    from gis.report.violations import STATUS_VI

    out: dict[str, dict[str, str]] = {}
    if "kind" in fields:
        out["kind"] = {k: v[0] if lang == "vi" else k.replace("_", " ") for k, v in KINDS.items()}
    if "status" in fields and lang == "vi":
        out["status"] = {**STATUS_VI, **{s.value: LABELS_VI[s] for s in Status}}
    if style.by and style.labels:
        out[style.by] = {k: (t.vi if lang == "vi" else t.en) for k, t in style.labels.items()}
    return out
