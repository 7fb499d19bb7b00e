"""Issue 11: credential changes reach every worker at once, the service's own files live in
GIS_DATA_DIR, and sign-in limits are per (name, address) under a per-address ceiling, counted
atomically across threads and workers."""

from __future__ import annotations

import base64
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.api.conftest import PASSWORD, make_service
from tests.conftest import ROOT


def _basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def _users(*args: str) -> str:
    from gis.cli import cli

    res = CliRunner().invoke(cli, ["users", *args])  # the test's GIS_STORE / GIS_DATA_DIR
    assert res.exit_code == 0, res.output
    return res.output.strip()


# -- 2: GIS_DATA_DIR -----------------------------------------------------------------------------
def test_service_files_live_in_the_data_dir_not_beside_the_store(tmp_path, sample_store,
                                                                  monkeypatch):
    from fastapi.testclient import TestClient

    from gis.api import create_app
    from gis.settings import ServiceSettings, StorageSettings

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    a.mkdir()
    store = a / "store.gpkg"
    shutil.copy(sample_store, store)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GIS_CATALOG", str(ROOT / "layers"))
    monkeypatch.setenv("GIS_STORE", str(store))
    monkeypatch.setenv("GIS_DATA_DIR", str(b))
    _users("add", "chi", "--role", "admin", "--password", "mật-khẩu-của-chi")
    assert (b / "service.db").exists()
    app_b = create_app(StorageSettings(), ServiceSettings(maps=ROOT / "maps"))
    client_b = TestClient(app_b)
    chi = _basic("chi", "mật-khẩu-của-chi")
    assert client_b.get("/api/uploads", headers=chi).status_code == 200
    src = sample_store.parent / "src" / "wards.gpkg"
    token = _users("token", "chi")
    res = client_b.post("/api/uploads", headers={"Authorization": f"Bearer {token}"},
                        files={"file": ("wards.gpkg", src.read_bytes())}, data={"kind": "wards"})
    assert res.status_code in (200, 201), res.text
    assert (b / "secret.key").exists() and any((b / "uploads").iterdir())
    assert {p.name for p in a.iterdir()} <= {"store.gpkg", "store.gpkg-wal", "store.gpkg-shm"}

    # a second service on the same store with its own data folder has its own accounts
    monkeypatch.setenv("GIS_DATA_DIR", str(c))
    client_c = TestClient(create_app(StorageSettings(), ServiceSettings(maps=ROOT / "maps")))
    assert client_c.get("/api/uploads", headers=chi).status_code == 401
    _users("add", "chi", "--role", "viewer", "--password", "mật-khẩu-khác-của-chi")
    assert client_c.get("/", headers=_basic("chi", "mật-khẩu-khác-của-chi")).status_code == 200
    assert client_b.get("/api/uploads", headers=chi).status_code == 200  # b unchanged
    assert (c / "service.db").exists() and not (a / "service.db").exists()


def test_data_dir_defaults():
    from gis.settings import StorageSettings

    assert StorageSettings(data_dir=Path("/b")).store_path == Path("/b/store.gpkg")
    assert StorageSettings(data_dir=Path("/b"), store=Path("/a/s.gpkg")).data_dir == Path("/b")
    # only GIS_STORE, as before: the service's files beside it (existing accounts are found)
    assert StorageSettings(store=Path("/a/s.gpkg")).data_dir == Path("/a")


# -- 3: sign-in limits ---------------------------------------------------------------------------
def test_one_officers_typos_do_not_lock_the_office(service):
    c = service.client  # every request from one address ("testclient"): an office behind NAT
    for _ in range(5):
        assert c.post("/login", data={"name": "viewer", "password": "gõ-nhầm-1"}).status_code == 401
        assert c.get("/", headers=_basic("planner", "gõ-nhầm-2")).status_code == 401
    assert c.post("/login", data={"name": "viewer",
                                  "password": PASSWORD.format(role="viewer")}).status_code == 429
    assert c.get("/", headers=_basic("planner", PASSWORD.format(role="planner"))).status_code == 429
    res = c.post("/login", data={"name": "inspector", "password": PASSWORD.format(role="inspector")},
                 follow_redirects=False)
    assert res.status_code == 303  # a colleague at the same address signs in
    assert c.get("/", headers=_basic("admin", PASSWORD.format(role="admin"))).status_code == 200


def test_the_per_address_ceiling_holds(tmp_path, sample_store, monkeypatch):
    svc = make_service(tmp_path, sample_store, monkeypatch)  # defaults: 5 per name, 50 per address
    c = svc.client
    for i in range(10):
        for _ in range(5):
            assert c.post("/login", data={"name": f"khách{i}", "password": "x" * 9}).status_code == 401
    res = c.post("/login", data={"name": "viewer", "password": PASSWORD.format(role="viewer")})
    assert res.status_code == 429
    # HTTP Basic has its own counters (the form's guesses do not stop desktop GIS), same ceiling
    assert c.get("/", headers=_basic("viewer", PASSWORD.format(role="viewer"))).status_code == 200


def test_a_right_password_gives_its_attempt_back(service):
    users = service.app.state.gis.users
    for _ in range(3):
        assert users.sign_in("admin", PASSWORD.format(role="admin"), "10.0.0.9", per_name=1,
                             per_address=1).user is not None
    assert users.sign_in("admin", "sai-mật-khẩu", "10.0.0.9", per_name=1, per_address=1).user is None
    assert users.sign_in("admin", PASSWORD.format(role="admin"), "10.0.0.9", per_name=1,
                         per_address=1).limited


def test_concurrent_wrong_attempts_never_pass_the_limit(service):
    users = service.app.state.gis.users
    start = threading.Barrier(20)

    def attempt(i: int) -> bool:
        start.wait()
        return users.sign_in("admin", f"đoán-sai-{i}", "10.0.0.7", per_name=5,
                             per_address=50).limited

    with ThreadPoolExecutor(20) as pool:
        limited = list(pool.map(attempt, range(20)))
    assert limited.count(False) == 5 and limited.count(True) == 15


# -- 1 and 3 against a real server with two workers ------------------------------------------------
def _workers(server) -> list[int]:  # type: ignore[no-untyped-def]
    from tests.api.test_faults import _process_tree

    return [p for p in _process_tree(server.process.pid)  # not the resource tracker
            if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _burst(url: str, path: str, headers: dict[str, str], n: int = 40) -> list[int]:
    """``n`` GETs on fresh connections, 8 at a time (so both workers answer)."""
    import httpx

    def get(_: int) -> int:
        return httpx.get(url + path, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(get, range(n)))


@pytest.mark.slow
def test_password_and_role_changes_reach_every_worker_at_once(service):
    from tests.api.conftest import start_server

    server = start_server(service, workers=2)
    try:
        workers = _workers(server)
        assert len(workers) == 2
        before = {p: _cpu_ticks(p) for p in workers}
        old = _basic("admin", PASSWORD.format(role="admin"))
        assert set(_burst(server.url, "/api/uploads", old)) == {200}
        # both workers answered (and cached the pair): each spent CPU time on the burst
        assert all(_cpu_ticks(p) > before[p] for p in workers), before
        _users("passwd", "admin", "--password", "mật-khẩu-mới-2027")
        assert set(_burst(server.url, "/api/uploads", old)) == {401}
        new = _basic("admin", "mật-khẩu-mới-2027")
        assert set(_burst(server.url, "/api/uploads", new)) == {200}
        # a role change: the cached admin loses admin routes at the next request, keeps reading
        _users("role", "admin", "viewer")
        assert set(_burst(server.url, "/api/uploads", new)) == {403}
        assert set(_burst(server.url, "/api/violations", new, n=16)) == {200}
        _users("role", "admin", "admin")
        assert set(_burst(server.url, "/api/uploads", new, n=16)) == {200}
    finally:
        server.stop()


@pytest.mark.slow
def test_a_burst_across_two_workers_lets_exactly_the_limit_through(service):
    import httpx

    from tests.api.conftest import start_server

    server = start_server(service, workers=2)
    start = threading.Barrier(20)

    def basic(i: int) -> int:
        start.wait()
        return httpx.get(server.url + "/", headers=_basic("planner", f"đoán-sai-{i}"),
                         timeout=60).status_code

    def form(i: int) -> int:
        start.wait()
        return httpx.post(server.url + "/login", data={"name": "viewer",
                                                        "password": f"đoán-sai-{i}"},
                          timeout=60).status_code

    try:
        for attempt in (basic, form):
            with ThreadPoolExecutor(20) as pool:
                codes = list(pool.map(attempt, range(20)))
            assert codes.count(401) == 5 and codes.count(429) == 15, (attempt.__name__, codes)
            start.reset()
    finally:
        server.stop()
