"""Land-use codes (mã loại đất): the 2024 list with groups, legacy codes mapped, public land.

Codes follow Circular 08/2024 (DOMAIN.md §1.2); legacy codes of the 2007, 2014 and 2018 circulars
map to 2024 codes with the system they came from recorded (§1.3), never silently relabelled.
Composite strings such as ``ODT+CLN`` are split into both codes. Public land (đất công) is not a
land-use code but a management status; :class:`PublicLandRule` sets say which rule marked a parcel
public (§2.4), and a layer YAML may replace the default set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

__all__ = [
    "LandGroup",
    "LandUseCode",
    "CODES_2024",
    "LEGACY_CODES",
    "ParsedLandUse",
    "parse_land_use",
    "PublicLandRule",
    "DEFAULT_PUBLIC_RULES",
    "classify_public",
    "AGRICULTURAL_CODES",
]


class LandGroup(str, Enum):
    """Land groups of Land Law 2024 Art. 9."""

    AGRICULTURAL = "agricultural"
    NON_AGRICULTURAL = "non_agricultural"
    UNUSED = "unused"


@dataclass(frozen=True)
class LandUseCode:
    """A 2024 land-use code."""

    code: str
    name_vi: str
    group: LandGroup
    parent: str


_A, _N, _U = LandGroup.AGRICULTURAL, LandGroup.NON_AGRICULTURAL, LandGroup.UNUSED

_TABLE_2024 = [
    ("LUC", "Đất chuyên trồng lúa", _A, "LUA"), ("LUK", "Đất trồng lúa còn lại", _A, "LUA"),
    ("LUA", "Đất trồng lúa", _A, "CHN"),
    ("HNK", "Đất trồng cây hằng năm khác", _A, "CHN"), ("CLN", "Đất trồng cây lâu năm", _A, "NNP"),
    ("RDD", "Đất rừng đặc dụng", _A, "LNP"), ("RPH", "Đất rừng phòng hộ", _A, "LNP"),
    ("RSX", "Đất rừng sản xuất", _A, "LNP"), ("NTS", "Đất nuôi trồng thủy sản", _A, "NNP"),
    ("CNT", "Đất chăn nuôi tập trung", _A, "NNP"), ("LMU", "Đất làm muối", _A, "NNP"),
    ("NKH", "Đất nông nghiệp khác", _A, "NNP"),
    ("ONT", "Đất ở tại nông thôn", _N, "OTC"), ("ODT", "Đất ở tại đô thị", _N, "OTC"),
    ("TSC", "Đất xây dựng trụ sở cơ quan", _N, "PNN"), ("CQP", "Đất quốc phòng", _N, "CQA"),
    ("CAN", "Đất an ninh", _N, "CQA"), ("DVH", "Đất xây dựng cơ sở văn hóa", _N, "DSN"),
    ("DXH", "Đất xây dựng cơ sở xã hội", _N, "DSN"), ("DYT", "Đất xây dựng cơ sở y tế", _N, "DSN"),
    ("DGD", "Đất xây dựng cơ sở giáo dục và đào tạo", _N, "DSN"),
    ("DTT", "Đất xây dựng cơ sở thể dục, thể thao", _N, "DSN"),
    ("DKH", "Đất xây dựng cơ sở khoa học và công nghệ", _N, "DSN"),
    ("DMT", "Đất xây dựng cơ sở môi trường", _N, "DSN"),
    ("DKT", "Đất xây dựng cơ sở khí tượng thủy văn", _N, "DSN"),
    ("DNG", "Đất xây dựng cơ sở ngoại giao", _N, "DSN"),
    ("DSK", "Đất xây dựng công trình sự nghiệp khác", _N, "DSN"),
    ("SKK", "Đất khu công nghiệp", _N, "CSK"), ("SKN", "Đất cụm công nghiệp", _N, "CSK"),
    ("SCT", "Đất khu công nghệ thông tin tập trung", _N, "CSK"),
    ("TMD", "Đất thương mại, dịch vụ", _N, "CSK"),
    ("SKC", "Đất cơ sở sản xuất phi nông nghiệp", _N, "CSK"),
    ("SKS", "Đất sử dụng cho hoạt động khoáng sản", _N, "CSK"),
    ("DGT", "Đất công trình giao thông", _N, "CCC"), ("DTL", "Đất công trình thủy lợi", _N, "CCC"),
    ("DCT", "Đất công trình cấp nước, thoát nước", _N, "CCC"),
    ("DPC", "Đất công trình phòng, chống thiên tai", _N, "CCC"),
    ("DDD", "Đất có di tích lịch sử - văn hóa, danh lam thắng cảnh, di sản thiên nhiên", _N, "CCC"),
    ("DRA", "Đất công trình xử lý chất thải", _N, "CCC"),
    ("DNL", "Đất công trình năng lượng, chiếu sáng công cộng", _N, "CCC"),
    ("DBV", "Đất công trình hạ tầng bưu chính, viễn thông, công nghệ thông tin", _N, "CCC"),
    ("DCH", "Đất chợ dân sinh, chợ đầu mối", _N, "CCC"),
    ("DKV", "Đất khu vui chơi, giải trí công cộng, sinh hoạt cộng đồng", _N, "CCC"),
    ("TON", "Đất tôn giáo", _N, "PNN"), ("TIN", "Đất tín ngưỡng", _N, "PNN"),
    ("NTD", "Đất nghĩa trang, nhà tang lễ, cơ sở hỏa táng; đất cơ sở lưu trữ tro cốt", _N, "PNN"),
    ("MNC", "Đất có mặt nước chuyên dùng", _N, "TVC"),
    ("SON", "Đất có mặt nước dạng sông, ngòi, kênh, rạch, suối", _N, "TVC"),
    ("PNK", "Đất phi nông nghiệp khác", _N, "PNN"),
    ("CGT", "Đất do Nhà nước thu hồi chưa giao, chưa cho thuê", _U, "CSD"),
    ("BCS", "Đất bằng chưa sử dụng", _U, "CSD"), ("DCS", "Đất đồi núi chưa sử dụng", _U, "CSD"),
    ("NCS", "Núi đá không có rừng cây", _U, "CSD"), ("MCS", "Đất có mặt nước chưa sử dụng", _U, "CSD"),
]
CODES_2024: dict[str, LandUseCode] = {c: LandUseCode(c, n, g, p) for c, n, g, p in _TABLE_2024}

# legacy code -> (code system, 2024 code). Ambiguous splits take the commonest target, noted.
LEGACY_CODES: dict[str, tuple[str, str]] = {
    "LUN": ("2014", "LUK"), "BHK": ("2014", "HNK"), "NHK": ("2014", "HNK"),
    "DTS": ("2014", "DSK"), "SKT": ("2014", "SKK"), "SKX": ("2014", "SKC"),
    "DDT": ("2014", "DDD"), "DDL": ("2014", "DDD"), "DSH": ("2014", "DKV"),
    "DCK": ("2014", "PNK"), "TTN": ("2014", "TIN"),
    "LNC": ("2007", "CLN"), "LNQ": ("2007", "CLN"), "LNK": ("2007", "CLN"),
    "RST": ("2007", "RSX"), "RSK": ("2007", "RSX"), "RSM": ("2007", "RSX"), "RSN": ("2007", "RSX"),
    "RPN": ("2007", "RPH"), "RPT": ("2007", "RPH"), "RPK": ("2007", "RPH"), "RPM": ("2007", "RPH"),
    "RDN": ("2007", "RDD"), "RDT": ("2007", "RDD"), "RDK": ("2007", "RDD"), "RDM": ("2007", "RDD"),
    "TSL": ("2007", "NTS"), "TSN": ("2007", "NTS"),
}
AGRICULTURAL_CODES = frozenset(c for c, v in CODES_2024.items() if v.group is _A)
_SPLIT = re.compile(r"\s*[+,;&/]\s*")


@dataclass(frozen=True)
class ParsedLandUse:
    """A land-use string as found in a source, parsed."""

    original: str | None
    codes: tuple[str, ...] = ()  # 2024 codes, in source order
    system: str | None = None  # "2024", "2014", "2007", or "2024+2014" when mixed
    legacy: tuple[tuple[str, str], ...] = ()  # (legacy code, 2024 code)
    unknown: tuple[str, ...] = ()
    composite: bool = False

    @property
    def primary(self) -> str | None:
        """The first recognised code (the main purpose)."""
        return self.codes[0] if self.codes else None

    @property
    def group(self) -> LandGroup | None:
        """Land group of the primary code."""
        return CODES_2024[self.codes[0]].group if self.codes else None


@lru_cache(maxsize=4096)
def parse_land_use(raw: str | None) -> ParsedLandUse:
    """Parse one land-use string.

    >>> p = parse_land_use("ODT+CLN")
    >>> p.codes, p.composite, p.system
    (('ODT', 'CLN'), True, '2024')
    >>> parse_land_use("bhk").legacy
    (('BHK', 'HNK'),)
    >>> parse_land_use("COC").unknown
    ('COC',)
    """
    if raw is None or (isinstance(raw, float)) or not str(raw).strip():
        return ParsedLandUse(None)
    parts = [p for p in _SPLIT.split(str(raw).strip().upper()) if p]
    codes: list[str] = []
    systems: list[str] = []
    legacy: list[tuple[str, str]] = []
    unknown: list[str] = []
    for part in parts:
        if part in CODES_2024:
            codes.append(part)
            systems.append("2024")
        elif part in LEGACY_CODES:
            system, target = LEGACY_CODES[part]
            codes.append(target)
            systems.append(system)
            legacy.append((part, target))
        else:
            unknown.append(part)
    system = "+".join(dict.fromkeys(systems)) or None
    return ParsedLandUse(str(raw), tuple(dict.fromkeys(codes)), system, tuple(legacy),
                         tuple(unknown), len(parts) > 1)


class PublicLandRule(BaseModel):
    """One rule that marks a parcel as public land; any matching criterion fires the rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    description: str = ""
    land_use: tuple[str, ...] = ()
    owner_codes: tuple[str, ...] = ()
    origin_codes: tuple[str, ...] = ()
    owner_name_pattern: str | None = None


DEFAULT_PUBLIC_RULES: tuple[PublicLandRule, ...] = (
    PublicLandRule(id="manager", description="held by a manager (TCQ/TSQ/KTQ/CDQ; legacy UBQ/TPQ/TKQ)",
                   owner_codes=("TCQ", "TSQ", "KTQ", "CDQ", "UBQ", "TPQ", "TKQ")),
    PublicLandRule(id="allocated_for_management", description="origin 6: allocated for management",
                   origin_codes=("6",)),
    PublicLandRule(id="state_user", description="used by the commune People's Committee or a state body",
                   owner_codes=("UBS", "TCN")),
    PublicLandRule(id="public_purpose", description="public-purpose land, water surfaces, cemeteries",
                   land_use=("DGT", "DTL", "DCT", "DPC", "DDD", "DRA", "DNL", "DBV", "DCH", "DKV",
                             "SON", "MNC", "NTD")),
    PublicLandRule(id="unused", description="unused land and land recovered but not allocated",
                   land_use=("BCS", "DCS", "NCS", "MCS", "CGT")),
    PublicLandRule(id="commune_named_owner", description="owner name is the commune People's Committee",
                   owner_name_pattern=r"^\s*(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\b"),
)


def classify_public(frame: pd.DataFrame, rules: tuple[PublicLandRule, ...] = DEFAULT_PUBLIC_RULES
                    ) -> pd.Series:
    """Return, per row, the id of the first rule that marks the parcel public (or None).

    ``frame`` needs the column ``land_use`` (primary 2024 code) and optionally ``owner_code``,
    ``origin_code``, ``owner_name``.
    """
    result = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    empty = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    owner = frame.get("owner_code", empty).astype("string").str.strip().str.upper()
    origin = frame.get("origin_code", empty).astype("string").str.strip()
    name = frame.get("owner_name", empty).astype("string")
    primary = frame["land_use"].astype("string")
    for rule in rules:
        hit = pd.Series(False, index=frame.index)
        if rule.owner_codes:
            hit |= owner.isin(rule.owner_codes).fillna(False).astype(bool)
        if rule.origin_codes:
            hit |= origin.isin(rule.origin_codes).fillna(False).astype(bool)
        if rule.land_use:
            hit |= primary.isin(rule.land_use).fillna(False).astype(bool)
        if rule.owner_name_pattern:
            pattern = re.compile(rule.owner_name_pattern, re.IGNORECASE)
            codes, uniques = pd.factorize(name)
            matched = np.array([bool(pattern.search(u)) for u in uniques] + [False])
            hit |= pd.Series(matched[np.where(codes < 0, len(uniques), codes)], index=frame.index)
        result = result.where(result.notna() | ~hit, rule.id)
    return result
