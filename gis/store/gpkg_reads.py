"""Structured reads of the GeoPackage store (:class:`~gis.store.query.LayerQuery`) and its change
tokens, in plain read-only SQLite with bound parameters.

A query is one read-only transaction: the ``count(*)`` and the page come from one snapshot, so
``numberMatched`` and the rows agree even while a writer commits. Spatial filters use the
GeoPackage R-tree (``rtree_<table>_<geom>``) to narrow candidates by envelope; a feature whose
envelope lies inside a box inside the area needs no further test, the others are decided
exactly by shapely (prepared) through an SQL function. Column names come from the table's own
schema (a whitelist) and are quoted; values are bound parameters; lists go in as one JSON
parameter (``IN (SELECT value FROM json_each(?))``), so a list of 100 000 fids is one value.

**Change tokens.** The file's version (inode, size, modification time and SQLite's file change
counter, read with ``pread`` from a descriptor kept open, so it waits for no writer; the
``-wal`` file's size and time when there is one) changes with every commit of any process. A
layer's token is its ``gpkg_contents.last_change`` with its largest rowid: GDAL stamps
``last_change`` when it writes a layer (copy-on-write), and :meth:`GeoPackageStore.sql_transaction`
stamps every table a row-level transaction wrote (:func:`track_writes`, :func:`stamp_writes`), so a
flag does not change the token of 100 000 parcels. Layer tokens are computed once per file
version and process.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from gis.errors import QueryError, StoreError
from gis.store.gpkg_sql import decode_blobs
from gis.store.query import (
    ABSENT,
    KEY_COLUMNS,
    NO_STORE,
    FieldInfo,
    LayerInfo,
    LayerQuery,
    QueryResult,
)

__all__ = ["layer_info", "query", "scan", "distinct", "change_token", "track_writes",
           "stamp_writes"]


def _quote(name: str) -> str:
    """An SQL identifier (names come from the file's own schema; quotes are still doubled)."""
    return '"' + name.replace('"', '""') + '"'


def _json_type(declared: str) -> str:
    t = declared.upper()
    if t == "BOOLEAN":
        return "boolean"
    if t == "DATE":
        return "date"
    if t in ("DATETIME", "TIMESTAMP"):
        return "date-time"
    if "INT" in t:
        return "integer"
    if any(k in t for k in ("REAL", "FLOA", "DOUB", "NUMERIC")):
        return "number"
    return "string"


@dataclass(frozen=True)
class _Table:
    name: str
    fid: str
    geometry: str | None
    geometry_type: str | None
    srs_id: int | None
    fields: tuple[FieldInfo, ...]
    rtree: str | None

    def field(self, name: str) -> FieldInfo | None:
        return next((f for f in self.fields if f.name == name), None)


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection to the store file (the caller holds ``store.reading()``)."""
    if not path.exists():
        raise StoreError("the store does not exist yet; load data first", path=path.name)
    try:
        con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30.0,
                              isolation_level=None, check_same_thread=False)
        con.execute("BEGIN")  # one snapshot for everything read on this connection
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store: {exc}", path=path.name) from None
    return con


def _execute(con: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
    try:
        return con.execute(sql, params)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the store: {exc}") from None


def _table(con: sqlite3.Connection, name: str) -> _Table | None:
    exists = _execute(con, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                           "AND name = ?", (name,)).fetchone()
    if exists is None:
        return None
    geometry = gtype = srs = None
    try:
        row = con.execute("SELECT column_name, geometry_type_name, srs_id FROM "
                          "gpkg_geometry_columns WHERE table_name = ?", (name,)).fetchone()
    except sqlite3.Error:  # not a GeoPackage table list: an attribute table
        row = None
    if row is not None:
        geometry, gtype, srs = str(row[0]), str(row[1]), int(row[2])
    info = _execute(con, f"PRAGMA table_info({_quote(name)})").fetchall()
    fid = next((str(r[1]) for r in info if r[5] == 1), "rowid")
    fields = tuple(FieldInfo(str(r[1]), _json_type(r[2] or "")) for r in info
                   if r[1] not in (fid, geometry))
    rtree = None
    if geometry is not None:
        candidate = f"rtree_{name}_{geometry}"
        if _execute(con, "SELECT 1 FROM sqlite_master WHERE name = ?",
                    (candidate,)).fetchone() is not None:
            rtree = candidate
    return _Table(name, fid, geometry, gtype, srs, fields, rtree)


def _require(con: sqlite3.Connection, path: Path, kind: str) -> _Table:
    table = _table(con, kind)
    if table is None:
        names = [str(r[0]) for r in _execute(con, "SELECT table_name FROM gpkg_contents "
                                                   "ORDER BY table_name")]
        raise StoreError(f"the store has no layer {kind!r}; it has: "
                         f"{', '.join(names) or 'nothing yet'}", path=path.name, layer=kind)
    return table


@functools.lru_cache(maxsize=32)
def _crs_of(org: str, code: int, definition: str) -> CRS:
    if org.upper() == "EPSG":
        return CRS.from_epsg(code)
    return CRS.from_user_input(definition)


def _crs(con: sqlite3.Connection, table: _Table) -> CRS | None:
    if table.srs_id is None:
        return None
    row = _execute(con, "SELECT organization, organization_coordsys_id, definition FROM "
                        "gpkg_spatial_ref_sys WHERE srs_id = ?", (table.srs_id,)).fetchone()
    if row is None or table.srs_id <= 0:
        return None
    return _crs_of(str(row[0]), int(row[1]), str(row[2]))


def _extent(con: sqlite3.Connection, table: _Table) -> tuple[float, float, float, float] | None:
    if table.rtree:
        row = _execute(con, f"SELECT min(minx), min(miny), max(maxx), max(maxy) "
                            f"FROM {_quote(table.rtree)}").fetchone()
    else:
        row = _execute(con, "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents "
                            "WHERE table_name = ?", (table.name,)).fetchone()
    if row is None or any(v is None for v in row):
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def layer_info(path: Path, kind: str) -> LayerInfo:
    """Fields, geometry type, count, extent and CRS of a layer."""
    con = connect(path)
    try:
        table = _require(con, path, kind)
        count = int(_execute(con, f"SELECT count(*) FROM {_quote(kind)}").fetchone()[0])
        return LayerInfo(kind, table.fields, table.geometry_type, count, _extent(con, table),
                         _crs(con, table))
    finally:
        con.close()


# -- filters ---------------------------------------------------------------------------------
class _AreaTest:
    """``hits(minx, maxx, miny, maxy, geom)``: 1 when a feature meets the area; an envelope
    wholly inside the area answers without decoding the geometry."""

    def __init__(self, area: Any) -> None:
        self.area = area
        shapely.prepare(area)

    def with_envelope(self, minx: float, maxx: float, miny: float, maxy: float,
                      blob: bytes | None) -> int:
        if self.area.contains(shapely.box(minx, miny, maxx, maxy)):
            return 1
        return self.exact(blob)

    def exact(self, blob: bytes | None) -> int:
        geom = decode_blobs([blob])[0]
        return int(geom is not None and self.area.intersects(geom))


def _inner_box(area: Any) -> tuple[float, float, float, float] | None:
    """An axis-parallel box inside ``area`` nearly as large as it (a lon/lat box seen in a TM-3
    zone is turned by the meridian convergence, well under a degree in Vietnam)."""
    minx, miny, maxx, maxy = area.bounds
    w, h = maxx - minx, maxy - miny
    for shrink in (0.0, 0.002, 0.01, 0.03, 0.1):
        box = (minx + w * shrink, miny + h * shrink, maxx - w * shrink, maxy - h * shrink)
        if area.contains(shapely.box(*box)):
            return box
    return None


def _contents_extent(con: sqlite3.Connection, table: _Table) -> Any:
    """The extent ``gpkg_contents`` records: never smaller than the features (writes widen it,
    deletes leave it), so an area holding it holds every feature."""
    row = _execute(con, "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents "
                        "WHERE table_name = ?", (table.name,)).fetchone()
    if row is None or any(v is None for v in row):
        return None
    return shapely.box(*(float(v) for v in row))


def _check(table: _Table, q: LayerQuery) -> None:
    for name in q.named_columns():
        if table.field(name) is None:
            raise QueryError(f"layer {table.name} has no column {name!r}; its columns: "
                             f"{', '.join(f.name for f in table.fields)}", layer=table.name,
                             field=name)
    if q.keys is not None and table.name not in KEY_COLUMNS:
        raise QueryError(f"layer {table.name} has no key column; filter with equals",
                         layer=table.name)
    if q.keys is not None and table.field(KEY_COLUMNS[table.name]) is None:
        raise QueryError(f"layer {table.name} has no column {KEY_COLUMNS[table.name]!r}",
                         layer=table.name)
    if (q.bbox is not None or q.area is not None) and table.geometry is None:
        raise QueryError(f"{table.name} has no geometry to filter by area", layer=table.name)
    if (q.limit is not None and q.limit < 0) or q.offset < 0:
        raise QueryError("limit and offset cannot be negative", layer=table.name)


def _spatial(con: sqlite3.Connection, table: _Table, q: LayerQuery) -> tuple[list[str], list[Any]]:
    """Conditions (on ``t`` and, when the table has an R-tree, its alias ``r``) for the box
    (envelopes meet) and the area (geometries meet, decided exactly)."""
    whole = _contents_extent(con, table)
    box = shapely.box(*q.bbox) if q.bbox is not None else None
    if box is not None and whole is not None and box.contains(whole):
        box = None  # the box holds the whole layer: no condition (and no R-tree join)
    area = q.area
    if area is not None and whole is not None and not area.is_empty and area.contains(whole):
        area = None
    if box is None and area is None:
        return [], []
    if (area is not None and area.is_empty) or (box is not None and box.is_empty):
        return ["0"], []
    envelopes = [b for b in (box, None if area is None else shapely.box(*area.bounds))
                 if b is not None]
    envelope = shapely.intersection_all(envelopes)
    if envelope.is_empty:
        return ["0"], []
    minx, miny, maxx, maxy = envelope.bounds
    geom = f"t.{_quote(table.geometry or '')}"
    if not table.rtree:
        test = _AreaTest(area) if area is not None else None
        con.create_function("gis_meets", 1, lambda blob: _meets(blob, envelope.bounds, test),
                            deterministic=True)
        return [f"gis_meets({geom})"], []
    conditions = ["r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?"]
    params: list[Any] = [maxx, minx, maxy, miny]
    if area is not None:
        test = _AreaTest(area)
        con.create_function("gis_hits", 5, test.with_envelope, deterministic=True)
        hits = f"gis_hits(r.minx, r.maxx, r.miny, r.maxy, {geom})"
        inner = _inner_box(area)
        if inner is None:
            conditions.append(hits)
        else:  # envelopes inside a box inside the area need no Python call
            conditions.append("((r.minx >= ? AND r.maxx <= ? AND r.miny >= ? "
                              f"AND r.maxy <= ?) OR {hits})")
            params += [inner[0], inner[2], inner[1], inner[3]]
    return conditions, params


def _meets(blob: bytes | None, bounds: tuple[float, float, float, float],
           test: _AreaTest | None) -> int:
    """Without an R-tree: the envelope meets ``bounds`` and, with ``test``, the geometry meets
    the area."""
    geom = decode_blobs([blob])[0]
    if geom is None:
        return 0
    gx0, gy0, gx1, gy1 = geom.bounds
    if gx0 > bounds[2] or gx1 < bounds[0] or gy0 > bounds[3] or gy1 < bounds[1]:
        return 0
    return 1 if test is None else int(test.area.intersects(geom))


def _where(con: sqlite3.Connection, table: _Table, q: LayerQuery) -> tuple[str, str, list[Any]]:
    """(FROM clause, WHERE clause, parameters) of a query."""
    source = f"{_quote(table.name)} AS t"
    conditions: list[str] = []
    params: list[Any] = []
    if (q.bbox is not None or q.area is not None) and table.geometry is not None:
        conditions, params = _spatial(con, table, q)
        if conditions and table.rtree:
            source += f" JOIN {_quote(table.rtree)} AS r ON r.id = t.{_quote(table.fid)}"
    lists = [("ward_code", q.wards), ("unit_code", q.units), (KEY_COLUMNS.get(table.name, ""), q.keys),
             (table.fid, q.fids)]
    for column, values in lists:
        if values is None:
            continue
        conditions.append(f"t.{_quote(column)} IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(values), ensure_ascii=False))
    for name, value in q.equals:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            conditions.append(f"t.{_quote(name)} IS NULL")
            continue
        conditions.append(f"t.{_quote(name)} = ?")
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        elif hasattr(value, "item"):
            value = value.item()
        params.append(value)
    return source, " AND ".join(conditions) if conditions else "1", params


def _select(table: _Table, q: LayerQuery, source: str, where: str) -> tuple[str, list[str]]:
    names = [f.name for f in table.fields] if q.columns is None else list(q.columns)
    picked = [f"t.{_quote(table.fid)}"]
    if q.with_geometry and table.geometry is not None:
        picked.append(f"t.{_quote(table.geometry)}")
    picked += [f"t.{_quote(n)}" for n in names]
    order = [f"t.{_quote(o.lstrip('-'))} {'DESC' if o.startswith('-') else 'ASC'}"
             for o in q.order_by] + [f"t.{_quote(table.fid)}"]
    return (f"SELECT {', '.join(picked)} FROM {source} WHERE {where} "
            f"ORDER BY {', '.join(order)} LIMIT ? OFFSET ?"), names


def _result(rows: list[tuple[Any, ...]], table: _Table, names: list[str], geometry: bool,
            crs: CRS | None, matched: int | None) -> QueryResult:
    columns = list(zip(*rows)) if rows else [()] * (1 + geometry + len(names))
    start = 2 if geometry else 1
    types = {n: table.field(n).type for n in names}  # type: ignore[union-attr]
    return QueryResult(matched, types, np.array(columns[0], dtype=np.int64),
                       {n: columns[start + i] for i, n in enumerate(names)},
                       decode_blobs(columns[1]) if geometry else None, crs)


def query(path: Path, kind: str, q: LayerQuery) -> QueryResult:
    """The rows of ``kind`` that ``q`` selects (and their count when asked), one snapshot."""
    con = connect(path)
    try:
        table = _require(con, path, kind)
        _check(table, q)
        source, where, params = _where(con, table, q)
        matched = None
        if q.count:
            matched = int(_execute(con, f"SELECT count(*) FROM {source} WHERE {where}",
                                   params).fetchone()[0])
        sql, names = _select(table, q, source, where)
        limit = -1 if q.limit is None else q.limit
        rows = _execute(con, sql, [*params, limit, q.offset]).fetchall()
        geometry = q.with_geometry and table.geometry is not None
        return _result(rows, table, names, geometry, _crs(con, table) if geometry else None,
                       matched)
    finally:
        con.close()


def scan(path: Path, kind: str, q: LayerQuery, batch_size: int) -> Iterator[QueryResult]:
    """The rows ``q`` selects in frames of ``batch_size``, read from one snapshot as they are
    consumed (the caller holds ``store.reading()`` while it iterates)."""
    con = connect(path)
    try:
        table = _require(con, path, kind)
        _check(table, q)
        source, where, params = _where(con, table, q)
        sql, names = _select(table, q, source, where)
        geometry = q.with_geometry and table.geometry is not None
        crs = _crs(con, table) if geometry else None
        cursor = _execute(con, sql, [*params, -1 if q.limit is None else q.limit, q.offset])
        while True:
            try:
                rows = cursor.fetchmany(batch_size)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the store: {exc}") from None
            if not rows:
                return
            yield _result(rows, table, names, geometry, crs, None)
    finally:
        con.close()


def distinct(path: Path, kind: str, column: str, limit: int | None) -> list[Any]:
    """The distinct non-null values of a column, in order, at most ``limit``."""
    con = connect(path)
    try:
        table = _require(con, path, kind)
        _check(table, LayerQuery(columns=(column,)))
        ident = _quote(column)
        rows = _execute(con, f"SELECT DISTINCT {ident} FROM {_quote(kind)} WHERE {ident} IS NOT "
                             "NULL ORDER BY 1 LIMIT ?", (-1 if limit is None else limit,))
        kind_of = table.field(column).type  # type: ignore[union-attr]
        return [bool(r[0]) if kind_of == "boolean" else r[0] for r in rows]
    finally:
        con.close()


# -- change tokens -----------------------------------------------------------------------------
class _Version:
    """Reads a store file's version without taking any lock: ``stat`` plus a ``pread`` of the
    SQLite header on a descriptor kept open (closing a descriptor would drop this process's
    POSIX locks on the file, the SQLite writers' among them; so it is only closed once the
    file was replaced and nobody writes that inode any more)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._open: tuple[int, int] | None = None  # inode, descriptor
        self.tokens: tuple[str, dict[str, str]] = ("", {})  # version → layer tokens

    def read(self, path: Path) -> str:
        """Inode, size, mtime, SQLite's file change counter (header bytes 24-27, bumped by every
        commit in rollback-journal mode) and the WAL file's size and mtime."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return "missing"
        with self.lock:
            if self._open is None or self._open[0] != st.st_ino:
                if self._open is not None:
                    os.close(self._open[1])  # the replaced file's: no writer holds it
                    self._open = None
                try:
                    fd = os.open(path, os.O_RDONLY)
                except FileNotFoundError:
                    return "missing"
                if os.fstat(fd).st_ino != st.st_ino:  # replaced between stat and open
                    st = os.fstat(fd)
                self._open = (st.st_ino, fd)
            header = os.pread(self._open[1], 28, 0)
        version = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{header[24:28].hex()}"
        try:
            wal = os.stat(path.with_name(path.name + "-wal"))
            version += f":{wal.st_size}:{wal.st_mtime_ns}"
        except FileNotFoundError:
            pass
        return version


_VERSIONS: dict[str, _Version] = {}
_VERSIONS_GUARD = threading.Lock()


def _version_of(path: Path) -> _Version:
    key = str(path)  # one keeper per spelling of the path: no realpath syscalls per call
    found = _VERSIONS.get(key)
    if found is None:
        with _VERSIONS_GUARD:
            found = _VERSIONS.setdefault(key, _Version())
    return found


def change_token(path: Path, kind: str | None, *, reading: Any) -> str:
    """The store's token (``kind`` None) or a layer's; ``reading`` is the store's read lock
    (a context manager factory), taken only when a layer's token must be read afresh."""
    keeper = _version_of(path)
    version = keeper.read(path)
    if kind is None:
        return NO_STORE if version == "missing" else "v:" + version
    with keeper.lock:
        seen, tokens = keeper.tokens
        if seen == version and kind in tokens:
            return tokens[kind]
    if version == "missing":
        token = ABSENT
    else:
        with reading():
            con = connect(path)
            try:
                row = _execute(con, "SELECT last_change FROM gpkg_contents WHERE table_name = ?",
                               (kind,)).fetchone()
                table = _table(con, kind) if row is not None else None
                if row is None or table is None:
                    token = ABSENT
                else:
                    top = _execute(con, f"SELECT max({_quote(table.fid)}) FROM "
                                        f"{_quote(kind)}").fetchone()[0]
                    token = f"t:{row[0]}:{top or 0}"
            finally:
                con.close()
    with keeper.lock:
        if keeper.tokens[0] != version:
            keeper.tokens = (version, {})
        keeper.tokens[1][kind] = token
    return token


# -- stamping row-level writes -----------------------------------------------------------------
_WRITES = (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)


def track_writes(con: sqlite3.Connection) -> set[str]:
    """Collect the tables the statements of ``con`` write (an SQLite authorizer that allows
    everything); :func:`stamp_writes` stamps them before the commit."""
    written: set[str] = set()

    def authorizer(action: int, arg1: str | None, *_: object) -> int:
        if action in _WRITES and arg1:
            written.add(arg1)
        return sqlite3.SQLITE_OK

    con.set_authorizer(authorizer)
    return written


_STAMP = "%Y-%m-%dT%H:%M:%S.%f"


def stamp_writes(con: sqlite3.Connection, written: set[str]) -> None:
    """Set ``gpkg_contents.last_change`` of the written tables to now, strictly later than the
    stamp they had, so that their change tokens move."""
    if not written:
        return
    rows = con.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for name, last in rows:
        if name not in written:
            continue
        stamp = now
        try:
            before = dt.datetime.strptime(str(last).rstrip("Z")[:23], _STAMP)
            if before >= stamp:
                stamp = before + dt.timedelta(milliseconds=1)
        except ValueError:
            pass
        text = stamp.strftime(_STAMP)[:-3] + "Z"
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (text, name))
