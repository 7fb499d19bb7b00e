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
    first = min(shapes)
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


def _leftovers(store: Path) -> list[str]:
    return sorted(p.name for p in store.parent.iterdir() if p.name.startswith(f".{store.name}."))


@pytest.mark.slow
def test_ingest_killed_half_way_leaves_the_old_store_and_its_copy_is_removed(district, tmp_path):
    """``gis ingest parcels`` killed with SIGKILL while it writes its working copy: the store is
    byte-identical, and the copy (with its journal) left beside it goes at the next open."""
    store = tmp_path / "store.gpkg"
    shutil.copyfile(district["store"], store)
    before = _sha(store)
    ward = next(w for w in sorted(district["shapes"]) if w != district["first"])
    env = {**os.environ, **district["env"], "GIS_STORE": str(store)}
    left: list[list[str]] = []
    # kill while it copies the store, and while GDAL writes the copy (its journal is there)
    for moment, delay in (("copy", 0.0), ("copy", 0.01), ("write", 0.0), ("write", 0.03)):
        proc = subprocess.Popen([*GIS, "ingest", "parcels", str(district["shapes"][ward])],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        earlier, deadline, mine = set(_leftovers(store)), time.time() + 60, set()
        while proc.poll() is None and time.time() < deadline:
            mine = set(_leftovers(store)) - earlier
            if mine and (moment == "copy" or any(n.endswith("-journal") for n in mine)):
                break
            time.sleep(0.001)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() in (-signal.SIGKILL, 0)  # 0: it had finished before the kill
        left.append(_leftovers(store))
        assert earlier.isdisjoint(left[-1]), "the writer did not remove the earlier orphans"
        copy = {n for n in mine if n.endswith(".tmp.gpkg")}
        if copy and copy <= set(left[-1]):  # killed before it published
            assert _sha(store) == before, f"killed in its {moment}, the store changed"
        else:  # published just before the kill: then the whole load is there
            assert _ward_counts(store)[ward] == district["counts"][ward]
            before = _sha(store)
    assert sum(bool(names) for names in left) >= 2, left  # most kills landed inside the write
    assert any(n.endswith("-journal") for names in left for n in names), left
    GeoPackageStore(store)  # the next open removes them (no writer is at work)
    assert _leftovers(store) == []
    assert _sql(store, "PRAGMA integrity_check") == [("ok",)]
    from gis.ingest import ingest_layer

    ingest_layer(GeoPackageStore(store), district["shapes"][ward], "parcels")
    assert _ward_counts(store)[ward] == district["counts"][ward]
    assert _leftovers(store) == []


def test_working_copy_of_a_live_writer_is_not_removed(tmp_path, store_path):
    """A copy made under the writers' lock belongs to the writer while it holds the lock: an
    open meanwhile leaves it; the next writer, under the lock, removes an orphan."""
    store = GeoPackageStore(store_path)
    store.write_tables({"notes": __import__("pandas").DataFrame({"a": [1]})})
    orphan = store_path.with_name(f".{store_path.name}.0badf00d.tmp.gpkg")
    with store.transaction() as tmp:
        orphan.write_bytes(b"x" * 1000)
        orphan.with_name(orphan.name + "-journal").write_bytes(b"j")
        GeoPackageStore(store_path)  # another opener while the writer holds the lock
        assert tmp.exists() and orphan.exists()
    assert orphan.exists()  # the writer itself does not clean up after its own work ...
    store.write_tables({"notes": __import__("pandas").DataFrame({"a": [2]})})
    assert _leftovers(store_path) == []  # ... the next one does, under the lock
    assert list(store.read_table("notes")["a"]) == [2]


@pytest.fixture(scope="module")
def full_district(district, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Every ward's parcels, projects and buildings stored; a trimmed copy of one ward to
    upload; what a clearance sheet load writes when it runs alone."""
    base = tmp_path_factory.mktemp("full")
    store = base / "store.gpkg"
    src = Path(district["base"]) / "src"
    env = {**district["env"], "GIS_STORE": str(store), "GIS_DATA_DIR": str(base)}
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp"), ("buildings", "buildings.gpkg")):
        _run("ingest", kind, str(src / name), env=env)
    wards = [w for w in sorted(district["shapes"]) if w != district["first"]][:2]
    trimmed = {}
    for ward in wards:  # each ward uploaded again without its last five parcels
        trimmed[ward] = base / f"upload_{ward}" / "parcels.shp"
        trimmed[ward].parent.mkdir()
        rows = gpd.read_file(district["shapes"][ward], engine="pyogrio")
        rows.iloc[:-5].to_file(trimmed[ward], engine="pyogrio", encoding="utf-8")
    probe = base / "probe.gpkg"
    shutil.copyfile(store, probe)
    _sheet(str(probe), str(src / "clearance.xlsx"), 0.0)
    clearance = {t: len(GeoPackageStore(probe).read_table(t))
                 for t in ("clearance_sheets", "clearance_records", "clearance_events")}
    uploaded = {}
    for ward in wards:
        shutil.copyfile(store, probe)
        uploaded[ward] = len(_upload(str(probe), str(trimmed[ward]), 0.0))
    return {"store": store, "src": src, "trimmed": trimmed, "clearance": clearance,
            "uploaded": uploaded}


def _sheet(store: str, path: str, start: float) -> str:
    import datetime as dt

    from gis.clearance import ingest_clearance

    time.sleep(max(0.0, start - time.time()))
    ingest_clearance(GeoPackageStore(store), path, user="sheet", known_on=dt.date(2024, 12, 31))
    return "sheet"


def _detect(store: str, start: float) -> list[str]:
    from gis.violations import detect

    time.sleep(max(0.0, start - time.time()))
    return detect(GeoPackageStore(store), rules=ROOT / "layers" / "rules" / "violations.yaml").added


def _flag(store: str, point: tuple[float, float], start: float) -> str:
    from gis.violations import flag

    time.sleep(max(0.0, start - time.time()))
    return flag(GeoPackageStore(store), shapely.Point(*point), kind="other", who="flagger")


def _upload(store: str, path: str, start: float) -> list[str]:
    """An administrator committing an upload: what the service's commit calls."""
    from gis.ingest import ingest_layer

    time.sleep(max(0.0, start - time.time()))
    report = ingest_layer(GeoPackageStore(store), path, "parcels",
                          user=f"upload {Path(path).parent.name}")
    return list(report.validation.valid["parcel_key"])


@pytest.mark.slow
def test_sheet_detection_flag_and_uploads_at_once_lose_nothing(district, full_district, tmp_path):
    """A clearance sheet load, a detection run, a flag and two administrators committing
    uploads of two wards, all started together: every one of them is in the store."""
    full = full_district
    counts, trimmed = district["counts"], full["trimmed"]
    store = tmp_path / "store.gpkg"
    first = GeoPackageStore(full["store"]).read("parcels", where=f"ward_code = '{district['first']}'")
    point = shapely.point_on_surface(first.geometry.iloc[0])
    with mp.get_context("spawn").Pool(5) as pool:
        pool.map(abs, range(5))
        for round_ in range(2):
            shutil.copyfile(full["store"], store)
            start = time.time() + 0.3
            jobs = [pool.apply_async(_sheet, (str(store), str(full["src"] / "clearance.xlsx"),
                                              start)),
                    pool.apply_async(_detect, (str(store), start)),
                    pool.apply_async(_flag, (str(store), (point.x, point.y), start)),
                    *(pool.apply_async(_upload, (str(store), str(shp), start))
                      for shp in trimmed.values())]
            _, added, flagged, *_ = (j.get(timeout=300) for j in jobs)
            opened = GeoPackageStore(store)
            wards = _ward_counts(store)
            assert wards == {w: full["uploaded"].get(w, n) for w, n in counts.items()}, round_
            assert all(full["uploaded"][w] == counts[w] - 5 for w in trimmed)
            cases = set(opened.read("violation_cases", columns=["case_id"])["case_id"])
            assert added and set(added) | {flagged} <= cases, (round_, flagged, len(added))
            created = opened.read_table("violation_history")
            created = created[created["field"] == "created"]
            assert sorted(created["case_id"]) == sorted(cases)
            for table, n in full["clearance"].items():
                assert len(opened.read_table(table)) == n, table
            log = opened.ingest_log()
            assert {"sheet", *(f"upload upload_{w}" for w in trimmed)} <= set(log["user"]), \
                list(log["user"])
            assert _sql(store, "PRAGMA integrity_check") == [("ok",)]
            assert _leftovers(store) == []
