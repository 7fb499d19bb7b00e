"""Cells of status sheets beyond money and dates (:mod:`gis.core.clearance.values`): whole
numbers (sheet and parcel numbers, households), areas in m² or ha, empty cells, text."""

from __future__ import annotations

import re

import pandas as pd

from gis.core.clearance.wording import fold_words

__all__ = ["parse_whole", "parse_area", "cell_value", "cell_text"]


def parse_whole(value: object, *, allow_unit: str | None = None) -> tuple[int | None, str | None]:
    """A whole non-negative number from a cell: (number, None) or (None, the problem)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, f"not a whole number: {value!r}"
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if allow_unit:
            words = fold_words(text)
            if words and words[-1] == allow_unit:
                text = text[: len(text) - len(text.split()[-1])].strip() if " " in text else text
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return None, f"not a whole number: {value!r}"
    if number != number or not number.is_integer():
        return None, f"not a whole number: {value!r}"
    if number < 0:
        return None, f"a negative number: {value!r}"
    return int(number), None


def parse_area(value: object, unit: float) -> tuple[float | None, str | None]:
    """An area in m² from a cell ("1.250,5 m2"; ``unit`` 10 000 for a column in ha): (area,
    None) or (None, the problem)."""
    if value is None:
        return None, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = re.sub(r"\s*(m2|m²|ha)\s*$", "", str(value).strip(), flags=re.I).replace(" ", "")
        if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", text):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None, f"not an area: {value!r}"
    if number != number or number < 0:
        return None, f"not an area: {value!r}"
    return number * unit, None


def cell_value(value: object) -> object:
    """A cell as read, or None when it is empty (NaN, NA, blank text)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def cell_text(value: object) -> str | None:
    """A cell as stripped text, or None when empty."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None
