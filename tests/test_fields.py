"""Field names as they come: aliases, DBF truncation, overrides, clear errors."""

from __future__ import annotations

import pytest

from gis.errors import FieldMappingError
from gis.fields import map_fields


@pytest.mark.parametrize("sheet,parcel,land", [
    ("SHBANDO", "SHTHUA", "KHLOAIDAT"),
    ("SoHieuToBanDo", "SoThuTuThua", "KyHieuMucDichSuDung"),
    ("so_to", "so_thua", "loai_dat"),
    ("TO_BAN_DO", "SoThua", "MDSD"),
    ("SoHieuToBa", "SoThuTuThu", "KyHieuMucD"),  # cut to 10 characters by the DBF
])
def test_aliases(sheet, parcel, land):
    m = map_fields(["MaXa", sheet, parcel, land, "DienTich", "TENCHU"], "parcels")
    assert m.sources["map_sheet"] == sheet
    assert m.sources["parcel_no"] == parcel
    assert m.sources["land_use_source"] == land
    assert m.sources["owner_name"] == "TENCHU"
    assert m.sources["area_recorded_m2"] == "DienTich"
    if len(sheet) == 10 and sheet == "SoHieuToBa":
        assert m.how["map_sheet"] == "truncated alias"


def test_override_wins_and_is_reported():
    m = map_fields(["MaXa", "to", "thua", "SoTo"], "parcels",
                   overrides={"map_sheet": "to", "parcel_no": "thua"})
    assert m.sources["map_sheet"] == "to" and m.how["map_sheet"] == "layer config"
    assert "SoTo" in m.unmapped


def test_missing_required_fields_name_what_was_found():
    with pytest.raises(FieldMappingError) as err:
        map_fields(["A", "B"], "parcels", path="x.shp")
    text = str(err.value)
    assert "x.shp" in text and "map_sheet" in text and "A, B" in text


def test_override_to_absent_field_is_an_error():
    with pytest.raises(FieldMappingError, match="Nope"):
        map_fields(["MaXa", "SoTo", "SoThua"], "parcels", overrides={"map_sheet": "Nope"})


def test_default_allows_missing_ward():
    m = map_fields(["so_to", "so_thua"], "parcels", defaults=["ward_code"])
    assert "ward_code" in m.missing
