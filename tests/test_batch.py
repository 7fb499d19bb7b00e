"""Batch work on Dask (issue 12): the same results as the single-process engine."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from gis.cli import cli
from gis.core.violations.detect import detect_candidates
from gis.core.violations.rules import load_rules
from gis.store import open_store
from tests.conftest import ROOT

pytest.importorskip("dask_geopandas", reason="the dask engine needs dask-geopandas")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("batch")
    env = {"GIS_STORE": str(base / "store.gpkg"), "GIS_CATALOG": str(ROOT / "layers"),
           "GIS_DATA_DIR": str(base), "GIS_DASK_PARTITION_ROWS": "300"}
    runner = CliRunner(env=env)
    for args in (["sample", "--parcels", "2000", "--seed", "4", "--out", str(base / "src")],
                 ["ingest", "wards", str(base / "src" / "wards.gpkg")],
                 ["ingest", "parcels", str(base / "src" / "parcels.shp")],
                 ["ingest", "projects", str(base / "src" / "projects.shp")],
                 ["ingest", "buildings", str(base / "src" / "buildings.gpkg")],
                 ["ingest", "clearance", str(base / "src" / "clearance.xlsx"),
                  "--known-on", "31/12/2024"]):
        res = runner.invoke(cli, args)
        assert res.exit_code == 0, (args, res.output)
    return env


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    from gis.batch import dask_client

    with dask_client(workers=2) as c:
        yield c


def test_the_clearance_report_is_the_same_on_dask(district, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import gis.batch

    monkeypatch.setattr(gis.batch, "ROWS_PER_PARTITION", 300)  # several partitions
    runner = CliRunner(env=district)
    out = {}
    for engine in ("single", "dask"):
        path = tmp_path / f"{engine}.json"
        res = runner.invoke(cli, ["clearance", "report", "--engine", engine, "--as-of",
                                  "2024-12-31", "--format", "json", "--out", str(path)])
        assert res.exit_code == 0, res.output
        out[engine] = json.loads(path.read_text(encoding="utf-8"))
    assert out["dask"] == out["single"]
    assert out["single"]["projects"], "the report has figures to compare"


def test_detection_is_the_same_on_dask(district, client):  # type: ignore[no-untyped-def]
    from gis.batch import detect_on_dask, overlay_on_dask, partitions_for
    from gis.core.overlay import overlay_parcels_projects

    store = open_store(district["GIS_STORE"])
    parcels, buildings = store.read("parcels"), store.read("buildings")
    rules = load_rules(ROOT / "layers" / "rules" / "violations.yaml")
    assert len(partitions_for(buildings, 40)) > 3
    single = detect_candidates(buildings, parcels, rules)
    spread = detect_on_dask(buildings, parcels, rules, client=client, rows=40)
    assert len(single) > 0
    pd.testing.assert_frame_equal(pd.DataFrame(spread.drop(columns="geometry")),
                                  pd.DataFrame(single.drop(columns="geometry")))
    assert spread.geometry.geom_equals_exact(single.geometry, 0).all()
    columns = ["parcel_key", "ward_code", "geometry"]
    a = overlay_parcels_projects(parcels[columns], store.read("projects"))
    b = overlay_on_dask(parcels[columns], store.read("projects"), client=client, rows=250)
    pd.testing.assert_frame_equal(pd.DataFrame(b.pairs.drop(columns="geometry")),
                                  pd.DataFrame(a.pairs.drop(columns="geometry")))
    pd.testing.assert_frame_equal(b.slivers, a.slivers)
    assert a.touching == b.touching


def test_partitions_are_spatially_compact(district):  # type: ignore[no-untyped-def]
    from gis.batch import partitions_for

    parcels = open_store(district["GIS_STORE"]).read("parcels")
    parts = partitions_for(parcels, 200)
    assert sorted(int(i) for p in parts for i in p) == list(range(len(parcels)))
    whole = parcels.total_bounds
    area = (whole[2] - whole[0]) * (whole[3] - whole[1])
    boxes = [parcels.iloc[p].total_bounds for p in parts]
    mean_box = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes) / len(boxes)
    assert mean_box < area / 3  # a random split would give boxes as large as the district


def test_a_scheduler_that_is_not_there_is_a_clear_error(district):  # type: ignore[no-untyped-def]
    runner = CliRunner(env=district)
    res = runner.invoke(cli, ["clearance", "report", "--engine", "dask", "--scheduler",
                              "tcp://127.0.0.1:9"])
    assert res.exit_code == 2 and "no Dask scheduler at tcp://127.0.0.1:9" in res.output
    res = runner.invoke(cli, ["clearance", "report", "--scheduler", "tcp://127.0.0.1:9"])
    assert res.exit_code == 2 and "--scheduler needs --engine dask" in res.output


def test_violations_detect_on_dask_adds_the_same_cases(district, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import shutil

    import gis.batch

    monkeypatch.setattr(gis.batch, "ROWS_PER_PARTITION", 60)  # several partitions
    found = {}
    for engine in ("single", "dask"):
        store = tmp_path / f"{engine}.gpkg"
        shutil.copyfile(district["GIS_STORE"], store)
        res = CliRunner(env={**district, "GIS_STORE": str(store)}).invoke(
            cli, ["violations", "detect", "--engine", engine])
        assert res.exit_code == 0, res.output
        cases = open_store(store).read_cases()
        found[engine] = cases.drop(columns=["created_at", "updated_at", "geometry"])
    assert len(found["single"]) > 0
    pd.testing.assert_frame_equal(found["dask"], found["single"])


# -- the dask engine reads its partitions from the store (both backends) -------------------------
@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def stored(request, district, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The district's store, as the GeoPackage file and copied into PostGIS."""
    from tests.store.conftest import drop_schema, require_postgis, store_location

    if request.param == "geopackage":
        yield open_store(district["GIS_STORE"])
        return
    require_postgis()
    from gis.store.copy import copy_store

    location = store_location("postgis", tmp_path_factory.mktemp("pg"))
    try:
        report = copy_store(open_store(district["GIS_STORE"]), open_store(location))
        assert not report.differences
        yield open_store(location)
    finally:
        drop_schema(location.rpartition("schema=")[2])


def _fids(store, kind):  # type: ignore[no-untyped-def]
    from gis.store.query import LayerQuery

    return sorted(int(f) for f in store.query(kind, LayerQuery(columns=(), with_geometry=False)
                                              ).fids)


def test_store_partitions_hold_every_row_once(stored):  # type: ignore[no-untyped-def]
    from gis.batch import _read_part, partition_boxes

    for kinds, rows in ((["parcels"], 150), (["buildings"], 40),
                        (["buildings", "parcels"], 200)):
        parts = partition_boxes(stored, kinds if len(kinds) > 1 else kinds[0], rows)
        assert len(parts) > 5
        read = {k: [_read_part(stored, k, p, None) for p in parts] for k in kinds}
        sizes = [sum(len(read[k][i]) for k in kinds) for i in range(len(parts))]
        assert max(sizes) <= 2 * rows  # counts include rows on a cut twice
        for kind in kinds:
            fids = sorted(int(f) for r in read[kind] for f in r.index)
            assert fids == _fids(stored, kind)


def test_rows_centred_on_the_cuts_are_in_one_partition(tmp_path):  # type: ignore[no-untyped-def]
    """Squares centred on every cut line and corner (a 9 × 9 grid whose middle is the first
    cut) and points on the layer's outer edges: each in exactly one partition."""
    import geopandas as gpd
    import shapely

    from gis.batch import _read_part, partition_boxes

    squares = [shapely.box(x - 0.5, y - 0.5, x + 0.5, y + 0.5) for x in range(9) for y in range(9)]
    frame = gpd.GeoDataFrame({"parcel_key": [f"k{i}" for i in range(len(squares))]},
                             geometry=squares, crs="EPSG:3405")
    store = open_store(tmp_path / "grid.gpkg")
    store.write_tables({"parcels": frame})
    parts = partition_boxes(store, "parcels", 6)
    assert len(parts) > 8
    fids = sorted(int(f) for p in parts for f in _read_part(store, "parcels", p, None).index)
    assert fids == _fids(store, "parcels")


def test_the_store_engines_give_the_single_engines_results(stored, client):  # type: ignore[no-untyped-def]
    from gis.batch import detect_from_store, overlay_from_store
    from gis.clearance import PARCEL_FIELDS, _overlay_here, project_area
    from gis.core.overlay import OverlayConfig
    from gis.violations import _candidates_here

    rules = load_rules(ROOT / "layers" / "rules" / "violations.yaml")
    single = _candidates_here(stored, rules)
    spread = detect_from_store(stored, rules, client=client, rows=40)
    assert len(single) > 0
    pd.testing.assert_frame_equal(pd.DataFrame(spread.drop(columns="geometry")),
                                  pd.DataFrame(single.drop(columns="geometry")))
    assert spread.geometry.geom_equals_exact(single.geometry, 0).all()
    projects = stored.read("projects")
    config = OverlayConfig()
    a, owners_a = _overlay_here(stored, projects, config)
    b, owners_b = overlay_from_store(stored, projects, client=client, config=config, rows=150,
                                     fields=PARCEL_FIELDS, area=project_area(projects))
    assert len(a.pairs) > 0 and len(a.slivers) > 0
    pd.testing.assert_frame_equal(pd.DataFrame(b.pairs.drop(columns="geometry")),
                                  pd.DataFrame(a.pairs.drop(columns="geometry")))
    assert b.pairs.geometry.geom_equals_exact(a.pairs.geometry, 0).all()
    pd.testing.assert_frame_equal(b.slivers, a.slivers)
    assert a.touching == b.touching
    paired = owners_a[owners_a["parcel_key"].isin(a.pairs["parcel_key"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(owners_b.drop(columns="geometry")),
                                  pd.DataFrame(paired.drop(columns="geometry")), check_dtype=False)
    assert owners_b.geometry.geom_equals_exact(paired.geometry, 0).all()


def test_the_driver_never_reads_a_whole_layer(district, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """With whole reads of parcels and buildings refused in this process (the driver), the
    dask engine still runs both commands: its workers read the layers, box by box."""
    import shutil

    import gis.batch
    from gis.store.geopackage import GeoPackageStore

    monkeypatch.setattr(gis.batch, "ROWS_PER_PARTITION", 300)
    read = GeoPackageStore.read

    def no_whole_layers(self, kind, **kw):  # type: ignore[no-untyped-def]
        if kind in ("parcels", "buildings") and kw.get("bbox") is None:
            raise AssertionError(f"the driver read the whole {kind} layer")
        return read(self, kind, **kw)

    monkeypatch.setattr(GeoPackageStore, "read", no_whole_layers)
    store = tmp_path / "store.gpkg"
    shutil.copyfile(district["GIS_STORE"], store)
    runner = CliRunner(env={**district, "GIS_STORE": str(store)})
    # the single engine's detection reads both layers whole (its clearance figures read only
    # the parcels meeting a project boundary, by the store's area query)
    res = runner.invoke(cli, ["violations", "detect", "--engine", "single"])
    assert res.exit_code != 0 and "the driver read the whole buildings" in res.output
    for args in (["clearance", "report", "--format", "json", "--out", str(tmp_path / "r.json")],
                 ["violations", "detect"]):
        res = runner.invoke(cli, [*args, "--engine", "dask"])
        assert res.exit_code == 0, res.output


def test_both_commands_on_a_postgis_store_give_the_same_results(district, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from gis.store.copy import copy_store
    from tests.store.conftest import drop_schema, require_postgis, store_location

    require_postgis()
    import gis.batch

    monkeypatch.setattr(gis.batch, "ROWS_PER_PARTITION", 200)
    out, cases = {}, {}
    for engine in ("single", "dask"):
        location = store_location("postgis", tmp_path)
        try:
            copy_store(open_store(district["GIS_STORE"]), open_store(location))
            runner = CliRunner(env={**district, "GIS_STORE": location})
            path = tmp_path / f"{engine}.json"
            res = runner.invoke(cli, ["clearance", "report", "--engine", engine, "--format",
                                      "json", "--out", str(path)])
            assert res.exit_code == 0, res.output
            out[engine] = json.loads(path.read_text(encoding="utf-8"))
            res = runner.invoke(cli, ["violations", "detect", "--engine", engine])
            assert res.exit_code == 0, res.output
            cases[engine] = open_store(location).read_cases().drop(
                columns=["created_at", "updated_at", "geometry"])
            tables = open_store(location).read_table("project_parcels")
            out[engine]["stored_pairs"] = len(tables)
        finally:
            drop_schema(location.rpartition("schema=")[2])
    assert out["dask"] == out["single"] and out["single"]["stored_pairs"] > 0
    assert len(cases["single"]) > 0
    pd.testing.assert_frame_equal(cases["dask"], cases["single"])


def test_running_out_of_memory_is_one_clear_error():  # type: ignore[no-untyped-def]
    from gis.cli.engines import dask_engine
    from gis.errors import EngineError

    with pytest.raises(EngineError, match="run again with --engine dask"), \
            dask_engine("single", None):
        raise MemoryError
