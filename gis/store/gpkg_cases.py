"""Violation cases in the GeoPackage store: :class:`gis.store.cases.CaseStore` for one file.

Row-level writes change the file in place, in one SQLite transaction under the writers' lock
(:meth:`GeoPackageStore.sql_transaction`): new cases (ids allocated inside the transaction, so
two processes never take the same), updates with their history lines (the current row is read
and the change decided inside the transaction, so two officers changing one case cannot lose an
update), attachments. When a table is not there yet, lacks a column, or declares a geometry
type that does not take the new geometry, the same operation runs once copy-on-write
(:meth:`GeoPackageStore.modify`), which creates or widens the table. Detection
(:func:`insert_cases_with`) is a read-modify-write of the working copy: what it decides from
(buildings, parcels, the cases already known) is read there, under the lock.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import CaseError, StoreError
from gis.store.cases import (
    ATTACHMENT_COLUMNS,
    ATTACHMENTS,
    CASE_COLUMNS,
    CASES,
    HISTORY,
    HISTORY_COLUMNS,
    CaseChange,
    CaseQuery,
    NewAttachment,
    NewCase,
    attachments_beside,
    case_id,
    cases_frame,
    conform_attachments,
    conform_history,
    next_case_ids,
    plain,
)
from gis.store.gpkg_sql import insert_features, layer_admits

if TYPE_CHECKING:
    from gis.store.geopackage import GeoPackageStore

__all__ = ["read_cases", "case_history", "case_attachments", "attachments_dir", "insert_cases",
           "insert_cases_with", "update_cases", "add_attachment"]

#: column types of ``violation_cases`` when it is (re)written whole
_WRITE_TYPES = {"area_m2": "float64", "fine_vnd": "Int64", "year_built": "Int64"}
_NOT_COLUMNS = frozenset({"fid", "geom", "geometry"})


# -- reading ---------------------------------------------------------------------------------
def _quote(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _where(pairs: Mapping[str, object], ids: Sequence[str] | None = None) -> str | None:
    parts = [f'"{column}" = {_quote(value)}' for column, value in pairs.items()]
    if ids is not None:
        parts.append(f"case_id IN ({', '.join(_quote(i) for i in ids)})")
    return " AND ".join(parts) or None


def _read(store: GeoPackageStore, table: str, *, where: str | None, geometry: bool,
          bbox: tuple[float, float, float, float] | None = None,
          columns: Sequence[str] | None = None) -> pd.DataFrame | None:
    """A filtered read of one table through GDAL (under the store's read lock); None when the
    table is not there."""
    try:
        frame: pd.DataFrame = store._retrying(lambda: pyogrio.read_dataframe(
            store.path, layer=table, where=where, bbox=bbox, read_geometry=geometry,
            columns=None if columns is None else list(columns), use_arrow=True))
        return frame
    except Exception as exc:
        if not store.path.exists() or not store.has(table):  # asked only on failure
            return None
        raise StoreError(f"cannot read: {exc}", path=store.path, layer=table) from None


def read_cases(store: GeoPackageStore, query: CaseQuery | None = None, *,
               columns: Sequence[str] | None = None, geometry: bool = True) -> gpd.GeoDataFrame:
    """Cases matching ``query`` (all without one), in the order they were recorded."""
    query = query or CaseQuery()
    wanted = list(CASE_COLUMNS) if columns is None else list(columns)
    frame = None
    if query.ids is None or query.ids:
        frame = _read(store, CASES, where=_where(query.equalities(), query.ids),
                      bbox=query.bbox, columns=columns, geometry=geometry)
    return cases_frame(frame, wanted, geometry=geometry,
                       crs=lambda: store.crs() if store.path.exists() else None)


def case_history(store: GeoPackageStore, case: str) -> pd.DataFrame:
    """The history lines of one case, oldest first."""
    frame = _read(store, HISTORY, where=_where({"case_id": case}), geometry=False)
    return conform_history(pd.DataFrame() if frame is None else frame)


def case_attachments(store: GeoPackageStore, case: str) -> pd.DataFrame:
    """The attachment rows of one case, in the order they were added."""
    frame = _read(store, ATTACHMENTS, where=_where({"case_id": case}), geometry=False)
    return conform_attachments(pd.DataFrame() if frame is None else frame)


def attachments_dir(store: GeoPackageStore) -> Path:
    """``<store>_attachments`` beside the store file."""
    return attachments_beside(store.path)


# -- row-level SQL in place -------------------------------------------------------------------
def _tables(con: sqlite3.Connection) -> dict[str, set[str]]:
    """The case tables present, with their columns."""
    names = [str(r[0]) for r in con.execute(
        "SELECT table_name FROM gpkg_contents WHERE table_name IN (?, ?, ?)",
        (CASES, HISTORY, ATTACHMENTS))]
    return {n: {str(r[1]) for r in con.execute(f'PRAGMA table_info("{n}")')} for n in names}


def _insert_rows(con: sqlite3.Connection, table: str, rows: Sequence[Mapping[str, object]]
                 ) -> None:
    """Insert attribute rows (no geometry) inside an open transaction; the table's last change
    in ``gpkg_contents`` follows (GDAL's triggers keep the feature count)."""
    for row in rows:
        names = ", ".join(f'"{n}"' for n in row)
        con.execute(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(row))})',
                    [plain(v) for v in row.values()])
    _touch(con, table)


def _touch(con: sqlite3.Connection, table: str) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, table))


def _insert_in_place(store: GeoPackageStore, cases: Sequence[NewCase], prefix: str
                     ) -> list[str] | None:
    """New cases as one SQLite transaction in place: the ids allocated under ``BEGIN
    IMMEDIATE`` and the writers' lock, the features inserted as GeoPackage geometry blobs (the
    R-tree follows by GDAL's triggers), the history lines. None when the tables are not there
    yet, lack a column, or declare a geometry type that does not take these geometries."""
    if not store.path.exists():
        return None
    with store.sql_transaction() as con:
        tables = _tables(con)
        if CASES not in tables or HISTORY not in tables \
                or not set(HISTORY_COLUMNS) <= tables[HISTORY]:
            return None
        rows = [{k: plain(v) for k, v in c.fields.items()} for c in cases]
        if any(not {"case_id", *row} <= tables[CASES] for row in rows) \
                or not layer_admits(con, CASES, [c.geometry for c in cases]):
            return None  # e.g. the first point in a layer of polygons: rewritten as GEOMETRY
        last = con.execute(f'SELECT max(CAST(substr(case_id, ?) AS INTEGER)) FROM "{CASES}" '
                           "WHERE substr(case_id, 1, ?) = ?",
                           (len(prefix) + 1, len(prefix), prefix)).fetchone()[0]
        ids = [case_id(prefix, int(last or 0) + 1 + i) for i in range(len(cases))]
        insert_features(con, CASES, [{**row, "case_id": i} for row, i in zip(rows, ids)],
                        [c.geometry for c in cases])
        _insert_rows(con, HISTORY, [line.row(i) for c, i in zip(cases, ids) for line in c.history])
        return ids


def _update_in_place(store: GeoPackageStore, ids: Sequence[str], change: CaseChange
                     ) -> list[dict[str, object]] | None:
    """Updates as row-level SQL in one transaction: every case read and its change decided
    first, then written (nothing if one is refused). None when the tables are not there or
    lack a column the change sets."""
    if not store.path.exists():
        return None
    with store.sql_transaction() as con:
        tables = _tables(con)
        if CASES not in tables or HISTORY not in tables \
                or not set(HISTORY_COLUMNS) <= tables[HISTORY]:
            return None
        columns = [c for c in tables[CASES] if c not in _NOT_COLUMNS]
        geometry = {str(r[0]) for r in con.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (CASES,))}
        columns = [c for c in columns if c not in geometry]
        select = ", ".join(f'"{c}"' for c in columns)
        decided: list[tuple[str, dict[str, object], list[dict[str, object]]]] = []
        for case in ids:
            found = con.execute(f'SELECT {select} FROM "{CASES}" WHERE case_id = ?',
                                (case,)).fetchone()
            if found is None:
                raise CaseError(f"no case {case!r}; nothing was changed", field="case_id",
                                value=case)
            current = dict(zip(columns, found))
            new, lines = change(current)
            changed = _changed(current, new)
            if not set(changed) <= set(columns):
                return None  # nothing written yet: the rewrite adds the column
            decided.append((case, changed, [dict(line) for line in lines]))
        history: list[dict[str, object]] = []
        for case, changed, lines in decided:
            if changed:
                assignments = ", ".join(f'"{k}" = ?' for k in changed)
                con.execute(f'UPDATE "{CASES}" SET {assignments} WHERE case_id = ?',
                            [*changed.values(), case])
            history.extend(lines)
        _touch(con, CASES)
        _insert_rows(con, HISTORY, [{k: line.get(k) for k in HISTORY_COLUMNS}
                                    for line in history])
        return history


def _changed(current: Mapping[str, object], new: Mapping[str, object]) -> dict[str, object]:
    """The columns of ``new`` whose value differs from ``current`` (plain values)."""
    out = {}
    for key, value in new.items():
        if key in _NOT_COLUMNS or key == "case_id":
            continue
        value = plain(value)
        if value != plain(current.get(key)):
            out[key] = value
    return out


def _store_file(store: GeoPackageStore, attachment: NewAttachment) -> None:
    """The file under its SHA-256 in the attachments folder (written once, atomically)."""
    target = attachments_dir(store) / attachment.stored_as
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(attachment.data)
    os.replace(tmp, target)


def _attach_in_place(store: GeoPackageStore, attachment: NewAttachment
                     ) -> dict[str, object] | None:
    if not store.path.exists():
        return None
    a = attachment
    with store.sql_transaction() as con:
        tables = _tables(con)
        if ATTACHMENTS not in tables or HISTORY not in tables or CASES not in tables \
                or not set(ATTACHMENT_COLUMNS) <= tables[ATTACHMENTS] \
                or not set(HISTORY_COLUMNS) <= tables[HISTORY]:
            return None
        if con.execute(f'SELECT 1 FROM "{CASES}" WHERE case_id = ? LIMIT 1',
                       (a.case_id,)).fetchone() is None:
            raise CaseError(f"no case {a.case_id!r}", field="case_id", value=a.case_id)
        if con.execute(f'SELECT 1 FROM "{ATTACHMENTS}" WHERE case_id = ? AND sha256 = ? LIMIT 1',
                       (a.case_id, a.sha256)).fetchone() is not None:
            raise _duplicate(a)
        _store_file(store, a)
        _insert_rows(con, ATTACHMENTS, [a.row()])
        if a.history is not None:
            _insert_rows(con, HISTORY, [a.history.row(a.case_id)])
        return a.row()


def _duplicate(a: NewAttachment) -> CaseError:
    return CaseError(f"{a.filename} is already attached to {a.case_id} (same SHA-256)",
                     field="attachment", value=a.filename)


# -- copy-on-write ----------------------------------------------------------------------------
def _typed(cases: pd.DataFrame) -> gpd.GeoDataFrame:
    """The case columns with the types they are written with (a column that was all empty
    would otherwise come back as text), in the order of :data:`CASE_COLUMNS` (a name right
    after its code), any others after them."""
    out = cases.copy()
    for column in CASE_COLUMNS:
        if column not in out.columns:
            out[column] = None
        if column in _WRITE_TYPES:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(_WRITE_TYPES[column])
        else:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    others = [c for c in out.columns if c not in CASE_COLUMNS]
    return out[[*CASE_COLUMNS, *others]]


def _all_history(working: GeoPackageStore) -> pd.DataFrame:
    frame = working.read_table(HISTORY)
    return frame if len(frame) else pd.DataFrame(columns=HISTORY_COLUMNS)


def _with_lines(working: GeoPackageStore, lines: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    new = pd.DataFrame([{k: plain(line.get(k)) for k in HISTORY_COLUMNS} for line in lines],
                       columns=HISTORY_COLUMNS)
    old = _all_history(working)
    return pd.concat([old, new], ignore_index=True) if len(old) else new


def _rewrite_insert(store: GeoPackageStore, decide: Callable[[Any], Sequence[NewCase]],
                    prefix: str) -> list[str]:
    ids: list[str] = []

    def change(working: GeoPackageStore) -> dict[str, pd.DataFrame]:
        new = list(decide(working))
        if not new:
            return {}
        cases = working.read_cases()
        allocated = next_case_ids(list(cases["case_id"]), prefix, len(new))
        rows = pd.DataFrame([{**{k: plain(v) for k, v in c.fields.items()}, "case_id": i}
                             for c, i in zip(new, allocated)])
        frame = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries([c.geometry for c in new]),
                                 crs=working.crs())
        if len(cases):
            frame = gpd.GeoDataFrame(pd.concat([cases, frame], ignore_index=True),
                                     geometry="geometry", crs=cases.crs or frame.crs)
        lines = [line.row(i) for c, i in zip(new, allocated) for line in c.history]
        ids.extend(allocated)
        return {CASES: _typed(frame), HISTORY: _with_lines(working, lines)}

    store.modify(change)
    return ids


def _rewrite_update(store: GeoPackageStore, ids: Sequence[str], change: CaseChange
                    ) -> list[dict[str, object]]:
    history: list[dict[str, object]] = []

    def rewrite(working: GeoPackageStore) -> dict[str, pd.DataFrame]:
        cases = working.read_cases()
        where = {str(c): i for i, c in zip(cases.index, cases["case_id"])}
        lines: list[dict[str, object]] = []
        for case in ids:
            if case not in where:
                raise CaseError(f"no case {case!r}; nothing was changed", field="case_id",
                                value=case)
            row = cases.loc[where[case]]
            current = {k: plain(v) for k, v in row.items() if k != "geometry"}
            new, decided = change(current)
            for key, value in _changed(current, new).items():
                if key not in cases.columns:
                    cases[key] = None
                cases[key] = cases[key].astype(object)
                cases.at[where[case], key] = value
            lines.extend(dict(line) for line in decided)
        history.extend(lines)
        return {CASES: _typed(cases), HISTORY: _with_lines(working, lines)}

    store.modify(rewrite)
    return history


def _rewrite_attach(store: GeoPackageStore, a: NewAttachment) -> dict[str, object]:
    def change(working: GeoPackageStore) -> dict[str, pd.DataFrame]:
        if not len(working.read_cases(CaseQuery(ids=(a.case_id,)), columns=["case_id"],
                                      geometry=False)):
            raise CaseError(f"no case {a.case_id!r}", field="case_id", value=a.case_id)
        table = working.read_table(ATTACHMENTS)
        if len(table) and ((table["case_id"] == a.case_id) & (table["sha256"] == a.sha256)).any():
            raise _duplicate(a)
        _store_file(store, a)
        row = pd.DataFrame([a.row()])
        out = {ATTACHMENTS: pd.concat([table, row], ignore_index=True) if len(table) else row}
        if a.history is not None:
            out[HISTORY] = _with_lines(working, [a.history.row(a.case_id)])
        return out

    store.modify(change)
    return a.row()


# -- the operations ---------------------------------------------------------------------------
def insert_cases(store: GeoPackageStore, cases: Sequence[NewCase], *, id_prefix: str
                 ) -> list[str]:
    """Insert cases with their history; return their ids (``<id_prefix>NNNNN``, allocated in
    the transaction)."""
    if not cases:
        return []
    ids = _insert_in_place(store, cases, id_prefix)
    if ids is not None:
        return ids
    return _rewrite_insert(store, lambda working: cases, id_prefix)  # creates or widens


def insert_cases_with(store: GeoPackageStore, decide: Callable[[Any], Sequence[NewCase]], *,
                      id_prefix: str) -> list[str]:
    """Read-modify-write: ``decide(working)`` reads the working copy under the writers' lock
    and returns the cases to insert, which are written with their history in the same
    transaction."""
    return _rewrite_insert(store, decide, id_prefix)


def update_cases(store: GeoPackageStore, case_ids: Sequence[str], change: CaseChange
                 ) -> list[dict[str, object]]:
    """Change cases, all or nothing; return the history lines written."""
    ids = list(dict.fromkeys(case_ids))
    lines = _update_in_place(store, ids, change)
    if lines is not None:
        return lines
    if not store.path.exists():
        raise CaseError(f"no case {ids[0]!r}; nothing was changed" if ids else "no case given",
                        field="case_id", value=ids[0] if ids else None)
    return _rewrite_update(store, ids, change)


def add_attachment(store: GeoPackageStore, attachment: NewAttachment) -> dict[str, object]:
    """Keep the file and its row (and the history line) for an existing case; refuse a file
    already attached to it (same SHA-256)."""
    row = _attach_in_place(store, attachment)
    if row is not None:
        return row
    if not store.path.exists():
        raise CaseError(f"no case {attachment.case_id!r}", field="case_id",
                        value=attachment.case_id)
    return _rewrite_attach(store, attachment)
