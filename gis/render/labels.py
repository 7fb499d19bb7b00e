"""Field labels, number formats and value labels for map popups, in Vietnamese and English.

Numbers are formatted in the page with ``toLocaleString`` ("vi-VN" gives 1.052,19); the table
here says which unit, scale and digits each field takes (money in billions of đồng, as the
compensation boards report it: 182,9 tỷ đồng).
"""

from __future__ import annotations

from gis.catalog import StyleSpec

__all__ = ["field_labels", "field_formats", "value_labels"]

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
}

_UNITS = {"vi": {"days": "ngày", "bn": "tỷ đồng", "yes": "Có", "no": "Không"},
          "en": {"days": "days", "bn": "bn VND", "yes": "Yes", "no": "No"}}


def field_labels(fields: tuple[str, ...] | list[str], lang: str) -> dict[str, str]:
    """The label of each field (the field name itself when none is known)."""
    i = 0 if lang == "vi" else 1
    return {f: _FIELDS[f][i] if f in _FIELDS else f for f in fields}


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
