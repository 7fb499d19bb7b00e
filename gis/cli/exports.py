"""``gis export``: a layer of the store as a file planners take away (Shapefile, GeoPackage,
GeoJSON, KML, CSV, Excel; VN-2000 or WGS 84), with the web export's filters."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.main import _handle_errors, _settings, cli, console
from gis.errors import GisError

EXPORT_KINDS = ["parcels", "projects", "buildings", "wards", "clearance", "violations",
                "quarantine"]
EXPORT_FORMATS = ["gpkg", "geojson", "shp", "kml", "csv", "xlsx"]


@cli.command("export")
@click.argument("kind", type=click.Choice(EXPORT_KINDS))
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True)
@click.option("--crs", help="Output CRS (default the store's VN-2000 zone, WGS 84 for GeoJSON "
              "and KML; EPSG:4326 or wgs84 for WGS 84).")
@click.option("--where", help="SQL filter on a stored layer, e.g. \"ward_code = '09880'\".")
@click.option("--ward", help="Only this legacy ward (5-digit code), as the web export filters "
              "it.")
@click.option("--unit", help="Only these 2025 commune-level units (codes, comma-separated), "
              "as an officer of those units exports them.")
@click.option("--project", help="Only this project (e.g. DA-001).")
@click.option("--status", help="Clearance status (parcels, clearance) or case status "
              "(violations).")
@click.option("--bbox", help="Only features meeting this box: minx,miny,maxx,maxy.")
@click.option("--bbox-crs", "bbox_crs", help="CRS of --bbox: wgs84 (default) or vn2000.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="CSV and XLSX column headers.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True,
              help="Output file (.shp or .zip for shapefiles).")
@_handle_errors
def export(kind: str, fmt: str, crs: str | None, where: str | None, ward: str | None,
           unit: str | None, project: str | None, status: str | None, bbox: str | None,
           bbox_crs: str | None, lang: str, out_path: str) -> None:
    """Export a layer as GeoPackage, GeoJSON, Shapefile, KML, CSV or XLSX.

    KIND is a stored layer, clearance (parcel parts in projects with their status, computed
    as `gis clearance report` does), violations (the cases) or quarantine. Filters and
    formats are those of the web export (/exports) and go through the same functions; CSV and
    XLSX have Vietnamese headers (--lang en for English) and ward names beside ward codes.
    """
    from gis.api.exports.formats import Format
    from gis.io.write import reproject, write_layer
    from gis.store import open_store

    storage, _ = _settings()
    store = open_store(storage.store_location)
    frame = _export_frame(store, kind, where=where, ward=ward, project=project, status=status,
                          bbox=bbox, bbox_crs=bbox_crs, unit=unit)
    out_format = Format.parse(fmt)
    if crs is None and out_format.default_wgs84:
        crs = "EPSG:4326"  # RFC 7946: GeoJSON is WGS 84 lon/lat; KML always is
    frame = reproject(frame, crs)
    if out_format.wgs84_only and (frame.crs is None or frame.crs.to_epsg() != 4326):
        from gis.errors import CRSError

        raise CRSError(f"KML is always WGS 84; use --crs EPSG:4326 or leave --crs out "
                       f"(got {crs!r})", field="crs", value=crs)
    if out_format in (Format.GPKG, Format.GEOJSON, Format.SHP):
        notes = write_layer(frame, out_path, fmt=fmt, layer=kind)
    else:
        notes = _export_table(store, frame, out_format, Path(out_path), kind=kind, lang=lang)
    console.print(f"{len(frame):,} {kind} written to {out_path} ({fmt}, "
                  f"{frame.crs.name if frame.crs else 'no CRS'})")
    for note in notes:
        console.print(f"  · {note}")


def _export_frame(store, kind: str, *, where, ward, project, status, bbox, bbox_crs,  # type: ignore[no-untyped-def]
                  unit=None):
    """The features to export: the web export's selection (:mod:`gis.api.exports.layers`) of
    the ``--unit`` units as their officer sees them, or a stored layer read with an SQL
    ``--where``."""
    from types import SimpleNamespace

    from gis.api.exports.layers import layer_def, parse_selection
    from gis.api.exports.service import select_for

    filters = {"--ward": ward, "--project": project, "--status": status, "--bbox": bbox,
               "--unit": unit}
    if kind == "quarantine" or where:
        given = [name for name, value in filters.items() if value]
        if given:
            raise GisError(f"{', '.join(given)} cannot be combined with "
                           + ("quarantine" if kind == "quarantine" else "--where")
                           + "; use --where for an SQL filter", field=given[0].lstrip("-"))
        if kind in ("clearance", "violations"):
            raise GisError(f"--where filters stored layers; {kind} is computed: use --ward, "
                           "--project, --status or --bbox", field="where", value=where)
        if kind == "quarantine":
            frame = store.quarantine(None)
            return frame if not where else store.read("quarantine", where=where)
        return store.read(kind, where=where)
    if store.crs() is None:
        from gis.errors import NotFoundError

        raise NotFoundError("the store is empty: nothing to export yet", field="layer",
                            value=kind)
    definition = layer_def(kind)
    for needed in ("parcels", "projects") if kind == "clearance" else ():
        if not store.has(needed):
            from gis.errors import NotFoundError

            raise NotFoundError(f"the store has no {needed} layer yet, so no clearance parts",
                                field="layer", value=kind)
    user = None
    if unit:
        from gis.api.auth.security import Role, User
        from gis.units import check_units

        user = User("gis export", Role.PLANNER, check_units(unit, store=store))
    sel = parse_selection(definition, store, ward=ward, project=project, status=status,
                          bbox=bbox, bbox_crs=bbox_crs)
    # the clearance run is computed once for this command
    return select_for(SimpleNamespace(), store, definition, sel, user)


def _export_table(store, frame, fmt, out: Path, *, kind: str, lang: str) -> list[str]:  # type: ignore[no-untyped-def]
    """KML, CSV or XLSX through the web export's writer, written beside ``out`` and moved into
    place (never half a file)."""
    import os
    import shutil
    import tempfile

    from gis.api.exports.formats import write_export
    from gis.api.exports.layers import LAYERS, ward_names

    out.parent.mkdir(parents=True, exist_ok=True)
    key = LAYERS[kind].key if kind in LAYERS else "parcel_key"
    folder = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    try:
        result = write_export(frame, fmt, folder, "export", layer=kind, key=key, lang=lang,
                              ward_names=ward_names(store))
        os.replace(result.path, out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return list(result.notes)
