"""The ``gis`` command line: parse, call the library, print. No logic of its own.

Every :class:`~gis.errors.GisError` is printed as one clear line (file, layer, row, field) with no
traceback, and the exit code is non-zero.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.errors import GisError, ParcelValidationError

# Wide when piped to a file or a log, the terminal's width otherwise.
console = Console(stderr=False, highlight=False, soft_wrap=True,
                  width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, soft_wrap=True,
                      width=None if sys.stderr.isatty() else 160)

KINDS = ["parcels", "projects", "buildings", "wards", "units"]


def _handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Domain errors (:class:`~gis.errors.GisError`) become one line naming file, row and field
    (exit 2, 3 for a refused layer); anything else is an unexpected failure: one line with a
    short id and what was being done (exit 1), the traceback in the error log under that id."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ParcelValidationError as exc:
            report = exc.report
            if report is not None and hasattr(report, "validation"):
                _print_report(report)
            err_console.print(f"[bold red]Error:[/] {escape(str(exc))}")
            sys.exit(3)
        except GisError as exc:
            err_console.print(f"[bold red]Error:[/] {escape(str(exc))}")
            sys.exit(2)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:  # an output file that cannot be written (open in Excel, no folder)
            if getattr(exc, "filename", None) is None:
                _unexpected(exc)
            err_console.print(f"[bold red]Error:[/] cannot write or read {escape(str(exc.filename))}: "
                              f"{escape(exc.strerror or str(exc))}")
            sys.exit(2)
        except Exception as exc:  # noqa: BLE001 - a bug or a broken environment: log, one line
            _unexpected(exc)

    return wrapper


def _doing() -> str:
    """The command being run and its main argument: ``gis export parcels``."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return "gis"
    words = ["gis", *ctx.command_path.split()[1:]]
    for param in ctx.command.params:
        if isinstance(param, click.Argument) and ctx.params.get(param.name) not in (None, ()):
            value = ctx.params[param.name]
            words.append(" ".join(map(str, value)) if isinstance(value, tuple) else str(value))
            break
    return " ".join(words)


def _unexpected(exc: BaseException) -> None:
    """Write the traceback to the error log under a short id; print one line; exit 1."""
    from gis.io.logs import error_log_path, log_error

    doing = _doing()
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    try:
        error_id = log_error(error_log_path(_settings()[0].data_dir), exc,
                             doing=doing, argv=sys.argv)
        where = f"details in {error_log_path(_settings()[0].data_dir)}"
    except Exception:  # noqa: BLE001 - the log itself cannot be written: say so, still one line
        import secrets

        error_id, where = secrets.token_hex(4), "the error log could not be written"
    err_console.print(f"[bold red]Unexpected error[/] {escape(f'[{error_id}]')} while running "
                      f"{escape(doing)}: {type(exc).__name__}"
                      + (f": {escape(first)}" if first else "") + f" ({escape(where)})")
    sys.exit(1)


def parse_day(value: str | None, option: str):  # type: ignore[no-untyped-def]
    """A day given on the command line (the one day parser, :func:`gis.core.clearance.values.
    parse_day`); a bad one is a one-line error naming the option."""
    from gis.core.clearance.values import parse_day as parse

    return parse(value, option)


def _settings():  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from gis.errors import LayerConfigError
    from gis.settings import IngestSettings, StorageSettings

    try:
        return StorageSettings(), IngestSettings()
    except ValidationError as exc:  # a GIS_ variable with a bad value
        first = exc.errors()[0]
        name = "GIS_" + "_".join(str(p) for p in first.get("loc", ())).upper()
        raise LayerConfigError(f"environment variable {name}: {first['msg']}",
                               field=name, value=first.get("input")) from None


def _spec(kind: str, config: str | None, catalog_dir: str | None):  # type: ignore[no-untyped-def]
    from gis.catalog import load_catalog, load_layer_spec

    _, ingest_settings = _settings()
    folder = Path(catalog_dir) if catalog_dir else ingest_settings.catalog
    if config:
        return load_layer_spec(config, catalog=folder)
    if folder.is_dir():
        return load_catalog(folder).for_kind(kind)
    return None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gis-landparcels")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Land-parcel management for Vietnamese land offices (quản lý thửa đất).

    Ingest cadastral layers, validate them, keep them in a GeoPackage store, export them.
    The store is the file named by GIS_STORE (default data/store.gpkg). Unexpected errors and
    Python warnings go to <GIS_DATA_DIR>/logs/errors.log.
    """
    from gis.io.logs import error_log_path, warnings_to_log

    try:
        data_dir = _settings()[0].data_dir
    except GisError:  # a bad GIS_ variable: the command itself reports it
        data_dir = Path("data")
    ctx.with_resource(warnings_to_log(error_log_path(data_dir)))


def _layer_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--crs", help="CRS of the source when it declares none or declares it wrongly "
                     "(e.g. EPSG:5897)."),
        click.option("--layer", "layer_name", help="Layer to read from a GeoPackage, zip or folder."),
        click.option("--province", help="Province, to pick its VN-2000 TM-3 zone (e.g. 'Đà Nẵng')."),
        click.option("--ward", help="Ward code for every parcel when the source has no MaXa field."),
        click.option("--engine", type=click.Choice(["pyogrio", "fiona"]), default=None,
                     help="I/O engine (default pyogrio: faster, see benchmarks/)."),
        click.option("--config", type=click.Path(exists=True, dir_okay=False),
                     help="Layer YAML (field map, encodings, public-land rules)."),
        click.option("--catalog", "catalog_dir", type=click.Path(file_okay=False),
                     help="Layer catalog folder (default GIS_CATALOG, else the one shipped "
                     "with the package)."),
        click.option("--report", "report_path", type=click.Path(dir_okay=False),
                     help="Write the report: .json (everything) or .csv (one line per issue)."),
        click.option("--units", "code_system", type=click.Choice(["legacy", "2025"]),
                     default=None, help="Code system of the layer's ward codes: legacy (before "
                     "1 July 2025, the default for cadastral layers) or 2025; a units layer is "
                     "always 2025."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _prepare_kwargs(kind: str, crs, layer_name, province, ward, engine, config, catalog_dir,  # type: ignore[no-untyped-def]
                    code_system=None):
    _, ingest_settings = _settings()
    return dict(spec=_spec(kind, config, catalog_dir), crs=crs, layer=layer_name,
                province=province, engine=engine or ingest_settings.engine,
                defaults={"ward_code": ward} if ward else None, code_system=code_system)


def _sheet_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--sheet", help="clearance: the workbook sheet to read (default the first "
                     "with a table)."),
        click.option("--known-on", "known_on", help="clearance: the day the sheet describes "
                     "(dd/mm/yyyy; default today); undated statuses count from then."),
        click.option("--project", help="clearance: the project of every row when the sheet has "
                     "no project column (default: the project named in the sheet's title)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@click.argument("path", type=click.Path())
@click.option("--kind", type=click.Choice(KINDS + ["clearance"]), default="parcels",
              show_default=True)
@_layer_options
@_sheet_options
@_handle_errors
def validate(path: str, kind: str, crs, layer_name, province, ward, engine, config, catalog_dir,  # type: ignore[no-untyped-def]
             report_path, code_system, sheet: str | None, known_on: str | None, project: str | None) -> None:
    """Read a layer or a clearance sheet, check it against the store and print the report.
    Writes nothing (except --report)."""
    from gis.ingest import prepare_layer

    if kind == "clearance":
        from gis.cli.clearance import validate_clearance_cmd

        _sheet_codes(code_system)

        validate_clearance_cmd(path, sheet=sheet, config=config, report_path=report_path,
                               known_on=known_on, project=project, ward=ward)
        return
    report = prepare_layer(path, kind, **_prepare_kwargs(kind, crs, layer_name, province, ward,
                                                        engine, config, catalog_dir, code_system))
    _print_report(report)
    if report_path:
        console.print(f"report written to {report.write(report_path)}")


@cli.command()
@click.argument("kind", type=click.Choice(KINDS + ["clearance"]))
@click.argument("path", type=click.Path())
@_layer_options
@_sheet_options
@click.option("--strict", is_flag=True, help="Refuse the whole file if any row fails validation.")
@click.option("--user", help="Who is recorded in the ingest log (default: GIS_USER or login).")
@click.option("--replace-all", is_flag=True,
              help="parcels: replace every stored parcel, not only those of the wards in the file.")
@_handle_errors
def ingest(kind: str, path: str, crs, layer_name, province, ward, engine, config, catalog_dir,  # type: ignore[no-untyped-def]
           report_path, code_system, sheet: str | None, known_on: str | None, project: str | None,
           strict: bool, user: str | None, replace_all: bool) -> None:
    """Validate a layer and load it into the store, replacing the previous version atomically.

    KIND is parcels, projects, buildings, wards (legacy wards, as surveyed), units (the
    commune-level units since 1 July 2025: code, name, province; every stored parcel is then
    placed in the unit holding it), or clearance (the compensation board's status sheet, XLSX
    or CSV). Valid rows load; rows that fail go to the quarantine table (clearance:
    clearance_rejected) with the reason. The diff against the previous version is printed.
    """
    from gis.ingest import ingest_layer
    from gis.store import open_store

    storage, ingest_settings = _settings()
    store = open_store(storage.store_location)
    if kind == "clearance":
        from gis.cli.clearance import ingest_clearance_cmd

        _sheet_codes(code_system)

        ingest_clearance_cmd(store, path, sheet=sheet, strict=strict, config=config,
                             user=user or ingest_settings.user, report_path=report_path,
                             known_on=known_on, project=project, ward=ward)
        return
    kwargs = _prepare_kwargs(kind, crs, layer_name, province, ward, engine, config, catalog_dir,
                             code_system)
    with console.status(f"ingesting {kind} from {path} …"):
        report = ingest_layer(store, path, kind, strict=strict, user=user or ingest_settings.user,
                              replace_all=replace_all, **kwargs)
    _print_report(report)
    if report_path:
        console.print(f"report written to {report.write(report_path)}")


def _sheet_codes(code_system: str | None) -> None:
    """Clearance sheets name parcels by their legacy keys (ward-sheet-number)."""
    if code_system == "2025":
        from gis.errors import UnitCodeError

        raise UnitCodeError("clearance sheets name parcels by their legacy ward codes (the keys "
                            "of the cadastral map): --units 2025 is not supported for sheets",
                            field="units", value=code_system)


def _print_report(report) -> None:  # type: ignore[no-untyped-def]
    v = report.validation
    s = report.source
    console.print(f"[bold]{report.kind.value}[/] from [cyan]{escape(s.path)}[/]"
                  + (f" (layer {escape(s.layer)})" if s.layer else "")
                  + f": {s.features} features, driver {s.driver}, engine {s.engine.value}")
    for note in s.notes:
        console.print(f"  · {escape(note)}")
    fields = Table(title="Fields (model ← source)", show_lines=False)
    fields.add_column("model field")
    fields.add_column("source field")
    fields.add_column("how")
    for model, src in report.mapping.sources.items():
        fields.add_row(model, src, report.mapping.how[model])
    console.print(fields)
    if report.mapping.unmapped:
        console.print(f"  unmapped source fields kept in 'extra': {', '.join(report.mapping.unmapped)}")
    for d in report.decodings:
        state = "ambiguous, left as is" if d.ambiguous else f"{d.converted} values converted"
        console.print(f"  text column [bold]{d.column}[/]: {d.encoding.value} ({state}; "
                      f"score {d.score:.2f} vs {d.runner_up.value if d.runner_up else '-'} "
                      f"{d.runner_up_score:.2f})")
    for note in report.crs_notes:
        console.print(f"  CRS: {escape(note)}")
    counts = Table(title="Validation")
    counts.add_column("rule")
    counts.add_column("severity")
    counts.add_column("rows", justify="right")
    for row in v.counts().itertuples():
        style = {"error": "red", "warning": "yellow"}.get(row.severity, "")
        counts.add_row(row.rule, f"[{style}]{row.severity}[/]" if style else row.severity,
                       f"{row.rows:,}")
    console.print(counts)
    if len(v.issues):
        sample = Table(title="First issues (all in --report)")
        for col in ("row", "key", "rule", "field", "message"):
            sample.add_column(col)
        for row in v.issues[v.issues["severity"] != "note"].head(10).itertuples():
            sample.add_row(str(row.row), escape(str(row.key)), row.rule, str(row.field or ""),
                           escape(str(row.message)))
        console.print(sample)
    _print_placement(report.placement)
    console.print(f"rows: {v.rows_total:,} read = [green]{len(v.valid):,} valid[/] + "
                  f"[red]{len(v.quarantine):,} quarantined[/]")
    if report.diff is not None:
        d = report.diff
        console.print(f"change against the stored version: +{len(d.added):,} added, "
                      f"-{len(d.removed):,} removed, ~{len(d.changed):,} changed, "
                      f"{d.unchanged:,} unchanged")
    if report.scope is not None:
        console.print(f"replaced the parcels of ward(s) {', '.join(report.scope)}; kept "
                      f"{report.kept_other_wards:,} parcels of other wards (--replace-all to drop them)")
    if report.stored:
        console.print(f"[green]stored[/] in {escape(str(report.store_path))} (layer "
                      f"{report.kind.value}); quarantine and ingest log updated")


def _print_placement(placement) -> None:  # type: ignore[no-untyped-def]
    """One line per surveyed ward and unit: where its parcels are since 1 July 2025."""
    if placement is None or not len(placement):
        return
    how = {"geometry": "by the unit polygons", "conversion": "by conversion of the ward",
           "declared": "2025 code in the file", "none": "[red]no unit found[/]"}
    table = Table(title="Units since 1 July 2025 (per surveyed ward)")
    for col in ("ward", "unit", "parcels", "how"):
        table.add_column(col, justify="right" if col == "parcels" else "left")
    for row in placement.itertuples():
        ward = f"{row.ward_code} {row.ward_name or ''}".strip()
        unit = f"{row.unit_code or '-'} {row.unit_name or ''}".strip()
        said = how.get(row.unit_source, row.unit_source)
        if row.unit_source == "default":
            said = f"[yellow]assumed[/]: split ward, also into {escape(str(row.candidates))}"
        else:
            said = escape(said)
        table.add_row(escape(ward), escape(unit), f"{row.parcels:,}", said)
    console.print(table)
    assumed = placement.loc[placement["unit_source"] == "default", "parcels"].sum()
    if assumed:
        console.print(f"[yellow]{assumed:,} parcels of split wards[/] were placed in the ward's "
                      "default unit (listed in --report): load the units' polygons (gis ingest "
                      "units) to place them by geometry")


@cli.command()
@click.option("--parcels", "n_parcels", type=click.IntRange(1000, 1_000_000), default=2000,
              show_default=True, help="Number of parcels.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--legacy-encoding", is_flag=True, help="Write parcel DBF text in TCVN3, no .cpg.")
@click.option("--no-prj", is_flag=True, help="Leave out parcels.prj (CRS must then be given).")
@_handle_errors
def sample(n_parcels: int, seed: int, out_dir: str, legacy_encoding: bool, no_prj: bool) -> None:
    """Write a deterministic synthetic district in VN-2000 TM-3 105°00' (Hà Nội)."""
    from gis.sample import generate_district, write_sample

    with console.status(f"generating {n_parcels:,} parcels …"):
        district = generate_district(n_parcels, seed=seed)
        files = write_sample(district, out_dir, legacy_encoding=legacy_encoding, drop_prj=no_prj)
    m = district.manifest
    console.print(f"sample district (seed {seed}): {len(district.parcels):,} parcels, "
                  f"{len(district.wards)} wards, {len(district.projects)} projects, "
                  f"{len(district.buildings):,} buildings, {len(district.clearance):,} clearance rows")
    for f in files:
        console.print(f"  {f}")
    del m




@cli.group()
def store() -> None:
    """Look into the store: layers, ingest log, quarantine."""


@store.command("info")
@_handle_errors
def store_info() -> None:
    """Layers and feature counts of the store."""
    from gis.store import open_store

    storage, _ = _settings()
    st = open_store(storage.store_location)
    table = Table(title=f"Store {storage.store_location}")
    table.add_column("layer")
    table.add_column("features", justify="right")
    for name, count in st.layers().items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    crs = st.crs()
    console.print(f"CRS: {crs.name if crs else 'none yet'}")


@store.command("log")
@_handle_errors
def store_log() -> None:
    """Who loaded what, when, from which file."""
    from gis.store import open_store

    storage, _ = _settings()
    log = open_store(storage.store_location).ingest_log()
    table = Table(title="Ingest log")
    for col in ("when (UTC)", "user", "kind", "file", "units", "read", "loaded", "quarantined",
                "+/-/~"):
        table.add_column(col, overflow="fold")
    for row in log.itertuples():
        units = getattr(row, "units", None)  # logs written before scopes have none
        table.add_row(str(row.finished_at).replace("+00:00", ""), str(row.user), str(row.kind),
                      Path(str(row.source_path)).name,
                      str(units) if isinstance(units, str) else "", str(row.rows_total),
                      str(row.rows_loaded), str(row.rows_quarantined),
                      f"+{row.added}/-{row.removed}/~{row.changed}")
    console.print(table)


@store.command("quarantine")
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write as .csv/.gpkg.")
@_handle_errors
def store_quarantine(kind: str | None, out_path: str | None) -> None:
    """Rows kept out of the store, with the reason."""
    from gis.io.write import write_layer
    from gis.store import open_store

    storage, _ = _settings()
    q = open_store(storage.store_location).quarantine(kind)
    if out_path and out_path.endswith(".csv"):
        from gis.io.files import atomic_write_csv

        atomic_write_csv(q.drop(columns="geometry"), out_path)
    elif out_path:
        write_layer(q, out_path, layer="quarantine")
    table = Table(title=f"Quarantine ({len(q):,} rows)")
    for col in ("kind", "source_row", "rules", "reason"):
        table.add_column(col)
    for row in q.head(50).itertuples():
        table.add_row(str(row.kind), str(row.source_row), str(row.rules), str(row.reason))
    console.print(table)


@cli.group()
def catalog() -> None:
    """The layer catalog (layers/*.yaml)."""


@catalog.command("validate")
@click.argument("folder", type=click.Path(file_okay=False), required=False)
@_handle_errors
def catalog_validate(folder: str | None) -> None:
    """Check every layer YAML of FOLDER (default GIS_CATALOG, else the shipped catalog)."""
    from gis.catalog import load_catalog

    cat = load_catalog(folder or _settings()[1].catalog)
    for spec in cat.layers.values():
        console.print(f"[green]ok[/] {spec.id} ({spec.kind.value}): {spec.title.vi} / {spec.title.en}")


@catalog.command("schema")
def catalog_schema() -> None:
    """Print the JSON Schema of a layer YAML."""
    from gis.catalog import LayerSpec

    click.echo(json.dumps(LayerSpec.model_json_schema(), ensure_ascii=False, indent=1))


@cli.command("layers")
@click.argument("path", type=click.Path())
@_handle_errors
def layers_cmd(path: str) -> None:
    """List the layers of a source file (GeoPackage, KML, zip)."""
    from gis.io.read import list_layers

    for name, gtype in list_layers(path):
        click.echo(f"{name}\t{gtype or 'no geometry'}")


def main() -> None:
    """Entry point of the ``gis`` command."""
    cli(prog_name="gis")


if __name__ == "__main__":
    main()
