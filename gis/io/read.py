"""Read a layer as it arrives: Shapefile set, zipped shapefile, GeoPackage, GeoJSON, KML/KMZ.

Every failure becomes a :class:`~gis.errors.DataSourceError` naming the file and layer. The engine
(pyogrio with Arrow by default, fiona on request) is chosen here and nowhere else.
"""

from __future__ import annotations

import os
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pyogrio
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


def _shp_checks(shp: Path, display: Path) -> list[str]:
    """Sidecar and header checks of a shapefile on disk; returns notes, raises on fatal ones."""
    notes = []
    stem = shp.with_suffix("")
    siblings = {p.suffix.lower(): p for p in shp.parent.glob(shp.stem + ".*")
                if p.with_suffix("").name == stem.name}
    for ext, what in ((".shx", "index"), (".dbf", "attribute table")):
        if ext not in siblings:
            raise DataSourceError(f"the shapefile has no {ext} ({what}) file beside it; a shapefile "
                                  f"needs .shp, .shx and .dbf together", path=display)
    size = shp.stat().st_size
    if size < 100:
        raise DataSourceError(f"the .shp is {size} bytes, shorter than its 100-byte header "
                              "(empty or truncated file)", path=display)
    with open(shp, "rb") as fh:
        header = fh.read(100)
    code, = struct.unpack(">i", header[:4])
    declared = struct.unpack(">i", header[24:28])[0] * 2
    if code != 9994:
        raise DataSourceError(f"not a shapefile (file code {code}, expected 9994)", path=display)
    if declared != size:
        raise DataSourceError(f"the .shp is truncated or damaged: its header declares {declared:,} "
                              f"bytes but the file has {size:,}", path=display)
    if ".prj" not in siblings:
        notes.append("no .prj file: the CRS must be given (--crs) or inferred")
    if ".cpg" in siblings:
        notes.append(f".cpg says {siblings['.cpg'].read_text(errors='replace').strip()!r}")
    else:
        notes.append("no .cpg file: text read as raw bytes (latin-1), legacy encodings detected")
    return notes


def resolve_source(path: str | os.PathLike[str], *, layer: str | None = None
                   ) -> tuple[str, str | None, list[str]]:
    """Turn a user path into a GDAL path and layer name; check archives and shapefile sets.

    A directory or a ``.zip`` may hold exactly one layer file (nested folders allowed); with
    several, ``layer`` picks one by file name or the error lists them.
    """
    p = Path(path)
    if not p.exists():
        raise DataSourceError("no such file or folder", path=p)
    notes: list[str] = []
    if p.is_dir():
        files = sorted(str(f.relative_to(p)) for f in p.rglob("*")
                       if f.suffix.lower() in (".shp", ".gpkg", ".geojson", ".kml", ".kmz"))
        inner = _pick(files, layer, p)
        return resolve_source(p / inner, layer=None if inner.endswith(".shp") else layer)
    if p.stat().st_size == 0:
        raise DataSourceError("the file is empty (0 bytes)", path=p)
    suffix = p.suffix.lower()
    if suffix == ".zip":
        members = layer_members(check_archive(p))
        inner = _pick(members, layer, p)
        return f"/vsizip/{p.resolve()}/{inner}", (None if inner.lower().endswith(".shp") else layer), [
            f"read {inner} inside the zip"]
    if suffix == ".kmz":
        check_archive(p)
        return str(p), layer, notes
    if suffix == ".shp":
        notes += _shp_checks(p, p)
    elif suffix in (".shx", ".dbf", ".prj", ".cpg"):
        return resolve_source(p.with_suffix(".shp"), layer=layer)
    return str(p), layer, notes


def _pick(candidates: list[str], layer: str | None, where: Path) -> str:
    if not candidates:
        raise DataSourceError("holds no layer file (.shp, .gpkg, .geojson, .kml)", path=where)
    if layer is not None:
        hits = [c for c in candidates if Path(c).stem == layer or c == layer]
        if len(hits) == 1:
            return hits[0]
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
        return [(str(n), None if g is None else str(g)) for n, g in pyogrio.list_layers(gdal_path)]
    except Exception as exc:  # pyogrio raises DataSourceError/OSError subclasses; wrap all
        raise DataSourceError(f"cannot open: {exc}", path=path) from None


def _choose_layer(gdal_path: str, layer: str | None, display: str) -> str | None:
    try:
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


def _clean(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_layer(path: str | os.PathLike[str], *, layer: str | None = None,
               engine: Engine | str | None = None, encoding: str | None = None
               ) -> tuple[gpd.GeoDataFrame, SourceInfo]:
    """Read one layer into a GeoDataFrame, CRS as declared by the source (or None).

    A ``.cpg`` that lies (says UTF-8 over legacy bytes) is detected: the layer is read again as
    latin-1 so that :mod:`gis.encoding` can decode it, and a note says so.
    """
    engine = Engine.parse(engine)
    display = str(path)
    gdal_path, layer_hint, notes = resolve_source(path, layer=layer)
    chosen = _choose_layer(gdal_path, layer_hint if layer_hint is not None else layer, display)
    try:
        info = pyogrio.read_info(gdal_path, layer=chosen, encoding=encoding)
    except Exception as exc:
        raise DataSourceError(f"cannot read: {_clean(exc)}", path=display, layer=chosen) from None
    driver = info.get("driver")
    if encoding is None and driver == "ESRI Shapefile" and not info.get("encoding"):
        encoding = None
    frame, used_encoding = _read(gdal_path, chosen, engine, encoding, display)
    if driver == "ESRI Shapefile" and _has_bad_text(frame) and encoding is None:
        frame, used_encoding = _read(gdal_path, chosen, engine, "latin1", display)
        notes.append("the .cpg declares an encoding the text does not follow; read as raw bytes "
                     "(latin-1) and decoded by detection")
    if len(frame) == 0:
        raise DataSourceError("the layer has zero features", path=display, layer=chosen)
    crs = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    return frame, SourceInfo(display, gdal_path, chosen, driver, crs, engine,
                             used_encoding or info.get("encoding"), len(frame), tuple(notes))


def _read(gdal_path: str, layer: str | None, engine: Engine, encoding: str | None,
          display: str) -> tuple[gpd.GeoDataFrame, str | None]:
    kwargs: dict[str, object] = {}
    if encoding:
        kwargs["encoding"] = encoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if engine is Engine.PYOGRIO:
                frame = pyogrio.read_dataframe(gdal_path, layer=layer, use_arrow=True, **kwargs)
            else:
                frame = gpd.read_file(gdal_path, layer=layer, engine="fiona", **kwargs)
    except Exception as exc:
        raise DataSourceError(f"cannot read: {_clean(exc)}", path=display, layer=layer) from None
    return frame, encoding


def _has_bad_text(frame: gpd.GeoDataFrame) -> bool:
    for column in frame.columns:
        if column == "geometry" or frame[column].dtype.kind not in "OU" and not str(
                frame[column].dtype).startswith(("string", "str")):
            continue
        if frame[column].astype("string").str.contains("\ufffd", regex=False).fillna(False).any():
            return True
    return False
