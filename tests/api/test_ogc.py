"""OGC API – Features at /ogc, through the app (TestClient): every end point and parameter,
credentials, bad parameters, privacy with public read, HTML pages."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from gis.io.write import reproject
from gis.store import open_store
from tests.api.conftest import PASSWORD, ROLES, make_service, write_sql
from tests.conftest import ROOT

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
ZONE = "http://www.opengis.net/def/crs/EPSG/0/5897"  # the sample district: VN-2000 TM-3 105°00'
COLLECTIONS = ("parcels", "projects", "clearance", "violations", "wards", "buildings")


@pytest.fixture(scope="module")
def clearance_store(sample_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample store with the clearance report written back (project_parcels and
    clearance_projects), as `gis clearance report` leaves it."""
    from gis.cli import cli

    base = tmp_path_factory.mktemp("ogc-store")
    store = base / "store.gpkg"
    shutil.copy(sample_store, store)
    env = {"GIS_STORE": str(store), "GIS_CATALOG": str(ROOT / "layers"), "GIS_DATA_DIR": str(base)}
    res = CliRunner(env=env).invoke(cli, ["clearance", "report", "--format", "json",
                                          "--out", str(base / "report.json")])
    assert res.exit_code == 0, res.output
    return store


@pytest.fixture(scope="module")
def ogc(clearance_store, tmp_path_factory):
    """One service for the tests that only read (accounts cost argon2 hashes to create)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield make_service(tmp_path_factory.mktemp("ogc"), clearance_store, monkeypatch)


@pytest.fixture
def writable(tmp_path, clearance_store, monkeypatch):
    """A service on its own copy of the store, for tests that change data."""
    return make_service(tmp_path, clearance_store, monkeypatch)


def basic(role: str, password: str | None = None) -> dict[str, str]:
    token = base64.b64encode(f"{role}:{password or PASSWORD.format(role=role)}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def get(svc, url: str, role: str = "viewer", **kw):  # type: ignore[no-untyped-def]
    svc.client.cookies.clear()  # no language remembered from an earlier request
    return svc.client.get(url, headers={**basic(role), **kw.pop("headers", {})}, **kw)


def store_frame(svc, table: str):  # type: ignore[no-untyped-def]
    return open_store(str(svc.store)).read(table)


# --- credentials ------------------------------------------------------------------------------
def test_reading_needs_credentials_and_accepts_basic_for_desktop_gis(ogc):
    urls = ["/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/parcels",
            "/ogc/collections/parcels/items", "/ogc/collections/parcels/items/09880-1-2",
            "/ogc/collections/parcels/queryables", "/ogc/collections/parcels/schema"]
    for url in urls:
        res = ogc.client.get(url)
        assert res.status_code == 401, url
        assert res.headers["www-authenticate"].startswith("Basic"), url
        assert res.json()["message"].startswith("sign in first")
    for role in ROLES:  # every role reads; bearer tokens and Basic alike
        assert get(ogc, "/ogc/collections", role).status_code == 200
        assert ogc.client.get("/ogc", headers=ogc.auth(role)).status_code == 200
    res = ogc.client.get("/ogc", headers=basic("viewer", "not-the-password"))
    assert res.status_code == 401 and res.json()["message"] == "wrong user name or password"
    # a browser without a session is sent to the sign-in form and comes back
    res = ogc.client.get("/ogc/collections/parcels/items?f=html", follow_redirects=False)
    assert res.status_code == 303
    assert res.headers["location"] == "/login?next=%2Fogc%2Fcollections%2Fparcels%2Fitems%3Ff%3Dhtml"


# --- landing, conformance, collections --------------------------------------------------------
def test_landing_page_has_title_and_the_links_qgis_needs(ogc):
    res = get(ogc, "/ogc")
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/json")
    doc = res.json()
    assert doc["title"] == "Dịch vụ dữ liệu OGC API – Features" and doc["description"]
    rels = {link["rel"]: link for link in doc["links"]}
    assert rels["self"]["href"] == "http://testserver/ogc?f=json"
    assert rels["service-desc"] == {"href": "http://testserver/openapi.json", "rel": "service-desc",
                                    "type": "application/vnd.oai.openapi+json;version=3.0",
                                    "title": "OpenAPI 3"}
    assert rels["conformance"]["href"] == "http://testserver/ogc/conformance"
    assert rels["data"]["href"] == "http://testserver/ogc/collections"
    assert rels["alternate"]["type"] == "text/html"
    assert get(ogc, "/ogc?lang=en").json()["title"] == "OGC API – Features data service"
    api = get(ogc, "/openapi.json").json()
    items = api["paths"]["/ogc/collections/{collectionId}/items"]["get"]
    limit = next(p for p in items["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}
    assert {p["name"] for p in items["parameters"]} >= {"bbox", "bbox-crs", "crs", "offset"}


def test_conformance_classes(ogc):
    classes = get(ogc, "/ogc/conformance").json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-1/1.0/conf/html", "ogcapi-features-1/1.0/conf/oas30",
                 "ogcapi-features-2/1.0/conf/crs"):
        assert f"http://www.opengis.net/spec/{part}" in classes
    assert "Các chuẩn tuân thủ" in get(ogc, "/ogc/conformance?f=html").text


def test_collections_titles_crs_extent_and_links(ogc):
    doc = get(ogc, "/ogc/collections").json()
    by_id = {c["id"]: c for c in doc["collections"]}
    assert tuple(by_id) == COLLECTIONS
    assert by_id["parcels"]["title"] == "Thửa đất"
    assert by_id["violations"]["title"] == "Vụ việc vi phạm đất đai"
    english = {c["id"]: c["title"] for c in get(ogc, "/ogc/collections?lang=en").json()["collections"]}
    assert english["clearance"] == "Parcel parts in projects (clearance status)"
    assert english["wards"] == "Wards"
    for c in by_id.values():
        assert c["crs"] == [CRS84, EPSG4326, ZONE] and c["storageCrs"] == ZONE
        assert c["itemType"] == "feature"
        rels = {(link["rel"], link["type"]) for link in c["links"]}
        assert ("items", "application/geo+json") in rels and ("items", "text/html") in rels
        assert ("describedBy", "application/schema+json") in rels
    # the extent is the data's, in CRS84, through the pinned VN-2000 transformation
    parcels = reproject(store_frame(ogc, "parcels"), "EPSG:4326")
    want = parcels.total_bounds
    got = by_id["parcels"]["extent"]["spatial"]["bbox"][0]
    assert np.allclose(got, want, atol=2e-6), (got, want)
    assert by_id["parcels"]["extent"]["spatial"]["crs"] == CRS84
    one = get(ogc, "/ogc/collections/parcels").json()
    assert one["id"] == "parcels" and one["links"][0]["rel"] == "self"
    res = get(ogc, "/ogc/collections/nothing")
    assert res.status_code == 404 and "parcels, projects, clearance" in res.json()["message"]


def test_projects_carry_clearance_progress_or_fall_back_to_boundaries(ogc, tmp_path,
                                                                      sample_store, monkeypatch):
    (tmp_path / "plain").mkdir()
    service = make_service(tmp_path / "plain", sample_store, monkeypatch)
    fields = get(ogc, "/ogc/collections/projects/queryables").json()["properties"]
    assert "pct_area_recovered" in fields and "parcels_handed_over" in fields
    # a store without the clearance report: plain project boundaries, no clearance collection
    ids = [c["id"] for c in get(service, "/ogc/collections").json()["collections"]]
    assert "projects" in ids and "clearance" not in ids
    fields = get(service, "/ogc/collections/projects/queryables").json()["properties"]
    assert "name" in fields and "pct_area_recovered" not in fields
    assert get(service, "/ogc/collections/clearance/items").status_code == 404


def test_queryables_and_schema_type_every_column(ogc):
    res = get(ogc, "/ogc/collections/parcels/queryables")
    assert res.headers["content-type"] == "application/schema+json"
    q = res.json()
    assert q["$id"] == "http://testserver/ogc/collections/parcels/queryables"
    props = q["properties"]
    assert props["map_sheet"]["type"] == "integer" and props["is_public"]["type"] == "boolean"
    assert props["area_m2"]["type"] == "number" and props["parcel_key"]["type"] == "string"
    assert props["parcel_no"]["title"] == "Số thửa"
    assert not {"geometry_original_wkt", "extra", "source_row"} & set(props)
    schema = get(ogc, "/ogc/collections/violations/schema").json()
    inner = schema["properties"]["properties"]["properties"]
    assert inner["year_built"]["type"] == "integer" and "fingerprint" not in inner
    assert inner["fine_vnd"]["type"] == "number"  # đồng overflow the 32-bit fields GDAL makes
    # cases are points and polygons in one layer (GEOMETRY): any GeoJSON geometry object
    assert schema["properties"]["geometry"] == {"type": "object"}
    parcels = get(ogc, "/ogc/collections/parcels/schema").json()
    assert parcels["properties"]["geometry"]["$ref"].endswith("Polygon.json")


# --- items ------------------------------------------------------------------------------------
def test_items_page_through_every_parcel_with_next_links(ogc):
    store = store_frame(ogc, "parcels")
    res = get(ogc, "/ogc/collections/parcels/items?limit=400")
    assert res.headers["content-type"] == "application/geo+json"
    assert res.headers["content-crs"] == f"<{CRS84}>"
    seen: list[str] = []
    page = res.json()
    pages = 0
    while True:
        pages += 1
        assert page["numberMatched"] == len(store)
        assert page["numberReturned"] == len(page["features"])
        seen += [f["id"] for f in page["features"]]
        links = {link["rel"]: link["href"] for link in page["links"]}
        assert links["collection"] == "http://testserver/ogc/collections/parcels"
        if pages > 1:
            assert "prev" in links
        if "next" not in links:
            break
        assert parse_qs(urlsplit(links["next"]).query)["limit"] == ["400"]
        page = get(ogc, links["next"]).json()
    assert pages == -(-len(store) // 400)
    assert len(set(seen)) == len(seen)  # pages never overlap
    assert set(seen) == set(store["parcel_key"])
    # default page size, the maximum, and the last page
    assert get(ogc, "/ogc/collections/parcels/items").json()["numberReturned"] == 100
    big = get(ogc, "/ogc/collections/parcels/items?limit=50000").json()
    assert big["numberReturned"] == len(store)  # capped at 10 000, more than the sample has
    assert "limit=10000" in big["links"][0]["href"]
    last = get(ogc, f"/ogc/collections/parcels/items?offset={len(store) - 3}").json()
    assert last["numberReturned"] == 3 and "next" not in {x["rel"] for x in last["links"]}
    beyond = get(ogc, "/ogc/collections/parcels/items?offset=99999").json()
    assert beyond["numberReturned"] == 0 and beyond["features"] == []


def test_items_carry_stable_ids_and_no_internal_columns(ogc):
    parcels = get(ogc, "/ogc/collections/parcels/items?limit=5").json()["features"]
    for f in parcels:
        assert f["id"] == f["properties"]["parcel_key"]
        assert not {"geometry_original_wkt", "extra", "source_row"} & set(f["properties"])
        assert isinstance(f["properties"]["is_public"], bool)
        assert f["geometry"]["type"] == "MultiPolygon"
    parts = get(ogc, "/ogc/collections/clearance/items?limit=3").json()["features"]
    for f in parts:
        assert f["id"] == f"{f['properties']['project_id']}:{f['properties']['parcel_key']}"
        assert "rank" not in f["properties"]
    cases = get(ogc, "/ogc/collections/violations/items").json()["features"]
    assert all(f["id"] == f["properties"]["case_id"] for f in cases)
    assert all("fingerprint" not in f["properties"] for f in cases)
    assert "owner_name" in cases[0]["properties"]  # signed-in readers see owners
    wards = get(ogc, "/ogc/collections/wards/items").json()["features"]
    assert [f["id"] for f in wards] == sorted(store_frame(ogc, "wards")["ward_code"])


def test_property_filters_are_pushed_down_and_typed(ogc):
    cases = store_frame(ogc, "violation_cases")
    ward = cases["ward_code"].mode()[0]
    want = cases[(cases["ward_code"] == ward) & (cases["status"] == "DETECTED")]
    res = get(ogc, f"/ogc/collections/violations/items?ward_code={ward}&status=DETECTED").json()
    assert res["numberMatched"] == len(want) > 0
    assert {f["id"] for f in res["features"]} == set(want["case_id"])
    next_link = get(ogc, f"/ogc/collections/violations/items?ward_code={ward}&limit=1").json()
    href = next(x["href"] for x in next_link["links"] if x["rel"] == "next")
    assert f"ward_code={ward}" in href  # filters survive paging
    parcels = store_frame(ogc, "parcels")
    res = get(ogc, "/ogc/collections/parcels/items?is_public=true&map_sheet=2&limit=1000").json()
    want = parcels[parcels["is_public"] & (parcels["map_sheet"] == 2)]
    assert res["numberMatched"] == len(want)
    assert {f["id"] for f in res["features"]} == set(want["parcel_key"])
    # empty values (a form's "all") do not filter
    assert get(ogc, "/ogc/collections/parcels/items?ward_code=").json()["numberMatched"] == \
        len(parcels)


BAD_PARAMETERS = [
    ("limit=0", "limit=0 must be at least 1"),
    ("limit=ten", "limit='ten' is not a whole number"),
    ("offset=-5", "offset=-5 must be at least 0"),
    ("map_sheet=two", "map_sheet='two' is not a integer value"),
    ("is_public=maybe", "is_public='maybe' is not a boolean value"),
    ("ward=09880", "unknown parameter 'ward'; filter on one of: parcel_key, ward_code"),
    ("geometry_original_wkt=x", "unknown parameter 'geometry_original_wkt'"),
    ("ward_code%22%20OR%201%3D1%20--=x", "unknown parameter 'ward_code\" OR 1=1 --'"),
    ("ward_code=1&ward_code=2", "ward_code is given twice"),
    ("bbox=1,2,3", "must be 4 numbers"),
    ("bbox=106,21,105,22", "the lower corner must come first"),
    ("bbox=105,21,106,95", "outside longitude"),
    ("bbox=a,b,c,d", "must be 4 numbers"),
    ("bbox-crs=" + CRS84, "bbox-crs needs a bbox"),
    ("bbox=1,2,3,4&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857",
     "bbox-crs 'http://www.opengis.net/def/crs/EPSG/0/3857' is not supported"),
    ("crs=http://www.opengis.net/def/crs/EPSG/0/3857",
     f"use one of {CRS84}, {EPSG4326}, {ZONE}"),
    ("f=xml", "f='xml' is not a format here"),
]


def test_bad_parameters_are_refused_with_a_message(ogc):
    for query, words in BAD_PARAMETERS:
        res = get(ogc, f"/ogc/collections/parcels/items?{query}")
        assert res.status_code == 400, (query, res.text)
        assert words in res.json()["message"], (query, res.json())


def test_filter_values_are_bound_never_spliced_into_sql(ogc):
    for value in ("09880' OR '1'='1", "09880\"; DROP TABLE parcels; --", "%", "' UNION SELECT"):
        res = get(ogc, "/ogc/collections/parcels/items", params={"ward_code": value})
        assert res.status_code == 200 and res.json()["numberMatched"] == 0
    assert get(ogc, "/ogc/collections/parcels/items").json()["numberMatched"] == \
        len(store_frame(ogc, "parcels"))


def _lonlat_box(frame, fraction: float = 0.3) -> list[float]:
    minx, miny, maxx, maxy = frame.total_bounds
    w, h = (maxx - minx) * fraction, (maxy - miny) * fraction
    return [minx + w, miny + h, minx + 2 * w, miny + 2 * h]


def test_bbox_selects_what_intersects_in_crs84_epsg4326_and_the_zone(ogc):
    zone_frame = store_frame(ogc, "parcels")
    lonlat = reproject(zone_frame, "EPSG:4326")
    box = _lonlat_box(lonlat)
    want = set(lonlat[lonlat.intersects(shapely.box(*box))]["parcel_key"])
    assert 20 < len(want) < len(lonlat)
    text = ",".join(f"{v:.9f}" for v in box)
    res = get(ogc, f"/ogc/collections/parcels/items?bbox={text}&limit=1000").json()
    assert res["numberMatched"] == len(want)
    assert {f["id"] for f in res["features"]} == want
    # EPSG:4326 boxes are latitude first
    swapped = ",".join(f"{v:.9f}" for v in (box[1], box[0], box[3], box[2]))
    res = get(ogc, "/ogc/collections/parcels/items",
              params={"bbox": swapped, "bbox-crs": EPSG4326, "limit": 1000}).json()
    assert {f["id"] for f in res["features"]} == want
    # a box in the store's VN-2000 zone, combined with a filter and paging
    zbox = _lonlat_box(zone_frame, 0.25)
    hit = zone_frame[zone_frame.intersects(shapely.box(*zbox)) & (zone_frame["land_group"]
                                                                 == "agricultural")]
    res = get(ogc, "/ogc/collections/parcels/items", params={
        "bbox": ",".join(map(str, zbox)), "bbox-crs": ZONE, "land_group": "agricultural",
        "limit": 7}).json()
    assert res["numberMatched"] == len(hit) > 7 and res["numberReturned"] == 7
    # a box far from the district finds nothing; a six-number box (with heights) works
    assert get(ogc, "/ogc/collections/parcels/items?bbox=0,0,1,1").json()["numberMatched"] == 0
    six = f"{box[0]},{box[1]},0,{box[2]},{box[3]},100"
    assert get(ogc, f"/ogc/collections/parcels/items?bbox={six}").json()["numberMatched"] == \
        len(want)


def test_crs_parameter_gives_lonlat_latlon_or_the_vn2000_zone(ogc):
    url = "/ogc/collections/parcels/items/09880-1-2"
    zone_geom = store_frame(ogc, "parcels").set_index("parcel_key").loc["09880-1-2", "geometry"]
    lonlat_geom = reproject(store_frame(ogc, "parcels").set_index("parcel_key").loc[["09880-1-2"]],
                            "EPSG:4326").geometry.iloc[0]
    res = get(ogc, url)
    assert res.headers["content-crs"] == f"<{CRS84}>"
    crs84 = shapely.geometry.shape(res.json()["geometry"])
    assert shapely.hausdorff_distance(crs84, lonlat_geom) < 2e-8  # pinned EPSG:6960, ~1 mm
    assert 105 < crs84.centroid.x < 107 and 20 < crs84.centroid.y < 22
    res = get(ogc, url, params={"crs": EPSG4326})
    assert res.headers["content-crs"] == f"<{EPSG4326}>"
    latlon = shapely.geometry.shape(res.json()["geometry"])
    assert shapely.hausdorff_distance(
        shapely.transform(latlon, lambda c: c[:, ::-1]), crs84) < 1e-12
    res = get(ogc, url, params={"crs": ZONE})
    assert res.headers["content-crs"] == f"<{ZONE}>"
    zone = shapely.geometry.shape(res.json()["geometry"])
    assert shapely.hausdorff_distance(zone, zone_geom) < 0.001
    # lists take the same parameter; the shorthand EPSG:5897 names the same CRS
    page = get(ogc, "/ogc/collections/parcels/items?crs=EPSG:5897&limit=2")
    assert page.headers["content-crs"] == f"<{ZONE}>"
    x = page.json()["features"][0]["geometry"]["coordinates"][0][0][0][0]
    assert 500_000 < x < 700_000
    res = get(ogc, url, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/32648"})
    assert res.status_code == 400 and ZONE in res.json()["message"]


def test_single_items_by_their_stable_id(ogc):
    res = get(ogc, "/ogc/collections/parcels/items/09880-1-2")
    assert res.status_code == 200 and res.headers["content-type"] == "application/geo+json"
    f = res.json()
    assert f["type"] == "Feature" and f["id"] == "09880-1-2"
    assert f["properties"]["parcel_key"] == "09880-1-2"
    assert {x["rel"] for x in f["links"]} == {"self", "alternate", "collection"}
    part = get(ogc, "/ogc/collections/clearance/items?limit=1").json()["features"][0]
    again = get(ogc, f"/ogc/collections/clearance/items/{part['id']}").json()
    assert again["id"] == part["id"] and again["properties"] == part["properties"]
    case = get(ogc, "/ogc/collections/violations/items/VP-2026-00001").json()
    assert case["properties"]["case_id"] == "VP-2026-00001"
    ward = get(ogc, "/ogc/collections/wards/items/09880").json()
    assert ward["properties"]["ward_code"] == "09880"
    for missing in ("/ogc/collections/parcels/items/09880-999-999",
                    "/ogc/collections/clearance/items/no-colon",
                    "/ogc/collections/parcels/items/fid-999999",
                    "/ogc/collections/nothing/items/1"):
        res = get(ogc, missing)
        assert res.status_code == 404 and "no " in res.json()["message"], missing
    assert get(ogc, "/ogc/collections/parcels/items/09880-1-2?limit=3").status_code == 400


def test_features_without_an_id_value_get_their_row_number(writable):
    write_sql(writable, "buildings", "UPDATE buildings SET building_id = NULL WHERE fid = 1")
    first = get(writable, "/ogc/collections/buildings/items?limit=1").json()["features"][0]
    assert first["id"] == "fid-1"
    assert get(writable, "/ogc/collections/buildings/items/fid-1").json()["id"] == "fid-1"


def test_a_flagged_point_case_is_served_as_a_point(writable):
    from gis.cli import cli

    parcel = store_frame(writable, "parcels").geometry.iloc[0].representative_point()
    res = CliRunner(env={"GIS_STORE": str(writable.store), "GIS_DATA_DIR": str(writable.data_dir),
                         "GIS_CATALOG": str(ROOT / "layers")}).invoke(cli, [
        "violations", "flag", "--kind", "encroachment_public_land", "--point", str(parcel.x),
        str(parcel.y), "--notes", "Lấn chiếm vỉa hè", "--who", "tester"])
    assert res.exit_code == 0, res.output
    cases = get(writable, "/ogc/collections/violations/items?source=inspector").json()
    assert cases["numberMatched"] == 1
    case = cases["features"][0]
    assert case["geometry"]["type"] == "Point" and case["properties"]["notes"] == "Lấn chiếm vỉa hè"
    zone = get(writable, f"/ogc/collections/violations/items/{case['id']}?crs={ZONE}").json()
    assert zone["geometry"]["coordinates"] == pytest.approx([parcel.x, parcel.y], abs=0.001)
    assert get(writable, f"/ogc/collections/violations/items/{case['id']}?f=html").status_code == 200


def test_reads_see_the_latest_writes(writable):
    url = "/ogc/collections/violations/items?status=VERIFYING"
    assert get(writable, url).json()["numberMatched"] == 0
    write_sql(writable, "violation_cases",
              "UPDATE violation_cases SET status = 'VERIFYING' WHERE case_id = ?",
              ("VP-2026-00002",))
    assert [f["id"] for f in get(writable, url).json()["features"]] == ["VP-2026-00002"]


def test_public_read_never_shows_personal_data_to_anonymous_readers(tmp_path, clearance_store,
                                                                    monkeypatch):
    svc = make_service(tmp_path, clearance_store, monkeypatch, public_read=True)
    anon = svc.client.get("/ogc/collections/parcels/items?limit=3")
    assert anon.status_code == 200
    assert all("owner_name" not in f["properties"] for f in anon.json()["features"])
    one = svc.client.get("/ogc/collections/parcels/items/09880-1-2").json()
    assert "owner_name" not in one["properties"] and one["properties"]["land_use"]
    cases = svc.client.get("/ogc/collections/violations/items").json()["features"]
    assert cases and all(not {"owner_name", "notes", "inspector"} & set(f["properties"])
                         for f in cases)
    assert "owner_name" not in svc.client.get(
        "/ogc/collections/parcels/queryables").json()["properties"]
    probe = svc.client.get("/ogc/collections/parcels/items?owner_name=x")
    assert probe.status_code == 400  # no guessing owners through filters either
    html = svc.client.get("/ogc/collections/parcels/items/09880-1-2?f=html").text
    owner = store_frame(svc, "parcels").set_index("parcel_key").loc["09880-1-2", "owner_name"]
    assert owner not in html
    # a signed-in viewer sees them
    signed = get(svc, "/ogc/collections/parcels/items/09880-1-2").json()
    assert signed["properties"]["owner_name"] == owner


# --- formats and HTML -------------------------------------------------------------------------
def test_format_negotiation(ogc):
    assert get(ogc, "/ogc/collections").headers["content-type"].startswith("application/json")
    html = get(ogc, "/ogc/collections", headers={"Accept": "text/html,*/*;q=0.8"})
    assert html.headers["content-type"].startswith("text/html")
    json_anyway = get(ogc, "/ogc/collections?f=json", headers={"Accept": "text/html"})
    assert json_anyway.headers["content-type"].startswith("application/json")
    geo = get(ogc, "/ogc/collections/wards/items",
              headers={"Accept": "application/geo+json, application/json"})
    assert geo.headers["content-type"] == "application/geo+json"


def test_html_pages_for_planners(ogc):
    landing = get(ogc, "/ogc?f=html")
    assert landing.status_code == 200
    for text in ("Dịch vụ dữ liệu OGC API – Features", "Thửa đất", "Mở trong QGIS",
                 "http://testserver/ogc", "Phường, xã"):
        assert text in landing.text
    assert '<link rel="stylesheet" href="/static/ogc.css">' in landing.text
    collection = get(ogc, "/ogc/collections/clearance?f=html").text
    assert "Phần thửa đất trong dự án" in collection and ZONE in collection
    items = get(ogc, "/ogc/collections/violations/items?f=html&status=DETECTED&limit=2").text
    assert "Vụ việc vi phạm đất đai" in items and "Xây dựng trên đất nông nghiệp" in items
    assert 'rel="next"' in items and "Trang sau" in items
    assert ('data-src="http://testserver/ogc/collections/violations/items?status=DETECTED&amp;'
            'limit=2&amp;f=json"') in items
    assert '<option value="DETECTED" selected>Phát hiện</option>' in items
    english = get(ogc, "/ogc/collections/parcels/items?f=html&lang=en&limit=5").text
    assert "Land use" in english and "Next ›" in english and "Features 1–5 of 1490" in english
    assert "Agricultural land" in english  # land groups named as the map legend names them
    item = get(ogc, "/ogc/collections/parcels/items/09880-1-2?f=html").text
    assert "Thửa đất: 09880-1-2" in item and "Diện tích" in item and "/static/ogc.js" in item
    missing = get(ogc, "/ogc/collections/parcels/items/nope?f=html")
    assert missing.status_code == 404 and "no feature &#39;nope&#39;" in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    bad = get(ogc, "/ogc/collections/parcels/items?f=html&limit=x")
    assert bad.status_code == 400 and "is not a whole number" in bad.text


def test_html_escapes_what_the_data_says(writable):
    evil = '<script>window.pwned=1</script><img src=x onerror="alert(1)">'
    write_sql(writable, "parcels",
              "UPDATE parcels SET owner_name = ?, address = ? WHERE parcel_key = ?",
              (evil, evil, "09880-1-2"))
    page = get(writable, "/ogc/collections/parcels/items/09880-1-2?f=html").text
    assert evil not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    listing = get(writable, "/ogc/collections/parcels/items?f=html&parcel_key=09880-1-2").text
    assert evil not in listing and "&lt;img src=x" in listing
    raw = get(writable, "/ogc/collections/parcels/items/09880-1-2").json()
    assert raw["properties"]["owner_name"] == evil  # data stays data in JSON


@pytest.mark.geopackage_only("a store file that is not there; a database store is there by "
                              "definition (an unreachable one is tests/store's clear error)")
def test_a_missing_store_is_a_clear_503(writable):
    writable.store.unlink()
    res = get(writable, "/ogc/collections")
    assert res.status_code == 503 and "load data first" in res.json()["message"]
    assert str(writable.store.parent) not in res.text  # no server paths for clients
