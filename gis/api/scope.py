"""Each officer in their own units: what of a layer a user's scope lets them see.

A user's scope is a set of 2025 commune-level unit codes (``User.units``; None: the whole
store, a province department). Rows are in scope by one rule per table, decided here once for
every route (maps, OGC API, exports, extracts, dashboard, cases, uploads):

- a table with ``unit_code`` (parcels, violation cases, the units themselves): the rows of the
  user's units;
- any other spatial table (legacy wards, projects, buildings): the rows whose geometry overlaps
  the scope's area in more than a boundary (the union of the scope's unit polygons, shrunk by
  5 cm so that a neighbour touching the boundary is not in; without a units layer, the union of
  the scope's parcels), named by the table's key column (``ward_code``, ``project_id``, …).

Records that are not rows of a layer — uploads and the lines of the ingest log — carry who made
them and the units they touch (:func:`sees_record`): an officer sees their own and those
touching only their units; a record touching another unit, or the whole store (wards, projects,
buildings layers), is the province's. Another unit's record asked for by id is refused (403),
as a case or an extract is.

The answer is a :class:`RowFilter` (a column and its accepted values), which every source
applies the same way: ``LayerQuery.units``/``keys``, ``TileQuery.where``, or a mask over a
frame held in memory. Filters are cached per store version and scope; their ``token`` goes into
cache keys and ETags, so two officers never share a tile or a 304.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from gis.store.query import KEY_COLUMNS, LayerQuery

if TYPE_CHECKING:
    from gis.api.auth.security import User
    from gis.store.base import Store

__all__ = ["RowFilter", "row_filter", "scope_area", "in_scope", "filter_frame",
           "require_in_scope", "sees_record", "require_record", "SHRINK"]

#: metres the scope's area is shrunk by, so that rows only touching its boundary stay out
SHRINK = 0.05
_CACHE: OrderedDict[tuple[object, ...], Any] = OrderedDict()
_LOCK = threading.Lock()
_MAX = 256


@dataclass(frozen=True)
class RowFilter:
    """The rows of a table a scope lets through: ``column`` holds one of ``values``."""

    column: str
    values: tuple[str, ...]

    @property
    def token(self) -> str:
        """A short digest for cache keys and ETags."""
        text = self.column + "\0" + "\0".join(self.values)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def mask(self, values: pd.Series | np.ndarray | None) -> np.ndarray:
        """Which of ``values`` (the column of a frame) pass (none when the column is absent)."""
        if values is None:
            return np.zeros(0, dtype=bool)
        series = pd.Series(np.asarray(values, dtype=object))
        return series.astype(str).isin(set(self.values)).to_numpy() & series.notna().to_numpy()

    def query(self) -> dict[str, tuple[str, ...]]:
        """The filter as :class:`~gis.store.query.LayerQuery` arguments."""
        if self.column == "unit_code":
            return {"units": self.values}
        return {"keys": self.values}

    def where(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The filter as :attr:`~gis.store.query.TileQuery.where` pairs."""
        return ((self.column, self.values),)


def _cached(key: tuple[object, ...], make: Any) -> Any:
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = make()
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _MAX:
            _CACHE.popitem(last=False)
    return value


def scope_area(store: Store, units: tuple[str, ...]) -> Any:
    """The area of some units in the store's CRS, shrunk by :data:`SHRINK`: their polygons
    in the units layer, else the union of their parcels (empty when neither is there)."""
    key = ("area", str(getattr(store, "path", id(store))), store.change_token("units"),
           store.change_token("parcels"), units)

    def make() -> Any:
        parts: list[Any] = []
        if store.has("units"):
            found = store.query("units", LayerQuery(units=units, columns=("unit_code",)))
            parts = list(found.frame.geometry.values)
        if not parts and store.has("parcels") and \
                store.layer_info("parcels").field("unit_code") is not None:
            found = store.query("parcels", LayerQuery(units=units, columns=("unit_code",)))
            parts = list(found.frame.geometry.values)
        parts = [g for g in parts if g is not None and not g.is_empty]
        if not parts:
            return shapely.Polygon()
        return shapely.union_all(np.asarray(parts, dtype=object)).buffer(-SHRINK)

    return _cached(key, make)


def _key_column(store: Store, table: str) -> str | None:
    name = KEY_COLUMNS.get(table)
    return name if name and store.layer_info(table).field(name) is not None else None


def row_filter(store: Store, table: str | None, user: User | None) -> RowFilter | None:
    """The rows of ``table`` the user may see (None: all of them, a whole-store user)."""
    if user is None or user.units is None:
        return None
    units = tuple(sorted(user.units))
    if table is None or not store.has(table):
        return RowFilter("unit_code", units)
    info = store.layer_info(table)
    if info.field("unit_code") is not None:
        return RowFilter("unit_code", units)
    column = _key_column(store, table)
    if column is None or info.geometry_type is None:
        return RowFilter(column or "unit_code", ())  # nothing of it can be shown to be theirs
    key = ("keys", str(getattr(store, "path", id(store))), table, store.change_token(table),
           store.change_token("units"), store.change_token("parcels"), units)

    def make() -> RowFilter:
        area = scope_area(store, units)
        if area.is_empty:
            return RowFilter(column, ())
        found = store.query(table, LayerQuery(area=area, columns=(column,), with_geometry=False))
        values = found.values[column] if len(found) else []
        return RowFilter(column, tuple(sorted({str(v) for v in values if v is not None})))

    result: RowFilter = _cached(key, make)
    return result


def in_scope(user: User | None, unit_code: object) -> bool:
    """Whether one row (of this ``unit_code``) is the user's."""
    return user is None or user.sees(unit_code)


def filter_frame(store: Store, table: str | None, frame: Any, user: User | None) -> Any:
    """The rows of a frame read from (or computed over) ``table`` that the user may see: by
    the table's :class:`RowFilter` when the frame has its column, else by the parcels of the
    scope (a frame of parcel parts), else by the scope's area."""
    found = row_filter(store, table, user)
    if found is None or frame is None or not len(frame):
        return frame
    if found.column in frame.columns:
        return frame[found.mask(frame[found.column])]
    units = tuple(sorted(user.units or ())) if user is not None else ()
    if "parcel_key" in frame.columns and store.has("parcels"):
        keys = row_filter(store, "parcels", user)
        if keys is not None and keys.column == "unit_code":
            mine = store.query("parcels", LayerQuery(units=units, columns=("parcel_key",),
                                                     with_geometry=False))
            wanted = {str(v) for v in mine.values["parcel_key"]} if len(mine) else set()
            return frame[frame["parcel_key"].astype(str).isin(wanted).to_numpy()]
    if "geometry" in frame.columns:
        area = scope_area(store, units)
        if area.is_empty:
            return frame.iloc[0:0]
        geoms = np.asarray(frame.geometry.values, dtype=object)
        return frame[shapely.intersects(geoms, area)]
    return frame.iloc[0:0]


def require_in_scope(user: User | None, unit_code: object, what: str) -> None:
    """Refuse (403) a record of a unit outside the user's scope: a parcel, a case, a drawing."""
    if user is None or user.sees(unit_code):
        return
    from fastapi import HTTPException

    from gis.text import N_, Message

    raise HTTPException(403, Message(
        N_("%(what)s lies outside your units (%(units)s)"),
        {"what": what, "units": ", ".join(user.units or ())}))


def sees_record(user: User | None, who: object, units: Sequence[str] | None) -> bool:
    """Whether a user sees a record made by ``who`` touching ``units`` (an upload, a line of
    the ingest log): a whole-store user every one; an officer their own, and those touching
    one or more units, all of them theirs (None or none: the whole store, or not known)."""
    if user is None or user.units is None or (who is not None and str(who) == user.name):
        return True
    return bool(units) and all(user.sees(u) for u in units or ())


def require_record(user: User | None, who: object, units: Sequence[str] | None,
                   what: str) -> None:
    """Refuse (403) a record the user does not see (:func:`sees_record`), naming its units."""
    if sees_record(user, who, units):
        return
    from fastapi import HTTPException

    from gis.text import N_, Message

    assert user is not None
    mine = ", ".join(user.units or ())
    theirs = ", ".join(u for u in units or () if not user.sees(u))
    if theirs:
        raise HTTPException(403, Message(
            N_("%(what)s touches units outside yours (%(units)s): %(theirs)s"),
            {"what": what, "units": mine, "theirs": theirs}))
    raise HTTPException(403, Message(
        N_("%(what)s concerns the whole store, the province department's (your units: "
           "%(units)s)"), {"what": what, "units": mine}))
