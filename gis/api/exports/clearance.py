"""Clearance figures for the service: :func:`gis.clearance.run_clearance` as the CLI runs it,
cached per store version, and scoped to one project on request.

A GET never writes: the runs here never write back (``gis clearance report`` does that). The
cache lives on the app (``app.state``), keyed by the store file's identity (inode, size,
modification time), the day asked for and today's date (the default day), so a new sheet, a
re-ingest or a new day gives new figures and nothing stale is served.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd
from cachetools import LRUCache

from gis.errors import NotFoundError
from gis.store import Store

__all__ = [
    "cached",
    "clearance_pairs",
    "clearance_run",
    "parse_day",
    "project_ids",
]

T = TypeVar("T")
_MAX_ENTRIES = 16


def cached(state: Any, key: tuple[object, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per key, kept on ``state`` (the app's state), the latest
    ``_MAX_ENTRIES`` keys only. Concurrent requests for the same key wait for one computation."""
    lock: threading.Lock | None = getattr(state, "gis_api_cache_lock", None)
    if lock is None:
        lock = threading.Lock()
        state.gis_api_cache_lock = lock
        state.gis_api_cache = LRUCache(maxsize=_MAX_ENTRIES)
        state.gis_api_cache_keys = {}
    with lock:
        store: LRUCache[tuple[object, ...], Any] = state.gis_api_cache
        if key in store:
            return store[key]  # type: ignore[no-any-return]
        key_lock = state.gis_api_cache_keys.setdefault(key, threading.Lock())
    with key_lock:
        with lock:
            if key in store:
                return store[key]
        value = compute()
        with lock:
            store[key] = value  # the least recently used entry goes when full
            for old in [k for k in state.gis_api_cache_keys if k not in store]:
                state.gis_api_cache_keys.pop(old, None)
            state.gis_api_cache_keys.pop(key, None)
        return value


def parse_day(value: str | None, name: str = "as_of") -> dt.date | None:
    """A day from a query (the one day parser, :func:`gis.core.clearance.values.parse_day`)."""
    from gis.core.clearance.values import parse_day as parse

    return parse(value, name)


class _OneProject:
    """A read-only view of a store as if it held one project (its boundary, sheet rows and
    status history): the district report of that view is the project's report, wards included."""

    def __init__(self, store: Store, project_id: str) -> None:
        self._store = store
        self._project = project_id

    def has(self, kind: str) -> bool:
        return bool(self._store.has(kind))

    def read(self, kind: str, **kwargs: Any) -> gpd.GeoDataFrame:
        frame = self._store.read(kind, **kwargs)
        if kind == "projects":
            frame = frame[frame["project_id"].astype(str) == self._project].reset_index(drop=True)
        return frame

    def layer_info(self, kind: str) -> Any:
        return self._store.layer_info(kind)

    def query(self, kind: str, q: Any) -> Any:
        return self._store.query(kind, q)

    def read_table(self, name: str) -> pd.DataFrame:
        frame = self._store.read_table(name)
        if name in ("clearance_records", "clearance_events") and "project_id" in frame:
            frame = frame[frame["project_id"].astype(str) == self._project].reset_index(drop=True)
        return frame


class _InUnits:
    """A read-only view of a store as if it held only some 2025 units (an officer's scope):
    their parcels, the projects meeting them (:mod:`gis.api.scope`) and the units themselves;
    a project's figures then count only the parcels of these units."""

    def __init__(self, store: Any, units: tuple[str, ...]) -> None:
        self._store = store
        self._units = units

    def has(self, kind: str) -> bool:
        return bool(self._store.has(kind))

    def _keep(self, kind: str, frame: Any) -> Any:
        from gis.api.scope import RowFilter, row_filter

        if kind in ("parcels", "units") and "unit_code" in frame:
            found: RowFilter | None = RowFilter("unit_code", self._units)
        elif kind == "projects":
            real = getattr(self._store, "_store", self._store)
            from gis.api.auth.security import Role, User

            found = row_filter(real, "projects", User("scope", Role.VIEWER, self._units))
        else:
            return frame
        if found is None or found.column not in frame:
            return frame
        return frame[found.mask(frame[found.column])].reset_index(drop=True)

    def read(self, kind: str, **kwargs: Any) -> gpd.GeoDataFrame:
        return self._keep(kind, self._store.read(kind, **kwargs))

    def layer_info(self, kind: str) -> Any:
        return self._store.layer_info(kind)

    def query(self, kind: str, q: Any) -> Any:
        if kind == "parcels" and self._store.layer_info("parcels").field("unit_code"):
            import dataclasses

            q = dataclasses.replace(q, units=self._units)
        return self._store.query(kind, q)

    def read_table(self, name: str) -> pd.DataFrame:
        """Sheet rows and status history of the units' parcels only: a row of another unit's
        parcel (or of a parcel not in the store) would show in the officer's anomalies."""
        frame = self._store.read_table(name)
        if name in ("clearance_records", "clearance_events") and "parcel_key" in frame:
            mine = self._parcel_keys()
            frame = frame[frame["parcel_key"].astype(str).isin(mine).to_numpy()]
            frame = frame.reset_index(drop=True)
        return frame

    def _parcel_keys(self) -> set[str]:
        from gis.api.auth.security import Role, User
        from gis.api.scope import row_filter
        from gis.store.query import LayerQuery

        real = getattr(self._store, "_store", self._store)
        if not real.has("parcels"):
            return set()
        found = row_filter(real, "parcels", User("scope", Role.VIEWER, self._units))
        if found is None or found.column != "unit_code":
            return set(found.values) if found is not None else set()
        rows = real.query("parcels", LayerQuery(units=self._units, columns=("parcel_key",),
                                                with_geometry=False))
        return {str(k) for k in rows.values["parcel_key"]} if len(rows) else set()

    def change_token(self, kind: str | None = None) -> str:
        return str(self._store.change_token(kind) if kind else self._store.change_token())

    def crs(self) -> Any:
        return self._store.crs()


def project_ids(store: Store) -> list[str]:
    """The project ids of the store (empty without a projects layer)."""
    if not store.has("projects"):
        return []
    return sorted(store.read("projects", columns=["project_id"])["project_id"].astype(str))


def clearance_run(state: Any, store: Store, *, as_of: dt.date | None = None,
                  project: str | None = None,
                  units: tuple[str, ...] | None = None):  # type: ignore[no-untyped-def]
    """The clearance run (progress, overlay, summary) as ``gis clearance report`` computes it,
    without writing back; for one project when ``project`` is given (404 if unknown); of some
    2025 ``units`` only (an officer's scope; None: the whole store)."""
    from gis.clearance import run_clearance

    if project is not None and project not in project_ids(store):
        raise NotFoundError(f"no project {project!r}; known: {', '.join(project_ids(store))}",
                            field="project", value=project)
    key = ("clearance", repr(store), store.change_token(),
           as_of.isoformat() if as_of else None, dt.date.today().isoformat(), project,
           None if units is None else ",".join(sorted(units)))
    view: Any = store if project is None else _OneProject(store, project)
    if units is not None:
        view = _InUnits(view, tuple(sorted(units)))
    return cached(state, key, lambda: run_clearance(view, as_of=as_of, write_back=False))


def clearance_pairs(state: Any, store: Store,
                    units: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """Every parcel × project pair with its project part (geometry) and today's status: what
    ``gis clearance report`` writes to ``project_parcels``, computed fresh (dates as ISO text)."""
    run = clearance_run(state, store, units=units)
    overlay = run.overlay.pairs
    pairs = overlay.merge(run.progress.parcels.drop(columns=["ward_code", "overlap_m2"]),
                          on=["project_id", "parcel_key"], how="left")
    pairs["as_of"] = run.progress.as_of.isoformat()
    for column in pairs.columns:
        if pd.api.types.is_datetime64_any_dtype(pairs[column]):
            pairs[column] = pairs[column].dt.strftime("%Y-%m-%d").astype("string")
    return gpd.GeoDataFrame(pairs, geometry="geometry", crs=overlay.crs or store.crs())
