"""Structured reads and change tokens of the PostGIS store (the protocol's read block): a
:class:`~gis.store.query.LayerQuery` becomes one SQL statement with bound parameters and
quoted names taken from the layer's own registry, answered by PostgreSQL (GiST index for the
box, ``ST_Intersects`` for an exact area). The page and its ``numberMatched`` come from one
``REPEATABLE READ`` snapshot; :func:`scan` streams a server-side cursor.

Change tokens: every write transaction bumps a version row per table it writes (and the
store's own, ``*``) in ``gis_changes``; a token is that number, so every worker on every
machine sees a change at its next request (one primary-key read).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gis.errors import QueryError, StoreError
from gis.store.postgis import _ident
from gis.store.query import (
    ABSENT,
    KEY_COLUMNS,
    FieldInfo,
    LayerInfo,
    LayerQuery,
    QueryResult,
)

if TYPE_CHECKING:
    from gis.store.postgis import PostGISStore

__all__ = ["query", "scan", "layer_info", "distinct", "change_token", "bump", "CHANGES"]

CHANGES = "gis_changes"
#: the store's own version row (any write)
STORE_ROW = "*"
_FIELD_TYPES = {"int": "integer", "Int": "integer", "float": "number", "bool": "boolean",
                "boolean": "boolean", "datetime": "date-time", "datetimetz": "date-time"}


def bump(store: PostGISStore, con: Any, names: Sequence[str]) -> None:
    """Inside a write transaction: the versions of ``names`` and of the store go up by one."""
    table = store._t(CHANGES)
    for name in (*dict.fromkeys(names), STORE_ROW):
        con.execute(f"INSERT INTO {table} AS c (name, version) VALUES (%s, 1) "
                    "ON CONFLICT (name) DO UPDATE SET version = c.version + 1", (name,))


def change_token(store: PostGISStore, kind: str | None = None) -> str:
    """``v:<n>`` for the store or a layer (``ABSENT`` for a layer the store does not have)."""
    with store._connection() as con:
        if kind is not None:
            known = con.execute(f"SELECT 1 FROM {store._t('gis_layers')} WHERE name = %s",
                                (kind,)).fetchone()
            if known is None:
                return ABSENT
        row = con.execute(f"SELECT version FROM {store._t(CHANGES)} WHERE name = %s",
                          (STORE_ROW if kind is None else kind,)).fetchone()
    return f"v:{row[0] if row else 0}"


def _fields(dtypes: dict[str, str]) -> tuple[FieldInfo, ...]:
    return tuple(FieldInfo(n, _FIELD_TYPES.get(t, "string")) for n, t in dtypes.items())


def _layer(store: PostGISStore, kind: str) -> tuple[bool, dict[str, str], str | None]:
    """(spatial, dtypes, geometry type) of a layer; StoreError when there is none."""
    registry = store._registry_full()
    if kind not in registry:
        raise StoreError(f"the store has no layer {kind!r}; it has: "
                         f"{', '.join(sorted(registry)) or 'nothing yet'}", path=store.path,
                         layer=kind)
    return registry[kind]


def _check(kind: str, dtypes: dict[str, str], spatial: bool, q: LayerQuery) -> None:
    for name in q.named_columns():
        if name not in dtypes:
            raise QueryError(f"layer {kind} has no column {name!r}; its columns: "
                             f"{', '.join(dtypes)}", layer=kind, field=name)
    if q.keys is not None and kind not in KEY_COLUMNS:
        raise QueryError(f"layer {kind} has no key column; filter with equals", layer=kind)
    if q.keys is not None and KEY_COLUMNS[kind] not in dtypes:
        raise QueryError(f"layer {kind} has no column {KEY_COLUMNS[kind]!r}", layer=kind)
    if q.area is not None and not spatial:
        raise QueryError(f"{kind} has no geometry to filter by area", layer=kind)
    if (q.limit is not None and q.limit < 0) or q.offset < 0:
        raise QueryError("limit and offset cannot be negative", layer=kind)


def _where(store: PostGISStore, kind: str, dtypes: dict[str, str], spatial: bool,
           q: LayerQuery) -> tuple[str, list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    if q.bbox is not None and spatial:
        from gis.store.postgis import box_filter

        sql_box, box_params = box_filter(q.bbox, store.geometry_srid())
        conditions.append(sql_box)
        params += box_params
    if q.area is not None and spatial:
        conditions.append("ST_Intersects(geom, ST_GeomFromWKB(%s, %s))")  # a constant: GiST
        params += [shapely.to_wkb(q.area), store.geometry_srid()]
    for column, values in (("ward_code", q.wards), ("unit_code", q.units),
                           (KEY_COLUMNS.get(kind, ""), q.keys),
                           ("fid", q.fids)):
        if values is None:
            continue
        conditions.append(f"{_ident(column)} = ANY(%s)")
        params.append(list(values))
    for name, value in q.equals:
        if value is None or (isinstance(value, float) and value != value):
            conditions.append(f"{_ident(name)} IS NULL")
            continue
        conditions.append(f"{_ident(name)} = %s")
        value = value.item() if hasattr(value, "item") else value
        if dtypes.get(name) in {"bool", "boolean"} and isinstance(value, int):
            value = bool(value)  # 1/0 (what SQLite stores) for a PostgreSQL boolean
        params.append(value)
    return (" AND ".join(conditions) if conditions else "TRUE"), params


def _statement(store: PostGISStore, kind: str, dtypes: dict[str, str], spatial: bool,
               q: LayerQuery) -> tuple[str, list[Any], list[str], bool]:
    names = list(dtypes) if q.columns is None else list(q.columns)
    geometry = q.with_geometry and spatial
    picked = ["fid", *(["ST_AsBinary(geom)"] if geometry else []), *map(_ident, names)]
    where, params = _where(store, kind, dtypes, spatial, q)
    order = [f"{_ident(o.lstrip('-'))} {'DESC' if o.startswith('-') else 'ASC'}"
             for o in q.order_by] + ["fid"]
    sql = (f"SELECT {', '.join(picked)} FROM {store._t(kind)} WHERE {where} "
           f"ORDER BY {', '.join(order)}"
           + (" LIMIT %s" if q.limit is not None else "") + " OFFSET %s")
    params += ([q.limit] if q.limit is not None else []) + [q.offset]
    return sql, params, names, geometry


def _result(rows: list[tuple[Any, ...]], names: list[str], dtypes: dict[str, str],
            geometry: bool, crs: Any, matched: int | None) -> QueryResult:
    columns = list(zip(*rows)) if rows else [()] * (1 + geometry + len(names))
    start = 2 if geometry else 1
    types = {n: _FIELD_TYPES.get(dtypes[n], "string") for n in names}
    values: dict[str, Sequence[Any]] = {n: list(columns[start + i]) for i, n in enumerate(names)}
    geoms = None
    if geometry:
        geoms = shapely.from_wkb(np.array(columns[1], dtype=object)) if rows else \
            np.array([], dtype=object)
        if len(geoms):
            geoms[shapely.is_empty(geoms)] = None
    return QueryResult(matched, types, np.array(columns[0], dtype=np.int64), values, geoms, crs)


def query(store: PostGISStore, kind: str, q: LayerQuery) -> QueryResult:
    """The rows ``q`` selects, with ``numberMatched`` from the same snapshot when asked."""
    spatial, dtypes, _ = _layer(store, kind)
    _check(kind, dtypes, spatial, q)
    sql, params, names, geometry = _statement(store, kind, dtypes, spatial, q)
    crs = store.crs() if geometry else None
    try:
        with store._connection() as con, con.transaction():
            if store._con is None:  # page and count from one snapshot (inside a writer's
                con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # own: it is)
            rows = con.execute(sql, params).fetchall()
            matched = None
            if q.count:
                where, where_params = _where(store, kind, dtypes, spatial, q)
                matched = int(con.execute(f"SELECT count(*) FROM {store._t(kind)} WHERE {where}",
                                          where_params).fetchone()[0])
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot read: {str(exc).strip().splitlines()[0]}", path=store.path,
                         layer=kind) from None
    return _result(rows, names, dtypes, geometry, crs, matched)


def scan(store: PostGISStore, kind: str, q: LayerQuery, batch_size: int
         ) -> Iterator[QueryResult]:
    """The rows ``q`` selects in frames of ``batch_size``, from a server-side cursor."""
    spatial, dtypes, _ = _layer(store, kind)
    _check(kind, dtypes, spatial, q)
    sql, params, names, geometry = _statement(store, kind, dtypes, spatial, q)
    crs = store.crs() if geometry else None
    with store._connection() as con, con.transaction():
        with con.cursor(name=f"scan_{uuid.uuid4().hex[:12]}") as cursor:
            cursor.execute(sql, params)
            while True:
                rows = cursor.fetchmany(batch_size)
                if not rows:
                    return
                yield _result(rows, names, dtypes, geometry, crs, None)


def layer_info(store: PostGISStore, kind: str) -> LayerInfo:
    """Fields and types, geometry type, count, extent and CRS of a layer."""
    spatial, dtypes, gtype = _layer(store, kind)
    extent: tuple[float, float, float, float] | None = None
    with store._connection() as con:  # one scan for both
        if spatial:
            row = con.execute(f"SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                              f"(SELECT count(*) AS n, ST_Extent(geom) AS e FROM "
                              f"{store._t(kind)}) x").fetchone()
            count = int(row[0])
            if row[1] is not None:
                extent = (float(row[1]), float(row[2]), float(row[3]), float(row[4]))
        else:
            count = int(con.execute(f"SELECT count(*) FROM {store._t(kind)}").fetchone()[0])
    return LayerInfo(kind, _fields(dtypes), gtype if spatial else None, count, extent,
                     store.crs() if spatial else None)


def distinct(store: PostGISStore, kind: str, column: str, limit: int | None) -> list[Any]:
    """The distinct non-null values of a column, in order, at most ``limit``."""
    _, dtypes, _ = _layer(store, kind)
    if column not in dtypes:
        raise QueryError(f"layer {kind} has no column {column!r}; its columns: "
                         f"{', '.join(dtypes)}", layer=kind, field=column)
    sql = (f"SELECT DISTINCT {_ident(column)} FROM {store._t(kind)} WHERE {_ident(column)} "
           f"IS NOT NULL ORDER BY 1" + (" LIMIT %s" if limit is not None else ""))
    with store._connection() as con:
        return [r[0] for r in con.execute(sql, [limit] if limit is not None else [])]
