"""Violations: detect candidates by overlay, keep cases an inspector can work.

Orchestration over the store; the logic is in :mod:`gis.core.violations`. Every change to a case
is made by the store in one transaction under its lock (the case read and the change decided
there), recorded in ``violation_history`` (who, when, field, old → new), and cases are never
deleted. Only the :class:`~gis.store.base.Store` protocol is used (its "violation cases" block).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis import crs as crsmod
from gis.core.violations.cases import CaseStatus, apply_changes, overdue
from gis.core.violations.detect import describe, detect_candidates
from gis.core.violations.rules import KINDS, RuleSet, load_rules
from gis.errors import AuthError, CaseError, StoreError
from gis.store.base import Store
from gis.store.cases import (
    ATTACHMENTS,
    CASE_COLUMNS,
    CASES,
    HISTORY,
    HISTORY_COLUMNS,
    CaseQuery,
    HistoryLine,
    NewAttachment,
    NewCase,
    plain,
)

__all__ = ["DetectReport", "detect", "flag", "update", "update_many", "list_cases", "case_units",
           "with_case_units", "CASES",
           "HISTORY", "ATTACHMENTS", "HISTORY_COLUMNS", "CASE_COLUMNS", "case_detail", "attach",
           "attachments_dir", "case_attachments", "arising_on", "case_prefix", "with_note"]


LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def case_prefix(year: int) -> str:
    """Case ids of a year: ``VP-2026-`` + a 5-digit number the store allocates."""
    return f"VP-{year}-"


@dataclass
class DetectReport:
    """What a detection run found and added."""

    candidates: int
    added: list[str] = field(default_factory=list)
    already_known: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


#: how candidates are found in a store: :func:`detect_candidates` of the whole buildings and
#: parcels layers in this process by default, or on Dask (:func:`gis.batch.detect_from_store`,
#: whose workers read the footprints in spatial partitions); same result
Candidates = Callable[[Store, RuleSet], gpd.GeoDataFrame]


def _candidates_here(store: Store, rules: RuleSet) -> gpd.GeoDataFrame:
    return detect_candidates(store.read("buildings"), store.read("parcels"), rules)


def detect(store: Store, *, rules: RuleSet | str | os.PathLike[str],
           who: str = "detection", candidates: Candidates | None = None) -> DetectReport:
    """Overlay buildings × parcels with the rules; add a case for every new fingerprint.
    ``candidates`` runs the overlay elsewhere (the Dask engine)."""
    find = candidates or _candidates_here
    ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules)
    for layer in ("parcels", "buildings"):
        if not store.has(layer):
            raise StoreError(f"the store has no {layer} layer yet; run `gis ingest {layer} PATH`",
                             layer=layer)
    report = DetectReport(0)
    at = _now()

    def decide(working: Store) -> list[NewCase]:
        # buildings, parcels and cases as they are under the writers' lock: a parcels load or
        # a flag that lands meanwhile is seen, not overwritten, and two detections at once do
        # not add the same case twice
        found = find(working, ruleset)
        report.candidates = len(found)
        report.by_kind = found["kind"].value_counts().to_dict() if len(found) else {}
        known = set(working.read_cases(columns=["fingerprint"], geometry=False)["fingerprint"]
                    .dropna())
        new = found[~found["fingerprint"].isin(known)]
        report.already_known = len(found) - len(new)
        if new.empty:
            return []
        new = new.assign(evidence=describe(new))
        new = new.assign(**case_places(working, new))
        return [NewCase({"fingerprint": c.fingerprint, "kind": c.kind,
                         "status": CaseStatus.DETECTED.value, "source": "detection",
                         "rule": c.rule, "area_m2": float(c.area_m2),
                         "parcel_keys": c.parcel_keys, "ward_code": c.ward_code,
                         "building_id": c.building_id,
                         "year_built": getattr(c, "year_built", None), "evidence": c.evidence,
                         "created_at": at.isoformat(), "updated_at": at.isoformat(),
                         "unit_code": c.unit_code, "unit_name": c.unit_name,
                         "ward_name": c.ward_name},
                        c.geometry, (HistoryLine(at=at.isoformat(), who=who, field="created",
                                                 new="detection", unit=c.unit_code),))
                for c in new.itertuples()]

    report.added = store.insert_cases_with(decide, id_prefix=case_prefix(at.year))
    return report


def flag(store: Store, geometry: shapely.Geometry, *, kind: str, who: str,
         crs: str | None = None, source: str = "inspector", notes: str | None = None,
         owner_name: str | None = None, units: Sequence[str] | None = None) -> str:
    """Record a case drawn or typed by an inspector (or a citizen report): point or polygon, in
    VN-2000 or WGS 84 (``crs``, default the store's). The case gets the 2025 unit holding it;
    with ``units`` (an officer's scope) a case of any other unit is refused (AuthError, 403).
    Returns the case id."""
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
    place = case_places(store, gpd.GeoDataFrame({"ward_code": [ward]}, geometry=[geometry],
                                                crs=store_crs)).iloc[0]
    unit = place["unit_code"]
    if units is not None and unit not in set(units):
        raise AuthError(f"the case lies in unit {unit or 'unknown'}, outside your units "
                        f"({', '.join(units)}); an officer of that unit flags it",
                        field="geometry", value=unit)
    at = _now()
    row = {"fingerprint": None, "kind": kind, "status": CaseStatus.DETECTED.value,
           "source": source, "rule": None, "area_m2": round(float(geometry.area), 2),
           "parcel_keys": ",".join(parcels["parcel_key"]), "ward_code": ward,
           "inspector": who if source == "inspector" else None, "notes": notes,
           "owner_name": owner_name, "created_at": at.isoformat(), "updated_at": at.isoformat(),
           "unit_code": unit, "unit_name": place["unit_name"], "ward_name": place["ward_name"]}
    line = HistoryLine(at=at.isoformat(), who=who, field="created", new=source, unit=unit)
    return store.insert_cases([NewCase(row, geometry, (line,))], id_prefix=case_prefix(at.year))[0]


def update(store: Store, case_id: str, changes: Mapping[str, object], *,
           who: str, note: str | None = None) -> list[dict[str, object]]:
    """Change a case (status and fields) if the lifecycle allows; return the history lines.
    ``note`` is added to the case's notes as a dated, signed line (:func:`with_note`)."""
    return update_many(store, [case_id], changes, who=who, note=note)


def update_many(store: Store, case_ids: list[str], changes: Mapping[str, object], *,
                who: str, note: str | None = None) -> list[dict[str, object]]:
    """The same change to several cases (e.g. one inspection conclusion linking many), all or
    nothing: if any case refuses it, none is changed. Each case is checked against the
    lifecycle as it is under the store's lock, so of two officers moving one case at once the
    second sees the first's result (and is refused if the step no longer applies); a ``note``
    is appended to the notes as they are then, so no one's note is lost."""
    at = _now()
    day = at.astimezone(LOCAL).date()

    def change(current: Mapping[str, object]
               ) -> tuple[dict[str, object], list[dict[str, object]]]:
        wanted = dict(changes)
        if note and note.strip():
            wanted["notes"] = with_note(current.get("notes"), note, who, on=day)
        new, lines = apply_changes(current, wanted, who=who, at=at)
        unit = current.get("unit_code")  # the ingest log's and history's unit of the change
        unit = unit if isinstance(unit, str) and unit else None
        return new, [{**line, "unit_code": unit} for line in lines]

    return store.update_cases(case_ids, change)


def with_note(current_notes: object, note: str, who: str, *, on: dt.date) -> str:
    """The case's notes with one more line, dated and signed: ``[dd/mm/yyyy who] note``."""
    line = f"[{on:%d/%m/%Y} {who}] {note.strip()[:2000]}"
    old = str(current_notes).strip() if current_notes else ""
    return f"{old}\n{line}" if old else line


def list_cases(store: Store, *, ward: str | None = None, kind: str | None = None,
               status: str | None = None, since: dt.date | None = None,
               today: dt.date | None = None,
               bbox: tuple[float, float, float, float] | None = None,
               units: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Cases filtered by ward, kind, status, creation date, box (store CRS) and 2025 units
    (an officer's scope; None: all), with an ``overdue`` column. Every case has its
    ``unit_code`` (cases recorded before units were kept are placed on the fly)."""
    query = CaseQuery(ward=ward or None, kind=kind or None, bbox=bbox,
                      status=CaseStatus.parse(status).value if status else None)
    cases = with_case_units(store, store.read_cases(query))
    if units is not None:
        cases = cases[cases["unit_code"].isin(list(units)).to_numpy()]
    if since:
        cases = cases[arising_on(cases) >= pd.Timestamp(since)]
    today = today or dt.date.today()
    cases = cases.copy()
    attributes = cases.drop(columns="geometry")
    cases["overdue"] = [overdue(r, today=today) for r in attributes.astype(object)
                        .where(attributes.notna(), None).to_dict("records")]
    return cases


def case_units(store: Store, cases: gpd.GeoDataFrame) -> list[str | None]:
    """The 2025 unit of each case: the unit holding it (the units layer), else the unit of
    its ward's conversion (:func:`gis.units.place_cases`)."""
    if not len(cases):
        return []
    return case_places(store, cases)["unit_code"].tolist()


#: what :func:`case_places` decides for a case: its unit and the names beside its codes
CASE_PLACES = ("unit_code", "unit_name", "ward_name")


def case_places(store: Store, cases: gpd.GeoDataFrame) -> pd.DataFrame:
    """The 2025 unit of each case (the unit holding it, else the unit of its ward's
    conversion: :func:`gis.units.place_cases`) with its name, and its ward's name, as
    :data:`CASE_PLACES` (plain values, None when unknown) aligned with ``cases``."""
    from gis.units import place_cases

    frame = gpd.GeoDataFrame({"ward_code": list(cases["ward_code"]) if "ward_code" in cases
                              else [None] * len(cases)},
                             geometry=list(cases.geometry.values), crs=cases.crs)
    placed = place_cases(store, frame) if len(frame) else frame.assign(
        **{c: pd.Series([], dtype="string") for c in CASE_PLACES})
    return pd.DataFrame({c: [v if isinstance(v, str) and v else None
                             for v in placed[c].astype(object)] for c in CASE_PLACES},
                        index=cases.index, columns=list(CASE_PLACES))


def with_case_units(store: Store, cases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cases with ``unit_code`` filled where it is missing (cases recorded before units) and
    the names beside the codes (``ward_name``, ``unit_name``) where they are missing (cases
    recorded before names were kept)."""
    from gis.units import with_stored_names

    if not len(cases):
        return cases.assign(**{c: pd.Series(dtype=str) for c in CASE_PLACES
                               if c not in cases})
    for column in CASE_PLACES:
        if column not in cases:
            cases = cases.assign(**{column: None})
    missing = cases["unit_code"].isna().to_numpy()
    if missing.any():
        cases = cases.copy()
        cases["unit_code"] = cases["unit_code"].astype(object)
        cases.loc[missing, "unit_code"] = case_units(store, cases.loc[missing])
    unnamed = (cases["ward_name"].isna() & cases["ward_code"].notna()
               | cases["unit_name"].isna() & cases["unit_code"].notna()).to_numpy() \
        if "ward_code" in cases else cases["unit_name"].isna().to_numpy()
    if unnamed.any():
        cases = cases.copy()
        part = cases.loc[unnamed, [c for c in ("ward_code", "unit_code") if c in cases]]
        named = with_stored_names(part, store)
        for column in ("ward_name", "unit_name"):
            if column in named:
                cases[column] = cases[column].astype(object)
                cases.loc[unnamed, column] = named[column].astype(object).where(
                    named[column].notna(), None).to_numpy()
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


def case_detail(store: Store, case_id: str) -> tuple[dict[str, object], pd.DataFrame]:
    """One case and its history (read by key, not the whole table)."""
    hit = store.read_cases(CaseQuery(ids=(case_id,)))
    if hit.empty:
        raise CaseError(f"no case {case_id!r}", field="case_id", value=case_id)
    case: dict[str, Any] = {k: (v if k == "geometry" else plain(v))
                            for k, v in hit.iloc[0].to_dict().items()}
    return case, store.case_history(case_id)


def attachments_dir(store: Store) -> Path:
    """Where the store keeps attachment files, content-addressed (``<case>/<sha256>.<ext>``;
    for the GeoPackage store ``<store>_attachments`` beside it)."""
    return store.attachments_dir()


_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
               "image/heic": ".heic", "application/pdf": ".pdf"}


def attach(store: Store, case_id: str, path: str | os.PathLike[str], *, role: str,
           who: str, note: str | None = None) -> dict[str, object]:
    """Attach a photo or document: type checked by content, size limited, SHA-256 recorded,
    the file kept content-addressed by the store; the case history notes it."""
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
    at = _now().isoformat()
    line = HistoryLine(at=at, who=who, field=f"{info.role} attached",
                       new=f"{info.filename} ({info.sha256[:12]})")
    return store.add_attachment(NewAttachment(
        case_id=case_id, filename=info.filename, role=info.role, mime=info.mime,
        sha256=info.sha256, ext=_EXTENSIONS[info.mime], data=data, who=who, added_at=at,
        note=note, history=line))


def case_attachments(store: Store, case_id: str) -> pd.DataFrame:
    """The attachments of a case, in the order they were added."""
    return store.case_attachments(case_id)
