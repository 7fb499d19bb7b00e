"""Read-modify-writes of the store under concurrency and crashes.

Two *different* wards loaded at once must both survive (loading the same ward twice cannot show
a lost write); a sheet load, a detection run, a flag and an upload commit at once lose nothing;
an ingest killed half way leaves the old store, and its working copy is removed by the next
open.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gis.store import GeoPackageStore
from tests.conftest import ROOT

GIS = [sys.executable, "-c", "from gis.cli import cli; cli()"]


def _sql(path: Path, query: str) -> list[tuple]:
    con = sqlite3.connect(path, timeout=60)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(*args: str, env: dict[str, str]) -> None:
    from click.testing import CliRunner

    from gis.cli import cli

    res = CliRunner(env=env).invoke(cli, list(args))
    assert res.exit_code == 0, (args, res.output)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The sample district cut into one shapefile per ward, and a store holding the wards and
    the first ward's parcels (ward A)."""
    base = tmp_path_factory.mktemp("district")
    store = base / "store.gpkg"
    env = {"GIS_STORE": str(store), "GIS_CATALOG": str(ROOT / "layers"),
           "GIS_DATA_DIR": str(base)}
    _run("sample", "--parcels", "1000", "--seed", "2", "--out", str(base / "src"), env=env)
    parcels = gpd.read_file(base / "src" / "parcels.shp", engine="pyogrio")
    shapes: dict[str, Path] = {}
    counts: dict[str, int] = {}
    for ward, rows in parcels.groupby("MaXa"):
        folder = base / f"ward_{ward}"
        folder.mkdir()
        rows.to_file(folder / "parcels.shp", engine="pyogrio", encoding="utf-8")
        shapes[str(ward)] = folder / "parcels.shp"
    _run("ingest", "wards", str(base / "src" / "wards.gpkg"), env=env)
    first = sorted(shapes)[0]
    _run("ingest", "parcels", str(shapes[first]), env=env)
    for ward, shp in shapes.items():  # what each ward loads (valid rows), measured alone
        probe = base / f"probe_{ward}.gpkg"
        shutil.copyfile(store, probe)
        from gis.ingest import ingest_layer

        report = ingest_layer(GeoPackageStore(probe), shp, "parcels")
        counts[ward] = len(report.validation.valid)
        probe.unlink()
    return {"base": base, "store": store, "shapes": shapes, "counts": counts, "first": first,
            "env": env}


def _ingest_at(args: tuple[str, str, float]) -> str:
    """Wait for the common start time, then load one ward (a worker process)."""
    from gis.ingest import ingest_layer

    store, shp, start = args
    time.sleep(max(0.0, start - time.time()))
    ingest_layer(GeoPackageStore(store), shp, "parcels", user=Path(shp).parent.name)
    return shp


def _ward_counts(store: Path) -> dict[str, int]:
    return dict(_sql(store, "SELECT ward_code, count(*) FROM parcels GROUP BY ward_code"))


@pytest.mark.slow
def test_two_different_wards_loaded_at_once_keep_both(district, tmp_path):
    """Ward A is stored; wards B and C are loaded by two processes started together, 20 times:
    every time both are there, with their parcels, both in the ingest log, and the file sound."""
    shapes, counts, first = district["shapes"], district["counts"], district["first"]
    b, c = [w for w in sorted(shapes) if w != first][:2]
    lost: list[str] = []
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(abs, [1, 2])  # workers up (imports done) before the first round
        for round_ in range(20):
            store = tmp_path / f"store{round_}.gpkg"
            shutil.copyfile(district["store"], store)
            start = time.time() + 0.2
            pool.map(_ingest_at, [(str(store), str(shapes[b]), start),
                                  (str(store), str(shapes[c]), start)], chunksize=1)
            found = _ward_counts(store)
            want = {first: counts[first], b: counts[b], c: counts[c]}
            if found != want:
                lost.append(f"round {round_}: {found} != {want}")
                continue
            log = GeoPackageStore(store).ingest_log()
            users = list(log["user"])
            assert users.count(f"ward_{b}") == 1 and users.count(f"ward_{c}") == 1, users
            assert _sql(store, "PRAGMA integrity_check") == [("ok",)]
    assert lost == [], f"{len(lost)} of 20 rounds lost a ward: {lost[:3]}"
