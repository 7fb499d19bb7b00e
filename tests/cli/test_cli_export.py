"""``gis export``: every layer and format of the web export from the command line, through the
same functions; CSV and XLSX with Vietnamese headers, ward names and formula-like text kept as
text."""

from __future__ import annotations

import csv
import shutil
import subprocess

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from gis.cli import cli

# rows 3-4 share a key and row 5 has no parcel number: those go to quarantine
OWNERS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "Nguyễn Văn An", None, "-2+3"]
LOADED = [OWNERS[0], OWNERS[1], OWNERS[5]]


@pytest.fixture
def store(tmp_path, small_parcels, monkeypatch):
    from gis.ingest import ingest_layer
    from gis.store import GeoPackageStore
    from gis.violations import flag

    parcels = small_parcels.assign(TenChu=OWNERS)
    parcels.to_file(tmp_path / "p.gpkg")
    wards = gpd.GeoDataFrame({"MaXa": ["09880"], "name": ["Phường An Bình"]},
                             geometry=[shapely.box(*small_parcels.total_bounds).buffer(5)],
                             crs=small_parcels.crs)
    wards.to_file(tmp_path / "w.gpkg")
    st = GeoPackageStore(tmp_path / "store.gpkg")
    ingest_layer(st, tmp_path / "p.gpkg", "parcels")
    ingest_layer(st, tmp_path / "w.gpkg", "wards")
    flag(st, shapely.Point(585_010, 2_330_015), kind="encroachment_public_land", who="x",
         notes="=1+1")
    monkeypatch.setenv("GIS_STORE", str(st.path))
    monkeypatch.setenv("GIS_DATA_DIR", str(tmp_path / "data"))
    return st


def _export(args, tmp_path):
    res = CliRunner().invoke(cli, ["export", *args])
    assert res.exit_code == 0, res.output
    return res


def _info(path, layer=None):
    """Feature count and CRS as GDAL reads them (ogrinfo when installed, else pyogrio)."""
    if shutil.which("ogrinfo"):
        out = subprocess.run(["ogrinfo", "-so", "-al", str(path)], capture_output=True,
                             text=True, check=True).stdout
        assert "Feature Count:" in out
    info = pyogrio.read_info(path, layer=layer)
    return info["features"], info["crs"]


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "kml", "csv", "xlsx"])
def test_parcels_in_every_format(store, tmp_path, fmt):
    suffix = {"shp": "zip"}.get(fmt, fmt)
    out = tmp_path / "out" / f"p.{suffix}"
    _export(["parcels", "--format", fmt, "--out", str(out), "--ward", "09880"], tmp_path)
    count, crs = _info(f"/vsizip/{out}/p.shp" if fmt == "shp" else out)
    n = len(store.read("parcels", columns=["parcel_key"]))
    assert count == n and n >= 3
    if fmt == "gpkg":
        assert crs == "EPSG:5897"
    elif fmt == "shp":  # the .prj names the zone with its TOWGS84
        assert "VN-2000 / TM-3 105-00" in crs and "TOWGS84" in crs
    elif fmt in ("geojson", "kml"):
        assert crs in ("EPSG:4326", "OGC:CRS84")


def test_csv_has_vietnamese_headers_ward_names_and_escaped_formulas(store, tmp_path):
    out = tmp_path / "p.csv"
    _export(["parcels", "--format", "csv", "--out", str(out)], tmp_path)
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    head = rows[0]
    assert "Chủ sử dụng" in head and "Mã phường/xã" in head and "Tên phường/xã" in head
    assert head.index("Tên phường/xã") == head.index("Mã phường/xã") + 1
    owners = {r[head.index("Chủ sử dụng")] for r in rows[1:]}
    assert {"'" + owner for owner in LOADED} <= owners
    quarantine = tmp_path / "q.csv"
    _export(["quarantine", "--format", "csv", "--out", str(quarantine)], tmp_path)
    assert "'@SUM(A1)" in quarantine.read_text(encoding="utf-8-sig")
    assert {r[head.index("Tên phường/xã")] for r in rows[1:]} == {"Phường An Bình"}
    area = [r[head.index("Diện tích (m²)")] for r in rows[1:]]
    assert all(not a.startswith("'") for a in area)  # numbers untouched
    en = tmp_path / "en.csv"
    _export(["parcels", "--format", "csv", "--lang", "en", "--out", str(en)], tmp_path)
    assert "Land user" in en.read_text(encoding="utf-8-sig").splitlines()[0]


def test_xlsx_keeps_formula_like_owners_as_text(store, tmp_path):
    out = tmp_path / "p.xlsx"
    _export(["parcels", "--format", "xlsx", "--out", str(out)], tmp_path)
    ws = openpyxl.load_workbook(out).active
    head = [c.value for c in ws[1]]
    col = head.index("Chủ sử dụng") + 1
    cells = {ws.cell(row=r, column=col).value: ws.cell(row=r, column=col).data_type
             for r in range(2, ws.max_row + 1)}
    for owner in LOADED:
        assert cells[owner] == "s", (owner, cells)  # text, exactly as typed: not a formula
    assert "Tên phường/xã" in head


@pytest.mark.parametrize("kind", ["violations", "wards", "quarantine"])
def test_other_kinds(store, tmp_path, kind):
    out = tmp_path / f"{kind}.gpkg"
    _export([kind, "--format", "gpkg", "--out", str(out)], tmp_path)
    count, crs = _info(out)
    assert crs == "EPSG:5897"
    expected = {"violations": 1, "wards": 1}.get(kind)
    if expected is not None:
        assert count == expected


def test_violations_xlsx_with_status_filter(store, tmp_path):
    out = tmp_path / "v.xlsx"
    _export(["violations", "--format", "xlsx", "--status", "DETECTED", "--out", str(out)],
            tmp_path)
    ws = openpyxl.load_workbook(out).active
    assert ws.max_row == 2
    notes = [c for c in ws[2] if c.value == "=1+1"]
    assert notes and notes[0].data_type == "s"


def test_bad_filters_are_one_line_errors(store, tmp_path):
    res = CliRunner().invoke(cli, ["export", "parcels", "--format", "csv", "--ward", "9",
                                   "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "5-digit" in res.output
    res = CliRunner().invoke(cli, ["export", "clearance", "--format", "csv", "--where", "1=1",
                                   "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "computed" in res.output
    res = CliRunner().invoke(cli, ["export", "parcels", "--format", "kml", "--crs",
                                   "EPSG:5897", "--out", str(tmp_path / "x.kml")])
    assert res.exit_code == 2 and "WGS 84" in res.output
    assert not list(tmp_path.glob("x.*"))
