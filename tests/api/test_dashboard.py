"""The dashboard and GET /api/clearance/progress: the same figures as `gis clearance report
--format json` on the same store, Vietnamese formatting, Excel per table, charts, roles."""

from __future__ import annotations

import html
import io
import json
import shutil

import pytest
from click.testing import CliRunner

from gis.core.clearance.values import format_number_vi
from tests.api.conftest import PASSWORD, make_service
from tests.browser import guard, launch


@pytest.fixture(scope="module")
def shared(tmp_path_factory, sample_store):  # type: ignore[no-untyped-def]
    """One service for the tests that only read."""
    with pytest.MonkeyPatch.context() as mp:
        yield make_service(tmp_path_factory.mktemp("dashboard"), sample_store, mp)


def _cli_report(tmp_path, *args: str) -> dict:  # type: ignore[no-untyped-def]
    from gis.cli import cli

    out = tmp_path / "report.json"
    res = CliRunner().invoke(cli, ["clearance", "report", "--format", "json", "--out", str(out),
                                   *args])
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("as_of", [None, "2024-11-30"])
def test_progress_json_equals_the_cli_report(service, tmp_path, as_of):
    url = "/api/clearance/progress" + (f"?as_of={as_of}" if as_of else "")
    res = service.client.get(url, headers=service.auth("viewer"))
    assert res.status_code == 200 and res.headers["content-type"] == "application/json"
    api = res.json()
    cli = _cli_report(tmp_path, *(["--as-of", as_of] if as_of else []))
    assert api == cli
    assert api["as_of"] == (as_of or api["as_of"]) and len(api["projects"]) == 3
    assert api["district"]["parcels_affected"] > 0 and "Tính đến" in api["summary"]["vi"]


def test_progress_of_one_project(shared):
    whole = shared.client.get("/api/clearance/progress", headers=shared.auth("viewer")).json()
    res = shared.client.get("/api/clearance/progress?project=DA-003&as_of=31/12/2024",
                            headers=shared.auth("viewer"))
    assert res.status_code == 200
    one = res.json()
    assert [p["project_id"] for p in one["projects"]] == ["DA-003"] and one["as_of"] == "2024-12-31"
    current = shared.client.get("/api/clearance/progress?project=DA-003",
                                headers=shared.auth("viewer")).json()
    project = next(p for p in whole["projects"] if p["project_id"] == "DA-003")
    assert current["district"]["parcels_affected"] == project["parcels_affected"]
    assert current["district"]["projects_total"] == 1
    assert sum(w["parcels_affected"] for w in current["wards"]) >= project["parcels_affected"]
    assert {w["ward_code"] for w in current["wards"]} <= {w["ward_code"] for w in whole["wards"]}
    assert all(p["project_id"] == "DA-003" for p in current["problems"])
    res = shared.client.get("/api/clearance/progress?project=DA-999",
                            headers=shared.auth("viewer"))
    assert res.status_code == 404 and "DA-999" in res.json()["message"]
    res = shared.client.get("/api/clearance/progress?as_of=31/02/2024",
                            headers=shared.auth("viewer"))
    assert res.status_code == 422 and res.json()["field"] == "as_of"


def test_roles_and_public_read(shared, tmp_path, sample_store, monkeypatch):
    c = shared.client
    for url in ("/api/clearance/progress", "/dashboard/charts/wards.png",
                "/dashboard/projects.xlsx"):
        assert c.get(url).status_code == 401
        for role in ("viewer", "inspector", "planner", "admin"):
            assert c.get(url, headers=shared.auth(role)).status_code == 200, (url, role)
    res = c.get("/dashboard", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login?next=%2Fdashboard"
    public = make_service(tmp_path, sample_store, monkeypatch, public_read=True)
    assert public.client.get("/api/clearance/progress").status_code == 200


def _ha(m2: float) -> str:
    return format_number_vi(m2 / 1e4, 2)


def test_dashboard_page_shows_the_report_formatted_the_vietnamese_way(shared):
    report = shared.client.get("/api/clearance/progress", headers=shared.auth("viewer")).json()
    res = shared.client.get("/dashboard?lang=vi", headers=shared.auth("viewer"))
    assert res.status_code == 200
    page = html.unescape(res.text)
    assert report["summary"]["vi"] in page
    for p in report["projects"]:
        assert p["name"] in page
        assert f'<td class="num">{_ha(p["area_affected_m2"])}</td>' in page
        paid = format_number_vi(p["compensation_paid_vnd"] / 1e9, 3)
        assert f'<td class="num">{paid}</td>' in page
    for w in report["wards"]:
        assert f"<td>{w['ward_code']}</td>" in page
        assert f'<td class="num">{format_number_vi(w["pct_plans_approved"], 1)}</td>' in page
    assert "Số thửa bị ảnh hưởng" in page and "Diện tích phải thu hồi (ha)" in page
    assert "Kinh phí đã chi trả (tỷ đồng)" in page
    for table in ("projects", "wards", "district", "problems", "violations_kind",
                  "violations_status", "violations_ward"):
        assert f'href="/dashboard/{table}.xlsx">Tải Excel</a>' in page
    for chart in ("projects", "wards", "violations"):
        assert f'src="/dashboard/charts/{chart}.png"' in page
    assert "Xây dựng trên đất nông nghiệp" in page and "Phát hiện" in page
    en = html.unescape(shared.client.get("/dashboard?lang=en&as_of=2024-11-30",
                                         headers=shared.auth("viewer")).text)
    report = shared.client.get("/api/clearance/progress?as_of=2024-11-30",
                               headers=shared.auth("viewer")).json()
    assert report["summary"]["en"] in en and "Parcels affected" in en
    assert 'href="/dashboard/projects.xlsx?as_of=2024-11-30"' in en


def test_every_table_downloads_as_a_workbook(shared):
    from openpyxl import load_workbook

    report = shared.client.get("/api/clearance/progress", headers=shared.auth("viewer")).json()
    sheets = {"projects": "Dự án", "wards": "Phường xã", "district": "Toàn huyện",
              "problems": "Vấn đề", "violations_kind": "Vụ việc vi phạm theo loại",
              "violations_status": "Vụ việc vi phạm theo trạng thái",
              "violations_ward": "Vụ việc vi phạm theo phường-xã"}
    for table, title in sheets.items():
        res = shared.client.get(f"/dashboard/{table}.xlsx?lang=vi", headers=shared.auth("viewer"))
        assert res.status_code == 200, table
        assert res.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml")
        assert f"_{table}_{report['as_of']}.xlsx" in res.headers["content-disposition"]
        wb = load_workbook(io.BytesIO(res.content))
        assert wb.sheetnames == [title[:31]], table
        ws = wb.active
        assert ws.freeze_panes == "A2"
        if table == "projects":
            header = [c.value for c in ws[1]]
            rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
            for p in report["projects"]:
                row = rows[p["project_id"]]
                assert row["Số thửa bị ảnh hưởng"] == p["parcels_affected"]
                assert row["Diện tích phải thu hồi (ha)"] == pytest.approx(
                    p["area_affected_m2"] / 1e4)
                assert row["Kinh phí đã chi trả (tỷ đồng)"] == pytest.approx(
                    p["compensation_paid_vnd"] / 1e9)
        if table == "violations_kind":
            counts = {r[0]: r[2] for r in ws.iter_rows(min_row=2, values_only=True)}
            cases = shared.client.get("/api/export/violations?format=geojson",
                                      headers=shared.auth("planner")).json()["features"]
            assert sum(counts.values()) == len(cases)
    res = shared.client.get("/dashboard/clearance.xlsx?lang=vi", headers=shared.auth("viewer"))
    assert load_workbook(io.BytesIO(res.content)).sheetnames == ["Dự án", "Xã, phường",
                                                                  "Tỉnh, thành phố", "Vấn đề"]
    assert shared.client.get("/dashboard/owners.xlsx",
                             headers=shared.auth("viewer")).status_code == 404


def test_charts_are_pngs(shared):
    from PIL import Image

    for name in ("projects", "wards", "violations"):
        res = shared.client.get(f"/dashboard/charts/{name}.png?lang=en",
                                headers=shared.auth("viewer"))
        assert res.status_code == 200 and res.headers["content-type"] == "image/png"
        assert res.content[:8] == b"\x89PNG\r\n\x1a\n"
        image = Image.open(io.BytesIO(res.content))
        assert image.width >= 600 and image.height >= 300
        assert len(image.convert("L").getcolors(maxcolors=65536) or ()) > 20  # a drawing, not a blank
    res = shared.client.get("/dashboard/charts/owners.png", headers=shared.auth("viewer"))
    assert res.status_code == 404


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
def test_dashboard_in_a_browser(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    outside: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p, CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})

            guard(page, outside, errors, ("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:"))
            page.goto(f"{server.url}/login?next=/dashboard")
            page.fill("input[name=name]", "viewer")
            page.fill("input[name=password]", PASSWORD.format(role="viewer"))
            page.click("form button")
            page.wait_for_url("**/dashboard")
            page.wait_for_load_state("networkidle")
            widths = page.evaluate("""() => Array.from(document.querySelectorAll('.charts img'))
                                        .map(i => i.complete ? i.naturalWidth : 0)""")
            assert len(widths) == 3 and min(widths) > 500
            assert "Tính đến ngày" in page.inner_text("#summary")
            page.select_option("select[name=project]", "DA-002")
            page.click(".dash-filter button")
            page.wait_for_load_state("networkidle")
            assert "project=DA-002" in page.url
            assert page.locator("#projects tbody tr").count() == 1
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert errors == [] and outside == []


def test_the_dashboard_reports_by_commune_level_unit_and_province(shared):
    """Since 1 July 2025 progress is read per commune-level unit and per province (names beside
    codes); the legacy wards stay for comparisons with earlier years."""
    from openpyxl import load_workbook

    page = html.unescape(shared.client.get("/dashboard?lang=vi",
                                           headers=shared.auth("viewer")).text)
    for table in ("units", "provinces"):
        assert f'href="/dashboard/{table}.xlsx">Tải Excel</a>' in page, table
    assert "Tiến độ GPMB theo đơn vị hành chính cấp xã" in page
    assert "Thành phố Hà Nội" in page  # the province by name, beside its code
    wards = shared.client.get("/ogc/collections/parcels/items?limit=1",
                              headers=shared.auth("viewer")).json()["features"][0]["properties"]
    assert wards["unit_code"] and f"<td>{wards['unit_code']}</td>" in page
    for table, sheet in (("units", "Xã, phường"), ("provinces", "Tỉnh, thành phố")):
        res = shared.client.get(f"/dashboard/{table}.xlsx?lang=vi", headers=shared.auth("viewer"))
        assert res.status_code == 200, table
        names = load_workbook(io.BytesIO(res.content)).sheetnames
        assert names == [sheet], (table, names)
