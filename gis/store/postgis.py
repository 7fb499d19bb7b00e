"""The province store: PostgreSQL with PostGIS, one schema per store (``GIS_STORE=postgresql://…``).

The same protocol as the GeoPackage file (:class:`~gis.store.base.Store`), with the database
doing what the file store does by hand:

- **Atomicity**: every write is one PostgreSQL transaction; a process killed half-way leaves
  nothing (the server rolls the transaction back when the connection drops).
- **Writers in order**: writes take a transaction-scoped advisory lock of the store
  (``pg_advisory_xact_lock``), so read-modify-writes of two processes or machines run one after
  the other and each sees the other's result (the GeoPackage store's ``fcntl`` lock); readers
  are never blocked (MVCC).
- **Layers** are tables of the store's schema with a ``geom`` column in the store's VN-2000 SRID
  and a GiST index; ``gis_layers`` records each table's pandas dtypes so that round trips keep
  the types (nullable integers stay integers, amounts beyond 32 bits stay whole).

The location is a libpq URL; ``?schema=NAME`` (default ``gis``) picks the schema, so several
stores (tests, training copies) can share one database. Connections come from a
``psycopg_pool`` pool, one per process and URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from gis.errors import CRSMismatchError, GisError, StoreError
from gis.store.base import IngestLogEntry, LayerReplacement, check_same_crs
from gis.store.cases import CaseChange, CaseQuery, NewAttachment, NewCase
from gis.store.pg_rows import SQL_TYPES, copy_rows, dtype_name, frame_from_rows
from gis.store.pg_rows import srid_of as _srid
from gis.store.query import LayerInfo, LayerQuery, QueryResult, TileQuery

__all__ = ["PostGISStore", "split_location"]

META = "gis_meta"
REGISTRY = "gis_layers"
LOG_TABLE = "ingest_log"
QUARANTINE = "quarantine"
GEOM = "geom"
#: columns every layer table has beside the frame's own
_FID = "fid"

_T = TypeVar("_T")
_POOLS: dict[tuple[int, str], Any] = {}
_POOLS_LOCK = threading.Lock()


def split_location(location: str) -> tuple[str, str]:
    """(libpq URL without our own parameters, schema name) of a store location."""
    parts = urlsplit(location)
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema", "gis")
    if not schema.replace("_", "").isalnum() or not schema[0].isalpha():
        raise StoreError(f"schema {schema!r} is not a plain name (letters, digits, _)",
                         path=_masked(location))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote))), schema.lower()


def _masked(location: str) -> str:
    """The location without its passwords (in the address or as a ``password=`` parameter)."""
    parts = urlsplit(location)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(k == "password" for k, _ in pairs):
        pairs = [(k, "***" if k == "password" else v) for k, v in pairs]
        parts = parts._replace(query=urlencode(pairs, quote_via=quote, safe="*"))
    return urlunsplit(parts)


def _pool(url: str) -> Any:
    """This process's connection pool for ``url`` (a forked child makes its own)."""
    from psycopg_pool import ConnectionPool

    key = (os.getpid(), url)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            _check_reachable(url)
            pool = ConnectionPool(url, min_size=1, max_size=int(os.environ.get(
                "GIS_DB_POOL", "8")), open=True, timeout=60,
                kwargs={"autocommit": True, "application_name": "gis"},
                check=ConnectionPool.check_connection)  # a restarted server: reconnect
            _POOLS[key] = pool
        return pool


def _check_reachable(url: str) -> None:
    """Connect once, directly, so that a wrong host, database or password is one clear error
    at once (a pool would retry in the background until its timeout)."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=int(os.environ.get("GIS_DB_CONNECT_TIMEOUT", "10")),
                        autocommit=True).close()
    except psycopg.Error as exc:
        raise StoreError(f"cannot reach the database: {_first_line(exc)}",
                         path=_masked(url)) from None


def box_filter(bbox: Sequence[float], srid: int) -> tuple[str, list[float]]:
    """SQL (and its parameters) keeping the rows whose envelope meets ``bbox``: the GiST
    index's ``&&`` first (PostGIS keeps boxes as float4 rounded outwards, a quarter of a metre
    at VN-2000 northings), then the exact envelope from the coordinates. The box is a constant
    in ``srid`` (the layer's): a box made with ``ST_SRID(geom)`` depends on the row, and the
    planner then scans the whole table (0.6 s at 1M parcels, found by the province benchmark)."""
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    return (f"{GEOM} && ST_MakeEnvelope(%s, %s, %s, %s, %s) AND "
            f"ST_XMin({GEOM}) <= %s AND ST_XMax({GEOM}) >= %s AND "
            f"ST_YMin({GEOM}) <= %s AND ST_YMax({GEOM}) >= %s",
            [minx, miny, maxx, maxy, srid, maxx, minx, maxy, miny])


#: PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) and drops the rest
NAME_BYTES = 63


def stored_name(name: str) -> str:
    """The name a table or column has in the database: ``name`` itself when PostgreSQL keeps it
    whole, else its first bytes and a hash of the whole name. Unmapped, two long names sharing
    their first 63 bytes (Vietnamese headers reach that in 20-odd letters) would be cut to one
    column; the GeoPackage keeps both."""
    raw = name.encode("utf-8")
    if len(raw) <= NAME_BYTES:
        return name
    digest = hashlib.sha1(raw).hexdigest()[:10]
    head = raw[:NAME_BYTES - len(digest) - 1].decode("utf-8", "ignore")
    return f"{head}_{digest}"


def _ident(name: str) -> str:
    """A quoted SQL identifier (of the name as stored, see :func:`stored_name`)."""
    return '"' + stored_name(name).replace('"', '""') + '"'


class PostGISStore:
    """A :class:`~gis.store.base.Store` in a PostgreSQL schema."""

    def __init__(self, location: str, *, _connection: Any = None,
                 _upgrading: bool = False) -> None:
        self.location = location
        self.url, self.schema = split_location(location)
        self._con = _connection  # set on the working view inside a writer transaction
        self._upgrading = _upgrading  # opened by ``gis db upgrade``: an older schema is fine
        self._srid: int | None = None  # the layers' SRID, once known
        if _connection is None:
            try:
                self._ensure_schema()
            except GisError:
                raise
            except Exception as exc:
                raise StoreError(f"cannot open the database: {_first_line(exc)}",
                                 path=self.path) from None

    @property
    def path(self) -> str:
        """Where the store is, for messages (password masked)."""
        return _masked(self.location)

    def __repr__(self) -> str:
        return f"PostGISStore({self.path!r})"

    # -- connections ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        if self._con is not None:
            yield self._con
            return
        import psycopg
        import psycopg_pool

        try:
            with _pool(self.url).connection() as con:
                yield con
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise StoreError(f"the database: {_first_line(exc)}", path=self.path) from None

    def _t(self, name: str) -> str:
        return f"{_ident(self.schema)}.{_ident(name)}"

    def _ensure_schema(self) -> None:
        """PostGIS, and the store's own tables at this release's version (a new schema is
        created; an older one is refused with the command that upgrades it)."""
        from gis.store import pg_schema

        with self._connection() as con:
            ready = con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'"
                                ).fetchone() is not None
            if ready and not self._upgrading and \
                    pg_schema.version_of(self, con) == pg_schema.SCHEMA_VERSION:
                return  # the usual case: no lock, two small reads
            with con.transaction():
                if not ready:
                    con.execute("SELECT pg_advisory_xact_lock(hashtext('gis-postgis'))")
                    con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                            (f"gis-schema:{self.schema}",))
                if not self._upgrading:
                    pg_schema.check(self, con)

    def upgrade_schema(self) -> list[tuple[int, str]]:
        """``gis db upgrade``: every migration from the schema's version to this release's, in
        one transaction under the writers' lock; (version, summary) of those applied."""
        from gis.store import pg_schema

        with _pool(self.url).connection() as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                        (f"gis-writers:{self.schema}",))
            con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                        (f"gis-schema:{self.schema}",))
            applied = pg_schema.upgrade(self, con)
        return [(m.version, m.summary) for m in applied]

    def schema_version(self) -> int:
        """The version of the store's own tables."""
        from gis.store import pg_schema

        with self._connection() as con:
            return pg_schema.version_of(self, con) or pg_schema.SCHEMA_VERSION

    @contextlib.contextmanager
    def _writing(self) -> Iterator[tuple[Any, PostGISStore]]:
        """One writer transaction: the store's advisory lock, then a working view on it."""
        if self._con is not None:  # already inside (a working view writing through itself)
            yield self._con, self
            return
        with _pool(self.url).connection() as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"gis-writers:{self.schema}",))
            yield con, PostGISStore(self.location, _connection=con)

    # -- reading -------------------------------------------------------------------------------
    def _registry(self) -> dict[str, tuple[bool, dict[str, str]]]:
        with self._connection() as con:
            rows = con.execute(f"SELECT name, spatial, dtypes FROM {self._t(REGISTRY)}").fetchall()
        return {name: (spatial, dtypes) for name, spatial, dtypes in rows}

    def _registry_full(self) -> dict[str, tuple[bool, dict[str, str], str | None]]:
        """Name → (spatial, dtypes, geometry type) of every table."""
        with self._connection() as con:
            rows = con.execute(f"SELECT name, spatial, dtypes, geometry_type FROM "
                               f"{self._t(REGISTRY)}").fetchall()
        return {name: (spatial, dtypes, gtype) for name, spatial, dtypes, gtype in rows}

    def has(self, kind: str) -> bool:
        """True when the layer (or table) exists."""
        return kind in self._registry()

    def layers(self) -> dict[str, int]:
        """Layer name → feature count."""
        names = sorted(self._registry())  # one connection at a time: never two from the pool
        out = {}
        with self._connection() as con:
            for name in names:
                out[name] = int(con.execute(f"SELECT count(*) FROM {self._t(name)}").fetchone()[0])
        return out

    def meta(self) -> dict[str, str]:
        """Key/value metadata (CRS, schema version)."""
        with self._connection() as con:
            return dict(con.execute(f"SELECT key, value FROM {self._t(META)}").fetchall())

    def crs(self) -> CRS | None:
        """The working CRS of the store, or None while it is empty."""
        value = self.meta().get("crs")
        return CRS.from_user_input(value) if value else None

    def geometry_srid(self) -> int:
        """The SRID of every layer's ``geom`` (the store CRS's EPSG code; kept once known)."""
        if self._srid is None:
            self._srid = _srid(self.crs())
        return self._srid

    def read(self, kind: str, *, bbox: tuple[float, float, float, float] | None = None,
             where: str | None = None, columns: list[str] | None = None) -> gpd.GeoDataFrame:
        """Read a layer; ``bbox`` is in the store CRS (rows whose box meets it, as GDAL)."""
        registry = self._registry()
        if kind not in registry:
            raise StoreError(f"the store has no layer {kind!r}; it has: "
                             f"{', '.join(sorted(registry)) or 'nothing yet'}",
                             path=self.path, layer=kind)
        spatial, dtypes = registry[kind]
        wanted = [c for c in dtypes if columns is None or c in columns]
        select = [_ident(c) for c in wanted]
        if spatial:
            select.append(f"ST_AsBinary({GEOM})")
        clauses, params = [], []
        if bbox is not None and spatial:
            sql_box, box_params = box_filter(bbox, self.geometry_srid())
            clauses.append(sql_box)
            params += box_params
        if where:  # the operator's own filter (gis export --where): trusted SQL
            clauses.append("(" + where.replace("%", "%%") + ")")
        sql = (f"SELECT {', '.join(select) or 'NULL'} FROM {self._t(kind)}"
               + (f" WHERE {' AND '.join(clauses)}" if clauses else "") + f" ORDER BY {_FID}")
        try:
            with self._connection() as con:
                rows = con.execute(sql, params).fetchall()
        except Exception as exc:
            raise StoreError(f"cannot read: {_first_line(exc)}", path=self.path,
                             layer=kind) from None
        return frame_from_rows(rows, wanted, dtypes, spatial, self.crs() if spatial else None)

    def quarantine(self, kind: str | None = None) -> gpd.GeoDataFrame:
        """Quarantined rows (all kinds, or one)."""
        if not self.has(QUARANTINE):
            return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=self.crs())
        frame = self.read(QUARANTINE)
        return frame[frame["kind"] == kind].reset_index(drop=True) if kind else frame

    def ingest_log(self) -> pd.DataFrame:
        """The ingest log, oldest first."""
        if not self.has(LOG_TABLE):
            return pd.DataFrame(columns=list(IngestLogEntry.__dataclass_fields__))
        return pd.DataFrame(self.read(LOG_TABLE))

    def read_table(self, name: str) -> pd.DataFrame:
        """Read a table; an empty frame when it does not exist."""
        if not self.has(name):
            return pd.DataFrame()
        frame = self.read(name)
        return frame if isinstance(frame, gpd.GeoDataFrame) else pd.DataFrame(frame)

    # -- structured reads and change tokens (gis.store.pg_reads) -------------------------------
    def query(self, kind: str, q: LayerQuery) -> QueryResult:
        """The rows ``q`` selects (see :class:`~gis.store.base.Store`), one snapshot."""
        from gis.store import pg_reads

        return pg_reads.query(self, kind, q)

    def scan(self, kind: str, q: LayerQuery, *, batch_size: int = 10_000
             ) -> Iterator[QueryResult]:
        """The rows ``q`` selects in frames of ``batch_size`` (a server-side cursor)."""
        from gis.store import pg_reads

        yield from pg_reads.scan(self, kind, q, batch_size)

    def layer_info(self, kind: str) -> LayerInfo:
        """Fields and types, geometry type, count, extent and CRS of a layer."""
        from gis.store import pg_reads

        return pg_reads.layer_info(self, kind)

    makes_tiles = True

    def vector_tile(self, kind: str, q: TileQuery) -> bytes | None:
        """The tile made by PostGIS (``ST_AsMVT``), see :mod:`gis.store.pg_tiles`."""
        from gis.store import pg_tiles

        return pg_tiles.vector_tile(self, kind, q)

    def distinct(self, kind: str, column: str, *, limit: int | None = None) -> list[Any]:
        """The distinct non-null values of a column, in order."""
        from gis.store import pg_reads

        return pg_reads.distinct(self, kind, column, limit)

    def change_token(self, kind: str | None = None) -> str:
        """The version of the store (or of a layer), bumped by every write transaction."""
        from gis.store import pg_reads

        return pg_reads.change_token(self, kind)

    # -- violation cases (gis.store.pg_cases) --------------------------------------------------
    def read_cases(self, query: CaseQuery | None = None, *,
                   columns: Sequence[str] | None = None,
                   geometry: bool = True) -> gpd.GeoDataFrame:
        """Cases matching ``query`` (see :meth:`gis.store.base.Store.read_cases`)."""
        from gis.store import pg_cases

        return pg_cases.read_cases(self, query, columns=columns, geometry=geometry)

    def case_history(self, case_id: str) -> pd.DataFrame:
        """The history lines of one case, oldest first."""
        from gis.store import pg_cases

        return pg_cases.case_history(self, case_id)

    def insert_cases(self, cases: Sequence[NewCase], *, id_prefix: str) -> list[str]:
        """Insert cases with their history in one transaction."""
        from gis.store import pg_cases

        return self._cases_call(lambda: pg_cases.insert_cases(self, cases, id_prefix=id_prefix))

    def insert_cases_with(self, decide: Callable[[Any], Sequence[NewCase]], *,
                          id_prefix: str) -> list[str]:
        """Detection's read-modify-write in one transaction."""
        from gis.store import pg_cases

        return self._cases_call(lambda: pg_cases.insert_cases_with(self, decide,
                                                                   id_prefix=id_prefix))

    def update_cases(self, case_ids: Sequence[str], change: CaseChange
                     ) -> list[dict[str, object]]:
        """Change cases in one transaction, each read ``FOR UPDATE``."""
        from gis.store import pg_cases

        return self._cases_call(lambda: pg_cases.update_cases(self, case_ids, change))

    def attachments_dir(self) -> Path:
        """The shared attachments folder of this store (``GIS_ATTACHMENTS_DIR``)."""
        from gis.store import pg_cases

        return pg_cases.attachments_dir(self)

    def add_attachment(self, attachment: NewAttachment) -> dict[str, object]:
        """Attach a checked file to a case (file, row and history line)."""
        from gis.store import pg_cases

        return self._cases_call(lambda: pg_cases.add_attachment(self, attachment))

    def case_attachments(self, case_id: str) -> pd.DataFrame:
        """The attachment rows of one case."""
        from gis.store import pg_cases

        return pg_cases.case_attachments(self, case_id)

    def _cases_call(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except GisError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot write cases: {_first_line(exc)}", path=self.path) from exc

    def _registry_srid(self, con: Any, table: str) -> int:
        """The SRID of a spatial table's geometry column."""
        row = con.execute("SELECT Find_SRID(%s, %s, %s)", (self.schema, table, GEOM)).fetchone()
        return int(row[0])

    # -- writing -------------------------------------------------------------------------------
    def replace_layer(self, kind: str, frame: gpd.GeoDataFrame, *,
                      quarantine: gpd.GeoDataFrame | None, log: IngestLogEntry,
                      quarantine_scope: list[str] | None = None) -> None:
        """Replace ``kind``, its quarantine rows and append ``log``, all or nothing."""
        self.replace_layer_with(kind, lambda working: LayerReplacement(
            frame, log, quarantine=quarantine, quarantine_scope=quarantine_scope))

    def replace_layer_with(self, kind: str,
                           change: Callable[[Any], LayerReplacement]) -> LayerReplacement:
        """Read-modify-write of a layer in one transaction under the writers' lock."""
        from gis.store.geopackage import _merge_quarantine

        try:
            with self._writing() as (con, working):
                decided = change(working)
                frame = decided.frame
                store_crs = working.crs()
                check_same_crs(frame, store_crs, self.path, kind)
                if store_crs is None and frame.crs is not None:
                    epsg = CRS.from_user_input(frame.crs).to_epsg()
                    working._set_meta(con, {"crs": f"EPSG:{epsg}" if epsg else
                                            frame.crs.to_wkt()})
                old_quarantine = working.quarantine() if working.has(QUARANTINE) else None
                working._replace(con, kind, frame)
                for other, other_frame in decided.also.items():
                    check_same_crs(other_frame, store_crs or frame.crs, self.path, other)
                    working._replace(con, other, other_frame)
                q = _merge_quarantine(old_quarantine, decided.quarantine, kind, frame.crs,
                                      decided.quarantine_scope)
                if q is not None:
                    working._replace(con, QUARANTINE, q)
                working._append_log(con, decided.log)
            return decided
        except GisError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot write layer {kind}: {_first_line(exc)}", path=self.path,
                             layer=kind) from exc

    def write_tables(self, tables: dict[str, pd.DataFrame], *,
                     log: IngestLogEntry | None = None) -> None:
        """Replace several tables (and append ``log``) in one transaction."""
        self.modify(lambda working: tables, log=log)

    def modify(self, change: Callable[[Any], Mapping[str, pd.DataFrame]], *,
               log: IngestLogEntry | None = None) -> None:
        """Read-modify-write in one transaction under the writers' lock: ``change`` reads the
        transaction's view and returns the tables to replace; nothing is kept if it raises."""
        from gis.store.geopackage import _writable  # the same text form for dates as the file

        try:
            with self._writing() as (con, working):
                for name, frame in change(working).items():
                    working._replace(con, name, _writable(frame))
                if log is not None:
                    working._append_log(con, log)
        except GisError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot write: {_first_line(exc)}", path=self.path) from exc

    def _set_meta(self, con: Any, values: Mapping[str, str]) -> None:
        from gis.store.pg_reads import bump

        for key, value in values.items():
            con.execute(f"INSERT INTO {self._t(META)} (key, value) VALUES (%s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (key, value))
        bump(self, con, [META])

    def _append_log(self, con: Any, log: IngestLogEntry) -> None:
        row = pd.DataFrame([log.as_dict()])
        if not self.has(LOG_TABLE):
            self._replace(con, LOG_TABLE, row)
        else:
            dtypes = dict(self._registry()[LOG_TABLE][1])
            for column in row.columns:  # a log copied from an older store lacks newer fields
                if column not in dtypes:
                    dtypes[column] = dtype_name(row[column])
                    con.execute(f"ALTER TABLE {self._t(LOG_TABLE)} ADD COLUMN {_ident(column)} "
                                f"{SQL_TYPES[dtypes[column]]}")
                    con.execute(f"UPDATE {self._t(REGISTRY)} SET dtypes = %s WHERE name = %s",
                                (json.dumps(dtypes), LOG_TABLE))
            self._insert(con, LOG_TABLE, row, dtypes, spatial=False)

    def _replace(self, con: Any, name: str, frame: pd.DataFrame) -> None:
        """Drop and create ``name`` with ``frame``'s columns and rows (inside the caller's
        transaction: readers see the old table until it commits). The metadata table
        (``gis_meta``: key, value) is merged into the store's metadata instead."""
        if name == META:
            values = dict(zip(frame["key"].astype(str), frame["value"].astype(str)))
            values.pop("schema_version", None)  # the version of this store's own tables stays
            self._set_meta(con, values)
            return
        if name.startswith("gis_"):
            raise StoreError(f"{name!r}: names beginning gis_ belong to the store itself "
                             "(registry, versions, accounts)", path=self.path, layer=name)
        spatial = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
        data = pd.DataFrame(frame.drop(columns=frame.geometry.name)) if spatial else \
            pd.DataFrame(frame)
        dtypes = {str(c): dtype_name(data[c]) for c in data.columns}
        data.columns = list(dtypes)
        if len({c.lower() for c in dtypes} | {_FID, GEOM}) != len(dtypes) + 2:
            raise StoreError(f"table {name}: column names must differ (case-blind) and not be "
                             f"{_FID!r} or {GEOM!r}: {list(dtypes)}", path=self.path, layer=name)
        columns = [f"{_FID} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"]
        columns += [f"{_ident(c)} {SQL_TYPES[t]}" for c, t in dtypes.items()]
        if spatial:
            srid = _srid(frame.crs)
            columns.append(f"{GEOM} geometry(Geometry, {srid})")
            store_crs = self.meta().get("crs")
            if store_crs is None:
                self._set_meta(con, {"crs": f"EPSG:{srid}"})
            elif CRS.from_user_input(store_crs) != CRS.from_user_input(frame.crs):
                raise CRSMismatchError(f"{name} is in {CRS.from_user_input(frame.crs).name}, the "
                                       f"store in {CRS.from_user_input(store_crs).name}; "
                                       "transform it first", path=self.path, layer=name)
        old = self._registry().get(name)
        same = old is not None and old == (spatial, dtypes)
        if same and spatial:
            same = self._registry_srid(con, name) == _srid(frame.crs)
        if same:
            # the same columns: rows replaced in place, so readers keep seeing the old rows
            # until this commits (dropping the table would give them an empty one)
            con.execute(f"DELETE FROM {self._t(name)}")
        else:
            con.execute(f"DROP TABLE IF EXISTS {self._t(name)}")
            con.execute(f"CREATE TABLE {self._t(name)} ({', '.join(columns)})")
        from gis.store.geopackage import _geometry_type

        gtype = ({"MultiPolygon": "MULTIPOLYGON", "Polygon": "POLYGON", "Point": "POINT"}
                 .get(_geometry_type(frame), "GEOMETRY") if spatial else None)
        if spatial and name == "violation_cases":
            gtype = "GEOMETRY"  # points and polygons, as the GeoPackage's case layer
        con.execute(f"INSERT INTO {self._t(REGISTRY)} (name, spatial, dtypes, geometry_type) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                    "spatial = EXCLUDED.spatial, dtypes = EXCLUDED.dtypes, "
                    "geometry_type = EXCLUDED.geometry_type",
                    (name, spatial, json.dumps(dtypes), gtype))
        self._insert(con, name, frame, dtypes, spatial=spatial)
        if spatial and not same:
            index = _ident(f"{name}_geom_idx")
            con.execute(f"CREATE INDEX {index} ON {self._t(name)} USING GIST ({GEOM})")

    def _insert(self, con: Any, name: str, frame: pd.DataFrame, dtypes: Mapping[str, str], *,
                spatial: bool) -> None:
        """COPY the rows of ``frame`` into ``name`` (columns by ``dtypes``, geometry as EWKB)."""
        from gis.store.pg_reads import bump

        bump(self, con, [name])
        copy_rows(con, self._t(name), frame, dtypes,
                  [_ident(c) for c in dtypes] + ([GEOM] if spatial else []),
                  srid=_srid(frame.crs) if spatial else None)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
