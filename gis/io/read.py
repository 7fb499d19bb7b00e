"""Read a layer as it arrives: Shapefile set, zipped shapefile, GeoPackage, GeoJSON, KML/KMZ.

Every failure becomes a :class:`~gis.errors.DataSourceError` naming the file and layer. The engine
(pyogrio with Arrow by default, fiona on request) is chosen here and nowhere else; the calls into
it are in :mod:`gis.io.gdal_read`, the checks of shapefile sets in :mod:`gis.io.shapefile`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pyogrio
from pyproj import CRS

from gis.errors import DataSourceError
from gis.io.archive import check_archive, layer_members
from gis.io.engines import Engine
from gis.io.gdal_read import (
    first_line,
    invalid_utf8_column,
    quiet_gdal,
    read_frame,
    replace_invalid_utf8,
    replacement_char_column,
)
from gis.io.shapefile import (
    ShapefileSet,
    check_shapefile,
    cpg_text,
    dbf_field_names,
    dbf_is_utf8,
    dbf_utf8_scan,
    decodes_utf8,
    is_utf8_name,
)

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


def resolve_source(path: str | os.PathLike[str], *, layer: str | None = None
                   ) -> tuple[str, str | None, list[str]]:
    """Turn a user path into a GDAL path and layer name; check archives and shapefile sets.

    A directory or a ``.zip`` may hold exactly one layer file (nested folders allowed); with
    several, ``layer`` picks one by file name or the error lists them.
    """
    gdal_path, layer_name, notes, _ = _resolve(path, layer=layer)
    return gdal_path, layer_name, notes


def _resolve(path: str | os.PathLike[str], *, layer: str | None = None
             ) -> tuple[str, str | None, list[str], ShapefileSet | None]:
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
            shp = ShapefileSet.in_zip(p, inner)
            notes += check_shapefile(shp, p)
        return (f"/vsizip/{p.resolve()}/{inner}", None if shp is not None else layer, notes, shp)
    if suffix == ".kmz":
        check_archive(p)
        return str(p), layer, notes, None
    if suffix == ".shp":
        shp = ShapefileSet.on_disk(p)
        notes += check_shapefile(shp, p)
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
        with quiet_gdal():
            layers = pyogrio.list_layers(gdal_path)
        return [(str(n), None if g is None else str(g)) for n, g in layers]
    except Exception as exc:  # pyogrio raises DataSourceError/OSError subclasses; wrap all
        raise DataSourceError(f"cannot open: {exc}", path=path) from None


def _choose_layer(gdal_path: str, layer: str | None, display: str) -> str | None:
    try:
        with quiet_gdal():
            layers = pyogrio.list_layers(gdal_path)
    except Exception as exc:
        raise DataSourceError(f"cannot open as a vector layer: {first_line(exc)}", path=display) from None
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
        with quiet_gdal():
            info = pyogrio.read_info(gdal_path, layer=chosen, encoding=encoding)
    except Exception as exc:
        if not (shp is not None and encoding is None and "decode" in str(exc)):
            raise DataSourceError(f"cannot read: {first_line(exc)}", path=display,
                                  layer=chosen) from None
        # the field names are not in the declared encoding (a .cpg saying UTF-8 over cp1258 or
        # TCVN3 names): read raw bytes, detection decodes names and values
        try:
            with quiet_gdal():
                info = pyogrio.read_info(gdal_path, layer=chosen, encoding="latin1")
        except Exception:
            raise DataSourceError(f"cannot read: {first_line(exc)}", path=display,
                                  layer=chosen) from None
        encoding = "latin1"
        notes.append(f"the .cpg says {cpg_text(shp)!r} but the field names are not in that "
                     "encoding: read as raw bytes (latin-1) and decoded by detection")
    driver = info.get("driver")
    cut = 0
    # (GDAL reports "UTF-8" for any shapefile it recodes, so the .cpg itself is what is checked)
    if encoding is None and shp is not None and shp.has(".cpg") and not is_utf8_name(
            cpg_text(shp)) and dbf_is_utf8(shp):
        encoding = "UTF-8"
        notes.append(f"the .cpg says {cpg_text(shp)!r} but the text (field names included) is "
                     "UTF-8: read as UTF-8")
    elif (encoding is None and shp is not None and shp.has(".cpg")
            and (is_utf8_name(info.get("encoding")) or is_utf8_name(cpg_text(shp)))):
        bad, cut = dbf_utf8_scan(shp)
        names_bad = [n for n in dbf_field_names(shp) if not decodes_utf8(n)]
        if bad is None and names_bad:
            bad = (0, names_bad[0].decode("latin-1"))
        if bad is not None and bad[0] == 0:
            encoding, cut = "latin1", 0
            notes.append(f"the .cpg says {cpg_text(shp)!r} but the field names are not UTF-8 "
                         f"(first {bad[1]!r}): read as raw bytes (latin-1) and decoded by "
                         "detection")
        elif bad is not None:
            encoding, cut = "latin1", 0
            notes.append(f"the .cpg says {cpg_text(shp)!r} but the text is not UTF-8 (first at "
                         f"row {bad[0]}, field {bad[1]}): read as raw bytes (latin-1) and decoded "
                         "by detection")
        elif cut:
            notes.append(f"{cut} text value(s) end in a UTF-8 character cut by the DBF field "
                         "width; the cut character is shown as U+FFFD" + (
                             " (fiona reads those values as empty: use the pyogrio engine)"
                             if engine is Engine.FIONA else ""))
    row_issues: list[tuple[int, str, str, str]] = []
    frame, used_encoding = read_frame(gdal_path, chosen, engine, encoding, display, row_issues)
    invalid = invalid_utf8_column(frame)
    if invalid is not None and cut:
        frame = replace_invalid_utf8(frame)
    elif driver == "ESRI Shapefile" and encoding is None and (
            invalid is not None or replacement_char_column(frame) is not None):
        row_issues.clear()
        frame, used_encoding = read_frame(gdal_path, chosen, engine, "latin1", display, row_issues)
        notes.append("the .cpg declares an encoding the text does not follow; read as raw bytes "
                     "(latin-1) and decoded by detection")
    elif invalid is not None:
        raise DataSourceError(f"text that is not valid UTF-8 (the source declares "
                              f"{info.get('encoding') or 'no encoding'})", path=display,
                              layer=chosen, field=invalid)
    if len(frame) == 0:
        raise DataSourceError("the layer has zero features", path=display, layer=chosen)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise DataSourceError(
            "the layer has no geometry (a table of " + ", ".join(map(str, frame.columns[:6]))
            + "…): parcels, projects, buildings, wards and units need their polygons (a "
            "GeoPackage, Shapefile, GeoJSON or KML); a compensation sheet is loaded with "
            "gis ingest clearance", path=display, layer=chosen)
    crs = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    if row_issues:
        notes.append(f"{len(row_issues)} feature(s) read one by one after the whole-layer read "
                     f"failed (first at row {row_issues[0][0]}): see the row issues")
    return frame, SourceInfo(display, gdal_path, chosen, driver, crs, engine,
                             used_encoding or info.get("encoding"), len(frame), tuple(notes),
                             tuple(row_issues))
