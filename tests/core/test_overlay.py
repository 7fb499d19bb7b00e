"""Parcels × project boundaries with hand-computable geometries, the sample's truth, Đà Nẵng."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.core.overlay import OverlayConfig, overlay_parcels_projects
from gis.errors import CRSMismatchError
from tests.conftest import shared


def _parcels(geoms, keys):
    return gpd.GeoDataFrame({"parcel_key": keys, "ward_code": "00001"}, geometry=geoms,
                            crs="EPSG:5897")


def _projects(geoms, ids):
    return gpd.GeoDataFrame({"project_id": ids}, geometry=geoms, crs="EPSG:5897")


L_SHAPE = shapely.Polygon([(0, 0), (20, 0), (20, 10), (10, 10), (10, 20), (0, 20)])


def test_hand_computed_overlaps():
    parcels = _parcels([
        shapely.box(0, 0, 10, 10),  # A: half in P
        shapely.box(10, 0, 20, 10),  # B: wholly inside P
        shapely.box(20, 0, 30, 10),  # E: touches P (x = 20) and Q (x = 30) only
        shapely.box(30, 0, 40, 10),  # D: half in Q, half in R
        shapely.MultiPolygon([shapely.box(50, 0, 52, 2), shapely.box(60, 0, 62, 2)]),  # M
        shapely.box(100, 100, 110, 110),  # C: in the L-shape minus its notch
    ], ["A", "B", "E", "D", "M", "C"])
    lshape = shapely.affinity.translate(L_SHAPE, 95, 95)
    projects = _projects([shapely.box(5, 0, 20, 10), shapely.box(30, 0, 35, 10),
                          shapely.box(35, 0, 45, 10), shapely.box(49, -1, 53, 3), lshape],
                         ["P", "Q", "R", "S", "L"])
    result = overlay_parcels_projects(parcels, projects)
    got = {(r.project_id, r.parcel_key): (r.overlap_m2, r.share, r.inside)
           for r in result.pairs.itertuples()}
    assert got == {("P", "A"): (50.0, 0.5, False), ("P", "B"): (100.0, 1.0, True),
                   ("Q", "D"): (50.0, 0.5, False), ("R", "D"): (50.0, 0.5, False),
                   ("S", "M"): (4.0, 0.5, False), ("L", "C"): (75.0, 0.75, False)}
    assert result.touching == 2  # E with P and with Q
    assert result.slivers.empty
    geoms = result.pairs.set_index("parcel_key").geometry
    assert geoms["C"].area == pytest.approx(75.0)  # the project part is kept for maps
    assert result.summary() == {"pairs": 6, "parcels": 5, "slivers_ignored": 0,
                                "touching_only": 2, "wholly_inside": 1}


def test_slivers_are_ignored_and_counted():
    parcels = _parcels([shapely.box(0, 0, 100, 10), shapely.box(0, 20, 100, 30)], ["big", "thin"])
    projects = _projects([shapely.box(99.5, -5, 200, 15),  # 5 m² of 1000 = 0.5 %: kept
                          shapely.box(99.95, 15, 200, 35)], ["X", "Y"])  # 0.5 m²: sliver
    result = overlay_parcels_projects(parcels, projects)
    assert list(result.pairs["parcel_key"]) == ["big"]
    assert result.slivers[["project_id", "parcel_key"]].values.tolist() == [["Y", "thin"]]
    assert "under 1 m²" in result.slivers["reason"].iloc[0]
    strict = overlay_parcels_projects(parcels, projects, config=OverlayConfig(min_share=0.01))
    assert strict.pairs.empty and len(strict.slivers) == 2


def test_crs_mismatch_is_refused():
    parcels = _parcels([shapely.box(0, 0, 1, 1)], ["a"])
    projects = _projects([shapely.box(0, 0, 1, 1)], ["P"]).set_crs("EPSG:5899", allow_override=True)
    with pytest.raises(CRSMismatchError):
        overlay_parcels_projects(parcels, projects)


def test_sample_truth_reproduced_exactly(tmp_path):
    from gis.ingest import ingest_layer
    from gis.sample import generate_district, write_sample
    from gis.store import GeoPackageStore

    district = generate_district(3000, seed=5)
    write_sample(district, tmp_path / "s")
    store = GeoPackageStore(tmp_path / "store.gpkg")
    ingest_layer(store, tmp_path / "s" / "parcels.shp", "parcels")
    ingest_layer(store, tmp_path / "s" / "projects.shp", "projects")
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text(encoding="utf-8"))
    planted = manifest["planted"]["parcels"]
    bad = {"-".join(map(str, p["key"])) for group in ("bow_tie", "zero_parcel_number",
                                                         "duplicate_key") for p in planted[group]}
    truth = {(p[0], f"{p[1]}-{p[2]}-{p[3]}"): p[4] for p in manifest["clearance"]["pairs"]}
    truth = {k: v for k, v in truth.items() if k[1] not in bad}
    result = overlay_parcels_projects(store.read("parcels"), store.read("projects"),
                                      config=OverlayConfig(min_area_m2=1.0, min_share=0.0))
    got = {(r.project_id, r.parcel_key): r.overlap_m2 for r in result.pairs.itertuples()
           if r.parcel_key not in bad}
    assert set(got) == set(truth)
    assert max(abs(got[k] - truth[k]) for k in truth) < 0.01


def test_real_danang_ward_with_a_drawn_corridor():
    from gis.ingest import prepare_layer

    report = prepare_layer(shared("vn-danang-cadastre-parcels/parcels_20248_nam_duong.geojson"),
                           "parcels", province="Đà Nẵng")
    parcels = report.validation.valid
    minx, miny, maxx, maxy = parcels.total_bounds
    road = shapely.LineString([(minx, miny), (maxx, maxy)]).buffer(15)  # a 30 m road corridor
    site = shapely.box(minx + 0.4 * (maxx - minx), miny + 0.4 * (maxy - miny),
                       minx + 0.6 * (maxx - minx), miny + 0.6 * (maxy - miny))
    projects = gpd.GeoDataFrame({"project_id": ["ROAD", "SITE"]}, geometry=[road, site],
                                crs=parcels.crs)
    result = overlay_parcels_projects(parcels, projects, config=OverlayConfig(0.0, 0.0))
    for pid, geom in (("ROAD", road), ("SITE", site)):
        pairs = result.pairs[result.pairs["project_id"] == pid]
        union = shapely.union_all(parcels.geometry.values)
        expected = shapely.intersection(union, geom).area  # parcels do not overlap (SOURCE.md)
        assert pairs["overlap_m2"].sum() == pytest.approx(expected, rel=1e-3)
        assert (pairs["share"] > 0).all() and (pairs["share"] <= 1 + 1e-9).all()
        inside = pairs[pairs["inside"]]
        assert np.allclose(inside["overlap_m2"], inside["parcel_area_m2"])
    assert result.pairs["inside"].sum() > 10


def test_tiling_long_corridors_changes_nothing():
    rng = np.random.default_rng(0)
    cells = [shapely.box(x, y, x + 20, y + 20) for x in range(0, 2000, 20) for y in range(0, 2000, 20)]
    parcels = _parcels(cells, [f"k{i}" for i in range(len(cells))])
    roads = [shapely.LineString([(rng.uniform(0, 200), rng.uniform(0, 200)),
                                 (rng.uniform(1800, 2000), rng.uniform(1800, 2000))]).buffer(12)
             for _ in range(5)]
    projects = _projects(roads + [shapely.box(500, 500, 700, 650)], [f"P{i}" for i in range(6)])
    tiled = overlay_parcels_projects(parcels, projects, config=OverlayConfig(0, 0), tile=100)
    whole = overlay_parcels_projects(parcels, projects, config=OverlayConfig(0, 0), tile=1e9)
    a = tiled.pairs.set_index(["project_id", "parcel_key"])["overlap_m2"].sort_index()
    b = whole.pairs.set_index(["project_id", "parcel_key"])["overlap_m2"].sort_index()
    assert a.index.equals(b.index) and np.allclose(a.to_numpy(), b.to_numpy())
    assert len(a) > 1000


@pytest.mark.parametrize("workers", [1, 4])
def test_without_geometry_same_pairs_and_areas(workers):
    """``with_geometry=False`` (documented for reports that need no map) gives the same pairs,
    areas, shares and slivers, just no overlap polygons."""
    rng = np.random.default_rng(3)
    cells = [shapely.box(x, y, x + 20, y + 20) for x in range(0, 1000, 20) for y in range(0, 1000, 20)]
    parcels = _parcels(cells, [f"k{i}" for i in range(len(cells))])
    roads = [shapely.LineString([(rng.uniform(0, 100), rng.uniform(0, 100)),
                                 (rng.uniform(900, 1000), rng.uniform(900, 1000))]).buffer(9)
             for _ in range(3)]
    projects = _projects(roads + [shapely.box(300, 300, 410, 455)], [f"P{i}" for i in range(4)])
    full = overlay_parcels_projects(parcels, projects, workers=workers)
    bare = overlay_parcels_projects(parcels, projects, workers=workers, with_geometry=False)
    cols = ["project_id", "parcel_key", "ward_code", "parcel_area_m2", "overlap_m2", "share",
            "inside"]
    assert len(full.pairs) > 100 and full.pairs["inside"].any() and not full.pairs["inside"].all()
    assert list(bare.pairs.columns) == cols
    assert bare.pairs[cols].equals(pd.DataFrame(full.pairs[cols]))
    assert bare.slivers.equals(full.slivers) and bare.touching == full.touching
    assert bare.summary() == full.summary()
