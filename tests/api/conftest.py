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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

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
        store = _clone(_template(sample_store))
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


# --- the PostGIS backend: one template schema per source GeoPackage, a clone per service --------
_TEMPLATES: dict[Path, str] = {}  # source GeoPackage → template schema
_CLONES: list[str] = []  # schemas cloned and not dropped yet, oldest first


def _location(schema: str) -> str:
    from tests.store.conftest import TEST_DATABASE

    return f"{TEST_DATABASE}?schema={schema}"


def _template(source: Path) -> str:
    """The template schema holding ``source`` (copied on first use in this session)."""
    from gis.store import open_store
    from gis.store.copy import copy_store
    from tests.store.conftest import require_postgis

    source = Path(source).resolve()
    if source not in _TEMPLATES:
        require_postgis()
        schema = f"tmpl_{uuid.uuid4().hex[:12]}"
        _TEMPLATES[source] = schema  # dropped at the end of the session even if the copy fails
        result = copy_store(open_store(str(source)), open_store(_location(schema)))
        assert result.differences == [], result.differences
    return _TEMPLATES[source]


#: one statement, run by the server: every table of the template with its rows, defaults,
#: constraints and indexes (``LIKE … INCLUDING ALL``), identity counters set past the copied
#: rows' largest value
_CLONE_SQL = """
DO $clone$
DECLARE
  src text := {src};
  dst text := {dst};
  t record;
  c record;
BEGIN
  EXECUTE format('CREATE SCHEMA %I', dst);
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = src ORDER BY tablename LOOP
    EXECUTE format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING ALL)',
                   dst, t.tablename, src, t.tablename);
    EXECUTE format('INSERT INTO %I.%I OVERRIDING SYSTEM VALUE SELECT * FROM %I.%I',
                   dst, t.tablename, src, t.tablename);
    FOR c IN SELECT a.attname FROM pg_attribute a
             WHERE a.attrelid = format('%I.%I', dst, t.tablename)::regclass
               AND a.attidentity <> '' AND NOT a.attisdropped LOOP
      EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), '
                     'coalesce((SELECT max(%I) FROM %I.%I), 0) + 1, false)',
                     format('%I.%I', dst, t.tablename), c.attname, c.attname,
                     dst, t.tablename);
    END LOOP;
  END LOOP;
END
$clone$
"""


def _clone(template: str) -> str:
    """A new store location: a schema cloned from ``template`` (dropped when the test, module
    or session that made it ends, see ``_drop_clones``)."""
    import psycopg
    from psycopg import sql

    from tests.store.conftest import TEST_DATABASE

    schema = f"t_{uuid.uuid4().hex[:12]}"
    _CLONES.append(schema)
    with psycopg.connect(TEST_DATABASE, autocommit=True) as con:
        con.execute(sql.SQL(_CLONE_SQL).format(src=sql.Literal(template), dst=sql.Literal(schema)))
    return _location(schema)


def _drop(schemas: list[str]) -> None:
    from tests.store.conftest import drop_schema

    for schema in schemas:
        drop_schema(schema)


@contextlib.contextmanager
def _dropping_clones() -> Iterator[None]:
    """Drop the schemas cloned inside the block when it ends."""
    mark = len(_CLONES)
    try:
        yield
    finally:
        made = _CLONES[mark:]
        del _CLONES[mark:]
        _drop(made)


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
        _drop([*_CLONES, *_TEMPLATES.values()])
        _CLONES.clear()
        _TEMPLATES.clear()


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
