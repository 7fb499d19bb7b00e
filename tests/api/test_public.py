"""The residents' page: only when enabled, no sign-in, verified cases and project progress, and
nothing personal in any answer (owner names, notes, inspectors, evidence, parcels, documents,
households, money)."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import make_service
from tests.browser import launch

OWNER = "Nguyễn Thị Riêng Tư"
NOTE = "Chủ hộ xin gia hạn, số điện thoại 0912 345 678"
DOC_NAME = "quyết định xử phạt ông Tư.pdf"
PATHS = ("/public", "/public/violations.geojson", "/public/projects.json")


def test_disabled_by_default(service):
    for path in PATHS:
        assert service.client.get(path).status_code == 404
        assert service.client.get(path, headers=service.auth("admin")).status_code == 404
    assert 'href="/public"' not in service.client.get("/cases",
                                                     headers=service.auth("viewer")).text


@pytest.fixture
def published(tmp_path, sample_store, monkeypatch):
    """Residents' page on; one case verified with an owner, a note and a document, one
    dismissed, one being verified, the rest only detected; clearance figures written."""
    from gis.clearance import run_clearance
    from gis.store import open_store

    svc = make_service(tmp_path, sample_store, monkeypatch, residents_page=True)
    c, h = svc.client, svc.auth("inspector")
    base = "/api/violations"

    def move(case_id: str, **body: object) -> None:
        res = c.post(f"{base}/{case_id}/transitions", json=body, headers=h)
        assert res.status_code == 200, res.text

    move("VP-2026-00002", to="MINUTES_ISSUED", minutes_no="12/BB-VPHC",
         minutes_date="2026-11-20", owner_name=OWNER, note=NOTE)
    res = c.post(f"{base}/VP-2026-00002/attachments", headers=h,
                 files={"file": (DOC_NAME, b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert res.status_code == 201
    move("VP-2026-00003", to="DISMISSED", closed_reason="Công trình có giấy phép",
         owner_name="Trần Văn Không Công Bố")
    move("VP-2026-00004", to="VERIFYING", note="đang xác minh, chưa công bố")
    run_clearance(open_store(svc.store))
    return svc


def test_public_answers_without_personal_data(published):
    c = published.client
    answers = {path: c.get(path) for path in PATHS}  # no credentials at all
    assert all(r.status_code == 200 for r in answers.values())
    everything = "\n".join(r.text for r in answers.values())
    unescaped = json.dumps([r.json() for p, r in answers.items() if p != "/public"],
                           ensure_ascii=False)
    for secret in (OWNER, NOTE, "0912 345 678", "Trần Văn Không Công Bố", DOC_NAME,
                   "12/BB-VPHC", "Công trình NHA", "09889-5-21", "inspector", "evidence",
                   "owner_name", "notes", "households", "compensation", "parcel_keys",
                   "/api/violations"):
        assert secret not in everything, secret
        assert secret not in unescaped, secret
    assert 'name="csrf-token" content=""' in answers["/public"].text  # no session involved


def test_only_verified_cases_are_published(published):
    geo = published.client.get("/public/violations.geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert "public" in geo.headers["cache-control"]
    features = geo.json()["features"]
    assert [f["id"] for f in features] == ["VP-2026-00002"]  # not DETECTED/VERIFYING/DISMISSED
    props = features[0]["properties"]
    assert props == {"case_id": "VP-2026-00002", "kind": "construction_on_agricultural_land",
                     "kind_label": "Xây dựng trên đất nông nghiệp",
                     "status": "MINUTES_ISSUED", "status_label": "Đã lập biên bản",
                     "ward_code": "09889", "ward_name": "Xã Thanh Lâm",
                     "recorded_on": props["recorded_on"], "updated_on": props["updated_on"],
                     "area_m2": 110.1}
    assert features[0]["geometry"]["type"] == "Point"  # where, not the building's outline
    lon, lat = features[0]["geometry"]["coordinates"]
    assert 105 < lon < 107 and 20 < lat < 22
    assert published.client.get("/public/violations.geojson",
                                params={"ward": "09880"}).json()["features"] == []
    page = published.client.get("/public").text
    assert "VP-2026-00002" in page and "Đã lập biên bản" in page
    assert "VP-2026-00001" not in page and "VP-2026-00003" not in page
    english = published.client.get("/public", params={"lang": "en"}).text
    assert "Minutes issued" in english and "Verified violations" in english


def test_project_progress_without_households(published):
    body = published.client.get("/public/projects.json").json()
    projects = body["projects"]
    assert [p["project_id"] for p in projects] == ["DA-001", "DA-002", "DA-003"]
    assert set(projects[0]) == {"project_id", "name", "ward_codes", "ward_names", "key_project",
                                "start_year", "planned_area_ha", "parcels_affected",
                                "parcels_handed_over", "parcels_not_started",
                                "area_affected_ha", "area_recovered_ha", "pct_area_recovered",
                                "pct_plans_approved", "completed", "as_of"}
    for p in projects:
        assert 0 <= p["pct_area_recovered"] <= 100
        assert 0 <= p["parcels_handed_over"] <= p["parcels_affected"]
    assert body["as_of"] == projects[0]["as_of"]
    page = published.client.get("/public").text
    assert projects[2]["name"] in page and "<meter" in page


def test_projects_before_any_clearance_report(tmp_path, sample_store, monkeypatch):
    svc = make_service(tmp_path, sample_store, monkeypatch, residents_page=True)
    assert svc.client.get("/public/projects.json").json() == {"as_of": None, "projects": []}
    page = svc.client.get("/public")
    assert page.status_code == 200 and "Chưa có số liệu tiến độ" in page.text
    assert "Chưa có vụ việc nào được công bố" in page.text


def test_public_page_offline_in_chromium(published, tmp_path):
    import shutil

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian chromium not installed")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    from tests.api.conftest import start_server

    server = start_server(published, extra_env={"GIS_RESIDENTS_PAGE": "true"})
    outside: list[str] = []
    errors: list[str] = []
    try:
        with playwright.sync_playwright() as p:
            browser = launch(p, chromium)
            page = browser.new_page(viewport={"width": 390, "height": 844})

            def route(r):  # type: ignore[no-untyped-def]
                url = r.request.url
                if url.startswith((server.url, "data:", "blob:", "about:")):
                    if url.endswith("/favicon.ico"):
                        return r.fulfill(status=204, body="")
                    return r.continue_()
                outside.append(url)
                return r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server.url}/public")
            page.wait_for_selector("#public-map .leaflet-interactive")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert page.locator("#public-map path.leaflet-interactive").count() >= 5 + 3 + 1
            page.screenshot(path=str(tmp_path / "public_phone.png"), full_page=True)
            shutil.copy(tmp_path / "public_phone.png", "/tmp/cases_public_phone.png")
            browser.close()
    finally:
        server.stop()
    assert outside == [] and errors == []
