"""The service on a small sample district: one store built per test session (copied per test),
accounts for every role, a TestClient, and a real uvicorn server for the clients that need one
(GDAL, QGIS, Chromium).

Backends: ``GIS_TEST_BACKEND=postgis`` runs the same tests on a PostGIS store (default
``geopackage``). The sample GeoPackage is then copied once per session into a template schema
of the test database (``gis.store.copy.copy_store``), and every service gets its own schema
cloned from it in SQL (tables with their rows, indexes and identity counters, the store's own
``gis_*`` tables), dropped when the test (or the module, for module-scoped services) ends.
Tests that look at the GeoPackage file itself are marked ``geopackage_only`` and skip there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.api import backend
from tests.conftest import ROOT

ROLES = ("viewer", "inspector", "planner", "admin")
PASSWORD = "mật-khẩu-{role}-2026"  # the sample accounts' passwords in tests
BACKENDS = ("geopackage", "postgis")
#: the store backend the API tests run on (``GIS_TEST_BACKEND``)
BACKEND = os.environ.get("GIS_TEST_BACKEND", "geopackage").strip().lower() or "geopackage"
if BACKEND not in BACKENDS:
    raise pytest.UsageError(f"GIS_TEST_BACKEND={BACKEND!r}: one of {', '.join(BACKENDS)}")
ON_POSTGIS = BACKEND == "postgis"
#: modules that compare or deploy a PostGIS copy of their own on either backend
OWN_DATABASE = ("test_postgis_service.py", "test_deployment.py")


def pytest_configure(config):  # type: ignore[no-untyped-def]
    config.addinivalue_line("markers", "geopackage_only(reason): the test looks at the GeoPackage "
                            "file itself; skipped with its reason under GIS_TEST_BACKEND=postgis")


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Under the PostGIS backend, tests of the GeoPackage file itself skip with their reason."""
    if not ON_POSTGIS:
        return
    for item in items:
        if any(item.nodeid.startswith(f"tests/api/{name}::") for name in OWN_DATABASE):
            item.add_marker(pytest.mark.skip(reason="makes its own PostGIS copy whatever the "
                                              "backend: run by the default pass"))
        marker = item.get_closest_marker("geopackage_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"GeoPackage only: {reason}"))


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the sample district (1,500 parcels, projects with a clearance sheet,
    buildings, detected violations), built once per test session."""
    from gis.cli import cli

    base = tmp_path_factory.mktemp("sample")
    store = base / "store.gpkg"
    env = {"GIS_STORE": str(store), "GIS_CATALOG": str(ROOT / "layers"),
           "GIS_DATA_DIR": str(base)}
    runner = CliRunner(env=env)

    def run(*args: str) -> None:
        res = runner.invoke(cli, list(args))
        assert res.exit_code == 0, (args, res.output)

    run("sample", "--parcels", "1500", "--seed", "1", "--out", str(base / "src"))
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp"), ("buildings", "buildings.gpkg")):
        run("ingest", kind, str(base / "src" / name))
    run("ingest", "clearance", str(base / "src" / "clearance.xlsx"), "--known-on", "31/12/2024")
    run("violations", "detect")
    return store


@dataclass
class Service:
    """An app on a private copy of the sample store, with one account per role."""

    app: object
    client: object
    store: Path | str  # the GeoPackage file, or the PostGIS location (postgresql://…?schema=…)
    data_dir: Path
    tokens: dict[str, str]

    def auth(self, role: str | None) -> dict[str, str]:
        """Bearer headers for a role (no headers for None)."""
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}


def make_service(tmp_path: Path, sample_store: Path, monkeypatch: pytest.MonkeyPatch,
                 **settings: object) -> Service:
    """A service on a private copy of ``sample_store`` (a GeoPackage) in the test backend."""
    from fastapi.testclient import TestClient

    from gis.api import create_app
    from gis.api.auth.security import UserDB
    from gis.settings import ServiceSettings, StorageSettings
    from gis.store import open_accounts

    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    store: Path | str
    if ON_POSTGIS:
        store = backend.clone(backend.template(sample_store))
        monkeypatch.setenv("GIS_ATTACHMENTS_DIR", str(data / "attachments"))
    else:
        store = data / "store.gpkg"
        shutil.copy(sample_store, store)
    monkeypatch.setenv("GIS_STORE", str(store))
    monkeypatch.setenv("GIS_DATA_DIR", str(data))
    monkeypatch.setenv("GIS_CATALOG", str(ROOT / "layers"))
    monkeypatch.chdir(ROOT)
    users = UserDB(open_accounts(data, str(store)))
    tokens = {}
    for role in ROLES:
        users.add(role, role, PASSWORD.format(role=role))
        tokens[role] = users.new_token(role)
    app = create_app(StorageSettings(store=store, data_dir=data),
                     ServiceSettings(maps=ROOT / "maps", **settings))
    return Service(app, TestClient(app), store, data, tokens)


@contextlib.contextmanager
def _dropping_clones() -> Iterator[None]:
    """Drop the schemas cloned inside the block when it ends."""
    clones = backend.CLONES
    mark = len(clones)
    try:
        yield
    finally:
        made = clones[mark:]
        del clones[mark:]
        backend.drop(made)


@pytest.fixture(autouse=True)
def _test_clones() -> Iterator[None]:
    with _dropping_clones():
        yield


@pytest.fixture(autouse=True, scope="module")
def _module_clones() -> Iterator[None]:
    with _dropping_clones():
        yield


@pytest.fixture(autouse=True, scope="session")
def _session_templates() -> Iterator[None]:
    yield
    if ON_POSTGIS:
        backend.drop([*backend.CLONES, *backend.TEMPLATES.values()])
        backend.CLONES.clear()
        backend.TEMPLATES.clear()


def store_state(service: Service) -> str:
    """What changes when anything is written to the service's store: the file's bytes (a
    GeoPackage), the store's change token (a database, bumped by every write transaction)."""
    import hashlib

    from gis.store import open_store

    if isinstance(service.store, Path):
        return hashlib.sha256(service.store.read_bytes()).hexdigest()
    return open_store(service.store).change_token()


def layer_count(service: Service, kind: str) -> int:
    """How many features the store's layer holds (through the store, either backend)."""
    from gis.store import open_store

    return open_store(str(service.store)).layer_info(kind).count


def write_sql(service: Service, table: str, statement: str, params: tuple[object, ...] = ()
              ) -> None:
    """Change rows of ``table`` with one SQL statement (``?`` placeholders), for odd data no
    pipeline writes; in the store's own write transaction, so its change tokens move."""
    from gis.store import GeoPackageStore, open_store

    if isinstance(service.store, Path):
        with GeoPackageStore(service.store).sql_transaction() as con:
            con.execute(statement, params)
        return
    from gis.store.pg_reads import bump

    store = open_store(service.store)
    with store._writing() as (con, working):  # type: ignore[attr-defined]
        con.execute("SELECT set_config('search_path', %s, true)", (f'"{working.schema}"',))
        con.execute(statement.replace("?", "%s"), params)
        bump(working, con, [table])


def empty_store(service: Service) -> None:
    """Take every layer out of the service's store, as on a first install: the GeoPackage file
    is removed; the database schema keeps only the store's own tables (accounts too)."""
    if isinstance(service.store, Path):
        service.store.unlink()
        return
    from gis.store import open_store
    from gis.store.pg_reads import bump

    store = open_store(service.store)
    with store._writing() as (con, working):  # type: ignore[attr-defined]
        names = [r[0] for r in con.execute(f"SELECT name FROM {working._t('gis_layers')}")]
        for name in names:
            con.execute(f"DROP TABLE {working._t(name)}")
        con.execute(f"DELETE FROM {working._t('gis_layers')}")
        con.execute(f"DELETE FROM {working._t('gis_meta')} WHERE key <> 'schema_version'")
        bump(working, con, names)


@pytest.fixture
def service(tmp_path: Path, sample_store: Path, monkeypatch: pytest.MonkeyPatch) -> Service:
    return make_service(tmp_path, sample_store, monkeypatch)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    service: Service

    def stop(self, sig: int | None = None) -> None:
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
            self.process.wait(timeout=20)


def start_server(service: Service, *, workers: int = 1, extra_env: dict[str, str] | None = None,
                 port: int | None = None) -> Server:
    """``gis serve`` in a subprocess on loopback, waiting until it answers."""
    import httpx

    port = port or free_port()
    env = {**os.environ, "GIS_STORE": str(service.store), "GIS_DATA_DIR": str(service.data_dir),
           "GIS_CATALOG": str(ROOT / "layers"), "GIS_MAPS": str(ROOT / "maps"),
           **(extra_env or {})}
    process = subprocess.Popen([sys.executable, "-m", "gis.cli", "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", str(workers)], env=env,
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gis serve exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url + "/login", timeout=2).status_code == 200:
                return Server(url, process, service)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gis serve did not answer within 60 s")


@pytest.fixture
def server(service: Service):
    """A real uvicorn server on loopback over the test's store."""
    srv = start_server(service)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def units_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Sơn Tây sample store with 2025 units (:mod:`tests.api.scoped`), once per session."""
    from tests.api.scoped import build_units_store

    return build_units_store(tmp_path_factory.mktemp("scoped"))


@pytest.fixture
def scoped(tmp_path: Path, units_store: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A service on a copy of the Sơn Tây store with officers of two units and the province."""
    from tests.api.scoped import Scoped

    return Scoped(make_service(tmp_path, units_store, monkeypatch))
