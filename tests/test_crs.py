"""VN-2000 zones, the pinned transformation to WGS 84, CRS detection and inference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer
from pyproj.transformer import TransformerGroup

from gis import crs as crsmod
from gis.errors import CRSError
from tests.conftest import shared


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = (lon1 - lon2) * 111_320 * math.cos(math.radians(lat1))
    dy = (lat1 - lat2) * 110_574
    return math.hypot(dx, dy)


def test_all_17_tm3_zones_and_two_utm_zones():
    tm3 = [z for z in crsmod.ZONES if not z.is_utm]
    assert len(tm3) == 17
    assert sorted(z.epsg for z in crsmod.ZONES if z.is_utm) == [3405, 3406]
    assert len({z.central_meridian for z in tm3}) == 17
    for zone in crsmod.ZONES:
        params = {p.code: p.value for p in zone.crs.coordinate_operation.params}
        assert params["8802"] == pytest.approx(zone.central_meridian)
        assert params["8805"] == pytest.approx(zone.scale)
        assert crsmod.zone_of_crs(zone.crs.to_wkt("WKT1_ESRI")) == zone


@pytest.mark.parametrize("zone", crsmod.ZONES, ids=lambda z: str(z.epsg))
def test_pinned_transform_equals_epsg_6960_in_every_zone(zone):
    group = TransformerGroup(zone.epsg, 4326, always_xy=True)
    national = [t for t in group.transformers if "VN-2000 to WGS 84 (2)" in t.description]
    assert national, "PROJ database lacks EPSG:6960"
    x = np.array([450_000.0, 500_000.0, 560_000.0])
    y = np.array([1_200_000.0, 1_800_000.0, 2_400_000.0])
    ours = crsmod.pinned_transformer(zone.epsg).transform(x, y)
    ref = national[0].transform(x, y)
    for i in range(3):
        assert _metres(ours[0][i], ours[1][i], ref[0][i], ref[1][i]) < 0.001


def test_known_coordinates_hanoi_and_hcmc():
    # Regression anchors computed once with EPSG:6960 (national parameters).
    lon, lat = crsmod.pinned_transformer(5897).transform(585_000.0, 2_330_000.0)
    assert _metres(lon, lat, 105.81982643712105, 21.061679217718265) < 0.01
    lon, lat = crsmod.pinned_transformer(9210).transform(602_000.0, 1_191_000.0)
    assert _metres(lon, lat, 106.68444129531203, 10.768431345761089) < 0.01


def test_rotation_signs_and_operation_choice_matter():
    """The sign trap and pyproj's default choice of the Mekong operation are avoided."""
    x, y = 602_000.0, 1_191_000.0  # central HCMC, inside the Mekong box of EPSG:5194
    ours = crsmod.pinned_transformer(9210).transform(x, y)
    wrong_sign = CRS.from_proj4("+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 "
                                "+ellps=WGS84 +towgs84=-191.90441429,-39.30318279,-111.45032835,"
                                "-0.00928836,0.01975479,-0.00427372,0.252906278 +units=m")
    right_sign = CRS.from_proj4("+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 "
                                "+ellps=WGS84 +towgs84=-191.90441429,-39.30318279,-111.45032835,"
                                "0.00928836,-0.01975479,0.00427372,0.252906278 +units=m")
    r = Transformer.from_crs(right_sign, 4326, always_xy=True).transform(x, y)
    w = Transformer.from_crs(wrong_sign, 4326, always_xy=True).transform(x, y)
    default = Transformer.from_crs(9210, 4326, always_xy=True).transform(x, y)
    assert _metres(*ours, *r) < 0.01
    assert _metres(*ours, *w) > 0.3
    assert _metres(*ours, *default) > 0.3
    # and the datum shift itself is ~200 m: omitting it is never silent
    no_shift = Transformer.from_pipeline("+proj=pipeline +step +inv +proj=tmerc +lat_0=0 "
                                         "+lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
                                         "+step +proj=unitconvert +xy_in=rad +xy_out=deg")
    assert 150 < _metres(*ours, *no_shift.transform(x, y)) < 300


@settings(max_examples=60, deadline=None)
@given(x=st.floats(300_000, 700_000), y=st.floats(1_000_000, 2_600_000),
       zone=st.sampled_from([z.epsg for z in crsmod.ZONES]))
def test_round_trip_zone_wgs84_zone(x, y, zone):
    lon, lat = crsmod.pinned_transformer(zone).transform(x, y)
    bx, by = crsmod.pinned_transformer(zone, inverse=True).transform(lon, lat)
    assert abs(bx - x) < 0.005 and abs(by - y) < 0.005


def test_transform_geometries_between_zones_keeps_shape():
    square = shapely.box(585_000, 2_330_000, 585_100, 2_330_100)
    moved = crsmod.transform_geometries([square], 5897, 9209)[0]
    back = crsmod.transform_geometries([moved], 9209, 5897)[0]
    assert shapely.equals_exact(shapely.normalize(back), shapely.normalize(square), tolerance=0.01)
    assert moved.area == pytest.approx(square.area, rel=1e-3)


@pytest.mark.parametrize("wkt_version", ["WKT1_ESRI", "WKT1_GDAL", "WKT2_2019"])
def test_prj_without_towgs84_is_recognised(wkt_version):
    wkt = CRS.from_epsg(5899).to_wkt(wkt_version)
    assert "TOWGS84" not in wkt
    assert crsmod.zone_of_crs(wkt).epsg == 5899


def test_vn2000_with_towgs84_and_wgs84_datum_tm3_are_recognised():
    proj = ("+proj=tmerc +lat_0=0 +lon_0=105.5 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
            "+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,"
            "0.252906278 +units=m +no_defs")
    assert crsmod.zone_of_crs(proj).epsg == 9209
    nội_bộ = "+proj=tmerc +lat_0=0 +lon_0=108.5 +k=0.9999 +x_0=500000 +y_0=0 +datum=WGS84 +units=m"
    assert crsmod.zone_of_crs(nội_bộ).epsg == 9218


def test_other_projections_are_not_vn2000():
    assert crsmod.zone_of_crs("EPSG:32648") is None
    assert crsmod.zone_of_crs("EPSG:3857") is None
    assert crsmod.zone_of_crs("EPSG:4326") is None


def test_province_lookup():
    assert crsmod.zone_for_province("Thành phố Hà Nội").epsg == 5897
    assert crsmod.zone_for_province("da nang").epsg == 5899
    assert crsmod.zone_for_province("TP. Hồ Chí Minh").epsg == 9210
    assert crsmod.zone_for_province("Bắc Ninh").epsg == 9209
    with pytest.raises(CRSError, match="unknown province"):
        crsmod.zone_for_province("Atlantis")


def test_inference_refuses_to_guess_between_zones():
    bounds = (584_000, 2_329_000, 586_000, 2_331_000)
    with pytest.raises(CRSError) as err:
        crsmod.resolve_source_crs(None, bounds, path="x.shp")
    assert "--crs" in str(err.value) and "x.shp" in str(err.value)
    assert "EPSG:5897" in str(err.value)
    assert crsmod.resolve_source_crs(None, bounds, province="Hà Nội").to_epsg() == 5897


def test_lon_lat_without_crs_is_not_assumed_wgs84():
    with pytest.raises(CRSError, match="4326.*4756|4756.*4326"):
        crsmod.resolve_source_crs(None, (105.8, 21.0, 105.9, 21.1))


def test_declared_vn2000_with_lonlat_coordinates_is_refused():
    with pytest.raises(CRSError, match="lon/lat"):
        crsmod.resolve_source_crs("EPSG:5897", (105.8, 21.0, 105.9, 21.1), path="p.shp")


def test_working_crs_choices():
    wgs = CRS.from_epsg(4326)
    assert crsmod.working_crs(wgs, (108.2, 16.0, 108.3, 16.1), province="Đà Nẵng").to_epsg() == 5899
    assert crsmod.working_crs(wgs, (108.2, 16.0, 108.3, 16.1)).to_epsg() == 3406
    assert crsmod.working_crs(CRS.from_epsg(32648), (0, 0, 1, 1)).to_epsg() == 32648
    prague = crsmod.working_crs(CRS.from_epsg(3857), (1605000, 6464000, 1607000, 6466000))
    assert prague.to_epsg() == 32633


def test_hcmc_shapefile_utm48n_is_read_and_areas_match_arcgis():
    from gis.ingest import prepare_layer

    path = shared("vn-hcmc-wards-cityscope/Population_Ward_Level.shp")
    report = prepare_layer(path, "wards", store_crs=None)
    assert "32648" in report.crs_working
    v = report.validation.valid
    from gis.io.read import read_layer

    raw, _ = read_layer(path)
    ratio = (v["area_m2"].to_numpy() / raw["Shape_Area"].to_numpy())
    assert np.median(np.abs(ratio - 1)) < 1e-3


def test_prague_web_mercator_areas_are_reprojected():
    from gis.ingest import prepare_layer
    from gis.io.read import read_layer

    path = shared("cz-prague-bubenec-momepy/bubenec.gpkg")
    raw, _ = read_layer(path, layer="plots")
    naive = raw.geometry.area.to_numpy()
    report = prepare_layer(path, "buildings", layer="plots")
    true = report.validation.valid["area_m2"].to_numpy()
    krovak = raw.to_crs(5514).geometry.area.to_numpy()
    assert np.median(naive / true) == pytest.approx(2.43, abs=0.05)
    assert np.median(np.abs(true / krovak - 1)) < 0.002
