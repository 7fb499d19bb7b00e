"""Real field layers: wrong zones, broken rings, lying .cpg files, odd keys, OSM non-buildings.

Each test reproduces a failure a tester saw (issue 10, "Field layers") and fails without the fix.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gis.cli import cli
from gis.core.model import build_frame
from gis.core.validate import validate_frame
from gis.errors import PlaceError
from gis.fields import LayerKind, map_fields
from gis.ingest import ingest_layer, prepare_layer
from gis.store import open_store
from tests.conftest import shared
from tests.io.test_bad_inputs import X0, Y0, assert_cli_refuses, parcels, save_layer, snapshot

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def wards_layer(crs: str = "EPSG:5897") -> gpd.GeoDataFrame:
    """One ward (09880, Hà Nội) around the test parcels, one neighbour (09881)."""
    return gpd.GeoDataFrame({
        "MaXa": ["09880", "09881"], "TenXa": ["Phường A", "Phường B"],
        "Tinh": ["Hà Nội", "Hà Nội"]},
        geometry=[shapely.box(X0 - 500, Y0 - 500, X0 + 500, Y0 + 500),
                  shapely.box(X0 + 500, Y0 - 500, X0 + 1500, Y0 + 500)], crs=crs)


@pytest.fixture
def ward_store(store_path, tmp_path):
    report = ingest_layer(open_store(store_path), save_layer(wards_layer(), tmp_path / "w" / "w.shp"),
                          "wards")
    assert report.stored
    return store_path


def geojson(path: Path, features: list[tuple[dict, dict]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": p} for g, p in features]}))
    return path


def ring(i: int, size: float = 2e-4, *, closed: bool = True) -> list[list[float]]:
    x, y = 105.80 + i * 2 * size, 21.02
    pts = [[x, y], [x + size, y], [x + size, y + size], [x, y + size]]
    return pts + [pts[0]] if closed else pts


# ---------------------------------------------------------------------------------------------
# Place checks
# ---------------------------------------------------------------------------------------------

def test_wrong_zone_prj_is_refused_with_the_right_zone(ward_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = save_layer(parcels(6), tmp_path / "good" / "p.shp")
    assert ingest_layer(open_store(ward_store), good, "parcels").stored
    # the same numbers, declared in TM-3 107°45' (Đà Nẵng): ~275 km east of Hà Nội
    wrong = save_layer(parcels(6, crs="EPSG:5899"), tmp_path / "wrong" / "p.shp")
    before = snapshot(ward_store)
    with pytest.raises(PlaceError) as caught:
        ingest_layer(open_store(ward_store), wrong, "parcels")
    message = str(caught.value)
    assert message.startswith(f"file {wrong}")
    assert "6 of 6 parcels lie outside every stored ward" in message
    assert "--crs EPSG:5897" in message and "nothing was written" in message
    assert snapshot(ward_store) == before
    result = CliRunner().invoke(cli, ["ingest", "parcels", str(wrong)])
    assert_cli_refuses(result, message)
    assert snapshot(ward_store) == before
    assert open_store(ward_store).layers()["parcels"] == 6


def test_parcel_outside_its_declared_ward_is_a_warning_and_unknown_ward_an_error(ward_store,
                                                                                   tmp_path):
    frame = parcels(4)
    frame.loc[1, "MaXa"] = "09881"  # inside 09880, declares its neighbour
    frame.loc[2, "MaXa"] = "09999"  # no such ward stored
    report = prepare_layer(save_layer(frame, tmp_path / "p" / "p.shp"), "parcels",
                           wards=open_store(ward_store).read("wards"))
    issues = report.validation.issues.set_index("rule")
    assert issues.loc["outside_declared_ward", "row"] == 2
    assert issues.loc["outside_declared_ward", "severity"] == "warning"
    assert issues.loc["unknown_ward", "row"] == 3
    assert sorted(report.validation.quarantine["source_row"]) == [3]


def test_province_named_that_does_not_hold_the_data_is_refused(tmp_path):
    wrong = save_layer(parcels(3, crs="EPSG:5899"), tmp_path / "p" / "p.shp")
    with pytest.raises(PlaceError, match=r"not in Hà Nội.*--crs EPSG:5897"):
        prepare_layer(wrong, "parcels", province="Hà Nội")


# ---------------------------------------------------------------------------------------------
# Geometry problems are row issues
# ---------------------------------------------------------------------------------------------

def test_bow_tie_building_loads_repaired_through_the_cli(tmp_path, store_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x, y = 105.8, 21.02
    bow = [[x, y], [x + 1e-4, y + 1e-4], [x + 1e-4, y], [x, y + 1e-4], [x, y]]
    path = geojson(tmp_path / "b.geojson", [({"type": "Polygon", "coordinates": [bow]}, {}),
                                             ({"type": "Polygon", "coordinates": [ring(1)]}, {})])
    result = CliRunner().invoke(cli, ["ingest", "buildings", str(path), "--province", "Hà Nội"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    stored = open_store(store_path).read("buildings")
    assert len(stored) == 2 and stored["building_id"].str.startswith("G").all()
    assert stored.geometry.is_valid.all()


def test_unclosed_ring_is_that_rows_issue_and_the_others_load(tmp_path):
    path = geojson(tmp_path / "o.geojson", [
        ({"type": "Polygon", "coordinates": [ring(i, closed=i != 1)]},
         {"MaXa": "09880", "SoTo": 1, "SoThua": i + 1, "LoaiDat": "ODT"}) for i in range(3)])
    report = prepare_layer(path, "parcels", province="Hà Nội")
    v = report.validation
    assert v.rows_total == 3 and len(v.valid) == 3
    fixed = v.issues[v.issues["rule"] == "geometry_fixed_on_read"]
    assert fixed["row"].tolist() == [2] and fixed["field"].tolist() == ["geometry"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=3,
                         max_size=7), min_size=1, max_size=6),
       st.sampled_from(["buildings", "projects", "wards", "parcels"]))
# GEOS's "structure" repair of this ring gives two parts sharing an edge (still invalid)
@example([[(0, 2), (0, 1), (1, 0), (0, 0), (0, 1), (1, 0)]], "buildings")
def test_any_ring_shape_is_accounted_for_never_raises(rings, kind):
    geoms = []
    for pts in rings:
        coords = [(X0 + x, Y0 + y) for x, y in pts]
        try:
            geoms.append(shapely.Polygon(coords + [coords[0]]))
        except Exception:  # fewer than 4 distinct points: GEOS itself refuses to build it
            geoms.append(None)
    n = len(geoms)
    frame = gpd.GeoDataFrame({"MaXa": ["09880"] * n, "SoTo": [1] * n,
                              "SoThua": list(range(1, n + 1)),
                              "MaDuAn": [f"P{i}" for i in range(n)]},
                             geometry=geoms, crs="EPSG:5897")
    mapping = map_fields([c for c in frame.columns if c != "geometry"], kind)
    result = validate_frame(build_frame(frame, mapping), LayerKind(kind))
    assert len(result.valid) + len(result.quarantine) == n == result.rows_total
    assert shapely.is_valid(np.asarray(result.valid.geometry.values, dtype=object)).all()


# ---------------------------------------------------------------------------------------------
# Encodings: a lying .cpg in both directions, field names included
# ---------------------------------------------------------------------------------------------

NAMES = {"MaXa": "09880", "SốTờ": 1, "SốThửa": None, "TênChủ": None}
OWNERS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Đặng Văn Lê"]


@pytest.mark.parametrize("engine", ["pyogrio", "fiona"])
@pytest.mark.parametrize("written,cpg", [("UTF-8", "1258"), ("UTF-8", "1252"),
                                         ("cp1258", "UTF-8")])
def test_lying_cpg_field_names_and_values_decoded(tmp_path, engine, written, cpg):
    n = len(OWNERS)
    frame = gpd.GeoDataFrame({"MaXa": ["09880"] * n, "SốTờ": [1] * n,
                              "SốThửa": list(range(1, n + 1)), "TênChủ": OWNERS},
                             geometry=[shapely.box(X0 + i * 20, Y0, X0 + i * 20 + 20, Y0 + 30)
                                       for i in range(n)], crs="EPSG:5897")
    shp = tmp_path / "e.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame.to_file(shp, engine="pyogrio", encoding=written)
    shp.with_suffix(".cpg").write_text(cpg)
    report = prepare_layer(shp, "parcels", engine=engine)
    assert report.mapping.sources == {"ward_code": "MaXa", "map_sheet": "SốTờ",
                                      "parcel_no": "SốThửa", "owner_name": "TênChủ"}
    assert report.validation.valid["owner_name"].tolist() == OWNERS
    assert any(f"the .cpg says {cpg!r}" in note and "but" in note for note in report.source.notes)


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------

def test_bad_keys_are_row_errors(tmp_path):
    rows = [("09880", 1, -5), ("2093549", 1, 3), ("09880", 1, "abc"), ("09880", -2, 4),
            ("09880", 1, 5)]
    path = geojson(tmp_path / "k.geojson", [
        ({"type": "Polygon", "coordinates": [ring(i)]},
         {"MaXa": m, "SoTo": s, "SoThua": n, "LoaiDat": "ODT"}) for i, (m, s, n) in enumerate(rows)])
    v = prepare_layer(path, "parcels", province="Hà Nội").validation
    q = v.quarantine.set_index("source_row")
    assert sorted(q.index) == [1, 2, 3, 4] and v.valid["parcel_key"].tolist() == ["09880-1-5"]
    assert "parcel number is negative" in q.loc[1, "reason"]
    assert "not a 5-digit GSO code" in q.loc[2, "reason"]
    assert "parcel number is not a whole number" in q.loc[3, "reason"]
    assert "map sheet is negative" in q.loc[4, "reason"]


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.integers(0, 10**8), st.text(alphabet="0123456789abcX-", min_size=1,
                                                max_size=9)))
def test_ward_code_must_be_five_digits(code):
    from gis.core.model import normalise_ward_code

    frame = parcels(1)
    frame["MaXa"] = [code]
    mapping = map_fields([c for c in frame.columns if c != "geometry"], "parcels")
    result = validate_frame(build_frame(frame, mapping), LayerKind.PARCELS)
    normal = normalise_ward_code(code)
    ok = normal is not None and len(normal) == 5 and normal.isdigit()
    assert (len(result.valid) == 1) == ok


def test_parcel_zero_kept_on_public_land_only_with_a_stable_key(tmp_path):
    uses = ["DGT", "SON", "ODT", "DTL", "MNC"]
    path = geojson(tmp_path / "z.geojson", [
        ({"type": "Polygon", "coordinates": [ring(i)]},
         {"MaXa": "09880", "SoTo": 3, "SoThua": 0, "LoaiDat": u}) for i, u in enumerate(uses)])
    v = prepare_layer(path, "parcels", province="Hà Nội").validation
    assert v.quarantine["source_row"].tolist() == [3]  # ODT with number 0: still an error
    kept = v.valid.set_index("source_row")
    assert kept["is_public"].all() and len(kept) == 4
    assert kept["parcel_key"].str.fullmatch(r"09880-3-0-[0-9a-f]{8}").all()
    again = prepare_layer(path, "parcels", province="Hà Nội").validation.valid
    assert again["parcel_key"].tolist() == v.valid["parcel_key"].tolist()


@pytest.mark.parametrize("name", ["tenchusdd", "TenChuSDD", "ChuSuDung", "TenChu", "ChuSD"])
def test_owner_spellings_feed_the_public_rule(name):
    frame = parcels(2).rename(columns={"TenChu": name})
    frame[name] = ["UBND xã Vân Đình", "Nguyễn Văn An"]
    mapping = map_fields([c for c in frame.columns if c != "geometry"], "parcels")
    assert mapping.sources["owner_name"] == name
    built = build_frame(frame, mapping)
    assert built["is_public"].tolist() == [True, False]


# ---------------------------------------------------------------------------------------------
# CRS: the province's TM-3 zone, not UTM
# ---------------------------------------------------------------------------------------------

def test_wgs84_wards_take_their_provinces_tm3_zone(tmp_path):
    wards = wards_layer().to_crs("EPSG:4326")
    path = save_layer(wards, tmp_path / "w.geojson", driver="GeoJSON")
    report = prepare_layer(path, "wards")
    assert "EPSG:5897" in report.crs_working
    assert any("province Hà Nội taken from the layer's Tinh field" in n for n in report.crs_notes)


def test_wgs84_parcels_take_the_zone_of_the_stored_ward_that_holds_them(tmp_path):
    stored = wards_layer().to_crs("EPSG:3405").rename(columns={"MaXa": "ward_code", "Tinh": "province"})
    # (model columns, as stored; a store whose first layer went to UTM)
    frame = parcels(3).to_crs("EPSG:4326")
    report = prepare_layer(save_layer(frame, tmp_path / "p.geojson", driver="GeoJSON"),
                           "parcels", wards=stored)
    assert any("stored wards that hold the data" in n for n in report.crs_notes)
    assert any("areas computed in EPSG:5897" in n for n in report.crs_notes)


def test_wgs84_without_any_province_says_so(tmp_path):
    frame = parcels(3).to_crs("EPSG:4326").assign(MaXa="99999")  # a code of no province
    report = prepare_layer(save_layer(frame, tmp_path / "p.geojson", driver="GeoJSON"), "parcels")
    assert any("no province known" in n and "--province" in n for n in report.crs_notes)


def test_the_ward_codes_give_the_province_when_nothing_else_does(tmp_path):
    """A file without .prj or province: its legacy ward codes name the province, whose TM-3
    zone applies (Hà Nội's 09880: 105°00', EPSG:5897), and the note says so."""
    frame = parcels(3)
    shp = save_layer(frame, tmp_path / "p.shp")
    shp.with_suffix(".prj").unlink()
    report = prepare_layer(shp, "parcels")
    assert "EPSG:5897" in report.crs_working
    assert any("Thành phố Hà Nội taken from the layer's MaXa codes" in n
               for n in report.crs_notes)


# ---------------------------------------------------------------------------------------------
# OpenStreetMap
# ---------------------------------------------------------------------------------------------

def test_osm_polygons_that_are_not_buildings_are_skipped():
    path = shared("osm-hanoi-vnu-campus/vnu_campus_cau_giay.osm")
    report = prepare_layer(path, "buildings", province="Hà Nội")
    v = report.validation
    assert v.rows_total == len(v.valid) + len(v.quarantine) == 87
    assert sum(report.skipped.values()) == 16 and report.skipped["leisure=pitch"] == 3
    assert report.skipped["landuse=military"] == 1
    assert report.source.features == v.rows_total + sum(report.skipped.values())
    assert any("without a building=* tag skipped" in n for n in report.source.notes)
    assert report.to_dict()["summary"]["rows_skipped"] == 16
