"""The one-paragraph summary a district briefing quotes, generated from the figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from gis.core.clearance.values import format_number_vi, format_vnd_billion

__all__ = ["briefing"]


def _ha(m2: float, lang: str) -> str:
    return f"{format_number_vi(m2 / 1e4, 1)} ha" if lang == "vi" else f"{m2 / 1e4:,.1f} ha"


def _n(value: float, lang: str) -> str:
    return format_number_vi(value) if lang == "vi" else f"{value:,.0f}"


def _int(value: object) -> int:
    return int(cast(float, value))  # a figure: int, float or a numpy number


def _float(value: object) -> float:
    return float(cast(float, value))


def briefing(district: Mapping[str, object], *, as_of: str, lang: str = "vi") -> str:
    """The briefing paragraph, e.g. "46 dự án: 35 dự án vốn ngân sách (27 chuyển tiếp, 8 mới)…".

    >>> d = {"projects_total": 46, "state_budget": {"projects": 35, "carried_over": 27, "new": 8},
    ...      "non_budget": {"projects": 11}, "plans_approved": 405, "plans_total": 1315,
    ...      "area_recovered_m2": 38000.0, "compensation_paid_vnd": 182_900_000_000,
    ...      "projects_completed": 2, "recovered_ratio_this_vs_last_year": None}
    >>> briefing(d, as_of="30/11/2024", lang="en")
    'As of 30/11/2024: 46 projects: 35 state-budget (27 carried over, 8 new) and 11 non-budget; 405 of 1,315 plans approved; 3.8 ha recovered; 182.9 billion VND paid; 2 projects completed.'
    >>> briefing(d, as_of="30/11/2024")
    'Tính đến ngày 30/11/2024: 46 dự án, trong đó 35 dự án vốn ngân sách (27 chuyển tiếp, 8 khởi công mới) và 11 dự án vốn ngoài ngân sách; đã phê duyệt 405/1.315 phương án; đã thu hồi 3,8 ha; đã chi trả 182,9 tỷ đồng; 2 dự án hoàn thành giải phóng mặt bằng.'
    """
    sb: Mapping[str, int] = district["state_budget"]  # type: ignore[assignment]
    nb: Mapping[str, int] = district["non_budget"]  # type: ignore[assignment]
    total = _int(district["projects_total"])
    approved = _int(district["plans_approved"])
    plans = _int(district["plans_total"])
    area = _float(district["area_recovered_m2"])
    paid = _float(district["compensation_paid_vnd"])
    done = _int(district["projects_completed"])
    ratio = district.get("recovered_ratio_this_vs_last_year")
    if lang == "vi":
        text = (f"Tính đến ngày {as_of}: {_n(total, lang)} dự án, trong đó {sb['projects']} dự án "
                f"vốn ngân sách ({sb['carried_over']} chuyển tiếp, {sb['new']} khởi công mới) và "
                f"{nb['projects']} dự án vốn ngoài ngân sách; đã phê duyệt {_n(approved, lang)}/"
                f"{_n(plans, lang)} phương án; đã thu hồi {_ha(area, lang)}; đã chi trả "
                f"{format_vnd_billion(paid, 'vi')}; {done} dự án hoàn thành giải phóng mặt bằng")
        if ratio:
            text += (f"; diện tích thu hồi trong năm bằng {format_number_vi(_float(ratio), 1)} lần "
                     "năm trước")
        return text + "."
    text = (f"As of {as_of}: {total:,} projects: {sb['projects']} state-budget "
            f"({sb['carried_over']} carried over, {sb['new']} new) and {nb['projects']} non-budget; "
            f"{approved:,} of {plans:,} plans approved; {_ha(area, lang)} recovered; "
            f"{format_vnd_billion(paid, 'en')} paid; {done} project{'s' if done != 1 else ''} completed")
    if ratio:
        text += f"; area recovered this year is {_float(ratio):.1f} times last year's"
    return text + "."
