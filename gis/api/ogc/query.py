"""What the OGC API reads, through the store's structured reads (:meth:`Store.query`,
:meth:`Store.layer_info`, :meth:`Store.distinct`): no SQL and no file here.

A page of items is one :class:`~gis.store.query.LayerQuery` with ``count``: the store answers
the page and ``numberMatched`` from one snapshot, so they agree even while an inspector writes.
Property filters are equalities on published columns (values already converted to the column's
type); a bounding area is "geometry intersects the area", decided exactly by the store (its
R-tree narrows the candidates). A layer's schema, count and extent are kept per change token
of its table, so collection pages do not count 100 000 parcels on every request.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from cachetools import LRUCache
from pyproj import CRS

from gis.api.scope import row_filter
from gis.errors import StoreError
from gis.store.base import Store
from gis.store.query import ABSENT, NO_STORE, LayerInfo, LayerQuery

if TYPE_CHECKING:
    from gis.api.auth.security import User

__all__ = ["Column", "Layer", "Query", "Page", "StoreReader", "reading"]


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


@dataclass(frozen=True)
class Layer:
    """A spatial layer of the store as the OGC API publishes it."""

    table: str
    geometry_type: str
    columns: tuple[Column, ...]
    crs: CRS | None
    extent: tuple[float, float, float, float] | None
    count: int

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Query:
    """Which features: equalities on columns (already typed), an area in the store CRS, or
    one feature id."""

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


# (store, table, change token) → the layer: schema, count and extent of that version
_LAYERS: LRUCache[tuple[str, str, str], Layer] = LRUCache(maxsize=64)
_LAYERS_LOCK = threading.Lock()


def _layer(info: LayerInfo) -> Layer:
    return Layer(info.name, info.geometry_type or "GEOMETRY",
                 tuple(Column(f.name, f.type) for f in info.fields), info.crs, info.extent,
                 info.count)


class StoreReader:
    """The OGC API's reads of one store (use :func:`reading`)."""

    def __init__(self, store: Store, user: User | None = None) -> None:
        self.store = store
        self.user = user  # whose scope limits every count and page (None: everything)

    def _scope(self, layer: Layer) -> dict[str, Any]:
        """The user's scope as LayerQuery arguments (nothing for a whole-store user)."""
        found = row_filter(self.store, layer.table, self.user)
        return found.query() if found is not None else {}

    def layer(self, table: str) -> Layer | None:
        """The spatial layer ``table``, or None when the store has no such spatial layer."""
        token = self.store.change_token(table)
        if token == ABSENT:
            return None
        key = (repr(self.store), table, token)
        with _LAYERS_LOCK:
            found = _LAYERS.get(key)
        if found is None:
            info = self.store.layer_info(table)
            if info.geometry_type is None:
                return None
            found = _layer(info)
            with _LAYERS_LOCK:
                _LAYERS[key] = found
        return found

    def crs(self, layer: Layer) -> CRS:
        """The layer's CRS."""
        if layer.crs is None:
            raise StoreError(f"layer {layer.table} has an unknown CRS", layer=layer.table)
        return layer.crs

    def extent(self, layer: Layer) -> tuple[float, float, float, float] | None:
        """The layer's bounds in its CRS."""
        return layer.extent

    @staticmethod
    def _query(query: Query, **more: Any) -> LayerQuery:
        return LayerQuery(area=query.area, equals=query.equals,
                          fids=None if query.fid is None else (query.fid,), **more)

    def count(self, layer: Layer, query: Query) -> int:
        """How many features match."""
        scope = self._scope(layer)
        if query == Query() and not scope:
            return layer.count
        result = self.store.query(layer.table, self._query(query, columns=(),
                                                           with_geometry=False, limit=0,
                                                           count=True, **scope))
        return int(result.matched or 0)

    def page(self, layer: Layer, query: Query, columns: Sequence[Column], *, limit: int,
             offset: int) -> Page:
        """Up to ``limit`` features after ``offset`` (ordered by fid), and the match count."""
        names = tuple(c.name for c in columns)
        result = self.store.query(layer.table, self._query(
            query, columns=names, limit=limit, offset=offset, count=True,
            **self._scope(layer)))
        geoms = result.geometries if result.geometries is not None else \
            np.empty(0, dtype=object)
        return Page(int(result.matched or 0), result.fids.tolist(), geoms, tuple(columns),
                    result.records(list(names)))

    def distinct(self, layer: Layer, column: Column, *, most: int = 200) -> list[Any]:
        """The distinct values of a column (for the HTML filter form), at most ``most`` + 1
        (one more says "too many to list")."""
        return self.store.distinct(layer.table, column.name, limit=most + 1)


@contextlib.contextmanager
def reading(store: Store, user: User | None = None) -> Iterator[StoreReader]:
    """``with reading(store) as reader:`` — the OGC API's reads of the store (503 when there
    is no store yet)."""
    if store.change_token() == NO_STORE:
        raise StoreError("the store does not exist yet; load data first")
    yield StoreReader(store, user)
