"""``gis ingest clearance`` and ``gis clearance report|chart``: land-clearance progress."""

from __future__ import annotations

import datetime as dt
import json

import click
from rich.markup import escape
from rich.table import Table

from gis.cli.engines import dask_engine, engine_options
from gis.cli.main import _handle_errors, _settings, cli, console, parse_day
from gis.text import N_, gettext

__all__ = ["ingest_clearance_cmd", "validate_clearance_cmd", "print_sheet_report"]


def ingest_clearance_cmd(store, path: str, *, sheet: str | None, strict: bool,  # type: ignore[no-untyped-def]
                         user: str | None, report_path: str | None,
                         config: str | None = None, known_on: str | None = None,
                         project: str | None = None, ward: str | None = None,
                         units: str | None = None) -> None:
    """Body of ``gis ingest clearance``; ``config`` is a sheet YAML (``columns:``, ``sheet:``);
    ``units`` the code system of its ward column (``--units``).

    A sheet with no loadable row prints its per-row report, writes nothing and exits non-zero.
    """
    import getpass

    from gis.catalog import load_sheet_spec
    from gis.clearance import ingest_clearance
    from gis.errors import ParcelValidationError

    spec = load_sheet_spec(config) if config else None
    try:
        report = ingest_clearance(store, path, sheet=sheet or (spec.sheet if spec else None),
                                  strict=strict, user=user or getpass.getuser(),
                                  overrides=dict(spec.columns) if spec else None,
                                  known_on=_as_of(known_on), project=project, ward=ward,
                                  units=units)
    except ParcelValidationError as exc:
        if exc.report is not None and hasattr(exc.report, "parse"):
            print_sheet_report(exc.report, report_path)
            exc.report = None
        raise
    print_sheet_report(report, report_path)


def validate_clearance_cmd(path: str, *, sheet: str | None, config: str | None,  # type: ignore[no-untyped-def]
                           report_path: str | None, known_on: str | None = None,
                           project: str | None = None, ward: str | None = None,
                           units: str | None = None) -> None:
    """Body of ``gis validate PATH --kind clearance``: the same report, nothing written."""
    from gis.catalog import load_sheet_spec
    from gis.clearance import nothing_to_load, prepare_clearance
    from gis.store import open_store

    storage, _ = _settings()
    store = open_store(storage.store_location) if storage.store_exists() else None
    spec = load_sheet_spec(config) if config else None
    report = prepare_clearance(path, store=store, sheet=sheet or (spec.sheet if spec else None),
                               overrides=dict(spec.columns) if spec else None,
                               known_on=_as_of(known_on), project=project, ward=ward,
                               units=units)
    print_sheet_report(report, report_path)
    refused = nothing_to_load(report, path)
    if refused is not None:
        refused.report = None  # printed above
        raise refused


def print_sheet_report(report, report_path: str | None) -> None:  # type: ignore[no-untyped-def]
    """What a sheet holds and what loading it does: columns, problems by row, counts."""
    for note in report.notes:
        console.print(f"  · {escape(note)}")
    p = report.parse
    console.print(f"[bold]clearance[/] from [cyan]{escape(report.source.path)}[/] "
                  f"(sheet {escape(report.source.sheet)}, headers on row {report.source.header_row})")
    mapped = Table(title="Columns (model ← sheet)")
    mapped.add_column("model field")
    mapped.add_column("sheet column")
    for model, header in p.columns.items():
        mapped.add_row(model, escape(str(header)))
    console.print(mapped)
    shown = p.issues[p.issues["rule"] != "missing_column"] if len(p.issues) else p.issues
    if len(shown):
        issues = Table(title="Problems by row (kept aside when error)")
        for col in ("row", "column", "value", "rule", "severity", "message"):
            issues.add_column(col, overflow="fold")
        for r in shown.head(40).itertuples():
            value = "" if r.value is None or (isinstance(r.value, float) and r.value != r.value) \
                else str(r.value)
            issues.add_row(str(r.row), escape(str(r.column)), escape(value), r.rule,
                           r.severity, escape(str(r.message)))
        console.print(issues)
        if len(shown) > 40:
            console.print(f"  … {len(shown) - 40} more in --report")
    console.print(f"rows: {p.rows_read:,} read = [green]{len(p.records):,} accepted[/] + "
                  f"[red]{len(p.rejected):,} kept aside[/] (table clearance_rejected) + "
                  f"{p.total_rows:,} total rows + {p.section_rows:,} section rows")
    if report.stored:
        console.print(f"status history: {report.events_before:,} → {report.events_after:,} "
                      "dated events")
    else:
        console.print("nothing was written")
    if report_path:
        console.print(f"report written to {report.write(report_path)}")


@cli.group()
def clearance() -> None:
    """Land clearance (giải phóng mặt bằng): progress per project, ward and district."""


def _as_of(value: str | None) -> dt.date | None:
    return parse_day(value, "--as-of")


def _overlay_options(func):  # type: ignore[no-untyped-def]
    func = click.option("--min-share", type=float, default=0.005, show_default=True,
                        help="Ignore overlaps under this share of the parcel (slivers).")(func)
    func = click.option("--min-area", type=float, default=1.0, show_default=True,
                        help="Ignore overlaps under this many m² (slivers).")(func)
    func = engine_options(func)
    return click.option("--as-of", "as_of", help="Figures as known on this day "
                        "(YYYY-MM-DD or dd/mm/yyyy; default today).")(func)


def _run(as_of: str | None, min_area: float, min_share: float, *,  # type: ignore[no-untyped-def]
         write_back: bool = True, engine: str = "single", scheduler: str | None = None,
         units: str = "2025"):
    from gis.clearance import run_clearance
    from gis.core.overlay import OverlayConfig
    from gis.store import open_store

    storage, _ = _settings()
    store = open_store(storage.store_location)
    config = OverlayConfig(min_area_m2=min_area, min_share=min_share)
    with dask_engine(engine, scheduler) as client:
        overlay = None
        if client is not None:
            from gis.batch import overlay_from_store
            from gis.clearance import PARCEL_FIELDS, project_area

            def overlay(store, projects, config):  # type: ignore[no-untyped-def]
                import shapely

                area = project_area(projects)  # None: no boundary, no parcel to read
                return overlay_from_store(store, projects, client=client, config=config,
                                          fields=PARCEL_FIELDS,
                                          area=shapely.Polygon() if area is None else area)
        return run_clearance(store, as_of=_as_of(as_of), write_back=write_back, config=config,
                             overlay=overlay, units=units)


@clearance.command("report")
@_overlay_options
@click.option("--format", "fmt", type=click.Choice(["table", "xlsx", "csv", "json"]),
              default="table", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False),
              help="Output file (required for xlsx, csv; json prints when absent).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--units", "units", type=click.Choice(["2025", "legacy"]), default="2025",
              show_default=True, help="Levels of the report: the commune-level units and "
              "provinces since 1 July 2025, or the legacy wards and district (for comparisons "
              "with earlier years).")
@_handle_errors
def report_cmd(as_of: str | None, min_area: float, min_share: float, engine: str,
               scheduler: str | None, fmt: str, out_path: str | None, lang: str,
               units: str) -> None:
    """Join parcels, project boundaries and statuses; print or write the progress report
    per project, per commune-level unit and per province (--units legacy: per ward and
    district).

    Results are also written back to the store (project_parcels, clearance_projects,
    clearance_wards, clearance_units, clearance_provinces, clearance_problems) for maps and
    the service.
    """
    from gis.report.clearance import report_table, write_csv, write_xlsx

    if fmt in ("xlsx", "csv") and not out_path:
        raise click.UsageError(f"--format {fmt} needs --out FILE")
    run = _run(as_of, min_area, min_share, engine=engine, scheduler=scheduler, units=units)
    progress = run.progress
    if fmt == "json":
        text = json.dumps(run.to_dict(), ensure_ascii=False, indent=1, default=str)
        if out_path:
            from gis.io.files import atomic_write_text

            console.print(f"report written to {atomic_write_text(out_path, text)}")
        else:
            click.echo(text)
        return
    if fmt == "xlsx":
        console.print(f"written {write_xlsx(progress, out_path, lang=lang, summary=run.summary[lang], units=units)}")
    elif fmt == "csv":
        for p in write_csv(progress, out_path, lang=lang, units=units):
            console.print(f"written {p}")
    else:
        levels = ("projects", "units", "provinces") if units == "2025" else ("projects", "wards")
        titles_of = {"projects": N_("Progress by project"), "wards": N_("Progress by ward"),
                     "units": N_("Progress by commune-level unit"),
                     "provinces": N_("Progress by province")}
        for level in levels:
            frame, _ = report_table(progress, level, lang=lang)
            # the figures a briefing quotes; everything else is in --format xlsx/csv/json
            wanted = ["project_id", "name", "capital_source", "ward_code", "ward_name",
                      "unit_code", "unit_name", "province_code", "province", "parcels_affected",
                      "parcels_handed_over", "area_affected_m2", "area_recovered_m2",
                      "pct_area_recovered", "plans_total", "plans_approved",
                      "compensation_paid_vnd", "pct_paid"]
            from gis.report.clearance import column_title

            titles = [column_title(c, lang) for c in wanted]
            keep = [t for t in titles if t in frame.columns]
            table = Table(title=gettext(titles_of[level], lang))
            for col in keep:
                table.add_column(str(col), overflow="fold")
            for row in frame[keep].itertuples(index=False):
                table.add_row(*[_fmt(v, lang) for v in row])
            console.print(table)
        if len(progress.problems):
            counts = progress.problems.groupby("kind").size().to_dict()
            console.print("problems: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    ov = run.overlay.summary()
    console.print(f"overlay: {ov['pairs']:,} parcel × project pairs ({ov['wholly_inside']:,} wholly "
                  f"inside), {ov['slivers_ignored']:,} slivers ignored, {ov['touching_only']:,} "
                  f"touching only; {len(run.rows_outside):,} sheet rows outside their project")
    console.print(f"[bold]{escape(run.summary[lang])}[/]")


def _fmt(value: object, lang: str) -> str:
    from gis.core.clearance.values import format_number

    if isinstance(value, float):
        return format_number(value, lang, 2)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_number(value, lang)
    return escape(str(value))


@clearance.command("chart")
@_overlay_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@_handle_errors
def chart_cmd(as_of: str | None, min_area: float, min_share: float, engine: str,
              scheduler: str | None, out_dir: str, lang: str) -> None:
    """Charts of progress per project and per ward (PNG and SVG)."""
    from gis.report.charts import write_charts

    run = _run(as_of, min_area, min_share, write_back=False, engine=engine,
               scheduler=scheduler)
    for p in write_charts(run.progress, out_dir, lang=lang):
        console.print(f"written {p}")
