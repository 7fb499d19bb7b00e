"""Headers of status sheets → model fields: the alias table and the matching of a sheet's headers.

Headers are matched accent-, case- and unit-blind ("Số tiền bồi thường (đồng)" is "Số tiền bồi
thường"), exactly first, then by prefix; a sheet YAML may override.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from gis.core.clearance.status import Status
from gis.errors import FieldMappingError
from gis.fields import fold_name

__all__ = ["SHEET_ALIASES", "REQUIRED", "OPTIONAL_FIGURES", "DATE_STATUS", "map_sheet_columns"]

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
_UNIT = re.compile(r"\([^)]*\)|\[[^]]*\]")


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
