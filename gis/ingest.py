"""Ingest: read a layer, decode legacy text, map fields, resolve the CRS, validate, store.

:func:`prepare_layer` does everything but write (``gis validate``); :func:`ingest_layer` also
replaces the layer in the store, atomically, and logs who loaded what (``gis ingest``).
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from gis import crs as crsmod
from gis.catalog import LayerSpec
from gis.core.diff import LayerDiff, diff_layers
from gis.core.model import build_frame
from gis.core.replace import plan_replacement, same_land
from gis.core.units import CodeSystem, placement_summary
from gis.core.validate import (
    ISSUE_COLUMNS,
    Severity,
    ValidationConfig,
    ValidationResult,
    validate_frame,
)
from gis.encoding import ColumnDecoding, decode_frame
from gis.errors import ParcelValidationError
from gis.fields import FieldMapping, LayerKind, map_fields
from gis.ingest_place import (
    describe_crs,
    place_check,
    province_check,
    province_from_data,
    resolve_crs,
)
from gis.io.engines import Engine
from gis.io.read import SourceInfo, read_layer
from gis.landuse import DEFAULT_PUBLIC_RULES
from gis.store.base import IngestLogEntry, LayerReplacement, Store
from gis.units import code_issues, parcels_after, registry, stored_layer, units_issues, with_units

__all__ = ["LayerReport", "prepare_layer", "ingest_layer", "source_checksum", "KEYS"]

KEYS = {LayerKind.PARCELS: "parcel_key", LayerKind.PROJECTS: "project_id",
        LayerKind.BUILDINGS: "building_id", LayerKind.WARDS: "ward_code",
        LayerKind.UNITS: "unit_code"}


@dataclass
class LayerReport:
    """Everything an ingest decided and found, for the terminal, JSON and CSV."""

    kind: LayerKind
    source: SourceInfo
    mapping: FieldMapping
    decodings: list[ColumnDecoding]
    crs_source: str
    crs_working: str
    crs_notes: list[str]
    validation: ValidationResult
    timings: dict[str, float] = field(default_factory=dict)
    diff: LayerDiff | None = None
    stored: bool = False
    store_path: str | None = None
    scope: list[str] | None = None  # wards replaced (parcels); None = the whole layer
    kept_other_wards: int = 0  # stored rows outside the file's wards (or units) kept
    kept_quarantined: int = 0  # stored rows kept because their new version was quarantined
    skipped: dict[str, int] = field(default_factory=dict)  # rows read but not this kind's
    #: parcels: how each surveyed ward's parcels were placed in the 2025 units (one row per
    #: ward, unit and source: gis.core.units.placement_summary)
    placement: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable report (issues included)."""
        issues = self.validation.issues.astype(object).where(self.validation.issues.notna(), None)
        return {
            "kind": self.kind.value,
            "source": {"path": self.source.path, "layer": self.source.layer,
                       "driver": self.source.driver, "engine": self.source.engine.value,
                       "encoding": self.source.encoding, "features": self.source.features,
                       "notes": list(self.source.notes)},
            "fields": self.mapping.as_dict(),
            "text_encoding": [d.as_dict() for d in self.decodings],
            "crs": {"source": self.crs_source, "working": self.crs_working,
                    "notes": self.crs_notes},
            "summary": {**self.validation.summary(), "rows_skipped": sum(self.skipped.values()),
                        "skipped": dict(self.skipped)},
            "issues": issues.to_dict("records"),
            "diff": self.diff.as_dict() if self.diff else None,
            "replaced_wards": self.scope, "kept_other_wards": self.kept_other_wards,
            "kept_quarantined": self.kept_quarantined,
            "unit_placement": (None if self.placement is None else self.placement.astype(
                object).where(self.placement.notna(), None).to_dict("records")),
            "stored": self.stored,
            "store": self.store_path,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the report: ``.json`` (everything) or ``.csv`` (one line per issue)."""
        from gis.io.files import write_report

        return write_report(path, self.to_dict(), self.validation.issues)


def source_checksum(path: str | os.PathLike[str]) -> str:
    """SHA-256 over the source file, its shapefile sidecars, or every file of a folder."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
    elif p.suffix.lower() == ".shp":
        files = sorted(f for f in p.parent.iterdir()
                       if f.is_file() and f.suffix and f.with_suffix("").name == p.stem)
    else:
        files = [p]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


_OSM_SUFFIXES = (".osm", ".pbf")


def _osm_buildings(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, dict[str, int]]:
    """Rows of an OpenStreetMap layer that are buildings (``building=*``, not ``no``), and the
    others counted by what they are (``leisure=pitch``, ``landuse=military``...)."""
    building = frame["building"].astype("string").str.strip().str.lower()
    keep = (building.notna() & ~building.isin(["no", ""])).to_numpy(dtype=bool)
    skipped: dict[str, int] = {}
    tags = [c for c in ("amenity", "leisure", "landuse", "military", "natural", "man_made",
                        "boundary", "place", "tourism", "historic") if c in frame.columns]
    for i in np.flatnonzero(~keep):
        what = next((f"{t}={frame[t].iat[i]}" for t in tags
                     if isinstance(frame[t].iat[i], str) and frame[t].iat[i]), "untagged")
        skipped[what] = skipped.get(what, 0) + 1
    return keep, dict(sorted(skipped.items(), key=lambda kv: -kv[1]))


_OSM_KEYS = {"osm_id", "osm_way_id", "@id", "leisure", "amenity", "landuse", "natural",
             "man_made", "military", "sport", "tourism", "shop", "office"}


def _is_osm(info: SourceInfo, frame: gpd.GeoDataFrame) -> bool:
    """An OpenStreetMap extract (the .osm file, or GeoJSON from Overpass/QuickOSM): a
    ``building`` tag column beside other OSM keys."""
    return "building" in frame.columns and (
        info.driver == "OSM" or bool(_OSM_KEYS & set(frame.columns)))


def _capital_sources(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Capital sources as offices write them → budget / non-budget / unknown (vocabulary);
    the words stay in ``capital_source_text``; an unknown one is a warning, never NULL."""
    from gis.catalog import load_vocabulary

    vocabulary = load_vocabulary()
    coded = frame["capital_source_text"].map(
        lambda v: vocabulary.capital_source(v) if isinstance(v, str) else None)
    frame["capital_source"] = coded.astype("string")
    unknown = frame[coded == "UNKNOWN"]
    return pd.DataFrame([{"row": int(r.source_row), "key": None, "rule": "unknown_capital_source",
                          "severity": "warning", "field": "capital_source",
                          "value": r.capital_source_text,
                          "message": f"capital source {r.capital_source_text!r} is neither budget "
                                     "nor non-budget; stored as UNKNOWN (add it to "
                                     "layers/sheets/vocabulary.yaml)"}
                         for r in unknown.itertuples()], columns=ISSUE_COLUMNS)


def prepare_layer(path: str | os.PathLike[str], kind: LayerKind | str, *,
                  spec: LayerSpec | None = None, crs: str | None = None, layer: str | None = None,
                  province: str | None = None, engine: Engine | str | None = None,
                  defaults: Mapping[str, object] | None = None, store_crs: CRS | None = None,
                  area_tolerance: float | None = None,
                  wards: gpd.GeoDataFrame | None = None,
                  units: gpd.GeoDataFrame | None = None,
                  code_system: CodeSystem | str | None = None) -> LayerReport:
    """Read, decode, map, transform and validate a layer; write nothing.

    ``wards`` is the stored wards layer, when there is one: parcels are then checked against it
    (place checks, ward codes that exist) and lon/lat data takes the TM-3 zone of the province
    that holds it. ``units`` is the stored units layer (2025 commune-level units): each parcel
    takes the unit holding it; without it, the conversion of its legacy ward code.
    ``code_system`` is the system of the layer's ward codes (``--units``): legacy by default
    for parcels and wards; a units layer is always 2025.

    Raises
    ------
    PlaceError
        When most parcels lie outside the stored wards (or far from the province named).
    """
    kind = LayerKind.parse(kind)
    system = _code_system(kind, code_system)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    layer = layer if layer else (spec.source.layer if spec else None)
    osm_note = None
    if layer is None and Path(path).suffix.lower() in _OSM_SUFFIXES:
        layer, osm_note = "multipolygons", "OpenStreetMap file: its multipolygons layer read"
    raw, info = read_layer(path, layer=layer, engine=engine)
    timings["read"] = time.perf_counter() - t0
    t = time.perf_counter()
    decoded, decodings = decode_frame(raw, overrides=dict(spec.encoding) if spec else None)
    timings["decode_text"] = time.perf_counter() - t
    skipped: dict[str, int] = {}
    source_rows = None
    extra_notes = [osm_note] if osm_note else []
    if kind is LayerKind.BUILDINGS and _is_osm(info, decoded):
        keep, skipped = _osm_buildings(decoded)
        if skipped:
            source_rows = np.flatnonzero(keep) + 1
            decoded = decoded.loc[keep].reset_index(drop=True)
            extra_notes.append(f"{sum(skipped.values())} OpenStreetMap polygon(s) without a "
                               "building=* tag skipped (not footprints): "
                               + ", ".join(f"{k} {v}" for k, v in skipped.items()))
            if not len(decoded):
                raise ParcelValidationError("the OpenStreetMap layer holds no building=* polygon",
                                            path=info.path, layer=info.layer)
    if extra_notes:
        info = dataclasses.replace(info, notes=info.notes + tuple(extra_notes))
    all_defaults = {**(spec.defaults if spec else {}), **(defaults or {})}
    mapping = map_fields([c for c in decoded.columns if c != "geometry"], kind,
                         overrides=spec.fields if spec else None, defaults=all_defaults,
                         path=info.path, layer=info.layer, frame=decoded)
    province = province or (spec.province if spec else None)
    inferred_note = None
    if province is None:
        province, how = province_from_data(decoded, info, mapping, kind, wards,
                                            declared=crs is None)
        if province is not None:
            inferred_note = f"province {province} taken from {how}: its TM-3 zone applies"
    t = time.perf_counter()
    source_crs, working, notes = resolve_crs(decoded, info, crs=crs, spec=spec,
                                              province=province, store_crs=store_crs)
    if inferred_note:
        notes.insert(0, inferred_note)
    geoms = crsmod.transform_geometries(decoded.geometry.values, source_crs, working)
    placed = gpd.GeoDataFrame(decoded.drop(columns="geometry"), geometry=geoms, crs=working)
    timings["transform"] = time.perf_counter() - t
    t = time.perf_counter()
    rules = spec.public_land if spec and spec.public_land is not None else DEFAULT_PUBLIC_RULES
    frame = build_frame(placed, mapping, defaults=all_defaults, public_rules=rules,
                        source_rows=source_rows)
    tolerance = area_tolerance if area_tolerance is not None else (
        spec.area_tolerance if spec and spec.area_tolerance is not None else 0.05)
    found = [pd.DataFrame(
        [{"row": r, "key": None, "rule": rule, "severity": sev, "field": "geometry", "value": None,
          "message": msg} for r, rule, sev, msg in info.row_issues], columns=ISSUE_COLUMNS)]
    known = None
    if kind is LayerKind.PARCELS:
        has_wards = wards is not None and len(wards) > 0
        if has_wards:
            known = frozenset(wards["ward_code"].dropna().astype(str))
            found.append(place_check(frame, wards, decoded, source_crs, info, notes))
        elif province is not None:
            province_check(frame, decoded, province, source_crs, info)
    if kind is LayerKind.PROJECTS and "capital_source_text" in frame:
        found.append(_capital_sources(frame))
    if kind is LayerKind.UNITS:
        frame, unit_issues = units_issues(frame)
        found.append(unit_issues)
    elif kind in (LayerKind.PARCELS, LayerKind.WARDS):
        found.append(code_issues(frame, "ward_code", system,
                                 names="name" if kind is LayerKind.WARDS else None))
    read_issues = pd.concat([f for f in found if len(f)] or [found[0]], ignore_index=True)
    result = validate_frame(frame, kind, config=ValidationConfig(area_tolerance=tolerance,
                                                                 known_wards=known),
                            extra_issues=read_issues)
    if kind is LayerKind.PARCELS:
        result.valid, assumed = with_units(result.valid, units=units, wards=wards, system=system)
        result.issues = pd.concat([result.issues, assumed], ignore_index=True) if len(
            assumed) else result.issues
        dup = int((result.issues["rule"] == "duplicate_key").sum())
        if system is CodeSystem.CURRENT and dup:
            notes.append(f"units: {dup:,} rows share a key (2025 unit-sheet-number): map sheets "
                         "are numbered within each legacy ward, so a unit made of several wards "
                         "repeats them; load such a file with its legacy ward codes")
        if units is not None and len(units):
            notes.append(f"units: {len(units)} stored unit polygons place the parcels")
        else:
            notes.append("units: no unit polygons stored; parcels take the 2025 unit of their "
                         f"{system.value} ward code (split wards: the default unit, listed)")
    timings["validate"] = time.perf_counter() - t
    if store_crs is not None and store_crs != working:
        from gis.io.write import reproject

        result.valid = reproject(result.valid, store_crs)
        result.quarantine = reproject(result.quarantine, store_crs)
    report = LayerReport(kind, info, mapping, decodings, describe_crs(source_crs),
                         describe_crs(store_crs or working), notes, result, timings)
    report.skipped = skipped
    if kind is LayerKind.PARCELS:
        report.placement = _placement(result.valid, units)
    return report


def ingest_layer(store: Store, path: str | os.PathLike[str], kind: LayerKind | str, *,
                 strict: bool = False, user: str | None = None, replace_all: bool = False,
                 **options: object) -> LayerReport:
    """Prepare a layer and load it into ``store``; in ``strict`` mode refuse any error row.

    Parcels arrive one ward per file: a parcels ingest replaces the stored parcels of the wards
    present in the file and keeps the others, unless ``replace_all``. Other kinds replace the
    whole layer.

    Raises
    ------
    ParcelValidationError
        In strict mode, when any row would be quarantined (the report is attached), and always
        when no row is valid (the stored layer would be emptied).
    """
    kind = LayerKind.parse(kind)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if "wards" not in options and kind not in (LayerKind.WARDS, LayerKind.UNITS) and \
            store.has("wards"):
        options["wards"] = store.read("wards")
    if "units" not in options and kind is LayerKind.PARCELS and store.has("units"):
        options["units"] = store.read("units")
    system = _code_system(kind, options.get("code_system"))  # type: ignore[arg-type]
    report = prepare_layer(path, kind, store_crs=store.crs(), **options)  # type: ignore[arg-type]
    result = report.validation
    if kind is LayerKind.UNITS:
        result.issues = pd.concat([result.issues, _other_provinces(store, result.valid)],
                                  ignore_index=True)
    errors = result.issues[result.issues["severity"] == Severity.ERROR.value]
    if strict and len(errors):
        first = errors.iloc[0]
        raise ParcelValidationError(
            f"--strict: {len(result.quarantine)} of {result.rows_total} rows fail validation "
            f"({', '.join(sorted(errors['rule'].unique()))}); first: {first['message']}; "
            "nothing was written", report=report, path=str(path), layer=report.source.layer,
            row=int(first["row"]), field=first["field"] if isinstance(first["field"], str) else None)
    if len(result.valid) == 0:
        raise ParcelValidationError(
            f"none of the {result.rows_total} rows is valid "
            f"({', '.join(sorted(errors['rule'].unique()))}); nothing was written, the stored "
            f"{kind.value} are unchanged", report=report, path=str(path), layer=report.source.layer)
    key = KEYS[kind]
    checksum = source_checksum(path)
    t = time.perf_counter()

    def change(working: Store) -> LayerReplacement:
        """Under the writers' lock, on the store as it is now: what is kept, the diff, the log
        line. Reading the old layer before the lock lost a ward loaded meanwhile."""
        t_diff = time.perf_counter()
        new = result.valid
        kept = None
        report.scope, report.kept_other_wards, report.kept_quarantined = None, 0, 0
        if working.has(kind.value):
            parcels = kind is LayerKind.PARCELS
            plan = plan_replacement(working.read(kind.value), new, result.quarantine, key=key,
                                    scope_column=SCOPES.get(kind), replace_all=replace_all,
                                    system_column="ward_system" if parcels else None,
                                    system=system.value if parcels else None)
            if plan.conflicts.any():
                new = _set_aside(result, plan.conflicts, "key_other_system",
                                 _other_system_reasons(new.loc[plan.conflicts], plan.kept, key,
                                                       system))
            if parcels and len(plan.kept):
                twice = same_land(new, plan.kept, key=key)
                if len(twice):
                    mask = np.zeros(len(new), dtype=bool)
                    mask[twice["position"].to_numpy(int)] = True
                    new = _set_aside(result, mask, "same_land_stored",
                                     _same_land_reasons(new.loc[mask], twice, key))
            kept = plan.kept
            report.scope = plan.scope
            report.kept_other_wards = plan.kept_other
            report.kept_quarantined = plan.kept_quarantined
            report.diff = diff_layers(plan.old, new, key)
        else:
            report.diff = LayerDiff(tuple(new[key].astype(str)), (), (), 0)
        report.timings["diff"] = time.perf_counter() - t_diff
        if kept is not None and len(kept):
            new = gpd.GeoDataFrame(pd.concat([kept, new], ignore_index=True), geometry="geometry",
                                   crs=new.crs)
        if kind is LayerKind.PARCELS:
            # the units as they are now, under the lock: a units load meanwhile is not lost
            units = working.read("units") if working.has("units") else None
            new, _ = with_units(new.assign(ward_system=new["ward_system"].fillna(system.value))
                                if "ward_system" in new else new, units=units,
                                wards=stored_layer(working, "wards"))
        loaded = new.iloc[len(kept) if kept is not None else 0:]
        touched = sorted({str(u) for u in loaded["unit_code"].dropna()}) \
            if "unit_code" in loaded else []
        entry = IngestLogEntry(
            units=",".join(touched),
            kind=kind.value, source_path=str(Path(path).resolve()),
            source_layer=report.source.layer, source_sha256=checksum, user=user or _user(),
            started_at=started, finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            rows_total=result.rows_total, rows_loaded=len(result.valid),
            rows_quarantined=len(result.quarantine), crs_source=report.crs_source,
            crs_store=report.crs_working, engine=report.source.engine.value,
            added=len(report.diff.added), removed=len(report.diff.removed),
            changed=len(report.diff.changed),
            issues_json=json.dumps(result.summary()["issues"], ensure_ascii=False))
        # the stored parcels placed in new units, or named after new wards, in the same
        # transaction: no reader sees the new layer with parcels still following the old one
        also = parcels_after(working, kind.value, new)
        return LayerReplacement(new, entry, quarantine=result.quarantine, also=also,
                                quarantine_scope=report.scope if kind is LayerKind.PARCELS
                                else None)

    decided = store.replace_layer_with(kind.value, change)
    if "parcels" in decided.also:
        moved = "take the new wards' names" if kind is LayerKind.WARDS else "placed in the new units"
        report.crs_notes.append(f"{kind.value}: {len(decided.also['parcels']):,} stored parcels {moved}")
        if kind is LayerKind.UNITS:
            report.placement = _placement(decided.also["parcels"], decided.frame)
    report.timings["write"] = time.perf_counter() - t - report.timings.get("diff", 0.0)
    report.stored = True
    report.store_path = str(getattr(store, "path", ""))
    return report


def _other_provinces(store: Store, units: pd.DataFrame) -> pd.DataFrame:
    """A warning for each unit of a province the store is not in (a code of another province
    typed on one of ours sends our parcels there)."""
    from gis.units import province_names, store_provinces

    ours, source = store_provinces(store)
    if not ours or "province_code" not in units:
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    theirs = units[units["province_code"].notna() & ~units["province_code"].isin(ours)]
    ours_named = province_names(sorted(ours))
    return pd.DataFrame([{
        "row": int(r.source_row), "key": r.unit_code, "rule": "unit_other_province",
        "severity": "warning", "field": "unit_code", "value": r.unit_code,
        "message": f"unit {r.unit_code} ({r.name}) is in {province_names([r.province_code])}, "
                   f"but the store is in {ours_named} (by its {source}): check the code; "
                   "parcels inside this polygon would be placed in that province"}
        for r in theirs.itertuples()], columns=ISSUE_COLUMNS)


#: the column that limits what a load replaces (the others replace the whole layer)
SCOPES = {LayerKind.PARCELS: "ward_code", LayerKind.UNITS: "unit_code"}


def _other_system_reasons(aside: pd.DataFrame, stored: pd.DataFrame, key: str,
                          system: CodeSystem) -> list[str]:
    """Why rows whose key is a stored parcel of the other code system are kept aside."""
    owners = stored.drop_duplicates(key).set_index(key)
    other = "2025" if system is CodeSystem.LEGACY else "legacy"
    reasons = []
    for k, code in zip(aside[key].astype(str), aside["ward_code"].astype(str)):
        owner = owners.loc[k] if k in owners.index else None
        their = str(owner["ward_system"]) if owner is not None and "ward_system" in owners and \
            isinstance(owner["ward_system"], str) else other
        reasons.append(f"parcel {k} is already stored as a parcel of the {their} ward/unit "
                       f"{code}; this file's {system.value} code {code} is another unit and "
                       "must not replace it: check the file's code system (--units) or its "
                       "ward code")
    return reasons


def _same_land_reasons(aside: pd.DataFrame, twice: pd.DataFrame, key: str) -> list[str]:
    """Why rows that are stored parcels of another ward are kept aside."""
    return [f"parcel {k} is the land of stored parcel {t.stored_key} ({t.stored_system} ward "
            f"{t.stored_ward}; {t.share:.0%} of the smaller shared): the same land would be "
            "stored and counted twice; load it under one ward code (the stored parcels of a "
            "ward go when that ward's file is loaded again without them, or with --replace-all)"
            for k, t in zip(aside[key].astype(str), twice.itertuples())]


def _set_aside(result: ValidationResult, mask: np.ndarray, rule: str,
               reasons: list[str]) -> gpd.GeoDataFrame:
    """Move the valid rows of ``mask`` to the quarantine with their reasons; returns the rows
    still valid."""
    valid = result.valid
    aside = valid.loc[mask]
    issues = pd.DataFrame({"row": aside["source_row"].astype(int) if "source_row" in aside
                           else None, "key": aside[KEYS[LayerKind.PARCELS]].astype(str),
                           "rule": rule, "severity": Severity.ERROR.value, "field": "ward_code",
                           "value": aside["ward_code"].astype(str), "message": reasons})
    result.issues = pd.concat([result.issues, issues], ignore_index=True)
    moved = aside.assign(rules=rule, reason=reasons)
    result.quarantine = gpd.GeoDataFrame(pd.concat([result.quarantine, moved], ignore_index=True),
                                         geometry="geometry", crs=valid.crs)
    result.valid = valid.loc[~mask]
    return result.valid


def _placement(parcels: pd.DataFrame, units: pd.DataFrame | None) -> pd.DataFrame:
    """One line per surveyed ward: the 2025 unit(s) its parcels were placed in, and how."""
    names = {}
    if units is not None and {"unit_code", "name"} <= set(units.columns):
        names = {c: n for c, n in zip(units["unit_code"], units["name"])
                 if isinstance(c, str) and isinstance(n, str)}
    return placement_summary(parcels, registry(), unit_names=names)


def _code_system(kind: LayerKind, given: CodeSystem | str | None) -> CodeSystem:
    """The code system of a layer's codes: a units layer holds 2025 codes, cadastral layers
    legacy ones unless ``--units 2025`` says otherwise."""
    if kind is LayerKind.UNITS:
        if given is not None and CodeSystem.parse(given) is not CodeSystem.CURRENT:
            from gis.errors import UnitCodeError

            raise UnitCodeError("a units layer holds the commune-level units since 1 July 2025: "
                                f"--units {CodeSystem.parse(given).value} does not apply to it",
                                field="units", value=str(given))
        return CodeSystem.CURRENT
    if kind is LayerKind.WARDS and given is not None and \
            CodeSystem.parse(given) is CodeSystem.CURRENT:
        from gis.errors import UnitCodeError

        raise UnitCodeError("the wards layer holds the legacy wards as surveyed; the commune-level "
                            "units since 1 July 2025 are loaded with gis ingest units",
                            field="units", value=str(given))
    return CodeSystem.LEGACY if given is None else CodeSystem.parse(given)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
