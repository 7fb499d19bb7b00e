"""Workbooks through python-calamine (XLSX/XLSM/XLSB, XLS, ODS): every sheet as a ``_Grid`` of
typed values with its merged ranges, hidden and chart sheets marked; for XLSX, the formula cells
without a cached value read from the sheet XML. Encrypted and corrupt workbooks are refused as
:class:`gis.errors.DataSourceError`. Called by :mod:`gis.io.tables`."""

from __future__ import annotations

import html
import io
import math
import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from gis.errors import DataSourceError
from gis.io.table_model import _Grid


def _is_ods(p: Path, raw: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            if "mimetype" in zf.namelist():
                return b"opendocument.spreadsheet" in zf.read("mimetype")
            return "content.xml" in zf.namelist() and "xl/workbook.xml" not in zf.namelist()
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        raise DataSourceError("not a readable workbook (the zip archive is corrupt or truncated)",
                              path=p) from None


def _calamine(p: Path, raw: bytes, fmt: str) -> list[_Grid]:
    import python_calamine as pc

    try:
        book = pc.CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except pc.PasswordError:
        raise DataSourceError("encrypted or password-protected workbook: open it in Excel, remove "
                              "the password and save it again", path=p) from None
    except BaseException as exc:  # calamine's errors, and a Rust panic (a BaseException) on bad bytes
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        raise DataSourceError(f"not a readable {fmt.upper()} workbook (corrupt or truncated: "
                              f"{_short(exc)})", path=p) from None
    grids: list[_Grid] = []
    try:
        for meta in book.sheets_metadata:
            hidden = meta.visible != pc.SheetVisibleEnum.Visible
            chart = meta.typ != pc.SheetTypeEnum.WorkSheet
            if chart:
                grids.append(_Grid(meta.name, [], hidden=hidden, chart=True))
                continue
            try:
                sheet = book.get_sheet_by_name(meta.name)
                rows = [[_value(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
                merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
            except pc.PasswordError:
                raise DataSourceError("encrypted or password-protected workbook", path=p,
                                      layer=meta.name) from None
            except BaseException as exc:
                if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                    raise
                raise DataSourceError(f"the sheet cannot be read (corrupt: {_short(exc)})", path=p,
                                      layer=meta.name) from None
            grids.append(_Grid(meta.name, rows, merged, hidden=hidden))
    finally:
        book.close()
    if not grids:
        raise DataSourceError("the workbook has no sheets", path=p)
    return grids


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _value(v: object) -> object:
    if isinstance(v, str):
        return v if v else None
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if v.is_integer() and abs(v) < 2**53:
            return int(v)
    return v


# ----------------------------------------------------------------- formulas in XLSX sheet XML

_F_RE = re.compile(rb"<(?:\w+:)?f(?=[\s>/])")
_C_OPEN_RE = re.compile(rb"<(?:\w+:)?c(?=[\s>/])")
_C_CLOSE_RE = re.compile(rb"</(?:\w+:)?c>")
_REF_RE = re.compile(rb"\br=\"([A-Z]+)(\d+)\"")
_V_RE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_IS_RE = re.compile(rb"<(?:\w+:)?is>")
_FTEXT_RE = re.compile(rb"<(?:\w+:)?f([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_SI_RE = re.compile(rb"\bsi=\"(\d+)\"")
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> member path of its XML, from the workbook and its relationships."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts: dict[str, str] = {}
    for s in book.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(s.get(f"{_NS_REL}id"), "")
        if not target:
            continue
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        parts[s.get("name", "")] = os.path.normpath(target).replace(os.sep, "/")
    return parts


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _add_formulas(p: Path, raw: bytes, grids: list[_Grid]) -> None:
    """Record formula cells that have no cached value (``<f>`` without ``<v>``) per sheet."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            if "xl/workbook.xml" not in zf.namelist():
                return
            parts = _sheet_parts(zf)
            for grid in grids:
                member = parts.get(grid.name)
                if not member or member not in zf.namelist():
                    continue
                data = zf.read(member)
                if _F_RE.search(data):
                    grid.formulas = _formulas_without_value(data)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as exc:
        raise DataSourceError(f"not a readable XLSX workbook (corrupt: {_short(exc)})",
                              path=p) from None


def _formulas_without_value(data: bytes) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    shared: dict[bytes, str] = {}
    pos = 0
    while True:
        m = _F_RE.search(data, pos)
        if m is None:
            break
        start = max((c.start() for c in _C_OPEN_RE.finditer(data, max(0, m.start() - 400),
                                                              m.start())), default=-1)
        close = _C_CLOSE_RE.search(data, m.end())
        if start < 0 or close is None:
            pos = m.end()
            continue
        cell = data[start:close.end()]
        pos = close.end()
        ftag = _FTEXT_RE.search(cell)
        if ftag is None:
            continue
        text = html.unescape((ftag.group(2) or b"").decode("utf-8", "replace"))
        si = _SI_RE.search(ftag.group(1))
        if si and text:
            shared[si.group(1)] = text
        elif si and not text:
            text = shared.get(si.group(1), "")
        value = _V_RE.search(cell)
        if (value and value.group(1).strip()) or _IS_RE.search(cell):
            continue
        ref = _REF_RE.search(cell[:cell.find(b">") + 1])
        if ref is None:
            continue
        found[(int(ref.group(2)) - 1, _col_index(ref.group(1)))] = "=" + text
    return found
