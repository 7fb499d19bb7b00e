"""Names beside codes (issue 13): which name each parcel and case carries beside its ward,
unit and province codes, decided once with the units (gis.core.units.name_places) and kept
through loads in any order. The service and export side is in tests/api/test_names.py."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.core.units import NAME_COLUMNS, PLACE_COLUMNS, name_places
from tests.test_units import CRS, _store, files, real, reg  # noqa: F401  (module fixtures)


@st.composite
def _places(draw, legacy_codes, current_codes):  # type: ignore[no-untyped-def]
    """Rows of codes in both systems (reused codes among them), unknown and missing ones, and
    stored wards and units layers naming some of them their own way."""
    code = st.one_of(st.sampled_from(legacy_codes), st.sampled_from(current_codes),
                     st.sampled_from(["99999", "00118"]), st.none())
    n = draw(st.integers(0, 25))
    rows = pd.DataFrame({
        "ward_code": draw(st.lists(code, min_size=n, max_size=n)),
        "ward_system": draw(st.lists(st.sampled_from(["legacy", "2025", None]), min_size=n,
                                     max_size=n)),
        "unit_code": draw(st.lists(code, min_size=n, max_size=n)),
        "province_code": draw(st.lists(st.sampled_from(["01", "79", "98", None]), min_size=n,
                                       max_size=n))})
    name = st.text(st.sampled_from("Xã Phường Đông Tây ăâ"), min_size=1, max_size=12)
    wards = draw(st.dictionaries(st.sampled_from(legacy_codes + ["99999"]), name, max_size=4))
    units = draw(st.dictionaries(st.sampled_from(current_codes), name, max_size=4))
    return rows, wards, units


def _value(series: pd.Series, i: int) -> object:
    value = series.iloc[i]
    return None if pd.isna(value) else value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_names_are_the_stored_layers_then_the_list_of_the_codes_system(reg, data):  # noqa: F811
    legacy = sorted(reg.legacy.index[:40]) + ["09604", "09574", "00118"]
    current = sorted(reg.current.index[:40]) + ["09604", "09574", "00118"]
    rows, wards, units = data.draw(_places(legacy, current))
    out = name_places(rows, reg, ward_names=wards, unit_names=units)
    assert list(out.columns) == list(NAME_COLUMNS) and out.index.equals(rows.index)
    provinces = dict(zip(reg.current["province_code"], reg.current["province"]))

    def stored(names: dict[str, str], code: object) -> str | None:  # blank names do not count
        return names[code].strip() or None if code in names else None

    for i, r in enumerate(rows.itertuples()):
        system = reg.current if r.ward_system == "2025" else reg.legacy
        ward = stored(wards, r.ward_code) or (system.at[r.ward_code, "name"]
                                              if r.ward_code in system.index else None)
        unit = stored(units, r.unit_code) or (reg.current.at[r.unit_code, "name"]
                                              if r.unit_code in reg.current.index else None)
        assert _value(out["ward_name"], i) == ward
        assert _value(out["unit_name"], i) == unit
        assert _value(out["province_name"], i) == provinces.get(r.province_code)


def test_a_reused_code_is_named_in_its_system(reg):  # noqa: F811
    """00118 is Phường Ngọc Thụy as a legacy ward and Phường Bồ Đề as a 2025 unit."""
    rows = pd.DataFrame({"ward_code": ["00118", "00118"], "ward_system": ["legacy", "2025"],
                         "unit_code": ["00118", None], "province_code": ["01", None]})
    out = name_places(rows, reg)
    assert list(out["ward_name"]) == ["Phường Ngọc Thụy", "Phường Bồ Đề"]
    assert out["unit_name"].iloc[0] == "Phường Bồ Đề" and pd.isna(out["unit_name"].iloc[1])
    assert out["province_name"].iloc[0] == "Thành phố Hà Nội"


def test_with_units_puts_each_name_after_its_code(reg):  # noqa: F811
    from gis.units import with_names, with_units

    parcels = gpd.GeoDataFrame({"parcel_key": ["a", "b"], "ward_code": ["09604", "09577"],
                                "area_m2": [1.0, 2.0]},
                               geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=CRS)
    wards = pd.DataFrame({"ward_code": ["09604"], "name": ["Xã Thanh Mỹ (bản đồ 2012)"]})
    placed, _ = with_units(parcels, units=None, wards=wards, reg=reg)
    assert list(placed.columns) == ["parcel_key", "ward_code", "ward_name", "area_m2",
                                    "ward_system", "unit_code", "unit_name", "province_code",
                                    "province_name", "unit_source", "geometry"]
    assert list(placed["ward_name"]) == ["Xã Thanh Mỹ (bản đồ 2012)", "Phường Phú Thịnh"]
    assert list(placed["unit_name"]) == ["Phường Tùng Thiện", "Phường Sơn Tây"]
    assert set(placed["province_name"]) == {"Thành phố Hà Nội"}
    # placed again, or named again, the columns neither move nor repeat
    again, _ = with_units(placed, units=None, wards=wards, reg=reg)
    assert list(again.columns) == list(placed.columns) and again.equals(placed)
    renamed = with_names(placed.drop(columns=list(NAME_COLUMNS)), wards=wards, reg=reg)
    assert list(renamed.columns) == list(placed.columns)
    assert renamed[list(PLACE_COLUMNS)].equals(placed[list(PLACE_COLUMNS)])


def test_names_follow_the_wards_and_units_in_any_load_order(files, tmp_path):  # noqa: F811
    """Parcels loaded before the wards take the national list's names, then the wards
    layer's; the units load names the units from its own layer."""
    import geopandas as gpd

    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    ingest_layer(store, files / "parcels.shp", "parcels", user="t")
    first = store.read("parcels").set_index("parcel_key")
    assert set(first.loc[first["ward_code"] == "09604", "ward_name"]) == {"Xã Thanh Mỹ"}
    assert set(first.loc[first["ward_code"] == "09604", "unit_name"]) == {"Phường Tùng Thiện"}
    wards = gpd.read_file(files / "wards.gpkg")
    wards.loc[wards["MaXa"] == "09604", "TenXa"] = "Xã Thanh Mỹ (cũ)"
    wards.to_file(tmp_path / "wards.gpkg")
    ingest_layer(store, tmp_path / "wards.gpkg", "wards", user="t")
    named = store.read("parcels").set_index("parcel_key")
    assert set(named.loc[named["ward_code"] == "09604", "ward_name"]) == {"Xã Thanh Mỹ (cũ)"}
    assert named["unit_code"].equals(first["unit_code"])  # named, not placed again
    units = gpd.read_file(files / "units.gpkg")
    units["TenXa"] = units["TenXa"].str.upper()
    units.to_file(tmp_path / "units.gpkg")
    ingest_layer(store, tmp_path / "units.gpkg", "units", user="t")
    placed = store.read("parcels")
    # the national list's name wins over the file's capitals (kept as name_in_file)
    assert set(placed["unit_name"]) == {"Phường Sơn Tây", "Phường Tùng Thiện"}
    assert set(store.read("units")["name_in_file"]) == {"PHƯỜNG SƠN TÂY", "PHƯỜNG TÙNG THIỆN"}
    assert set(placed.loc[placed["ward_code"] == "09604", "ward_name"]) == {"Xã Thanh Mỹ (cũ)"}
    assert set(placed["province_name"]) == {"Thành phố Hà Nội"}
