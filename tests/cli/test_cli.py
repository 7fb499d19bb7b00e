"""The gis command line: ingest, validate, export, store, catalog; errors without tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from gis.cli import cli


@pytest.fixture
def runner():
    return CliRunner()



def test_validate_writes_nothing_but_the_report(runner, parcels_shp, store_path, tmp_path):
    out = tmp_path / "r.json"
    res = runner.invoke(cli, ["validate", str(parcels_shp), "--report", str(out)])
    assert res.exit_code == 0, res.output
    assert "duplicate_key" in res.output and "3 quarantined" in res.output
    assert not store_path.exists()
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["summary"]["rows_total"] == 6
    assert report["fields"]["fields"]["map_sheet"]["source"] == "SoHieuToBa"
    assert report["fields"]["fields"]["map_sheet"]["how"] == "truncated alias"
    assert {i["rule"] for i in report["issues"]} >= {"parcel_number_zero", "area_mismatch"}
    csv_out = tmp_path / "issues.csv"
    res = runner.invoke(cli, ["validate", str(parcels_shp), "--report", str(csv_out)])
    assert res.exit_code == 0
    assert csv_out.read_text(encoding="utf-8-sig").splitlines()[0] == (
        "row,key,rule,severity,field,value,message")


def test_ingest_then_reingest_prints_diff(runner, parcels_shp, store_path):
    res = runner.invoke(cli, ["ingest", "parcels", str(parcels_shp), "--user", "cán bộ A"])
    assert res.exit_code == 0, res.output
    assert "+3 added" in res.output and "stored" in res.output
    res = runner.invoke(cli, ["ingest", "parcels", str(parcels_shp)])
    assert "+0 added, -0 removed, ~0 changed, 3 unchanged" in res.output
    res = runner.invoke(cli, ["store", "log"])
    assert res.exit_code == 0 and "cán bộ A" in res.output
    res = runner.invoke(cli, ["store", "quarantine", "--kind", "parcels"])
    assert "parcel number 0" in res.output


def test_strict_refuses_whole_file(runner, parcels_shp, store_path):
    res = runner.invoke(cli, ["ingest", "parcels", str(parcels_shp), "--strict"])
    assert res.exit_code != 0
    assert "nothing was written" in res.output and isinstance(res.exception, SystemExit)
    assert not store_path.exists()


def test_error_is_one_line_no_traceback(runner, tmp_path, store_path):
    res = runner.invoke(cli, ["ingest", "parcels", str(tmp_path / "nope.shp")])
    assert res.exit_code == 2
    assert "Error:" in res.output and "nope.shp" in res.output
    assert isinstance(res.exception, SystemExit)


@pytest.mark.parametrize("fmt,name", [("gpkg", "p.gpkg"), ("geojson", "p.geojson"),
                                      ("shp", "p.shp"), ("shp", "p.zip")])
def test_export_formats_open_in_ogrinfo(runner, parcels_shp, store_path, tmp_path, fmt, name):
    runner.invoke(cli, ["ingest", "parcels", str(parcels_shp)])
    out = tmp_path / "out" / name
    crs = ["--crs", "EPSG:4326"] if fmt == "geojson" else []
    res = runner.invoke(cli, ["export", "parcels", "--format", fmt, "--out", str(out), *crs])
    assert res.exit_code == 0, res.output
    assert "3 parcels written" in res.output
    if shutil.which("ogrinfo") is None:
        pytest.skip("gdal-bin (ogrinfo) not installed")
    target = f"/vsizip/{out}/p.shp" if name.endswith(".zip") else str(out)
    info = subprocess.run(["ogrinfo", "-so", "-al", target], capture_output=True, text=True,
                          check=True).stdout
    assert "Feature Count: 3" in info
    if fmt == "geojson":
        assert "WGS 84" in info
    else:
        assert "VN-2000" in info or "VN_2000" in info
    if fmt == "shp":
        assert "lu_codes" in info and "owner_name" in info


def test_export_where_filter(runner, parcels_shp, store_path, tmp_path):
    runner.invoke(cli, ["ingest", "parcels", str(parcels_shp)])
    out = tmp_path / "f.gpkg"
    res = runner.invoke(cli, ["export", "parcels", "--format", "gpkg", "--out", str(out),
                              "--where", "land_use = 'ODT'"])
    assert res.exit_code == 0, res.output
    assert "2 parcels written" in res.output


def test_catalog_validate_and_bad_yaml(runner, tmp_path):
    res = runner.invoke(cli, ["catalog", "validate", "layers"])
    assert res.exit_code == 0, res.output
    assert "parcels" in res.output
    bad = tmp_path / "cat"
    bad.mkdir()
    (bad / "p.yaml").write_text("id: p\nkind: parcels\ntitle: {vi: a, en: b}\nfields: {sheet: X}\n")
    res = runner.invoke(cli, ["catalog", "validate", str(bad)])
    assert res.exit_code == 2
    assert "p.yaml" in res.output and "fields" in res.output and "sheet" in res.output


def test_layers_lists_gpkg_layers(runner, tmp_path, small_parcels):
    path = tmp_path / "multi.gpkg"
    small_parcels.to_file(path, layer="a")
    small_parcels.to_file(path, layer="b")
    res = runner.invoke(cli, ["layers", str(path)])
    assert "a\tPolygon" in res.output and "b\tPolygon" in res.output


def test_shapefile_export_prj_carries_national_towgs84(runner, parcels_shp, store_path, tmp_path):
    from pyproj import CRS, Transformer

    from gis import crs as crsmod

    runner.invoke(cli, ["ingest", "parcels", str(parcels_shp)])
    out = tmp_path / "e" / "p.shp"
    assert runner.invoke(cli, ["export", "parcels", "--format", "shp", "--out", str(out)]).exit_code == 0
    prj = out.with_suffix(".prj").read_text()
    assert "TOWGS84[-191.90441429" in prj and "VN-2000 / TM-3 105-00" in prj
    # software that applies the .prj's TOWGS84 lands where the pinned EPSG:6960 does
    got = Transformer.from_crs(CRS.from_wkt(prj), 4326, always_xy=True).transform(585_000, 2_330_000)
    ref = crsmod.pinned_transformer(5897).transform(585_000, 2_330_000)
    assert abs(got[0] - ref[0]) < 1e-8 and abs(got[1] - ref[1]) < 1e-8
    assert crsmod.zone_of_crs(prj).epsg == 5897


def test_geojson_export_defaults_to_wgs84(runner, parcels_shp, store_path, tmp_path):
    import json as _json

    runner.invoke(cli, ["ingest", "parcels", str(parcels_shp)])
    out = tmp_path / "p.geojson"
    assert runner.invoke(cli, ["export", "parcels", "--format", "geojson", "--out", str(out)]).exit_code == 0
    data = _json.loads(out.read_text(encoding="utf-8"))
    from shapely.geometry import shape

    c = shape(data["features"][0]["geometry"]).centroid
    assert 105 < c.x < 107 and 20 < c.y < 22
