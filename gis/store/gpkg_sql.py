"""SQLite-level pieces of the GeoPackage store: the per-process reader/writer lock, GeoPackage
geometry blobs, the SQL functions GDAL's R-tree triggers call, and row inserts in place.

See :mod:`gis.store.geopackage` for why the process lock exists (two SQLite libraries in one
process share POSIX record locks).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import struct
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from gis.errors import StoreError

__all__ = ["decode_blobs", "gpkg_blob", "insert_features", "layer_admits"]


def _journal(path: Path) -> Path:
    return path.with_name(path.name + "-journal")


class _ReadWriteLock:
    """Many readers or one writer, within one process; re-entrant for readers, and a thread
    that writes may also read. Waiting writers go first, so a stream of reads cannot starve a
    flag. A read may end on another thread than it began (a streamed response's generator):
    its depth is kept by the thread that began it, not in thread-local storage."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._depth: dict[int, int] = {}  # reading thread → nesting depth
        self._writer: int | None = None
        self._waiting = 0

    def held(self) -> bool:
        me = threading.get_ident()
        return self._depth.get(me, 0) > 0 or self._writer == me

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            if not self.held():  # nested reads never wait: a waiting writer would deadlock
                while self._writer is not None or self._waiting:
                    self._cond.wait()
            self._depth[me] = self._depth.get(me, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                self._depth[me] -= 1
                if not self._depth[me]:
                    del self._depth[me]
                    self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        me = threading.get_ident()
        if self.held():
            raise RuntimeError("an in-place write of the store cannot start inside a read of it "
                               "(or inside another write) on the same thread")
        with self._cond:
            self._waiting += 1
            try:
                while self._writer is not None or self._depth:
                    self._cond.wait()
            finally:
                self._waiting -= 1
            self._writer = me
        try:
            yield
        finally:
            with self._cond:
                self._writer = None
                self._cond.notify_all()


# One lock per store file and process (a process-wide fact: see the module notes); a lock
# nobody holds is dropped, so working copies leave nothing behind.
_PROCESS_LOCKS: weakref.WeakValueDictionary[str, _ReadWriteLock] = weakref.WeakValueDictionary()
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(path: Path) -> _ReadWriteLock:
    key = os.path.realpath(path)
    with _PROCESS_LOCKS_GUARD:
        lock = _PROCESS_LOCKS.get(key)
        if lock is None:
            lock = _PROCESS_LOCKS[key] = _ReadWriteLock()
        return lock


#: Envelope sizes of the GeoPackage binary header, by envelope indicator.
_ENVELOPE = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def decode_blobs(blobs: Sequence[bytes | None]) -> Any:
    """GeoPackage geometry blobs (header + WKB) → an object array of shapely geometries, None
    for NULL or empty ones (the one decoder of the store)."""
    import numpy as np
    import shapely

    wkb: list[bytes | None] = []
    for blob in blobs:
        if blob is None or len(blob) < 8 or blob[:2] != b"GP" or blob[3] & 0x10:
            wkb.append(None)
        else:
            wkb.append(bytes(blob[8 + _ENVELOPE.get((blob[3] >> 1) & 0x07, 0):]))
    geoms = shapely.from_wkb(np.array(wkb, dtype=object), on_invalid="ignore")
    geoms = np.where(shapely.is_empty(geoms), None, geoms) if len(geoms) else geoms
    return np.asarray(geoms, dtype=object)


def _gpkg_geometry(blob: bytes | None):  # type: ignore[no-untyped-def]
    """Decode one GeoPackage geometry blob; None for NULL or empty."""
    return decode_blobs([blob])[0]


def _register_gpkg_functions(con: sqlite3.Connection) -> None:
    """The SQL functions GDAL's GeoPackage R-tree triggers call, so that plain SQLite can run
    them when a row-level write inserts or changes a geometry."""
    def bound(index: int):  # type: ignore[no-untyped-def]
        def func(blob: bytes | None) -> float | None:
            geom = _gpkg_geometry(blob)
            return None if geom is None else float(geom.bounds[index])
        return func

    con.create_function("ST_IsEmpty", 1, lambda blob: 1 if _gpkg_geometry(blob) is None else 0,
                        deterministic=True)
    for name, index in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        con.create_function(name, 1, bound(index), deterministic=True)


def gpkg_blob(geometry: Any, srs_id: int) -> bytes:
    """A geometry as a GeoPackage binary blob, the way GDAL writes it: ``GP``, version 0,
    flags (little-endian; an XY envelope except for points; the empty bit), ``srs_id``, the
    envelope ``minx, maxx, miny, maxy``, then ISO WKB in 2D.

    >>> import shapely
    >>> gpkg_blob(shapely.Point(1, 2), 5897)[:8].hex()
    '4750000109170000'
    """
    import shapely

    geom = shapely.force_2d(geometry)
    wkb: bytes = shapely.to_wkb(geom, byte_order=1, flavor="iso")
    if geom.is_empty:
        return b"GP\x00" + bytes([0x01 | 0x10]) + struct.pack("<i", srs_id) + wkb
    if shapely.get_type_id(geom) == 0:  # a point is its own envelope
        return b"GP\x00\x01" + struct.pack("<i", srs_id) + wkb
    minx, miny, maxx, maxy = geom.bounds
    return (b"GP\x00" + bytes([0x01 | 0x02]) + struct.pack("<i", srs_id)
            + struct.pack("<4d", minx, maxx, miny, maxy) + wkb)


_TYPE_NAMES = {0: "POINT", 1: "LINESTRING", 3: "POLYGON", 4: "MULTIPOINT", 5: "MULTILINESTRING",
               6: "MULTIPOLYGON", 7: "GEOMETRYCOLLECTION"}


def _geometry_column(con: sqlite3.Connection, table: str) -> tuple[str, str, int]:
    found = con.execute("SELECT column_name, geometry_type_name, srs_id FROM "
                        "gpkg_geometry_columns WHERE lower(table_name) = lower(?)",
                        (table,)).fetchone()
    if found is None:
        raise StoreError(f"{table} is not a feature table of the store", layer=table)
    return str(found[0]), str(found[1]).upper(), int(found[2])


def layer_admits(con: sqlite3.Connection, table: str, geometries: Sequence[Any]) -> bool:
    """True when the layer's declared geometry type takes these geometries as they are (or, for
    a polygon in a multipolygon layer, as a multipolygon). Widening the declared type means
    changing the table's own SQL as well, so that is left to a copy-on-write rewrite."""
    import shapely

    declared = _geometry_column(con, table)[1]
    for geometry in geometries:
        if geometry is None or declared == "GEOMETRY":
            continue
        kind = _TYPE_NAMES.get(int(shapely.get_type_id(geometry)), "GEOMETRY")
        if kind != declared and not (declared == "MULTIPOLYGON" and kind == "POLYGON"):
            return False
    return True


def insert_features(con: sqlite3.Connection, table: str, rows: Sequence[Mapping[str, object]],
                    geometries: Sequence[Any]) -> list[int]:
    """Insert features into a GeoPackage feature table inside an open :meth:`sql_transaction`;
    return their fids.

    The geometry is encoded with the layer's ``srs_id`` (:func:`gpkg_blob`); GDAL's triggers
    keep the R-tree and the feature count; the layer's extent and last change in
    ``gpkg_contents`` follow. A polygon in a multipolygon layer is stored as a multipolygon, as
    GDAL would; ask :func:`layer_admits` first for anything else.

    Raises
    ------
    StoreError
        The table is not a feature table, a row names a column it does not have, or a
        geometry is of a type the layer does not declare.
    """
    import shapely

    column, type_name, srs_id = _geometry_column(con, table)
    have = {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}
    fids: list[int] = []
    bounds: list[tuple[float, float, float, float]] = []
    for row, geometry in zip(rows, geometries, strict=True):
        unknown = set(row) - have
        if unknown:
            raise StoreError(f"{table} has no column(s) {', '.join(sorted(unknown))}",
                             layer=table)
        if geometry is not None:
            if not layer_admits(con, table, [geometry]):
                raise StoreError(f"{table} holds {type_name} geometries, not "
                                 f"{geometry.geom_type}", layer=table)
            if type_name == "MULTIPOLYGON" and shapely.get_type_id(geometry) == 3:
                geometry = shapely.multipolygons([geometry])
            if not geometry.is_empty:
                bounds.append(geometry.bounds)
        names = ", ".join(f'"{n}"' for n in [column, *row])
        values = [None if geometry is None else gpkg_blob(geometry, srs_id), *row.values()]
        cursor = con.execute(f'INSERT INTO "{table}" ({names}) '
                             f"VALUES ({', '.join('?' * len(values))})", values)
        fids.append(int(cursor.lastrowid or 0))
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if bounds:
        minx, miny = min(b[0] for b in bounds), min(b[1] for b in bounds)
        maxx, maxy = max(b[2] for b in bounds), max(b[3] for b in bounds)
        con.execute("UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?1), ?1), "
                    "min_y = min(coalesce(min_y, ?2), ?2), max_x = max(coalesce(max_x, ?3), ?3), "
                    "max_y = max(coalesce(max_y, ?4), ?4), last_change = ?5 "
                    "WHERE lower(table_name) = lower(?6)", (minx, miny, maxx, maxy, now, table))
    else:
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE lower(table_name) = lower(?)",
                    (now, table))
    return fids
