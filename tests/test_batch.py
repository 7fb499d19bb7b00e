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
