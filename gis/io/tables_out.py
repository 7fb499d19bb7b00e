"""Tables written for people (CSV and XLSX): safe against formula injection.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken by
Excel and LibreOffice for a formula (OWASP "CSV injection"): an owner named
``=HYPERLINK("http://x","y")`` would become a link in the officer's spreadsheet. In CSV such text
gets a leading ``'`` (the spreadsheet shows it as text); in XLSX the cell is written as text, as
is. Numbers, negative ones included, are never touched. Every CSV and XLSX writer of the service
goes through these functions.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "csv_text", "escape_formula", "escape_formulas",
           "keep_text_cells"]

#: what makes a spreadsheet read a text cell as a formula (OWASP)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Any) -> Any:
    """``'`` before text that a spreadsheet would read as a formula; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with its text cells escaped (numeric columns are left alone)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series, pd.DataFrame):  # duplicate column names: escape each
            continue
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            risky = series.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES))
            risky = risky.fillna(False).astype(bool).to_numpy()
            if risky.any():
                values = series.astype(object).to_numpy(copy=True)
                values[risky] = ["'" + v for v in values[risky]]
                out[column] = pd.Series(values, index=series.index, dtype=series.dtype)
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index) with formula-like text escaped."""
    return escape_formulas(frame).to_csv(index=False)


def keep_text_cells(ws: Any) -> None:
    """In an openpyxl worksheet, every text cell that openpyxl took for a formula (a string
    starting with ``=``) becomes text again: shown as typed, never evaluated."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f" and isinstance(cell.value, str):
                cell.data_type = "s"
