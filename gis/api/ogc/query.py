"""Pages of features straight from the GeoPackage file, with bound SQL parameters.

A request for items becomes one read-only SQLite transaction on the store: a ``count(*)`` and a
``SELECT ... ORDER BY fid LIMIT ? OFFSET ?`` with the same conditions, so ``numberMatched`` and
the page agree even while an inspector writes. Conditions are

* property filters: ``"column" = ?`` — the column name comes from the table's own schema
  (a whitelist), the value is a bound parameter converted to the column's type first;
* a bounding area: the GeoPackage R-tree (``rtree_<table>_<geom>``) narrows the candidates by
  envelope in SQL; features whose envelope is not wholly inside the area are tested exactly
  (shapely, prepared polygon) through a SQL function, so the answer is "geometry intersects the
  box", as OGC API – Features requires, and paging stays exact.

Only the page's rows are read and decoded (GeoPackage blob header stripped, WKB decoded by
shapely in one vectorised call). This module reads; writes go through :mod:`gis.store`.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from gis.errors import StoreError

__all__ = ["Column", "Layer", "Query", "Page", "GeoPackageReader", "decode_geometries", "reading"]

#: Envelope sizes of the GeoPackage binary header, by envelope indicator.
_ENVELOPE = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


@dataclass(frozen=True)
class Column:
    """A table column and the JSON type its values take."""

    name: str
    type: str  # "integer", "number", "boolean", "string", "date", "date-time"

    def convert(self, text: str) -> Any:
        """A filter value as the column's type; ValueError when it is not one."""
        if self.type == "integer":
            return int(text)
        if self.type == "number":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(text)
            return value
        if self.type == "boolean":
            folded = text.strip().lower()
            if folded in ("true", "1", "yes"):
                return 1
            if folded in ("false", "0", "no"):
                return 0
            raise ValueError(text)
        return text


def _json_type(declared: str) -> str:
    t = declared.upper()
    if t == "BOOLEAN":
        return "boolean"
    if t in ("DATE",):
        return "date"
    if t in ("DATETIME", "TIMESTAMP"):
        return "date-time"
    if "INT" in t:
        return "integer"
    if any(k in t for k in ("REAL", "FLOA", "DOUB", "NUMERIC")):
        return "number"
    return "string"


@dataclass(frozen=True)
class Layer:
    """A spatial table of the GeoPackage."""

    table: str
    fid: str
    geometry: str
    geometry_type: str
    srs_id: int
    columns: tuple[Column, ...]
    rtree: str | None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Query:
    """Which features: equalities on columns (already typed) and an area in the store CRS."""

    equals: tuple[tuple[str, Any], ...] = ()
    area: shapely.Geometry | None = None
    fid: int | None = None


@dataclass
class Page:
    """One page of features: fids, geometries (store CRS, None when empty) and attribute rows
    in the order of ``columns``."""

    matched: int
    fids: list[int]
    geometries: np.ndarray
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]


def _quote(name: str) -> str:
    """An SQL identifier. Callers pass only names read from the file's own schema; the quoting
    still doubles any quote so that no name can end the identifier."""
    return '"' + name.replace('"', '""') + '"'


def decode_geometries(blobs: Sequence[bytes | None]) -> np.ndarray:
    """GeoPackage geometry blobs → shapely geometries (None for NULL or empty)."""
    wkb: list[bytes | None] = []
    for blob in blobs:
        if blob is None or len(blob) < 8 or blob[:2] != b"GP" or blob[3] & 0x10:
            wkb.append(None)
        else:
            wkb.append(bytes(blob[8 + _ENVELOPE.get((blob[3] >> 1) & 0x07, 0):]))
    geoms = shapely.from_wkb(np.array(wkb, dtype=object), on_invalid="ignore")
    geoms = np.where(shapely.is_empty(geoms), None, geoms) if len(geoms) else geoms
    return np.asarray(geoms, dtype=object)


class _AreaTest:
    """The SQL function ``ogc_hits(minx, maxx, miny, maxy, geom)``: 1 when a feature meets the
    area. Envelopes wholly inside the area answer without decoding the geometry."""

    def __init__(self, area: shapely.Geometry) -> None:
        self.area = area
        shapely.prepare(area)

    def with_envelope(self, minx: float, maxx: float, miny: float, maxy: float,
                      blob: bytes | None) -> int:
        if self.area.contains(shapely.box(minx, miny, maxx, maxy)):
            return 1
        return self.exact(blob)

    def exact(self, blob: bytes | None) -> int:
        geom = decode_geometries([blob])[0]
        return int(geom is not None and self.area.intersects(geom))


def _inner_box(area: shapely.Geometry) -> tuple[float, float, float, float] | None:
    """An axis-parallel box inside ``area`` nearly as large as it (a lon/lat box seen in a TM-3
    zone is turned by the meridian convergence, well under a degree in Vietnam)."""
    minx, miny, maxx, maxy = area.bounds
    w, h = maxx - minx, maxy - miny
    for shrink in (0.0, 0.002, 0.01, 0.03, 0.1):
        box = (minx + w * shrink, miny + h * shrink, maxx - w * shrink, maxy - h * shrink)
        if area.contains(shapely.box(*box)):
            return box
    return None


class GeoPackageReader:
    """Read-only access to one GeoPackage file (use as a context manager)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._con: sqlite3.Connection | None = None
        self._extents: dict[str, tuple[float, float, float, float] | None] = {}

    def __enter__(self) -> GeoPackageReader:
        if not self.path.exists():
            raise StoreError("the store does not exist yet; load data first", path=self.path.name)
        uri = self.path.resolve().as_uri() + "?mode=ro"
        try:
            self._con = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None,
                                        check_same_thread=False)
            # one snapshot for the count and the page, even if a writer commits in between
            self._con.execute("BEGIN")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store: {exc}", path=self.path.name) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._con is not None:
            with contextlib.suppress(sqlite3.Error):
                self._con.execute("COMMIT")
            self._con.close()
            self._con = None

    @property
    def con(self) -> sqlite3.Connection:
        assert self._con is not None, "use GeoPackageReader as a context manager"
        return self._con

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.con.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store: {exc}", path=self.path.name) from None

    # -- schema --------------------------------------------------------------------------------
    def layers(self) -> dict[str, str]:
        """Spatial table name → geometry column."""
        rows = self._execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
        return {str(t): str(c) for t, c in rows}

    def layer(self, table: str) -> Layer | None:
        """The schema of a spatial table, or None when the store has no such table."""
        row = self._execute("SELECT column_name, geometry_type_name, srs_id FROM "
                            "gpkg_geometry_columns WHERE table_name = ?", (table,)).fetchone()
        if row is None:
            return None
        geom, gtype, srs = row
        info = self._execute(f"PRAGMA table_info({_quote(table)})").fetchall()
        fid = next((r[1] for r in info if r[5] == 1), "fid")
        columns = tuple(Column(r[1], _json_type(r[2] or "")) for r in info
                        if r[1] not in (fid, geom))
        rtree = f"rtree_{table}_{geom}"
        has_rtree = self._execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                                  (rtree,)).fetchone() is not None
        return Layer(table, fid, geom, str(gtype), int(srs), columns,
                     rtree if has_rtree else None)

    def crs(self, layer: Layer) -> CRS:
        """The layer's CRS (GeoPackage ``gpkg_spatial_ref_sys``)."""
        row = self._execute("SELECT organization, organization_coordsys_id, definition FROM "
                            "gpkg_spatial_ref_sys WHERE srs_id = ?", (layer.srs_id,)).fetchone()
        if row is None:
            raise StoreError(f"layer {layer.table} has an unknown CRS (srs_id {layer.srs_id})",
                             path=self.path.name)
        org, code, definition = row
        if str(org).upper() == "EPSG":
            return CRS.from_epsg(int(code))
        return CRS.from_user_input(definition)

    def extent(self, layer: Layer) -> tuple[float, float, float, float] | None:
        """The layer's bounds in its CRS (from the R-tree, else gpkg_contents)."""
        if layer.table in self._extents:  # one snapshot: the bounds cannot change under us
            return self._extents[layer.table]
        self._extents[layer.table] = self._extent(layer)
        return self._extents[layer.table]

    def _extent(self, layer: Layer) -> tuple[float, float, float, float] | None:
        if layer.rtree:
            row = self._execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) "
                                f"FROM {_quote(layer.rtree)}").fetchone()
        else:
            row = self._execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents "
                                "WHERE table_name = ?", (layer.table,)).fetchone()
        if row is None or any(v is None for v in row):
            return None
        return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))

    # -- features ------------------------------------------------------------------------------
    def _where(self, layer: Layer, query: Query) -> tuple[str, str, list[Any]]:
        """(FROM clause, WHERE clause, parameters) for a query."""
        t = "t"
        source = f"{_quote(layer.table)} AS {t}"
        conditions: list[str] = []
        params: list[Any] = []
        extent = self.extent(layer) if query.area is not None else None
        if extent is not None and query.area is not None and \
                query.area.contains(shapely.box(*extent)):
            pass  # the area holds the whole layer: no condition (and no R-tree join to sort)
        elif query.area is not None:
            if query.area.is_empty:
                conditions.append("0")
            else:
                test = _AreaTest(query.area)
                minx, miny, maxx, maxy = query.area.bounds
                if layer.rtree:
                    source += (f" JOIN {_quote(layer.rtree)} AS r ON r.id = "
                               f"{t}.{_quote(layer.fid)}")
                    conditions.append("r.minx <= ? AND r.maxx >= ? AND r.miny <= ? "
                                      "AND r.maxy >= ?")
                    params += [maxx, minx, maxy, miny]
                    self.con.create_function("ogc_hits", 5, test.with_envelope,
                                             deterministic=True)
                    hits = (f"ogc_hits(r.minx, r.maxx, r.miny, r.maxy, "
                            f"{t}.{_quote(layer.geometry)})")
                    inner = _inner_box(query.area)
                    if inner is None:
                        conditions.append(hits)
                    else:  # envelopes inside a box inside the area need no Python call
                        conditions.append(f"((r.minx >= ? AND r.maxx <= ? AND r.miny >= ? "
                                          f"AND r.maxy <= ?) OR {hits})")
                        params += [inner[0], inner[2], inner[1], inner[3]]
                else:
                    self.con.create_function("ogc_hits_exact", 1, test.exact,
                                             deterministic=True)
                    conditions.append(f"ogc_hits_exact({t}.{_quote(layer.geometry)})")
        for name, value in query.equals:
            column = layer.column(name)
            if column is None:  # callers check names; this is the last line of defence
                raise StoreError(f"no column {name!r} in {layer.table}")
            conditions.append(f"{t}.{_quote(column.name)} = ?")
            params.append(value)
        if query.fid is not None:
            conditions.append(f"{t}.{_quote(layer.fid)} = ?")
            params.append(query.fid)
        where = " AND ".join(conditions) if conditions else "1"
        return source, where, params

    def count(self, layer: Layer, query: Query) -> int:
        """How many features match."""
        source, where, params = self._where(layer, query)
        return int(self._execute(f"SELECT count(*) FROM {source} WHERE {where}",
                                 params).fetchone()[0])

    def page(self, layer: Layer, query: Query, columns: Sequence[Column], *, limit: int,
             offset: int) -> Page:
        """Up to ``limit`` features after ``offset`` (ordered by fid), and the match count."""
        matched = self.count(layer, query)
        source, where, params = self._where(layer, query)
        names = ", ".join(f"t.{_quote(c.name)}" for c in columns)
        sql = (f"SELECT t.{_quote(layer.fid)}, t.{_quote(layer.geometry)}"
               f"{', ' + names if names else ''} FROM {source} WHERE {where} "
               f"ORDER BY t.{_quote(layer.fid)} LIMIT ? OFFSET ?")
        rows = self._execute(sql, [*params, limit, offset]).fetchall()
        return Page(matched, [int(r[0]) for r in rows], decode_geometries([r[1] for r in rows]),
                    tuple(columns), [tuple(r[2:]) for r in rows])

    def distinct(self, layer: Layer, column: Column, *, most: int = 200) -> list[Any]:
        """The distinct values of a column (for the HTML filter form), at most ``most``."""
        rows = self._execute(f"SELECT DISTINCT {_quote(column.name)} FROM {_quote(layer.table)} "
                             f"WHERE {_quote(column.name)} IS NOT NULL ORDER BY 1 LIMIT ?",
                             (most + 1,)).fetchall()
        return [r[0] for r in rows]


@contextlib.contextmanager
def reading(path: str | Path) -> Iterator[GeoPackageReader]:
    """``with reading(store_path) as reader:`` — a read-only snapshot of the store."""
    with GeoPackageReader(path) as reader:
        yield reader
