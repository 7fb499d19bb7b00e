"""``gis db copy``: move a store between backends (GeoPackage file ⇄ PostGIS database)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gis.cli.main import _handle_errors, cli, console, err_console


@cli.group("db")
def db_group() -> None:
    """The store's database: copy a GeoPackage store into PostGIS and back.

    A store is a .gpkg path or a PostgreSQL URL such as
    postgresql://user@host:5432/land?schema=gis (the schema defaults to gis).
    """


@db_group.command("copy")
@click.argument("source")
@click.argument("destination")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_handle_errors
def db_copy(source: str, destination: str, as_json: bool) -> None:
    """Copy every layer and table of SOURCE into the empty store DESTINATION, then compare
    the two (counts, attributes, geometries within 1 mm). Exit 1 if anything differs."""
    from rich.markup import escape
    from rich.table import Table

    from gis.errors import NotFoundError
    from gis.store import open_store
    from gis.store.copy import copy_store

    if "://" not in source and not Path(source).is_file():
        raise NotFoundError(f"no store at {source}", path=source)
    report = copy_store(open_store(source), open_store(destination))
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        table = Table(title=f"{escape(report.source)} → {escape(report.destination)}")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in report.rows.items():
            table.add_row(escape(name), f"{rows:,}")
        console.print(table)
    if report.differences:
        for line in report.differences:
            err_console.print(f"[bold red]differs:[/] {escape(line)}")
        raise SystemExit(1)
    if not as_json:
        console.print("[green]copied; both stores read back the same[/]")


@db_group.command("upgrade")
@click.argument("store", required=False)
@_handle_errors
def db_upgrade(store: str | None) -> None:
    """Bring the store to this release (default the GIS_STORE store).

    A PostGIS store at an older version is refused until this runs; every migration from its
    version on is applied in one transaction (a failure leaves the old version, whole). A
    GeoPackage store has had one version so far. On either, stored parcels, clearance parts
    and cases loaded before names were kept beside codes get them (ward_name, unit_name,
    province_name; no unit is decided again), in one transaction."""
    from rich.markup import escape

    from gis.cli.main import _settings
    from gis.store import open_store
    from gis.store.postgis import PostGISStore
    from gis.units import name_stored_layers

    location = store or _settings()[0].store_location
    database = location.startswith(("postgresql://", "postgres://"))
    if not database:
        status = f"{escape(location)}: GeoPackage store, version 1 (current)"
        applied: list[tuple[int, str]] = []
    else:
        target = PostGISStore(location, _upgrading=True)
        before = target.schema_version()
        applied = target.upgrade_schema()
        for version, summary in applied:
            console.print(f"  → version {version}: {escape(summary)}")
        after = target.schema_version()
        status = (f"{escape(target.path)}: schema version {before} → {after}" if applied
                  else f"{escape(target.path)}: schema version {after} (current)")
    named = name_stored_layers(open_store(location)) if database or Path(location).exists() \
        else {}
    for table, rows in named.items():
        console.print(f"  → names beside codes: {rows:,} rows of {escape(table)}")
    console.print(status if applied or named else f"{status}; nothing to do")
