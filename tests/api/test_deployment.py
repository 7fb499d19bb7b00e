"""The province deployment of the README (issue 12): nginx (deploy/nginx.conf) in front of two
`gis serve` processes standing for two service machines, each with its own data folder, sharing
one PostGIS store. A sign-in made through nginx works on both; a case flagged on one is read on
the other; a password changed from the command line stops working on both at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import free_port
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _wait(url: str, process: subprocess.Popen | None = None) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: exited {process.stderr.read().decode()[-1500:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(url + "/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within 60 s")


def test_two_machines_behind_nginx_share_one_database(sample_store, tmp_path):  # type: ignore[no-untyped-def]
    nginx = shutil.which("nginx") or (Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists()
                                      else None)
    if nginx is None:
        pytest.skip("nginx is not installed (Debian nginx-light; .ci/run installs it)")
    from gis.api.auth.security import UserDB
    from gis.store import open_accounts, open_store
    from gis.store.copy import copy_store
    from tests.store.conftest import drop_schema, require_postgis, store_location

    require_postgis()
    database = store_location("postgis", tmp_path)
    processes: list[subprocess.Popen] = []  # type: ignore[type-arg]
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    try:
        assert copy_store(open_store(sample_store), open_store(database)).differences == []
        users = UserDB(open_accounts(tmp_path / "machine-a", database))
        users.add("lan", "inspector", "mật-khẩu-của-lan-2026")
        token = users.new_token("lan")
        ports = [free_port(), free_port()]
        for port, machine in zip(ports, ("machine-a", "machine-b")):
            env = {**os.environ, "GIS_STORE": database, "GIS_DATA_DIR": str(tmp_path / machine),
                   "GIS_ATTACHMENTS_DIR": str(tmp_path / "shared-attachments"),
                   "GIS_CATALOG": str(ROOT / "layers"), "GIS_MAPS": str(ROOT / "maps")}
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "gis.cli", "serve", "--host", "127.0.0.1", "--port",
                 str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE))
        for port, process in zip(ports, processes):
            _wait(f"http://127.0.0.1:{port}", process)
        front = free_port()
        text = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
        for name, value in (("@PREFIX@", str(prefix)), ("@PORT_A@", str(ports[0])),
                            ("@PORT_B@", str(ports[1])), ("@PORT@", str(front))):
            text = text.replace(name, value)
        conf.write_text(text, encoding="utf-8")
        subprocess.run([str(nginx), "-p", str(prefix), "-c", str(conf)], check=True,
                       timeout=30, capture_output=True)
        url = f"http://127.0.0.1:{front}"
        _wait(url)

        # a sign-in through nginx: the session is in the database, both machines know it
        with httpx.Client(base_url=url, follow_redirects=False) as browser:
            res = browser.post("/login", data={"name": "lan", "password": "mật-khẩu-của-lan-2026",
                                               "next": "/cases"})
            assert res.status_code == 303, res.text
            cookie = browser.cookies.get("gis_session")
        assert cookie
        for port in ports:
            page = httpx.get(f"http://127.0.0.1:{port}/cases", cookies={"gis_session": cookie})
            assert page.status_code == 200 and "lan" in page.text, port

        # a case flagged on machine A is read on machine B, and through nginx
        bearer = {"Authorization": f"Bearer {token}"}
        first = httpx.get(f"{url}/ogc/collections/parcels/items?limit=1", headers=bearer).json()
        point = first["features"][0]["geometry"]["coordinates"]
        while isinstance(point[0], list):
            point = point[0]
        made = httpx.post(f"http://127.0.0.1:{ports[0]}/api/violations", headers=bearer,
                          json={"kind": "other", "notes": "hai máy",
                                "geometry": {"type": "Point", "coordinates": point}})
        assert made.status_code == 201, made.text
        case = made.json()["case_id"]
        assert httpx.get(f"http://127.0.0.1:{ports[1]}/api/violations/{case}",
                         headers=bearer).json()["notes"] == "hai máy"
        answers = {httpx.get(f"{url}/api/violations/{case}", headers=bearer).status_code
                   for _ in range(6)}
        assert answers == {200}

        # a password changed from the command line ends the old one on both machines at once
        basic = ("lan", "mật-khẩu-của-lan-2026")
        assert all(httpx.get(f"http://127.0.0.1:{p}/api/violations?limit=1", auth=basic
                             ).status_code == 200 for p in ports)
        users.set_password("lan", "mật-khẩu-mới-của-lan-2026")
        assert [httpx.get(f"http://127.0.0.1:{p}/api/violations?limit=1", auth=basic
                          ).status_code for p in ports] == [401, 401]
    finally:
        if conf.exists():
            subprocess.run([str(nginx), "-p", str(prefix), "-c", str(conf), "-s", "stop"],
                           timeout=30, capture_output=True)
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        drop_schema(database.rpartition("schema=")[2])
