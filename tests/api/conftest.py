"""The service on a small sample district: one store built per test session (copied per test),
accounts for every role, a TestClient, and a real uvicorn server for the clients that need one
(GDAL, QGIS, Chromium)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT

ROLES = ("viewer", "inspector", "planner", "admin")
PASSWORD = "mật-khẩu-{role}-2026"  # the sample accounts' passwords in tests


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
    store: Path
    data_dir: Path
    tokens: dict[str, str]

    def auth(self, role: str | None) -> dict[str, str]:
        """Bearer headers for a role (no headers for None)."""
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}


def make_service(tmp_path: Path, sample_store: Path, monkeypatch: pytest.MonkeyPatch,
                 **settings: object) -> Service:
    from fastapi.testclient import TestClient

    from gis.api import create_app
    from gis.api.auth.security import UserDB
    from gis.settings import ServiceSettings, StorageSettings
    from gis.store import open_accounts

    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    store = data / "store.gpkg"
    shutil.copy(sample_store, store)
    monkeypatch.setenv("GIS_STORE", str(store))
    monkeypatch.setenv("GIS_DATA_DIR", str(data))
    monkeypatch.setenv("GIS_CATALOG", str(ROOT / "layers"))
    monkeypatch.chdir(ROOT)
    users = UserDB(open_accounts(data))
    tokens = {}
    for role in ROLES:
        users.add(role, role, PASSWORD.format(role=role))
        tokens[role] = users.new_token(role)
    app = create_app(StorageSettings(store=store), ServiceSettings(maps=ROOT / "maps", **settings))
    return Service(app, TestClient(app), store, data, tokens)


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
