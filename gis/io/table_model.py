"""What a read table is: :class:`TableSource` (where it came from, what the reader saw around it)
and ``_Grid``, one sheet as rows of typed values as the format readers give it to the layout
(:mod:`gis.io.table_layout`). Read through :mod:`gis.io.tables`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableSource:
    """Where a table came from, and what the reader saw around it.

    Attributes
    ----------
    path, sheet
        The file, and the sheet name (the file name for CSV, "table N" for HTML).
    header_row
        1-based spreadsheet row of the (first) header row.
    sheets
        Every sheet name of the workbook, hidden ones included.
    header_rows
        1, or 2 for a two-row (grouped) header.
    numbering_row
        The spreadsheet row of the column-numbering row under the header ("(1)", "(2)" …), if any.
    title_lines
        The text of each non-empty row above the header, cells joined by a space.
    header_parts
        ``(group, child)`` per column; the group is "" for a single-level header.
    blank_rows
        Blank rows between the header and the last data row (left out of the frame).
    formula_cells
        ``(row, header, formula)`` of each formula cell without a cached value (XLSX only).
    notes
        What was skipped or guessed: hidden sheets, sheets without a table, a renamed file.
    format
        "xlsx", "xls", "ods", "csv" or "html": what the file really is.
    """

    path: str
    sheet: str
    header_row: int
    sheets: tuple[str, ...] = ()
    header_rows: int = 1
    numbering_row: int | None = None
    title_lines: tuple[str, ...] = ()
    header_parts: tuple[tuple[str, str], ...] = ()
    blank_rows: int = 0
    formula_cells: tuple[tuple[int, str, str], ...] = ()
    notes: tuple[str, ...] = ()
    format: str = ""


@dataclass
class _Grid:
    """One sheet as rows of typed values (row ``i`` is spreadsheet row ``i + 1``)."""

    name: str
    rows: list[list[object]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2 (0-based)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) 0-based, no value
    hidden: bool = False
    chart: bool = False
