"""Ward-scoped re-ingest, empty loads refused, areas in the source zone, CRS input errors,
swapped axes, VN-2000 geographic pinned, land-use column choice, concurrent writers."""

from __future__ import annotations

import hashlib
import multiprocessing as mp

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from gis import crs as crsmod
from gis.cli import cli
from gis.errors import CRSError, ParcelValidationError
from gis.ingest import ingest_layer, prepare_layer
from gis.store import GeoPackageStore
from tests.conftest import shared

DANANG = "vn-danang-cadastre-parcels/parcels_{}.geojson"


def test_wards_are_replaced_one_file_at_a_time(tmp_path):
    store = GeoPackageStore(tmp_path / "s.gpkg")
    a = ingest_layer(store, shared(DANANG.format("20248_nam_duong")), "parcels", province="Đà Nẵng")
    b = ingest_layer(store, shared(DANANG.format("20242_phuoc_ninh")), "parcels", province="Đà Nẵng")
    assert b.diff.removed == () and b.kept_other_wards == len(a.validation.valid)
    stored = store.read("parcels")
    assert set(stored["ward_code"]) == {"20248", "20242"}
    assert len(stored) == len(a.validation.valid) + len(b.validation.valid)
    q = store.quarantine("parcels")
    assert set(q["ward_code"]) == {"20248", "20242"}  # quarantine of the first ward kept too
    again = ingest_layer(store, shared(DANANG.format("20248_nam_duong")), "parcels",
                         province="Đà Nẵng")
    assert again.diff.as_dict()["changed"] == 0 and again.diff.as_dict()["removed"] == 0
    assert len(store.read("parcels")) == len(stored)


def test_a_file_with_no_valid_row_is_refused_and_nothing_changes(tmp_path):
    store = GeoPackageStore(tmp_path / "s.gpkg")
    ingest_layer(store, shared(DANANG.format("20248_nam_duong")), "parcels", province="Đà Nẵng")
    before = hashlib.sha256(store.path.read_bytes()).hexdigest()
    points = shared("vn-vandinh-parcel-points-tcvn3/vandinh_parcel_points_tcvn3.geojson")
    with pytest.raises(ParcelValidationError, match="none of the 100 rows is valid"):
        ingest_layer(store, points, "parcels", province="Hà Nội", defaults={"ward_code": "10279"})
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() == before


def test_areas_use_the_province_zone_even_in_a_store_of_another_zone(tmp_path, small_parcels):
    store = GeoPackageStore(tmp_path / "s.gpkg")
    src = tmp_path / "hn.shp"
    small_parcels.to_file(src)
    ingest_layer(store, src, "parcels")  # the store is now in EPSG:5897 (Hà Nội)
    report = ingest_layer(store, shared(DANANG.format("20248_nam_duong")), "parcels",
                          province="Đà Nẵng")
    v = report.validation.valid
    ratio = np.median(v["area_m2"] / v["area_recorded_m2"])
    assert abs(ratio - 1) < 0.001
    assert store.read("parcels").crs.to_epsg() == 5897
    assert any("5899" in n for n in report.crs_notes)


def test_bad_crs_option_is_a_clear_error_not_a_traceback(tmp_path, small_parcels, store_path):
    src = tmp_path / "p.shp"
    small_parcels.to_file(src)
    res = CliRunner().invoke(cli, ["validate", str(src), "--crs", "FOO"])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit)
    assert "--crs 'FOO' is not a CRS" in res.output


def test_swapped_axes_are_named():
    with pytest.raises(CRSError, match="swapped"):
        crsmod.resolve_source_crs("EPSG:5897", (2_329_000, 584_000, 2_331_000, 586_000))


def test_vn2000_geographic_goes_through_the_pinned_parameters():
    from pyproj import Transformer

    point = shapely.Point(602_000, 1_191_000)
    geo = crsmod.transform_geometries([point], 9210, 4756)[0]
    # same datum: an inverse projection only (pyproj agrees); no datum shift on the way
    lon, lat = Transformer.from_crs(9210, 4756, always_xy=True).transform(602_000, 1_191_000)
    assert abs(geo.x - lon) < 1e-8 and abs(geo.y - lat) < 1e-8
    # and VN-2000 lon/lat -> WGS 84 uses EPSG:6960, equal to zone -> WGS 84 pinned
    wgs = crsmod.transform_geometries([geo], 4756, 4326)[0]
    direct = crsmod.pinned_transformer(9210).transform(602_000, 1_191_000)
    assert abs(wgs.x - direct[0]) < 1e-8 and abs(wgs.y - direct[1]) < 1e-8


def test_land_use_column_with_known_codes_wins():
    path = shared("vn-vandinh-parcel-points-tcvn3/vandinh_parcel_points_tcvn3.geojson")
    report = prepare_layer(path, "parcels", province="Hà Nội", defaults={"ward_code": "10279"})
    assert report.mapping.sources["land_use_source"] == "mdsd2003"
    assert "loai_dat" in report.mapping.how["land_use_source"]
    assert set(report.validation.quarantine["land_use"].dropna()) >= {"LUC", "DGT"}


def _ingest_worker(args):
    store_path, src, kind = args
    ingest_layer(GeoPackageStore(store_path), src, kind, user=f"worker-{kind}")
    return kind


def test_concurrent_writers_lose_nothing(tmp_path, small_parcels):
    src = tmp_path / "p.shp"
    small_parcels.to_file(src)
    import geopandas as gpd

    wards = gpd.GeoDataFrame({"MaXa": ["09880"]}, geometry=[shapely.box(*small_parcels.total_bounds)],
                             crs=small_parcels.crs)
    wsrc = tmp_path / "w.gpkg"
    wards.to_file(wsrc)
    store_path = tmp_path / "s.gpkg"
    jobs = [(store_path, src, "parcels"), (store_path, wsrc, "wards")] * 3
    with mp.get_context("spawn").Pool(3) as pool:
        assert sorted(pool.map(_ingest_worker, jobs)) == ["parcels"] * 3 + ["wards"] * 3
    store = GeoPackageStore(store_path)
    log = store.ingest_log()
    assert len(log) == 6 and sorted(log["kind"]) == ["parcels"] * 3 + ["wards"] * 3
    assert len(store.quarantine("parcels")) == 3
    assert store.layers()["wards"] == 1
