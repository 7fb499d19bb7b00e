"""The static map in a real browser (Playwright driving Debian's Chromium), offline."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from gis.cli import cli
from tests.browser import guard, launch
from tests.conftest import ROOT, make_map_store

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")


@pytest.fixture
def built_map(tmp_path, small_parcels, monkeypatch):
    make_map_store(tmp_path, small_parcels, "<script>window.pwned=1</script> lấn chiếm hành lang",
                   monkeypatch)
    out = tmp_path / "map.html"
    res = CliRunner().invoke(cli, ["map", "build", str(ROOT / "maps" / "district.yaml"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(params=["geojson", "bulk"])
def layers_as(request, monkeypatch):  # type: ignore[no-untyped-def]
    """Layers as L.GeoJSON (small, the default) or as bulk canvas layers (a ward's parcels)."""
    if request.param == "bulk":
        monkeypatch.setattr("gis.render.elements.BULK_FEATURES", -1)
    return request.param


def test_map_loads_offline_with_legend_popups_and_no_errors(layers_as, built_map, tmp_path):
    outside: list[str] = []
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = launch(p, CHROMIUM)
        page = browser.new_page(viewport={"width": 1280, "height": 800})

        guard(page, outside, errors, ("file://", "data:", "blob:", "about:"))
        page.goto(built_map.as_uri())
        page.wait_for_function("window.gisLayers && Object.keys(window.gisLayers).length >= 3")
        layers = page.evaluate("Object.keys(window.gisLayers)")
        assert set(layers) >= {"wards", "parcels", "violation_cases"}
        assert page.evaluate("window.gisLayers.parcels instanceof window.GisBulkLayer") == (
            layers_as == "bulk")
        legend = page.inner_text(".gis-legend")
        assert "Đất phi nông nghiệp" in legend and "Vụ việc vi phạm" in legend
        control = page.inner_text(".leaflet-control-layers")
        assert "Thửa đất" in control and "Phường, xã" in control
        page.evaluate("""() => { var l = window.gisLayers['violation_cases'];
                                 l.eachLayer(function (f) { f.openPopup(); }); }""")
        popup = page.inner_text(".leaflet-popup-content")
        assert "<script>window.pwned=1</script> lấn chiếm hành lang" in popup  # shown as text
        assert page.evaluate("window.pwned === undefined")
        page.fill(".gis-search input", "09880-1-2")
        page.press(".gis-search input", "Enter")
        page.wait_for_function("document.querySelectorAll('.leaflet-popup-content').length === 1")
        assert "09880-1-2" in page.locator(".leaflet-popup-content").last.inner_text()
        page.fill(".gis-search input", "1/1")  # sheet/number
        page.press(".gis-search input", "Enter")
        page.wait_for_function("document.querySelectorAll('.leaflet-popup-content').length === 1")
        assert "Số thửa" in page.locator(".leaflet-popup-content").last.inner_text()
        page.fill(".gis-search input", "vp-2026-99999")
        page.press(".gis-search input", "Enter")
        assert page.inner_text(".gis-search-note") == "Không tìm thấy"
        page.mouse.move(640, 400)
        assert page.inner_text(".gis-coords").startswith("WGS 84: 21.")
        page.screenshot(path=str(tmp_path / "map.png"))
        browser.close()
    assert outside == []  # nothing tried to leave the machine
    assert errors == []
