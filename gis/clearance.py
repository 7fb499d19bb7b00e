"""Land clearance: load status sheets, join parcels with project boundaries, report progress.

Orchestration only: reading and writing go through :mod:`gis.io` and the store; the logic is
in :mod:`gis.core.overlay` and :mod:`gis.core.clearance`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis.core.clearance.progress import Progress, compute_progress
from gis.core.clearance.sheet import EVENT_COLUMNS, SheetParse, parse_sheet
from gis.core.clearance.summary import briefing
from gis.core.overlay import OverlayConfig, OverlayResult, overlay_parcels_projects
from gis.errors import ParcelValidationError, StoreError
from gis.io.tables import TableSource, read_table
from gis.store.base import IngestLogEntry, Store

__all__ = ["ClearanceIngestReport", "ingest_clearance", "prepare_clearance", "ClearanceRun",
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

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form, issues included."""
        issues = self.parse.issues.astype(object).where(self.parse.issues.notna(), None)
        return {"source": {"path": self.source.path, "sheet": self.source.sheet,
                           "header_row": self.source.header_row, "sheets": list(self.source.sheets)},
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


def prepare_clearance(path: str | os.PathLike[str], *, store: Store | None = None,
                      sheet: str | None = None, overrides: dict[str, str] | None = None,
                      known_on: dt.date | None = None) -> ClearanceIngestReport:
    """Read and check a status sheet against the store's parcels and projects; write nothing."""
    frame, source = read_table(path, sheet=sheet)
    parcel_keys = _keys(store, "parcels", "parcel_key") if store else None
    project_ids = _keys(store, "projects", "project_id") if store else None
    parse = parse_sheet(frame, sheet=source.sheet, header_row=source.header_row,
                        overrides=overrides, path=str(path), parcel_keys=parcel_keys,
                        project_ids=project_ids, known_on=known_on)
    report = ClearanceIngestReport(source, parse)
    if parcel_keys is None:
        report.notes.append("the store has no parcels yet: parcel keys were not checked")
    if project_ids is None:
        report.notes.append("the store has no projects yet: project ids were not checked")
    return report


def _read_events(store: Store) -> pd.DataFrame:
    events = store.read_table("clearance_events")
    if events.empty:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    events["date"] = pd.to_datetime(events["date"], errors="coerce").dt.date
    events["date"] = events["date"].astype(object).where(events["date"].notna(), None)
    return events


def ingest_clearance(store: Store, path: str | os.PathLike[str], *, sheet: str | None = None,
                     overrides: dict[str, str] | None = None, strict: bool = False,
                     user: str = "unknown", known_on: dt.date | None = None
                     ) -> ClearanceIngestReport:
    """Load a status sheet describing the situation on ``known_on`` (default today).

    The history grows: records are kept per ``known_on`` (households, complaints "as of"); for
    the pairs in this sheet its milestone dates replace the earlier ones (corrections), while the
    earlier sheets' undated statuses stay as what was known on their day. Bad rows are kept aside
    in ``clearance_rejected`` (per sheet). In ``strict`` mode any bad row refuses the sheet."""
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    report = prepare_clearance(path, store=store, sheet=sheet, overrides=overrides,
                               known_on=known_on)
    parse = report.parse
    if strict and len(parse.rejected):
        first = parse.issues[parse.issues["severity"] == "error"].iloc[0]
        raise ParcelValidationError(
            f"--strict: {len(parse.rejected)} of {parse.rows_total} rows have errors; first: "
            f"{first['message']}; nothing was written", report=None, path=str(path),
            layer=report.source.sheet, row=int(first["row"]), field=str(first["column"]))
    old = _read_events(store)
    if len(old):
        pairs = set(zip(parse.events["project_id"], parse.events["parcel_key"]))
        in_sheet = pd.Series([p in pairs for p in zip(old["project_id"], old["parcel_key"])],
                             index=old.index)
        snapshot = old["dated_by"].astype(str) == "known_on"
        kept = old[~in_sheet | snapshot]
        merged = pd.concat([kept, parse.events], ignore_index=True)
    else:
        merged = parse.events
    merged = merged.assign(_d=merged["date"].astype(str)).drop_duplicates(
        ["project_id", "parcel_key", "status", "_d"], keep="last").drop(columns="_d")
    report.events_before, report.events_after = len(old), len(merged)
    old_records = store.read_table("clearance_records")
    records = parse.records
    if len(old_records) and len(records):
        day = str(records["known_on"].iloc[0])
        old_records = old_records[old_records["known_on"].astype(str).str[:10] != day[:10]]
        records = pd.concat([old_records, records], ignore_index=True)
    old_rejected = store.read_table("clearance_rejected")
    from gis.ingest import source_checksum

    entry = IngestLogEntry(
        kind="clearance", source_path=str(Path(path).resolve()), source_layer=report.source.sheet,
        source_sha256=source_checksum(path), user=user, started_at=started,
        finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        rows_total=parse.rows_total, rows_loaded=len(parse.records),
        rows_quarantined=len(parse.rejected), crs_source=None, crs_store="",
        engine="openpyxl" if str(path).lower().endswith(("xlsx", "xlsm")) else "csv",
        added=len(merged) - len(old), issues_json=json.dumps(parse.summary()["issues"]))
    rejected = parse.rejected.assign(source_path=str(Path(path).resolve())) \
        if len(parse.rejected) else pd.DataFrame({"sheet": pd.Series([], dtype="string"),
                                                  "reason": pd.Series([], dtype="string"),
                                                  "source_path": pd.Series([], dtype="string")})
    if len(old_rejected) and "source_path" in old_rejected:
        keep = old_rejected[old_rejected["source_path"] != str(Path(path).resolve())]
        rejected = pd.concat([keep, rejected], ignore_index=True)
    store.write_tables({"clearance_records": records, "clearance_events": merged,
                        "clearance_rejected": rejected}, log=entry)
    report.stored = True
    return report


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
                "district": self.progress.district,
                "summary": self.summary,
                "overlay": self.overlay.summary(),
                "problems": records(self.progress.problems),
                "rows_outside_project": records(self.rows_outside)}


def run_clearance(store: Store, *, as_of: dt.date | None = None,
                  config: OverlayConfig = OverlayConfig(), write_back: bool = True) -> ClearanceRun:
    """Join parcels × projects × statuses and roll up progress. The current figures (no
    ``as_of``) are stored for maps and the service; a past day's are not."""
    for layer in ("parcels", "projects"):
        if not store.has(layer):
            raise StoreError(f"the store has no {layer} layer yet; run `gis ingest {layer} PATH`",
                             layer=layer)
    parcels = store.read("parcels", columns=["parcel_key", "ward_code"])
    projects = store.read("projects")
    overlay = overlay_parcels_projects(parcels, projects, config=config)
    records = store.read_table("clearance_records")
    events = _read_events(store)
    progress = compute_progress(overlay.pairs, projects, records, events, as_of=as_of)
    day = progress.as_of.strftime("%d/%m/%Y")
    summary = {"vi": briefing(progress.district, as_of=day, lang="vi"),
               "en": briefing(progress.district, as_of=day, lang="en")}
    outside = pd.DataFrame()
    if len(records):
        known = set(zip(overlay.pairs["project_id"], overlay.pairs["parcel_key"]))
        mask = [(p, k) not in known for p, k in zip(records["project_id"], records["parcel_key"])]
        outside = records.loc[mask, ["sheet", "sheet_row", "project_id", "parcel_key", "status"]]
        outside = outside.drop_duplicates(["project_id", "parcel_key"], keep="last")
    run = ClearanceRun(progress, overlay, summary, outside.reset_index(drop=True))
    if len(outside):
        extra = pd.DataFrame({"kind": "row_outside_project", "project_id": outside["project_id"],
                              "parcel_key": outside["parcel_key"],
                              "detail": [f"sheet {s} row {r}: the parcel does not overlap the "
                                         "project boundary (or only by a sliver); its figures are "
                                         "not counted" for s, r in zip(outside["sheet"],
                                                                       outside["sheet_row"])]})
        progress.problems = pd.concat([progress.problems, extra], ignore_index=True)
    if write_back and as_of is None:
        pairs = overlay.pairs.merge(
            progress.parcels.drop(columns=["ward_code", "overlap_m2"]),
            on=["project_id", "parcel_key"], how="left")
        pairs["as_of"] = progress.as_of.isoformat()
        by_project = projects[["project_id", "geometry"]].merge(
            progress.projects, on="project_id", how="right")
        by_project = gpd.GeoDataFrame(by_project, geometry="geometry", crs=projects.crs)
        by_project["as_of"] = progress.as_of.isoformat()
        wards = progress.wards.assign(as_of=progress.as_of.isoformat())
        store.write_tables({"project_parcels": gpd.GeoDataFrame(pairs, geometry="geometry",
                                                                crs=parcels.crs),
                            "clearance_projects": by_project, "clearance_wards": wards,
                            "clearance_problems": progress.problems.assign(
                                as_of=progress.as_of.isoformat())})
    return run
