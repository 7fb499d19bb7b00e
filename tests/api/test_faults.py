"""New cases under concurrency and crashes: row-level inserts into the GeoPackage store.

Library level (the GeoPackage file; the PostGIS store's counterparts are the concurrency and
SIGKILL tests of ``tests/store``): several processes (and threads beside GDAL readers) flagging at once get unique
ids, lose nothing and never see "database is locked"; a writer killed inside its transaction
leaves a journal that the next opener rolls back. Service level: two uvicorn workers with eight
inspectors flagging at once, and a server killed with SIGKILL while flags are written (on
either backend, ``GIS_TEST_BACKEND``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from gis.store import GeoPackageStore, open_store
from gis.violations import flag, list_cases
from tests.conftest import ROOT

OGRINFO = shutil.which("ogrinfo")
#: the library-level tests write the GeoPackage file directly (no service, no backend)
FILE_LEVEL = pytest.mark.geopackage_only("row-level inserts, journals and readers of the "
                                         "GeoPackage file itself (PostGIS: tests/store)")


# -- helpers ---------------------------------------------------------------------------------
def _copy(sample_store: Path, tmp_path: Path) -> GeoPackageStore:
    target = tmp_path / "store.gpkg"
    shutil.copyfile(sample_store, target)
    return GeoPackageStore(target)


def _points(store_path: Path | str, n: int, seed: int = 0) -> list[tuple[float, float]]:
    """Points inside ``n`` different parcels (store CRS)."""
    parcels = open_store(str(store_path)).read("parcels", columns=["parcel_key"])
    pick = np.random.default_rng(seed).choice(len(parcels), size=n, replace=False)
    inside = shapely.point_on_surface(parcels.geometry.values[pick])
    return [(float(p.x), float(p.y)) for p in inside]


def _sql(path: Path, query: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(path, timeout=60)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def assert_sound(path: Path) -> None:
    """SQLite's integrity check, the R-tree and the feature count agree with the table, and
    GDAL's own ogrinfo reads every case."""
    assert _sql(path, "PRAGMA integrity_check") == [("ok",)]
    n = _sql(path, "SELECT count(*) FROM violation_cases")[0][0]
    assert _sql(path, "SELECT count(*) FROM rtree_violation_cases_geom")[0][0] == n
    assert _sql(path, "SELECT feature_count FROM gpkg_ogr_contents "
                      "WHERE table_name = 'violation_cases'")[0][0] == n
    assert _sql(path, "SELECT count(*) FROM violation_cases v LEFT JOIN "
                      "rtree_violation_cases_geom r ON r.id = v.fid WHERE r.id IS NULL")[0][0] == 0
    if OGRINFO:
        out = subprocess.run([OGRINFO, "-ro", "-so", str(path), "violation_cases"],
                             capture_output=True, text=True, check=True).stdout
        assert f"Feature Count: {n}" in out


def _flag_worker(args: tuple[str, list[tuple[float, float]], str]) -> tuple[list[str], list[str]]:
    path, points, who = args
    store = GeoPackageStore(path)
    ids, errors = [], []
    for x, y in points:
        try:
            ids.append(flag(store, shapely.Point(x, y), kind="other", who=who, notes=who))
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(repr(exc))
    return ids, errors


def _read_worker(args: tuple[str, str]) -> list[str]:
    """Read the store with GDAL until ``stop`` exists; return the errors met."""
    path, stop = args
    store = GeoPackageStore(path)
    errors = []
    while not os.path.exists(stop):
        try:
            store.read("violation_cases", columns=["case_id"])
            store.read("parcels", bbox=(589_900, 2_329_900, 590_100, 2_330_100))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
    return errors


# -- row-level inserts -----------------------------------------------------------------------
@FILE_LEVEL
def test_a_flag_is_an_insert_in_place_that_gdal_reads(sample_store, tmp_path):
    store = _copy(sample_store, tmp_path)
    before = _sql(store.path, "SELECT count(*) FROM violation_cases")[0][0]
    assert _sql(store.path, "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE "
                            "table_name = 'violation_cases'") == [("GEOMETRY",)]  # any kind
    (x, y), (x2, y2) = _points(store.path, 2)
    inode = os.stat(store.path).st_ino
    square = shapely.box(x - 3, y - 3, x + 4, y + 2)
    poly = flag(store, square, kind="encroachment_public_land", who="thanh.tra")
    assert os.stat(store.path).st_ino == inode  # written in place, not copied and replaced
    point = flag(store, shapely.Point(x2, y2), kind="construction_on_agricultural_land",
                 who="thanh.tra", notes="Xây tường rào trái phép")  # a point beside polygons
    assert os.stat(store.path).st_ino == inode  # in place as well: no copy of the store
    point2 = flag(store, shapely.Point(x, y), kind="other", who="thanh.tra")
    assert os.stat(store.path).st_ino == inode
    assert [int(i[-5:]) for i in (poly, point, point2)] == \
        list(range(int(poly[-5:]), int(poly[-5:]) + 3))
    assert_sound(store.path)
    history = _sql(store.path, "SELECT case_id, who, field, new FROM violation_history "
                               "WHERE who = 'thanh.tra' ORDER BY case_id")
    assert history == [(i, "thanh.tra", "created", "inspector") for i in (poly, point, point2)]
    cases = list_cases(store).set_index("case_id")
    assert len(cases) == before + 3
    assert cases.loc[point, "notes"] == "Xây tường rào trái phép"
    assert cases.loc[poly].geometry.equals(square) and cases.loc[poly, "area_m2"] == 35.0
    assert cases.loc[point, "parcel_keys"] and cases.loc[point, "ward_code"]
    # the R-tree finds the new polygon (GDAL answers a box query through it) ...
    found = store.read("violation_cases", bbox=(x + 3.5, y + 1.5, x + 3.9, y + 1.9))
    assert list(found["case_id"]) == [poly]
    # ... and so does GDAL's own ogrinfo, with the layer extent covering it
    if OGRINFO:
        out = subprocess.run([OGRINFO, "-ro", "-q", "-spat", str(x + 3.5), str(y + 1.5),
                              str(x + 3.9), str(y + 1.9), str(store.path), "violation_cases"],
                             capture_output=True, text=True, check=True).stdout
        assert f"case_id (String) = {poly}" in out and point2 not in out
    minx, miny, maxx, maxy = _sql(store.path, "SELECT min_x, min_y, max_x, max_y FROM "
                                              "gpkg_contents WHERE table_name = 'violation_cases'")[0]
    assert minx <= x - 3 and maxx >= x + 4 and miny <= y - 3 and maxy >= y + 2


@FILE_LEVEL
def test_first_case_creates_the_tables_then_rows_follow(tmp_path, small_parcels):
    from gis.ingest import ingest_layer

    src = tmp_path / "p.shp"
    small_parcels.to_file(src)
    wards = small_parcels[:1][["MaXa", "geometry"]].copy()
    wards["geometry"] = [shapely.box(*small_parcels.total_bounds).buffer(5)]
    wards.to_file(tmp_path / "w.gpkg")
    store = GeoPackageStore(tmp_path / "store.gpkg")
    ingest_layer(store, src, "parcels")
    ingest_layer(store, tmp_path / "w.gpkg", "wards")
    first = flag(store, shapely.Point(585_010, 2_330_015), kind="other", who="a")
    # the first case makes a layer of any geometry: points and polygons both go in place, so
    # a flag never copies and replaces the whole store under readers and in-place writers
    assert _sql(store.path, "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE "
                            "table_name = 'violation_cases'") == [("GEOMETRY",)]
    inode = os.stat(store.path).st_ino
    second = flag(store, shapely.Point(585_050, 2_330_015), kind="other", who="b")
    assert os.stat(store.path).st_ino == inode  # a point: in place
    third = flag(store, shapely.box(585_030, 2_330_005, 585_036, 2_330_012), kind="other",
                 who="c")  # a polygon after points: in place too
    assert os.stat(store.path).st_ino == inode
    assert (first[-5:], second[-5:], third[-5:]) == ("00001", "00002", "00003")
    assert _sql(store.path, "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE "
                            "table_name = 'violation_cases'") == [("GEOMETRY",)]
    assert_sound(store.path)
    frame = pyogrio.read_dataframe(store.path, layer="violation_cases")
    assert list(frame.geometry.geom_type) == ["Point", "Point", "Polygon"]


@FILE_LEVEL
def test_processes_flagging_beside_readers_lose_nothing(sample_store, tmp_path):
    store = _copy(sample_store, tmp_path)
    before = set(list_cases(store)["case_id"])
    points = _points(store.path, 24, seed=1)
    stop = tmp_path / "stop"
    ctx = mp.get_context("spawn")
    with ctx.Pool(6) as pool:
        readers = [pool.apply_async(_read_worker, ((str(store.path), str(stop)),))
                   for _ in range(2)]
        flags = pool.map(_flag_worker, [(str(store.path), points[i::4], f"insp{i}")
                                        for i in range(4)])
        stop.touch()
        read_errors = [e for r in readers for e in r.get(timeout=60)]
    ids = [i for got, _ in flags for i in got]
    errors = [e for _, errs in flags for e in errs]
    assert errors == [] and read_errors == []
    assert len(ids) == len(set(ids)) == 24
    after = set(list_cases(store)["case_id"])
    assert after == before | set(ids)
    created = _sql(store.path, "SELECT case_id FROM violation_history WHERE field = 'created' "
                               "AND who LIKE 'insp%'")
    assert sorted(c for (c,) in created) == sorted(ids)
    assert_sound(store.path)


@FILE_LEVEL
def test_threads_of_one_process_flag_while_gdal_reads(sample_store, tmp_path):
    """GDAL's SQLite and Python's in one process: a GDAL read ending during a commit would drop
    the writer's locks; the store's reader/writer lock keeps them apart."""
    store = _copy(sample_store, tmp_path)
    points = _points(store.path, 24, seed=2)
    stop = threading.Event()

    def read() -> list[str]:
        errors = []
        while not stop.is_set():
            try:
                GeoPackageStore(store.path).read("violation_cases", columns=["case_id"])
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
        return errors

    with ThreadPoolExecutor(7) as pool:
        readers = [pool.submit(read) for _ in range(3)]
        writers = [pool.submit(_flag_worker, (str(store.path), points[i::4], f"t{i}"))
                   for i in range(4)]
        results = [w.result(timeout=300) for w in writers]
        stop.set()
        read_errors = [e for r in readers for e in r.result(timeout=60)]
    ids = [i for got, _ in results for i in got]
    assert [e for _, errs in results for e in errs] == [] and read_errors == []
    assert len(set(ids)) == 24 and set(ids) <= set(list_cases(store)["case_id"])
    assert_sound(store.path)


_KILLED_WRITER = textwrap.dedent("""
    import sys, time, shapely
    from gis.store import GeoPackageStore
    from gis.store.geopackage import insert_features
    store = GeoPackageStore(sys.argv[1])
    with store.sql_transaction() as con:
        con.execute("PRAGMA cache_size = 1")  # spill pages into the file before the commit
        for i in range(400):
            insert_features(con, "violation_cases", [{"case_id": f"VP-1999-{i:05d}",
                            "notes": "x" * 500}], [shapely.box(590_000 + i, 2_330_000, 590_001 + i, 2_330_001)])
        print("inside", flush=True)
        time.sleep(120)
""")


@FILE_LEVEL
def test_writer_killed_inside_its_transaction_is_rolled_back(sample_store, tmp_path):
    store = _copy(sample_store, tmp_path)
    before = _sql(store.path, "SELECT count(*) FROM violation_cases")[0][0]
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(store.path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "inside"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    journal = store.path.with_name(store.path.name + "-journal")
    assert journal.exists()
    with pytest.raises(Exception, match="readonly"):  # GDAL alone cannot read past it ...
        pyogrio.read_dataframe(store.path, layer="violation_cases")
    reopened = GeoPackageStore(store.path)  # ... opening the store rolls it back
    assert not journal.exists()
    assert len(reopened.read("violation_cases", columns=["case_id"])) == before
    assert_sound(store.path)
    new = flag(reopened, shapely.Point(*_points(store.path, 1)[0]), kind="other", who="after")
    assert new in set(list_cases(reopened)["case_id"])


_FLAGGER = textwrap.dedent("""
    import sys, shapely
    from gis.store import GeoPackageStore
    from gis.violations import flag
    store = GeoPackageStore(sys.argv[1])
    points = [tuple(map(float, p.split(","))) for p in sys.argv[2:]]
    for x, y in points:
        print(flag(store, shapely.Point(x, y), kind="other", who="killed"), flush=True)
""")


@FILE_LEVEL
def test_flagging_process_killed_keeps_every_acknowledged_case(sample_store, tmp_path):
    store = _copy(sample_store, tmp_path)
    points = _points(store.path, 40, seed=3)
    acknowledged: list[str] = []
    for round_ in range(2):  # kill at different moments
        proc = subprocess.Popen([sys.executable, "-c", _FLAGGER, str(store.path),
                                 *(f"{x},{y}" for x, y in points[round_::2])], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        for _ in range(3 + 2 * round_):
            acknowledged.append(proc.stdout.readline().strip())
        time.sleep(0.05 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reopened = GeoPackageStore(store.path)
        assert set(acknowledged) <= set(list_cases(reopened)["case_id"])
        assert_sound(store.path)


# -- the service: two uvicorn workers ------------------------------------------------------------
def _lonlat(store_path: Path | str, points: list[tuple[float, float]]
            ) -> list[tuple[float, float]]:
    from gis import crs as crsmod

    geoms = crsmod.transform_geometries([shapely.Point(p) for p in points],
                                        open_store(str(store_path)).crs(), "EPSG:4326")
    return [(g.x, g.y) for g in geoms]


def _assert_sound_store(store: Path | str) -> None:
    """The file checks of :func:`assert_sound` on a GeoPackage (a database checks its own)."""
    if isinstance(store, Path):
        assert_sound(store)


def _inspector(url: str, token: str, points: list[tuple[float, float]], acknowledged: list[str],
               failures: list[str], stop: threading.Event | None = None) -> None:
    """POST /api/violations for each point; an id counts once the 201 is in hand."""
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=120) as client:
        for i, (lon, lat) in enumerate(points):
            if stop is not None and stop.is_set():
                return
            try:
                res = client.post("/api/violations", json={
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "kind": "encroachment_public_land", "notes": f"lần {i}"})
            except httpx.HTTPError as exc:
                failures.append(f"connection: {exc!r}")
                if stop is not None:
                    return
                continue
            if res.status_code == 201:
                acknowledged.append(res.json()["case_id"])
            else:
                failures.append(f"{res.status_code}: {res.text[:300]}")


def _reader(url: str, token: str, stop: threading.Event, failures: list[str]) -> None:
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=120) as client:
        while not stop.is_set():
            try:
                res = client.get("/api/violations", params={"source": "inspector"})
            except httpx.HTTPError:
                return
            if res.status_code != 200:
                failures.append(f"read {res.status_code}: {res.text[:300]}")


def _process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def test_two_workers_eight_inspectors_flagging_at_once(service):
    from tests.api.conftest import start_server

    points = _lonlat(service.store, _points(service.store, 48, seed=4))
    server = start_server(service, workers=2)
    acknowledged: list[str] = []
    failures: list[str] = []
    stop = threading.Event()
    try:
        readers = [threading.Thread(target=_reader, args=(server.url, service.tokens["viewer"],
                                                          stop, failures)) for _ in range(1)]
        inspectors = [threading.Thread(target=_inspector, args=(
            server.url, service.tokens["inspector"], points[i::8], acknowledged, failures))
            for i in range(8)]
        for t in readers + inspectors:
            t.start()
        for t in inspectors:
            t.join(timeout=300)
        stop.set()
        for t in readers:
            t.join(timeout=60)
    finally:
        server.stop()
    assert failures == [] and not any("locked" in f for f in failures)
    assert len(acknowledged) == len(set(acknowledged)) == 48
    stored = set(list_cases(open_store(str(service.store)))["case_id"])
    assert set(acknowledged) <= stored
    history = open_store(str(service.store)).read_table("violation_history")
    created = history[(history["who"] == "inspector") & (history["field"] == "created")]
    assert sorted(created["case_id"]) == sorted(acknowledged)
    _assert_sound_store(service.store)


def test_server_killed_while_flags_are_written(service):
    from tests.api.conftest import start_server

    points = _lonlat(service.store, _points(service.store, 300, seed=5))
    server = start_server(service, workers=2)
    acknowledged: list[str] = []
    failures: list[str] = []
    stop = threading.Event()
    inspectors = [threading.Thread(target=_inspector, args=(
        server.url, service.tokens["inspector"], points[i::6], acknowledged, failures, stop))
        for i in range(6)]
    try:
        for t in inspectors:
            t.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 15 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(acknowledged) >= 15, failures
        tree = _process_tree(server.process.pid)
        for pid in tree:  # the supervisor and both workers, mid-request
            os.kill(pid, signal.SIGKILL)
        server.process.wait(timeout=30)
        stop.set()
        for t in inspectors:
            t.join(timeout=60)
    finally:
        stop.set()
        server.stop()
    time.sleep(0.5)  # the workers' deaths are delivered
    assert all(not Path(f"/proc/{pid}").exists() or
               "zombie" in Path(f"/proc/{pid}/status").read_text() for pid in tree)
    assert not [f for f in failures if not f.startswith("connection")], failures
    restarted = start_server(service, workers=2)
    try:
        import httpx

        auth = {"Authorization": f"Bearer {service.tokens['viewer']}"}
        res = httpx.get(f"{restarted.url}/api/violations", headers=auth, timeout=60,
                        params={"source": "inspector", "limit": 5000})
        assert res.status_code == 200
        served = {row["case_id"] for row in res.json()["cases"]}
        assert set(acknowledged) <= served  # every acknowledged case, after the restart
        res = httpx.get(f"{restarted.url}/api/violations/{acknowledged[-1]}", headers=auth,
                        timeout=60)
        assert res.status_code == 200
        more: list[str] = []
        _inspector(restarted.url, service.tokens["inspector"], points[-2:], more, failures)
        assert len(more) == 2 and not set(more) & set(acknowledged)
    finally:
        restarted.stop()
    stored = set(list_cases(open_store(str(service.store)))["case_id"])
    assert set(acknowledged) | set(more) <= stored
    _assert_sound_store(service.store)
