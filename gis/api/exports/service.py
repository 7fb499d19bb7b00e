"""Exports: what ``GET /api/export/{layer}`` and the ``/exports`` page do, apart from HTTP.

The selection is read through :mod:`gis.api.exports.layers` (computed layers — clearance parts,
violation cases — through the pipelines), reprojected, and written completely by
:mod:`gis.api.exports.formats` into a private folder beside the store; the route streams the
file and removes the folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
from pyproj import CRS

from gis.api.auth.security import User
from gis.api.deps import Context
from gis.api.exports.clearance import clearance_pairs
from gis.api.exports.formats import ExportFile, Format, write_export, write_geojson_stream
from gis.api.exports.layers import LayerDef, Selection, iter_select, select, ward_names
from gis.api.scope import filter_frame, row_filter
from gis.errors import CRSError, NotFoundError
from gis.io.write import reproject
from gis.store import Store

__all__ = ["Export", "export_layer", "export_url", "file_base", "form_choices", "status_label",
           "workdir", "select_for"]

_STALE_SECONDS = 6 * 3600
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Export:
    """A written export: the file, its folder (the caller removes it) and its CRS."""

    file: ExportFile
    folder: Path
    crs: CRS


def workdir(ctx: Context) -> Path:
    """A private folder for one export, beside the store (same file system); folders left by
    interrupted downloads are removed after six hours."""
    # scratch files of exports: beside a store file, or in the service's folder for a database
    root = (ctx.storage.data_dir if ctx.storage.is_database
            else ctx.storage.store_path.parent) / ".exports"
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in root.iterdir():
        try:
            if now - old.stat().st_mtime > _STALE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:
            continue
    return Path(tempfile.mkdtemp(prefix="export-", dir=root))


def file_base(layer: str, sel: Selection, crs: CRS) -> str:
    """The download's name without suffix, from the layer, the filters and the CRS (never a
    name the client sent): ``parcels_09880_vn2000``."""
    tag = "wgs84" if crs.to_epsg() == 4326 else "vn2000"
    text = "_".join([layer, *sel.tags(), tag])
    return _SAFE.sub("-", text)[:120]


def export_url(layer: str, *, fmt: str, crs: str | None = None, ward: str | None = None,
               project: str | None = None, status: str | None = None,
               bbox: str | None = None, lang: str | None = None) -> str:
    """The API URL for these choices (what the /exports form builds)."""
    from urllib.parse import urlencode

    params = {"format": fmt, "crs": crs, "ward": ward, "project": project, "status": status,
              "bbox": bbox, "lang": lang}
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/api/export/{layer}" + (f"?{query}" if query else "")


def _computed(definition: LayerDef, state: Any, store: Store,
              units: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """A computed layer of some 2025 ``units`` (None: the whole store): the clearance run of
    the units' parcels, the cases of the units."""
    if definition.name == "clearance":
        for needed in ("parcels", "projects"):
            if not store.has(needed):
                raise NotFoundError(f"the store has no {needed} layer yet, so no clearance "
                                    "parts", field="layer", value=definition.name)
        return clearance_pairs(state, store, units)
    from gis.violations import list_cases

    return list_cases(store, units=units)


def output_crs(fmt: Format, crs: CRS | None, store_crs: CRS) -> CRS:
    """The file's CRS: the one asked for, else the format's default (WGS 84 for GeoJSON and
    KML, the store's VN-2000 zone otherwise); KML refuses any other than WGS 84."""
    out = crs if crs is not None else (CRS.from_epsg(4326) if fmt.default_wgs84 else store_crs)
    if fmt.wgs84_only and out.to_epsg() != 4326:
        raise CRSError(f"KML is always WGS 84; use crs=wgs84 or leave crs out (got "
                       f"{_crs_text(crs)!r})", field="crs", value=_crs_text(crs))
    return out


def _crs_text(crs: CRS | None) -> str | None:
    return None if crs is None else (f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.name)


def select_for(state: Any, store: Store, definition: LayerDef, sel: Selection,
               user: User | None = None) -> gpd.GeoDataFrame:
    """The features of ``definition`` matching ``sel`` that ``user`` may see, in one frame
    (the web export's files but GeoJSON, and ``gis export [--unit]``)."""
    units = None if user is None or user.units is None else tuple(sorted(user.units))
    frame = select(definition, store, sel,
                   computed=lambda: _computed(definition, state, store, units),
                   pairs=lambda: clearance_pairs(state, store, units),
                   scope=None if definition.computed else row_filter(store, definition.table,
                                                                     user))
    return filter_frame(store, definition.table, frame, user) if definition.computed else frame


def export_layer(ctx: Context, state: Any, store: Store, definition: LayerDef, sel: Selection,
                 fmt: Format, out_crs: CRS, *, lang: str, user: User | None = None) -> Export:
    """Write the features of ``definition`` matching ``sel`` into a new private folder (removed
    again on failure): of the ``user``'s units only (:mod:`gis.api.scope`)."""
    units = None if user is None or user.units is None else tuple(sorted(user.units))

    def computed() -> gpd.GeoDataFrame:
        return _computed(definition, state, store, units)

    def pairs() -> gpd.GeoDataFrame:
        return clearance_pairs(state, store, units)

    base = file_base(definition.name, sel, out_crs)
    # a stored layer is read for the user's rows only (the store filters: unit_code or the
    # layer's key); a computed one is built from the units' parcels and cases, and its rows
    # checked again by the scope's rule
    scope = None if definition.computed else row_filter(store, definition.table, user)

    def limited(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return filter_frame(store, definition.table, frame, user) if definition.computed \
            else frame

    folder = workdir(ctx)
    try:
        if fmt is Format.GEOJSON:  # feature by feature, batch by batch
            batches = (limited(part) for part in iter_select(
                definition, store, sel, computed=computed, pairs=pairs, scope=scope))
            result = write_geojson_stream((b for b in batches if len(b)),
                                          folder, base, crs=out_crs, layer=definition.name,
                                          reproject=reproject)
        else:
            frame = reproject(select_for(state, store, definition, sel, user), out_crs)
            result = write_export(frame, fmt, folder, base, layer=definition.name,
                                  key=definition.key, lang=lang, ward_names=ward_names(store))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Export(result, folder, out_crs)


def form_choices(store: Store, user: User | None = None
                 ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The wards and projects the export form offers (those meeting the user's units)."""
    wards: list[tuple[str, str]] = []
    projects: list[tuple[str, str]] = []
    if store.has("wards"):
        frame = filter_frame(store, "wards", store.read_table("wards"), user)
        wards = sorted((str(c), str(n)) for c, n in zip(frame["ward_code"],
                                                        frame.get("name", frame["ward_code"])))
    if store.has("projects"):
        frame = filter_frame(store, "projects",
                             store.read("projects", columns=["project_id", "name"]), user)
        projects = sorted((str(c), str(n)) for c, n in zip(frame["project_id"], frame["name"]))
    return wards, projects


def status_label(value: str, layer: str) -> str:
    """``PAID — Đã chi trả``: the code (what the URL takes) with its Vietnamese name."""
    from gis.core.clearance.status import LABELS_VI, Status
    from gis.labels import CASE_STATUS_LABELS, case_status_label

    if layer == "violations":
        name = case_status_label(value, "vi") if value in CASE_STATUS_LABELS else ""
    else:
        name = LABELS_VI[Status(value)] if value in Status.__members__ else "Chưa triển khai"
    return f"{value} — {name}" if name else value
