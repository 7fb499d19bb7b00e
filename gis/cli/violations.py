"""``gis violations detect|list|show|flag|update``: violation cases for inspectors."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from gis.cli.engines import dask_engine, engine_options
from gis.cli.main import _handle_errors, _settings, cli, console, parse_day

if TYPE_CHECKING:
    from gis.store import Store


def _store() -> Store:
    from gis.store import open_store

    storage, _ = _settings()
    return open_store(storage.store_location)


def _who(value: str | None) -> str:
    if value:
        return value
    _, ingest = _settings()
    return ingest.user or getpass.getuser()


@cli.group()
def violations() -> None:
    """Land violations (vi phạm đất đai): detect by overlay, work cases through their lifecycle."""


@violations.command("detect")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False),
              help="Rules YAML (default GIS_RULES, else <GIS_CATALOG>/rules/violations.yaml).")
@click.option("--who", help="Who ran the detection (recorded in each new case's history).")
@engine_options
@_handle_errors
def detect_cmd(rules_path: str | None, who: str | None, engine: str,
               scheduler: str | None) -> None:
    """Overlay buildings × parcels; add a case for every new candidate (stable fingerprints)."""
    from gis.violations import detect

    _, settings = _settings()
    path = Path(rules_path) if rules_path else (settings.rules or settings.catalog / "rules" /
                                                "violations.yaml")
    with dask_engine(engine, scheduler) as client:
        find = None
        if client is not None:
            from gis.batch import detect_from_store

            def find(store, rules):  # type: ignore[no-untyped-def]
                return detect_from_store(store, rules, client=client)
        report = detect(_store(), rules=path, who=_who(who), candidates=find)
    console.print(f"{report.candidates} candidates ({', '.join(f'{k} {v}' for k, v in report.by_kind.items()) or 'none'}); "
                  f"{len(report.added)} new cases, {report.already_known} already known")
    for case_id in report.added[:30]:
        console.print(f"  + {case_id}")


def _since(value: str | None) -> dt.date | None:
    return parse_day(value, "--since")


def _kind(ctx, param, value):  # type: ignore[no-untyped-def]
    from gis.core.violations.rules import KINDS

    if value is not None and value not in KINDS:
        raise click.BadParameter(f"{value!r}; valid: {', '.join(KINDS)}")
    return value


_UNIT_HELP = "2025 commune-level unit code: only its cases (e.g. 09574)."


def _units(unit: str | None) -> tuple[str, ...] | None:
    from gis.core.units import CodeSystem
    from gis.units import resolve_unit

    return None if unit is None else (
        resolve_unit(unit, CodeSystem.CURRENT, hint="use --ward for a legacy ward code"),)


@violations.command("list")
@click.option("--ward", help="Legacy ward code (as surveyed).")
@click.option("--unit", help=_UNIT_HELP)
@click.option("--kind", callback=_kind)
@click.option("--status")
@click.option("--since", help="Cases arising on or after this day (YYYY-MM-DD or dd/mm/yyyy): "
              "the day the violation arose when known (building year), else the day recorded.")
@click.option("--format", "fmt", type=click.Choice(["table", "geojson", "csv"]), default="table",
              show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False))
@_handle_errors
def list_cmd(ward, unit, kind, status, since, fmt, out_path) -> None:  # type: ignore[no-untyped-def]
    """Cases, filtered by ward, kind, status and date; GeoJSON (WGS 84) or CSV for other tools."""
    from gis.io.write import reproject
    from gis.violations import list_cases

    cases = list_cases(_store(), ward=ward, kind=kind, status=status, since=_since(since),
                       units=_units(unit))
    if fmt == "geojson":
        frame = reproject(cases, "EPSG:4326")
        frame = frame.assign(parcel_keys=frame["parcel_keys"].fillna(""))
        text = frame.to_json(na="null", show_bbox=False, drop_id=True, to_wgs84=False)
        data = json.loads(text)
        for feature in data["features"]:
            keys = feature["properties"].get("parcel_keys") or ""
            feature["properties"]["parcel_keys"] = [k for k in keys.split(",") if k]
        text = json.dumps(data, ensure_ascii=False)
        if out_path:
            _write_text(out_path, text)
            console.print(f"{len(frame)} cases written to {out_path} (GeoJSON, WGS 84)")
        else:
            click.echo(text)
        return
    if fmt == "csv":
        from gis.io.tables_out import csv_text

        text = csv_text(cases.drop(columns="geometry"))
        if out_path:
            _write_text(out_path, text, bom=True)
            console.print(f"{len(cases)} cases written to {out_path}")
        else:
            click.echo(text)
        return
    table = Table(title=f"Violation cases ({len(cases)})")
    for col in ("case_id", "kind", "status", "source", "area_m2", "unit", "ward_code",
                "parcel_keys", "overdue"):
        table.add_column(col, overflow="fold")
    from gis.units import unit_names

    names = unit_names()
    for r in cases.itertuples():
        code = getattr(r, "unit_code", None)
        unit = f"{names.get(code, code)} ({code})" if isinstance(code, str) and code else ""
        table.add_row(r.case_id, r.kind, r.status, str(r.source), f"{float(r.area_m2 or 0):.1f}",
                      escape(unit), str(r.ward_code), escape(str(r.parcel_keys or "")),
                      escape(str(r.overdue or "")))
    console.print(table)


def _write_text(path: str, text: str, *, bom: bool = False) -> None:
    from gis.io.files import atomic_write_text

    atomic_write_text(path, text, bom=bom)


@violations.command("show")
@click.argument("case_id")
@_handle_errors
def show_cmd(case_id: str) -> None:
    """A case with its history."""
    from gis.violations import case_detail

    case, history = case_detail(_store(), case_id)
    table = Table(title=f"Case {case_id}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key, value in case.items():
        if key == "geometry" or value is None or (isinstance(value, float) and value != value):
            continue
        table.add_row(key, escape(str(value)))
    console.print(table)
    hist = Table(title="History")
    for col in ("at", "who", "field", "old", "new"):
        hist.add_column(col, overflow="fold")
    for r in history.itertuples():
        old = r.old if isinstance(r.old, str) else ""
        new = r.new if isinstance(r.new, str) else ""
        hist.add_row(str(r.at), escape(str(r.who)), str(r.field), escape(old), escape(new))
    console.print(hist)


@violations.command("flag")
@click.option("--kind", required=True, help="Decree 123/2024 category, e.g. encroachment_public_land.")
@click.option("--wkt", help="Point or polygon as WKT.")
@click.option("--point", nargs=2, type=float, help="X Y (easting northing, or lon lat with --crs EPSG:4326).")
@click.option("--crs", help="CRS of the coordinates (default the store's VN-2000 zone).")
@click.option("--source", type=click.Choice(["inspector", "citizen"]), default="inspector",
              show_default=True)
@click.option("--notes")
@click.option("--owner", "owner_name")
@click.option("--who", help="Inspector (default GIS_USER or login).")
@_handle_errors
def flag_cmd(kind, wkt, point, crs, source, notes, owner_name, who) -> None:  # type: ignore[no-untyped-def]
    """Record a case drawn or typed by an inspector, or reported by a citizen."""
    import shapely

    from gis.errors import CaseError
    from gis.violations import flag

    if bool(wkt) == bool(point):
        raise click.UsageError("give the place with exactly one of --wkt or --point X Y")
    try:
        geometry = shapely.from_wkt(wkt) if wkt else shapely.Point(*point)
    except shapely.errors.GEOSException as exc:
        raise CaseError(f"--wkt does not parse: {exc}", field="geometry") from None
    case_id = flag(_store(), geometry, kind=kind, who=_who(who), crs=crs, source=source,
                   notes=notes, owner_name=owner_name)
    console.print(f"case {case_id} recorded")


@violations.command("update")
@click.argument("case_ids", nargs=-1, required=True)
@click.option("--status", help="New status (only allowed transitions).")
@click.option("--minutes-no", "minutes_no", help="e.g. 12/BB-VPHC")
@click.option("--minutes-date", "minutes_date")
@click.option("--decision-no", "decision_no", help="e.g. 45/QĐ-XPHC")
@click.option("--decision-date", "decision_date")
@click.option("--conclusion-no", "conclusion_no", help="e.g. 316/KL-STNMT-TTr")
@click.option("--conclusion-date", "conclusion_date")
@click.option("--remedy-deadline", "remedy_deadline")
@click.option("--fine", "fine_vnd", type=int, help="Fine in VND.")
@click.option("--reason", "closed_reason", help="Why the case is closed or dismissed.")
@click.option("--inspector")
@click.option("--notes")
@click.option("--kind")
@click.option("--occurred-on", "occurred_on", help="The day the violation arose.")
@click.option("--who")
@_handle_errors
def update_cmd(case_ids: tuple[str, ...], who: str | None, **changes: object) -> None:
    """Move cases through their lifecycle and record documents; every change goes to history.

    Several CASE_IDS take the same change, e.g. one inspection conclusion
    (--conclusion-no 316/KL-STNMT-TTr) linking many cases: all or nothing.
    """
    from gis.violations import update_many

    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        raise click.UsageError("nothing to change: give --status or a field option")
    for line in update_many(_store(), list(case_ids), given, who=_who(who)):
        console.print(f"{line['case_id']}: {line['field']}: {escape(str(line['old'] or '—'))} → "
                      f"{escape(str(line['new']))}")


@violations.command("attach")
@click.argument("case_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--role", type=click.Choice(["photo", "document"]), default="photo", show_default=True)
@click.option("--note")
@click.option("--who")
@_handle_errors
def attach_cmd(case_id: str, path: str, role: str, note: str | None, who: str | None) -> None:
    """Attach a photo (JPEG, PNG, WebP, HEIC) or document (also PDF), checked by content, with
    its SHA-256; the file is kept beside the store."""
    from gis.violations import attach

    row = attach(_store(), case_id, path, role=role, who=_who(who), note=note)
    console.print(f"{case_id}: {role} {escape(str(row['filename']))} attached "
                  f"({row['mime']}, {int(row['size']):,} bytes, sha256 {str(row['sha256'])[:16]}…)")


@violations.command("report")
@click.option("--ward", help="Legacy ward code (as surveyed).")
@click.option("--unit", help=_UNIT_HELP)
@click.option("--kind")
@click.option("--status")
@click.option("--since", help="Only cases created on or after this day.")
@click.option("--cell", type=click.FloatRange(min=1.0), default=250.0, show_default=True,
              help="Hotspot grid cell (m).")
@click.option("--format", "fmt", type=click.Choice(["table", "xlsx", "csv", "json"]),
              default="table", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False))
@click.option("--units", "units", type=click.Choice(["2025", "legacy"]), default="2025",
              show_default=True, help="Count per commune-level unit and province since 1 July "
              "2025, or per legacy ward.")
@_handle_errors
def report_cmd(ward, unit, kind, status, since, cell, fmt, out_path, units) -> None:  # type: ignore[no-untyped-def]
    """Counts by kind, status, project and unit and province (--units legacy: ward), area
    involved, overdue cases, hotspots; and a chart."""
    from gis.core.violations.summary import counts, hotspots_by_ward, hotspots_on_grid
    from gis.report.violations import write_report
    from gis.violations import list_cases

    store = _store()
    from gis.units import place_cases, registry, unit_names

    cases = place_cases(store, list_cases(store, ward=ward, kind=kind, status=status,
                                          since=_since(since), units=_units(unit)))
    summary = counts(cases)
    wards = store.read("wards") if store.has("wards") else None
    hot = hotspots_by_ward(cases, wards)
    grid = hotspots_on_grid(cases, cell=cell)
    if fmt != "table":
        if not out_path:
            raise click.UsageError(f"--format {fmt} needs --out FILE")
        for p in write_report(cases, summary, hot, grid, out_path, fmt=fmt):
            console.print(f"written {p}")
        return
    console.print(f"{summary['cases']} cases ({summary['open']} open, {summary['overdue']} overdue), "
                  f"{summary['area_m2']:,.1f} m² involved")
    names = unit_names(store) if units == "2025" else {}
    provinces = registry().current.drop_duplicates("province_code").set_index(
        "province_code")["province"].to_dict()
    levels = (("by unit", "by_unit", names), ("by province", "by_province", provinces)) \
        if units == "2025" else (("by ward", "by_ward", {}),)
    for title, key, label in (("by kind", "by_kind", {}), ("by status", "by_status", {}),
                              ("by project", "by_project", {}), *levels,
                              ("by source", "by_source", {})):
        console.print(f"  {title}: " + ", ".join(
            f"{escape(str(label.get(k, '')) + ' ' if k in label else '')}{k} {v}"
            for k, v in summary.get(key, {}).items()))
    if len(grid):
        top = grid.iloc[0]
        c = top.geometry.centroid
        console.print(f"  hottest {cell:.0f} m cell: {int(top['cases'])} cases around "
                      f"({c.x:.0f}, {c.y:.0f})")


@violations.command("dossier")
@click.argument("case_id")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True)
@_handle_errors
def dossier_cmd(case_id: str, out_path: str) -> None:
    """The case dossier as PDF: map over its parcels, attributes, documents, photos, history."""
    from pathlib import Path as _Path

    from gis.report.dossier import write_dossier
    from gis.violations import attachments_dir, case_attachments, case_detail

    store = _store()
    case, history = case_detail(store, case_id)
    geom = case["geometry"]
    box = tuple(geom.buffer(max(25.0, (geom.area ** 0.5) * 2)).bounds)
    parcels = store.read("parcels", bbox=box, columns=["parcel_key", "land_use"])
    out = write_dossier(case, parcels, history, case_attachments(store, case_id),
                        _Path(attachments_dir(store)), out_path)
    console.print(f"dossier written to {out}")


@violations.command("export")
@click.option("--format", "fmt", type=click.Choice(["gpkg", "geojson", "shp", "csv"]), required=True)
@click.option("--crs", help="Output CRS (default the store's; GeoJSON is always WGS 84).")
@click.option("--ward", help="Legacy ward code (as surveyed).")
@click.option("--unit", help=_UNIT_HELP)
@click.option("--kind")
@click.option("--status")
@click.option("--since")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True)
@_handle_errors
def export_cmd(fmt, crs, ward, unit, kind, status, since, out_path) -> None:  # type: ignore[no-untyped-def]
    """Export cases (filtered) as GeoPackage, GeoJSON, Shapefile or CSV."""
    from gis.io.write import reproject, write_layer
    from gis.violations import list_cases

    cases = list_cases(_store(), ward=ward, kind=kind, status=status, since=_since(since),
                       units=_units(unit))
    if fmt == "csv":
        from gis.io.tables_out import csv_text

        _write_text(out_path, csv_text(cases.drop(columns="geometry")), bom=True)
    else:
        if fmt == "geojson":
            crs = "EPSG:4326"
        frame = reproject(cases, crs)
        points = frame.geom_type.isin(["Point", "MultiPoint"])
        if fmt == "shp" and points.any() and (~points).any():
            # a shapefile holds one geometry type: points and polygons go to two files
            out = Path(out_path)
            for part, mask in (("points", points), ("polygons", ~points)):
                target = out.with_name(f"{out.stem}_{part}{out.suffix}")
                for note in write_layer(frame[mask], target, fmt=fmt, layer="violations"):
                    console.print(f"  · {note}")
                console.print(f"  {int(mask.sum())} {part} in {target}")
        else:
            for note in write_layer(frame, out_path, fmt=fmt, layer="violations"):
                console.print(f"  · {note}")
    console.print(f"{len(cases)} cases written to {out_path}")
