"""Total and subtotal rows ("Tổng cộng", "Cộng phường …"): their sums against the rows above."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from gis.core.clearance.cells import cell_value, parse_area, parse_whole
from gis.core.clearance.events import IssueRecorder
from gis.core.clearance.values import parse_vnd
from gis.core.clearance.wording import Vocabulary, fold_words

__all__ = ["check_total", "is_grand_total", "first_text"]


def check_total(row: Mapping[str, object], columns: Mapping[str, str], units: Mapping[str, int],
                area_unit: float, rows: list[dict[str, object]], excel_row: int,
                issue: IssueRecorder) -> None:
    """A total row's sums against the rows it covers; a mismatch is a warning."""
    for model in ("households", "compensation_approved_vnd", "compensation_paid_vnd",
                  "area_recovered_m2"):
        header = columns.get(model)
        value = cell_value(row.get(header)) if header else None
        if value is None:
            continue
        try:
            if model == "households":
                stated: float | None = parse_whole(value, allow_unit="ho")[0]
            elif model == "area_recovered_m2":
                stated = parse_area(value, area_unit)[0]
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


def is_grand_total(text: object, vocabulary: Vocabulary) -> bool:
    """A total of the whole sheet ("Tổng cộng", "Tổng số", "Total"), not a subtotal."""
    words = fold_words(str(text or ""))
    return words[:2] in (["tong", "cong"], ["tong", "so"]) or words[:1] == ["total"] or \
        (words[:1] == ["tong"] and len(words) == 1)


def first_text(row: Mapping[str, object], columns: Mapping[str, str]) -> object:
    """The first text cell of a row (what a total or section row says)."""
    for value in row.values():
        value = cell_value(value)
        if isinstance(value, str):
            return value
    return None
