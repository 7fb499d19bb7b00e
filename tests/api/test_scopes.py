"""Each officer in their own units (issue 13, third part): user scopes on every route.

Store and users (:mod:`tests.api.scoped`): the sample district moved onto Thị xã Sơn Tây (Hà
Nội) with its 2025 unit polygons, officers of Phường Sơn Tây (09574) and Phường Tùng Thiện
(09604), and the province's staff. Uploads, the ingest log, users' provinces and the reads of
exports: tests/api/test_scope_records.py.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from tests.api.conftest import ON_POSTGIS, PASSWORD, make_service
from tests.api.scoped import (
    SCOPES,
    SON_TAY,
    TUNG_THIEN,
    Scoped,
    _cases_by_unit,
    _other_province_unit,
    _parcels,
    _parcels_zip,
    _tile_keys,
    _tiles_over,
)
from tests.api.test_roles import OPEN, _routes
from tests.conftest import ROOT


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
    code, _, province = _other_province_unit("01")  # a unit of another province: not here
    elsewhere = client.get(f"/public/violations.geojson?unit={code}")
    assert elsewhere.status_code == 400 and province in elsewhere.json()["message"]


# -- the scope matrix: every route, users of two units and of the province ----------------------
RECORD = re.compile(r"\{(case_id|id|parcel_key|featureId|upload_id)\}")


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
def test_scope_matrix(scoped, who, units_store, tmp_path):
    """Every route as an administrator of one unit (or of the province) on the records of
    Phường Sơn Tây (a pending upload of its officer among them): their own or the province's
    answer normally; another unit's user is refused (403) or finds nothing (404) for a record,
    and never meets a server error."""
    values = _record_values(scoped, SON_TAY)
    upload = scoped.client.post("/api/uploads", headers=scoped.auth("son_tay", "admin"), files={
        "file": ("thua_dat.zip", _parcels_zip(units_store, tmp_path, ["09577"]),
                 "application/zip")}, data={"kind": "parcels"})
    assert upload.status_code == 201, upload.text
    values["upload_id"] = upload.json()["id"]
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


def _text_of(res) -> str:  # type: ignore[no-untyped-def]
    """What a person reads in an answer: the text, or the cells of a workbook."""
    kind = res.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        import io

        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(res.content), read_only=True)
        return " ".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(
            values_only=True) for v in row if v is not None)
    if kind.startswith(("text/", "application/json", "application/geo+json")):
        return res.text
    return ""


def test_no_answer_names_another_units_parcel_or_case(scoped):
    """Every GET route (with the officer's own records where it takes one) as the officer of
    Phường Tùng Thiện: no page, JSON answer or workbook names a parcel or a case of Phường Sơn
    Tây (the clearance anomalies once listed the other unit's sheet rows)."""
    parcels = _parcels(scoped.service.store)
    theirs = set(parcels.loc[parcels["unit_code"] == SON_TAY, "parcel_key"].astype(str))
    theirs |= set(_cases_by_unit(scoped)[SON_TAY])
    values = _record_values(scoped, TUNG_THIEN)
    read = 0
    for method, path, perms in _routes(scoped.service.app):
        if method != "GET" or OPEN.match(path) or not perms:
            continue
        url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), path)
        res = scoped.get(url, "tung_thien", "admin")
        found = set(re.findall(r"[\w./-]+", _text_of(res))) & theirs
        assert not found, (url, sorted(found)[:5])
        read += bool(_text_of(res))
    assert read >= 20


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


# -- the 2025 units as a layer of their own -----------------------------------------------------
def test_the_units_are_a_map_layer_and_an_ogc_collection_limited_to_ones_scope(scoped):
    """Once their polygons are loaded the 2025 communes are drawn on the map and published as
    the OGC collection ``units`` (code, name, province); an officer sees their own unit."""
    doc = scoped.get("/api/maps/district", "province").json()
    assert "units" in [layer.get("id") or layer.get("key") for layer in doc["layers"]], doc["layers"][:1]
    everyone = scoped.get("/ogc/collections/units/items", "province")
    assert everyone.status_code == 200, everyone.text
    props = [f["properties"] for f in everyone.json()["features"]]
    assert {(p["unit_code"], p["name"]) for p in props} == {
        (SON_TAY, "Phường Sơn Tây"), (TUNG_THIEN, "Phường Tùng Thiện")}
    assert {p["province"] for p in props} == {"Thành phố Hà Nội"}
    own = scoped.get("/ogc/collections/units/items", "son_tay").json()
    assert [f["properties"]["unit_code"] for f in own["features"]] == [SON_TAY]
    assert own["numberMatched"] == 1
    titles = {c["id"]: c["title"] for c in
              scoped.get("/ogc/collections", "province").json()["collections"]}
    assert titles["units"] == "Xã, phường (từ 01/7/2025)"
