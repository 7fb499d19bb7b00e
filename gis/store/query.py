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

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["ABSENT", "NO_STORE", "FieldInfo", "LayerInfo", "LayerQuery", "QueryResult", "KEY_COLUMNS", "FIELD_TYPES",
           "plain_values"]

#: The key column of each layer (what :attr:`LayerQuery.keys` matches).
KEY_COLUMNS = {"parcels": "parcel_key", "projects": "project_id", "buildings": "building_id",
               "wards": "ward_code", "violation_cases": "case_id", "project_parcels": "parcel_key"}
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
    geometry itself intersects it, decided exactly, as OGC API – Features asks), ``wards`` (``ward_code`` in …), ``keys`` (the layer's key column, :data:`KEY_COLUMNS`,
    in …), ``fids`` (feature ids in …), ``equals`` (column = value for each pair; a mapping or
    pairs). An empty tuple of wards, keys or fids matches nothing; None does not filter.

    ``columns`` (None: all) and ``with_geometry`` choose what is read; ``order_by`` names
    columns, ``-name`` for descending, and the feature id always breaks ties, so pages of the
    same query never repeat or miss a row. ``count`` asks for the number of all matches
    (``numberMatched``) from the same snapshot as the page.
    """

    bbox: BBox | None = None
    area: Any = None
    wards: tuple[str, ...] | None = None
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
        for name in ("wards", "keys", "columns"):
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
        return names


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
    """The rows of a query (a GeoDataFrame when the geometry was asked for, else a DataFrame;
    index ``fid``), the number of all matches when :attr:`LayerQuery.count` was set (else
    None) and the types of the columns read."""

    frame: pd.DataFrame
    matched: int | None
    types: dict[str, str] = field(default_factory=dict)

    def records(self, columns: list[str] | None = None) -> list[tuple[Any, ...]]:
        """Rows as tuples of plain Python values (None for missing, integers as ``int``)."""
        names = list(columns if columns is not None else self.types)
        cols = [plain_values(self.frame[n], self.types.get(n, "string")) for n in names]
        return list(zip(*cols)) if cols else [() for _ in range(len(self.frame))]


def plain_values(series: pd.Series, kind: str = "string") -> list[Any]:
    """A column as plain Python values of its field type: None for missing (NaN, NA, None),
    ``int`` for integers (also when a NULL made the column float), ``bool`` for booleans."""
    values = series.tolist()
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
