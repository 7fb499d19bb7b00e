"""Where the table is in a sheet: title lines, the (one- or two-row) header, a numbering row under
it, blank rows; and the frame and :class:`~gis.io.table_model.TableSource` built from a ``_Grid``
(:func:`_table`). The rules are described in :mod:`gis.io.tables`."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis.io.table_model import TableSource, _Grid

HEADER_SEARCH_ROWS = 30

_DATE_TEXT = re.compile(r"^\s*\d{1,4}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{1,4}")
_NUMBER_TOKEN = re.compile(r"^\(?\s*(\d{1,3}|[A-Za-z])\s*\)?$")
_NUMBER_EXPR = re.compile(r"^\(?\d{1,3}\)?(\s*[=x×*+\-/:.]\s*\(?\d{1,3}\)?)+$")


def _empty(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip()
    return isinstance(v, float) and math.isnan(v)


def _is_text(v: object) -> bool:
    """A header-like cell: text with a letter, not a number, date or numbering token."""
    if not isinstance(v, str):
        return False
    s = v.strip()
    return (any(ch.isalpha() for ch in s) and not _DATE_TEXT.match(s)
            and not (len(s) <= 3 and _NUMBER_TOKEN.match(s) is not None and not s.isalpha())
            and not _NUMBER_EXPR.match(s))


def _text(v: object) -> str:
    if _empty(v):
        return ""
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return " ".join(str(v).split())


def _cell(row: list[object], j: int) -> object:
    return row[j] if j < len(row) else None


def _is_numbering(row: list[object], n_columns: int) -> bool:
    """A row that numbers the columns: (1) (2) (3) …, 1 2 3 …, A B C … (mixed letters then
    numbers too); formulas like "(5)=(3)x(4)" may appear among them."""
    values = [v for v in row if not _empty(v)]
    if len(values) < 2:
        return False
    numbers: list[int] = []
    letters: list[int] = []
    parens = False
    for v in values:
        if isinstance(v, bool):
            return False
        if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
            numbers.append(int(v))
            continue
        if not isinstance(v, str):
            return False
        s = v.strip()
        parens = parens or s.startswith("(")
        m = _NUMBER_TOKEN.match(s)
        if m:
            token = m.group(1)
            (numbers if token.isdigit() else letters).append(
                int(token) if token.isdigit() else ord(token.upper()))
        elif not _NUMBER_EXPR.match(s):
            return False
    consecutive = all(b == a + 1 for a, b in zip(numbers, numbers[1:])) and all(
        b == a + 1 for a, b in zip(letters, letters[1:]))
    return consecutive and (parens or len(values) >= max(3, n_columns // 2))


@dataclass
class _Header:
    top: int  # 0-based grid row of the (first) header row
    rows: int  # 1 or 2
    headers: list[str]
    parts: list[tuple[str, str]]


def _single_header(row: list[object]) -> _Header | None:
    texts = [_text(v) for v in row]
    while texts and not texts[-1]:
        texts.pop()
    return _Header(0, 1, texts, [("", t) for t in texts]) if texts else None


def _two_row_header(top: list[object], bottom: list[object], merged_spans: list[tuple[int, int]],
                    below: list[list[object]]) -> _Header | None:
    """``top`` with groups spanning columns over ``bottom`` (children), or ``None``.

    A two-row header has groups at least two columns wide and single-level headers with nothing
    under them in the second row, and data under some of those single-level headers: a title
    line ("UBND PHƯỜNG …" left, "CỘNG HÒA …" right) above a one-row header has none there.
    """
    width = max(len(top), len(bottom))
    t = [_text(_cell(top, j)) for j in range(width)]
    b = [_text(_cell(bottom, j)) for j in range(width)]
    if not any(b) or not all(_is_text(_cell(bottom, j)) for j in range(width) if b[j]):
        return None
    group_of: dict[int, str] = {}
    wide = False
    for c1, c2 in merged_spans:
        if c2 > c1 and t[c1]:
            for j in range(c1, min(c2, width - 1) + 1):
                group_of[j] = t[c1]
            wide = True
    j = 0
    while j < width:
        if t[j] and b[j] and j not in group_of:
            k = j + 1
            while k < width and b[k] and (not t[k] or t[k] == t[j]) and k not in group_of:
                k += 1
            for c in range(j, k):
                group_of[c] = t[j]
            wide = wide or k > j + 1
            j = k
        else:
            j += 1
    vertical = [j for j in range(width) if t[j] and not b[j]]  # "Số tờ" merged over both rows
    if not wide or not vertical or not any(not _empty(_cell(r, j)) for r in below for j in vertical):
        return None  # a title line above a one-row header is not a group row
    headers: list[str] = []
    parts: list[tuple[str, str]] = []
    for j in range(width):
        group = group_of.get(j, "")
        if group:
            parts.append((group, b[j]))
            headers.append(f"{group} {b[j]}" if b[j] else group)
        elif t[j] and b[j]:
            return None  # a value under a single-level header: a data row, not a header row
        elif t[j] or b[j]:
            parts.append(("", t[j] or b[j]))
            headers.append(t[j] or b[j])
        else:
            parts.append(("", ""))
            headers.append("")
    while headers and not headers[-1]:
        headers.pop()
        parts.pop()
    return _Header(0, 2, headers, parts)


def _find_header(grid: _Grid) -> _Header | None:
    rows = grid.rows
    limit = min(HEADER_SEARCH_ROWS, len(rows))
    best: tuple[tuple[int, int, int], _Header] | None = None
    for i in range(limit):
        row = rows[i]
        filled = [v for v in row if not _empty(v)]
        if not filled:
            continue
        candidate: _Header | None = None
        if i + 1 < len(rows):
            spans = [(c1, c2) for r1, c1, r2, c2 in grid.merged if r1 == i and r2 <= i + 1]
            candidate = _two_row_header(row, rows[i + 1], spans, rows[i + 2:i + 52])
        if candidate is None:
            texts = sum(1 for v in filled if _is_text(v))
            if texts < 3 or texts < 0.6 * len(filled):
                continue
            candidate = _single_header(row)
            if candidate is None:
                continue
        candidate.top = i
        named = sum(1 for h in candidate.headers if h)
        if named < 3:
            continue
        after = i + candidate.rows
        while after < len(rows) and all(_empty(v) for v in rows[after]):
            after += 1
        if after < len(rows) and _is_numbering(rows[after], named):
            after += 1
        followed = any(sum(1 for v in rows[r] if not _empty(v)) >= 2
                       for r in range(after, min(after + 5, len(rows))))
        key = (int(followed), named, -i)
        if best is None or key > best[0]:
            best = (key, candidate)
    return best[1] if best else None


def _table(grid: _Grid, p: Path, fmt: str, sheets: tuple[str, ...], notes: list[str]
           ) -> tuple[pd.DataFrame, TableSource] | None:
    header = _find_header(grid)
    if header is None:
        return None
    rows = grid.rows
    headers = [unicodedata.normalize("NFC", h) if h else f"column_{j + 1}"
               for j, h in enumerate(header.headers)]
    width = len(headers)
    lines = (" ".join(_text(v) for v in r if not _empty(v)) for r in rows[:header.top])
    title_lines = tuple(unicodedata.normalize("NFC", line) for line in lines if line)
    start = header.top + header.rows
    numbering_row: int | None = None
    first = start
    while first < len(rows) and all(_empty(v) for v in rows[first]):
        first += 1
    if first < len(rows) and _is_numbering(rows[first], sum(1 for h in header.headers if h)):
        numbering_row = first + 1
        start = first + 1
    data: list[list[object]] = []
    index: list[int] = []
    blank_at: list[int] = []
    for r in range(start, len(rows)):
        row = rows[r]
        values = [_cell(row, j) for j in range(width)]
        # text in one Unicode form (NFC): cp1258 decodes and "tổ hợp" typing give combining
        # tone marks, which must equal the same names typed precomposed
        values = [None if _empty(v) else (unicodedata.normalize("NFC", v) if isinstance(v, str)
                                          else v) for v in values]
        if all(v is None for v in values):
            blank_at.append(r + 1)
            continue
        data.append(values)
        index.append(r + 1)
    last = index[-1] if index else start
    blank_rows = sum(1 for r in blank_at if r < last)
    if numbering_row is not None:
        blank_rows += sum(1 for r in range(header.top + header.rows, numbering_row - 1)
                          if all(_empty(v) for v in rows[r]))
    frame = pd.DataFrame(data, columns=headers, index=pd.Index(index, dtype="int64"), dtype=object)
    formula_cells = tuple(
        (r + 1, headers[c], text) for (r, c), text in sorted(grid.formulas.items())
        if r >= start and c < width and _empty(_cell(rows[r], c)))
    source = TableSource(
        path=str(p), sheet=grid.name, header_row=header.top + 1, sheets=sheets,
        header_rows=header.rows, numbering_row=numbering_row, title_lines=title_lines,
        header_parts=tuple(part if any(part) else ("", headers[j])
                           for j, part in enumerate(header.parts)),
        blank_rows=blank_rows, formula_cells=formula_cells, notes=tuple(notes), format=fmt)
    return frame, source
