"""Administrative units before and after 1 July 2025 (issue 13), on real codes.

The real former district is Thị xã Sơn Tây (Hà Nội): legacy wards 09574 Phường Ngô Quyền …
09616 Xã Cổ Đông, 2025 units Phường Sơn Tây (09574), Phường Tùng Thiện (09604), Xã Đoài
Phương (09616). Split wards: 09586 Sơn Lộc, 09601 Trung Hưng, 09604 Thanh Mỹ (Tùng Thiện by
default, part to Sơn Tây), 09616 Cổ Đông. Reused codes: 09574 (Ngô Quyền → Sơn Tây), 09604
(legacy Xã Thanh Mỹ, 2025 Phường Tùng Thiện). And the issue's own: Hà Nội 00118, legacy
Phường Ngọc Thụy (Quận Long Biên), 2025 Phường Bồ Đề.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.core.units import CodeSystem, UnitCode, UnitSource, assign_units, code_problems
from gis.errors import FieldMappingError, UnitCodeError
from gis.io.admin_units import load_registry
from gis.sample import generate_district, write_sample
from gis.sample.units import district_wards, on_real_district, unit_polygons

DISTRICT, PROVINCE = "Thị xã Sơn Tây", "Thành phố Hà Nội"
CRS = "EPSG:5897"


@pytest.fixture(scope="module")
def reg():
    return load_registry()


@pytest.fixture(scope="module")
def real(reg):
    """The 2,000-parcel sample moved onto Thị xã Sơn Tây (five wards: two phường, three xã,
    among them the split and reused 09604)."""
    return on_real_district(generate_district(2000, seed=0),
                            district_wards(reg, DISTRICT, PROVINCE))


@pytest.fixture(scope="module")
def files(real, reg, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sontay")
    write_sample(real, folder)
    units = unit_polygons(real.wards, reg)
    units.to_file(folder / "units.gpkg", layer="units")
    return folder


# -- the national lists ---------------------------------------------------------------------
def test_a_code_means_nothing_without_its_system(reg):
    assert reg.name(UnitCode("00118", CodeSystem.LEGACY)) == "Phường Ngọc Thụy"
    assert reg.name(UnitCode("00118", CodeSystem.CURRENT)) == "Phường Bồ Đề"
    assert "Quận Long Biên" in reg.describe(UnitCode("00118", CodeSystem.LEGACY))
    assert reg.describe(UnitCode("00118", CodeSystem.CURRENT)) == \
        "Phường Bồ Đề, Thành phố Hà Nội (2025 00118)"
    assert len(reg.current) == 3321 and reg.current["province_code"].nunique() == 34


def test_sample_codes_are_real_but_of_other_districts(reg):
    """The sample's 09880, 09883, … are real legacy codes, but of Hoài Đức and Hà Đông."""
    sample = generate_district(2000, seed=0)
    districts = reg.legacy.loc[list(sample.wards["MaXa"]), "district"]
    assert set(districts) == {"Huyện Hoài Đức", "Quận Hà Đông"}


def test_real_district_covers_a_split_ward_and_a_reused_code(real, reg):
    codes = list(real.wards["MaXa"])
    assert set(reg.legacy.loc[codes, "district"]) == {DISTRICT}
    split = [c for c in codes if reg.convert(c).split]
    reused = [c for c in codes if c in reg.current.index
              and reg.name(UnitCode(c, CodeSystem.CURRENT)) != reg.name(
                  UnitCode(c, CodeSystem.LEGACY))]
    assert "09604" in split and {"09574", "09604"} <= set(reused)
    assert list(real.wards["TenXa"]) == [reg.legacy.at[c, "name"] for c in codes]


def test_conversion_agrees_with_the_package(reg):
    """Our code table is the package's conversion: the default unit of every ward of two
    former districts is what ``convert_address`` gives for its address."""
    from vietnamadminunits import convert_address

    rows = reg.legacy[reg.legacy["district"].isin([DISTRICT, "Huyện Hoài Đức"])]
    for code, row in rows.iterrows():
        unit = convert_address(f"{row['name']}, {row['district']}, {row['province']}")
        assert reg.convert(code).unit == UnitCode(unit.ward_code, CodeSystem.CURRENT), code
    conv = reg.convert("09604")
    assert conv.split and [u.code for u in conv.candidates] == ["09604", "09574"]


# -- codes checked in their system -----------------------------------------------------------
def test_code_problems(reg):
    found = {(i, rule): msg for i, rule, _, msg in code_problems(
        ["09604", "09574", "99999", "00118"], CodeSystem.LEGACY, reg,
        names=["Phường Tùng Thiện", "Phường Ngô Quyền", None, "Phường Ngọc Thụy"])}
    ambiguous = found[(0, "code_ambiguous")]
    assert "Xã Thanh Mỹ" in ambiguous and "Phường Tùng Thiện" in ambiguous
    assert (2, "code_unknown") in found and len(found) == 2


def test_a_file_mixing_systems_makes_shared_codes_ambiguous(reg):
    only_2025 = sorted(set(reg.current.index) - set(reg.legacy.index))[0]
    found = code_problems(["00118", only_2025], CodeSystem.LEGACY, reg)
    rules = {(i, rule) for i, rule, *_ in found}
    assert rules == {(0, "code_ambiguous"), (1, "code_other_system")}
    assert "Phường Ngọc Thụy" in found[0][3] and "Phường Bồ Đề" in found[0][3]
    assert "--units 2025" in found[1][3]


def test_a_unit_code_in_neither_system_is_an_error(reg):
    (i, rule, severity, msg), = code_problems(["99998"], CodeSystem.CURRENT, reg)
    assert (rule, severity) == ("code_unknown", "error") and "99998" in msg


def test_resolve_unit_names_the_other_system(reg):
    from gis.units import resolve_unit

    assert resolve_unit("9574", CodeSystem.CURRENT) == "09574"
    legacy_only = sorted(set(reg.legacy.index) - set(reg.current.index))[0]
    with pytest.raises(UnitCodeError, match=reg.legacy.at[legacy_only, "name"]):
        resolve_unit(legacy_only, CodeSystem.CURRENT)


# -- parcels placed in units -----------------------------------------------------------------
@st.composite
def _district(draw):
    """Strips of real 2025 units of Sơn Tây over a box, and parcels inside and outside."""
    n_units = draw(st.integers(1, 3))
    cuts = sorted(draw(st.lists(st.floats(5, 95), min_size=n_units - 1,
                                max_size=n_units - 1, unique=True)))
    edges = [0.0, *cuts, 100.0]
    parcels = draw(st.lists(st.tuples(st.floats(-20, 115), st.floats(-20, 115),
                                      st.floats(0.5, 6)), min_size=1, max_size=30))
    wards = draw(st.lists(st.sampled_from(["09574", "09604", "09586", "99999"]),
                          min_size=len(parcels), max_size=len(parcels)))
    return edges, parcels, wards


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_district())
def test_assign_units_by_geometry_else_conversion(reg, case):
    edges, boxes, wards = case
    codes = ["09574", "09604", "09616"][: len(edges) - 1]
    units = gpd.GeoDataFrame({"unit_code": codes}, geometry=[
        shapely.box(a, 0, b, 100) for a, b in zip(edges[:-1], edges[1:])], crs=CRS)
    parcels = gpd.GeoDataFrame({"parcel_key": [f"p{i}" for i in range(len(boxes))],
                                "ward_code": wards},
                               geometry=[shapely.box(x, y, x + s, y + s) for x, y, s in boxes],
                               crs=CRS)
    out = assign_units(parcels, reg, units=units)
    points = shapely.point_on_surface(np.asarray(parcels.geometry.values))
    for i, point in enumerate(points):
        inside = [c for c, g in zip(codes, units.geometry) if g.contains(point)]
        overlaps = [c for c, g in zip(codes, units.geometry) if g.intersection(
            parcels.geometry.iloc[i]).area > 0]
        if inside:
            assert out["unit_code"].iloc[i] == inside[0]
            assert out["unit_source"].iloc[i] == UnitSource.GEOMETRY.value
        elif overlaps:
            assert out["unit_code"].iloc[i] in overlaps
        else:  # in no unit: the conversion of the legacy ward
            conv = reg.convert(wards[i])
            expected = conv.unit.code if conv.unit else None
            assert (out["unit_code"].iloc[i] if pd.notna(out["unit_code"].iloc[i]) else None) \
                == expected
            assert out["unit_source"].iloc[i] == (
                "none" if conv.unit is None else "default" if conv.split else "conversion")
    assert set(out["province_code"].dropna()) <= {"01"}
    assert (out["ward_system"] == "legacy").all()


def test_codes_declared_2025_are_the_units_themselves(reg):
    parcels = gpd.GeoDataFrame({"parcel_key": ["a", "b"], "ward_code": ["00118", "99999"]},
                               geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=CRS)
    out = assign_units(parcels, reg, system=CodeSystem.CURRENT)
    assert list(out["unit_code"].fillna("-")) == ["00118", "-"]
    assert list(out["unit_source"]) == ["declared", "none"]


# -- through the store ----------------------------------------------------------------------
def _store(tmp_path):
    from gis.store import open_store

    return open_store(tmp_path / "store.gpkg")


def test_parcels_before_and_after_units(files, reg, tmp_path):
    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    ingest_layer(store, files / "wards.gpkg", "wards", user="t")
    report = ingest_layer(store, files / "parcels.shp", "parcels", user="t")
    issues = report.validation.issues
    assumed = issues[issues["rule"] == "unit_default_assumed"]
    before = store.read("parcels")
    thanh_my = before[before["ward_code"] == "09604"]
    assert len(assumed) == len(thanh_my) > 0
    assert "Xã Thanh Mỹ" in assumed["message"].iloc[0]
    assert "Phường Tùng Thiện" in assumed["message"].iloc[0]
    assert set(thanh_my["unit_code"]) == {"09604"} and set(thanh_my["unit_source"]) == {"default"}
    assert (before.loc[before["ward_code"] == "09577", "unit_code"] == "09574").all()

    ingest_layer(store, files / "units.gpkg", "units", user="t")
    after = store.read("parcels")
    assert list(after["parcel_key"]) == list(before["parcel_key"])  # keys do not change
    assert list(after["ward_code"]) == list(before["ward_code"])  # as surveyed
    assert set(after["unit_source"]) == {"geometry"}
    split = after[after["ward_code"] == "09604"]
    assert set(split["unit_code"]) == {"09574", "09604"}  # only geometry can say
    assert set(after["province_code"]) == {"01"}
    stored = store.read("units")
    assert dict(zip(stored["unit_code"], stored["name"])) == {
        "09574": "Phường Sơn Tây", "09604": "Phường Tùng Thiện"}

    again = ingest_layer(store, files / "parcels.shp", "parcels", user="t")
    assert not (again.validation.issues["rule"] == "unit_default_assumed").any()
    assert set(store.read("parcels")["unit_source"]) == {"geometry"}


def test_clearance_and_violations_by_unit_and_province(files, tmp_path):
    from gis.clearance import ingest_clearance, run_clearance
    from gis.core.violations.summary import counts
    from gis.ingest import ingest_layer
    from gis.units import place_cases
    from gis.violations import detect, list_cases

    store = _store(tmp_path)
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("units", "units.gpkg"), ("projects", "projects.shp"),
                       ("buildings", "buildings.gpkg")):
        ingest_layer(store, files / name, kind, user="t")
    ingest_clearance(store, files / "clearance.xlsx", user="t")
    run = run_clearance(store)
    units = run.progress.units.set_index("unit_code")
    assert set(units.index) <= {"09574", "09604"}
    assert units.loc["09574", "unit_name"] == "Phường Sơn Tây"
    provinces = run.progress.provinces
    assert list(provinces["province"]) == [PROVINCE]
    assert int(provinces["parcels_affected"].sum()) == int(
        run.progress.wards["parcels_affected"].sum())
    assert run.summary["vi"].startswith("Phường Sơn Tây")
    assert "Thành phố Hà Nội" in run.summary["vi"] and "Thị xã Sơn Tây" in run.summary["vi"]
    assert "ward_name" in run.progress.wards and "district" in run.progress.wards
    legacy = run_clearance(store, units="legacy", write_back=False)
    assert legacy.summary["en"].startswith("Thị xã Sơn Tây, Thành phố Hà Nội. As of")
    assert store.has("clearance_units") and store.has("clearance_provinces")

    from tests.conftest import ROOT

    detect(store, who="t", rules=ROOT / "layers" / "rules" / "violations.yaml")
    cases = place_cases(store, list_cases(store))
    figures = counts(cases)
    assert sum(figures["by_unit"].values()) == figures["cases"] + figures["dismissed"]
    assert set(figures["by_province"]) == {"01"}
    assert set(figures["by_unit"]) <= {"09574", "09604"}


def test_report_levels_in_both_systems(files, tmp_path):
    from gis.clearance import ingest_clearance, run_clearance
    from gis.ingest import ingest_layer
    from gis.report.clearance import write_csv

    store = _store(tmp_path)
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp")):
        ingest_layer(store, files / name, kind, user="t")
    ingest_clearance(store, files / "clearance.xlsx", user="t")
    run = run_clearance(store, write_back=False)
    new = [p.name for p in write_csv(run.progress, tmp_path / "r.csv", lang="en")]
    old = [p.name for p in write_csv(run.progress, tmp_path / "o.csv", lang="en",
                                     units="legacy")]
    assert new == ["r.csv", "r_units.csv", "r_provinces.csv", "r_problems.csv"]
    assert old == ["o.csv", "o_wards.csv", "o_district.csv", "o_problems.csv"]
    units = pd.read_csv(tmp_path / "r_units.csv", dtype=str)
    assert {"Unit code", "Commune-level unit", "Province"} <= set(units.columns)
    wards = pd.read_csv(tmp_path / "o_wards.csv", dtype=str)
    assert set(wards["Former district"]) == {DISTRICT}


# -- odd units layers ------------------------------------------------------------------------
def _units_file(tmp_path, rows, columns=("MaXa", "TenXa", "Tinh")):
    frame = gpd.GeoDataFrame([dict(zip(columns, r)) for r in rows],
                             geometry=[shapely.box(590000 + 500 * i, 2330000, 590400 + 500 * i,
                                                   2330400) for i in range(len(rows))], crs=CRS)
    path = tmp_path / "units_odd.gpkg"
    frame.to_file(path, layer="xa_moi")
    return path


def test_units_layer_without_a_name_field(tmp_path):
    from gis.ingest import prepare_layer

    path = _units_file(tmp_path, [("09574", "Hà Nội")], columns=("MaXa", "Tinh"))
    with pytest.raises(FieldMappingError) as err:
        prepare_layer(path, "units", province="Hà Nội")
    assert err.value.field == "name" and "units_odd.gpkg" in str(err.value)


def test_units_layer_rows_checked_against_the_2025_list(tmp_path, reg):
    from gis.ingest import prepare_layer

    legacy_only = sorted(set(reg.legacy.index) - set(reg.current.index))[0]
    path = _units_file(tmp_path, [
        ("09574", "Phường Sơn Tây", "Hà Nội"),
        ("99997", "Xã Không Có", "Hà Nội"),
        ("09604", "Xã Thanh Mỹ", "Hà Nội"),  # the legacy unit of a reused code
        ("09616", "Xã Đoài Sơn", "Hà Nội"),  # another name: a warning only
    ])
    report = prepare_layer(path, "units", province="Hà Nội")
    issues = report.validation.issues.set_index("row")
    assert report.validation.valid["unit_code"].tolist() == ["09574", "09616"]
    assert issues.loc[2, "rule"] == "code_unknown"
    assert issues.loc[3, "rule"] == "code_ambiguous"
    assert "Xã Thanh Mỹ" in issues.loc[3, "message"] and "Phường Tùng Thiện" in \
        issues.loc[3, "message"]
    assert issues.loc[4, "rule"] == "name_mismatch"
    assert set(report.validation.valid["province_code"]) == {"01"}
    # a legacy-only code in a units layer: the other system, named, and what to do with it
    # (not "--units legacy", which a units layer refuses); the file is then mixed, so a code
    # valid in both systems is ambiguous — unless its row names its 2025 unit
    path = _units_file(tmp_path, [("09574", "Phường Sơn Tây", "Hà Nội"),
                                  (legacy_only, reg.legacy.at[legacy_only, "name"], "Hà Nội"),
                                  ("09604", None, "Hà Nội")])
    report = prepare_layer(path, "units", province="Hà Nội")
    issues = report.validation.issues.set_index("row")
    assert issues.loc[2, "rule"] == "code_other_system"
    assert reg.legacy.at[legacy_only, "name"] in issues.loc[2, "message"]
    assert "gis ingest wards" in issues.loc[2, "message"]
    assert "--units" not in issues.loc[2, "message"]
    assert issues.loc[3, "rule"] == "code_ambiguous"
    assert report.validation.valid["unit_code"].tolist() == ["09574"]  # named: not ambiguous


def test_units_option_refused_for_a_units_layer(files, tmp_path, monkeypatch):
    from gis.cli import cli

    monkeypatch.setenv("GIS_STORE", str(tmp_path / "s.gpkg"))
    monkeypatch.setenv("GIS_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli, ["ingest", "units", str(files / "units.gpkg"),
                                      "--units", "legacy"])
    assert result.exit_code == 2 and "does not apply" in result.output


def test_one_line_per_split_ward_instead_of_a_warning_per_parcel(files, tmp_path):
    """The officer reads where each surveyed ward's parcels went: one line per (ward, unit,
    how), the split ward's other units named; the per-parcel warnings stay in the report."""
    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    report = ingest_layer(store, files / "parcels.shp", "parcels", user="t")
    placed = report.placement
    assert int(placed["parcels"].sum()) == len(report.validation.valid)
    thanh_my = placed[placed["ward_code"] == "09604"].iloc[0]
    assert (thanh_my["ward_name"], thanh_my["unit_code"], thanh_my["unit_source"]) == (
        "Xã Thanh Mỹ", "09604", "default")
    assert thanh_my["unit_name"] == "Phường Tùng Thiện"
    assert "Phường Sơn Tây (09574)" in thanh_my["candidates"]
    assert placed.duplicated(["ward_code", "unit_code", "unit_source"]).sum() == 0
    assert report.to_dict()["unit_placement"][0]["ward_code"] == placed["ward_code"].iloc[0]

    after = ingest_layer(store, files / "units.gpkg", "units", user="t").placement
    assert set(after["unit_source"]) == {"geometry"}
    split = after[after["ward_code"] == "09604"]
    assert set(split["unit_code"]) == {"09574", "09604"}  # by geometry, both halves
    assert int(after["parcels"].sum()) == len(store.read("parcels"))


def test_the_cli_prints_the_placement_per_ward(files, tmp_path, monkeypatch):
    from gis.cli import cli

    monkeypatch.setenv("GIS_STORE", str(tmp_path / "store.gpkg"))
    out = CliRunner().invoke(cli, ["ingest", "parcels", str(files / "parcels.shp")],
                             terminal_width=200)
    assert out.exit_code == 0, out.output
    assert "Units since 1 July 2025" in out.output
    assert "09604 Xã Thanh Mỹ" in out.output and "split ward, also into Phường Sơn Tây" in out.output
    assert out.output.count("unit_default_assumed") == 1  # counted once, not listed per parcel


def test_a_units_load_and_the_parcels_it_moves_are_one_transaction(files, tmp_path, monkeypatch):
    """A units load that fails while re-placing the stored parcels leaves the store
    byte-identical: no units without their parcels."""
    import hashlib

    import gis.units
    from gis.errors import StoreError
    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    ingest_layer(store, files / "parcels.shp", "parcels", user="t")
    path = tmp_path / "store.gpkg"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    def failing(parcels, **_):  # type: ignore[no-untyped-def]
        raise StoreError("the disk filled up while placing parcels", path=path)

    monkeypatch.setattr(gis.units, "with_units", failing)  # as gis.units.parcels_after calls it
    with pytest.raises(StoreError, match="disk filled"):
        ingest_layer(store, files / "units.gpkg", "units", user="t")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not store.has("units")


# -- what a load replaces (found by trying 2025-coded files on a legacy store) ---------------
def _recoded(files, tmp_path, ward: str, code: str):  # type: ignore[no-untyped-def]
    parcels = gpd.read_file(files / "parcels.shp", encoding="utf-8")
    part = parcels[parcels["MaXa"] == ward].assign(MaXa=code)
    out = tmp_path / f"{ward}_as_{code}.shp"
    part.to_file(out, encoding="utf-8")
    return out, len(part)


def test_a_2025_file_never_replaces_the_legacy_ward_of_the_same_code(files, tmp_path):
    """2025 09574 (Phường Sơn Tây) is not legacy 09574 (Phường Ngô Quyền): a file in 2025 codes
    replaces nothing of the legacy ward; its rows whose key is a legacy parcel's are kept aside
    with the reason, never loaded over it; and the same land is never stored under two codes."""
    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    parcels = gpd.read_file(files / "parcels.shp", encoding="utf-8")
    others = tmp_path / "without_09592.shp"
    parcels[parcels["MaXa"] != "09592"].to_file(others, encoding="utf-8")
    ingest_layer(store, others, "parcels", user="t")
    before = store.read("parcels").drop(columns="geometry")
    path, n = _recoded(files, tmp_path, "09592", "09574")  # Đường Lâm's parcels, 2025 code
    report = ingest_layer(store, path, "parcels", user="t", code_system="2025")
    after = store.read("parcels")
    v = report.validation
    assert v.rows_total == n == len(v.valid) + len(v.quarantine)  # every row accounted for
    clashes = v.issues[v.issues["rule"] == "key_other_system"]
    assert len(clashes) > 0 and "legacy" in clashes["message"].iloc[0]
    assert len(v.valid) > 0  # the others are new land: loaded, in 2025 codes
    legacy = after[after["ward_system"] == "legacy"].drop(columns="geometry")
    pd.testing.assert_frame_equal(legacy.sort_values("parcel_key").reset_index(drop=True)[
        before.columns], before.sort_values("parcel_key").reset_index(drop=True),
        check_dtype=False)  # the legacy parcels, untouched
    assert len(after) == len(before) + len(v.valid)
    assert report.diff is not None and not report.diff.removed and not report.diff.changed

    twice = ingest_layer(store, files / "parcels.shp", "parcels", user="t")  # legacy, all
    assert not twice.diff.removed  # the 2025 rows are not the legacy file's to remove
    same = twice.validation.issues[twice.validation.issues["rule"] == "same_land_stored"]
    assert len(same) == len(v.valid)  # Đường Lâm's land is already stored (in 2025 codes)
    assert "counted twice" in same["message"].iloc[0]
    final = store.read("parcels")
    assert final["parcel_key"].is_unique and (final["ward_system"] == "2025").sum() == len(v.valid)


def test_a_quarantined_row_keeps_its_stored_version(files, tmp_path):
    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    ingest_layer(store, files / "parcels.shp", "parcels", user="t")
    parcels = gpd.read_file(files / "parcels.shp", encoding="utf-8")
    broken = parcels.copy()
    broken.loc[broken.index[:3], "geometry"] = None  # no geometry: kept aside
    path = tmp_path / "broken.shp"
    broken.to_file(path, encoding="utf-8")
    before = store.read("parcels").set_index("parcel_key")
    report = ingest_layer(store, path, "parcels", user="t")
    failed = [k for k in report.validation.quarantine["parcel_key"].dropna()
              if k in before.index]  # (the sample's own bad rows were never stored)
    assert len(failed) == report.kept_quarantined == 3
    after = store.read("parcels").set_index("parcel_key")
    assert set(failed) <= set(after.index) and len(after) == len(before)
    assert after.loc[failed, "geometry"].geom_equals(before.loc[failed, "geometry"]).all()


def test_a_units_file_replaces_only_its_units(files, tmp_path):
    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    ingest_layer(store, files / "units.gpkg", "units", user="t")
    one = gpd.read_file(files / "units.gpkg")
    one = one[one.iloc[:, 0].astype(str).str.endswith("09574") | (one.index == 0)].iloc[:1]
    path = tmp_path / "one_unit.gpkg"
    one.to_file(path, layer="units")
    report = ingest_layer(store, path, "units", user="t")
    assert report.kept_other_wards == 1 and len(store.read("units")) == 2
    ingest_layer(store, path, "units", user="t", replace_all=True)
    assert len(store.read("units")) == 1


def test_units_take_the_national_name_and_overlaps_are_warned(tmp_path):
    """A units file's own spelling ("sơn tây", capitals, no type word, blank) does not reach
    the reports: the unit takes the national list's name, the file's is kept beside it; two
    units overlapping is a warning naming both and which one wins."""
    from gis.ingest import prepare_layer

    frame = gpd.GeoDataFrame(
        {"MaXa": ["09574", "09604", "09616"], "TenXa": ["  sơn tây ", "PHƯỜNG TÙNG THIỆN", None],
         "Tinh": "Hà Nội"},
        geometry=[shapely.box(590000, 2330000, 591000, 2331000),
                  shapely.box(590500, 2330000, 591500, 2331000),  # half over 09574
                  shapely.box(592000, 2330000, 592400, 2330400)], crs=CRS)
    path = tmp_path / "units_spelt.gpkg"
    frame.to_file(path, layer="xa_moi")
    report = prepare_layer(path, "units", province="Hà Nội")
    valid = report.validation.valid.set_index("unit_code")
    assert valid["name"].to_dict() == {"09574": "Phường Sơn Tây", "09604": "Phường Tùng Thiện",
                                       "09616": "Xã Đoài Phương"}
    assert valid.loc["09574", "name_in_file"].strip() == "sơn tây"
    overlap = report.validation.issues[report.validation.issues["rule"] == "units_overlap"]
    assert len(overlap) == 1 and "09574" in overlap["message"].iloc[0] \
        and "09604" in overlap["message"].iloc[0] and "500,000 m²" in overlap["message"].iloc[0]


def test_a_wards_layer_is_legacy(files, tmp_path):
    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    with pytest.raises(UnitCodeError, match="gis ingest units"):
        ingest_layer(store, files / "units.gpkg", "wards", user="t", code_system="2025")
    assert not store.has("wards")


def test_a_unit_of_another_province_is_warned(files, tmp_path, reg):
    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    ingest_layer(store, files / "parcels.shp", "parcels", user="t")
    units = gpd.read_file(files / "units.gpkg")
    code_column = next(c for c in units.columns if units[c].astype(str).eq("09574").any())
    elsewhere = reg.current[reg.current["province_code"] != "01"].index[0]  # not Hà Nội
    units.loc[units[code_column] == "09574", code_column] = elsewhere
    for column in units.columns:  # the file's own names and province would disagree anyway
        if column not in (code_column, "geometry") and units[column].dtype == object:
            units[column] = None
    path = tmp_path / "foreign.gpkg"
    units.to_file(path, layer="units")
    report = ingest_layer(store, path, "units", user="t")
    issues = report.validation.issues
    warned = issues[issues["rule"] == "unit_other_province"]
    assert len(warned) == 1 and elsewhere in warned["message"].iloc[0]
    assert "Thành phố Hà Nội (01)" in warned["message"].iloc[0]


def test_a_unit_in_several_rows_is_one_unit(tmp_path):
    """A unit digitised in pieces (an island, two halves) loads as one unit; rows of one code
    with two different names stay refused, naming the rows."""
    from gis.ingest import prepare_layer

    halves = [shapely.box(590000, 2330000, 590500, 2331000),
              shapely.box(590500, 2330000, 591000, 2331000)]
    frame = gpd.GeoDataFrame({"MaXa": ["09574", "09604", "09574"],
                              "TenXa": ["Phường Sơn Tây", "Phường Tùng Thiện", None],
                              "Tinh": "Hà Nội"},
                             geometry=[halves[0], shapely.box(592000, 2330000, 592500, 2330500),
                                       halves[1]], crs=CRS)
    path = tmp_path / "units_parts.gpkg"
    frame.to_file(path, layer="xa_moi")
    v = prepare_layer(path, "units", province="Hà Nội").validation
    assert v.rows_total == 3 == len(v.valid) + len(v.quarantine)
    son_tay = v.valid.set_index("unit_code").loc["09574"]
    assert son_tay.geometry.area == pytest.approx(1_000_000)  # both halves
    assert v.quarantine["rules"].tolist() == ["unit_part_merged"]

    frame.loc[2, "TenXa"] = "Phường Tùng Thiện"  # the same code, another unit's name
    frame.to_file(path, layer="xa_moi")
    v = prepare_layer(path, "units", province="Hà Nội").validation
    dup = v.issues[v.issues["rule"] == "duplicate_key"]
    assert len(dup) == 2 and "shared by rows 1, 3" in dup["message"].iloc[0]


@pytest.mark.parametrize("typed", ["09574,09604", "09574;09604", "09574 09604", " 9574 ; 9604 ",
                                   "09574,\t09604,09574"])
def test_a_scope_typed_with_any_separator(typed, reg):
    from gis.units import check_units

    assert check_units(typed, reg=reg) == ("09574", "09604")


def test_a_legacy_code_in_a_scope_says_users_work_in_2025_units(reg):
    from gis.units import check_units

    with pytest.raises(UnitCodeError) as err:
        check_units("09577", reg=reg)  # legacy Phường Phú Thịnh
    assert "Phường Phú Thịnh" in str(err.value) and "2025 commune-level units" in str(err.value)
    assert "--units" not in str(err.value)


def test_gis_export_of_one_unit(files, tmp_path, monkeypatch):
    """gis export --unit: a unit's parcels (and cases, clearance) as its officer exports them;
    a unit of another province or a legacy code is refused naming it."""
    import pyogrio

    from gis.cli import cli
    from gis.ingest import ingest_layer

    store = _store(tmp_path)
    ingest_layer(store, files / "parcels.shp", "parcels", user="t")
    ingest_layer(store, files / "units.gpkg", "units", user="t")
    monkeypatch.setenv("GIS_STORE", str(tmp_path / "store.gpkg"))
    out = tmp_path / "tung_thien.gpkg"
    res = CliRunner().invoke(cli, ["export", "parcels", "--format", "gpkg", "--unit", "9604",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pyogrio.read_dataframe(out, read_geometry=False)
    stored = store.read("parcels")
    assert sorted(got["parcel_key"]) == sorted(stored.loc[stored["unit_code"] == "09604",
                                                          "parcel_key"])
    res = CliRunner().invoke(cli, ["export", "parcels", "--format", "csv", "--unit", "09577",
                                   "--out", str(tmp_path / "x.csv")])
    assert res.exit_code != 0 and "Phường Phú Thịnh" in res.output
    assert not (tmp_path / "x.csv").exists()
