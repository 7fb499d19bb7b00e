"""Vocabularies for the synthetic district: names, places, codes and their weights.

Everything here is plain data (tuples and dicts of str/float); the generator in
:mod:`gis.sample.generate` draws from it with a seeded random generator. The place and
person names are invented but follow Vietnamese usage (full diacritics, NFC).
"""

from __future__ import annotations

PROVINCE = "Thành phố Hà Nội"
# A district-level unit that has both phường and xã is a "thị xã" (town) in Vietnam.
DISTRICT_SHORT = "Mẫu Sơn"
DISTRICT = f"Thị xã {DISTRICT_SHORT}"
LAND_FUND_CENTRE = f"Trung tâm Phát triển quỹ đất thị xã {DISTRICT_SHORT}"
PMU = f"Ban Quản lý dự án đầu tư xây dựng thị xã {DISTRICT_SHORT}"
CITY_TRANSPORT_PMU = "Ban Quản lý dự án đầu tư xây dựng công trình giao thông thành phố Hà Nội"

#: First ward code and the step between codes (official lists step by 3 within a district).
WARD_CODE_START = 9880
WARD_CODE_STEP = 3

WARD_NAMES: tuple[str, ...] = (
    "An Bình", "Đông Hòa", "Tân Lập", "Phú Mỹ", "Vĩnh Hưng", "Xuân Phương", "Ngọc Thụy",
    "Đại Đồng", "Hồng Thái", "Minh Khai", "Trường Sơn", "Phúc Lợi", "Thanh Lâm", "Kim Sơn",
    "Yên Ninh", "Hữu Bằng", "Cẩm Đình", "Tiền Phong", "Liên Hiệp", "Đức Thượng",
)

HAMLETS: tuple[str, ...] = (
    "Đông", "Đoài", "Nam", "Bắc", "Thượng", "Hạ", "Trung", "Chùa", "Đình", "Cầu", "Mới",
    "Giữa", "Phú Hữu", "Yên Vĩnh", "Ngọc Lũ", "Ấp Ươm",
)

FIELDS: tuple[str, ...] = (
    "Cửa Đình", "Mả Mít", "Bãi Sậy", "Ao Sen", "Đồng Chằm", "Gò Gạo", "Cổng Trại", "Dộc Ưng",
)

PAGODAS: tuple[str, ...] = ("Linh Quang", "Phúc Khánh", "Diên Hựu", "Thiên Ứng", "Hưng Long")

COMPANIES: tuple[str, ...] = (
    "Công ty TNHH Thương mại Minh Phát",
    "Công ty CP Đầu tư Xây dựng Hòa Bình",
    "Công ty TNHH Sản xuất Bao bì Việt Hưng",
    "Công ty CP Phát triển Đô thị Sông Hồng",
    "Công ty TNHH Dịch vụ Vận tải Đức Thắng",
    "Công ty CP Xăng dầu Thăng Long",
    "Công ty TNHH Cơ khí Quyết Tiến",
    "Công ty CP Thực phẩm Ước Mơ",
)

NON_BUDGET_INVESTORS: tuple[str, ...] = (
    "Công ty CP Phát triển Đô thị Sông Hồng",
    "Công ty CP Đầu tư Xây dựng Hòa Bình",
    "Tổng công ty Đầu tư Phát triển Nhà và Đô thị",
)

FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 0.36), ("Trần", 0.11), ("Lê", 0.09), ("Phạm", 0.07), ("Hoàng", 0.05),
    ("Phan", 0.04), ("Vũ", 0.04), ("Đặng", 0.03), ("Bùi", 0.03), ("Đỗ", 0.03), ("Hồ", 0.02),
    ("Ngô", 0.02), ("Dương", 0.02), ("Lý", 0.01), ("Đinh", 0.02), ("Trịnh", 0.02),
    ("Lương", 0.01), ("Tạ", 0.01), ("Kiều", 0.01), ("Khuất", 0.01),
)
MIDDLE_MALE: tuple[str, ...] = (
    "Văn", "Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Ngọc", "Xuân", "Thanh", "Công", "Đình",
)
MIDDLE_FEMALE: tuple[str, ...] = (
    "Thị", "Thị", "Thị", "Thị Thu", "Thị Thanh", "Ngọc", "Thị Minh", "Thu", "Thị Hồng",
)
GIVEN_MALE: tuple[str, ...] = (
    "Hùng", "Dũng", "Tuấn", "Hải", "Long", "Nam", "Thắng", "Cường", "Hưng", "Sơn", "Quyết",
    "Tiến", "Đạt", "Thành", "Trung", "Khánh", "Phúc", "Lực", "Tùng", "Hoàng", "Bình", "Toàn",
    "Việt", "Đông", "Lượng", "Thưởng", "Nghĩa", "Chiến", "Huy", "Ước",
)
GIVEN_FEMALE: tuple[str, ...] = (
    "Lan", "Hương", "Hoa", "Mai", "Hằng", "Thủy", "Nga", "Linh", "Huyền", "Yến", "Trang",
    "Thảo", "Phượng", "Dung", "Loan", "Hạnh", "Nhung", "Oanh", "Vân", "Thơ", "Liên", "Xuân",
    "Tươi", "Ngần", "Gấm", "Lụa", "Nguyệt", "Quỳnh",
)

# ---------------------------------------------------------------------------
# Block kinds and the land-use codes drawn inside them. "{R}" is the residential code
# of the ward: ODT in a phường, ONT in a xã. Weights need not sum to 1.
BLOCK_KINDS: tuple[str, ...] = ("RES", "FAC", "AGR", "GARDEN", "POND", "CEM", "BCS")

#: Target lot width and depth in metres per block kind (jittered per block).
LOT_SIZE: dict[str, tuple[float, float]] = {
    "RES": (9.5, 21.0), "FAC": (45.0, 40.0), "AGR": (18.0, 28.0), "GARDEN": (14.0, 22.0),
    "POND": (22.0, 25.0), "CEM": (70.0, 60.0), "BCS": (40.0, 50.0),
}

LAND_USE_BY_KIND: dict[str, tuple[tuple[str, float], ...]] = {
    "RES": (
        ("{R}", 0.845), ("{R}+CLN", 0.04), ("TMD", 0.035), ("DGD", 0.008), ("DYT", 0.006),
        ("DVH", 0.008), ("TSC", 0.006), ("DKV", 0.008), ("DSH", 0.006), ("SKC", 0.01),
        ("TIN", 0.004), ("TON", 0.003), ("CLN", 0.015), ("DCH", 0.002), ("DDT", 0.002),
        ("BCS", 0.002),
    ),
    "FAC": (
        ("DGD", 0.22), ("DYT", 0.08), ("DVH", 0.1), ("TSC", 0.12), ("DKV", 0.1), ("TMD", 0.14),
        ("SKC", 0.1), ("DCH", 0.05), ("TIN", 0.03), ("TON", 0.03), ("DDT", 0.03),
    ),
    "AGR": (
        ("LUC", 0.55), ("LUK", 0.2), ("HNK", 0.07), ("BHK", 0.04), ("NHK", 0.01), ("CLN", 0.05),
        ("NTS", 0.05), ("BCS", 0.01), ("DTL", 0.02),
    ),
    "GARDEN": (
        ("CLN", 0.45), ("HNK", 0.3), ("BHK", 0.06), ("NTS", 0.08), ("{R}+CLN", 0.06), ("BCS", 0.05),
    ),
    "POND": (("NTS", 0.85), ("MNC", 0.1), ("DTL", 0.05)),
    "CEM": (("NTD", 1.0),),
    "BCS": (("BCS", 0.9), ("HNK", 0.1)),
}

RESIDENTIAL_CODES = frozenset({"ODT", "ONT"})
AGRICULTURAL_CODES = frozenset({"LUC", "LUK", "HNK", "CLN", "NTS"})
PUBLIC_STRIP_CODES = frozenset({"DGT", "DTL", "SON"})
UNKNOWN_CODES: tuple[str, ...] = ("COC", "XYZ")

# ---------------------------------------------------------------------------
# Owners. Each entry: (owner code MaDoiTuong, name category, weight). Name categories are
# resolved per ward by the generator ("person", "ubnd", "police", "school", "health",
# "community", "religion", "company", "coop", "landfund").
_HOUSEHOLD = (("GDC", "person", 0.7), ("CNV", "person", 0.3))
_COMMUNE = (("UBQ", "ubnd", 0.6), ("TCQ", "ubnd", 0.4))
_FARM = (("GDC", "person", 0.66), ("CNV", "person", 0.27), ("UBQ", "ubnd", 0.03),
         ("TCQ", "ubnd", 0.02), ("TKT", "coop", 0.02))

OWNERS_BY_CODE: dict[str, tuple[tuple[str, str, float], ...]] = {
    "ODT": _HOUSEHOLD, "ONT": _HOUSEHOLD, "ODT+CLN": _HOUSEHOLD, "ONT+CLN": _HOUSEHOLD,
    "LUC": _FARM, "LUK": _FARM, "HNK": _FARM, "BHK": _FARM, "NHK": _FARM, "CLN": _FARM,
    "NTS": _FARM + (("UBQ", "ubnd", 0.05),),
    "TMD": (("TKT", "company", 0.85), ("GDC", "person", 0.15)),
    "SKC": (("TKT", "company", 1.0),),
    "DGD": (("TCN", "school", 1.0),),
    "DYT": (("TCN", "health", 1.0),),
    "TSC": (("TCN", "police", 0.5), ("TCN", "ubnd", 0.5)),
    "DVH": _COMMUNE + (("CDS", "community", 0.5),),
    "DKV": _COMMUNE + (("CDS", "community", 0.4),),
    "DSH": (("CDS", "community", 1.0),),
    "DDT": (("CDS", "religion", 1.0),),
    "TIN": (("CDS", "religion", 1.0),),
    "TON": (("CDS", "religion", 1.0),),
    "DCH": _COMMUNE,
    "NTD": _COMMUNE + (("CDS", "community", 0.6),),
    "BCS": _COMMUNE + (("TSQ", "landfund", 0.25),),
    "DGT": _COMMUNE, "DTL": _COMMUNE, "SON": _COMMUNE, "MNC": _COMMUNE,
}
DEFAULT_OWNERS = _HOUSEHOLD
NAME_CATEGORIES: tuple[str, ...] = (
    "ubnd", "police", "school", "health", "community", "religion", "coop", "landfund",
)
PUBLIC_OWNER_CODES = frozenset({"UBQ", "TCQ", "TSQ"})

# ---------------------------------------------------------------------------
# Projects (dự án GPMB).
CORRIDOR_NAMES: tuple[str, ...] = (
    "Đường vành đai 3,5 đoạn qua {ward}",
    "Mở rộng Quốc lộ 21B đoạn qua {ward}",
    "Cải tạo, nâng cấp đường tỉnh 419 đoạn qua {ward}",
    "Đường trục phát triển phía Bắc thị xã {district}",
    "Cải tạo kênh tiêu T2 đoạn qua {ward}",
    "Đường liên xã {name} - {name2}",
)
#: Site projects: (name template, state-budget funded, size relative to a large site).
SITE_NAMES: tuple[tuple[str, bool, float], ...] = (
    ("Trường THCS {name}", True, 0.45),
    ("Trường Mầm non {name}", True, 0.35),
    ("Khu tái định cư {ward}", True, 0.7),
    ("Trạm Y tế {ward}", True, 0.25),
    ("Khu đấu giá quyền sử dụng đất {ward}", True, 0.6),
    ("Trụ sở Công an {ward}", True, 0.25),
    ("Nhà văn hóa trung tâm {ward}", True, 0.3),
    ("Cụm công nghiệp {name}", False, 1.0),
    ("Khu nhà ở xã hội {name}", False, 0.7),
    ("Khu đô thị mới {name}", False, 1.0),
    ("Công viên cây xanh {name}", True, 0.6),
)
BUDGET = "Ngân sách"
NON_BUDGET = "Ngoài ngân sách"
CARRIED_OVER = "Chuyển tiếp"
NEW = "Mới"

# ---------------------------------------------------------------------------
# Clearance (GPMB) status texts, in workflow order (DOMAIN.md §4.2). Each entry:
# (status code, Vietnamese text, level). Level: 0 notified, 1 inventoried, 2 approved,
# 3 paid, 4 handed over; the dates a row carries follow from its level.
STATUSES: tuple[tuple[str, str, int], ...] = (
    ("NOTIFIED", "Đã thông báo thu hồi", 0),
    ("INVENTORIED", "Đã kiểm đếm", 1),
    ("FORCED_INVENTORY", "Kiểm đếm bắt buộc", 1),
    ("PLAN_APPROVED", "Đã phê duyệt phương án", 2),
    ("PAID", "Đã chi trả", 3),
    ("RECOVERY_DECIDED", "Đã có quyết định thu hồi", 3),
    ("HANDED_OVER", "Đã bàn giao mặt bằng", 4),
    ("ENFORCED", "Cưỡng chế", 4),
)
UNKNOWN_STATUSES: tuple[str, ...] = ("Đang chờ xử lý", "Tạm dừng", "Chưa rõ")
BAD_AMOUNTS: tuple[str, ...] = ("khoảng 1 tỷ", "1,2 tỷ (tạm tính)", "chưa xác định")
BAD_DATES: tuple[str, ...] = ("31/02/2023", "30/02/2024", "00/05/2023", "15/13/2023")

CLEARANCE_COLUMNS: tuple[str, ...] = (
    "STT", "Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Chủ sử dụng", "Số hộ", "Trạng thái",
    "Ngày thông báo", "Ngày kiểm đếm", "Ngày phê duyệt PA", "Số tiền phê duyệt (đồng)",
    "Số tiền đã chi trả (đồng)", "Ngày chi trả", "Ngày bàn giao", "Khiếu nại", "Ghi chú",
)

#: Compensation + support unit price range (VND per m²) by land-use prefix.
UNIT_PRICE: dict[str, tuple[float, float]] = {
    "ODT": (25e6, 60e6), "ONT": (8e6, 20e6), "AGR": (2.5e5, 4.2e5), "OTHER": (1.5e6, 5e6),
}
