"""Violations: detect candidates by overlay, keep cases an inspector can work.

Orchestration over the store; the logic is in :mod:`gis.core.violations`. Every change to a case
is made inside the store's lock (read-modify-write), recorded in ``violation_history`` (who,
when, field, old → new), and cases are never deleted.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis import crs as crsmod
from gis.core.violations.cases import CaseStatus, apply_changes, overdue
from gis.core.violations.detect import describe, detect_candidates
from gis.core.violations.rules import KINDS, RuleSet, load_rules
from gis.errors import CaseError, StoreError
from gis.store.geopackage import GeoPackageStore

__all__ = ["DetectReport", "detect", "flag", "update", "update_many", "list_cases", "CASES",
           "HISTORY",
           "CASE_COLUMNS", "case_detail"]

CASES, HISTORY = "violation_cases", "violation_history"
CASE_COLUMNS = ["case_id", "fingerprint", "kind", "status", "source", "rule", "area_m2",
                "parcel_keys", "ward_code", "building_id", "evidence", "inspector", "notes",
                "owner_name", "minutes_no", "minutes_date", "decision_no", "decision_date",
                "conclusion_no", "conclusion_date", "remedy_deadline", "fine_vnd",
                "closed_reason", "occurred_on", "year_built", "created_at", "updated_at"]
HISTORY_COLUMNS = ["case_id", "at", "who", "field", "old", "new"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _cases(store: GeoPackageStore) -> gpd.GeoDataFrame:
    if not store.has(CASES):
        return gpd.GeoDataFrame({c: pd.Series([], dtype=object) for c in CASE_COLUMNS},
                                geometry=gpd.GeoSeries([], crs=store.crs()), crs=store.crs())
    frame = store.read(CASES)
    for c in CASE_COLUMNS:
        if c not in frame.columns:
            frame[c] = None
    return frame


def _history(store: GeoPackageStore) -> pd.DataFrame:
    frame = store.read_table(HISTORY)
    return frame if len(frame) else pd.DataFrame(columns=HISTORY_COLUMNS)


def _next_ids(existing: pd.Series, year: int, n: int) -> list[str]:
    prefix = f"VP-{year}-"
    used = [int(c[len(prefix):]) for c in existing.dropna().astype(str) if c.startswith(prefix)]
    start = max(used, default=0) + 1
    return [f"{prefix}{i:05d}" for i in range(start, start + n)]


def _frame(rows: list[dict[str, object]], crs: object) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows)
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=frame["geometry"].values,
                            crs=crs)


def _append(cases: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if len(cases) == 0:
        return new
    merged = pd.concat([cases, new], ignore_index=True)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=cases.crs or new.crs)


@dataclass
class DetectReport:
    """What a detection run found and added."""

    candidates: int
    added: list[str] = field(default_factory=list)
    already_known: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def detect(store: GeoPackageStore, *, rules: RuleSet | str | os.PathLike[str],
           who: str = "detection") -> DetectReport:
    """Overlay buildings × parcels with the rules; add a case for every new fingerprint."""
    ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules)
    for layer in ("parcels", "buildings"):
        if not store.has(layer):
            raise StoreError(f"the store has no {layer} layer yet; run `gis ingest {layer} PATH`",
                             layer=layer)
    report = DetectReport(0)

    def change(working: GeoPackageStore) -> dict[str, pd.DataFrame]:
        # buildings, parcels and cases as they are under the writers' lock: a parcels load or
        # a flag that lands meanwhile is seen, not overwritten
        candidates = detect_candidates(working.read("buildings"), working.read("parcels"),
                                       ruleset)
        report.candidates = len(candidates)
        report.by_kind = candidates["kind"].value_counts().to_dict() if len(candidates) else {}
        cases = _cases(working)
        known = set(cases["fingerprint"].dropna())
        new = candidates[~candidates["fingerprint"].isin(known)]
        report.already_known = len(candidates) - len(new)
        if new.empty:
            return {}
        at = _now()
        ids = _next_ids(cases["case_id"], at.year, len(new))
        new = new.assign(evidence=describe(new))
        rows = []
        for case_id, c in zip(ids, new.itertuples()):
            rows.append({"case_id": case_id, "fingerprint": c.fingerprint, "kind": c.kind,
                         "status": CaseStatus.DETECTED.value, "source": "detection",
                         "rule": c.rule, "area_m2": float(c.area_m2), "parcel_keys": c.parcel_keys,
                         "ward_code": c.ward_code, "building_id": c.building_id,
                         "year_built": getattr(c, "year_built", None),
                         "evidence": c.evidence, "created_at": at.isoformat(),
                         "updated_at": at.isoformat(), "geometry": c.geometry})
        report.added = ids
        history = _history(working)
        lines = pd.DataFrame([{"case_id": r["case_id"], "at": at.isoformat(), "who": who,
                               "field": "created", "old": None, "new": "detection"} for r in rows])
        return {CASES: _typed(_append(cases, _frame(rows, candidates.crs))),
                HISTORY: pd.concat([history, lines], ignore_index=True)}

    store.modify(change)
    return report


def flag(store: GeoPackageStore, geometry: shapely.Geometry, *, kind: str, who: str,
         crs: str | None = None, source: str = "inspector", notes: str | None = None,
         owner_name: str | None = None) -> str:
    """Record a case drawn or typed by an inspector (or a citizen report): point or polygon, in
    VN-2000 or WGS 84 (``crs``, default the store's). Returns the case id."""
    if kind not in KINDS:
        raise CaseError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}", field="kind", value=kind)
    if source not in ("inspector", "citizen"):
        raise CaseError(f"unknown source {source!r}; valid: inspector, citizen", field="source")
    if geometry is None or geometry.is_empty:
        raise CaseError("the geometry is empty; draw or type the place again", field="geometry")
    if not shapely.is_valid(geometry):
        raise CaseError(f"the geometry is not valid ({shapely.is_valid_reason(geometry)}); draw "
                        "it again", field="geometry")
    if shapely.get_type_id(geometry) not in (0, 3, 6):
        raise CaseError(f"a case is a point or a polygon, not a {geometry.geom_type}",
                        field="geometry")
    store_crs = store.crs()
    if store_crs is None:
        raise StoreError("the store is empty; ingest wards (and parcels) before flagging cases")
    if crs is not None:
        geometry = crsmod.transform_geometries([geometry], crsmod.parse_crs(crs), store_crs)[0]
    try:  # read first, ask why only on failure: each question opens the file again
        wards = store.read("wards", columns=["ward_code"])
    except StoreError:
        if not store.has("wards"):
            raise StoreError("the store has no wards layer; run `gis ingest wards PATH` "
                             "first") from None
        raise
    inside = wards[wards.intersects(geometry)]
    if inside.empty:
        raise CaseError("the geometry lies outside every ward of the store; check the "
                        "coordinates and their CRS (--crs)", field="geometry")
    ward = inside.iloc[int(np.argmax(inside.intersection(geometry).area.to_numpy()))
                       if geometry.area > 0 else 0]["ward_code"]
    try:
        parcels = store.read("parcels", bbox=tuple(geometry.buffer(0.01).bounds),
                             columns=["parcel_key"])
        parcels = parcels[parcels.intersects(geometry)]
    except StoreError:
        if store.has("parcels"):
            raise
        parcels = pd.DataFrame({"parcel_key": pd.Series([], dtype=str)})
    at = _now()
    row = {"fingerprint": None, "kind": kind, "status": CaseStatus.DETECTED.value,
           "source": source, "rule": None, "area_m2": round(float(geometry.area), 2),
           "parcel_keys": ",".join(parcels["parcel_key"]), "ward_code": ward,
           "inspector": who if source == "inspector" else None, "notes": notes,
           "owner_name": owner_name, "created_at": at.isoformat(), "updated_at": at.isoformat()}
    line = {"at": at.isoformat(), "who": who, "field": "created", "old": None, "new": source}
    case_id = _insert_case(store, row, geometry, line, year=at.year)
    if case_id is not None:
        return case_id
    result: dict[str, str] = {}

    def change(working: GeoPackageStore) -> dict[str, pd.DataFrame]:
        cases = _cases(working)
        case_id = _next_ids(cases["case_id"], at.year, 1)[0]
        history = _history(working)
        result["id"] = case_id
        return {CASES: _typed(_append(cases, _frame([{**row, "case_id": case_id,
                                                       "geometry": geometry}], store_crs))),
                HISTORY: pd.concat([history, pd.DataFrame([{**line, "case_id": case_id}])],
                                   ignore_index=True)}

    store.modify(change)  # the first case creates the tables
    return result["id"]


def _insert_case(store: GeoPackageStore, row: Mapping[str, object], geometry: shapely.Geometry,
                 line: Mapping[str, object], *, year: int) -> str | None:
    """A new case as one SQLite transaction in place: the id allocated (``BEGIN IMMEDIATE``
    under the writers' lock, so two processes never take the same), the feature inserted with
    its GeoPackage geometry blob (the R-tree follows by GDAL's triggers) and the history line.
    None when the tables are not there yet, lack a column, or declare a geometry type that does
    not take this one (then the copy-on-write path runs, once)."""
    from gis.store.geopackage import insert_features, layer_admits

    if not store.path.exists():
        return None
    with store.sql_transaction() as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM gpkg_contents WHERE table_name IN (?, ?)", (CASES, HISTORY))}
        if tables != {CASES, HISTORY}:
            return None
        columns = {r[1] for r in con.execute(f'PRAGMA table_info("{CASES}")')}
        history_columns = {r[1] for r in con.execute(f'PRAGMA table_info("{HISTORY}")')}
        if not {"case_id", *row} <= columns or not set(HISTORY_COLUMNS) <= history_columns \
                or not layer_admits(con, CASES, [geometry]):
            return None  # e.g. the first point in a layer of polygons: rewritten as GEOMETRY
        prefix = f"VP-{year}-"
        last = con.execute(f'SELECT max(CAST(substr(case_id, ?) AS INTEGER)) FROM "{CASES}" '
                           "WHERE substr(case_id, 1, ?) = ?",
                           (len(prefix) + 1, len(prefix), prefix)).fetchone()[0]
        case_id = f"{prefix}{int(last or 0) + 1:05d}"
        insert_features(con, CASES, [{**row, "case_id": case_id}], [geometry])
        con.execute(f'INSERT INTO "{HISTORY}" (case_id, at, who, field, old, new) '
                    "VALUES (?, ?, ?, ?, ?, ?)", (case_id, line["at"], line["who"],
                                                  line["field"], line["old"], line["new"]))
        return case_id


NUMERIC = {"area_m2": "float64", "fine_vnd": "Int64", "year_built": "Int64"}


def _typed(cases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give the case columns their types (a column that was all empty comes back as text)."""
    out = cases.copy()
    for column in CASE_COLUMNS:
        if column not in out.columns:
            out[column] = None
        if column in NUMERIC:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(NUMERIC[column])
        else:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def update(store: GeoPackageStore, case_id: str, changes: Mapping[str, object], *,
           who: str) -> list[dict[str, object]]:
    """Change a case (status and fields) if the lifecycle allows; return the history lines."""
    return update_many(store, [case_id], changes, who=who)


def update_many(store: GeoPackageStore, case_ids: list[str], changes: Mapping[str, object], *,
                who: str) -> list[dict[str, object]]:
    """The same change to several cases (e.g. one inspection conclusion linking many), all or
    nothing: if any case refuses it, none is changed."""
    in_place = _update_in_place(store, case_ids, changes, who=who)
    if in_place is not None:
        return in_place
    lines: list[dict[str, object]] = []

    def change(working: GeoPackageStore) -> dict[str, pd.DataFrame]:
        cases = _typed(_cases(working))
        ids = cases["case_id"].astype(str).to_numpy()
        at = _now()
        history: list[dict[str, object]] = []
        for case_id in case_ids:
            hit = np.flatnonzero(ids == case_id)
            if len(hit) == 0:
                raise CaseError(f"no case {case_id!r}; nothing was changed", field="case_id",
                                value=case_id)
            i = int(hit[0])
            current = {k: (None if (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v)
                       for k, v in cases.iloc[i].to_dict().items()}
            new, lines_ = apply_changes(current, changes, who=who, at=at)
            for key, value in new.items():
                if key in cases.columns and key != "geometry":
                    cases.at[cases.index[i], key] = value
            history.extend(lines_)
        lines.extend(history)
        return {CASES: _typed(cases),
                HISTORY: pd.concat([_history(working), pd.DataFrame(history)], ignore_index=True)}

    store.modify(change)
    return lines


def _update_in_place(store: GeoPackageStore, case_ids: list[str], changes: Mapping[str, object],
                     *, who: str) -> list[dict[str, object]] | None:
    """Attribute-only updates as row-level SQL in one transaction (no copy of the store file).
    None when the tables are not there or lack a column (then the copy-on-write path runs)."""
    from gis.core.violations.cases import EDITABLE

    if not (store.has(CASES) and store.has(HISTORY)):
        return None
    with store.sql_transaction() as con:
        columns = [r[1] for r in con.execute(f'PRAGMA table_info("{CASES}")')]
        history_columns = {r[1] for r in con.execute(f'PRAGMA table_info("{HISTORY}")')}
        fields = ["case_id", "status", *EDITABLE, "updated_at"]
        if not set(fields) <= set(columns) or not set(HISTORY_COLUMNS) <= history_columns:
            return None
        select = ", ".join(f'"{c}"' for c in columns if c not in ("geom", "geometry"))
        at = _now()
        lines: list[dict[str, object]] = []
        for case_id in case_ids:
            cursor = con.execute(f'SELECT {select} FROM "{CASES}" WHERE case_id = ?', (case_id,))
            row = cursor.fetchone()
            if row is None:
                raise CaseError(f"no case {case_id!r}; nothing was changed", field="case_id",
                                value=case_id)
            current = dict(zip([d[0] for d in cursor.description], row))
            new, history = apply_changes(current, changes, who=who, at=at)
            assignments = ", ".join(f'"{f}" = ?' for f in fields[1:])
            con.execute(f'UPDATE "{CASES}" SET {assignments} WHERE case_id = ?',
                        [new.get(f) for f in fields[1:]] + [case_id])
            con.executemany(f'INSERT INTO "{HISTORY}" (case_id, at, who, field, old, new) '
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            [(h["case_id"], h["at"], h["who"], h["field"], h["old"], h["new"])
                             for h in history])
            lines.extend(history)
        return lines


def list_cases(store: GeoPackageStore, *, ward: str | None = None, kind: str | None = None,
               status: str | None = None, since: dt.date | None = None,
               today: dt.date | None = None) -> gpd.GeoDataFrame:
    """Cases filtered by ward, kind, status and creation date, with an ``overdue`` column."""
    cases = _cases(store)
    if ward:
        cases = cases[cases["ward_code"] == ward]
    if kind:
        cases = cases[cases["kind"] == kind]
    if status:
        cases = cases[cases["status"] == CaseStatus.parse(status).value]
    if since:
        cases = cases[arising_on(cases) >= pd.Timestamp(since)]
    today = today or dt.date.today()
    cases = cases.copy()
    cases["overdue"] = [overdue(r, today=today) for r in cases.drop(columns="geometry")
                        .astype(object).where(cases.drop(columns="geometry").notna(), None)
                        .to_dict("records")]
    return cases


def arising_on(cases: pd.DataFrame) -> pd.Series:
    """When each violation arose: the date an inspector recorded (``occurred_on``), else 1 January
    of the footprint's construction year, else the day the case was recorded (Vietnam time)."""
    recorded = pd.to_datetime(cases["created_at"], utc=True).dt.tz_convert("Asia/Ho_Chi_Minh") \
        .dt.tz_localize(None).dt.normalize()
    year = pd.to_numeric(cases.get("year_built"), errors="coerce")
    built = pd.to_datetime(year.astype("Int64").astype("string") + "-01-01", errors="coerce")
    occurred = pd.to_datetime(cases.get("occurred_on"), errors="coerce")
    return occurred.fillna(built).fillna(recorded)


def case_detail(store: GeoPackageStore, case_id: str) -> tuple[dict[str, object], pd.DataFrame]:
    """One case and its history (read by key, not the whole table)."""
    safe = case_id.replace("'", "''")
    hit = store.read(CASES, where=f"case_id = '{safe}'") if store.has(CASES) else None
    if hit is None or hit.empty:
        raise CaseError(f"no case {case_id!r}", field="case_id", value=case_id)
    history = store.read_table(HISTORY) if not store.has(HISTORY) else pyogrio_read(
        store, HISTORY, f"case_id = '{safe}'")
    case = {k: (None if (isinstance(v, float) and v != v) or v is pd.NA else v)
            for k, v in hit.iloc[0].to_dict().items()}
    return case, history


def pyogrio_read(store: GeoPackageStore, table: str, where: str) -> pd.DataFrame:
    """An attribute table filtered in SQLite."""
    import pyogrio

    with store.reading():  # see gis.store.geopackage: GDAL beside in-place writers
        return pyogrio.read_dataframe(store.path, layer=table, where=where, read_geometry=False)


ATTACHMENTS = "violation_attachments"


def attachments_dir(store: GeoPackageStore) -> os.PathLike[str]:
    """Attachments live beside the store, content-addressed: ``<store>_attachments/<case>/``."""
    from pathlib import Path

    return Path(store.path).with_name(Path(store.path).stem + "_attachments")


def attach(store: GeoPackageStore, case_id: str, path: str | os.PathLike[str], *, role: str,
           who: str, note: str | None = None) -> dict[str, object]:
    """Attach a photo or document: type checked by content, size limited, SHA-256 recorded,
    the file copied (content-addressed) beside the store; the case history notes it."""
    from pathlib import Path

    from gis.core.violations.attachments import MAX_BYTES, inspect_attachment

    source = Path(path)
    try:
        size = source.stat().st_size
        if size > MAX_BYTES:
            raise CaseError(f"{source.name} is {size:,} bytes, over the limit of {MAX_BYTES:,}",
                            field="attachment", value=str(source))
        data = source.read_bytes()
    except OSError as exc:
        raise CaseError(f"cannot read {source}: {exc.strerror}", field="attachment",
                        value=str(source)) from None
    info = inspect_attachment(source.name, data, role=role)
    ext = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
           "image/heic": ".heic", "application/pdf": ".pdf"}[info.mime]
    folder = Path(attachments_dir(store)) / case_id
    target = folder / f"{info.sha256}{ext}"
    row: dict[str, object] = {}

    def change(working: GeoPackageStore) -> dict[str, pd.DataFrame]:
        cases = _cases(working)
        if case_id not in set(cases["case_id"].astype(str)):
            raise CaseError(f"no case {case_id!r}", field="case_id", value=case_id)
        folder.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        at = _now().isoformat()
        row.update({"case_id": case_id, "filename": info.filename, "role": info.role,
                    "mime": info.mime, "size": info.size, "sha256": info.sha256,
                    "stored_as": str(target.relative_to(Path(attachments_dir(store)))),
                    "note": note, "added_at": at, "who": who})
        table = working.read_table(ATTACHMENTS)
        if len(table) and ((table["case_id"] == case_id) & (table["sha256"] == info.sha256)).any():
            raise CaseError(f"{info.filename} is already attached to {case_id} (same SHA-256)",
                            field="attachment", value=info.filename)
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True) if len(table) else \
            pd.DataFrame([row])
        line = pd.DataFrame([{"case_id": case_id, "at": at, "who": who, "field": f"{role} attached",
                              "old": None, "new": f"{info.filename} ({info.sha256[:12]})"}])
        return {ATTACHMENTS: table, HISTORY: pd.concat([_history(working), line], ignore_index=True)}

    store.modify(change)
    return row


def case_attachments(store: GeoPackageStore, case_id: str) -> pd.DataFrame:
    """The attachments of a case."""
    table = store.read_table(ATTACHMENTS)
    return table[table["case_id"] == case_id] if len(table) else table
