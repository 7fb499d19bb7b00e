"""Read spreadsheets (XLSX, CSV) as the compensation board keeps them.

The header row is found (the first row with at least three non-empty cells, so a title above
the table is skipped); values are read as text or as Excel gives them (numbers, dates), and the
spreadsheet row numbers are kept so that reports name the row a user sees in Excel.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis.errors import DataSourceError

__all__ = ["TableSource", "read_table"]


@dataclass(frozen=True)
class TableSource:
    """Where a table came from."""

    path: str
    sheet: str
    header_row: int  # 1-based spreadsheet row of the headers
    sheets: tuple[str, ...] = ()


def _header_index(rows: list[list[object]]) -> int:
    for i, row in enumerate(rows[:30]):
        if sum(1 for v in row if v is not None and str(v).strip()) >= 3:
            return i
    raise DataSourceError("no header row found in the first 30 rows")


def read_table(path: str | os.PathLike[str], *, sheet: str | None = None
               ) -> tuple[pd.DataFrame, TableSource]:
    """Read an XLSX sheet (the first, or ``sheet``) or a CSV (UTF-8 with or without BOM, or
    cp1258; comma or semicolon separated)."""
    p = Path(path)
    if not p.exists():
        raise DataSourceError("no such file", path=p)
    if p.stat().st_size == 0:
        raise DataSourceError("the file is empty (0 bytes)", path=p)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p, sheet)
    if suffix in (".csv", ".txt"):
        return _read_csv(p)
    raise DataSourceError(f"unsupported table format {suffix!r}; use .xlsx or .csv", path=p)


def _read_xlsx(p: Path, sheet: str | None) -> tuple[pd.DataFrame, TableSource]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise DataSourceError(f"not a readable XLSX workbook ({exc})", path=p) from None
    try:
        names = tuple(wb.sheetnames)
        name = sheet or names[0]
        if name not in names:
            raise DataSourceError(f"no sheet {name!r}; sheets: {', '.join(names)}", path=p,
                                  layer=name)
        rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()
    if not rows:
        raise DataSourceError("the sheet is empty", path=p, layer=name)
    try:
        h = _header_index(rows)
    except DataSourceError as exc:
        raise DataSourceError(exc.message, path=p, layer=name) from None
    headers = [str(v).strip() if v is not None else f"column_{j + 1}" for j, v in enumerate(rows[h])]
    body = [r + [None] * (len(headers) - len(r)) for r in rows[h + 1:]]
    frame = pd.DataFrame([r[:len(headers)] for r in body], columns=headers, dtype=object)
    return frame, TableSource(str(p), name, h + 1, names)


def _delimiter(text: str) -> str:
    """The separator that splits the first lines into the most, and equally many, fields (a
    semicolon file with decimal commas must not be split on its commas)."""
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    best, best_score = ",", -1.0
    for candidate in (";", "\t", ","):
        counts = [len(row) for row in csv.reader(lines, delimiter=candidate)]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        if common < 3:
            continue
        score = counts.count(common) / len(counts) + (0.001 * common)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _read_csv(p: Path) -> tuple[pd.DataFrame, TableSource]:
    raw = p.read_bytes()
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1258 decodes almost anything
        raise DataSourceError("cannot decode the CSV as UTF-8 or cp1258", path=p)
    delimiter = _delimiter(text)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise DataSourceError("the CSV has no rows", path=p)
    h = _header_index([list(r) for r in rows])
    headers = [c.strip() or f"column_{j + 1}" for j, c in enumerate(rows[h])]
    body = [r + [""] * (len(headers) - len(r)) for r in rows[h + 1:]]
    frame = pd.DataFrame([r[:len(headers)] for r in body], columns=headers, dtype=object)
    frame = frame.replace({"": None})
    return frame, TableSource(str(p), p.name, h + 1, (p.name,))
