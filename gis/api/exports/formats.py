"""Files planners download: GeoPackage, GeoJSON and zipped Shapefile through the library's
writer (:func:`gis.io.write.write_layer`: atomic, UTF-8 ``.cpg``, a ``.prj`` with TOWGS84,
10-character field names), and KML, CSV and XLSX through GDAL's own drivers.

Everything is written into a private temporary folder; the caller streams the finished file and
removes the folder afterwards, so a client never receives half a file.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gis.core.enums import ParsedEnum
from gis.errors import GisError
from gis.io.write import SHP_DROPPED, SHP_FIELD_NAMES, write_driver, write_layer

__all__ = ["SHP_EXTRA_NAMES", "ExportFile", "Format", "for_people", "parse_lang",
           "shp_field_names", "write_export", "write_geojson_stream"]

#: Shapefile names for the clearance pairs' columns (``project_parcels``), beside the library's
#: :data:`gis.io.write.SHP_FIELD_NAMES`; both are shown on the /exports page.
SHP_EXTRA_NAMES = {k: SHP_FIELD_NAMES[k] for k in (  # the clearance parts' (one table)
    "parcel_area_m2", "status_date", "approval_date", "approval_date_recorded", "approved_vnd",
    "cleared_date", "handed_over", "plan_approved", "overdue_payment", "ahead_of_paperwork",
    "recovered_this_year_m2", "recovered_last_year_m2", "occurred_on")}
_XLSX_CELL = 32767  # Excel's limit on the text of one cell
_JSON_ROWS = 2000  # features turned into JSON text at a time


def shp_field_names() -> dict[str, str]:
    """Every model field → its shapefile name (10 characters at most)."""
    return {**SHP_FIELD_NAMES, **SHP_EXTRA_NAMES}


class Format(ParsedEnum):
    """Export formats, with their file suffix, media type and default CRS (VN-2000 or WGS 84)."""

    SHP = "shp"
    GPKG = "gpkg"
    GEOJSON = "geojson"
    KML = "kml"
    CSV = "csv"
    XLSX = "xlsx"

    @classmethod
    def what(cls) -> str:
        return "format"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        """``shapefile``, ``zip``, ``json``, ``geopackage`` and ``excel`` are accepted too."""
        return {"shapefile": "shp", "zip": "shp", "json": "geojson", "geopackage": "gpkg",
                "excel": "xlsx"}

    @classmethod
    def error(cls, message: str, value: object) -> Exception:
        return GisError(message, field="format", value=value)

    @property
    def suffix(self) -> str:
        return {"shp": ".shp.zip"}.get(self.value, f".{self.value}")

    @property
    def media_type(self) -> str:
        return {"shp": "application/zip", "gpkg": "application/geopackage+sqlite3",
                "geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml",
                "csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                }[self.value]

    @property
    def wgs84_only(self) -> bool:
        """KML is WGS 84 by definition."""
        return self is Format.KML

    @property
    def default_wgs84(self) -> bool:
        """GeoJSON (RFC 7946) and KML default to WGS 84; the others to the layer's zone."""
        return self in (Format.GEOJSON, Format.KML)


@dataclass(frozen=True)
class ExportFile:
    path: Path
    features: int
    notes: tuple[str, ...]


def _plain(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Attributes as GDAL's table drivers want them: booleans and nullable types as objects,
    dates as ISO text."""
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.dt.strftime("%Y-%m-%d")
    return out


def _shapefile(frame: gpd.GeoDataFrame, folder: Path, base: str) -> tuple[Path, list[str]]:
    """A zip of one shapefile (or two, ``_points`` and ``_polygons``, when the layer mixes
    them: a shapefile holds one geometry type) with a ``_fields.txt`` naming the fields."""
    present = set(frame.columns)
    frame = frame.rename(columns=SHP_EXTRA_NAMES)
    sets = folder / "shp"
    notes: list[str] = []
    points = frame.geom_type.isin(["Point", "MultiPoint"])
    parts = [(base, frame)]
    if points.any() and (~points).any():
        parts = [(f"{base}_points", frame[points]), (f"{base}_polygons", frame[~points])]
    for stem, part in parts:
        for note in write_layer(part, sets / f"{stem}.shp", fmt="shp", layer=stem):
            if note not in notes:
                notes.append(note)
    names = shp_field_names()
    lines = ["Shapefile field names (10 characters) / Tên trường trong shapefile", "",
             "model field -> shapefile field"]
    lines += [f"{model} -> {short}" for model, short in names.items() if model in present]
    dropped = [c for c in SHP_DROPPED if c in present]
    if dropped:
        lines += ["", "left out (text over 254 characters; in GeoPackage and GeoJSON): "
                  + ", ".join(dropped)]
    (sets / f"{base}_fields.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = folder / f"{base}.shp.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(sets.iterdir()):
            zf.write(f, f.name)
    return target, notes


def _gdal(frame: pd.DataFrame, target: Path, driver: str, layer: str, **kwargs: object) -> None:
    write_driver(frame, target, driver=driver, layer=layer, **kwargs)  # type: ignore[arg-type]


def parse_lang(value: str | None) -> str:
    """``vi`` (the default) or ``en``; anything else is refused naming the choices."""
    text = (value or "vi").strip().lower()
    if text not in ("vi", "en"):
        raise GisError(f"unknown language {value!r}; valid: vi, en", field="lang", value=value)
    return text


def for_people(frame: gpd.GeoDataFrame, *, lang: str, ward_names: dict[str, str] | None,
               escape: bool) -> gpd.GeoDataFrame:
    """The attributes of a CSV or XLSX export: the ward's name beside its code (when the store
    has wards), column headers in ``lang`` (:func:`gis.render.labels.column_headers`) and, for
    CSV (``escape``), text that a spreadsheet would run as a formula escaped
    (:mod:`gis.io.tables_out`; GDAL's XLSX driver writes every string as a text cell)."""
    from gis.io.tables_out import escape_formulas
    from gis.render.labels import column_headers

    geometry = frame.geometry.name
    table = pd.DataFrame(frame.drop(columns=geometry))
    if ward_names is not None and "ward_code" in table.columns and "ward_name" not in table:
        names = table["ward_code"].map(lambda c: ward_names.get(str(c)) if pd.notna(c) else None)
        table.insert(table.columns.get_loc("ward_code") + 1, "ward_name", names.astype(object))
    if escape:
        table = escape_formulas(table)
    table = table.rename(columns=column_headers(list(table.columns), lang))
    return gpd.GeoDataFrame(table, geometry=frame.geometry.values, crs=frame.crs)


def write_export(frame: gpd.GeoDataFrame, fmt: Format, folder: Path, base: str, *,
                 layer: str, key: str, lang: str = "vi",
                 ward_names: dict[str, str] | None = None) -> ExportFile:
    """Write ``frame`` (already in the output CRS) as ``fmt`` into ``folder``; ``base`` is the
    file stem, ``layer`` the layer name inside the file, ``key`` the feature name (KML). CSV and
    XLSX are tables for people: headers in ``lang``, ward names beside ward codes
    (``ward_names``, code → name), formula-like text kept as text."""
    notes: list[str] = []
    if fmt in (Format.CSV, Format.XLSX):
        frame = for_people(frame, lang=parse_lang(lang), ward_names=ward_names,
                           escape=fmt is Format.CSV)
    if fmt is Format.SHP:
        path, notes = _shapefile(frame, folder, base)
    elif fmt in (Format.GPKG, Format.GEOJSON):
        path = folder / f"{base}{fmt.suffix}"
        notes = write_layer(frame, path, fmt=fmt.value, layer=layer)
    elif fmt is Format.KML:
        if frame.crs is not None and CRS.from_user_input(frame.crs).to_epsg() != 4326:
            raise GisError("KML is always WGS 84; reproject first", field="crs")
        path = folder / f"{base}.kml"
        # the key names each placemark and stays an attribute too
        kml = frame.drop(columns=[c for c in ("Name", "name") if c in frame and c != key])
        kml.insert(0, "Name", frame[key].astype("string"))
        _gdal(kml, path, "KML", layer, dataset_options={"NameField": "Name"})
    elif fmt is Format.CSV:
        # geometry as WKT in the first column; a BOM so that Excel reads the UTF-8 text
        path = folder / f"{base}.csv"
        _gdal(frame, path, "CSV", layer, layer_options={"GEOMETRY": "AS_WKT", "WRITE_BOM": "YES"})
    else:
        path = folder / f"{base}.xlsx"
        table = _plain(frame)
        from gis.render.labels import column_headers

        table[column_headers(["wkt"], lang)["wkt"]] = frame.geometry.to_wkt()
        too_long = 0
        for column in table.columns:
            if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
                long_ = table[column].astype("string").str.len() > _XLSX_CELL
                if long_.any():
                    too_long += int(long_.sum())
                    table.loc[long_.fillna(False).to_numpy(), column] = None
        if too_long:
            notes.append(f"{too_long} cells over Excel's {_XLSX_CELL:,} characters left empty "
                         "(use GeoPackage for these geometries)")
        _gdal(table, path, "XLSX", re.sub(r"[\[\]:*?/\\]", "_", layer)[:31])
    return ExportFile(path, len(frame), tuple(notes))


def write_geojson_stream(batches: Iterable[gpd.GeoDataFrame], folder: Path, base: str, *,
                         crs: CRS, layer: str,
                         reproject: Callable[[gpd.GeoDataFrame, CRS], gpd.GeoDataFrame]
                         ) -> ExportFile:
    """GeoJSON written feature by feature as the batches come: memory holds one batch, never
    the district. WGS 84 output is RFC 7946 (no ``crs`` member); a VN-2000 zone is named in
    the ``crs`` member as GDAL writes it, so GDAL and QGIS read the zone back."""
    path = folder / f"{base}.geojson"
    count = 0
    epsg = crs.to_epsg()
    head: dict[str, object] = {"type": "FeatureCollection", "name": layer}
    if epsg != 4326:
        head["crs"] = {"type": "name", "properties": {
            "name": f"urn:ogc:def:crs:EPSG::{epsg}" if epsg else crs.to_wkt()}}
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ',\n"features": [\n')
        for batch in batches:
            batch = reproject(batch, crs)
            for start in range(0, len(batch), _JSON_ROWS):  # pandas' JSON buffer grows ~10×
                part = batch.iloc[start:start + _JSON_ROWS]
                props = pd.DataFrame(part.drop(columns=part.geometry.name))
                lines = props.to_json(orient="records", lines=True, date_format="iso",
                                      force_ascii=False).splitlines() if len(props.columns) \
                    else ["{}"] * len(part)
                geoms = shapely.to_geojson(np.asarray(part.geometry.values, dtype=object))
                for props_json, geom_json in zip(lines, geoms):
                    fh.write(",\n" if count else "")
                    fh.write(f'{{"type": "Feature", "properties": {props_json}, '
                             f'"geometry": {geom_json if geom_json is not None else "null"}}}')
                    count += 1
        fh.write("\n]\n}\n")
    return ExportFile(path, count, ())
