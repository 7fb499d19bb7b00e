"""Structured reads of a store layer: what callers ask (:class:`LayerQuery`) and what they get
(:class:`QueryResult`, :class:`LayerInfo`). Callers never write SQL; each backend turns a query
into its own (bound parameters, quoted names taken from the layer's own schema).

Frames follow the conventions of :meth:`Store.read`: the geometry column ``geometry`` in the
store CRS (None for NULL or empty geometries), text as pandas' string dtype, integers as
``int64`` (``float64`` when the page has NULLs), reals as ``float64``, booleans as ``bool``
(objects when the page has NULLs); DATE and DATETIME columns come as the ISO text stored. The
index is the store's feature id, named ``fid``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["ABSENT", "NO_STORE", "FIELD_TYPES", "KEY_COLUMNS", "FieldInfo", "LayerInfo",
           "LayerQuery", "QueryResult", "TileQuery", "column_array", "plain_values"]

#: The key column of each layer (what :attr:`LayerQuery.keys` matches).
KEY_COLUMNS = {"parcels": "parcel_key", "projects": "project_id", "buildings": "building_id",
               "wards": "ward_code", "violation_cases": "case_id", "project_parcels": "parcel_key",
               "clearance_projects": "project_id"}
#: The change token of a layer the store does not have (:meth:`Store.change_token`).
ABSENT = "absent"
#: The change token of a store that does not exist (yet) (:meth:`Store.change_token`).
NO_STORE = "no-store"
#: The types a field can have (JSON Schema's names; dates as text).
FIELD_TYPES = ("integer", "number", "boolean", "string", "date", "date-time")

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class LayerQuery:
    """Which rows and columns of a layer, in which order, which page.

    Filters combine with AND: ``bbox`` (store CRS; the feature's envelope meets the box, as
    :meth:`Store.read` and GDAL filter), ``area`` (a shapely geometry in the store CRS; the
    geometry itself intersects it, decided exactly, as OGC API – Features asks), ``wards`` (``ward_code`` in …), ``units`` (``unit_code`` in …: a
    user's scope), ``keys`` (the layer's key column, :data:`KEY_COLUMNS`,
    in …), ``fids`` (feature ids in …), ``equals`` (column = value for each pair; a mapping or
    pairs). An empty tuple of wards, units, keys or fids matches nothing; None does not filter.

    ``columns`` (None: all) and ``with_geometry`` choose what is read; ``order_by`` names
    columns, ``-name`` for descending, and the feature id always breaks ties, so pages of the
    same query never repeat or miss a row. ``count`` asks for the number of all matches
    (``numberMatched``) from the same snapshot as the page.
    """

    bbox: BBox | None = None
    area: Any = None
    wards: tuple[str, ...] | None = None
    units: tuple[str, ...] | None = None
    keys: tuple[str, ...] | None = None
    fids: tuple[int, ...] | None = None
    equals: tuple[tuple[str, Any], ...] = ()
    columns: tuple[str, ...] | None = None
    with_geometry: bool = True
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    offset: int = 0
    count: bool = False

    def __post_init__(self) -> None:
        # lists and mappings are taken as given, then frozen into tuples
        if isinstance(self.equals, Mapping):
            object.__setattr__(self, "equals", tuple(self.equals.items()))
        else:
            object.__setattr__(self, "equals", tuple(tuple(p) for p in self.equals))
        for name in ("wards", "units", "keys", "columns"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(str(v) for v in value))
        if self.fids is not None:
            object.__setattr__(self, "fids", tuple(int(v) for v in self.fids))
        if isinstance(self.order_by, str):
            object.__setattr__(self, "order_by", (self.order_by,))
        elif not isinstance(self.order_by, tuple):
            object.__setattr__(self, "order_by", tuple(self.order_by))
        if self.bbox is not None:
            object.__setattr__(self, "bbox", tuple(float(v) for v in self.bbox))

    def named_columns(self) -> list[str]:
        """Every column the query names (to check against the layer)."""
        names = [n for n, _ in self.equals] + [o.lstrip("-") for o in self.order_by]
        names += list(self.columns or ())
        if self.wards is not None:
            names.append("ward_code")
        if self.units is not None:
            names.append("unit_code")
        return names


@dataclass(frozen=True)
class TileQuery:
    """One Mapbox vector tile of a layer, for a store that makes tiles itself
    (:meth:`Store.vector_tile`).

    ``z``/``x``/``y`` is the Web Mercator XYZ tile; the tile layer is called ``name``; its
    features carry the feature id and the ``columns`` the layer has (others are left out), and
    only rows whose ``where`` columns hold one of the accepted values. Display rules as the
    service's own encoder: ``extent`` units across, ``buffer`` units around, features smaller
    than ``min_units`` across left out (points never), at most ``max_features`` (the largest).
    VN-2000 goes to Web Mercator by the pinned EPSG:6960 parameters
    (:func:`gis.crs.pinned_proj4`), never the database's own choice of datum shift.
    """

    z: int
    x: int
    y: int
    name: str
    columns: tuple[str, ...] = ()
    where: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    extent: int = 4096
    buffer: int = 128
    min_units: float = 8.0
    max_features: int = 25_000

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "where", tuple((str(f), tuple(v)) for f, v in self.where))


@dataclass(frozen=True)
class FieldInfo:
    """An attribute column and its type (one of :data:`FIELD_TYPES`)."""

    name: str
    type: str


@dataclass(frozen=True)
class LayerInfo:
    """What a layer holds: its fields, geometry type (None for an attribute table), feature
    count, extent in the store CRS (None when empty or unknown) and CRS."""

    name: str
    fields: tuple[FieldInfo, ...]
    geometry_type: str | None
    count: int
    extent: BBox | None
    crs: Any = None

    def field(self, name: str) -> FieldInfo | None:
        """The field called ``name``, or None."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def types(self) -> dict[str, str]:
        """Field name → type."""
        return {f.name: f.type for f in self.fields}


@dataclass
class QueryResult:
    """The rows of a query: their feature ids, each column's values as read, the geometries
    (store CRS, None for NULL or empty; None when not asked for), the number of all matches
    when :attr:`LayerQuery.count` was set (else None) and the types of the columns read.

    :attr:`frame` builds the (Geo)DataFrame on first use (index ``fid``); :meth:`records` gives
    plain rows without pandas, which is what a page of JSON needs.
    """

    matched: int | None
    types: dict[str, str]
    fids: np.ndarray
    values: dict[str, Sequence[Any]] = field(repr=False)
    geometries: np.ndarray | None = field(default=None, repr=False)
    crs: Any = None

    def __len__(self) -> int:
        return len(self.fids)

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        """The rows as a GeoDataFrame (a DataFrame without geometry), index ``fid``, with the
        dtypes :meth:`Store.read` gives."""
        index = pd.Index(np.asarray(self.fids, dtype=np.int64), name="fid")
        data = {n: column_array(self.values[n], self.types[n]) for n in self.types}
        if self.geometries is None:
            return pd.DataFrame(data, index=index, columns=list(self.types))
        # the geometry array carries the CRS: no CRS comparison while building the frame
        data["geometry"] = gpd.array.from_shapely(self.geometries, crs=self.crs)
        return gpd.GeoDataFrame(pd.DataFrame(data, index=index), geometry="geometry")

    def records(self, columns: list[str] | None = None) -> list[tuple[Any, ...]]:
        """Rows as tuples of plain Python values (None for missing, ``bool`` for booleans)."""
        names = list(columns if columns is not None else self.types)
        cols = [plain_values(self.values[n], self.types.get(n, "string")) for n in names]
        return list(zip(*cols)) if cols else [() for _ in range(len(self.fids))]


def column_array(values: Sequence[Any], kind: str) -> Any:
    """Values of one column (plain Python values, None for NULL) as the array
    :meth:`Store.read` would give for a field of type ``kind``."""
    has_null = any(v is None for v in values)
    try:
        if kind == "integer":
            if has_null:
                return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            return np.array(values, dtype=np.int64)
        if kind == "number":
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        if kind == "boolean":
            if has_null:
                return np.array([None if v is None else bool(v) for v in values], dtype=object)
            return np.array(values, dtype=bool)
    except (TypeError, ValueError):  # a value of another type than declared (SQLite allows it)
        return np.array(values, dtype=object)
    if any(isinstance(v, (bytes, int, float)) for v in values):
        return np.array(values, dtype=object)
    return pd.array(list(values), dtype="str")


def plain_values(values: Any, kind: str = "string") -> list[Any]:
    """A column (a sequence, an array or a Series) as plain Python values of its field type:
    None for missing (NaN, NA, None), ``int`` for integers (also when a NULL made the column
    float), ``bool`` for booleans."""
    if hasattr(values, "tolist"):
        values = values.tolist()
    out: list[Any] = []
    for v in values:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif kind == "integer" and isinstance(v, float):
            out.append(int(v))
        elif kind == "boolean":
            out.append(bool(v))
        elif hasattr(v, "item"):
            out.append(v.item())
        else:
            out.append(v)
    return out
