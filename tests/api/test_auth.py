"""Sign-in, sessions with CSRF, bearer tokens, HTTP Basic, rate limits, users CLI, secret key."""

from __future__ import annotations

import base64
import re
import stat
from pathlib import Path

from click.testing import CliRunner

from tests.api.conftest import PASSWORD, make_service


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").text).group(1)


def test_sign_in_session_csrf_and_sign_out(service):
    c = service.client
    res = c.get("/", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login?next=%2F"
    res = c.post("/login", data={"name": "viewer", "password": "wrong-password", "next": "/"})
    assert res.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in res.text
    res = c.post("/login", data={"name": "viewer", "password": PASSWORD.format(role="viewer"),
                                 "next": "https://evil.example/"}, follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/"  # no open redirect
    cookie = res.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("samesite", "SameSite")
    assert "Bản đồ quản lý đất đai" in c.get("/").text
    assert c.post("/logout", follow_redirects=False).status_code == 403  # no CSRF token
    assert c.post("/logout", data={"csrf_token": _csrf(c)},
                  follow_redirects=False).status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303  # the session ended


def test_sign_in_attempts_are_limited(service):
    c = service.client
    for _ in range(5):
        assert c.post("/login", data={"name": "admin", "password": "x" * 9}).status_code == 401
    res = c.post("/login", data={"name": "admin", "password": PASSWORD.format(role="admin")})
    assert res.status_code == 429 and "15 phút" in res.text


def test_tokens_and_basic_credentials(service):
    c = service.client
    assert c.get("/", headers=service.auth("viewer")).status_code == 200
    res = c.get("/", headers={"Authorization": "Bearer nope"})
    assert res.status_code == 401 and res.json()["message"] == "unknown or revoked token"
    basic = base64.b64encode(f"planner:{PASSWORD.format(role='planner')}".encode()).decode()
    assert c.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    bad = base64.b64encode(b"planner:wrong-one").decode()
    res = c.get("/", headers={"Authorization": f"Basic {bad}"})
    assert res.status_code == 401 and res.headers["www-authenticate"].startswith("Basic")


def test_public_read_setting(tmp_path, sample_store, monkeypatch):
    svc = make_service(tmp_path, sample_store, monkeypatch, public_read=True)
    assert svc.client.get("/").status_code == 200


def test_users_cli_and_secret_key(service, monkeypatch):
    from gis.cli import cli

    runner = CliRunner()
    res = runner.invoke(cli, ["users", "add", "lan", "--role", "inspector",
                              "--password", "đủ-dài-rồi"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["users", "add", "lan", "--role", "inspector", "--password", "x" * 8])
    assert res.exit_code == 2 and "exists" in res.output
    res = runner.invoke(cli, ["users", "add", "hoa", "--role", "boss", "--password", "x" * 8])
    assert res.exit_code == 2
    token = runner.invoke(cli, ["users", "token", "lan"]).output.strip()
    assert token.startswith("gis_")
    assert service.client.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    res = runner.invoke(cli, ["users", "passwd", "lan", "--password", "mật-khẩu-mới-1"])
    assert res.exit_code == 0
    assert service.client.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert re.search(r"lan\s+inspector", runner.invoke(cli, ["users", "list"]).output)
    if isinstance(service.store, Path):  # a GeoPackage store: the key is a file (a database
        key = service.data_dir / "secret.key"  # store keeps it in its schema)
        assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    from gis.store import open_accounts

    made = open_accounts(service.data_dir, str(service.store)).secret_key(lambda: b"new")
    assert len(made) == 64  # the service's key, made before (never this call's)


def test_anonymous_readers_never_see_personal_data(tmp_path, sample_store, monkeypatch):
    import math

    import geopandas as gpd
    import mapbox_vector_tile

    from gis.io.write import reproject
    from gis.store import open_store

    svc = make_service(tmp_path, sample_store, monkeypatch, public_read=True)
    c = svc.client
    cases = open_store(svc.store).read_table("violation_cases")
    case = str(cases["case_id"].iloc[0])
    res = c.patch(f"/api/violations/{case}", headers=svc.auth("inspector"),
                  json={"notes": "GHI-CHU-RIENG", "owner_name": "CHU-RIENG"})
    assert res.status_code == 200, res.text
    # case files need a sign-in even when reads are public (residents have /public)
    assert c.get("/api/violations").status_code == 401
    assert c.get(f"/api/violations/{case}").status_code == 401
    assert c.get(f"/api/violations/{case}/dossier.pdf").status_code == 401
    assert c.get(f"/cases/{case}", follow_redirects=False).status_code == 303
    # map data for everyone, without owners and notes
    text = c.get("/api/layers/violation_cases.geojson").text
    assert case in text and "GHI-CHU-RIENG" not in text and "CHU-RIENG" not in text
    found = c.get("/api/maps/district/find", params={"q": case}).json()["found"]
    assert found and "notes" not in found["properties"]
    parcel = open_store(svc.store).read("parcels", columns=["parcel_key", "owner_name"]).iloc[0]
    found = c.get("/api/maps/district/find", params={"q": parcel["parcel_key"]}).json()["found"]
    assert "owner_name" not in found["properties"]
    signed = c.get("/api/maps/district/find", params={"q": parcel["parcel_key"]},
                   headers=svc.auth("viewer")).json()["found"]
    assert signed["properties"].get("owner_name") == parcel["owner_name"]
    geo = parcel.geometry.centroid
    lonlat = reproject(gpd.GeoDataFrame(geometry=[geo], crs=open_store(svc.store).crs()),
                       "EPSG:4326").geometry.iloc[0]
    z = 17
    x = int((lonlat.x + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lonlat.y))) / math.pi) / 2 * 2**z)
    tile = c.get(f"/tiles/parcels/{z}/{x}/{y}.mvt")
    assert tile.status_code == 200
    props = [f["properties"] for f in mapbox_vector_tile.decode(tile.content)["parcels"]["features"]]
    assert props and all("owner_name" not in p for p in props)


def test_basic_is_for_reading_and_sign_in_only_from_this_site(service):
    basic = base64.b64encode(f"inspector:{PASSWORD.format(role='inspector')}".encode()).decode()
    res = service.client.post("/api/violations", headers={"Authorization": f"Basic {basic}"},
                              json={"kind": "other"})
    assert res.status_code == 401 and "bearer token" in res.json()["message"]
    res = service.client.post("/login", headers={"Origin": "https://evil.example"},
                              data={"name": "viewer", "password": PASSWORD.format(role="viewer")},
                              follow_redirects=False)
    assert res.status_code == 403 and "gis_session" not in res.headers.get("set-cookie", "")
    res = service.client.get("/ogc/collections/parcels/items?offset=99999999999999999999999",
                             headers=service.auth("viewer"))
    assert res.status_code == 400


def test_a_revoked_token_and_a_removed_user_stop_working_at_once(service):
    from gis.cli import cli

    runner = CliRunner()
    c = service.client
    planner = {"Authorization": f"Bearer {service.tokens['planner']}"}
    assert c.get("/", headers=planner).status_code == 200
    listed = runner.invoke(cli, ["users", "tokens", "planner"]).output.split()
    assert len(listed) == 4 and listed[1] == "planner"  # id, owner, date, time
    res = runner.invoke(cli, ["users", "revoke", listed[0]])
    assert res.exit_code == 0 and "revoked" in res.output
    assert c.get("/", headers=planner).status_code == 401
    assert runner.invoke(cli, ["users", "revoke", listed[0]]).exit_code == 2  # gone
    assert runner.invoke(cli, ["users", "revoke", service.tokens["viewer"]]).exit_code == 0
    assert c.get("/", headers=service.auth("viewer")).status_code == 401
    # removing a user ends their session, their tokens and their cached HTTP Basic pair
    basic = {"Authorization": "Basic " + base64.b64encode(
        f"inspector:{PASSWORD.format(role='inspector')}".encode()).decode()}
    assert c.get("/", headers=basic).status_code == 200  # now cached by the worker
    c.post("/login", data={"name": "inspector", "password": PASSWORD.format(role="inspector")})
    assert c.get("/", follow_redirects=False).status_code == 200
    assert runner.invoke(cli, ["users", "delete", "inspector"]).exit_code == 0
    assert c.get("/", follow_redirects=False).status_code == 303
    assert c.get("/", headers=basic).status_code == 401
    assert c.get("/", headers=service.auth("inspector")).status_code == 401
    assert runner.invoke(cli, ["users", "delete", "inspector"]).exit_code == 2
