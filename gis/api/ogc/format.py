"""How features of the OGC API are written: GeoJSON text, JSON Schemas, values for HTML tables.

GeoJSON is assembled as text: geometries go through shapely's vectorised ``to_geojson`` (rings
oriented counter-clockwise, RFC 7946), properties through ``json.dumps``; a page of 10 000
parcels is one join of strings rather than 10 000 nested dicts serialised again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely

from gis.api.ogc.query import Column
from gis.core.clearance.values import format_number

__all__ = ["dumps", "features_json", "feature_json", "properties", "json_schema", "display"]


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 text as it is (Vietnamese stays readable)."""
    return _ENCODE(value)


def _value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.type == "boolean":
        return bool(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bytes, memoryview)):
        return None
    return value


def properties(columns: Sequence[Column], row: Sequence[Any]) -> dict[str, Any]:
    """A row as GeoJSON properties (booleans as true/false)."""
    return {c.name: _value(c, v) for c, v in zip(columns, row)}


def _geometries(geoms: np.ndarray) -> list[str]:
    if len(geoms) == 0:
        return []
    present = np.array([g is not None for g in geoms], dtype=bool)
    out = np.full(len(geoms), "null", dtype=object)
    if present.any():
        oriented = shapely.orient_polygons(geoms[present], exterior_cw=False)
        out[present] = shapely.to_geojson(oriented)
    return list(out)


def _properties_json(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> Iterable[str]:
    """Each row's properties as JSON text: only booleans need converting (SQLite gives 0/1);
    a value JSON cannot hold (infinity, bytes) sends that row through :func:`properties`."""
    names = [c.name for c in columns]
    flags = [i for i, c in enumerate(columns) if c.type == "boolean"]
    for row in rows:
        if flags:
            row = list(row)
            for i in flags:
                if row[i] is not None:
                    row[i] = bool(row[i])
        try:
            yield _ENCODE(dict(zip(names, row)))
        except (ValueError, TypeError):
            yield _ENCODE(properties(columns, row))


def features_json(ids: Sequence[str], geoms: np.ndarray, columns: Sequence[Column],
                  rows: Sequence[Sequence[Any]]) -> Iterable[str]:
    """The features of a page as GeoJSON text pieces (to be joined with ``,``)."""
    for fid, geom, props in zip(ids, _geometries(geoms), _properties_json(columns, rows)):
        yield f'{{"type":"Feature","id":{_ENCODE(fid)},"geometry":{geom},"properties":{props}}}'


def feature_json(fid: str, geom: Any, columns: Sequence[Column], row: Sequence[Any],
                 links: list[dict[str, str]]) -> str:
    """One feature with its links."""
    geometry = _geometries(np.array([geom], dtype=object))[0]
    return (f'{{"type":"Feature","id":{dumps(fid)},"geometry":{geometry},'
            f'"properties":{dumps(properties(columns, row))},"links":{dumps(links)}}}')


_SCHEMA_TYPES = {"integer": {"type": "integer"}, "number": {"type": "number"},
                 "boolean": {"type": "boolean"}, "string": {"type": "string"},
                 "date": {"type": "string", "format": "date"},
                 "date-time": {"type": "string", "format": "date-time"}}

_GEOMETRY_SCHEMA = {"Point": "https://geojson.org/schema/Point.json",
                    "Polygon": "https://geojson.org/schema/Polygon.json",
                    "MultiPolygon": "https://geojson.org/schema/MultiPolygon.json"}


def _schema_type(column: Column) -> dict[str, str]:
    """The JSON Schema type of a column. Amounts in đồng are "number": GDAL 3.6 and QGIS make a
    32-bit field of an "integer", and 2 363 158 000 đồng does not fit in one."""
    if column.type == "integer" and column.name.endswith("_vnd"):
        return {"type": "number"}
    return _SCHEMA_TYPES[column.type]


def json_schema(uri: str, title: str, columns: Sequence[Column], labels: dict[str, str], *,
                geometry_type: str, feature: bool) -> dict[str, Any]:
    """The JSON Schema of a collection: its queryables (``feature=False``, OGC API – Features
    Part 3) or the schema of its features (``feature=True``, linked as ``describedby`` so that
    GDAL gives each field its type)."""
    props = {c.name: {"title": labels.get(c.name, c.name), **_schema_type(c)} for c in columns}
    geom_type = geometry_type.title().replace("polygon", "Polygon")
    geometry = {"$ref": _GEOMETRY_SCHEMA[geom_type]} if geom_type in _GEOMETRY_SCHEMA else \
        {"type": "object"}
    base = {"$schema": "https://json-schema.org/draft/2019-09/schema", "$id": uri,
            "title": title, "type": "object"}
    if not feature:
        return {**base, "properties": {"geometry": {"format": "geometry-any", **geometry},
                                       **props}, "additionalProperties": False}
    return {**base, "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"type": "string"},
        "geometry": geometry,
        "properties": {"type": "object", "properties": props}}}


def display(column: Column, value: Any, lang: str, yes_no: tuple[str, str]) -> str:
    """A value as a planner reads it: Vietnamese number grouping (1.052,19), Có/Không."""
    value = _value(column, value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no[0] if value else yes_no[1]
    if isinstance(value, int) and column.type == "integer":
        if column.name.endswith(("_vnd", "_m2")):
            return format_number(value, lang)
        return str(value)
    if isinstance(value, float) and column.name == "share":
        return f"{format_number(value * 100, lang, 1)} %"
    if isinstance(value, float):
        digits = 0 if column.name.endswith("_vnd") else 2
        return format_number(value, lang, digits)
    return str(value)

