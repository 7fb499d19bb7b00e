"""Write layers for planners: GeoPackage, GeoJSON, Shapefile (zip or set), in a chosen CRS.

Files are written to a temporary name and renamed at the end, so a failure never leaves a half
file. Shapefile field names are cut to 10 characters by a fixed, documented table
(:data:`SHP_FIELD_NAMES`), and a ``.cpg`` saying UTF-8 is always written.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.raw
from pyproj import CRS

from gis import crs as crsmod
from gis.core.enums import ParsedEnum
from gis.errors import DataSourceError
from gis.io.engines import Engine

__all__ = ["ExportFormat", "SHP_FIELD_NAMES", "SHP_DROPPED", "write_layer", "reproject",
           "write_driver", "write_arrays"]


class ExportFormat(ParsedEnum):
    """Export formats."""

    GPKG = "gpkg"
    GEOJSON = "geojson"
    SHP = "shp"

    @classmethod
    def what(cls) -> str:
        return "format"


SHP_FIELD_NAMES = {
    "land_use_codes": "lu_codes", "land_use_source": "lu_source", "land_use_system": "lu_system",
    "origin_code": "origin_cd", "area_recorded_m2": "area_rec", "legal_area_m2": "area_legal",
    "public_rule": "pub_rule", "geometry_repaired": "geom_fixed", "source_row": "src_row",
    "capital_source": "capital", "capital_source_text": "capital_tx", "key_project": "key_proj", "planned_area_ha": "plan_ha",
    "start_year": "start_yr", "capital_plan_vnd": "cap_plan", "disbursed_vnd": "disbursed",
    "building_id": "bldg_id", "year_built": "year_blt", "fingerprint": "fingerprnt",
    "parcel_keys": "parcels", "minutes_no": "minutes", "minutes_date": "minutes_dt",
    "decision_no": "decision", "decision_date": "decisn_dt", "conclusion_no": "conclusion",
    "conclusion_date": "concl_dt", "remedy_deadline": "remedy_by", "closed_reason": "closed_why",
    "occurred_on": "occurred", "created_at": "created", "updated_at": "updated",
    "ward_system": "ward_sys", "province_code": "prov_code", "unit_source": "unit_src",
    # clearance parts (project_parcels): the names the web export has always used
    "parcel_area_m2": "parcel_m2", "status_date": "status_dt", "approval_date": "approvl_dt",
    "approval_date_recorded": "approvl_rc", "approved_vnd": "apprvd_vnd",
    "cleared_date": "cleared_dt", "handed_over": "handed_ovr", "plan_approved": "plan_apprv",
    "overdue_payment": "overdue_py", "ahead_of_paperwork": "ahead_papr",
    "recovered_this_year_m2": "rec_this_y", "recovered_last_year_m2": "rec_last_y",
    "province_name": "prov_name",  # ward_name and unit_name fit as they are
}
# Text columns that can exceed the DBF's 254 characters: left out of shapefiles (and reported).
SHP_DROPPED = ("geometry_original_wkt", "extra", "evidence")


def reproject(frame: gpd.GeoDataFrame, crs: str | CRS | None) -> gpd.GeoDataFrame:
    """Return ``frame`` in ``crs`` (VN-2000 ↔ WGS 84 with EPSG:6960 pinned); None keeps it."""
    if crs is None or frame.crs is None:
        return frame
    dst = crsmod.parse_crs(crs)
    if CRS.from_user_input(frame.crs) == dst:
        return frame
    geoms = crsmod.transform_geometries(frame.geometry.values, frame.crs, dst)
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geoms, crs=dst)


def _shp_ready(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str], dict[str, str]]:
    """The frame as a shapefile holds it: long text columns dropped, names cut to the DBF's 10
    characters (our short names first, then the name cut and numbered where two would meet);
    returns the frame, the dropped columns and the cut names (long → short)."""
    dropped = [c for c in SHP_DROPPED if c in frame.columns]
    out = frame.drop(columns=dropped).rename(columns=SHP_FIELD_NAMES)
    taken = {str(c).lower() for c in out.columns if len(str(c)) <= 10}
    cut: dict[str, str] = {}
    for column in out.columns:
        name = str(column)
        if column == "geometry" or len(name) <= 10:
            continue
        short, n = name[:10], 1
        while short.lower() in taken:
            suffix = f"_{n}"
            short, n = name[:10 - len(suffix)] + suffix, n + 1
        taken.add(short.lower())
        cut[name] = short
    return out.rename(columns=cut), dropped, cut


def write_layer(frame: gpd.GeoDataFrame, out: str | os.PathLike[str], *,
                fmt: ExportFormat | str | None = None, layer: str = "layer",
                engine: Engine | str | None = None) -> list[str]:
    """Write ``frame`` to ``out`` atomically; return notes (e.g. columns left out).

    The format comes from ``fmt`` or the suffix (.gpkg, .geojson/.json, .shp, .zip = zipped
    shapefile).
    """
    out = Path(out)
    suffix = out.suffix.lower()
    fmt = ExportFormat.parse(fmt) if fmt is not None else {
        ".gpkg": ExportFormat.GPKG, ".geojson": ExportFormat.GEOJSON, ".json": ExportFormat.GEOJSON,
        ".shp": ExportFormat.SHP, ".zip": ExportFormat.SHP}.get(suffix, None)  # type: ignore[assignment]
    if fmt is None:
        raise DataSourceError("cannot tell the format from the file name; pass --format", path=out)
    engine = Engine.parse(engine)
    notes: list[str] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmpdir:
        tmp = Path(tmpdir)
        if fmt is ExportFormat.SHP:
            frame, dropped, cut = _shp_ready(frame)
            if dropped:
                notes.append(f"left out of the shapefile (text over 254 characters): {', '.join(dropped)}")
            if cut:
                notes.append("field names cut to the shapefile's 10 characters: " + ", ".join(
                    f"{long} → {short}" for long, short in cut.items()))
            stem = out.stem
            target = tmp / f"{stem}.shp"
            _write(frame, target, "ESRI Shapefile", stem, engine, encoding="UTF-8")
            if suffix == ".zip":
                zpath = tmp / out.name
                with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
                    for f in sorted(tmp.glob(f"{stem}.*")):
                        if f != zpath:
                            zf.write(f, f.name)
                os.replace(zpath, out)
            else:
                for f in sorted(tmp.glob(f"{stem}.*")):
                    os.replace(f, out.with_name(f.name))
        else:
            driver = "GPKG" if fmt is ExportFormat.GPKG else "GeoJSON"
            target = tmp / out.name
            _write(frame, target, driver, layer, engine)
            os.replace(target, out)
    return notes


def _write(frame: gpd.GeoDataFrame, path: Path, driver: str, layer: str, engine: Engine,
           encoding: str | None = None) -> None:
    kwargs: dict[str, object] = {}
    if encoding:
        kwargs["encoding"] = encoding
    types = set(frame.geometry.geom_type.dropna().unique())
    promote = types == {"Polygon", "MultiPolygon"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if engine is Engine.PYOGRIO:
                if driver == "GPKG":
                    kwargs["dataset_options"] = {"VERSION": "1.2"}
                pyogrio.write_dataframe(frame, path, layer=layer, driver=driver,
                                        promote_to_multi=promote, **kwargs)
            else:
                frame.to_file(path, layer=layer, driver=driver, engine="fiona", **kwargs)
    except Exception as exc:
        raise DataSourceError(f"cannot write {driver}: {exc}", path=path) from None
    if driver == "ESRI Shapefile":
        path.with_suffix(".cpg").write_text("UTF-8")
        prj = vn2000_prj(frame.crs)
        if prj is not None:
            path.with_suffix(".prj").write_text(prj)


def vn2000_prj(crs: object) -> str | None:
    """A .prj for a VN-2000 zone that carries TOWGS84 (national parameters, EPSG:6960, in the
    position-vector signs WKT1 expects), so that older software does not take VN-2000 for WGS 84
    and shift the data by ~200 m (DOMAIN.md §6.3). None for other CRSs."""
    if crs is None:
        return None
    zone = crsmod.zone_of_crs(crs)
    if zone is None:
        return None
    proj = (f"+proj=tmerc +lat_0=0 +lon_0={zone.central_meridian!r} +k={zone.scale!r} "
            "+x_0=500000 +y_0=0 +ellps=WGS84 +towgs84=-191.90441429,-39.30318279,-111.45032835,"
            "0.00928836,-0.01975479,0.00427372,0.252906278 +units=m +no_defs")
    wkt = CRS.from_proj4(proj).to_wkt("WKT1_GDAL")
    wkt = re.sub(r'^PROJCS\["[^"]*"', f'PROJCS["{zone.name}"', wkt)
    wkt = re.sub(r'GEOGCS\["[^"]*"', 'GEOGCS["VN-2000"', wkt, count=1)
    return re.sub(r'DATUM\["[^"]*"', 'DATUM["Vietnam_2000"', wkt, count=1)


def write_driver(frame: pd.DataFrame, target: str | os.PathLike[str], *, driver: str,
                 layer: str, dataset_options: dict[str, str] | None = None,
                 layer_options: dict[str, str] | None = None) -> None:
    """Write a frame (with or without geometry) with one of GDAL's drivers as it is (KML, CSV,
    XLSX, GPKG, …): no renaming, no temporary file. A failure is a
    :class:`~gis.errors.DataSourceError` with GDAL's message, without the target's folder."""
    target = Path(target)
    kwargs: dict[str, object] = {}
    if dataset_options:
        kwargs["dataset_options"] = dataset_options
    if layer_options:
        kwargs["layer_options"] = layer_options
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(frame, target, layer=layer, driver=driver, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any GDAL failure: its message, without our paths
        raise DataSourceError(f"cannot write {driver}: {exc}".replace(str(target.parent), ""),
                              layer=layer) from None


def write_arrays(target: str | os.PathLike[str], wkb: object, arrays: list[object],
                 names: list[str], *, driver: str, geometry_type: str, crs: str | None,
                 encoding: str | None = None, layer_options: dict[str, str] | None = None
                 ) -> None:
    """Write features from arrays (geometries as WKB, one numpy array per field) with GDAL's
    array-level writer, which takes a text field's width from its fixed-width array (the frame
    writer leaves text at 80 bytes)."""
    try:
        pyogrio.raw.write(Path(target), wkb, arrays, names, driver=driver,
                          geometry_type=geometry_type, crs=crs, encoding=encoding,
                          layer_options=layer_options or {})
    except Exception as exc:  # noqa: BLE001 - any GDAL failure, named
        raise DataSourceError(f"cannot write {driver}: {exc}", path=Path(target)) from None
