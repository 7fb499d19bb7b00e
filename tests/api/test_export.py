"""Planners' exports through the API, read back by GDAL's own ogrinfo (Debian gdal-bin): every
format opens with the right feature count and CRS, filters select what the store says, the
shapefile zip carries .prj/.cpg and Vietnamese text, roles, messages, no temp files left."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from gis.api.exports.formats import SHP_EXTRA_NAMES
from gis.io.write import SHP_FIELD_NAMES
from tests.api.conftest import make_service, start_server
from tests.browser import guard, launch

OGRINFO = shutil.which("ogrinfo")
needs_ogrinfo = pytest.mark.skipif(OGRINFO is None, reason="GDAL's ogrinfo (gdal-bin) not installed")


@pytest.fixture(scope="module")
def shared(tmp_path_factory, sample_store):  # type: ignore[no-untyped-def]
    """One service for the tests that only read (accounts are slow to create: argon2)."""
    with pytest.MonkeyPatch.context() as mp:
        yield make_service(tmp_path_factory.mktemp("export"), sample_store, mp)


@pytest.fixture(scope="module")
def shared_server(shared):  # type: ignore[no-untyped-def]
    """A real uvicorn server over the shared service's store (for httpx and Chromium)."""
    srv = start_server(shared)
    yield srv
    srv.stop()


def _store(service):  # type: ignore[no-untyped-def]
    from gis.store import open_store

    return open_store(service.store)


def _download(service, url: str, tmp_path: Path, role: str = "planner") -> Path:  # type: ignore[no-untyped-def]
    res = service.client.get(url, headers=service.auth(role))
    assert res.status_code == 200, (url, res.status_code, res.text[:300])
    disposition = res.headers["content-disposition"]
    name = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", name), name
    out = tmp_path / name
    out.write_bytes(res.content)
    return out


def _ogrinfo(path: Path) -> str:
    res = subprocess.run([OGRINFO, "-so", "-al", str(path)], capture_output=True, text=True,
                         timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout


def _counts(info: str) -> list[int]:
    return [int(n) for n in re.findall(r"Feature Count: (\d+)", info)]


def _ward_parcels(service, ward: str) -> set[str]:  # type: ignore[no-untyped-def]
    parcels = _store(service).read("parcels", columns=["parcel_key", "ward_code"])
    return set(parcels.loc[parcels["ward_code"] == ward, "parcel_key"])


FORMATS = [("shp", "vn2000", ".shp.zip", "application/zip"),
           ("shp", "wgs84", ".shp.zip", "application/zip"),
           ("gpkg", "vn2000", ".gpkg", "application/geopackage+sqlite3"),
           ("gpkg", "wgs84", ".gpkg", "application/geopackage+sqlite3"),
           ("geojson", "wgs84", ".geojson", "application/geo+json"),
           ("geojson", "vn2000", ".geojson", "application/geo+json"),
           ("kml", "wgs84", ".kml", "application/vnd.google-earth.kml+xml"),
           ("csv", "vn2000", ".csv", "text/csv; charset=utf-8"),
           ("csv", "wgs84", ".csv", "text/csv; charset=utf-8"),
           ("xlsx", "vn2000", ".xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]


@needs_ogrinfo
@pytest.mark.parametrize(("fmt", "crs", "suffix", "media"), FORMATS)
def test_every_format_opens_in_ogrinfo_with_count_and_crs(shared, tmp_path, fmt, crs, suffix,
                                                          media):
    expected = _ward_parcels(shared, "09880")
    res = shared.client.get(f"/api/export/parcels?format={fmt}&crs={crs}&ward=09880",
                            headers=shared.auth("planner"))
    assert res.status_code == 200, res.text[:300]
    assert res.headers["content-type"] == media
    name = re.search(r'filename="([^"]+)"', res.headers["content-disposition"]).group(1)
    assert name == f"parcels_09880_{crs}{suffix}"
    assert res.headers["x-feature-count"] == str(len(expected))
    out = tmp_path / name
    out.write_bytes(res.content)
    info = _ogrinfo(out)
    assert _counts(info) == [len(expected)], info[:500]
    if fmt in ("csv", "xlsx"):  # no CRS in the file: the geometry is WKT in the chosen CRS
        frame = pyogrio.read_dataframe(out, read_geometry=False)
        # Vietnamese headers by default (lang=en for English), ward names beside codes
        wkt = frame["WKT" if fmt == "csv" else "Hình học (WKT)"].iloc[0]
        x, y = shapely.from_wkt(wkt).representative_point().coords[0]
        assert (100 < x < 110 and 20 < y < 22) if crs == "wgs84" else (x > 1e5 and y > 2e6)
        assert set(frame["Thửa (xã-tờ-thửa)"]) == expected
        assert "Tên phường/xã" in frame.columns
        return
    if crs == "wgs84":
        assert 'GEOGCRS["WGS 84"' in info and "PROJCRS" not in info
    else:  # the zone by name and by its parameters (a .prj real software reads)
        assert "VN-2000" in info and re.search(r"Transverse Mercator|Transverse_Mercator", info)
        assert re.search(r'(Longitude of natural origin|central_meridian)",105', info), info
    keys = set(pyogrio.read_dataframe(out, columns=["parcel_key"], read_geometry=False)
               ["parcel_key"])
    assert keys == expected


@needs_ogrinfo
def test_wgs84_uses_the_pinned_vn2000_transformation(shared, tmp_path):
    from gis import crs as crsmod

    out = _download(shared, "/api/export/parcels?format=geojson&ward=09883", tmp_path)
    got = pyogrio.read_dataframe(out).sort_values("parcel_key").reset_index(drop=True)
    src = _store(shared).read("parcels", columns=["parcel_key", "ward_code"])
    src = src[src["ward_code"] == "09883"].sort_values("parcel_key").reset_index(drop=True)
    want = crsmod.transform_geometries(np.asarray(src.geometry.values, dtype=object),
                                       src.crs, "EPSG:4326")
    a = shapely.get_coordinates(np.asarray(got.geometry.values, dtype=object))
    b = shapely.get_coordinates(want)
    assert a.shape == b.shape and np.abs(a - b).max() < 1e-7


@needs_ogrinfo
def test_shapefile_zip_has_prj_cpg_field_map_and_vietnamese_text(shared, tmp_path):
    out = _download(shared, "/api/export/parcels?format=shp&ward=09886", tmp_path)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        stem = "parcels_09886_vn2000"
        assert {f"{stem}.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")} <= names
        assert zf.read(f"{stem}.cpg").decode() == "UTF-8"
        prj = zf.read(f"{stem}.prj").decode()
        assert "TOWGS84[-191.90441429" in prj and "VN-2000" in prj
        fields = zf.read(f"{stem}_fields.txt").decode("utf-8")
        assert "land_use_codes -> lu_codes" in fields and "geometry_original_wkt" in fields
    got = pyogrio.read_dataframe(f"/vsizip/{out}")
    assert all(len(c) <= 10 for c in got.columns if c != "geometry")
    assert {"lu_codes", "area_rec", "src_row"} <= set(got.columns)
    src = _store(shared).read("parcels")
    src = src[src["ward_code"] == "09886"].set_index("parcel_key")
    owners = got.set_index("parcel_key")["owner_name"]
    assert (owners == src.loc[owners.index, "owner_name"]).all()
    assert owners.str.contains("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỷỹý]",
                               regex=True).any()
    text = subprocess.run([OGRINFO, "-al", "-q", str(out)], capture_output=True, text=True,
                          check=True).stdout
    assert str(src["owner_name"].dropna().iloc[0]) in text  # GDAL reads the .cpg too


@needs_ogrinfo
def test_violations_with_points_and_polygons_give_two_shapefiles(service, tmp_path):
    from gis.violations import flag

    store = _store(service)
    parcel = store.read("parcels", columns=["parcel_key", "ward_code"]).iloc[0]
    point = parcel.geometry.representative_point()
    flag(store, point, kind="encroachment_public_land", who="test", source="inspector")
    total = len(store.read("violation_cases"))
    out = _download(service, "/api/export/violations?format=shp", tmp_path)
    info = _ogrinfo(out)
    assert "violations_vn2000_points" in info and "violations_vn2000_polygons" in info
    assert sum(_counts(info)) == total and 1 in _counts(info)
    fields = pyogrio.read_info(f"/vsizip/{out}", layer="violations_vn2000_points")["fields"]
    assert "occurred" in fields and all(len(f) <= 10 for f in fields)


@needs_ogrinfo
def test_clearance_layer_shapefile_maps_long_names(shared, tmp_path):
    from gis.clearance import run_clearance

    pairs = run_clearance(_store(shared), write_back=False).overlay.pairs
    out = _download(shared, "/api/export/clearance?format=shp&project=DA-003", tmp_path)
    info = _ogrinfo(out)
    assert _counts(info) == [int((pairs["project_id"] == "DA-003").sum())]
    fields = pyogrio.read_info(out)["fields"]
    assert {"approvl_rc", "rec_this_y", "status"} <= set(fields)
    names = {**SHP_FIELD_NAMES, **SHP_EXTRA_NAMES}
    assert len(set(names.values())) == len(names) and max(map(len, names.values())) <= 10
    assert all(SHP_FIELD_NAMES[k] == v for k, v in SHP_EXTRA_NAMES.items() if k in SHP_FIELD_NAMES)


def _keys(service, url: str, key: str = "parcel_key") -> list[str]:  # type: ignore[no-untyped-def]
    res = service.client.get(url, headers=service.auth("planner"))
    assert res.status_code == 200, (url, res.text[:300])
    frame = pyogrio.read_dataframe(io.BytesIO(res.content), read_geometry=False)
    assert res.headers["x-feature-count"] == str(len(frame))
    return list(frame[key]) if len(frame) else []


def test_filters_select_what_the_store_holds(shared):
    from gis.clearance import run_clearance

    store = _store(shared)
    parcels = store.read("parcels", columns=["parcel_key", "ward_code"])
    run = run_clearance(store, write_back=False)
    pairs = run.progress.parcels
    total = len(parcels)
    assert len(_keys(shared, "/api/export/parcels?format=gpkg")) == total
    for ward in ("09880", "09892"):
        got = _keys(shared, f"/api/export/parcels?format=gpkg&ward={ward}")
        assert sorted(got) == sorted(parcels.loc[parcels["ward_code"] == ward, "parcel_key"])
    in_project = set(pairs.loc[pairs["project_id"] == "DA-003", "parcel_key"])
    got = _keys(shared, "/api/export/parcels?format=gpkg&project=DA-003")
    assert set(got) == in_project and len(got) == len(in_project) < total
    paid = set(pairs.loc[pairs["status"] == "PAID", "parcel_key"])
    assert paid and set(_keys(shared, "/api/export/parcels?format=gpkg&status=paid")) == paid
    both = set(pairs.loc[(pairs["status"] == "NOT_STARTED") & (pairs["project_id"] == "DA-003")
                         & (pairs["ward_code"] == "09886"), "parcel_key"])
    got = _keys(shared, "/api/export/parcels?format=gpkg&status=NOT_STARTED&project=DA-003"
                         "&ward=09886")
    assert set(got) == both
    # bbox in the store's zone: interiors meeting the box, as shapely says
    x0, y0, _, _ = parcels.total_bounds
    box = (x0 + 100, y0 + 150, x0 + 300, y0 + 320)
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    poly = shapely.box(*box)
    hit = shapely.intersects(poly, geoms) & ~shapely.touches(poly, geoms)
    url = "/api/export/parcels?format=gpkg&bbox-crs=vn2000&bbox=" + ",".join(map(str, box))
    assert sorted(_keys(shared, url)) == sorted(parcels.loc[hit, "parcel_key"])
    # the same box in WGS 84 (the default bbox CRS) selects about the same parcels
    from gis import crs as crsmod

    lonlat = crsmod.transform_geometries(np.array([poly], dtype=object), parcels.crs,
                                         "EPSG:4326")[0].bounds
    wgs = _keys(shared, "/api/export/parcels?format=gpkg&bbox=" + ",".join(map(str, lonlat)))
    assert set(parcels.loc[hit, "parcel_key"]) <= set(wgs) and len(wgs) < 1.3 * hit.sum() + 10


@pytest.mark.parametrize("query", [
    "parcels?ward=09883", "parcels?project=DA-002&status=PAID",
    "parcels?bbox=105.866,21.062,105.869,21.066", "buildings?ward=09889",
    "buildings?project=DA-003&bbox=105.86,21.05,105.88,21.07", "violations?status=DETECTED",
    "clearance?ward=09886", "parcels?bbox=0,0,1,1"])
def test_streamed_geojson_selects_what_the_other_formats_select(shared, query):
    """GeoJSON is written batch by batch from a stream; the selection is the same."""
    key = {"buildings": "building_id", "violations": "case_id"}.get(query.split("?")[0],
                                                                     "parcel_key")
    layer, _, params = query.partition("?")
    streamed = _keys(shared, f"/api/export/{layer}?format=geojson&{params}", key)
    whole = _keys(shared, f"/api/export/{layer}?format=gpkg&crs=wgs84&{params}", key)
    assert sorted(streamed) == sorted(whole)
    assert len(whole) > 0 or params.startswith("bbox=0")


def test_filters_on_other_layers(shared):
    store = _store(shared)
    cases = store.read("violation_cases")
    ward = str(cases["ward_code"].iloc[0])
    got = _keys(shared, f"/api/export/violations?format=gpkg&ward={ward}", "case_id")
    assert sorted(got) == sorted(cases.loc[cases["ward_code"] == ward, "case_id"])
    assert len(_keys(shared, "/api/export/violations?format=gpkg&status=DETECTED",
                     "case_id")) == int((cases["status"] == "DETECTED").sum())
    assert _keys(shared, "/api/export/violations?format=gpkg&status=CLOSED", "case_id") == []
    projects = store.read("projects")
    got = _keys(shared, "/api/export/projects?format=gpkg&ward=09889", "project_id")
    assert sorted(got) == sorted(projects.loc[projects["ward_codes"].str.contains("09889"),
                                              "project_id"])
    wards = store.read("wards").set_index("ward_code")
    buildings = store.read("buildings")
    shape = wards.loc["09883"].geometry
    geoms = np.asarray(buildings.geometry.values, dtype=object)
    inside = shapely.intersects(shape, geoms) & ~shapely.touches(shape, geoms)
    got = _keys(shared, "/api/export/buildings?format=gpkg&ward=09883", "building_id")
    assert sorted(got) == sorted(buildings.loc[inside, "building_id"]) and 0 < len(got) < len(buildings)


def test_roles(shared):
    url = "/api/export/wards?format=geojson"
    res = shared.client.get(url)
    assert res.status_code == 401 and res.headers["www-authenticate"].startswith("Basic")
    for role in ("viewer", "inspector"):
        res = shared.client.get(url, headers=shared.auth(role))
        assert res.status_code == 403 and "export" in res.json()["message"]
    for role in ("planner", "admin"):
        assert shared.client.get(url, headers=shared.auth(role)).status_code == 200


#: format, crs, bbox and bbox-crs are refused by the typed dependencies (400); the filters by
#: the export's selection (422), or 404 for what the store does not hold
@pytest.mark.parametrize(("query", "status", "words"), [
    ("nope?format=shp", 404, "no layer 'nope'"),
    ("parcels?format=dwg", 400, "unknown format 'dwg'"),
    ("parcels?crs=EPSG:3857", 400, "EPSG:3857"),
    ("parcels?format=kml&crs=vn2000", 422, "KML is always WGS 84"),
    ("parcels?ward=9880", 422, "5-digit"),
    ("parcels?ward=99999", 404, "no ward '99999'"),
    ("parcels?project=DA-999", 404, "no project 'DA-999'"),
    ("parcels?project=x%27%20or%201=1", 422, "not a project id"),
    ("parcels?status=FINISHED", 422, "not a parcels status"),
    ("wards?status=PAID", 422, "wards has no status"),
    ("parcels?bbox=1,2,3", 400, "must be 4 numbers"),
    ("parcels?bbox=5,2,3,4", 400, "min must be below max"),
    ("parcels?bbox=105,21,106,22&bbox-crs=EPSG:2000", 400, "bbox-crs"),
])
def test_bad_requests_answer_with_a_message(shared, query, status, words):
    res = shared.client.get(f"/api/export/{query}", headers=shared.auth("planner"))
    assert res.status_code == status, res.text
    body = res.json()
    assert words in body["message"] and "Traceback" not in res.text
    assert str(shared.store) not in res.text


def _leftovers(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and (
        ".exports" in p.parts or p.name.startswith((".export", ".xlsx", "tmp"))))


def test_no_temporary_files_are_left(service):
    before = sorted(p.relative_to(service.data_dir) for p in service.data_dir.rglob("*"))
    for query in ("parcels?format=shp", "parcels?format=xlsx&ward=09880", "wards?format=kml",
                  "parcels?format=gpkg&bbox=0,0,1,1", "parcels?format=csv&project=DA-999",
                  "parcels?format=dwg", "clearance?format=geojson"):
        service.client.get(f"/api/export/{query}", headers=service.auth("planner"))
    assert _leftovers(service.data_dir) == []
    after = sorted(p.relative_to(service.data_dir) for p in service.data_dir.rglob("*")
                   if ".exports" not in p.parts)
    assert [p for p in after if p not in before] == []


@needs_ogrinfo
def test_large_export_streams_in_chunks_and_cleans_up(shared_server, tmp_path):
    server = shared_server
    import httpx

    svc = server.service
    out = tmp_path / "parcels.geojson"
    chunks = 0
    with httpx.stream("GET", f"{server.url}/api/export/parcels?format=geojson",
                      headers=svc.auth("planner"), timeout=60) as res:
        assert res.status_code == 200
        size = int(res.headers["content-length"])
        with out.open("wb") as fh:
            for chunk in res.iter_raw():
                fh.write(chunk)
                chunks += 1
    assert out.stat().st_size == size > 1_000_000 and chunks > 4
    assert _counts(_ogrinfo(out)) == [len(_store(svc).read("parcels", columns=["parcel_key"]))]
    assert _leftovers(svc.data_dir) == []


def test_exports_page(shared):
    c = shared.client
    res = c.get("/exports", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"].startswith("/login")
    assert c.get("/exports", headers=shared.auth("viewer")).status_code == 403
    res = c.get("/exports?layer=parcels&format=shp&crs=wgs84&ward=09880&status=PAID"
                "&bbox=%3Cscript%3E", headers=shared.auth("planner"))
    assert res.status_code == 200
    html = res.text
    assert "/api/export/parcels?format=shp&amp;crs=wgs84&amp;ward=09880&amp;status=PAID" in html
    assert "<script>" not in html.replace('<script src="/static/exports.js"></script>', "")
    for model, short in {**SHP_FIELD_NAMES, **SHP_EXTRA_NAMES}.items():
        assert f"<code>{model}</code></td><td><code>{short}</code>" in html
    assert "Phường Vĩnh Hưng" in html and "DA-001" in html and "Tên trong Shapefile" in html
    assert "Shapefile field names" in c.get("/exports?lang=en",
                                            headers=shared.auth("admin")).text


CHROMIUM = shutil.which("chromium")


@needs_ogrinfo
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
def test_exports_page_in_a_browser_downloads_a_file(shared_server, tmp_path):
    server = shared_server
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    from tests.api.conftest import PASSWORD

    outside: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p, CHROMIUM)
        try:
            page = browser.new_page(accept_downloads=True)

            guard(page, outside, errors, ("http://127.0.0.1", "http://localhost", "file:", "data:", "blob:", "about:"))
            page.goto(f"{server.url}/login?next=/exports")
            page.fill("input[name=name]", "planner")
            page.fill("input[name=password]", PASSWORD.format(role="planner"))
            page.click("form button")
            page.wait_for_url("**/exports")
            page.select_option("select[name=layer]", "wards")
            page.select_option("select[name=format]", "kml")
            page.select_option("select[name=ward]", "09883")
            assert page.inner_text("#export-url") == "/api/export/wards?format=kml&ward=09883"
            assert page.evaluate("""() => Array.from(document.querySelectorAll(
                'select[name=status] option[data-layer]')).every(o => o.disabled)""")
            page.select_option("select[name=layer]", "violations")
            page.select_option("select[name=status]", "DETECTED")
            page.select_option("select[name=layer]", "wards")  # status no longer applies
            assert page.input_value("select[name=status]") == ""
            with page.expect_download() as info:
                page.click("#export-link")
            download = info.value
            assert download.suggested_filename == "wards_09883_wgs84.kml"
            target = tmp_path / download.suggested_filename
            download.save_as(target)
        finally:
            browser.close()
    assert _counts(_ogrinfo(target)) == [1]
    assert errors == [] and outside == []


def test_exports_beside_inspectors_writing_in_place(service):
    """Exports read the store with GDAL directly, under the store's read lock: flags written
    in place meanwhile (same process) all land, and the file stays sound."""
    import threading

    from gis.violations import flag

    store = _store(service)
    parcels = store.read("parcels", columns=["parcel_key"]).geometry.head(6)
    before = len(store.read("violation_cases"))
    failures: list[str] = []

    def flags() -> None:
        try:
            for geom in parcels:
                flag(store, geom.representative_point(), kind="encroachment_public_land",
                     who="test")
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    writer = threading.Thread(target=flags)
    writer.start()
    for query in ("parcels?format=geojson", "violations?format=gpkg", "parcels?format=csv",
                  "buildings?format=geojson&ward=09883"):
        res = service.client.get(f"/api/export/{query}", headers=service.auth("planner"))
        assert res.status_code == 200, res.text[:300]
    writer.join(timeout=120)
    assert failures == []
    assert len(store.read("violation_cases")) == before + len(parcels)
    if hasattr(store, "vacuum_check"):  # the GeoPackage file's own check
        assert store.vacuum_check()
