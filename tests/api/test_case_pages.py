"""The inspectors' case pages: the list with filters and paging, the case page with its history,
transitions through the forms (CSRF), uploads, escaping; and both pages in Chromium at phone
width (390 px), offline, with zero console errors."""

from __future__ import annotations

import html
import io
import re
import shutil

import pytest

from tests.api.conftest import PASSWORD
from tests.browser import launch

SCRIPT = "<script>window.pwned=1</script> lấn chiếm hành lang kênh"


def _sign_in(client, role: str) -> str:
    res = client.post("/login", data={"name": role, "password": PASSWORD.format(role=role),
                                      "next": "/cases"}, follow_redirects=False)
    assert res.status_code == 303
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/cases").text).group(1)


def _rows(page: str) -> list[str]:
    return re.findall(r'<a href="/cases/(VP-\d{4}-\d{5})">', page)


def _flag_with_script(service) -> str:
    res = service.client.post("/api/violations", headers=service.auth("inspector"), json={
        "geometry": {"type": "Point", "coordinates": [105.8695, 21.0589]},
        "kind": "encroachment_public_land", "notes": SCRIPT, "owner_name": "<b>Hộ ông Tư</b>"})
    assert res.status_code == 201, res.text
    return res.json()["case_id"]


def test_list_page_filters_labels_and_paging(service, monkeypatch):
    from gis.api.cases import pages as cases_pages
    c, h = service.client, service.auth("viewer")
    assert c.get("/cases", follow_redirects=False).status_code == 303  # sign in first
    page = c.get("/cases", headers=h).text
    assert len(_rows(page)) == 9 and "<strong>9</strong> vụ việc" in page
    assert "Phát hiện" in page and "Xây dựng trên đất nông nghiệp" in page
    assert "Xã Thanh Lâm" in page  # ward names, not only codes
    only = c.get("/cases", params={"kind": "encroachment_neighbour"}, headers=h).text
    assert len(_rows(only)) == 3 and "Xây dựng trên đất nông nghiệp</td>" not in only
    ward = c.get("/cases", params={"ward": "09889"}, headers=h).text
    assert _rows(ward) and "Phường Trường Sơn</td>" not in ward
    assert _rows(c.get("/cases", params={"q": "VP-2026-00003"}, headers=h).text) == \
        ["VP-2026-00003"]
    assert "Không có vụ việc nào phù hợp" in c.get("/cases", params={"overdue": "1"},
                                                   headers=h).text
    assert "Không có vụ việc nào phù hợp" in c.get("/cases", params={"status": "CLOSED"},
                                                   headers=h).text
    english = c.get("/cases", params={"lang": "en"}, headers=h).text
    assert "Detected" in english and "Land violation cases" in english
    monkeypatch.setattr(cases_pages, "PAGE_SIZE", 4)
    first = c.get("/cases", params={"kind": "encroachment_neighbour", "lang": "vi"}, headers=h).text
    assert len(_rows(first)) == 3
    first = c.get("/cases", headers=h).text
    assert len(_rows(first)) == 4 and "Trang 1 / 3" in first
    nxt = html.unescape(re.search(r'href="([^"]+)">Trang sau', first).group(1))
    second = c.get(nxt, headers=h).text
    assert len(_rows(second)) == 4 and not set(_rows(first)) & set(_rows(second))
    monkeypatch.setattr(cases_pages, "PAGE_SIZE", 2)
    filtered = c.get("/cases", params={"kind": "encroachment_neighbour"}, headers=h).text
    nxt = html.unescape(re.search(r'href="([^"]+)">Trang sau', filtered).group(1))
    assert "kind=encroachment_neighbour" in nxt and "page=2" in nxt  # filters kept
    assert len(_rows(c.get(nxt, headers=h).text)) == 1
    assert c.get("/cases", params={"status": "NOPE"}, headers=h).status_code == 422


def test_case_page_shows_fields_history_and_escapes_text(service):
    case_id = _flag_with_script(service)
    c = service.client
    page = c.get(f"/cases/{case_id}", headers=service.auth("viewer"))
    assert page.status_code == 200
    text = page.text
    assert "<script>window.pwned" not in text and "<b>Hộ ông Tư</b>" not in text
    assert html.escape(SCRIPT, quote=False) in text  # shown as text
    assert "&lt;b&gt;Hộ ông Tư&lt;/b&gt;" in text
    assert "Lịch sử xử lý" in text and "Tạo vụ việc" in text
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d</td><td data-label=\"Người thực hiện\">"
                     r"inspector</td>", text)
    assert f'href="/api/violations/{case_id}/dossier.pdf"' in text
    assert 'id="case-map-data"' in text and "/static/leaflet/leaflet.js" in text
    # the map data is JSON that cannot close its script element
    data = re.search(r'id="case-map-data">(.*?)</script>', text, re.DOTALL).group(1)
    assert "<" not in data
    # a viewer sees no forms that change the case
    assert "/transition" not in text and 'type="file"' not in text
    assert "Chỉ cán bộ kiểm tra" in text
    assert c.get("/cases/VP-2026-99999", headers=service.auth("viewer")).status_code == 404


def test_transitions_notes_and_uploads_through_the_forms(service):
    c = service.client
    token = _sign_in(c, "inspector")
    page = c.get("/cases/VP-2026-00001").text
    assert page.count('action="/cases/VP-2026-00001/transition"') == 3  # DETECTED's next steps
    assert 'name="minutes_no"' in page and 'capture="environment"' in page
    assert 'accept="image/*,application/pdf"' in page
    url = "/cases/VP-2026-00001/transition"
    assert c.post(url, data={"to": "VERIFYING"}, follow_redirects=False).status_code == 403
    res = c.post(url, data={"to": "VERIFYING", "note": "Đã hẹn chủ hộ", "csrf_token": token},
                 follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"].endswith("?done=transition")
    page = c.get(res.headers["location"]).text
    assert "Đã chuyển bước xử lý" in page and "Đang xác minh" in page
    assert "Đã hẹn chủ hộ" in page
    # refused by the lifecycle: the page again, with the library's message, nothing changed
    res = c.post(url, data={"to": "MINUTES_ISSUED", "minutes_no": "", "csrf_token": token})
    assert res.status_code == 409
    assert "minutes need their number" in res.text and "Đang xác minh" in res.text
    res = c.post(url, data={"to": "MINUTES_ISSUED", "minutes_no": "12/BB-VPHC",
                            "minutes_date": "2026-11-20", "csrf_token": token})
    assert res.status_code == 200 and "Đã lập biên bản" in res.text  # followed the redirect
    assert "20/11/2026" in res.text
    res = c.post("/cases/VP-2026-00001/note", data={"note": "Gọi điện lần 2", "csrf_token": token})
    assert res.status_code == 200 and "Gọi điện lần 2" in res.text
    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 60)).save(photo, "JPEG")
    res = c.post("/cases/VP-2026-00001/attachments", files=[
        ("file", ("", b"", "application/octet-stream")),  # the camera input left empty
        ("file", ("hiện trường.jpg", photo.getvalue(), "image/jpeg"))],
        data={"csrf_token": token, "role": ""}, follow_redirects=False)
    assert res.status_code == 303, res.text
    page = c.get(res.headers["location"]).text
    assert 'src="/api/violations/VP-2026-00001/attachments/1?thumb=1"' in page
    assert "hiện trường.jpg" in page and "Đính kèm ảnh" in page
    res = c.post("/cases/VP-2026-00001/attachments",
                 files={"file": ("x.jpg", b"MZ\x90\x00 not an image", "image/jpeg")},
                 data={"csrf_token": token})
    assert res.status_code == 415 and "not a known image or PDF" in res.text
    history = c.get("/api/violations/VP-2026-00001").json()["history"]
    assert {h["who"] for h in history if h["field"] != "created"} == {"inspector"}


def test_viewer_cannot_post_the_forms(service):
    c = service.client
    token = _sign_in(c, "viewer")
    res = c.post("/cases/VP-2026-00001/transition", data={"to": "VERIFYING", "csrf_token": token})
    assert res.status_code == 403


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
def test_pages_on_a_phone_in_chromium(service, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    from tests.api.conftest import start_server

    case_id = _flag_with_script(service)
    server = start_server(service)
    outside: list[str] = []
    errors: list[str] = []
    try:
        with playwright.sync_playwright() as p:
            browser = launch(p, CHROMIUM)
            page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                    is_mobile=True, has_touch=True)

            def route(r):  # type: ignore[no-untyped-def]
                url = r.request.url
                if url.startswith((server.url, "data:", "blob:", "about:")):
                    if url.endswith("/favicon.ico"):  # base.html names no icon (shared file)
                        return r.fulfill(status=204, body="")
                    return r.continue_()
                outside.append(url)
                return r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server.url}/cases")
            page.fill("input[name=name]", "inspector")
            page.fill("input[name=password]", PASSWORD.format(role="inspector"))
            page.click("form.narrow button[type=submit]")
            page.wait_for_url(f"{server.url}/cases")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert page.locator("table.cases-table tbody tr").count() == 10
            page.screenshot(path=str(tmp_path / "cases_phone.png"), full_page=True)
            page.fill("input[name=q]", case_id)
            page.click("form.case-filters button[type=submit]")
            page.click(f"a[href='/cases/{case_id}']")
            page.wait_for_selector("#case-map .leaflet-interactive")
            assert page.evaluate("window.pwned === undefined")
            assert SCRIPT in page.inner_text("dd.f-notes")  # text, not markup
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(tmp_path / "case_phone.png"), full_page=True)
            page.click("summary.to-MINUTES_ISSUED")
            page.fill("details[open] input[name=minutes_no]", "7/BB-VPHC")
            page.fill("details[open] input[name=minutes_date]", "2026-11-21")
            page.fill("details[open] textarea[name=note]", "Lập biên bản tại chỗ")
            page.click("details[open] form button[type=submit]")
            page.wait_for_selector(".flash.ok")
            assert page.inner_text("h1 .badge") == "Đã lập biên bản"
            assert "7/BB-VPHC" in page.inner_text("dl.fields")
            upload = page.locator("input[type=file][capture=environment]")
            assert upload.get_attribute("accept") == "image/*,application/pdf"
            page.screenshot(path=str(tmp_path / "case_phone_after.png"), full_page=True)
            shutil.copy(tmp_path / "case_phone.png", "/tmp/cases_case_phone.png")
            shutil.copy(tmp_path / "cases_phone.png", "/tmp/cases_list_phone.png")
            browser.close()
    finally:
        server.stop()
    assert outside == []
    assert errors == []


def test_cases_by_2025_unit_with_names_in_the_list_the_page_and_the_api(service):
    """The case list filters by commune-level unit (2025, the default system of the UI) beside
    the legacy ward, and shows the unit's name; a legacy-only code is refused naming it."""
    c, h = service.client, service.auth("viewer")
    units = {r["unit_code"] for r in c.get("/api/violations", headers=h).json()["cases"]}
    page = c.get("/cases", headers=h).text
    assert "Xã/phường" in page and "Phường/xã (cũ)" in page  # both systems, named
    assert 'name="unit"' in page and "Xã An Khánh" in page  # 09877, a 2025 unit
    for unit in sorted(u for u in units if u):
        api = c.get("/api/violations", params={"unit": unit}, headers=h)
        assert api.status_code == 200, api.text
        rows = api.json()["cases"]
        assert rows and {r["unit_code"] for r in rows} == {unit}
        assert len(_rows(c.get("/cases", params={"unit": unit}, headers=h).text)) == len(rows)
    assert len(units) >= 1
    short = c.get("/api/violations", params={"unit": "9877"}, headers=h)
    assert short.status_code == 200  # typed without the leading zero
    legacy = c.get("/api/violations", params={"unit": "09880"}, headers=h)  # legacy An Thượng
    assert legacy.status_code == 422 and "09880" in legacy.text and "Xã An Thượng" in legacy.text
    case = _rows(c.get("/cases", params={"unit": "09877"}, headers=h).text)[0]
    assert "Xã An Khánh (09877)" in c.get(f"/cases/{case}", headers=h).text
