"""Administrators' uploads: a file is stored apart, validated, shown, then committed or discarded;
the ingest log names the administrator. Real files: the sample district's shapefile (zipped),
GeoPackage and clearance sheet; a zip with a ``../`` member; a renamed file; an oversized one."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pyogrio
import pytest

from gis.store import open_store
from tests.api.conftest import PASSWORD, empty_store, layer_count, make_service, store_state
from tests.browser import guard, launch


def _src(sample_store: Path) -> Path:
    """The sample district's source files (written by the sample_store fixture)."""
    return sample_store.parent / "src"


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _shapefile_zip(folder: Path, stem: str, inner: str = "") -> bytes:
    return _zip({f"{inner}{p.name}": p.read_bytes() for p in sorted(folder.glob(f"{stem}.*"))})


@pytest.fixture
def one_ward_fewer(sample_store: Path, tmp_path: Path) -> tuple[bytes, str, int]:
    """The parcels of the first ward less 40 of them, as a zipped shapefile: (zip, ward, n)."""
    parcels = pyogrio.read_dataframe(_src(sample_store) / "parcels.shp")
    ward = min(parcels["MaXa"].unique())
    subset = parcels[parcels["MaXa"] == ward].iloc[40:]
    out = tmp_path / "shp"
    out.mkdir()
    subset.to_file(out / "thua_dat.shp", engine="pyogrio", encoding="UTF-8")
    return _shapefile_zip(out, "thua_dat", inner="Xa 1/"), ward, len(subset)


def _uploads_dir(service) -> Path:  # type: ignore[no-untyped-def]
    return service.data_dir / "uploads"


def _leftovers(service) -> list[str]:  # type: ignore[no-untyped-def]
    folder = _uploads_dir(service)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _post(service, name: str, data: bytes, kind: str, role: str = "admin",
          **options: str):  # type: ignore[no-untyped-def]
    return service.client.post("/api/uploads", headers=service.auth(role),
                               files={"file": (name, data, "application/octet-stream")},
                               data={"kind": kind, **options})


# -- validate, then commit ------------------------------------------------------------------------
def test_zipped_shapefile_report_then_commit_changes_the_layer_and_logs_the_admin(
        service, one_ward_fewer):
    data, ward, n = one_ward_fewer
    store_before = store_state(service)
    parcels_before = layer_count(service, "parcels")
    res = _post(service, "Thửa đất xã 1.zip", data, "parcels")
    assert res.status_code == 201, res.text
    body = res.json()
    upload_id = body["id"]
    assert re.fullmatch(r"[0-9a-f]{16}", upload_id) and body["state"] == "pending"
    assert body["filename"] == "Thửa đất xã 1.zip" and body["uploaded_by"] == "admin"
    report = body["report"]
    assert report["rows"]["total"] == n == report["rows"]["ok"] + report["rows"]["kept_out"]
    assert report["source"]["path"] == "Thửa đất xã 1.zip"  # the client's name, not ours
    assert report["crs"]["source"].startswith("EPSG:5897")
    assert report["fields"]["fields"]["ward_code"]["source"] == "MaXa"
    assert report["preview"]["replaced_wards"] == [ward]
    assert report["preview"]["removed"] == 40  # the parcels left out of the file
    assert str(service.data_dir) not in res.text
    # nothing in the store yet, the file is kept under uploads/<id>/source.zip
    assert store_state(service) == store_before
    assert (_uploads_dir(service) / upload_id / "source.zip").read_bytes() == data
    # the report page, in Vietnamese
    page = service.client.get(f"/admin/uploads/{upload_id}", headers=service.auth("admin"))
    assert page.status_code == 200
    for text in ("Báo cáo", "Ánh xạ trường", "Hệ toạ độ", "Nạp vào kho dữ liệu", "Huỷ tải lên",
                 "Thửa đất xã 1.zip", "Nếu nạp, kho dữ liệu sẽ thay đổi"):
        assert text in page.text, text
    assert str(service.data_dir) not in page.text
    # commit: the ward's parcels are replaced, the ingest log names the admin
    res = service.client.post(f"/api/uploads/{upload_id}/commit", headers=service.auth("admin"))
    assert res.status_code == 200, res.text
    result = res.json()["result"]
    assert res.json()["state"] == "committed" and res.json()["committed_by"] == "admin"
    parcels_after = layer_count(service, "parcels")
    assert parcels_after == result["kept_other_wards"] + result["rows_loaded"]
    assert parcels_after == parcels_before - 40 and result["removed"] == 40
    last = open_store(str(service.store)).ingest_log().iloc[-1]
    assert (last["user"], last["kind"], int(last["rows_loaded"])) == \
        ("admin", "parcels", result["rows_loaded"])
    log = service.client.get("/api/uploads/log", headers=service.auth("admin")).json()
    assert log[0]["who"] == "admin" and log[0]["file"] == "Thửa đất xã 1.zip"
    assert log[0]["upload"] == upload_id and log[0]["removed"] == 40
    assert str(service.data_dir) not in str(log)
    # committed once only; a committed upload is not discarded
    assert service.client.post(f"/api/uploads/{upload_id}/commit",
                               headers=service.auth("admin")).status_code == 409
    assert service.client.delete(f"/api/uploads/{upload_id}",
                                 headers=service.auth("admin")).status_code == 409


def test_replace_all_and_strict_options(service, one_ward_fewer):
    data = one_ward_fewer[0]
    res = _post(service, "x.zip", data, "parcels", replace_all="true")
    assert res.status_code == 201 and res.json()["options"] == {"replace_all": True}
    assert res.json()["report"]["preview"]["replaced_wards"] is None
    res = service.client.post(f"/api/uploads/{res.json()['id']}/commit",
                              headers=service.auth("admin"))
    assert res.status_code == 200
    assert layer_count(service, "parcels") == \
        res.json()["result"]["rows_loaded"]
    assert _post(service, "x.zip", data, "clearance").status_code == 415  # a zip is no sheet
    assert _post(service, "x.zip", data, "parcels", known_on="2024-12-31").status_code == 422


def test_strict_refusal_leaves_the_upload_pending(service, sample_store):
    data = _shapefile_zip(_src(sample_store), "parcels")  # the sample plants bad rows
    res = _post(service, "parcels.zip", data, "parcels", strict="true")
    assert res.status_code == 201 and res.json()["report"]["rows"]["kept_out"] > 0
    before = store_state(service)
    res = service.client.post(f"/api/uploads/{res.json()['id']}/commit",
                              headers=service.auth("admin"))
    assert res.status_code == 422 and "--strict" in res.json()["message"]
    assert str(service.data_dir) not in res.text and "parcels.zip" in res.text
    assert store_state(service) == before


def test_clearance_sheet_with_known_on(service, sample_store):
    data = (_src(sample_store) / "clearance.xlsx").read_bytes()
    res = _post(service, "Tiến độ GPMB 2025.xlsx", data, "clearance", known_on="31/01/2025")
    assert res.status_code == 201, res.text
    report = res.json()["report"]
    assert res.json()["options"] == {"known_on": "2025-01-31"}
    assert report["rows"]["total"] == report["rows"]["ok"] + report["rows"]["kept_out"]
    assert report["rows"]["kept_out"] > 0 and report["columns"]["status"] == "Trạng thái"
    assert {c["rule"] for c in report["counts"]} >= {"bad_date", "unknown_status"}
    page = service.client.get(f"/admin/uploads/{res.json()['id']}?lang=vi",
                              headers=service.auth("admin")).text
    assert "Cột của bảng" in page and "Trạng thái không rõ" in page and "Ngày không hợp lệ" in page
    res = service.client.post(f"/api/uploads/{res.json()['id']}/commit",
                              headers=service.auth("admin"))
    assert res.status_code == 200, res.text
    assert res.json()["result"]["progress_refreshed"] is True
    last = open_store(str(service.store)).ingest_log().iloc[-1]
    assert (last["user"], last["kind"]) == ("admin", "clearance")
    # a sheet whose parcels the store lacks: the unmatched rows are listed
    csv = ("Mã dự án;Mã xã;Số tờ;Số thửa;Trạng thái\nDA-KHONG-CO;09880;99;999;Đã bàn giao mặt bằng\n"
           .encode())
    res = _post(service, "lạ.csv", csv, "clearance")
    assert res.status_code == 201, res.text
    unmatched = res.json()["report"]["unmatched"]
    assert {u["rule"] for u in unmatched} <= {"unknown_parcel", "unknown_project"} and unmatched
    # committing it: every row is kept aside, so nothing is written and the answer is a 422
    # carrying the per-row report (never a 503 from the store)
    before = store_state(service)
    res = service.client.post(f"/api/uploads/{res.json()['id']}/commit",
                              headers=service.auth("admin"))
    assert res.status_code == 422, res.text
    body = res.json()
    assert "nothing was written" in body["message"] and body["report"]["issues"]
    assert {i["rule"] for i in body["report"]["issues"]} & {"unknown_parcel", "unknown_project"}
    assert str(service.store) not in res.text
    assert store_state(service) == before


def test_geopackage_upload_then_discard_removes_the_files(service, sample_store):
    data = (_src(sample_store) / "wards.gpkg").read_bytes()
    res = _post(service, "ranh_gioi.gpkg", data, "wards")
    assert res.status_code == 201, res.text
    upload_id = res.json()["id"]
    assert res.json()["report"]["source"]["driver"] == "GPKG"
    assert (_uploads_dir(service) / upload_id).is_dir()
    listed = service.client.get("/api/uploads", headers=service.auth("admin")).json()
    assert [u["id"] for u in listed] == [upload_id] and "stored" not in listed[0]
    assert service.client.delete(f"/api/uploads/{upload_id}",
                                 headers=service.auth("admin")).status_code == 204
    assert _leftovers(service) == []
    assert service.client.get(f"/api/uploads/{upload_id}",
                              headers=service.auth("admin")).status_code == 404


def test_a_new_office_starts_from_an_empty_store(service, sample_store):
    """First install: no store yet; wards then parcels are loaded from the browser's API."""
    empty_store(service)
    src = _src(sample_store)
    assert service.client.get("/api/uploads/log", headers=service.auth("admin")).json() == []
    for kind, name, data in (("wards", "xa.gpkg", (src / "wards.gpkg").read_bytes()),
                             ("parcels", "thua.zip", _shapefile_zip(src, "parcels"))):
        res = _post(service, name, data, kind)
        assert res.status_code == 201, res.text
        res = service.client.post(f"/api/uploads/{res.json()['id']}/commit",
                                  headers=service.auth("admin"))
        assert res.status_code == 200, res.text
    log = service.client.get("/api/uploads/log", headers=service.auth("admin")).json()
    assert [(r["kind"], r["who"], r["file"]) for r in log] == \
        [("parcels", "admin", "thua.zip"), ("wards", "admin", "xa.gpkg")]
    assert layer_count(service, "parcels") == log[0]["rows_loaded"]


# -- refused before anything is kept ---------------------------------------------------------------
def test_path_traversal_zip_is_refused_and_nothing_is_written(service, sample_store):
    shp = _src(sample_store)
    data = _zip({"../../evil.shp": (shp / "parcels.shp").read_bytes(),
                 "../../evil.shx": (shp / "parcels.shx").read_bytes(),
                 "../../evil.dbf": (shp / "parcels.dbf").read_bytes()})
    before = store_state(service)
    res = _post(service, "evil.zip", data, "parcels")
    assert res.status_code == 400 and "path traversal" in res.json()["message"]
    assert _leftovers(service) == [] and store_state(service) == before
    assert not (service.data_dir.parent / "evil.shp").exists()
    assert str(service.data_dir) not in res.text


@pytest.mark.parametrize("name, data, kind, why", [
    ("thua.zip", b"%PDF-1.7 not a zip at all" * 100, "parcels", "not a zip archive"),
    ("thua.gpkg", b"PK\x03\x04 a zip named gpkg" * 100, "parcels", "not a GeoPackage"),
    ("sheet.xlsx", b"SQLite format 3\x00" + b"\x00" * 2000, "clearance", "not a zip archive"),
    ("sheet.csv", b"SQLite format 3\x00" + b"\x00" * 2000, "clearance", "not a text"),
    ("thua.shp", b"\x00\x00\x27\x0a" * 100, "parcels", "expected .zip or .gpkg"),
    ("docs.zip", _zip({"readme.txt": b"no layer here"}), "parcels", "holds no layer"),
])
def test_wrong_types_are_refused_by_content(service, name, data, kind, why):
    res = _post(service, name, data, kind)
    assert res.status_code == 415 and why in res.json()["message"]
    assert _leftovers(service) == []


def test_unreadable_layer_is_refused_without_server_paths(service, sample_store):
    shp = _src(sample_store)
    data = _zip({"p.shp": (shp / "parcels.shp").read_bytes()})  # no .shx, no .dbf
    res = _post(service, "thiếu.zip", data, "parcels")
    assert res.status_code == 400, res.text
    assert "thiếu.zip" in res.json()["message"] and str(service.data_dir) not in res.text
    assert _leftovers(service) == []


def test_oversized_upload_is_refused_with_413(tmp_path, sample_store, monkeypatch):
    svc = make_service(tmp_path, sample_store, monkeypatch, max_upload_mb=1)
    big = b"PK\x03\x04" + bytes(1_500_000)
    res = svc.client.post("/api/uploads", headers=svc.auth("admin"),
                          files={"file": ("lớn.zip", big)}, data={"kind": "parcels"})
    assert res.status_code == 413 and "1 MB" in res.json()["message"]
    assert _leftovers(svc) == []
    # without a declared length the copy stops at the limit too
    from gis.api.admin.uploads import UploadOptions, UploadRefused, Uploads

    with pytest.raises(UploadRefused) as err:
        Uploads(svc.data_dir / "uploads").receive(io.BytesIO(big), "lớn.zip", "parcels",
                                                  UploadOptions(), who="admin",
                                                  limit_bytes=2**20)
    assert err.value.status == 413 and _leftovers(svc) == []


def test_ids_and_options_from_clients_are_checked(service):
    for bad in ("..%2F..%2Fstore", "0123", "ZZZZZZZZZZZZZZZZ"):
        assert service.client.get(f"/api/uploads/{bad}",
                                  headers=service.auth("admin")).status_code == 404
    res = service.client.post("/api/uploads", headers=service.auth("admin"),
                              files={"file": ("a.zip", b"PK")}, data={"kind": "roads"})
    assert res.status_code == 422 and "kind" in res.json()["message"]
    res = service.client.post("/api/uploads", headers=service.auth("admin"),
                              data={"kind": "parcels"})
    assert res.status_code == 422


# -- who may ------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "inspector", "planner"])
def test_only_admins_upload(service, role, one_ward_fewer):
    auth = service.auth(role)
    c = service.client
    assert c.get("/admin/uploads", headers=auth).status_code == 403
    assert c.get("/api/uploads", headers=auth).status_code == 403
    assert c.get("/api/uploads/log", headers=auth).status_code == 403
    assert _post(service, "x.zip", one_ward_fewer[0], "parcels", role=role).status_code == 403
    assert c.post("/api/uploads/0123456789abcdef/commit", headers=auth).status_code == 403
    assert c.delete("/api/uploads/0123456789abcdef", headers=auth).status_code == 403
    assert _leftovers(service) == []


def test_anonymous_is_sent_to_sign_in(service):
    assert service.client.get("/admin/uploads", follow_redirects=False).headers["location"] \
        == "/login?next=%2Fadmin%2Fuploads"
    assert service.client.post("/api/uploads", data={"kind": "parcels"}).status_code == 401


# -- the browser flow: session cookie and CSRF ------------------------------------------------------
def test_pages_with_a_session_need_the_csrf_token(service, one_ward_fewer):
    c = service.client
    res = c.post("/login", data={"name": "admin", "password": PASSWORD.format(role="admin"),
                                 "next": "/admin/uploads"}, follow_redirects=False)
    assert res.status_code == 303
    page = c.get("/admin/uploads")
    assert page.status_code == 200 and "Tải dữ liệu lên" in page.text
    assert "Nhật ký nạp dữ liệu" in page.text and "Bảng tiến độ GPMB" in page.text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    files = {"file": ("thửa <b>đất & nhà.zip", one_ward_fewer[0], "application/zip")}
    assert c.post("/admin/uploads", files=files, data={"kind": "parcels"},
                  follow_redirects=False).status_code == 403  # no CSRF token
    assert _leftovers(service) == []
    res = c.post("/admin/uploads", files=files, data={"kind": "parcels", "csrf_token": csrf},
                 follow_redirects=False)
    assert res.status_code == 303
    target = res.headers["location"]
    upload_id = target.rsplit("/", 1)[1]
    report = c.get(target).text
    assert "thửa &lt;b&gt;đất &amp; nhà.zip" in report and "<b>đất" not in report  # escaped
    listing = c.get("/admin/uploads").text
    assert f"/admin/uploads/{upload_id}" in listing  # waiting to be committed
    assert c.post(f"{target}/commit", follow_redirects=False).status_code == 403
    res = c.post(f"{target}/commit", data={"csrf_token": csrf}, follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == target
    done = c.get(target).text
    assert 'data-state="committed"' in done and "Đã nạp vào kho dữ liệu" in done
    log = c.get("/admin/uploads").text
    row = log[log.index('id="ingest-log"'):]
    assert "admin" in row and "thửa &lt;b&gt;đất &amp; nhà.zip" in row
    # a refused upload shows the form again with the reason
    res = c.post("/admin/uploads", files={"file": ("bad.zip", b"not a zip" * 50)},
                 data={"kind": "parcels", "csrf_token": csrf})
    assert res.status_code == 415 and "not a zip archive" in res.text and 'id="upload-form"' in res.text
    # discard from the page
    res = c.post("/admin/uploads", files=files, data={"kind": "parcels", "csrf_token": csrf},
                 follow_redirects=False)
    second = res.headers["location"]
    res = c.post(f"{second}/discard", data={"csrf_token": csrf}, follow_redirects=False)
    assert res.status_code == 303 and c.get(second).status_code == 404
    assert _leftovers(service) == [upload_id]
    english = c.get(f"{target}?lang=en").text
    assert "Committed to the store" in english and "Field mapping" in english


# -- in a real browser ------------------------------------------------------------------------------
def test_upload_check_and_commit_in_chromium(server, one_ward_fewer, tmp_path):
    import os
    import shutil

    chromium = shutil.which("chromium")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    if chromium is None:
        pytest.skip("Debian chromium not installed")
    source = tmp_path / "Thửa đất xã 1.zip"
    source.write_bytes(one_ward_fewer[0])
    outside: list[str] = []
    errors: list[str] = []
    shots = Path(os.environ.get("GIS_TEST_SHOTS", tmp_path))
    with playwright.sync_playwright() as p:
        browser = launch(p, chromium)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        guard(page, outside, errors, ("http://127.0.0.1", "http://localhost", "data:", "blob:"))
        page.goto(f"{server.url}/admin/uploads")
        page.fill("input[name=name]", "admin")
        page.fill("input[name=password]", PASSWORD.format(role="admin"))
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/uploads")
        page.select_option("#up-kind", "clearance")
        page.click(".up-options summary")
        assert page.is_visible("input[name=known_on]") and not page.is_visible("input[name=crs]")
        page.select_option("#up-kind", "parcels")
        assert page.is_visible("input[name=crs]") and not page.is_visible("input[name=known_on]")
        page.set_input_files("#up-file", str(source))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#state[data-state=pending]")
        assert "Thửa đất xã 1.zip" in page.inner_text("h1")
        assert "Ánh xạ trường" in page.inner_text("#fields")
        page.screenshot(path=str(shots / "upload_report.png"), full_page=True)
        page.click("#commit")
        page.wait_for_selector("#state[data-state=committed]")
        page.goto(f"{server.url}/admin/uploads")
        log = page.inner_text("#ingest-log")
        assert "admin" in log and "Thửa đất xã 1.zip" in log
        page.screenshot(path=str(shots / "uploads.png"), full_page=True)
        browser.close()
    assert outside == [] and errors == []


def test_the_province_uploads_the_2025_units_and_codes_in_either_system(service, tmp_path):
    """The units' polygons are a kind of upload (the province department's); a parcels file
    or a sheet says which code system its ward codes are in; the options are checked."""
    import geopandas as gpd
    import shapely

    store = open_store(str(service.store))
    wards = store.read("wards")
    unit = gpd.GeoDataFrame({"MaXa": ["09877"], "TenXa": ["Xã An Khánh"], "Tinh": ["Hà Nội"]},
                            geometry=[shapely.union_all(wards.geometry.values).buffer(1)],
                            crs=wards.crs)
    path = tmp_path / "xa_moi.gpkg"
    unit.to_file(path, layer="xa_moi")
    res = _post(service, "xa_moi.gpkg", path.read_bytes(), "units")
    assert res.status_code == 201, res.text
    assert res.json()["report"]["rows"]["ok"] == 1
    assert _post(service, "xa_moi.gpkg", path.read_bytes(), "units",
                 units="2025").status_code == 422  # a units layer is always 2025
    res = service.client.post(f"/api/uploads/{res.json()['id']}/commit",
                              headers=service.auth("admin"))
    assert res.status_code == 200, res.text
    parcels = open_store(str(service.store)).read("parcels")
    assert set(parcels["unit_code"]) == {"09877"} and set(parcels["unit_source"]) == {"geometry"}
    assert set(parcels["unit_name"]) == {"Xã An Khánh"}
    from gis.api.admin.uploads import UploadOptions

    assert UploadOptions.parse("parcels", {"units": "moi"}).units == "2025"
    assert UploadOptions.parse("clearance", {"units": "legacy"}).units == "legacy"
    assert UploadOptions.parse("units", {"replace_all": "true"}).replace_all
    bad = _post(service, "xa_moi.gpkg", path.read_bytes(), "parcels", units="1999")
    assert bad.status_code == 422 and "units" in bad.text
    assert _post(service, "xa_moi.gpkg", path.read_bytes(), "wards",
                 units="2025").status_code == 422
