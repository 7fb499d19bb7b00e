"""Land clearance: load status sheets, join parcels with project boundaries, report progress.

Orchestration only: reading and writing go through :mod:`gis.io` and the store; the logic is
in :mod:`gis.core.overlay` and :mod:`gis.core.clearance`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.core.clearance.history import (
    EVENT_TYPES,
    RECORD_TYPES,
    effective_events,
    effective_records,
    merge_load,
    typed,
)
from gis.core.clearance.progress import Progress, compute_progress
from gis.core.clearance.sheet import SheetContext, SheetParse, parse_sheet
from gis.core.clearance.summary import briefing, place_line
from gis.core.clearance.wording import Vocabulary
from gis.core.overlay import OverlayConfig, OverlayResult, overlay_parcels_projects
from gis.core.units import PLACE_COLUMNS, UNIT_COLUMNS, CodeSystem
from gis.errors import FieldMappingError, ParcelValidationError, StoreError
from gis.io.tables import TableSource, read_table
from gis.store.base import IngestLogEntry, Store
from gis.text import LANGS, Translator, translator
from gis.units import registry, unit_names, with_stored_names, with_units

__all__ = ["ClearanceIngestReport", "ingest_clearance", "prepare_clearance", "nothing_to_load",
           "read_history", "ClearanceRun",
           "run_clearance"]


@dataclass
class ClearanceIngestReport:
    """What loading a status sheet found and did."""

    source: TableSource
    parse: SheetParse
    events_before: int = 0
    events_after: int = 0
    stored: bool = False
    notes: list[str] = field(default_factory=list)
    #: the code system of the sheet's ward column (``legacy`` or ``2025``)
    units: str = CodeSystem.LEGACY.value

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form, issues included."""
        issues = self.parse.issues.astype(object).where(self.parse.issues.notna(), None)
        return {"source": {"path": self.source.path, "sheet": self.source.sheet,
                           "header_row": self.source.header_row, "sheets": list(self.source.sheets)},
                "units": self.units,
                "columns": self.parse.columns, "summary": self.parse.summary(),
                "events": {"before": self.events_before, "after": self.events_after},
                "notes": self.notes,
                "issues": issues.to_dict("records"), "stored": self.stored}

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the report: ``.json`` (everything) or ``.csv`` (one line per issue)."""
        from gis.io.files import write_report

        return write_report(path, self.to_dict(), self.parse.issues)


def _keys(store: Store, layer: str, column: str) -> set[str] | None:
    if not store.has(layer):
        return None
    frame = store.read(layer, columns=[column])
    return set(frame[column].astype(str))


def _names(store: Store, layer: str, key: str, name: str) -> dict[str, str] | None:
    if not store.has(layer):
        return None
    frame = store.read(layer, columns=[key, name])
    return {str(k): ("" if pd.isna(n) else str(n)) for k, n in zip(frame[key], frame[name])}


def _context(store: Store | None, source: TableSource, *, project: str | None,
             ward: str | None, system: CodeSystem = CodeSystem.LEGACY) -> SheetContext:
    title = tuple(getattr(source, "title_lines", ()))
    parts = tuple(getattr(source, "header_parts", ())) or None
    reg = registry()
    by_unit = None
    if system is CodeSystem.CURRENT:
        from gis.clearance_units import stored_unit_parcels

        by_unit = stored_unit_parcels(store, reg, path=source.path)
    if store is None:
        return SheetContext(project_id=project, ward=ward, title_lines=title, header_parts=parts,
                            code_system=system, registry=reg)
    keys = _keys(store, "parcels", "parcel_key")
    return SheetContext(
        project_id=project, ward=ward, projects=_names(store, "projects", "project_id", "name"),
        wards=_names(store, "wards", "ward_code", "name"),
        parcel_keys=frozenset(keys) if keys is not None else None,
        title_lines=title, header_parts=parts, code_system=system, unit_parcels=by_unit,
        registry=reg)


def prepare_clearance(path: str | os.PathLike[str], *, store: Store | None = None,
                      sheet: str | None = None, overrides: dict[str, str] | None = None,
                      known_on: dt.date | None = None, project: str | None = None,
                      ward: str | None = None, vocabulary: Vocabulary | None = None,
                      units: CodeSystem | str | None = None) -> ClearanceIngestReport:
    """Read and check a status sheet against the store's parcels, projects and wards; write
    nothing. ``project``/``ward`` fill rows that name none (``--project``, ``--ward``).

    ``units`` is the code system of the sheet's ward column (``--units``; default legacy). In
    2025 codes a row's (unit, sheet, number) is matched to the stored parcels' units and the
    row takes the parcel's legacy key; a (sheet, number) that is two parcels of the unit (two
    legacy wards number their sheets alike) is kept aside naming both."""
    from gis.catalog import load_vocabulary

    vocabulary = vocabulary or load_vocabulary()
    system = CodeSystem.parse(units) if units else CodeSystem.LEGACY
    frame, source = read_table(path, sheet=sheet)
    context = _context(store, source, project=project, ward=ward, system=system)
    if project and context.projects is not None and project not in context.projects:
        raise FieldMappingError(f"--project {project}: no such project in the store",
                                path=str(path), field="project")
    parse = parse_sheet(frame, vocabulary=vocabulary, sheet=source.sheet,
                        header_row=source.header_row, overrides=overrides, path=str(path),
                        context=context, known_on=known_on)
    _cell_problems(parse, source)
    report = ClearanceIngestReport(source, parse)
    if context.parcel_keys is None:
        report.notes.append("the store has no parcels yet: parcel keys were not checked")
    if context.projects is None:
        report.notes.append("the store has no projects yet: project ids were not checked")
    if parse.project_from == "title":
        pid = parse.records["project_id"].iloc[0] if len(parse.records) else None
        report.notes.append(f"project {pid} taken from the sheet's title")
    if parse.lacking:
        report.notes.append("columns this sheet lacks (their figures stay as earlier sheets "
                            "left them): " + ", ".join(parse.lacking))
    if system is CodeSystem.CURRENT:
        aside = int(parse.issues["rule"].eq("ambiguous_parcel").sum()) if len(parse.issues) \
            else 0
        report.notes.append("ward column read as 2025 unit codes (--units 2025): rows matched "
                            "to the stored parcels by unit, map sheet and parcel number, and "
                            "loaded with the parcel's legacy key"
                            + (f"; {aside} row(s) kept aside because their sheet and number "
                               "are two parcels of the unit" if aside else ""))
    report.units = system.value
    return report


def _cell_problems(parse: SheetParse, source: TableSource) -> None:
    """Formula cells the file holds without a value (never opened in Excel) are issues."""
    extra = [{"sheet": source.sheet, "row": row, "column": header, "value": formula,
              "rule": "formula_without_value", "severity": "warning",
              "message": f"the cell holds the formula {formula} but no computed value (the file "
                         "was never opened and saved in Excel); it was read as empty"}
             for row, header, formula in getattr(source, "formula_cells", ())]
    if extra:
        parse.issues = pd.concat([parse.issues, pd.DataFrame(extra)], ignore_index=True)


def nothing_to_load(report: ClearanceIngestReport, path: str | os.PathLike[str]
                    ) -> ParcelValidationError | None:
    """The refusal of a sheet with no loadable row (naming the first row's problem), or None."""
    parse = report.parse
    if len(parse.records):
        return None
    if parse.rows_total == 0:
        return ParcelValidationError(
            "the sheet has no data rows (only headers, totals or headings); nothing was written",
            report=report, path=str(path), layer=report.source.sheet)
    errors = parse.issues[parse.issues["severity"] == "error"]
    first = errors.iloc[0]
    return ParcelValidationError(
        f"none of the {parse.rows_total} rows can be loaded (all kept aside); first: "
        f"{first['message']}; nothing was written", report=report, path=str(path),
        layer=report.source.sheet, row=int(first["row"]), field=str(first["column"]))


def read_history(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The effective records and events of every sheet loaded (typed, resolved)."""
    return (effective_records(store.read_table("clearance_records")),
            effective_events(store.read_table("clearance_events")))


def ingest_clearance(store: Store, path: str | os.PathLike[str], *, sheet: str | None = None,
                     overrides: dict[str, str] | None = None, strict: bool = False,
                     user: str = "unknown", known_on: dt.date | None = None,
                     project: str | None = None, ward: str | None = None,
                     units: CodeSystem | str | None = None) -> ClearanceIngestReport:
    """Load a status sheet describing the situation on ``known_on`` (default today); its ward
    column in ``units`` (legacy ward codes by default, or 2025 unit codes: see
    :func:`prepare_clearance`).

    Every load is kept; the history that counts is resolved when reading
    (:mod:`gis.core.clearance.history`): a later sheet changes only the pairs and fields it
    carries. Loading the same file and sheet for the same day again replaces that load. Bad
    rows are kept aside in ``clearance_rejected``. A sheet with no loadable row writes nothing
    and raises :class:`ParcelValidationError` carrying the report; in ``strict`` mode any bad
    row refuses the sheet. The read-modify-write runs under the store's writer lock."""
    started = datetime.now(dt.UTC).isoformat(timespec="seconds")
    report = prepare_clearance(path, store=store, sheet=sheet, overrides=overrides,
                               known_on=known_on, project=project, ward=ward, units=units)
    parse = report.parse
    errors = parse.issues[parse.issues["severity"] == "error"]
    if strict and len(parse.rejected):
        first = errors.iloc[0]
        raise ParcelValidationError(
            f"--strict: {len(parse.rejected)} of {parse.rows_total} rows have errors; first: "
            f"{first['message']}; nothing was written", report=report, path=str(path),
            layer=report.source.sheet, row=int(first["row"]), field=str(first["column"]))
    refused = nothing_to_load(report, path)
    if refused is not None:
        raise refused
    source_path = str(Path(path).resolve())
    day = parse.records["known_on"].iloc[0]
    load_id = f"{source_path}|{report.source.sheet}|{day}"
    from gis.ingest import source_checksum

    checksum = source_checksum(path)

    def change(working: Store) -> dict[str, pd.DataFrame]:
        old_records = working.read_table("clearance_records")
        old_events = working.read_table("clearance_events")
        seq = 1 + max([int(pd.to_numeric(f["load_seq"], errors="coerce").max())
                       for f in (old_records, old_events)
                       if len(f) and "load_seq" in f and f["load_seq"].notna().any()] or [0])
        records = merge_load(old_records, parse.records.assign(load_id=load_id, load_seq=seq),
                             RECORD_TYPES)
        events = merge_load(old_events, parse.events.assign(
            known_on=day, load_id=load_id, load_seq=seq), EVENT_TYPES)
        report.events_before = len(effective_events(old_events)) if len(old_events) else 0
        report.events_after = len(effective_events(events))
        old_rejected = working.read_table("clearance_rejected")
        rejected = typed(parse.rejected, REJECTED_TYPES).assign(source_path=source_path)
        rejected["source_path"] = rejected["source_path"].astype("string")
        if len(old_rejected) and "source_path" in old_rejected:
            keep = typed(old_rejected[old_rejected["source_path"] != source_path],
                         {**REJECTED_TYPES, "source_path": "string"})
            rejected = pd.concat([keep, rejected], ignore_index=True)
        loads = working.read_table("clearance_sheets")
        this = pd.DataFrame([{"load_id": load_id, "source_path": source_path,
                              "sheet": report.source.sheet, "known_on": str(day),
                              "loaded_at": started, "user": user, "sha256": checksum,
                              "units": report.units,
                              "columns": json.dumps(sorted(parse.columns), ensure_ascii=False),
                              "lacking": json.dumps(parse.lacking), "rows_read": parse.rows_read,
                              "rows_loaded": len(parse.records),
                              "rows_rejected": len(parse.rejected)}])
        if len(loads) and "load_id" in loads:
            loads = loads[loads["load_id"] != load_id]
            this = pd.concat([loads.astype(object), this.astype(object)], ignore_index=True)
        this[["rows_read", "rows_loaded", "rows_rejected"]] = this[
            ["rows_read", "rows_loaded", "rows_rejected"]].apply(
            pd.to_numeric, errors="coerce").astype("Int64")
        return {"clearance_records": typed(records, RECORD_TYPES, for_store=True),
                "clearance_events": typed(events, EVENT_TYPES, for_store=True),
                "clearance_rejected": typed(rejected, {**REJECTED_TYPES, "source_path": "string"},
                                            for_store=True),
                "clearance_sheets": this}

    entry = IngestLogEntry(
        units=",".join(_sheet_units(store, parse.records)),
        kind="clearance", source_path=source_path, source_layer=report.source.sheet,
        source_sha256=checksum, user=user, started_at=started,
        finished_at=datetime.now(dt.UTC).isoformat(timespec="seconds"),
        rows_total=parse.rows_total, rows_loaded=len(parse.records),
        rows_quarantined=len(parse.rejected), crs_source=None, crs_store="",
        engine=Path(path).suffix.lower().lstrip(".") or "table",
        added=len(parse.events), issues_json=json.dumps(parse.summary()["issues"]))
    store.modify(change, log=entry)
    report.stored = True
    return report


def _sheet_units(store: Store, records: pd.DataFrame) -> list[str]:
    """The 2025 units of the stored parcels a sheet's rows name (for the ingest log)."""
    from gis.store.query import LayerQuery

    if not len(records) or "parcel_key" not in records or not store.has("parcels") or \
            store.layer_info("parcels").field("unit_code") is None:
        return []
    keys = tuple(sorted({str(k) for k in records["parcel_key"].dropna()}))
    found = store.query("parcels", LayerQuery(keys=keys, columns=("unit_code",),
                                              with_geometry=False))
    return sorted({str(u) for u in found.values["unit_code"] if u}) if len(found) else []


REJECTED_TYPES = {**RECORD_TYPES, "reason": "string"}


def _lacking(loads: pd.DataFrame) -> list[str]:
    """Optional columns that no loaded sheet had (their figures are empty)."""
    if loads.empty or "lacking" not in loads:
        return []
    sets = [set(json.loads(v)) for v in loads["lacking"].dropna() if str(v).startswith("[")]
    return sorted(set.intersection(*sets)) if sets else []


@dataclass
class ClearanceRun:
    """A computed progress, the overlay behind it and the briefing paragraph."""

    progress: Progress
    overlay: OverlayResult
    summary: dict[str, str] = field(default_factory=dict)
    rows_outside: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, object]:
        """The JSON report: projects, wards, district, summary (vi, en), problems."""
        def records(frame: pd.DataFrame) -> list[dict[str, object]]:
            clean = frame.drop(columns=[c for c in ("geometry",) if c in frame.columns])
            return json.loads(clean.to_json(orient="records", date_format="iso", force_ascii=False))

        return {"as_of": self.progress.as_of.isoformat(),
                "projects": records(self.progress.projects),
                "wards": records(self.progress.wards),
                "units": records(self.progress.units),
                "provinces": records(self.progress.provinces),
                "district": self.progress.district,
                "summary": self.summary,
                "overlay": self.overlay.summary(),
                "problems": records(self.progress.problems),
                "rows_outside_project": records(self.rows_outside)}


#: the parcel fields the figures need (owners decide plans, units group them)
PARCEL_FIELDS = ["parcel_key", "ward_code", "owner_name", "is_public",
                 *(c for c in UNIT_COLUMNS if c not in ("unit_name", "province_name"))]

#: how the parcels × projects overlay is computed from the store: in this process, from the
#: parcels meeting a project boundary (:func:`_parcels_in`), by default; or on Dask
#: (:func:`gis.batch.overlay_from_store`, whose workers read those parcels in spatial
#: partitions). Given the store, the projects and the config, it returns the overlay and the
#: parcels (the :data:`PARCEL_FIELDS` the layer has, and geometry) of at least every parcel in
#: a pair, in the layer's order; both engines give the same figures
Overlay = Callable[[Store, gpd.GeoDataFrame, OverlayConfig],
                   tuple[OverlayResult, gpd.GeoDataFrame]]


def _overlay_here(store: Store, projects: gpd.GeoDataFrame,
                  config: OverlayConfig) -> tuple[OverlayResult, gpd.GeoDataFrame]:
    parcels = _parcels_in(store, projects)
    return overlay_parcels_projects(parcels[["parcel_key", "ward_code", "geometry"]], projects,
                                    config=config), parcels


def run_clearance(store: Store, *, as_of: dt.date | None = None,
                  config: OverlayConfig = OverlayConfig(), write_back: bool = True,
                  overlay: Overlay | None = None,
                  units: CodeSystem | str = CodeSystem.CURRENT) -> ClearanceRun:
    """Join parcels × projects × statuses and roll up progress. The current figures (no
    ``as_of``) are stored for maps and the service; a past day's are not.

    Storing them is a read-modify-write: the figures are computed from the store as it is under
    the writers' lock (a parcels load meanwhile cannot leave them stale). ``overlay`` runs the
    parcels × projects overlay elsewhere (the Dask engine). ``units`` words the briefing by
    the 2025 units and province (default) or by the legacy district; both groupings are in
    the run."""
    how = overlay or _overlay_here
    system = CodeSystem.parse(units)
    if not (write_back and as_of is None):
        return _compute(store, as_of=as_of, config=config, overlay=how, units_system=system)[0]
    runs: list[ClearanceRun] = []

    def change(working: Store) -> dict[str, pd.DataFrame]:
        run, tables = _compute(working, as_of=None, config=config, overlay=how,
                               units_system=system)
        runs.append(run)
        return tables

    store.modify(change)
    return runs[0]


def project_area(projects: gpd.GeoDataFrame) -> object | None:
    """The union of the project boundaries (None without any): the parcels meeting it are
    the only ones a clearance figure can count."""
    import shapely

    boundaries = np.asarray(projects.geometry.values, dtype=object)
    boundaries = boundaries[~(shapely.is_missing(boundaries) | shapely.is_empty(boundaries))]
    if len(boundaries) == 0:
        return None
    return shapely.union_all(shapely.make_valid(boundaries))


def _parcels_in(store: Store, projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The parcels meeting a project boundary (the only ones a clearance figure can count), by
    the store's area query: a province's service reads the parcels of its projects, not its
    millions of parcels."""
    from gis.store.query import LayerQuery

    fields = store.layer_info("parcels").types
    columns = tuple(c for c in PARCEL_FIELDS if c in fields)
    area = project_area(projects)
    q = LayerQuery(fids=(), columns=columns) if area is None else \
        LayerQuery(area=area, columns=columns)
    frame = store.query("parcels", q).frame.reset_index(drop=True)
    return frame[[*columns, "geometry"]]


def _name_levels(progress: Progress, store: Store) -> None:
    """Names beside codes: wards (stored names, else the national legacy list) with their
    former district; units (stored names, else the 2025 list) with their province."""
    reg = registry()
    legacy = reg.legacy
    stored = store.read("wards", columns=["ward_code", "name"]) if store.has("wards") else None
    names = legacy["name"].astype(str).to_dict()
    if stored is not None:
        names.update({c: n for c, n in zip(stored["ward_code"], stored["name"])
                      if isinstance(c, str) and isinstance(n, str)})
    w = progress.wards
    if "ward_code" in w:
        w.insert(1, "ward_name", w["ward_code"].map(names).astype("string"))
        w.insert(2, "district", w["ward_code"].map(legacy["district"]).astype("string"))
    u = progress.units
    if "unit_code" in u:
        u.insert(1, "unit_name", u["unit_code"].map(unit_names(store, reg)).astype("string"))
        u.insert(2, "province", u["unit_code"].map(reg.current["province"]).astype("string"))
    p = progress.provinces
    if "province_code" in p:
        provinces = reg.current.drop_duplicates("province_code").set_index("province_code")
        p.insert(1, "province", p["province_code"].map(provinces["province"]).astype("string"))


def _place(progress: Progress, system: CodeSystem, translate: Translator) -> str:
    """The briefing's opening: the units and province (2025), or the former district (legacy),
    the former district named for history."""
    reg = registry()
    former = reg.former_districts(progress.wards.get("ward_code", pd.Series(dtype=str)))
    if system is CodeSystem.LEGACY:
        return place_line([], [], [], translate=translate) or "; ".join(former)
    u = progress.units
    units = u.sort_values("parcels_affected", ascending=False)["unit_name"].dropna().tolist() \
        if "unit_name" in u else []
    provinces = progress.provinces["province"].dropna().tolist() \
        if "province" in progress.provinces else []
    return place_line(units, provinces, [d.split(",")[0] for d in former], translate=translate)


def _compute(store: Store, *, as_of: dt.date | None, config: OverlayConfig,
             overlay: Overlay = _overlay_here, units_system: CodeSystem = CodeSystem.CURRENT
             ) -> tuple[ClearanceRun, dict[str, pd.DataFrame]]:
    """The run, and the tables maps and the service read (for the current figures)."""
    for layer in ("parcels", "projects"):
        if not store.has(layer):
            raise StoreError(f"the store has no {layer} layer yet; run `gis ingest {layer} PATH`",
                             layer=layer)
    from gis.catalog import load_vocabulary

    projects = store.read("projects")
    vocabulary = load_vocabulary()
    if "capital_source_text" in projects:
        # capital sources as offices write them: budget / non-budget / unknown (never NULL)
        coded = projects["capital_source_text"].map(vocabulary.capital_source)
        projects["capital_source"] = coded.where(coded.notna(), projects.get("capital_source"))
    overlaid, parcels = overlay(store, projects, config)
    if "unit_code" not in parcels.columns:  # a store loaded before units were kept
        parcels, _ = with_units(parcels, units=store.read("units") if store.has("units")
                                else None)
    places = parcels.drop_duplicates("parcel_key").set_index("parcel_key")
    for column in ("unit_code", "province_code"):
        overlaid.pairs[column] = overlaid.pairs["parcel_key"].map(places[column]).astype("string")
    # names beside the codes of each pair (project_parcels, the clearance export and OGC)
    overlaid.pairs = with_stored_names(overlaid.pairs, store)
    records, events = read_history(store)
    owners = pd.DataFrame(parcels.drop(columns=["geometry", *PLACE_COLUMNS], errors="ignore"))
    progress = compute_progress(overlaid.pairs, projects, records, events, as_of=as_of,
                                parcels=owners, vocabulary=vocabulary)
    loads = store.read_table("clearance_sheets")
    progress.district["columns_lacking"] = _lacking(loads)
    _name_levels(progress, store)
    day = progress.as_of.strftime("%d/%m/%Y")
    summary = {lang: briefing(progress.district, as_of=day, translate=translator(lang),
                              place=_place(progress, units_system, translator(lang)))
               for lang in LANGS}
    outside = pd.DataFrame()
    if len(records):
        known = set(zip(overlaid.pairs["project_id"], overlaid.pairs["parcel_key"]))
        mask = [(p, k) not in known for p, k in zip(records["project_id"], records["parcel_key"])]
        outside = records.loc[mask, ["sheet", "sheet_row", "project_id", "parcel_key", "status"]]
        outside = outside.drop_duplicates(["project_id", "parcel_key"], keep="last")
    run = ClearanceRun(progress, overlaid, summary, outside.reset_index(drop=True))
    if len(outside):
        latest = records.drop_duplicates(["project_id", "parcel_key"], keep="last").set_index(
            ["project_id", "parcel_key"])
        idx = pd.MultiIndex.from_frame(outside[["project_id", "parcel_key"]])
        approved = latest["compensation_approved_vnd"].reindex(idx).to_numpy()
        paid = latest["compensation_paid_vnd"].reindex(idx).to_numpy()

        def money(a: object, p: object) -> str:
            parts = [f"{label} {int(v):,} đồng" for label, v in (("approved", a), ("paid", p))
                     if v is not None and not pd.isna(v)]
            return f" (amounts not counted: {', '.join(parts)})" if parts else ""

        extra = pd.DataFrame({"kind": "row_outside_project", "project_id": outside["project_id"],
                              "parcel_key": outside["parcel_key"],
                              "detail": [f"sheet {s} row {r}: the parcel does not overlap the "
                                         "project boundary (or only by a sliver); its figures are "
                                         f"not counted{money(a, p)}" for s, r, a, p in zip(
                                             outside["sheet"], outside["sheet_row"], approved, paid)],
                              "approved_vnd": pd.array(approved, dtype="Int64"),
                              "paid_vnd": pd.array(paid, dtype="Int64")})
        progress.problems = pd.concat([progress.problems, extra], ignore_index=True)
    tables: dict[str, pd.DataFrame] = {}
    if as_of is None:
        internal = ["ward_code", "unit_code", "province_code", "overlap_m2", "owner_sheet", "row_problem", "sheet_area_m2",
                    "sheet_compensation_approved_vnd", "sheet_compensation_paid_vnd", "plan_id",
                    "plan_done"]
        pairs = overlaid.pairs.merge(
            progress.parcels.drop(columns=[c for c in internal if c in progress.parcels]),
            on=["project_id", "parcel_key"], how="left")
        pairs["as_of"] = progress.as_of.isoformat()
        by_project = projects[["project_id", "geometry"]].merge(
            progress.projects, on="project_id", how="right")
        by_project = gpd.GeoDataFrame(by_project, geometry="geometry", crs=projects.crs)
        by_project["as_of"] = progress.as_of.isoformat()
        wards = progress.wards.assign(as_of=progress.as_of.isoformat())
        tables = {"clearance_units": progress.units.assign(as_of=progress.as_of.isoformat()),
                  "clearance_provinces": progress.provinces.assign(
                      as_of=progress.as_of.isoformat()),"project_parcels": gpd.GeoDataFrame(pairs, geometry="geometry",
                                                      crs=projects.crs),
                  "clearance_projects": by_project, "clearance_wards": wards,
                  "clearance_problems": progress.problems.assign(
                      as_of=progress.as_of.isoformat())}
    return run, tables
