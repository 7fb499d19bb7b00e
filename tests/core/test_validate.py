"""Validation of model frames: every row is loaded or quarantined with its reason."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.core.model import build_frame
from gis.core.validate import validate_frame
from gis.fields import LayerKind, map_fields


def _validate(frame: gpd.GeoDataFrame, kind: str = "parcels"):
    mapping = map_fields([c for c in frame.columns if c != "geometry"], kind)
    return validate_frame(build_frame(frame, mapping), LayerKind(kind))


def test_small_parcels_every_row_accounted(small_parcels):
    result = _validate(small_parcels)
    assert len(result.valid) + len(result.quarantine) == len(small_parcels) == result.rows_total
    rules = result.issues.groupby("rule")["row"].apply(sorted).to_dict()
    assert rules["duplicate_key"] == [3, 4]
    assert rules["parcel_number_zero"] == [5]
    assert rules["invalid_geometry_repaired"] == [6]
    assert rules["composite_land_use"] == [2]
    assert rules["legacy_land_use"] == [3]
    assert rules["unknown_land_use"] == [5]
    assert rules["area_mismatch"] == [3]
    assert sorted(result.quarantine["source_row"]) == [3, 4, 5]
    q = result.quarantine.set_index("source_row")
    assert "duplicate parcel key" in q.loc[3, "reason"]
    assert "parcel number 0" in q.loc[5, "reason"]


def test_repaired_geometry_keeps_original(small_parcels):
    result = _validate(small_parcels)
    row = result.valid.set_index("source_row").loc[6]
    assert bool(row["geometry_repaired"]) is True
    assert row["geometry_original_wkt"].startswith("POLYGON")
    assert row.geometry.is_valid
    assert row["area_m2"] == pytest.approx(row.geometry.area)


def test_public_land_marked_with_rule(small_parcels):
    result = _validate(small_parcels)
    v = result.valid.set_index("source_row")
    assert v.loc[6, "public_rule"] == "public_purpose"  # DGT
    assert v.loc[1, "is_public"] == False  # noqa: E712
    assert v.loc[2, "land_use_codes"] == "ODT+CLN"


def test_ward_code_keeps_leading_zero(small_parcels):
    frame = small_parcels.assign(MaXa=9880)
    result = _validate(frame)
    assert set(result.valid["ward_code"]) == {"09880"}
    assert result.valid["parcel_key"].iloc[0] == "09880-1-1"


def test_geometry_zoo():
    x, y = 585_000, 2_330_000
    zoo = [
        shapely.box(x, y, x + 10, y + 10),  # fine
        None,  # null
        shapely.from_wkt("POLYGON EMPTY"),  # empty
        shapely.Point(x, y),  # not a polygon
        shapely.LineString([(x, y), (x + 1, y + 1)]),
        shapely.GeometryCollection([shapely.box(x, y + 20, x + 5, y + 25),
                                    shapely.LineString([(x, y), (x, y + 1)])]),
        shapely.from_wkt(f"POLYGON Z (({x} {y} 1, {x + 5} {y} 1, {x + 5} {y + 5} 1, {x} {y} 1))"),
        shapely.MultiPolygon([shapely.box(x + 100, y, x + 110, y + 10),
                              shapely.box(x + 120, y, x + 130, y + 10)]),
    ]
    frame = gpd.GeoDataFrame({"MaXa": "09880", "SoTo": 1, "SoThua": np.arange(1, 9)},
                             geometry=zoo, crs="EPSG:5897")
    result = _validate(frame)
    by_rule = result.issues.groupby("rule")["row"].apply(sorted).to_dict()
    assert by_rule["empty_geometry"] == [2, 3]
    assert by_rule["non_polygon"] == [4, 5]
    assert by_rule["geometry_collection"] == [6]
    assert by_rule["z_dropped"] == [7]
    assert sorted(result.valid["source_row"]) == [1, 6, 7, 8]
    assert not shapely.has_z(result.valid.geometry.values).any()
    assert result.valid.set_index("source_row").loc[6, "area_m2"] == pytest.approx(25.0)


def test_projects_and_wards_unique_keys():
    g = [shapely.box(0, 0, 1, 1)] * 3
    frame = gpd.GeoDataFrame({"MaDuAn": ["DA-1", "DA-1", None], "TenDuAn": ["a", "b", "c"],
                              "NguonVon": ["Ngân sách", "Ngoài ngân sách", "???"],
                              "KhoiCong": ["Chuyển tiếp", "Mới", None],
                              "TrongDiem": ["Có", "Không", None]},
                             geometry=g, crs="EPSG:5897")
    result = _validate(frame, "projects")
    assert len(result.quarantine) == 3
    mapping = map_fields(list(frame.columns[:-1]), "projects")
    model = build_frame(frame, mapping)
    assert model["capital_source"].tolist()[:2] == ["STATE_BUDGET", "NON_BUDGET"]
    assert model["start_type"].tolist()[:2] == ["CARRIED_OVER", "NEW"]
    assert model["key_project"].tolist() == [True, False, False]
