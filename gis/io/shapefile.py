"""Shapefile sets checked before GDAL sees them: sidecar files, header lengths, record counts,
and the text encoding of the DBF (a ``.cpg`` that lies either way).

A set is read on disk or inside a zip alike (:class:`ShapefileSet`).
"""

from __future__ import annotations

import contextlib
import struct
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np

from gis.errors import DataSourceError

__all__ = ["ShapefileSet", "check_shapefile", "cpg_text", "dbf_utf8_scan", "dbf_field_names",
           "decodes_utf8", "dbf_is_utf8", "is_utf8_name"]


@dataclass(frozen=True)
class ShapefileSet:
    """The files of one shapefile, on disk or inside a zip: ``ext -> (size, opener)``.

    ``prefix`` starts messages about a member of a zip ("a/p.shp inside the zip: ").
    """

    prefix: str
    files: dict[str, tuple[int, Callable[[], ContextManager[BinaryIO]]]]

    @classmethod
    def on_disk(cls, shp: Path) -> ShapefileSet:
        files: dict[str, tuple[int, Callable[[], ContextManager[BinaryIO]]]] = {}
        for p in shp.parent.iterdir():  # not glob(): "[" in a file name is a glob pattern
            if p.suffix and p.with_suffix("").name == shp.stem and p.is_file():
                files[p.suffix.lower()] = (p.stat().st_size,
                                           lambda p=p: open(p, "rb"))  # type: ignore[misc]
        return cls("", files)

    @classmethod
    def in_zip(cls, archive: Path, member: str) -> ShapefileSet:
        stem = PurePosixPath(member).with_suffix("")
        files: dict[str, tuple[int, Callable[[], ContextManager[BinaryIO]]]] = {}
        with zipfile.ZipFile(archive) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
        for info in infos:
            p = PurePosixPath(info.filename)
            if p.with_suffix("") == stem and p.suffix:
                files[p.suffix.lower()] = (info.file_size, _zip_opener(archive, info.filename))
        return cls(f"{member} inside the zip: ", files)

    def has(self, ext: str) -> bool:
        return ext in self.files

    def size(self, ext: str) -> int:
        return self.files[ext][0]

    @contextlib.contextmanager
    def open(self, ext: str) -> Iterator[BinaryIO]:
        with self.files[ext][1]() as fh:
            yield fh

    def read(self, ext: str, n: int = -1) -> bytes:
        with self.open(ext) as fh:
            return fh.read(n)


def _zip_opener(archive: Path, name: str) -> Callable[[], ContextManager[BinaryIO]]:
    @contextlib.contextmanager
    def opener() -> Iterator[BinaryIO]:
        with zipfile.ZipFile(archive) as zf, zf.open(name) as fh:
            yield fh  # type: ignore[misc]

    return opener


# Shape types of the .shp header (ESRI Shapefile Technical Description, table 1).
_SHAPE_TYPES = {0: "Null", 1: "Point", 3: "PolyLine", 5: "Polygon", 8: "MultiPoint", 11: "PointZ",
                13: "PolyLineZ", 15: "PolygonZ", 18: "MultiPointZ", 21: "PointM", 23: "PolyLineM",
                25: "PolygonM", 28: "MultiPointM", 31: "MultiPatch"}


def check_shapefile(shp: ShapefileSet, display: Path | str) -> list[str]:
    """Sidecar, header and record-count checks of a shapefile set; notes back, fatal ones raise.

    GDAL with Arrow reads a truncated ``.dbf`` without a word and drops the last records, so the
    sizes the headers declare are checked here, before GDAL sees the files.
    """
    notes = []
    where = shp.prefix
    for ext, what in ((".shx", "index"), (".dbf", "attribute table")):
        if not shp.has(ext):
            raise DataSourceError(f"{where}the shapefile has no {ext} ({what}) file beside it; a "
                                  "shapefile needs .shp, .shx and .dbf together", path=display)
    size = shp.size(".shp")
    if size < 100:
        raise DataSourceError(f"{where}the .shp is {size} bytes, shorter than its 100-byte header "
                              "(empty or truncated file)", path=display)
    header = shp.read(".shp", 100)
    code, = struct.unpack(">i", header[:4])
    declared = struct.unpack(">i", header[24:28])[0] * 2
    if code != 9994:
        raise DataSourceError(f"{where}not a shapefile (file code {code}, expected 9994)",
                              path=display)
    if declared != size:
        raise DataSourceError(f"{where}the .shp is truncated or damaged: its header declares "
                              f"{declared:,} bytes but the file has {size:,}", path=display)
    shapes = _shx_count(shp, where, display)
    records = _dbf_count(shp, where, display)
    if records != shapes:
        raise DataSourceError(f"{where}the .shp/.shx hold {shapes:,} shapes but the .dbf holds "
                              f"{records:,} records; the files do not belong together or one is "
                              "damaged", path=display)
    shape_type = struct.unpack("<i", header[32:36])[0]
    if shape_type in (11, 13, 15, 18, 21, 23, 25, 28):
        notes.append(f"shape type {_SHAPE_TYPES[shape_type]}: Z/M values are not kept (2D)")
    if not shp.has(".prj"):
        notes.append("no .prj file: the CRS must be given (--crs) or inferred")
    if shp.has(".cpg"):
        notes.append(f".cpg says {cpg_text(shp)!r}")
    else:
        notes.append("no .cpg file: text read as raw bytes (latin-1), legacy encodings detected")
    return notes


def cpg_text(shp: ShapefileSet) -> str:
    """What the ``.cpg`` says."""
    return shp.read(".cpg", 200).decode("ascii", errors="replace").strip()


def _shx_count(shp: ShapefileSet, where: str, display: Path | str) -> int:
    size = shp.size(".shx")
    header = shp.read(".shx", 100)
    declared = struct.unpack(">i", header[24:28])[0] * 2 if len(header) == 100 else -1
    if size < 100 or declared != size or (size - 100) % 8:
        raise DataSourceError(f"{where}the .shx (index) is truncated or damaged: {size:,} bytes, "
                              f"its header declares {max(declared, 0):,}", path=display)
    return (size - 100) // 8


def _dbf_count(shp: ShapefileSet, where: str, display: Path | str) -> int:
    size = shp.size(".dbf")
    header = shp.read(".dbf", 32)
    if size < 33 or len(header) < 32:
        raise DataSourceError(f"{where}the .dbf is {size} bytes, shorter than its header "
                              "(empty or truncated file)", path=display)
    records, header_len, record_len = struct.unpack("<IHH", header[4:12])
    expected = header_len + records * record_len
    if size < expected:
        raise DataSourceError(f"{where}the .dbf (attribute table) is truncated: its header "
                              f"declares {records:,} records ({expected:,} bytes) but the file "
                              f"has {size:,} bytes", path=display)
    return records


def dbf_utf8_scan(shp: ShapefileSet, *, chunk_bytes: int = 8 * 1024**2
                   ) -> tuple[tuple[int, str] | None, int]:
    """Check the text fields of a DBF against UTF-8.

    Returns the first (1-based row, field) whose bytes are not UTF-8 (or None), and the number of
    values that are UTF-8 but end in a multi-byte character cut by the field width (writers cut
    at the byte width). Numbers, dates and flags in a DBF are ASCII; only character (``C``)
    fields can hold other bytes. The records are read in chunks of ``chunk_bytes``.
    """
    with shp.open(".dbf") as fh:
        head = fh.read(32)
        records, header_len, record_len = struct.unpack("<IHH", head[4:12])
        head += fh.read(max(header_len - 32, 0))
        fields: list[tuple[str, int, int]] = []
        offset, pos = 1, 32
        while pos + 32 <= len(head) and head[pos] != 0x0D:
            desc = head[pos:pos + 32]
            if chr(desc[11]) == "C":
                fields.append((desc[:11].split(b"\0")[0].decode("latin-1"), offset, desc[16]))
            offset += desc[16]
            pos += 32
        if not fields or not records or not record_len:
            return None, 0
        per_chunk = max(1, chunk_bytes // record_len)
        done = cut = 0
        while done < records:
            data = fh.read(min(per_chunk, records - done) * record_len)
            n = len(data) // record_len
            if n == 0:
                break
            table = np.frombuffer(data, dtype=np.uint8, count=n * record_len).reshape(n, record_len)
            bad, cut_here = _first_not_utf8(table, fields)
            if bad is not None:
                return (done + bad[0], bad[1]), cut + cut_here
            cut += cut_here
            done += n
    return None, cut


def dbf_field_names(shp: ShapefileSet) -> list[bytes]:
    """The raw bytes of the DBF's field names."""
    with shp.open(".dbf") as fh:
        head = fh.read(32)
        header_len = struct.unpack("<H", head[8:10])[0]
        head += fh.read(max(header_len - 32, 0))
    names, pos = [], 32
    while pos + 32 <= len(head) and head[pos] != 0x0D:
        names.append(head[pos:pos + 11].split(b"\0")[0])
        pos += 32
    return names


def decodes_utf8(data: bytes) -> bool:
    """True when the bytes are UTF-8."""
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def dbf_is_utf8(shp: ShapefileSet, *, sample_bytes: int = 8 * 1024**2) -> bool:
    """True when the DBF's text (field names and values) holds multi-byte UTF-8 and nothing
    that is not UTF-8: a ``.cpg`` naming a one-byte code page (1258, 1252) then lies."""
    names = dbf_field_names(shp)
    if not all(decodes_utf8(n) for n in names):
        return False
    bad, _ = dbf_utf8_scan(shp)
    if bad is not None:
        return False
    with shp.open(".dbf") as fh:
        sample = fh.read(sample_bytes)
    return any(max(n, default=0) >= 0x80 for n in names) or any(b >= 0x80 for b in sample)


def _first_not_utf8(table: np.ndarray, fields: list[tuple[str, int, int]]
                    ) -> tuple[tuple[int, str] | None, int]:
    first: tuple[int, str] | None = None
    cut = 0
    for name, start, width in fields:
        block = table[:, start:start + width]
        try:
            block.tobytes().decode("utf-8")  # fast path: the whole column at once
            continue
        except UnicodeDecodeError:
            pass
        for row in np.flatnonzero((block >= 0x80).any(axis=1)):
            value = bytes(block[row]).rstrip(b" \0")
            try:
                value.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data" and exc.end == len(value):
                    cut += 1
                    continue
                if first is None or row + 1 < first[0]:
                    first = (int(row) + 1, name)
                break
    return first, cut


def is_utf8_name(name: object) -> bool:
    """True when an encoding name (a ``.cpg``, GDAL's) means UTF-8."""
    return isinstance(name, str) and name.replace("-", "").replace("_", "").lower() in (
        "utf8", "65001")
