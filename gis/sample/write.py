"""Write a :class:`~gis.sample.generate.SampleDistrict` to disk (the only I/O of ``gis.sample``).

Every file is first written under a hidden temporary name in the output directory and
renamed into place only after all files were written, so a failure never leaves a half
file behind (files of an earlier run are replaced only at that final step).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from gis.io.write import write_arrays, write_driver
from gis.sample.tcvn3 import encode_tcvn3

if TYPE_CHECKING:
    import geopandas as gpd

    from gis.sample.generate import SampleDistrict

__all__ = ["write_sample"]

#: DBF header date written into every shapefile, so reruns give identical .dbf bytes.
DBF_DATE = "2024-12-31"
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_STALE_PARTS = (".qix", ".sbn", ".sbx", ".qmd")


def _field_arrays(frame: gpd.GeoDataFrame, *, tcvn3: bool) -> tuple[list[str], list[np.ndarray]]:
    """Attribute columns as numpy arrays; text as fixed-width ``U`` arrays whose width is
    the longest value in bytes, which GDAL takes as the DBF field width."""
    names, arrays = [], []
    for column in frame.columns.drop(frame.geometry.name):
        values = frame[column]
        if pd.api.types.is_integer_dtype(values) and values.abs().max() < 2**31:
            array = values.to_numpy(dtype=np.int32)
        elif pd.api.types.is_numeric_dtype(values):
            array = values.to_numpy()
        else:
            text = values.fillna("").astype(str)
            if tcvn3:  # TCVN3 bytes as latin-1 code points, one byte per character
                text = text.map({u: encode_tcvn3(u) for u in pd.unique(text)})
                width = int(text.str.len().max())
            else:
                width = max(len(u.encode("utf-8")) for u in pd.unique(text))
            if width > 254:
                raise ValueError(f"column {column!r} has a value of {width} bytes; DBF allows 254")
            array = text.to_numpy(dtype=f"U{max(width, 1)}")
        names.append(column)
        arrays.append(array)
    return names, arrays


def _write_shapefile(frame: gpd.GeoDataFrame, out_dir: Path, stem: str, token: str, *,
                     legacy_encoding: bool = False, drop_prj: bool = False) -> list[tuple[Path | None, Path]]:
    """Write a shapefile under a temporary stem; return (temporary, final) pairs.

    Uses GDAL's array-level writer (:func:`gis.io.write.write_arrays`) so text fields get tight widths (the frame writer
    leaves them at 80 bytes, and GDAL's RESIZE pass is slow on a million rows).
    """
    tmp_stem = f".{stem}-{token}"
    names, arrays = _field_arrays(frame, tcvn3=legacy_encoding)
    write_arrays(
        out_dir / f"{tmp_stem}.shp", shapely.to_wkb(frame.geometry.to_numpy()), list(arrays),
        names, driver="ESRI Shapefile", geometry_type="Polygon", crs=frame.crs.to_wkt(),
        encoding="latin1" if legacy_encoding else "UTF-8",
        layer_options={"DBF_DATE_LAST_UPDATE": DBF_DATE},
    )
    cpg = out_dir / f"{tmp_stem}.cpg"
    if legacy_encoding:
        cpg.unlink(missing_ok=True)  # old Famis / MicroStation exports carry no .cpg
    else:
        cpg.write_text("UTF-8", encoding="ascii")
    if drop_prj:
        (out_dir / f"{tmp_stem}.prj").unlink(missing_ok=True)
    moves: list[tuple[Path | None, Path]] = []
    for suffix in _SHAPEFILE_PARTS + _STALE_PARTS:
        part = out_dir / f"{tmp_stem}{suffix}"
        moves.append((part if part.exists() else None, out_dir / f"{stem}{suffix}"))
    return moves


def _write_gpkg(frame: gpd.GeoDataFrame, out_dir: Path, stem: str, token: str) -> list[tuple[Path | None, Path]]:
    tmp = out_dir / f".{stem}-{token}.gpkg"
    write_driver(frame, tmp, driver="GPKG", layer=stem)
    return [(tmp, out_dir / f"{stem}.gpkg")]


def _write_xlsx(table: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("TienDoGPMB")
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False, name=None):
        sheet.append([None if value is None or (isinstance(value, float) and value != value)
                      else value for value in row])
    book.save(path)


def write_sample(district: SampleDistrict, out_dir: str | os.PathLike[str], *,
                 legacy_encoding: bool = False, drop_prj: bool = False) -> list[Path]:
    """Write the district's layers, clearance sheet and manifest into ``out_dir``.

    Parameters
    ----------
    district : SampleDistrict
        Output of :func:`gis.sample.generate_district`.
    out_dir : str or os.PathLike
        Target directory, created if missing. Existing files of the same names are replaced.
    legacy_encoding : bool, default False
        Write ``parcels.dbf`` text as TCVN3 bytes with no ``.cpg`` (as old Famis /
        MicroStation exports); otherwise UTF-8 with a ``.cpg`` saying so.
    drop_prj : bool, default False
        Leave out ``parcels.prj`` (a CRS-less delivery).

    Returns
    -------
    list of pathlib.Path
        The files written, in writing order.

    Files
    -----
    ``parcels.shp`` (+ .shx .dbf [.prj] [.cpg]), ``projects.shp`` (+ .shx .dbf .prj .cpg),
    ``buildings.gpkg`` (layer ``buildings``), ``wards.gpkg`` (layer ``wards``),
    ``clearance.xlsx`` (sheet ``TienDoGPMB``), ``clearance.csv`` (UTF-8 with BOM) and
    ``manifest.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    moves: list[tuple[Path | None, Path]] = []
    try:
        moves += _write_shapefile(district.parcels, out, "parcels", token,
                                  legacy_encoding=legacy_encoding, drop_prj=drop_prj)
        moves += _write_shapefile(district.projects, out, "projects", token)
        moves += _write_gpkg(district.buildings, out, "buildings", token)
        moves += _write_gpkg(district.wards, out, "wards", token)
        xlsx, csv, manifest = (out / f".clearance-{token}.xlsx", out / f".clearance-{token}.csv",
                               out / f".manifest-{token}.json")
        _write_xlsx(district.clearance, xlsx)
        moves.append((xlsx, out / "clearance.xlsx"))
        district.clearance.to_csv(csv, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        moves.append((csv, out / "clearance.csv"))
        manifest.write_text(json.dumps(district.manifest, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
        moves.append((manifest, out / "manifest.json"))
    except BaseException:
        for leftover in out.glob(f".*-{token}.*"):
            leftover.unlink(missing_ok=True)
        raise
    written = []
    for tmp, final in moves:
        if tmp is None:  # a sidecar this run does not produce: drop a stale one
            final.unlink(missing_ok=True)
        else:
            os.replace(tmp, final)
            written.append(final)
    return written
