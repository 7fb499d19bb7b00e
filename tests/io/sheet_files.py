"""Write small spreadsheet files at test time, without office software.

* ``write_xls``: a real Excel 97-2003 workbook: BIFF8 records (BOF, SST, BOUNDSHEET, XF, NUMBER,
  LABELSST, MERGEDCELLS, EOF) in a ``Workbook`` stream of an OLE2 compound file (one FAT sector,
  one directory sector, the stream padded to 4096 bytes so it lives in regular sectors, not in the
  mini stream). Numbers are NUMBER records; ``datetime.date`` values are NUMBER records with an XF
  whose format is the built-in date format 14, which is how Excel marks a date cell.
* ``write_ods``: an OpenDocument spreadsheet: the ``mimetype`` member stored first and
  uncompressed, ``content.xml`` with ``table:table`` rows (dates as ``office:date-value``,
  ``table:number-columns-spanned`` for merged cells) and ``META-INF/manifest.xml``.

Rows are lists of ``str`` / ``int`` / ``float`` / ``datetime.date`` / ``None`` (empty cell).
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

Cell = "str | int | float | dt.date | None"

_ENDOFCHAIN = 0xFFFFFFFE
_FREESECT = 0xFFFFFFFF
_FATSECT = 0xFFFFFFFD
_NOSTREAM = 0xFFFFFFFF


def _record(rtype: int, data: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def _unicode(text: str, *, short: bool = False) -> bytes:
    raw = text.encode("utf-16-le")
    head = struct.pack("<B", len(text)) if short else struct.pack("<H", len(text))
    return head + b"\x01" + raw  # fHighByte: UTF-16LE characters


def _bof(kind: int) -> bytes:
    # vers BIFF8, dt (5 globals, 0x10 worksheet), build, year, file history flags, lowest version
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def _excel_serial(value: dt.date) -> float:
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    return float((value - dt.date(1899, 12, 30)).days)


def _cfb(stream: bytes, name: str = "Workbook") -> bytes:
    """An OLE2 compound file (version 3, 512-byte sectors) holding one stream."""
    if len(stream) < 4096:
        stream = stream + b"\x00" * (4096 - len(stream))
    n = -(-len(stream) // 512)
    if n + 2 > 128:
        raise ValueError("test workbook too large for one FAT sector")
    fat = [_FATSECT, _ENDOFCHAIN] + [2 + i + 1 for i in range(n - 1)] + [_ENDOFCHAIN]
    fat += [_FREESECT] * (128 - len(fat))
    difat = [0] + [_FREESECT] * 108
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _ENDOFCHAIN, 0, _ENDOFCHAIN, 0)
              + struct.pack("<109I", *difat))
    assert len(header) == 512

    def entry(label: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = (label + "\x00").encode("utf-16-le") if label else b""
        return (raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), kind, 1 if label else 0)
                + struct.pack("<III", _NOSTREAM, _NOSTREAM, child) + b"\x00" * 16
                + struct.pack("<I", 0) + b"\x00" * 16 + struct.pack("<IQ", start, size))

    directory = (entry("Root Entry", 5, 1, _ENDOFCHAIN, 0) + entry(name, 2, _NOSTREAM, 2, len(stream))
                 + entry("", 0, _NOSTREAM, 0, 0) * 2)
    assert len(directory) == 512
    body = stream.ljust(n * 512, b"\x00")
    return header + struct.pack("<128I", *fat) + directory + body


def write_xls(path: Path, sheets: dict[str, list[list[object]]], *,
              merged: dict[str, list[tuple[int, int, int, int]]] | None = None,
              hidden: tuple[str, ...] = ()) -> Path:
    """Write a BIFF8 ``.xls``; ``merged`` gives 0-based (first_row, last_row, first_col, last_col)."""
    strings: list[str] = []
    index: dict[str, int] = {}
    for rows in sheets.values():
        for row in rows:
            for v in row:
                if isinstance(v, str) and v not in index:
                    index[v] = len(strings)
                    strings.append(v)
    total = sum(1 for rows in sheets.values() for row in rows for v in row if isinstance(v, str))

    globals_ = _bof(0x0005)
    globals_ += _record(0x0042, struct.pack("<H", 1200))  # CODEPAGE: UTF-16
    globals_ += _record(0x0022, struct.pack("<H", 0))  # DATEMODE 1900
    font = struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + _unicode("Arial", short=True)
    for _ in range(5):  # font index 4 is skipped by Excel; write five identical fonts
        globals_ += _record(0x0031, font)
    xf_body = struct.pack("<HHHBBBBIIH", 0, 0, 0xFFF5, 0x20, 0, 0, 0, 0, 0, 0x20C0)
    for _ in range(15):  # 15 style XFs
        globals_ += _record(0x00E0, xf_body)
    cell_xf = struct.pack("<HHHBBBBIIH", 0, 0, 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0)
    date_xf = struct.pack("<HHHBBBBIIH", 0, 14, 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0)
    globals_ += _record(0x00E0, cell_xf)  # XF 15: general
    globals_ += _record(0x00E0, date_xf)  # XF 16: built-in format 14 (a date)
    names = list(sheets)
    boundsheet_at: list[int] = []
    for name in names:
        boundsheet_at.append(len(globals_) + 4)
        state = 1 if name in hidden else 0
        globals_ += _record(0x0085, struct.pack("<IBB", 0, state, 0) + _unicode(name, short=True))
    sst = struct.pack("<II", total, len(strings)) + b"".join(_unicode(s) for s in strings)
    globals_ += _record(0x00FC, sst)
    globals_ += _record(0x000A, b"")

    streams: list[bytes] = []
    for name in names:
        rows = sheets[name]
        width = max((len(r) for r in rows), default=0)
        body = _bof(0x0010)
        body += _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, str):
                    body += _record(0x00FD, struct.pack("<HHHI", r, c, 15, index[v]))
                elif isinstance(v, dt.date):
                    body += _record(0x0203, struct.pack("<HHHd", r, c, 16, _excel_serial(v)))
                else:
                    body += _record(0x0203, struct.pack("<HHHd", r, c, 15, float(v)))
        ranges = (merged or {}).get(name, [])
        if ranges:
            body += _record(0x00E5, struct.pack("<H", len(ranges))
                            + b"".join(struct.pack("<HHHH", *m) for m in ranges))
        body += _record(0x000A, b"")
        streams.append(body)

    out = bytearray(globals_)
    for at, body in zip(boundsheet_at, streams):
        struct.pack_into("<I", out, at, len(out))
        out += body
    path.write_bytes(_cfb(bytes(out)))
    return path


_ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
           'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
           'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"')


def _ods_cell(value: object, span: int = 1) -> str:
    spanned = f' table:number-columns-spanned="{span}"' if span > 1 else ""
    if value is None:
        return f"<table:table-cell{spanned}/>"
    if isinstance(value, dt.date):
        iso = value.isoformat() if isinstance(value, dt.datetime) else value.isoformat()
        return (f'<table:table-cell office:value-type="date" office:date-value="{iso}"{spanned}>'
                f"<text:p>{iso}</text:p></table:table-cell>")
    if isinstance(value, (int, float)):
        return (f'<table:table-cell office:value-type="float" office:value="{value}"{spanned}>'
                f"<text:p>{value}</text:p></table:table-cell>")
    return (f'<table:table-cell office:value-type="string"{spanned}>'
            f"<text:p>{escape(str(value))}</text:p></table:table-cell>")


def write_ods(path: Path, sheets: dict[str, list[list[object]]], *,
              spans: dict[str, dict[tuple[int, int], int]] | None = None) -> Path:
    """Write an ``.ods``; ``spans`` maps (row, col) (0-based) to a horizontal merge width."""
    tables = []
    for name, rows in sheets.items():
        span_of = (spans or {}).get(name, {})
        xml_rows = []
        for r, row in enumerate(rows):
            cells = []
            skip = 0
            for c, v in enumerate(row):
                if skip:
                    skip -= 1
                    cells.append("<table:covered-table-cell/>")
                    continue
                span = span_of.get((r, c), 1)
                skip = span - 1
                cells.append(_ods_cell(v, span))
            xml_rows.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
        tables.append(f'<table:table table:name="{escape(name)}">' + "".join(xml_rows)
                      + "</table:table>")
    content = ('<?xml version="1.0" encoding="UTF-8"?>'
               f'<office:document-content {_ODS_NS} office:version="1.2">'
               "<office:body><office:spreadsheet>" + "".join(tables)
               + "</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                'manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                    compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path
