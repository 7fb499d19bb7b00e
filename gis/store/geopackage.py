"""The embedded store: one GeoPackage file that opens in QGIS and GDAL as it is.

Atomicity: a write copies the store to a temporary file beside it, writes there, and renames it
over the original (``os.replace`` is atomic on POSIX). A failure half way leaves the old file
untouched; readers that opened the old file keep reading it. Writers take an exclusive
``fcntl`` lock on ``<store>.lock``, so concurrent writers wait rather than fail. The cost is one
file copy per write, which is small next to the write itself at district scale; a PostGIS store
is the answer for larger, multi-user offices (DESIGN.md).

Row-level writes (case updates, new cases) change the file in place in one SQLite transaction
(:meth:`GeoPackageStore.sql_transaction`, rollback journal, ``synchronous=FULL``): a crash rolls
the transaction back on the next open. Two SQLite libraries live in one process here: Python's
``sqlite3`` (system SQLite) and GDAL's own inside pyogrio. SQLite's locks are POSIX record locks,
which belong to the process and are all dropped when *any* descriptor of the file is closed, so
a GDAL read that ends while ``sqlite3`` is committing would silently release the writer's locks
and let another process take its journal for a hot one. Hence one reader/writer lock per store
file and process (:func:`_process_lock`): reads share it, an in-place transaction holds it alone.
Code that opens the store with GDAL directly should do it inside :meth:`GeoPackageStore.reading`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS

from gis.errors import GisError, StoreError
from gis.store import gpkg_cases, gpkg_reads
from gis.store.base import IngestLogEntry, LayerReplacement, check_same_crs
from gis.store.cases import CaseChange, CaseQuery, NewAttachment, NewCase
from gis.store.gpkg_sql import (
    _journal,
    _process_lock,
    _register_gpkg_functions,
    gpkg_blob,
    insert_features,
    layer_admits,
)
from gis.store.query import LayerInfo, LayerQuery, QueryResult, TileQuery

__all__ = ["GeoPackageStore", "gpkg_blob", "insert_features", "layer_admits"]

LOG_TABLE = "ingest_log"
META_TABLE = "gis_meta"
QUARANTINE = "quarantine"
# GeoPackage 1.2 keeps the file readable by GDAL 3.6 / QGIS 3.22 without version warnings.
_DATASET_OPTIONS = {"VERSION": "1.2"}


class GeoPackageStore:
    """A :class:`~gis.store.base.Store` in one GeoPackage file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if str(path).split(":", 1)[0].lower() in ("postgresql", "postgres"):
            from gis.store.postgis import _masked

            raise StoreError("a database address is not a GeoPackage file: open it with "
                             "gis.store.open_store", path=_masked(str(path)))
        self.path = Path(path)
        self.recover()  # one stat, unless a killed writer left its journal

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    # -- reading -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Hold this for any GDAL (or ``sqlite3``) access to the store file from this process:
        in-place writers of the same process wait for it (see the module notes). A journal left
        by a writer that was killed is rolled back first, so read-only openers can read."""
        lock = _process_lock(self.path)
        if not lock.held() and _journal(self.path).exists():
            self.recover()
        with lock.shared():
            yield

    def _layer_names(self) -> dict[str, str | None]:
        if not self.path.exists():
            return {}
        try:
            with self.reading():
                return {str(n): g for n, g in pyogrio.list_layers(self.path)}
        except Exception as exc:
            raise StoreError(f"cannot open the store: {exc}", path=self.path) from None

    def has(self, kind: str) -> bool:
        """True when the layer exists."""
        return kind in self._layer_names()

    def layers(self) -> dict[str, int]:
        """Layer name → feature count."""
        out = {}
        with self.reading():
            for name in self._layer_names():
                info = pyogrio.read_info(self.path, layer=name)
                out[name] = int(info["features"])
        return out

    def meta(self) -> dict[str, str]:
        """Key/value metadata (CRS, schema version)."""
        if not self.path.exists():
            return {}
        try:
            frame = self._retrying(lambda: pyogrio.read_dataframe(
                self.path, layer=META_TABLE, read_geometry=False))
        except Exception:
            if META_TABLE not in self._layer_names():  # a new store: no metadata yet
                return {}
            raise
        return dict(zip(frame["key"], frame["value"]))

    def crs(self) -> CRS | None:
        """The working CRS of the store, or None while it is empty."""
        value = self.meta().get("crs")
        return CRS.from_user_input(value) if value else None

    def read(self, kind: str, *, bbox: tuple[float, float, float, float] | None = None,
             where: str | None = None, columns: list[str] | None = None) -> gpd.GeoDataFrame:
        """Read a layer; ``bbox`` is in the store CRS."""
        try:
            return self._retrying(lambda: pyogrio.read_dataframe(
                self.path, layer=kind, bbox=bbox, where=where, columns=columns, use_arrow=True))
        except Exception as exc:
            if not self.has(kind):  # asked only on failure: listing layers opens the file again
                raise StoreError(f"the store has no layer {kind!r}; it has: "
                                 f"{', '.join(self._layer_names()) or 'nothing yet'}",
                                 path=self.path, layer=kind) from None
            raise StoreError(f"cannot read: {exc}", path=self.path, layer=kind) from None

    def _retrying(self, read: Callable[[], Any], attempts: int = 4) -> Any:
        """``read`` under :meth:`reading`, again after a short wait when GDAL's read-only open
        met the rollback journal of a writer in another process at the instant it was not yet
        (or no longer) locked ("attempt to write a readonly database"); seen about once in a few
        hundred reads beside four flagging processes."""
        for attempt in range(attempts):
            try:
                with self.reading():
                    return read()
            except Exception as exc:
                if "readonly database" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    def quarantine(self, kind: str | None = None) -> gpd.GeoDataFrame:
        """Quarantined rows (all kinds, or one)."""
        if not self.has(QUARANTINE):
            return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=self.crs())
        where = f"kind = '{kind}'" if kind else None
        return self.read(QUARANTINE, where=where)

    def ingest_log(self) -> pd.DataFrame:
        """The ingest log, oldest first."""
        if not self.has(LOG_TABLE):
            return pd.DataFrame(columns=list(IngestLogEntry.__dataclass_fields__))
        with self.reading():
            return pyogrio.read_dataframe(self.path, layer=LOG_TABLE, read_geometry=False)

    # -- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _leftovers(self) -> list[Path]:
        """Working copies (and their journals) of copy-on-write writers that died: they are
        created under the writers' lock, so whoever holds the lock owns none of them."""
        prefix, parent = f".{self.path.name}.", self.path.parent
        try:
            with os.scandir(parent) as entries:
                return [parent / e.name for e in entries if e.name.startswith(prefix)
                        and ".tmp.gpkg" in e.name[len(prefix):]]
        except FileNotFoundError:
            return []

    def _remove_leftovers(self) -> None:
        """Under the writers' lock: remove what killed copy-on-write writers left."""
        for path in self._leftovers():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def recover(self) -> None:
        """Roll back the journal of an in-place writer that died (SIGKILL, power cut), if one
        is there and no writer is at work: GDAL and ``mode=ro`` readers open the store read-only
        and cannot. Remove the working copies of copy-on-write writers that died (83 MB after
        eight killed ingests). Opening the store does both; every :meth:`reading` the first."""
        journal = _journal(self.path).exists()
        if (not journal and not self._leftovers()) or _process_lock(self.path).held():
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a writer is at work: its journal is live, or it recovers it first
            try:
                self._rollback_hot_journal()
                self._remove_leftovers()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _rollback_hot_journal(self) -> None:
        """Under the writers' lock: let SQLite roll back a hot journal (any read does)."""
        if not _journal(self.path).exists():
            return
        with _process_lock(self.path).exclusive():
            con = sqlite3.connect(self.path, timeout=60)
            try:
                con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Path]:
        """Copy-on-write: yield a working copy, publish it atomically if the block succeeds."""
        with self._lock():
            self._rollback_hot_journal()  # never copy a half-committed file without its journal
            self._remove_leftovers()  # working copies of killed writers: ours are made below
            # the working copy keeps the .gpkg extension so that GDAL opens it without warnings
            tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp.gpkg")
            try:
                if self.path.exists():
                    shutil.copyfile(self.path, tmp)
                yield tmp
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                raise

    @staticmethod
    def _write(path: Path, frame: pd.DataFrame, layer: str) -> None:
        kwargs: dict[str, object] = {}
        if not path.exists():
            kwargs["dataset_options"] = _DATASET_OPTIONS
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if isinstance(frame, gpd.GeoDataFrame):
                # the case layer takes points and polygons alike from its first row: a flag of
                # the other kind never rewrites the whole store (a copy of the file, and a
                # replace that readers of the old file and in-place writers would race)
                gtype = "Unknown" if layer == "violation_cases" else _geometry_type(frame)
                pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", use_arrow=True,
                                        promote_to_multi=gtype == "MultiPolygon",
                                        geometry_type=gtype, **kwargs)
            else:
                pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", **kwargs)

    def replace_layer(self, kind: str, frame: gpd.GeoDataFrame, *,
                      quarantine: gpd.GeoDataFrame | None, log: IngestLogEntry,
                      quarantine_scope: list[str] | None = None) -> None:
        """Replace ``kind``, its quarantine rows and append ``log``, all or nothing.

        Everything that is merged (quarantine, log) is read from the working copy inside the
        lock, so concurrent writers never lose each other's lines. A layer that keeps part of
        what is stored (the other wards) must be decided inside the lock as well:
        :meth:`replace_layer_with`.
        """
        self.replace_layer_with(kind, lambda working: LayerReplacement(
            frame, log, quarantine=quarantine, quarantine_scope=quarantine_scope))

    def replace_layer_with(self, kind: str,
                           change: Callable[[Any], LayerReplacement]) -> LayerReplacement:
        """Read-modify-write of a spatial layer under the writers' lock: ``change`` reads the
        working copy (a :class:`GeoPackageStore`) and returns the new layer, its quarantine
        rows and the log line; they are written to the working copy, which is published only
        if everything succeeded. Returns what ``change`` returned."""
        try:
            with self.transaction() as tmp:
                working = GeoPackageStore(tmp)
                decided = change(working)
                frame = decided.frame
                store_crs = working.crs()
                check_same_crs(frame, store_crs, self.path, kind)
                old_quarantine = working.quarantine() if working.has(QUARANTINE) else None
                old_log = working.ingest_log()
                self._write(tmp, frame, kind)
                for other, other_frame in decided.also.items():
                    check_same_crs(other_frame, store_crs or frame.crs, self.path, other)
                    self._write(tmp, other_frame, other)
                q = _merge_quarantine(old_quarantine, decided.quarantine, kind, frame.crs,
                                      decided.quarantine_scope)
                if q is not None:
                    self._write(tmp, q, QUARANTINE)
                self._append_log(tmp, old_log, decided.log)
                if store_crs is None and frame.crs is not None:
                    epsg = CRS.from_user_input(frame.crs).to_epsg()
                    meta = pd.DataFrame({"key": ["crs", "schema_version"],
                                         "value": [f"EPSG:{epsg}" if epsg else frame.crs.to_wkt(), "1"]})
                    self._write(tmp, meta, META_TABLE)
            return decided
        except GisError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot write layer {kind}: {exc}", path=self.path, layer=kind) from exc

    def _append_log(self, tmp: Path, old_log: pd.DataFrame, log: IngestLogEntry) -> None:
        new_log = pd.DataFrame([log.as_dict()])
        types = {c: t for c, t in new_log.dtypes.to_dict().items() if c in old_log.columns}
        merged = (pd.concat([old_log.astype(types), new_log], ignore_index=True)
                  if len(old_log) else new_log)
        self._write(tmp, merged, LOG_TABLE)

    def read_table(self, name: str) -> pd.DataFrame:
        """Read a table; an empty frame when it does not exist."""
        if not self.has(name):
            return pd.DataFrame()
        try:
            if self._layer_names()[name] is None:
                with self.reading():
                    return pyogrio.read_dataframe(self.path, layer=name, read_geometry=False,
                                                  use_arrow=True)
            return self.read(name)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot read table: {exc}", path=self.path, layer=name) from None

    def write_tables(self, tables: dict[str, pd.DataFrame], *,
                     log: IngestLogEntry | None = None) -> None:
        """Replace several tables (and append ``log``) in one copy-on-write transaction."""
        try:
            with self.transaction() as tmp:
                for name, frame in tables.items():
                    self._write(tmp, _writable(frame), name)
                if log is not None:
                    self._append_log(tmp, GeoPackageStore(tmp).ingest_log(), log)
        except GisError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot write tables {', '.join(tables)}: {exc}",
                             path=self.path) from exc

    @contextlib.contextmanager
    def sql_transaction(self) -> Iterator[sqlite3.Connection]:
        """Row-level writes in place: the writers' lock, this process's readers kept out, then
        one SQLite ``BEGIN IMMEDIATE`` transaction (durable on ``COMMIT``: rollback journal,
        ``synchronous=FULL``), rolled back if the block raises. GDAL's R-tree triggers get the
        SQL functions they call (:func:`_register_gpkg_functions`), so inserting a geometry blob
        (:func:`insert_features`) keeps the spatial index right."""
        with self._lock(), _process_lock(self.path).exclusive():
            con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            _register_gpkg_functions(con)
            written = gpkg_reads.track_writes(con)  # stamped below: their change tokens move
            try:
                con.execute("PRAGMA synchronous=FULL")
                con.execute("BEGIN IMMEDIATE")
                yield con
                gpkg_reads.stamp_writes(con, written)
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            finally:
                con.close()

    def modify(self, change: Callable[[Any], Mapping[str, pd.DataFrame]], *,
               log: IngestLogEntry | None = None) -> None:
        """Read-modify-write under the lock: ``change`` reads from the working copy and returns
        the tables to replace; nothing is published if it raises."""
        try:
            with self.transaction() as tmp:
                working = GeoPackageStore(tmp)
                for name, frame in change(working).items():
                    self._write(tmp, _writable(frame), name)
                if log is not None:
                    self._append_log(tmp, working.ingest_log(), log)
        except GisError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot write: {exc}", path=self.path) from exc

    # -- violation cases (gis.store.gpkg_cases) -------------------------------------------------
    def read_cases(self, query: CaseQuery | None = None, *,
                   columns: Sequence[str] | None = None,
                   geometry: bool = True) -> gpd.GeoDataFrame:
        """Cases matching ``query`` (see :meth:`gis.store.base.Store.read_cases`)."""
        return gpkg_cases.read_cases(self, query, columns=columns, geometry=geometry)

    def case_history(self, case_id: str) -> pd.DataFrame:
        """The history lines of one case, oldest first."""
        return gpkg_cases.case_history(self, case_id)

    def insert_cases(self, cases: Sequence[NewCase], *, id_prefix: str) -> list[str]:
        """Insert cases with their history, in place when the tables take them."""
        return gpkg_cases.insert_cases(self, cases, id_prefix=id_prefix)

    def insert_cases_with(self, decide: Callable[[Any], Sequence[NewCase]], *,
                          id_prefix: str) -> list[str]:
        """Detection's read-modify-write, copy-on-write: ``decide`` reads the working copy."""
        return gpkg_cases.insert_cases_with(self, decide, id_prefix=id_prefix)

    def update_cases(self, case_ids: Sequence[str], change: CaseChange
                     ) -> list[dict[str, object]]:
        """Change cases in one transaction (in place when the tables have the columns)."""
        return gpkg_cases.update_cases(self, case_ids, change)

    def attachments_dir(self) -> Path:
        """``<store>_attachments`` beside the store file."""
        return gpkg_cases.attachments_dir(self)

    def add_attachment(self, attachment: NewAttachment) -> dict[str, object]:
        """Attach a checked file to a case (file, row and history line)."""
        return gpkg_cases.add_attachment(self, attachment)

    def case_attachments(self, case_id: str) -> pd.DataFrame:
        """The attachment rows of one case."""
        return gpkg_cases.case_attachments(self, case_id)

    # -- structured reads and change tokens (gis.store.gpkg_reads) -------------------------------
    def query(self, kind: str, q: LayerQuery) -> QueryResult:
        """The rows ``q`` selects (see :class:`~gis.store.base.Store`), one read snapshot."""
        return self._retrying(lambda: gpkg_reads.query(self.path, kind, q))  # type: ignore[no-any-return]

    def scan(self, kind: str, q: LayerQuery, *, batch_size: int = 10_000
             ) -> Iterator[QueryResult]:
        """The rows ``q`` selects in frames of ``batch_size``; the read lock is held while the
        caller iterates."""
        with self.reading():
            yield from gpkg_reads.scan(self.path, kind, q, batch_size)

    def layer_info(self, kind: str) -> LayerInfo:
        """Fields and types, geometry type, count, extent and CRS of a layer."""
        return self._retrying(lambda: gpkg_reads.layer_info(self.path, kind))  # type: ignore[no-any-return]

    makes_tiles = False

    def vector_tile(self, kind: str, q: TileQuery) -> bytes | None:
        """None: the service draws a GeoPackage's layers from memory (an STRtree and numpy
        encoder per layer; the sample's tiles in ~1 ms, DESIGN.md "Serving maps")."""
        return None

    def distinct(self, kind: str, column: str, *, limit: int | None = None) -> list[Any]:
        """The distinct non-null values of a column, in order."""
        return self._retrying(  # type: ignore[no-any-return]
            lambda: gpkg_reads.distinct(self.path, kind, column, limit))

    def change_token(self, kind: str | None = None) -> str:
        """The file's version (``kind`` None: a ``stat`` and a ``pread``, no lock) or the
        layer's ``last_change`` and largest fid, read once per file version and process."""
        return gpkg_reads.change_token(self.path, kind, reading=self.reading)

    def vacuum_check(self) -> bool:
        """Run SQLite's integrity check; True when the file is sound."""
        with self.reading():
            con = sqlite3.connect(self.path, timeout=60)
            try:
                result: str = con.execute("PRAGMA integrity_check").fetchone()[0]
                return result == "ok"
            finally:
                con.close()


def _geometry_type(frame: gpd.GeoDataFrame) -> str:
    types = set(frame.geometry.geom_type.dropna().unique())
    if types <= {"Polygon", "MultiPolygon"} and types:
        return "MultiPolygon" if "MultiPolygon" in types else "Polygon"
    if types == {"Point"}:
        return "Point"
    return "Unknown"


def _writable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text, objects as strings: what GeoPackage attribute columns hold."""
    out = frame.copy()
    for column in out.columns:
        if column == "geometry":
            continue
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.dt.strftime("%Y-%m-%d").astype("string")
        elif series.dtype == object:
            sample = series.dropna()
            if len(sample) and hasattr(sample.iloc[0], "isoformat"):
                out[column] = series.map(lambda v: v.isoformat() if hasattr(v, "isoformat")
                                         else None).astype("string")
            elif len(sample) and isinstance(sample.iloc[0], (bool,)):
                out[column] = series.astype("boolean")
            else:
                out[column] = series.astype("string")
    return out


def _merge_quarantine(old: gpd.GeoDataFrame | None, new: gpd.GeoDataFrame | None, kind: str,
                      crs: object, scope: list[str] | None = None) -> gpd.GeoDataFrame | None:
    parts = []
    if old is not None and len(old):
        replaced = old["kind"] == kind
        if scope is not None and "ward_code" in old.columns:
            replaced &= old["ward_code"].isin(scope)
        parts.append(old[~replaced])
    if new is not None and len(new):
        new = new.copy()
        new.insert(0, "kind", kind)
        parts.append(new)
    if not parts:
        return None if old is None else gpd.GeoDataFrame({"kind": pd.Series([], dtype="string")},
                                                         geometry=[], crs=crs)
    merged = pd.concat(parts, ignore_index=True)
    for column in merged.columns:
        if column != "geometry" and merged[column].dtype == object:
            merged[column] = merged[column].astype("string")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=crs)
