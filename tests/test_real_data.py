"""Real public cadastral data from ../shared/data (skipped with a reason where absent)."""

from __future__ import annotations

import numpy as np
import pytest

from gis.ingest import prepare_layer
from tests.conftest import shared

DANANG = {
    "20248": "parcels_20248_nam_duong.geojson",
    "20242": "parcels_20242_phuoc_ninh.geojson",
    "20275": "parcels_20275_phuoc_my.geojson",
}


@pytest.fixture(scope="module")
def danang_reports():
    return {code: prepare_layer(shared(f"vn-danang-cadastre-parcels/{name}"), "parcels",
                                province="Đà Nẵng")
            for code, name in DANANG.items()}


def _rows(report, rule):
    issues = report.validation.issues
    return issues[issues["rule"] == rule]


def test_danang_counts_add_up(danang_reports):
    for report in danang_reports.values():
        v = report.validation
        assert len(v.valid) + len(v.quarantine) == v.rows_total == report.source.features
        assert "EPSG:5899" in report.crs_working


def test_danang_finds_self_intersections(danang_reports):
    found = {code: len(_rows(r, "invalid_geometry_repaired")) + len(_rows(r, "invalid_geometry"))
             for code, r in danang_reports.items()}
    assert found == {"20248": 1, "20242": 0, "20275": 3}
    msgs = _rows(danang_reports["20275"], "invalid_geometry_repaired")["message"]
    assert msgs.str.contains("Self-intersection").all()


def test_danang_parcel_zero_duplicates_composites_unknown(danang_reports):
    my = danang_reports["20275"]
    # 641 rows have number 0; those on roads, water and unused land (DGT 105, BCS 18, MNC 2)
    # are kept with an outline key, the other 516 are quarantined
    assert len(_rows(my, "parcel_number_zero")) == 516
    assert len(_rows(my, "parcel_number_zero_public")) == 125
    assert len(_rows(my, "area_recorded_zero")) >= 278
    dup = _rows(my, "duplicate_key")
    assert len(dup) > 0 and dup["key"].str.endswith("-0").sum() == 0  # zeros counted separately
    import geopandas as gpd

    for code, name in DANANG.items():
        raw = gpd.read_file(shared(f"vn-danang-cadastre-parcels/{name}"))
        numbered = raw[raw["SoThuTuThua"] != 0]
        expected = numbered.duplicated(["SoHieuToBanDo", "SoThuTuThua"], keep=False).sum()
        assert len(_rows(danang_reports[code], "duplicate_key")) == expected > 0
    composite = _rows(my, "composite_land_use")
    assert set(composite["value"]) >= {"ODT+CLN", "RPH+NHK", "RPH+BHK"}
    unknown = _rows(my, "unknown_land_use")
    assert set(unknown["value"]) == {"COC"} and len(unknown) == 64
    legacy = _rows(my, "legacy_land_use")
    assert legacy["message"].str.contains("BHK→HNK").any()


def test_danang_computed_areas_agree_with_dientich(danang_reports):
    for report in danang_reports.values():
        v = report.validation.valid
        flagged = set(_rows(report, "area_mismatch")["row"])
        ok = v[~v["source_row"].isin(flagged) & (v["area_recorded_m2"] > 0)]
        ratio = ok["area_m2"] / ok["area_recorded_m2"]
        assert abs(np.median(ratio) - 1) < 0.001
        assert (np.abs(ratio - 1) <= 0.005).mean() > 0.99


def test_danang_areas_in_wrong_zone_would_be_off():
    import geopandas as gpd
    import shapely

    from gis.crs import transform_geometries
    from gis.errors import PlaceError

    path = shared("vn-danang-cadastre-parcels/parcels_20248_nam_duong.geojson")
    with pytest.raises(PlaceError, match=r"longitude 108\.\d+°, not in Hà Nội"):
        prepare_layer(path, "parcels", province="Hà Nội")  # 105°00' instead of 107°45': refused
    raw = gpd.read_file(path)
    areas = shapely.area(transform_geometries(raw.geometry.values, "EPSG:4326", "EPSG:5897"))
    ok = raw["DienTich"] > 0
    ratio = np.median(areas[ok] / raw.loc[ok, "DienTich"])
    assert ratio > 1.002  # a wrong central meridian distorts areas measurably


def test_vandinh_points_decode_and_are_quarantined_as_non_polygons():
    report = prepare_layer(shared("vn-vandinh-parcel-points-tcvn3/vandinh_parcel_points_tcvn3.geojson"),
                           "parcels", province="Hà Nội", defaults={"ward_code": "10279"})
    assert {d.column for d in report.decodings} >= {"ten_chu", "dia_chi"}
    v = report.validation
    assert len(v.quarantine) == 100 and set(v.quarantine["rules"]) == {"non_polygon"}
    assert "Thôn Thanh Ấm" in set(v.quarantine["address"])
    assert report.mapping.sources["map_sheet"] == "to_ban_do"


def test_hanoi_wards_kmz_needs_a_field_map_then_reads():
    from gis.catalog import LayerSpec, Title
    from gis.errors import FieldMappingError

    path = shared("vn-wards-mapmaker-kml/ha_noi_wards.kmz")
    with pytest.raises(FieldMappingError, match="ward_code.*Name, description"):
        prepare_layer(path, "wards", province="Hà Nội")
    spec = LayerSpec(id="wards", kind="wards", title=Title(vi="Phường", en="Wards"),
                     fields={"ward_code": "id"})
    report = prepare_layer(path, "wards", province="Hà Nội", spec=spec)
    assert report.source.features == 577
    assert report.mapping.sources["name"] == "Name"
    assert "Phường Bồ Đề" in set(report.validation.valid["name"])
    assert "EPSG:5897" in report.crs_working


def test_phuoc_my_road_parcels_numbered_zero_are_kept_and_public(danang_reports):
    import geopandas as gpd

    raw = gpd.read_file(shared("vn-danang-cadastre-parcels/parcels_20275_phuoc_my.geojson"))
    roads = raw[(raw["SoThuTuThua"] == 0) & (raw["KyHieuMucDichSuDung"] == "DGT")]
    assert len(roads) == 105
    valid = danang_reports["20275"].validation.valid.set_index("source_row")
    kept = valid.loc[valid.index.intersection(roads.index + 1)]
    assert len(kept) == 105  # every road with number 0 loads...
    assert kept["is_public"].all() and set(kept["public_rule"]) == {"public_purpose"}
    assert kept["parcel_key"].str.fullmatch(r"20275-\d+-0-[0-9a-f]{8}").all()
    assert kept["parcel_key"].is_unique
    again = prepare_layer(shared("vn-danang-cadastre-parcels/parcels_20275_phuoc_my.geojson"),
                          "parcels", province="Đà Nẵng").validation.valid.set_index("source_row")
    assert (again.loc[kept.index, "parcel_key"] == kept["parcel_key"]).all()  # stable keys
