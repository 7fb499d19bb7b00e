"""Each officer in their own units (issue 13, third part): user scopes on every route.

The store is the sample district moved onto Thị xã Sơn Tây (Hà Nội) with unit polygons built
over it (``gis.sample.units``): 2025 units 09574 Phường Sơn Tây and 09604 Phường Tùng Thiện;
legacy ward 09604 Xã Thanh Mỹ was split between them (and its code reused by Tùng Thiện).
Users: ``son_tay`` (09574), ``tung_thien`` (09604), ``province`` (the whole store), each in
every role the test needs.
"""

from __future__ import annotations

import re
from pathlib import Path

import mapbox_vector_tile
import pytest
from click.testing import CliRunner

from tests.api.conftest import ON_POSTGIS, PASSWORD, Service, make_service
from tests.api.test_roles import OPEN, _routes
from tests.conftest import ROOT

SON_TAY, TUNG_THIEN = "09574", "09604"
SCOPES = {"son_tay": (SON_TAY,), "tung_thien": (TUNG_THIEN,), "province": None}


@pytest.fixture(scope="session")
def units_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Sơn Tây sample store with units, projects, a clearance sheet and detected cases."""
    from gis.cli import cli
    from gis.io.admin_units import load_registry
    from gis.sample import generate_district, write_sample
    from gis.sample.units import district_wards, on_real_district, unit_polygons

    base = tmp_path_factory.mktemp("scoped")
    reg = load_registry()
    real = on_real_district(generate_district(1500, seed=1),
                            district_wards(reg, "Thị xã Sơn Tây", "Thành phố Hà Nội"))
    write_sample(real, base / "src")
    unit_polygons(real.wards, reg).to_file(base / "src" / "units.gpkg", layer="units")
    store = base / "store.gpkg"
    runner = CliRunner(env={"GIS_STORE": str(store), "GIS_CATALOG": str(ROOT / "layers"),
                            "GIS_DATA_DIR": str(base)})
    src = base / "src"
    for args in (("ingest", "wards", str(src / "wards.gpkg")),
                 ("ingest", "parcels", str(src / "parcels.shp")),
                 ("ingest", "units", str(src / "units.gpkg")),
                 ("ingest", "projects", str(src / "projects.shp")),
                 ("ingest", "buildings", str(src / "buildings.gpkg")),
                 ("ingest", "clearance", str(src / "clearance.xlsx"), "--known-on",
                  "31/12/2024"),
                 ("violations", "detect"), ("clearance", "report")):
        res = runner.invoke(cli, list(args))
        assert res.exit_code == 0, (args, res.output)
    return store


class Scoped:
    """A service over the Sơn Tây store with users of two units and of the province."""

    def __init__(self, service: Service) -> None:
        from gis.api.auth.security import UserDB
        from gis.store import open_accounts

        self.service = service
        self.client = service.client
        users = UserDB(open_accounts(service.data_dir, str(service.store)))
        self.tokens: dict[tuple[str, str], str] = {}
        for who, units in SCOPES.items():
            for role in ("viewer", "inspector", "planner", "admin"):
                name = f"{who}-{role}"
                users.add(name, role, PASSWORD.format(role=role), units=units)
                self.tokens[who, role] = users.new_token(name)
        self.users = users

    def auth(self, who: str, role: str = "viewer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who, role]}"}

    def get(self, url: str, who: str, role: str = "viewer", **kw):  # type: ignore[no-untyped-def]
        headers = {**self.auth(who, role), **kw.pop("headers", {})}
        return self.client.get(url, headers=headers, **kw)


@pytest.fixture
def scoped(tmp_path: Path, units_store: Path, monkeypatch: pytest.MonkeyPatch) -> Scoped:
    return Scoped(make_service(tmp_path, units_store, monkeypatch))


def _parcels(store: Path):  # type: ignore[no-untyped-def]
    from gis.store import open_store

    return open_store(store).read("parcels")


def _tiles_over(frame, z: int = 15):  # type: ignore[no-untyped-def]
    """The z tiles covering a frame (in the store CRS)."""
    import math

    bounds = frame.to_crs(4326).total_bounds

    def tile(lon: float, lat: float) -> tuple[int, int]:
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return x, y

    (x0, y0), (x1, y1) = tile(bounds[0], bounds[3]), tile(bounds[2], bounds[1])
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _tile_keys(scoped: Scoped, who: str, tiles) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    keys: set[str] = set()
    etags: set[str] = set()
    for z, x, y in tiles:
        res = scoped.get(f"/tiles/parcels/{z}/{x}/{y}.mvt", who)
        assert res.status_code in (200, 204), res.text
        etags.add(res.headers["etag"])
        if res.status_code == 200:
            layer = mapbox_vector_tile.decode(res.content).get("parcels", {"features": []})
            keys |= {f["properties"]["parcel_key"] for f in layer["features"]}
    return keys, etags


# -- accounts and the CLI -----------------------------------------------------------------------
def test_users_carry_their_units_and_a_change_applies_at_the_next_request(scoped):
    users = scoped.users
    assert users.get("son_tay-viewer").units == (SON_TAY,)
    assert users.get("province-viewer").units is None
    res = scoped.get("/api/layers/units.geojson", "son_tay")  # not a map layer: 404 alike
    parcels = scoped.get("/api/maps/district/find?q=x", "son_tay")
    assert parcels.status_code == 200
    users.set_units("son_tay-viewer", [TUNG_THIEN])
    assert users.get("son_tay-viewer").units == (TUNG_THIEN,)
    users.set_units("son_tay-viewer", None)
    assert users.get("son_tay-viewer").units is None
    assert res.status_code in (200, 404)


def test_cli_users_units(tmp_path, monkeypatch):
    from gis.cli import cli

    monkeypatch.setenv("GIS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GIS_STORE", str(tmp_path / "store.gpkg"))
    run = CliRunner().invoke
    res = run(cli, ["users", "add", "xa", "--role", "inspector", "--password", "12345678",
                    "--units", "09574, 09604"])
    assert res.exit_code == 0, res.output
    assert "09574 Phường Sơn Tây, 09604 Phường Tùng Thiện" in res.output
    legacy = run(cli, ["users", "add", "old", "--role", "viewer", "--password", "12345678",
                       "--units", "09577"])
    assert legacy.exit_code == 2 and "Phường Phú Thịnh" in legacy.output
    assert "legacy 09577" in legacy.output and "2025 commune-level units" in legacy.output
    assert "Traceback" not in legacy.output
    unknown = run(cli, ["users", "add", "x", "--role", "viewer", "--password", "12345678",
                        "--units", "99999"])
    assert unknown.exit_code == 2 and "neither" in unknown.output
    empty = run(cli, ["users", "add", "x", "--role", "viewer", "--password", "12345678",
                      "--units", ","])
    assert empty.exit_code == 2 and "unit codes" in empty.output
    assert run(cli, ["users", "add", "so", "--role", "admin", "--password",
                     "12345678"]).exit_code == 0
    listed = run(cli, ["users", "list"]).output
    assert re.search(r"so\s+admin\s+whole store", listed)
    assert re.search(r"xa\s+inspector\s+09574 Phường Sơn Tây, 09604", listed)
    assert run(cli, ["users", "units", "xa", "09604"]).exit_code == 0
    assert re.search(r"xa\s+inspector\s+09604 Phường Tùng Thiện$", run(cli, ["users", "list"])
                     .output, re.M)
    assert run(cli, ["users", "units", "xa", "--all"]).exit_code == 0
    assert re.search(r"xa\s+inspector\s+whole store", run(cli, ["users", "list"]).output)
    both = run(cli, ["users", "units", "xa", "09604", "--all"])
    assert both.exit_code == 2 and "either" in both.output
    nobody = run(cli, ["users", "units", "nobody", "09604"])
    assert nobody.exit_code == 2 and "no user 'nobody'" in nobody.output


# -- maps -------------------------------------------------------------------------------------
def test_tiles_show_only_the_officers_units(scoped):
    parcels = _parcels(scoped.service.store)
    by_unit = {u: set(parcels.loc[parcels["unit_code"] == u, "parcel_key"])
               for u in (SON_TAY, TUNG_THIEN)}
    tiles = _tiles_over(parcels, 15)
    seen = {who: _tile_keys(scoped, who, tiles) for who in SCOPES}
    assert seen["son_tay"][0] and seen["son_tay"][0] <= by_unit[SON_TAY]
    assert seen["tung_thien"][0] and seen["tung_thien"][0] <= by_unit[TUNG_THIEN]
    assert seen["province"][0] & by_unit[SON_TAY] and seen["province"][0] & by_unit[TUNG_THIEN]
    # ETags differ by scope: one officer's 304 is never another's
    assert not (seen["son_tay"][1] & seen["tung_thien"][1])
    z, x, y = tiles[len(tiles) // 2]
    first = scoped.get(f"/tiles/parcels/{z}/{x}/{y}.mvt", "son_tay")
    other = scoped.client.get(f"/tiles/parcels/{z}/{x}/{y}.mvt",
                              headers={**scoped.auth("tung_thien"),
                                       "If-None-Match": first.headers["etag"]})
    assert other.status_code != 304


def test_geojson_at_and_find_within_the_scope(scoped):
    parcels = _parcels(scoped.service.store)
    mine = parcels[parcels["unit_code"] == SON_TAY].iloc[0]
    theirs = parcels[parcels["unit_code"] == TUNG_THIEN].iloc[0]
    for layer, key in (("parcels", "parcel_key"), ("violation_cases", "case_id")):
        got = {who: [f["properties"].get(key) for f in scoped.get(
            f"/api/layers/{layer}.geojson", who).json()["features"]] for who in SCOPES}
        assert len(got["son_tay"]) + len(got["tung_thien"]) <= len(got["province"])
        assert not set(got["son_tay"]) & set(got["tung_thien"])
    found = scoped.get(f"/api/maps/district/find?q={mine['parcel_key']}", "son_tay").json()
    assert found["found"]["properties"]["parcel_key"] == mine["parcel_key"]
    assert scoped.get(f"/api/maps/district/find?q={mine['parcel_key']}",
                      "tung_thien").json()["found"] is None
    point = theirs.geometry.representative_point()
    import geopandas as gpd

    lon, lat = gpd.GeoSeries([point], crs=parcels.crs).to_crs(4326).iloc[0].coords[0]
    url = f"/api/maps/district/at?lon={lon}&lat={lat}&zoom=19&layers=parcels"
    hits = scoped.get(url, "tung_thien").json()["hits"]
    assert [h["properties"]["parcel_key"] for h in hits if h["layer"] == "parcels"][:1] == \
        [theirs["parcel_key"]]
    assert not [h for h in scoped.get(url, "son_tay").json()["hits"] if h["layer"] == "parcels"
                and h["properties"]["parcel_key"] == theirs["parcel_key"]]


def test_wards_and_projects_by_their_area(scoped):
    wards = {who: {f["properties"].get("ward_code") for f in scoped.get(
        "/api/layers/wards.geojson", who).json()["features"]} for who in SCOPES}
    assert "09604" in wards["son_tay"] and "09604" in wards["tung_thien"]  # the split ward
    assert wards["son_tay"] | wards["tung_thien"] == wards["province"]
    assert wards["son_tay"] != wards["province"]




# -- OGC API ----------------------------------------------------------------------------------
def test_ogc_number_matched_counts_only_the_officers_parcels(scoped):
    parcels = _parcels(scoped.service.store)
    counts = parcels["unit_code"].value_counts()
    url = "/ogc/collections/parcels/items?limit=5"
    got = {who: scoped.get(url, who).json() for who in SCOPES}
    assert got["son_tay"]["numberMatched"] == counts[SON_TAY]
    assert got["tung_thien"]["numberMatched"] == counts[TUNG_THIEN]
    assert got["province"]["numberMatched"] == len(parcels)
    theirs = parcels[parcels["unit_code"] == TUNG_THIEN]["parcel_key"].iloc[0]
    assert scoped.get(f"/ogc/collections/parcels/items/{theirs}", "son_tay").status_code == 404
    assert scoped.get(f"/ogc/collections/parcels/items/{theirs}",
                      "tung_thien").status_code == 200
    html = scoped.get("/ogc/collections?f=html", "son_tay")
    assert html.status_code == 200


# -- exports ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_exports_hold_only_the_officers_rows(scoped, fmt):
    import io

    import pandas as pd

    from gis.render.labels import column_headers

    parcels = _parcels(scoped.service.store)
    counts = parcels["unit_code"].value_counts()
    for who, expected in (("son_tay", counts[SON_TAY]), ("tung_thien", counts[TUNG_THIEN]),
                          ("province", len(parcels))):
        res = scoped.get(f"/api/export/parcels?format={fmt}", who, "planner")
        assert res.status_code == 200, res.text
        assert int(res.headers["x-feature-count"]) == expected, who
        if fmt == "geojson":
            units = {f["properties"]["unit_code"] for f in res.json()["features"]}
        else:
            frame = pd.read_csv(io.BytesIO(res.content), dtype=str)
            column = column_headers(["unit_code"], "vi")["unit_code"]
            units = set(frame[column])
        assert units == ({SON_TAY, TUNG_THIEN} if who == "province" else set(SCOPES[who]))
    for layer in ("violations", "wards", "projects", "buildings", "clearance"):
        got = {who: int(scoped.get(f"/api/export/{layer}?format=geojson", who, "planner")
                        .headers.get("x-feature-count", 0)) for who in SCOPES}
        assert got["son_tay"] <= got["province"] and got["tung_thien"] <= got["province"], layer


# -- cases ------------------------------------------------------------------------------------
def _cases_by_unit(scoped):  # type: ignore[no-untyped-def]
    from gis.store import open_store
    from gis.violations import list_cases

    cases = list_cases(open_store(scoped.service.store))
    return {u: list(cases.loc[cases["unit_code"] == u, "case_id"]) for u in (SON_TAY, TUNG_THIEN)}


def test_cases_carry_their_unit_and_lists_pages_and_files_hold_the_scope(scoped):
    by_unit = _cases_by_unit(scoped)
    assert by_unit[SON_TAY] and by_unit[TUNG_THIEN]
    listed = {who: {c["case_id"] for c in scoped.get("/api/violations?limit=5000", who,
                                                       "inspector").json()["cases"]}
              for who in SCOPES}
    assert listed["son_tay"] == set(by_unit[SON_TAY])
    assert listed["tung_thien"] == set(by_unit[TUNG_THIEN])
    assert listed["province"] == set(by_unit[SON_TAY]) | set(by_unit[TUNG_THIEN])
    theirs = by_unit[TUNG_THIEN][0]
    for url in (f"/api/violations/{theirs}", f"/api/violations/{theirs}/attachments",
                f"/api/violations/{theirs}/dossier.pdf", f"/cases/{theirs}"):
        assert scoped.get(url, "son_tay", "inspector").status_code == 403, url
        assert scoped.get(url, "tung_thien", "inspector").status_code == 200, url
        assert scoped.get(url, "province", "inspector").status_code == 200, url
    page = scoped.get("/cases", "son_tay", "inspector").text
    assert theirs not in page and by_unit[SON_TAY][0] in page
    outside = scoped.get(f"/cases/{theirs}", "son_tay", "inspector",
                         headers={"Accept": "text/html"})
    assert "outside your units" in outside.text or "ngoài" in outside.text


def test_transitions_and_flags_outside_the_units_are_refused(scoped):
    import geopandas as gpd

    by_unit = _cases_by_unit(scoped)
    theirs, mine = by_unit[TUNG_THIEN][0], by_unit[SON_TAY][0]
    move = {"to": "VERIFIED", "note": "kiểm tra"}
    res = scoped.client.post(f"/api/violations/{theirs}/transitions", json=move,
                             headers=scoped.auth("son_tay", "inspector"))
    assert res.status_code == 403
    res = scoped.client.patch(f"/api/violations/{theirs}", json={"notes": "x"},
                              headers=scoped.auth("son_tay", "inspector"))
    assert res.status_code == 403
    res = scoped.client.post(f"/api/violations/{mine}/transitions", json=move,
                             headers=scoped.auth("son_tay", "inspector"))
    assert res.status_code in (200, 422), res.text
    parcels = _parcels(scoped.service.store)
    for unit, who, ok in ((TUNG_THIEN, "son_tay", False), (TUNG_THIEN, "tung_thien", True),
                          (SON_TAY, "province", True)):
        spot = parcels[parcels["unit_code"] == unit].geometry.iloc[3].representative_point()
        lon, lat = gpd.GeoSeries([spot], crs=parcels.crs).to_crs(4326).iloc[0].coords[0]
        res = scoped.client.post("/api/violations", json={
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "kind": "encroachment_public_land"}, headers=scoped.auth(who, "inspector"))
        if ok:
            assert res.status_code == 201, res.text
            assert res.json()["unit_code"] == unit
            case = res.json()["case_id"]
            history = scoped.get(f"/api/violations/{case}", who, "inspector").json()["history"]
            assert {h.get("unit_code") for h in history} == {unit}
        else:
            assert res.status_code == 403 and "outside your units" in res.json()["message"]


# -- dashboard --------------------------------------------------------------------------------
def test_dashboard_figures_of_the_officers_units(scoped):
    got = {who: scoped.get("/api/clearance/progress", who).json() for who in SCOPES}
    units = {who: {u["unit_code"] for u in got[who]["units"]} for who in SCOPES}
    assert units["son_tay"] <= {SON_TAY} and units["tung_thien"] <= {TUNG_THIEN}
    assert units["province"] == {SON_TAY, TUNG_THIEN} or units["province"] >= \
        units["son_tay"] | units["tung_thien"]

    def affected(who: str) -> int:
        return sum(int(p["parcels_affected"]) for p in got[who]["projects"])

    assert affected("son_tay") + affected("tung_thien") == affected("province")
    for who in ("son_tay", "tung_thien"):
        page = scoped.get("/dashboard", who)
        assert page.status_code == 200
        for path in ("/dashboard/charts/violations.png", "/dashboard/clearance.xlsx",
                     "/dashboard/violations_by_ward.xlsx"):
            res = scoped.get(path, who)
            assert res.status_code in (200, 404), (path, res.text[:200])


# -- the residents' page per unit -------------------------------------------------------------
def test_residents_page_per_unit(tmp_path, units_store, monkeypatch):
    svc = make_service(tmp_path, units_store, monkeypatch, residents_page=True)
    client = svc.client
    every = client.get("/public/violations.geojson").json()["features"]
    mine = client.get(f"/public/violations.geojson?unit={SON_TAY}").json()["features"]
    theirs = client.get(f"/public/violations.geojson?unit={TUNG_THIEN}").json()["features"]
    assert len(mine) + len(theirs) == len(every)
    assert not {f["id"] for f in mine} & {f["id"] for f in theirs}
    page = client.get(f"/public?unit={TUNG_THIEN}")
    assert page.status_code == 200 and "Phường Tùng Thiện (09604)" in page.text
    assert 'name="unit" value="09604"' in page.text
    projects = client.get(f"/public/projects.json?unit={SON_TAY}").json()["projects"]
    assert len(projects) <= len(client.get("/public/projects.json").json()["projects"])
    legacy = client.get("/public/violations.geojson?unit=09577")
    assert legacy.status_code == 400 and "Phường Phú Thịnh" in legacy.json()["message"]
    bad = client.get("/public?unit=abc", headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "Traceback" not in bad.text


# -- uploads and the ingest log ---------------------------------------------------------------
def _parcels_zip(units_store: Path, tmp_path: Path, wards: list[str]) -> bytes:
    import pyogrio

    from tests.api.test_uploads import _shapefile_zip

    parcels = pyogrio.read_dataframe(units_store.parent / "src" / "parcels.shp")
    out = tmp_path / "_".join(wards)
    out.mkdir()
    parcels[parcels["MaXa"].isin(wards)].to_file(out / "thua_dat.shp", engine="pyogrio",
                                                 encoding="UTF-8")
    return _shapefile_zip(out, "thua_dat")


def test_uploads_of_a_commune_office_stay_in_its_units(scoped, units_store, tmp_path):
    def post(who: str, data: bytes, kind: str = "parcels", **options: str):  # type: ignore[no-untyped-def]
        return scoped.client.post("/api/uploads", headers=scoped.auth(who, "admin"),
                                  files={"file": ("thua_dat.zip", data, "application/zip")},
                                  data={"kind": kind, **options})

    son_tay_only = _parcels_zip(units_store, tmp_path, ["09577", "09592"])
    split_ward = _parcels_zip(units_store, tmp_path, ["09604"])
    refused = post("tung_thien", son_tay_only)
    assert refused.status_code == 403, refused.text
    assert "Phường Sơn Tây (09574)" in refused.json()["message"]
    split = post("son_tay", split_ward)  # legacy Thanh Mỹ went to both units
    assert split.status_code == 403 and "Phường Tùng Thiện (09604)" in split.json()["message"]
    everything = post("son_tay", son_tay_only, replace_all="true")
    assert everything.status_code == 403 and "province department" in everything.json()["message"]
    wards = post("son_tay", son_tay_only, kind="wards")
    assert wards.status_code == 403
    ok = post("son_tay", son_tay_only)
    assert ok.status_code == 201, ok.text
    done = scoped.client.post(f"/api/uploads/{ok.json()['id']}/commit",
                              headers=scoped.auth("son_tay", "admin"))
    assert done.status_code == 200, done.text
    assert post("province", split_ward).status_code == 201
    log = scoped.client.get("/api/uploads/log", headers=scoped.auth("province", "admin")).json()
    assert log[0]["who"] == "son_tay-admin" and log[0]["units"] == [SON_TAY]
    assert {tuple(r["units"]) for r in log if r["kind"] == "clearance"} == \
        {(SON_TAY, TUNG_THIEN)}


# -- the scope matrix: every route, users of two units and of the province ----------------------
RECORD = re.compile(r"\{(case_id|id|parcel_key|featureId)\}")


def _record_values(scoped: Scoped, unit: str) -> dict[str, str]:
    parcels = _parcels(scoped.service.store)
    parcel = str(parcels.loc[parcels["unit_code"] == unit, "parcel_key"].iloc[0])
    case = _cases_by_unit(scoped)[unit][0]
    return {"case_id": case, "id": case, "parcel_key": parcel, "layer": "parcels",
            "collectionId": "parcels", "featureId": parcel, "z": "14", "x": "13019",
            "y": "7211", "name": "projects", "table": "projects", "map_id": "district",
            "key": "parcels", "n": "1"}


def _body(method: str, path: str) -> dict[str, str] | None:
    if method == "PATCH":
        return {"notes": "kiểm tra"}
    if path.endswith("/transitions"):
        return {"to": "VERIFIED", "note": "kiểm tra"}
    return {} if method in ("POST", "PUT") else None


@pytest.mark.parametrize("who", list(SCOPES))
def test_scope_matrix(scoped, who):
    """Every route as an administrator of one unit (or of the province) on the records of
    Phường Sơn Tây: their own or the province's answer normally; another unit's user is
    refused (403) or finds nothing (404) for a record, and never meets a server error."""
    values = _record_values(scoped, SON_TAY)
    checked = 0
    for method, path, perms in _routes(scoped.service.app):
        if OPEN.match(path) or not perms:
            continue
        url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), path)
        res = scoped.client.request(method, url, headers=scoped.auth(who, "admin"),
                                    follow_redirects=False,
                                    json=_body(method, path))
        where = f"{method} {url} as {who}: {res.status_code} {res.text[:200]}"
        assert res.status_code < 500, where
        assert res.status_code != 401, where
        if RECORD.search(path) and "{collectionId}" not in path.replace("{featureId}", ""):
            if who == "tung_thien":
                assert res.status_code in (403, 404), where
            else:
                assert res.status_code != 403, where
        elif RECORD.search(path):  # an OGC feature: another unit's is not there
            if who == "tung_thien":
                assert res.status_code == 404, where
            else:
                assert res.status_code == 200, where
        else:
            assert res.status_code != 403 or "/uploads" in path, where
        checked += 1
    assert checked >= 20


# -- the same scope on a PostGIS store (tiles by ST_AsMVT, reads by SQL) ------------------------
@pytest.mark.slow
@pytest.mark.skipif(ON_POSTGIS, reason="the whole module runs on PostGIS already")
def test_scopes_on_postgis(units_store, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from gis.api import create_app
    from gis.api.auth.security import UserDB
    from gis.settings import ServiceSettings, StorageSettings
    from gis.store import open_accounts, open_store
    from gis.store.copy import copy_store
    from tests.store.conftest import drop_schema, require_postgis, store_location

    require_postgis()
    database = store_location("postgis", tmp_path)
    assert copy_store(open_store(units_store), open_store(database)).differences == []
    try:
        monkeypatch.setenv("GIS_CATALOG", str(ROOT / "layers"))
        monkeypatch.chdir(ROOT)
        users = UserDB(open_accounts(tmp_path, database))
        tokens = {}
        for who, units in SCOPES.items():
            users.add(who, "admin", PASSWORD.format(role="admin"), units=units)
            tokens[who] = users.new_token(who)
        app = create_app(StorageSettings(store=database, data_dir=tmp_path),
                         ServiceSettings(maps=ROOT / "maps"))
        scoped = Scoped.__new__(Scoped)
        scoped.client = TestClient(app)
        scoped.tokens = {(who, "viewer"): token for who, token in tokens.items()}
        parcels = _parcels(units_store)
        counts = parcels["unit_code"].value_counts()
        for who, expected in (("son_tay", counts[SON_TAY]), ("tung_thien", counts[TUNG_THIEN]),
                              ("province", len(parcels))):
            got = scoped.get("/ogc/collections/parcels/items?limit=3", who).json()
            assert got["numberMatched"] == expected, who
        tiles = _tiles_over(parcels, 15)
        seen = {who: _tile_keys(scoped, who, tiles)[0] for who in SCOPES}
        assert seen["son_tay"] and set(parcels.loc[parcels["parcel_key"].isin(
            seen["son_tay"]), "unit_code"]) == {SON_TAY}
        assert seen["tung_thien"] and set(parcels.loc[parcels["parcel_key"].isin(
            seen["tung_thien"]), "unit_code"]) == {TUNG_THIEN}
        assert seen["son_tay"] | seen["tung_thien"] == seen["province"]
        wards = {who: {f["properties"].get("ward_code") for f in scoped.get(
            "/api/layers/wards.geojson", who).json()["features"]} for who in SCOPES}
        assert wards["son_tay"] | wards["tung_thien"] == wards["province"]
    finally:
        drop_schema(database.rpartition("schema=")[2])


def test_the_map_opens_on_the_officers_units_and_forms_offer_theirs(scoped):
    whole = scoped.get("/api/maps/district", "province").json()["bounds"]
    mine = scoped.get("/api/maps/district", "tung_thien").json()["bounds"]
    assert whole[0][0] <= mine[0][0] and mine[1][1] <= whole[1][1] and mine != whole
    page = scoped.get("/exports", "son_tay", "planner").text
    assert page.count("<option") < scoped.get("/exports", "province", "planner").text.count(
        "<option")
