"""Text tables: decoding CSV/TSV bytes (UTF-16 with BOM, UTF-8, cp1258), sniffing their
separator, and the ``<table>`` elements of an HTML page saved as ``.xls``. Each gives
``_Grid`` rows of ``str``/``None`` for :mod:`gis.io.tables`."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path

from gis.errors import DataSourceError
from gis.io.table_model import _Grid


def _decode(p: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise DataSourceError("the UTF-16 text is damaged (cannot be decoded)", path=p) from None
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataSourceError("cannot decode the text as UTF-8, UTF-16 or cp1258", path=p)


def _delimiter(text: str) -> str:
    """The separator that splits the first lines into the most, and equally many, fields (a
    semicolon file with decimal commas must not be split on its commas). Lines of one field
    (titles above the table) do not vote."""
    lines = [line for line in text.splitlines()[:40] if line.strip()]
    best, best_score = ",", -1.0
    for candidate in (";", "\t", ","):
        counts = [len(row) for row in csv.reader(lines, delimiter=candidate)]
        split = [n for n in counts if n >= 2]
        if not split:
            continue
        common = max(set(split), key=lambda n: (split.count(n), n))
        if common < 3:
            continue
        score = split.count(common) / len(counts) + (0.001 * common)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _csv_rows(text: str) -> list[list[object]]:
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    return [[c if c != "" else None for c in record] for record in reader]


class _HTMLTables(HTMLParser):
    """Rows of the ``<table>`` elements of a page; ``colspan`` leaves empty cells after the text
    and ``rowspan`` empty cells below it, as a spreadsheet's merged cells export."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[object]]] = []
        self._stack: list[tuple[list[list[object]], dict[int, int]]] = []
        self._cell: list[str] | None = None
        self._span = (1, 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._stack.append(([], {}))
        elif not self._stack:
            return
        elif tag == "tr":
            self._finish_cell()
            self._stack[-1][0].append([])
        elif tag in ("td", "th"):
            self._finish_cell()
            if not self._stack[-1][0]:
                self._stack[-1][0].append([])
            a = dict(attrs)
            self._span = (_int(a.get("colspan")), _int(a.get("rowspan")))
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._finish_cell()
        elif tag == "table" and self._stack:
            self._finish_cell()
            rows, _ = self._stack.pop()
            self.tables.append(rows)

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _finish_cell(self) -> None:
        if self._cell is None or not self._stack:
            return
        rows, pending = self._stack[-1]
        row = rows[-1]
        r = len(rows) - 1
        while pending.get(len(row), 0) > r:  # columns taken by a rowspan from above
            row.append(None)
        text = " ".join("".join(self._cell).split())
        colspan, rowspan = self._span
        col = len(row)
        row.append(text or None)
        row.extend([None] * (colspan - 1))
        if rowspan > 1:
            for c in range(col, col + colspan):
                pending[c] = r + rowspan
        self._cell = None


def _int(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


def _html_tables(text: str) -> list[_Grid]:
    parser = _HTMLTables()
    parser.feed(text)
    parser.close()
    return [_Grid(f"table {k + 1}", rows) for k, rows in enumerate(parser.tables) if rows]
