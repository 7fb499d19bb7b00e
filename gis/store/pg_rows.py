"""Rows in and out of PostgreSQL for the PostGIS store: the column type of a pandas column,
the values COPY takes, and frames read back typed as the GeoPackage store's reads are (so that
callers see the same frames from either backend)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gis.errors import StoreError

__all__ = ["SQL_TYPES", "dtype_name", "column_values", "frame_from_rows", "copy_rows", "srid_of"]

#: pandas dtype family → PostgreSQL type
SQL_TYPES = {"int": "bigint", "Int": "bigint", "float": "double precision", "bool": "boolean",
              "boolean": "boolean", "datetime": "timestamp", "datetimetz": "timestamptz",
              "string": "text", "object": "text"}


def dtype_name(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean" if isinstance(dtype, pd.BooleanDtype) else "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "Int" if isinstance(dtype, pd.api.extensions.ExtensionDtype) else "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "datetimetz"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    return "object"


def column_values(series: pd.Series, kind: str) -> list[object]:
    """Python values for COPY: None for missing, plain ints/floats/bools, text otherwise."""
    out: list[object] = []
    for value in series.tolist():
        if value is None or (not isinstance(value, (str, bytes, list, dict)) and pd.isna(value)):
            out.append(None)
        elif kind in {"int", "Int"}:
            out.append(int(value))
        elif kind == "float":
            out.append(float(value))
        elif kind in {"bool", "boolean"}:
            out.append(bool(value))
        elif kind in {"datetime", "datetimetz"}:
            out.append(pd.Timestamp(value).to_pydatetime())
        elif isinstance(value, (dict, list)):
            out.append(json.dumps(value, ensure_ascii=False))
        elif hasattr(value, "isoformat"):
            out.append(value.isoformat())
        else:
            out.append(str(value))
    return out


def frame_from_rows(rows: list[tuple[Any, ...]], columns: list[str], dtypes: Mapping[str, str],
           spatial: bool, crs: CRS | None) -> gpd.GeoDataFrame:
    """The rows read back as a frame typed the way the GeoPackage store's reads are (GDAL's
    Arrow reader): whole numbers ``int64`` (``float64`` where some are missing, as Arrow does),
    text pandas' default string type with NaN for missing, true/false ``bool`` (``object``
    where some are missing), so that callers see the same frames from either backend."""
    data: dict[str, Any] = {}
    for i, column in enumerate(columns):
        values = [r[i] for r in rows]
        kind = dtypes[column]
        if kind in {"int", "Int"}:
            has_missing = any(v is None for v in values)
            data[column] = pd.Series(values, dtype="float64" if has_missing else "int64")
        elif kind == "float":
            data[column] = pd.Series(values, dtype="float64")
        elif kind in {"bool", "boolean"}:
            data[column] = pd.Series(values, dtype=object if None in values else bool)
        elif kind == "datetime":
            data[column] = pd.to_datetime(pd.Series(values, dtype=object))
        elif kind == "datetimetz":
            data[column] = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        else:
            data[column] = pd.Series(values, dtype="str")
    if not spatial:
        return pd.DataFrame(data, columns=columns)
    geometry = shapely.from_wkb([r[-1] for r in rows]) if rows else np.array([], dtype=object)
    return gpd.GeoDataFrame(pd.DataFrame(data, columns=columns), geometry=geometry, crs=crs)


def copy_rows(con: Any, table: str, frame: pd.DataFrame, dtypes: Mapping[str, str],
              targets: Sequence[str], *, srid: int | None) -> None:
    """COPY the rows of ``frame`` into ``table`` (a quoted, schema-qualified name): the
    columns of ``dtypes`` in their order into ``targets`` (their quoted names, then the
    geometry column's when ``srid`` is given: the geometry as EWKB of that SRID)."""
    if not len(frame):
        return
    values = [column_values(frame[c], dtypes[c]) if c in frame.columns else [None] * len(frame)
              for c in dtypes]
    if srid is not None:
        geoms = shapely.set_srid(np.asarray(frame.geometry.values), srid)
        values.append(list(shapely.to_wkb(geoms, hex=True, include_srid=True)))
    with con.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(targets)}) FROM STDIN") as copy:
        for row in zip(*values):
            copy.write_row(row)


def srid_of(crs: object) -> int:
    """The EPSG code of a layer's CRS, which a PostGIS geometry column needs."""
    epsg = CRS.from_user_input(crs).to_epsg() if crs is not None else None
    if not epsg:
        raise StoreError("a layer for the database needs a CRS with an EPSG code "
                         "(VN-2000 zones are EPSG:9205-9218, 5896-5899, 3405/3406)")
    return int(epsg)
