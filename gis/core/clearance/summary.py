"""The one-paragraph summary a district briefing quotes, generated from the figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from gis.core.clearance.values import format_number
from gis.core.translate import Translate

__all__ = ["briefing", "place_line"]


def _int(value: object) -> int:
    return int(cast(float, value))  # a figure: int, float or a numpy number


def _float(value: object) -> float:
    return float(cast(float, value))


def place_line(units: Sequence[str], provinces: Sequence[str], former: Sequence[str], *,
               translate: Translate) -> str:
    """Where the figures are: "Phường Bồ Đề, Thành phố Hà Nội", several units named (more than
    three counted), and the former district only for history ("formerly Quận Long Biên")."""
    _ = translate
    if not units and not former:
        return ""
    where = ", ".join(provinces)
    if len(units) > 3:
        text = _.ngettext("%(n)s commune-level unit of %(province)s",
                          "%(n)s commune-level units of %(province)s", len(units),
                          province=where)
    elif units:
        text = ", ".join([*units, where]) if where else ", ".join(units)
    else:
        text = where
    if former:
        text += " " + _("(formerly %(districts)s)", districts="; ".join(former))
    return text


def briefing(district: Mapping[str, object], *, as_of: str, translate: Translate,
             place: str = "") -> str:
    """The briefing paragraph, worded by ``translate`` (the catalogue in the reader's language).

    English: "As of 30/11/2024: 46 projects: 35 state-budget (27 carried over, 8 new) and 11
    non-budget; 405 of 1,315 plans approved; 3.8 ha recovered; 182.9 billion VND paid; 2 projects
    completed."; Vietnamese: "Tính đến ngày 30/11/2024: 46 dự án, trong đó 35 dự án vốn ngân sách
    (27 chuyển tiếp, 8 khởi công mới) và 11 dự án vốn ngoài ngân sách; đã phê duyệt 405/1.315
    phương án; đã thu hồi 3,8 ha; đã chi trả 182,9 tỷ đồng; 2 dự án hoàn thành giải phóng mặt
    bằng."

    ``place`` (:func:`place_line`) opens the paragraph: "Phường Bồ Đề, Thành phố Hà Nội: As
    of …".
    """
    _, lang = translate, translate.lang
    sb: Mapping[str, int] = district["state_budget"]  # type: ignore[assignment]
    nb: Mapping[str, int] = district["non_budget"]  # type: ignore[assignment]
    done = _int(district["projects_completed"])
    ratio = district.get("recovered_ratio_this_vs_last_year")
    text = _("As of %(day)s: %(total)s projects: %(state)s state-budget (%(carried)s carried "
             "over, %(new)s new) and %(other)s non-budget; %(approved)s of %(plans)s plans "
             "approved; %(area)s ha recovered; %(paid)s billion VND paid; ",
             day=as_of, total=format_number(_int(district["projects_total"]), lang),
             state=sb["projects"], carried=sb["carried_over"], new=sb["new"],
             other=nb["projects"],
             approved=format_number(_int(district["plans_approved"]), lang),
             plans=format_number(_int(district["plans_total"]), lang),
             area=format_number(_float(district["area_recovered_m2"]) / 1e4, lang, 1),
             paid=format_number(_float(district["compensation_paid_vnd"]) / 1e9, lang, 1))
    text += _.ngettext("%(n)s project completed", "%(n)s projects completed", done)
    if ratio:
        text += _("; area recovered this year is %(ratio)s times last year's",
                  ratio=format_number(_float(ratio), lang, 1))
    return (f"{place}. {text}." if place else text + ".")
