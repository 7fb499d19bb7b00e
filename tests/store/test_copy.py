"""``gis db copy``: a GeoPackage store into PostGIS and back, without loss (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner

from gis.cli import cli
from gis.store import open_store
from gis.store.copy import compare_stores
from tests.conftest import ROOT
from tests.store.conftest import store_location

pytestmark = pytest.mark.usefixtures("postgis")


@pytest.fixture(scope="module")
def postgis() -> None:
    from tests.store.conftest import require_postgis

    require_postgis()


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample district with a clearance sheet and detected cases, in a GeoPackage."""
    base = tmp_path_factory.mktemp("copy")
    env = {"GIS_STORE": str(base / "store.gpkg"), "GIS_CATALOG": str(ROOT / "layers"),
           "GIS_DATA_DIR": str(base)}
    runner = CliRunner(env=env)

    def run(*args: str) -> None:
        res = runner.invoke(cli, list(args))
        assert res.exit_code == 0, (args, res.output)

    run("sample", "--parcels", "1000", "--seed", "3", "--out", str(base / "src"))
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp"), ("buildings", "buildings.gpkg")):
        run("ingest", kind, str(base / "src" / name))
    run("ingest", "clearance", str(base / "src" / "clearance.xlsx"), "--known-on", "31/12/2024")
    run("violations", "detect")
    return base / "store.gpkg"


def _copy(source: str, destination: str) -> dict[str, object]:
    res = CliRunner().invoke(cli, ["db", "copy", source, destination, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_a_store_goes_into_postgis_and_back_unchanged(district: Path, tmp_path: Path) -> None:
    database = store_location("postgis", tmp_path)
    try:
        there = _copy(str(district), database)
        assert there["differences"] == []
        rows = there["rows"]
        source = open_store(district)
        for name in ("parcels", "projects", "buildings", "wards", "violation_cases",
                     "violation_history", "clearance_events", "clearance_records", "ingest_log"):
            assert rows[name] == len(source.read_table(name)) > 0, name
        back = tmp_path / "back.gpkg"
        assert _copy(database, str(back))["differences"] == []
        assert compare_stores(source, open_store(back)) == []
        copied = open_store(database)
        assert copied.crs() == source.crs()
        amounts = copied.read_table("clearance_records")["compensation_paid_vnd"]
        original = source.read_table("clearance_records")["compensation_paid_vnd"]
        assert amounts.max() == original.max() > 2**31  # beyond 32 bits, to the đồng
    finally:
        _drop(database)


def test_a_copy_into_a_store_with_data_is_refused_and_writes_nothing(district: Path,
                                                                    tmp_path: Path) -> None:
    database = store_location("postgis", tmp_path)
    try:
        _copy(str(district), database)
        before = open_store(database).layers()
        res = CliRunner().invoke(cli, ["db", "copy", str(district), database])
        assert res.exit_code == 2 and "already holds" in res.output
        assert open_store(database).layers() == before
    finally:
        _drop(database)


def test_the_comparison_sees_a_moved_parcel_and_a_changed_value(district: Path,
                                                              tmp_path: Path) -> None:
    database = store_location("postgis", tmp_path)
    try:
        _copy(str(district), database)
        store = open_store(database)

        def nudge(working):  # type: ignore[no-untyped-def]
            parcels = working.read("parcels")
            parcels.loc[0, "geometry"] = shapely.affinity.translate(parcels.geometry.iloc[0],
                                                                    xoff=0.01)
            parcels.loc[1, "owner_name"] = "someone else"
            return {"parcels": parcels}

        store.modify(nudge)
        found = compare_stores(open_store(district), store)
        assert "parcels: column owner_name: 1 values differ" in found
        assert "parcels: 1 geometries differ by more than 0.001 m" in found
    finally:
        _drop(database)


def _drop(location: str) -> None:
    from tests.store.conftest import drop_schema

    drop_schema(location.rpartition("schema=")[2])
