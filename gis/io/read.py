"""Read a layer as it arrives: Shapefile set, zipped shapefile, GeoPackage, GeoJSON, KML/KMZ.

Every failure becomes a :class:`~gis.errors.DataSourceError` naming the file and layer. The engine
(pyogrio with Arrow by default, fiona on request) is chosen here and nowhere else.
"""

from __future__ import annotations

import contextlib
import os
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
from pyproj import CRS

from gis.errors import DataSourceError
from gis.io.archive import check_archive, layer_members
from gis.io.engines import Engine

__all__ = ["SourceInfo", "read_layer", "list_layers", "resolve_source"]


@dataclass(frozen=True)
class SourceInfo:
    """What was read, from where, and how."""

    path: str
    gdal_path: str
    layer: str | None
    driver: str | None
    crs: CRS | None
    engine: Engine
    encoding: str | None
    features: int
    notes: tuple[str, ...] = field(default=())
    #: per-row read findings: (1-based row, rule, severity, message), e.g. a geometry GEOS
    #: cannot decode; the row is kept (geometry None when unreadable) and validation reports it
    row_issues: tuple[tuple[int, str, str, str], ...] = field(default=())


@dataclass(frozen=True)
class _ShapefileSet:
    """The files of one shapefile, on disk or inside a zip: ``ext -> (size, opener)``.

    ``prefix`` starts messages about a member of a zip ("a/p.shp inside the zip: ").
    """

    prefix: str
    files: dict[str, tuple[int, Callable[[], ContextManager[BinaryIO]]]]

    @classmethod
    def on_disk(cls, shp: Path) -> _ShapefileSet:
        files: dict[str, tuple[int, Callable[[], ContextManager[BinaryIO]]]] = {}
        for p in shp.parent.iterdir():  # not glob(): "[" in a file name is a glob pattern
            if p.suffix and p.with_suffix("").name == shp.stem and p.is_file():
                files[p.suffix.lower()] = (p.stat().st_size,
                                           lambda p=p: open(p, "rb"))  # type: ignore[misc]
        return cls("", files)

    @classmethod
    def in_zip(cls, archive: Path, member: str) -> _ShapefileSet:
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


def _shp_checks(shp: _ShapefileSet, display: Path | str) -> list[str]:
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
        notes.append(f".cpg says {_cpg_text(shp)!r}")
    else:
        notes.append("no .cpg file: text read as raw bytes (latin-1), legacy encodings detected")
    return notes


def _cpg_text(shp: _ShapefileSet) -> str:
    return shp.read(".cpg", 200).decode("ascii", errors="replace").strip()


def _shx_count(shp: _ShapefileSet, where: str, display: Path | str) -> int:
    size = shp.size(".shx")
    header = shp.read(".shx", 100)
    declared = struct.unpack(">i", header[24:28])[0] * 2 if len(header) == 100 else -1
    if size < 100 or declared != size or (size - 100) % 8:
        raise DataSourceError(f"{where}the .shx (index) is truncated or damaged: {size:,} bytes, "
                              f"its header declares {max(declared, 0):,}", path=display)
    return (size - 100) // 8


def _dbf_count(shp: _ShapefileSet, where: str, display: Path | str) -> int:
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


def _dbf_utf8_scan(shp: _ShapefileSet, *, chunk_bytes: int = 8 * 1024**2
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


def _dbf_field_names(shp: _ShapefileSet) -> list[bytes]:
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


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _dbf_is_utf8(shp: _ShapefileSet, *, sample_bytes: int = 8 * 1024**2) -> bool:
    """True when the DBF's text (field names and values) holds multi-byte UTF-8 and nothing
    that is not UTF-8: a ``.cpg`` naming a one-byte code page (1258, 1252) then lies."""
    names = _dbf_field_names(shp)
    if not all(_decodes(n) for n in names):
        return False
    bad, _ = _dbf_utf8_scan(shp)
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


def resolve_source(path: str | os.PathLike[str], *, layer: str | None = None
                   ) -> tuple[str, str | None, list[str]]:
    """Turn a user path into a GDAL path and layer name; check archives and shapefile sets.

    A directory or a ``.zip`` may hold exactly one layer file (nested folders allowed); with
    several, ``layer`` picks one by file name or the error lists them.
    """
    gdal_path, layer_name, notes, _ = _resolve(path, layer=layer)
    return gdal_path, layer_name, notes


def _resolve(path: str | os.PathLike[str], *, layer: str | None = None
             ) -> tuple[str, str | None, list[str], _ShapefileSet | None]:
    p = Path(path)
    if not p.exists():
        raise DataSourceError("no such file or folder", path=p)
    notes: list[str] = []
    if p.is_dir():
        files = sorted(str(f.relative_to(p)) for f in p.rglob("*")
                       if f.suffix.lower() in (".shp", ".gpkg", ".geojson", ".kml", ".kmz"))
        inner = _pick(files, layer, p)
        return _resolve(p / inner, layer=None if inner.endswith(".shp") else layer)
    if p.stat().st_size == 0:
        raise DataSourceError("the file is empty (0 bytes)", path=p)
    suffix = p.suffix.lower()
    if suffix == ".zip":
        members = layer_members(check_archive(p))
        inner = _pick(members, layer, p)
        notes.append(f"read {inner} inside the zip")
        shp = None
        if inner.lower().endswith(".shp"):
            shp = _ShapefileSet.in_zip(p, inner)
            notes += _shp_checks(shp, p)
        return (f"/vsizip/{p.resolve()}/{inner}", None if shp is not None else layer, notes, shp)
    if suffix == ".kmz":
        check_archive(p)
        return str(p), layer, notes, None
    if suffix == ".shp":
        shp = _ShapefileSet.on_disk(p)
        notes += _shp_checks(shp, p)
        return str(p), layer, notes, shp
    if suffix in (".shx", ".dbf", ".prj", ".cpg"):
        return _resolve(p.with_suffix(".shp"), layer=layer)
    return str(p), layer, notes, None


def _pick(candidates: list[str], layer: str | None, where: Path) -> str:
    if not candidates:
        raise DataSourceError("holds no layer file (.shp, .gpkg, .geojson, .kml)", path=where)
    if layer is not None:
        exact = [c for c in candidates if c == layer or c.rstrip("/") == layer.rstrip("/")]
        hits = exact or [c for c in candidates if Path(c).stem == layer
                         or str(Path(c).with_suffix("")) == layer]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise DataSourceError(f"{len(hits)} files match {layer!r} ({', '.join(hits)}); pass "
                                  "the path inside, e.g. --layer " + hits[0], path=where)
        raise DataSourceError(f"no layer file named {layer!r}; it holds: {', '.join(candidates)}",
                              path=where)
    if len(candidates) > 1:
        raise DataSourceError(f"holds {len(candidates)} layer files ({', '.join(candidates)}); "
                              "pick one with --layer NAME", path=where)
    return candidates[0]


def list_layers(path: str | os.PathLike[str]) -> list[tuple[str, str | None]]:
    """Layers of a source: ``[(name, geometry type), ...]``."""
    gdal_path, _, _ = resolve_source(path)
    try:
        with _quiet():
            layers = pyogrio.list_layers(gdal_path)
        return [(str(n), None if g is None else str(g)) for n, g in layers]
    except Exception as exc:  # pyogrio raises DataSourceError/OSError subclasses; wrap all
        raise DataSourceError(f"cannot open: {exc}", path=path) from None


def _choose_layer(gdal_path: str, layer: str | None, display: str) -> str | None:
    try:
        with _quiet():
            layers = pyogrio.list_layers(gdal_path)
    except Exception as exc:
        raise DataSourceError(f"cannot open as a vector layer: {_clean(exc)}", path=display) from None
    names = [str(n) for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise DataSourceError(f"no layer {layer!r}; layers: {', '.join(names)}", path=display,
                                  layer=layer)
        return layer
    if len(names) == 1:
        return names[0]
    spatial = [str(n) for n, g in layers if g is not None]
    if len(spatial) == 1:
        return spatial[0]
    raise DataSourceError(f"holds {len(names)} layers ({', '.join(names)}); pick one with --layer",
                          path=display)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """GDAL's chatter: field-name laundering, and M values dropped (the source notes say so)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message="Measured \\(M\\) geometry types",
                                category=UserWarning)
        yield


def _clean(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_layer(path: str | os.PathLike[str], *, layer: str | None = None,
               engine: Engine | str | None = None, encoding: str | None = None
               ) -> tuple[gpd.GeoDataFrame, SourceInfo]:
    """Read one layer into a GeoDataFrame, CRS as declared by the source (or None).

    A ``.cpg`` that lies (says UTF-8 over legacy bytes) is detected: the layer is read as latin-1
    so that :mod:`gis.encoding` can decode it, and a note says so. The check looks at the DBF
    bytes themselves, because the engines fail differently on such a file: pyogrio with Arrow
    returns strings that are not UTF-8 (they break later), without Arrow it raises, and fiona
    turns every such value into None.
    """
    engine = Engine.parse(engine)
    display = str(path)
    gdal_path, layer_hint, notes, shp = _resolve(path, layer=layer)
    # a shapefile picked out of a folder or zip has one layer: --layer already did its job
    chosen = _choose_layer(gdal_path, None if shp is not None else (
        layer_hint if layer_hint is not None else layer), display)
    try:
        with _quiet():
            info = pyogrio.read_info(gdal_path, layer=chosen, encoding=encoding)
    except Exception as exc:
        if not (shp is not None and encoding is None and "decode" in str(exc)):
            raise DataSourceError(f"cannot read: {_clean(exc)}", path=display,
                                  layer=chosen) from None
        # the field names are not in the declared encoding (a .cpg saying UTF-8 over cp1258 or
        # TCVN3 names): read raw bytes, detection decodes names and values
        try:
            with _quiet():
                info = pyogrio.read_info(gdal_path, layer=chosen, encoding="latin1")
        except Exception:
            raise DataSourceError(f"cannot read: {_clean(exc)}", path=display,
                                  layer=chosen) from None
        encoding = "latin1"
        notes.append(f"the .cpg says {_cpg_text(shp)!r} but the field names are not in that "
                     "encoding: read as raw bytes (latin-1) and decoded by detection")
    driver = info.get("driver")
    cut = 0
    # (GDAL reports "UTF-8" for any shapefile it recodes, so the .cpg itself is what is checked)
    if encoding is None and shp is not None and shp.has(".cpg") and not _is_utf8(
            _cpg_text(shp)) and _dbf_is_utf8(shp):
        encoding = "UTF-8"
        notes.append(f"the .cpg says {_cpg_text(shp)!r} but the text (field names included) is "
                     "UTF-8: read as UTF-8")
    elif (encoding is None and shp is not None and shp.has(".cpg")
            and (_is_utf8(info.get("encoding")) or _is_utf8(_cpg_text(shp)))):
        bad, cut = _dbf_utf8_scan(shp)
        names_bad = [n for n in _dbf_field_names(shp) if not _decodes(n)]
        if bad is None and names_bad:
            bad = (0, names_bad[0].decode("latin-1"))
        if bad is not None and bad[0] == 0:
            encoding, cut = "latin1", 0
            notes.append(f"the .cpg says {_cpg_text(shp)!r} but the field names are not UTF-8 "
                         f"(first {bad[1]!r}): read as raw bytes (latin-1) and decoded by "
                         "detection")
        elif bad is not None:
            encoding, cut = "latin1", 0
            notes.append(f"the .cpg says {_cpg_text(shp)!r} but the text is not UTF-8 (first at "
                         f"row {bad[0]}, field {bad[1]}): read as raw bytes (latin-1) and decoded "
                         "by detection")
        elif cut:
            notes.append(f"{cut} text value(s) end in a UTF-8 character cut by the DBF field "
                         "width; the cut character is shown as U+FFFD" + (
                             " (fiona reads those values as empty: use the pyogrio engine)"
                             if engine is Engine.FIONA else ""))
    row_issues: list[tuple[int, str, str, str]] = []
    frame, used_encoding = _read(gdal_path, chosen, engine, encoding, display, row_issues)
    invalid = _invalid_utf8_column(frame)
    if invalid is not None and cut:
        frame = _replace_invalid_utf8(frame)
    elif driver == "ESRI Shapefile" and encoding is None and (
            invalid is not None or _replacement_char_column(frame) is not None):
        row_issues.clear()
        frame, used_encoding = _read(gdal_path, chosen, engine, "latin1", display, row_issues)
        notes.append("the .cpg declares an encoding the text does not follow; read as raw bytes "
                     "(latin-1) and decoded by detection")
    elif invalid is not None:
        raise DataSourceError(f"text that is not valid UTF-8 (the source declares "
                              f"{info.get('encoding') or 'no encoding'})", path=display,
                              layer=chosen, field=invalid)
    if len(frame) == 0:
        raise DataSourceError("the layer has zero features", path=display, layer=chosen)
    crs = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    if row_issues:
        notes.append(f"{len(row_issues)} feature(s) read one by one after the whole-layer read "
                     f"failed (first at row {row_issues[0][0]}): see the row issues")
    return frame, SourceInfo(display, gdal_path, chosen, driver, crs, engine,
                             used_encoding or info.get("encoding"), len(frame), tuple(notes),
                             tuple(row_issues))


def _is_utf8(name: object) -> bool:
    return isinstance(name, str) and name.replace("-", "").replace("_", "").lower() in (
        "utf8", "65001")


def _read(gdal_path: str, layer: str | None, engine: Engine, encoding: str | None,
          display: str, row_issues: list[tuple[int, str, str, str]] | None = None
          ) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read the whole layer; when that fails, read it feature by feature so that one bad
    feature is that row's error (appended to ``row_issues``) and the others load."""
    kwargs: dict[str, object] = {}
    if encoding:
        kwargs["encoding"] = encoding
    try:
        with _quiet():
            if engine is Engine.PYOGRIO:
                frame = pyogrio.read_dataframe(gdal_path, layer=layer, use_arrow=True, **kwargs)
            else:
                frame = gpd.read_file(gdal_path, layer=layer, engine="fiona", **kwargs)
    except Exception as exc:
        first = f"cannot read: {_clean(exc)}"
        if row_issues is None:
            raise DataSourceError(first, path=display, layer=layer) from None
        found: list[tuple[int, str, str, str]] = []
        frame = _read_per_feature(gdal_path, layer, encoding, found)
        if frame is None or not found:
            raise DataSourceError(first, path=display, layer=layer) from None
        row_issues.extend(found)
    return frame, encoding


def _decode_wkb(wkb: bytes | None, row: int, found: list[tuple[int, str, str, str]]) -> object:
    import shapely

    if wkb is None:
        return None
    try:
        return shapely.from_wkb(wkb)
    except Exception as exc:  # GEOS refuses it: try the fixes it knows (closing a ring)
        reason = _clean(exc).split(": ", 1)[-1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fixed = shapely.from_wkb(wkb, on_invalid="fix")
    except Exception:
        fixed = None
    if fixed is not None and not shapely.is_empty(fixed):
        found.append((row, "geometry_fixed_on_read", "warning",
                      f"geometry could not be read as it is ({reason}); fixed on reading "
                      "(ring closed), check the outline"))
        return fixed
    found.append((row, "unreadable_geometry", "error", f"geometry cannot be read: {reason}"))
    return None


def _read_per_feature(gdal_path: str, layer: str | None, encoding: str | None,
                      found: list[tuple[int, str, str, str]]) -> gpd.GeoDataFrame | None:
    """The layer's attributes in one read and its geometries decoded one by one (pyogrio); when
    GDAL itself fails on a feature, every feature through fiona, one at a time."""
    kwargs: dict[str, object] = {"encoding": encoding} if encoding else {}
    try:
        with _quiet():
            attrs = pyogrio.read_dataframe(gdal_path, layer=layer, read_geometry=False, **kwargs)
            meta, _, wkb, _ = pyogrio.raw.read(gdal_path, layer=layer, columns=[], **kwargs)
        geoms = [_decode_wkb(w, i + 1, found) for i, w in enumerate(wkb)]
        return gpd.GeoDataFrame(pd.DataFrame(attrs), geometry=geoms, crs=meta.get("crs"))
    except Exception:
        found.clear()
    return _read_with_fiona(gdal_path, layer, encoding, found)


def _read_with_fiona(gdal_path: str, layer: str | None, encoding: str | None,
                     found: list[tuple[int, str, str, str]]) -> gpd.GeoDataFrame | None:
    import fiona
    import shapely

    kwargs: dict[str, object] = {"encoding": encoding} if encoding else {}
    try:
        with _quiet(), fiona.open(gdal_path, layer=layer, **kwargs) as src:
            names = list(src.schema["properties"])
            crs = src.crs_wkt or None
            n = len(src)
            rows: list[dict[str, object]] = []
            geoms: list[object] = []
            for i in range(n):
                try:
                    feature = src[i]
                    props = dict(feature["properties"])
                    geom = feature["geometry"]
                except Exception as exc:
                    found.append((i + 1, "unreadable_feature", "error",
                                  f"feature cannot be read: {_clean(exc)}"))
                    rows.append(dict.fromkeys(names))
                    geoms.append(None)
                    continue
                rows.append(props)
                try:
                    geoms.append(None if geom is None else shapely.geometry.shape(geom))
                except Exception as exc:
                    found.append((i + 1, "unreadable_geometry", "error",
                                  f"geometry cannot be read: {_clean(exc)}"))
                    geoms.append(None)
    except Exception:
        return None
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=names), geometry=geoms, crs=crs)


def _replace_invalid_utf8(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Arrow string columns that are not valid UTF-8, decoded with U+FFFD for the bad bytes."""
    import pyarrow as pa

    frame = frame.copy()
    for column in frame.columns:
        array = frame[column].array
        if column == "geometry" or not hasattr(array, "__arrow_array__"):
            continue
        arrow = array.__arrow_array__()
        try:
            arrow.validate(full=True)
        except pa.ArrowInvalid:
            values = arrow.cast(pa.binary()).to_pylist()
            frame[column] = pd.array([None if v is None else v.decode("utf-8", "replace")
                                      for v in values], dtype=frame[column].dtype)
    return frame


def _text_columns(frame: gpd.GeoDataFrame) -> list[str]:
    return [str(c) for c in frame.columns if c != "geometry" and (
        frame[c].dtype.kind in "OU" or str(frame[c].dtype).startswith(("string", "str")))]


def _invalid_utf8_column(frame: gpd.GeoDataFrame) -> str | None:
    """First Arrow-backed text column holding bytes that are not UTF-8 (they break later)."""
    import pyarrow as pa

    for column in _text_columns(frame):
        array = frame[column].array
        if hasattr(array, "__arrow_array__"):
            try:
                array.__arrow_array__().validate(full=True)
            except pa.ArrowInvalid:
                return column
    return None


def _replacement_char_column(frame: gpd.GeoDataFrame) -> str | None:
    """First text column holding U+FFFD, the mark of bytes the declared encoding cannot decode."""
    for column in _text_columns(frame):
        if frame[column].astype("string").str.contains("\ufffd", regex=False).fillna(False).any():
            return column
    return None
