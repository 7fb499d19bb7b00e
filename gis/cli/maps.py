"""``gis map list`` and ``gis map build``: static offline web maps from ``maps/*.yaml``."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.main import _handle_errors, _settings, cli, console


@cli.group("map")
def map_group() -> None:
    """Web maps (folium/Leaflet) that open offline, from a file or a USB stick."""


def _maps_folder(folder: str | None) -> Path:
    from gis.settings import ServiceSettings

    return Path(folder) if folder else ServiceSettings().maps


def _map_file(map_path: str) -> Path:
    """A map YAML given as a file, or by its name in the maps folder (``district``)."""
    from gis.errors import NotFoundError

    path = Path(map_path)
    if path.is_file():
        return path
    folder = _maps_folder(None)
    for candidate in (folder / map_path, folder / f"{map_path}.yaml"):
        if candidate.is_file():
            return candidate
    known = ", ".join(p.stem for p in sorted(folder.glob("*.yaml")))
    raise NotFoundError(f"no map file or map {map_path!r} (maps in {folder}: {known or 'none'})",
                        path=map_path)


@map_group.command("list")
@click.option("--folder", type=click.Path(file_okay=False),
              help="Folder of map YAMLs (default GIS_MAPS, else the maps shipped with the "
                   "package).")
@_handle_errors
def list_cmd(folder: str | None) -> None:
    """The maps defined in maps/*.yaml."""
    from gis.catalog import load_map_spec

    for path in sorted(_maps_folder(folder).glob("*.yaml")):
        spec = load_map_spec(path)
        console.print(f"{path}\t{spec.id}\t{spec.title.vi} / {spec.title.en}\t"
                      f"{len(spec.layers)} layers")


@map_group.command("build")
@click.argument("map_path")
@click.option("--ward", help="Only this ward (5-digit code).")
@click.option("--project", help="Only this project and what lies around it (project ID).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True)
@click.option("--catalog", "catalog_dir", type=click.Path(file_okay=False),
              help="Layer catalog folder (default GIS_CATALOG, else the shipped one).")
@_handle_errors
def build_cmd(map_path: str, ward: str | None, project: str | None, lang: str,
              out_path: str, catalog_dir: str | None) -> None:
    """Write one self-contained HTML file (Leaflet inlined, no CDN, no server).

    MAP_PATH is a map YAML or the name of one in the maps folder (e.g. ``district``)."""
    from gis.catalog import load_catalog, load_map_spec
    from gis.io.files import atomic_write_text
    from gis.render.build import build_map, layer_frames, render_html, resolve_layers
    from gis.render.scope import PROJECT_TABLES, scope_tables
    from gis.settings import MapSettings
    from gis.store import open_store

    storage, settings = _settings()
    store = open_store(storage.store_location)
    spec = load_map_spec(_map_file(map_path))
    layers = resolve_layers(spec, load_catalog(catalog_dir or settings.catalog))
    wanted = {t for layer in layers for t in layer.tables}
    if ward:
        wanted.add("wards")
    if project:
        wanted.update(PROJECT_TABLES)
    tables = {t: store.read(t) for t in sorted(wanted) if store.has(t)}
    for layer in layers:
        if not any(t in tables for t in layer.tables):
            console.print(f"  · no {' or '.join(layer.tables)} in the store: layer {layer.key} "
                          "left out")
    frames = layer_frames(layers, scope_tables(tables, ward=ward, project=project))
    html = render_html(build_map(spec, layers, frames, lang=lang), assets=MapSettings().assets)
    out = atomic_write_text(out_path, html)
    console.print(f"map written to {out} ({len(html.encode()) / 1e6:.1f} MB, "
                  f"{sum(len(f) for f in frames.values()):,} features)")
