"""Detection on the sample district (precision and recall 1.0), re-runs, real Prague data."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.core.violations.detect import detect_candidates
from gis.core.violations.rules import load_rules
from gis.errors import LayerConfigError
from gis.ingest import ingest_layer
from gis.store import GeoPackageStore
from gis.violations import detect, list_cases
from tests.conftest import ROOT, shared

RULES = ROOT / "layers" / "rules" / "violations.yaml"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from gis.sample import generate_district, write_sample

    out = tmp_path_factory.mktemp("v")
    write_sample(generate_district(6000, seed=21), out / "s")
    store = GeoPackageStore(out / "store.gpkg")
    for kind, name in [("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("buildings", "buildings.gpkg")]:
        ingest_layer(store, out / "s" / name, kind)
    manifest = json.loads((out / "s" / "manifest.json").read_text(encoding="utf-8"))
    return store, manifest, out


def test_every_planted_violation_found_and_nothing_else(sample_store):
    store, manifest, _ = sample_store
    planted = [b for b in manifest["planted"]["buildings"] if b["expected_kind"] != "below_threshold"]
    below = {b["MaNha"] for b in manifest["planted"]["buildings"] if b["expected_kind"] == "below_threshold"}
    found = detect_candidates(store.read("buildings"), store.read("parcels"), load_rules(RULES))
    got = {(r.building_id, r.kind): r for r in found.itertuples()}
    want = {(b["MaNha"], b["expected_kind"]): b for b in planted}
    assert set(got) == set(want)  # precision and recall 1.0
    assert not below & {b for b, _ in got}
    for key, b in want.items():
        r = got[key]
        keys = ["-".join(map(str, k)) for k in b["parcel_keys"]]
        assert r.parcel_key == keys[-1] and set(r.parcel_keys.split(",")) == set(keys)
        assert abs(r.area_m2 - b["area_m2"]) <= 0.06  # manifest rounds to 0.1 m²
        assert r.geometry.area == pytest.approx(r.area_m2, abs=0.01)
        assert r.ward_code == keys[0].split("-")[0]


def test_detection_again_adds_only_new_cases(sample_store, tmp_path):
    store, manifest, out = sample_store
    import shutil

    copy = GeoPackageStore(tmp_path / "copy.gpkg")
    shutil.copyfile(store.path, copy.path)
    first = detect(copy, rules=RULES)
    assert len(first.added) == first.candidates > 0
    again = detect(copy, rules=RULES)
    assert again.added == [] and again.already_known == first.candidates
    # updated data: one more house on a rice parcel
    parcels = copy.read("parcels")
    rice = parcels[parcels["land_use"] == "LUC"].iloc[0]
    c = rice.geometry.representative_point()
    buildings = gpd.read_file(out / "s" / "buildings.gpkg")
    extra = gpd.GeoDataFrame({"MaNha": ["NHA9999999"], "SoTang": [2], "NamXD": [2025]},
                             geometry=[shapely.box(c.x - 3, c.y - 3, c.x + 3, c.y + 3)],
                             crs=buildings.crs)
    newer = tmp_path / "buildings_v2.gpkg"
    gpd.GeoDataFrame(pd_concat(buildings, extra), crs=buildings.crs).to_file(newer)
    ingest_layer(copy, newer, "buildings")
    third = detect(copy, rules=RULES)
    assert len(third.added) == 1
    cases = list_cases(copy)
    new = cases[cases["case_id"] == third.added[0]].iloc[0]
    assert new["building_id"] == "NHA9999999" and new["kind"] == "construction_on_agricultural_land"
    assert new["area_m2"] == pytest.approx(36.0, abs=0.01)
    assert len(cases) == first.candidates + 1


def pd_concat(a, b):
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def test_rules_live_in_yaml(tmp_path):
    rules = load_rules(RULES)
    assert rules.min_area_m2 == 5.0 and rules.neighbour_tolerance_m2 == 2.0
    assert "LUC" in rules.rule("construction_on_agricultural_land").land_use
    bad = tmp_path / "r.yaml"
    bad.write_text("rules:\n  - id: x\n    kind: flying\n    title: {vi: a, en: b}\n")
    with pytest.raises(LayerConfigError, match="unknown kind 'flying'"):
        load_rules(bad)


def test_threshold_from_yaml_changes_results(sample_store, tmp_path):
    store, manifest, _ = sample_store
    text = RULES.read_text(encoding="utf-8").replace("min_area_m2: 5.0", "min_area_m2: 2.0")
    loose = tmp_path / "loose.yaml"
    loose.write_text(text, encoding="utf-8")
    found = detect_candidates(store.read("buildings"), store.read("parcels"), load_rules(loose))
    below = {b["MaNha"] for b in manifest["planted"]["buildings"] if b["expected_kind"] == "below_threshold"}
    assert below <= set(found["building_id"])


def test_prague_areas_are_metric_not_web_mercator(tmp_path):
    path = shared("cz-prague-bubenec-momepy/bubenec.gpkg")
    store = GeoPackageStore(tmp_path / "p.gpkg")
    ingest_layer(store, path, "parcels", layer="plots",
                 defaults={"ward_code": "73010", "map_sheet": 1}, spec=_plots_spec())
    ingest_layer(store, path, "buildings", layer="buildings")
    assert store.crs().to_epsg() == 32633  # UTM 33N, not EPSG:3857
    found = detect_candidates(store.read("buildings"), store.read("parcels"), load_rules(RULES))
    assert len(found) > 0  # buildings crossing plot lines
    raw_b = gpd.read_file(path, layer="buildings").to_crs(5514)
    raw_p = gpd.read_file(path, layer="plots").to_crs(5514)
    pieces = gpd.overlay(raw_b, raw_p, how="intersection", keep_geom_type=True)
    for r in found.head(5).itertuples():
        uid = int(r.building_id)
        krovak = pieces[(pieces["uID"] == uid)].area
        assert np.isclose(krovak.to_numpy(), r.area_m2, rtol=5e-3, atol=0.05).any()


def _plots_spec():
    from gis.catalog import LayerSpec, Title

    return LayerSpec(id="plots", kind="parcels", title=Title(vi="Thửa", en="Plots"),
                     fields={"parcel_no": "ID"})


def test_vnu_campus_buildings_over_hanoi_wards(tmp_path):
    from gis.catalog import LayerSpec, Title
    from gis.violations import case_detail, flag

    all_wards = gpd.read_file(shared("vn-wards-mapmaker-kml/wards_hanoi_haiphong_bacninh.geojson"))
    hanoi = all_wards[all_wards["province"].str.contains("Hà Nội")]  # kml_id is unique per province
    wards_src = tmp_path / "hanoi_wards.geojson"
    hanoi.to_file(wards_src)
    osm = shared("osm-hanoi-vnu-campus/vnu_campus_cau_giay.osm")
    store = GeoPackageStore(tmp_path / "hn.gpkg")
    spec = LayerSpec(id="wards", kind="wards", title=Title(vi="Phường", en="Wards"),
                     fields={"ward_code": "kml_id", "name": "ward", "district": "district"})
    ingest_layer(store, wards_src, "wards", spec=spec, province="Hà Nội")
    report = ingest_layer(store, osm, "buildings", layer="multipolygons")
    assert store.crs().to_epsg() == 5897  # Hà Nội's TM-3 zone, areas in metres
    buildings = store.read("buildings")
    # only building=* polygons are footprints; pitches, military land, … are counted as skipped
    assert report.source.features == 103
    assert len(buildings) + sum(report.skipped.values()) == 103 and len(buildings) == 87
    wards = store.read("wards")
    joined = gpd.sjoin(buildings.set_geometry(buildings.representative_point()), wards,
                       predicate="within")
    names = set(joined["name"])
    assert names <= {"Phường Dịch Vọng Hậu", "Phường Mai Dịch", "Phường Dịch Vọng",
                     "Phường Quan Hoa", "Phường Nghĩa Tân", "Xã Mỹ Đình", "Xã Mễ Trì"}
    assert len(joined) == len(buildings)
    raw = gpd.read_file(osm, layer="multipolygons")
    utm = raw[raw["building"].notna()].to_crs(32648).area.to_numpy()
    ratio = np.sort(buildings["area_m2"].to_numpy()) / np.sort(utm)
    assert np.median(np.abs(ratio - 1)) < 2e-3  # TM-3 k0 0.9999 vs UTM k0 0.9996
    case_id = flag(store, buildings.geometry.iloc[0], kind="other", who="tt")
    case, _ = case_detail(store, case_id)
    assert case["ward_code"] in set(joined["ward_code"])
    assert case["area_m2"] == pytest.approx(buildings["area_m2"].iloc[0], abs=0.01)


def _frames(parcel_rows, buildings):
    parcels = gpd.GeoDataFrame(
        {"parcel_key": [r[0] for r in parcel_rows], "ward_code": "00001",
         "land_use": [r[1] for r in parcel_rows], "is_public": [r[2] for r in parcel_rows]},
        geometry=[r[3] for r in parcel_rows], crs="EPSG:5897")
    b = gpd.GeoDataFrame({"building_id": [f"H{i}" for i in range(len(buildings))]},
                         geometry=buildings, crs="EPSG:5897")
    return b, parcels


def test_public_land_wholly_built_on_and_small_spills_are_not_neighbours():
    rules = load_rules(RULES)
    b, p = _frames([("k-park", "DKV", True, shapely.box(0, 0, 50, 50)),
                    ("k-school", "DGD", True, shapely.box(50, 0, 100, 50)),
                    ("k-home", "ODT", False, shapely.box(0, 50, 50, 100)),
                    ("k-road", "DGT", True, shapely.box(0, 100, 50, 110))],
                   [shapely.box(10, 10, 16, 16),  # house wholly in a park
                    shapely.box(60, 10, 70, 20),  # the school's own building
                    shapely.box(10, 60, 20, 101.3)])  # a house spilling 13 m² onto the road
    found = detect_candidates(b, p, rules)
    got = {(r.building_id, r.kind, r.parcel_key) for r in found.itertuples()}
    assert ("H0", "encroachment_public_land", "k-park") in got
    assert not any(bid == "H1" for bid, _, _ in got)
    spill = [g for g in got if g[0] == "H2"]
    assert spill == [("H2", "encroachment_public_land", "k-road")]  # 13 m², not a "neighbour"
    tiny = shapely.box(10, 60, 20, 100.28)  # 2.8 m² on the road: under 5 m², nothing at all
    b2 = gpd.GeoDataFrame({"building_id": ["H9"]}, geometry=[tiny], crs="EPSG:5897")
    assert detect_candidates(b2, p, rules).empty


def test_footprints_without_ids_get_stable_geometry_ids(tmp_path):
    x, y = 585_000, 2_330_000
    a = gpd.GeoDataFrame({"x": [1, 2]}, geometry=[shapely.box(x, y, x + 5, y + 5),
                                                  shapely.box(x + 10, y, x + 15, y + 5)],
                         crs="EPSG:5897")
    a.to_file(tmp_path / "a.gpkg")
    a.iloc[::-1].to_file(tmp_path / "b.gpkg")
    from gis.ingest import prepare_layer

    ids_a = prepare_layer(tmp_path / "a.gpkg", "buildings").validation.valid["building_id"]
    ids_b = prepare_layer(tmp_path / "b.gpkg", "buildings").validation.valid["building_id"]
    assert list(ids_a) == list(ids_b)[::-1] and ids_a.str.startswith("G").all()
