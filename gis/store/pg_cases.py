"""Violation cases in the PostGIS store: the "violation cases" block of the Store protocol as
row-level SQL, each operation one transaction under the store's writers' lock.

The three tables are created with every known column the first time a case is written (and a
column a change sets that is not there yet is added in the same transaction), so inserts and
updates never rewrite a table. Case ids are allocated inside the transaction; an update reads
each case ``FOR UPDATE`` and lets the caller decide from it, so two officers changing one case
(on two machines) never lose an update. Attachment files are kept content-addressed in the
store's attachments folder (``GIS_ATTACHMENTS_DIR``, a folder every worker can reach).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from gis.errors import CaseError
from gis.store.cases import (
    ATTACHMENT_COLUMNS,
    ATTACHMENTS,
    CASE_COLUMNS,
    CASE_NUMBERS,
    CASES,
    HISTORY,
    HISTORY_COLUMNS,
    CaseChange,
    CaseQuery,
    NewAttachment,
    NewCase,
    case_id,
    cases_frame,
    conform_attachments,
    conform_history,
    plain,
)
from gis.store.gpkg_cases import _changed, _duplicate
from gis.store.pg_reads import bump
from gis.store.postgis import GEOM, _ident, box_filter

if TYPE_CHECKING:
    from gis.store.postgis import PostGISStore

__all__ = ["read_cases", "case_history", "case_attachments", "insert_cases", "insert_cases_with",
           "update_cases", "add_attachment", "attachments_dir"]

#: pandas dtype family of every known case column (as the registry records it)
_CASE_TYPES = {c: ("float" if c in CASE_NUMBERS else "object") for c in CASE_COLUMNS}
_CASE_TYPES["fine_vnd"] = _CASE_TYPES["year_built"] = "Int"
_TABLES = {
    CASES: (_CASE_TYPES, True),
    HISTORY: (dict.fromkeys(HISTORY_COLUMNS, "object"), False),
    ATTACHMENTS: ({**dict.fromkeys(ATTACHMENT_COLUMNS, "object"), "size": "int"}, False),
}


def attachments_dir(store: PostGISStore) -> Path:
    """``GIS_ATTACHMENTS_DIR`` (shared by every machine), else ``<GIS_DATA_DIR>/attachments``,
    one folder per store schema."""
    root = os.environ.get("GIS_ATTACHMENTS_DIR") or \
        str(Path(os.environ.get("GIS_DATA_DIR", "data")) / "attachments")
    return Path(root) / store.schema


# -- reading ------------------------------------------------------------------------------------
def _select(store: PostGISStore, table: str, *, equal: Mapping[str, object],
            ids: Sequence[str] | None = None, bbox: tuple[float, float, float, float] | None = None,
            columns: Sequence[str] | None = None, geometry: bool = True) -> pd.DataFrame | None:
    from gis.store.pg_rows import frame_from_rows as _frame

    registry = store._registry()
    if table not in registry:
        return None
    spatial, dtypes = registry[table]
    wanted = [c for c in dtypes if columns is None or c in columns]
    select = [_ident(c) for c in wanted]
    with_geometry = spatial and geometry
    if with_geometry:
        select.append(f"ST_AsBinary({GEOM})")
    clauses, params = [], []
    for column, value in equal.items():
        if column not in dtypes:
            return _frame([], wanted, dtypes, with_geometry, store.crs())
        clauses.append(f"{_ident(column)} = %s")
        params.append(value)
    if ids is not None:
        clauses.append(f"{_ident('case_id')} = ANY(%s)")
        params.append(list(ids))
    if bbox is not None and spatial:
        sql_box, box_params = box_filter(bbox, store.geometry_srid())
        clauses.append(sql_box)
        params += box_params
    sql = (f"SELECT {', '.join(select) or 'NULL'} FROM {store._t(table)}"
           + (f" WHERE {' AND '.join(clauses)}" if clauses else "") + " ORDER BY fid")
    with store._connection() as con:
        rows = con.execute(sql, params).fetchall()
    return _frame(rows, wanted, dtypes, with_geometry, store.crs() if with_geometry else None)


def read_cases(store: PostGISStore, query: CaseQuery | None = None, *,
               columns: Sequence[str] | None = None, geometry: bool = True) -> gpd.GeoDataFrame:
    """Cases matching ``query`` (all without one), in the order they were recorded."""
    query = query or CaseQuery()
    wanted = list(CASE_COLUMNS) if columns is None else list(columns)
    frame = None
    if query.ids is None or query.ids:
        frame = _select(store, CASES, equal=query.equalities(), ids=query.ids, bbox=query.bbox,
                        columns=columns, geometry=geometry)
    return cases_frame(frame, wanted, geometry=geometry,
                       crs=store.crs)


def case_history(store: PostGISStore, case: str) -> pd.DataFrame:
    """The history lines of one case, oldest first."""
    frame = _select(store, HISTORY, equal={"case_id": case}, geometry=False)
    return conform_history(pd.DataFrame() if frame is None else frame)


def case_attachments(store: PostGISStore, case: str) -> pd.DataFrame:
    """The attachment rows of one case, in the order they were added."""
    frame = _select(store, ATTACHMENTS, equal={"case_id": case}, geometry=False)
    return conform_attachments(pd.DataFrame() if frame is None else frame)


# -- writing ------------------------------------------------------------------------------------
def _ensure(working: PostGISStore, con: Any, table: str, columns: Sequence[str] = ()) -> None:
    """Create ``table`` with its known columns if it is not there; add ``columns`` it lacks
    (as text), recording them in the registry. Inside the caller's transaction."""
    registry = working._registry()
    types, spatial = _TABLES[table]
    if table not in registry:
        empty = pd.DataFrame({c: pd.Series([], dtype={"float": "float64", "Int": "Int64",
                                                      "int": "int64"}.get(t, "object"))
                              for c, t in types.items()})
        if spatial:
            crs = working.crs()
            empty = gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        working._replace(con, table, empty)
        registry = working._registry()
    dtypes = dict(registry[table][1])
    missing = [c for c in columns if c not in dtypes and c not in ("fid", GEOM, "geometry")]
    for column in missing:
        con.execute(f"ALTER TABLE {working._t(table)} ADD COLUMN {_ident(column)} text")
        dtypes[column] = "object"
    if missing:
        con.execute(f"UPDATE {working._t('gis_layers')} SET dtypes = %s WHERE name = %s",
                    (json.dumps(dtypes), table))


def _insert_rows(working: PostGISStore, con: Any, table: str,
                 rows: Sequence[Mapping[str, object]], geometries: Sequence[Any] | None = None
                 ) -> None:
    if not rows:
        return
    _ensure(working, con, table, sorted({k for r in rows for k in r}))
    columns = list(dict.fromkeys(k for r in rows for k in r))
    targets = [_ident(c) for c in columns]
    values = "%s, " * len(columns)
    if geometries is not None:
        srid = working._registry_srid(con, table)
        targets.append(GEOM)
        sql = (f"INSERT INTO {working._t(table)} ({', '.join(targets)}) VALUES "
               f"({values}ST_SetSRID(ST_GeomFromWKB(%s), {srid}))")
        params = [[plain(r.get(c)) for c in columns] + [shapely.to_wkb(g)]
                  for r, g in zip(rows, geometries)]
    else:
        sql = (f"INSERT INTO {working._t(table)} ({', '.join(targets)}) "
               f"VALUES ({values.rstrip(', ')})")
        params = [[plain(r.get(c)) for c in columns] for r in rows]
    with con.cursor() as cur:
        cur.executemany(sql, params)
    bump(working, con, [table])


def _insert(working: PostGISStore, con: Any, cases: Sequence[NewCase], prefix: str) -> list[str]:
    if not cases:
        return []
    _ensure(working, con, CASES)
    last = con.execute(
        f"SELECT max(CAST(substr(case_id, %s) AS bigint)) FROM {working._t(CASES)} "
        "WHERE substr(case_id, 1, %s) = %s AND substr(case_id, %s) ~ '^[0-9]+$'",
        (len(prefix) + 1, len(prefix), prefix, len(prefix) + 1)).fetchone()[0]
    ids = [case_id(prefix, int(last or 0) + 1 + i) for i in range(len(cases))]
    rows = [{**{k: plain(v) for k, v in c.fields.items()}, "case_id": i}
            for c, i in zip(cases, ids)]
    con.execute(f"UPDATE {working._t('gis_layers')} SET geometry_type = 'GEOMETRY' "
                "WHERE name = %s AND geometry_type IS DISTINCT FROM 'GEOMETRY'", (CASES,))
    _insert_rows(working, con, CASES, rows, [c.geometry for c in cases])
    _insert_rows(working, con, HISTORY, [line.row(i) for c, i in zip(cases, ids)
                                         for line in c.history])
    return ids


def insert_cases(store: PostGISStore, cases: Sequence[NewCase], *, id_prefix: str) -> list[str]:
    """Insert cases with their history in one transaction; return their ids."""
    if not cases:
        return []
    with store._writing() as (con, working):
        return _insert(working, con, cases, id_prefix)


def insert_cases_with(store: PostGISStore, decide: Callable[[Any], Sequence[NewCase]], *,
                      id_prefix: str) -> list[str]:
    """Read-modify-write: ``decide`` reads the transaction's view under the writers' lock."""
    with store._writing() as (con, working):
        return _insert(working, con, list(decide(working)), id_prefix)


def update_cases(store: PostGISStore, case_ids: Sequence[str], change: CaseChange
                 ) -> list[dict[str, object]]:
    """Change cases, all or nothing; return the history lines written."""
    ids = list(dict.fromkeys(case_ids))
    with store._writing() as (con, working):
        registry = working._registry()
        if CASES not in registry:
            raise CaseError(f"no case {ids[0]!r}; nothing was changed" if ids else
                            "no case given", field="case_id", value=ids[0] if ids else None)
        columns = list(registry[CASES][1])
        select = ", ".join(_ident(c) for c in columns)
        decided: list[tuple[str, dict[str, object], list[dict[str, object]]]] = []
        for case in ids:
            found = con.execute(f"SELECT {select} FROM {working._t(CASES)} WHERE case_id = %s "
                                "FOR UPDATE", (case,)).fetchone()
            if found is None:
                raise CaseError(f"no case {case!r}; nothing was changed", field="case_id",
                                value=case)
            current = {c: plain(v) for c, v in zip(columns, found)}
            new, lines = change(current)
            decided.append((case, _changed(current, new), [dict(line) for line in lines]))
        _ensure(working, con, CASES, sorted({k for _, changed, _ in decided for k in changed}))
        history: list[dict[str, object]] = []
        for case, changed, lines in decided:
            if changed:
                bump(working, con, [CASES])
                assignments = ", ".join(f"{_ident(k)} = %s" for k in changed)
                con.execute(f"UPDATE {working._t(CASES)} SET {assignments} WHERE case_id = %s",
                            [*map(_sql_value, changed.values()), case])
            history.extend(lines)
        _insert_rows(working, con, HISTORY, [{k: line.get(k) for k in HISTORY_COLUMNS}
                                             for line in history])
        return history


def _sql_value(value: object) -> object:
    return plain(value)


def add_attachment(store: PostGISStore, attachment: NewAttachment) -> dict[str, object]:
    """Keep the file and its row (and the history line) for an existing case; refuse a file
    already attached to it (same SHA-256)."""
    a = attachment
    with store._writing() as (con, working):
        registry = working._registry()
        if CASES not in registry or con.execute(
                f"SELECT 1 FROM {working._t(CASES)} WHERE case_id = %s LIMIT 1",
                (a.case_id,)).fetchone() is None:
            raise CaseError(f"no case {a.case_id!r}", field="case_id", value=a.case_id)
        if ATTACHMENTS in registry and con.execute(
                f"SELECT 1 FROM {working._t(ATTACHMENTS)} WHERE case_id = %s AND sha256 = %s "
                "LIMIT 1", (a.case_id, a.sha256)).fetchone() is not None:
            raise _duplicate(a)
        target = attachments_dir(store) / a.stored_as
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
            tmp.write_bytes(a.data)
            os.replace(tmp, target)
        _insert_rows(working, con, ATTACHMENTS, [a.row()])
        if a.history is not None:
            _insert_rows(working, con, HISTORY, [a.history.row(a.case_id)])
        return a.row()
