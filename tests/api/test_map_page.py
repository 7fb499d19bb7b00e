"""The service's web map in a real browser (Playwright driving Debian's Chromium) against a real
``gis serve``: sign in, parcels drawn from vector tiles, a popup in Vietnamese, find, an
inspector draws an area, fills the flag form with a photo and saves it (``POST /api/violations``
and its attachments), the case is on the map at once; on a phone-sized screen "locate me"
centres the map and the form fits. Zero console errors, zero requests leaving the machine."""

from __future__ import annotations

import shutil

import pytest

from tests.api.conftest import PASSWORD

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
LOCAL = ("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")
READY = "window.gisReady === true && (window.gisStats.features.parcels || 0) > 0"


@pytest.fixture
def photo(tmp_path):
    from PIL import Image

    path = tmp_path / "hiện-trường.jpg"
    Image.new("RGB", (64, 48), (180, 120, 60)).save(path, "JPEG")
    return path


@pytest.fixture
def a_parcel(server):
    """A parcel inside the district (WGS 84) and its key."""
    from gis.io.write import reproject
    from gis.store import open_store

    parcels = reproject(open_store(server.service.store).read("parcels"), "EPSG:4326")
    row = parcels.sort_values("area_m2").iloc[len(parcels) // 2]
    point = row.geometry.representative_point()
    return row.parcel_key, point.y, point.x


def _watch(page, outside: list[str], errors: list[str]) -> None:
    def route(r):  # type: ignore[no-untyped-def]
        if r.request.url.startswith(LOCAL):
            return r.continue_()
        outside.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))


def _map_point(page, lat: float, lon: float) -> tuple[float, float]:
    """Page coordinates of a place on the map."""
    box = page.locator("#map").bounding_box()
    p = page.evaluate("([lat, lon]) => window.gisMap.latLngToContainerPoint([lat, lon])",
                      [lat, lon])
    return box["x"] + p["x"], box["y"] + p["y"]


def test_inspector_maps_and_flags_a_case(server, a_parcel, photo, tmp_path):
    from gis.store import open_store
    from gis.violations import case_attachments, case_detail

    key, lat, lon = a_parcel
    outside: list[str] = []
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(60_000)
        _watch(page, outside, errors)

        # sign in through the form, come back to the map
        page.goto(server.url + "/maps/district")
        assert "/login" in page.url
        page.fill("input[name=name]", "inspector")
        page.fill("input[name=password]", PASSWORD.format(role="inspector"))
        page.click("button[type=submit]")
        page.wait_for_url("**/maps/district")
        page.wait_for_function(READY)
        assert page.evaluate("window.gisStats.tiles.parcels") >= 1  # VectorGrid tiles drawn
        legend = page.inner_text(".gis-legend")
        assert "Đất phi nông nghiệp" in legend and "Vụ việc vi phạm" in legend
        assert "Thửa đất" in page.inner_text(".leaflet-control-layers")

        # a click on a parcel: its popup, in Vietnamese, with the values of the store
        page.evaluate("([lat, lon]) => { window.gisMap.setView([lat, lon], 19, {animate: false}); }", [lat, lon])
        page.wait_for_function(READY + " && window.gisMap.getZoom() === 19")
        page.mouse.click(*_map_point(page, lat, lon))
        page.wait_for_selector(".gis-hits")
        popup = page.inner_text(".gis-hits")
        assert "Thửa (xã-tờ-thửa)" in popup and key in popup and "Loại đất" in popup
        assert "Phường, xã" in popup  # every layer under the click, the ward last
        assert popup.index(key) < popup.index("Mã phường/xã")

        # find by parcel key: the service searches the tiled layer
        page.keyboard.press("Escape")
        page.evaluate("void window.gisMap.closePopup()")
        page.fill(".gis-search input", key)
        page.press(".gis-search input", "Enter")
        page.wait_for_selector(".gis-hits")
        assert key in page.inner_text(".gis-hits")
        page.evaluate("void window.gisMap.closePopup()")

        # draw an area around the parcel's point with leaflet-draw, then the form
        page.evaluate("([lat, lon]) => { window.gisMap.setView([lat, lon], 19, {animate: false}); }", [lat, lon])
        cx, cy = _map_point(page, lat, lon)
        page.click(".leaflet-draw-draw-polygon")
        for n, (dx, dy) in enumerate(((-40, -30), (40, -30), (40, 30), (-40, 30)), start=1):
            # at a person's pace: leaflet-draw ignores a press within 50 ms (a timer) of the last
            page.wait_for_timeout(400)
            page.mouse.move(cx + dx, cy + dy, steps=4)
            page.mouse.click(cx + dx, cy + dy)
            page.wait_for_function(f"document.querySelectorAll('.leaflet-editing-icon').length"
                                   f" === {n}", timeout=5000)
        page.wait_for_timeout(400)
        page.mouse.move(cx - 40, cy - 30, steps=4)
        page.mouse.click(cx - 40, cy - 30)  # the first point again closes the area
        page.wait_for_selector("#gis-flag:not([hidden])")
        page.select_option("#gis-flag select[name=kind]", "encroachment_public_land")
        page.fill("#gis-flag input[name=owner_name]", "Nguyễn Văn Bình")
        note = "<b>lấn chiếm</b> vỉa hè 12 m²"
        page.fill("#gis-flag textarea[name=notes]", note)
        page.set_input_files("#gis-flag input[name=photos]", str(photo))
        page.click("#gis-flag button[type=submit]")
        page.wait_for_function("window.gisLastCase !== undefined")
        case_id = page.evaluate("window.gisLastCase")
        assert "Đã lưu vụ việc " + case_id in page.inner_text(".gis-map-status")
        assert page.is_hidden("#gis-flag")

        # on the map at once (the case layer reloaded), with its popup
        ids = page.evaluate("""() => { var out = [];
            window.gisLayers.violation_cases.eachLayer(function (f) {
              out.push(f.feature.properties.case_id); });
            return out; }""")
        assert case_id in ids
        page.mouse.click(cx, cy)
        page.wait_for_selector(".gis-hits")
        popup = page.inner_text(".gis-hits")
        assert case_id in popup and note in popup  # the note as text, not HTML
        assert "Phát hiện" in popup and "Lấn, chiếm đất công" in popup
        assert page.evaluate("document.querySelector('.gis-hits b b') === null")
        page.screenshot(path=str(tmp_path / "map_desktop.png"))
        state = context.storage_state()
        page.unroute_all(behavior="ignoreErrors")
        context.close()

        # a phone: locate me, the flag form with the camera input fits the screen
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                    has_touch=True, storage_state=state,
                                    geolocation={"latitude": lat, "longitude": lon},
                                    permissions=["geolocation"])
        page = phone.new_page()
        page.set_default_timeout(60_000)
        _watch(page, outside, errors)
        page.goto(server.url + "/maps/district")
        page.wait_for_function(READY)
        page.tap(".gis-locate")
        page.wait_for_function("window.gisLocated !== undefined")
        # the map moves there (animated: on a loaded machine it may still be on its way)
        page.wait_for_function(
            "([lat, lon]) => { var c = window.gisMap.getCenter(); return Math.abs(c.lat - lat) "
            "< 1e-4 && Math.abs(c.lng - lon) < 1e-4 && window.gisMap.getZoom() === 18; }",
            arg=[lat, lon], timeout=20_000)
        centre = page.evaluate("(() => { var c = window.gisMap.getCenter(); "
                               "return [c.lat, c.lng, window.gisMap.getZoom()]; })()")
        assert centre[0] == pytest.approx(lat, abs=1e-4)
        assert centre[1] == pytest.approx(lon, abs=1e-4) and centre[2] == 18
        page.wait_for_function(READY)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the phone
        assert page.is_hidden(".leaflet-control-layers-list")  # the layer list behind its button
        page.tap(".leaflet-draw-draw-circlemarker")
        page.tap("#map", position={"x": 200, "y": 300})
        page.wait_for_selector("#gis-flag:not([hidden])")
        form = page.locator("#gis-flag").bounding_box()
        assert form["x"] >= 0 and form["x"] + form["width"] <= 390
        assert form["y"] + form["height"] <= 844
        camera = page.locator("#gis-flag input[name=photos]")
        assert camera.get_attribute("capture") == "environment"
        assert camera.get_attribute("accept") == "image/*"
        assert page.locator("#gis-flag button[type=submit]").bounding_box()["height"] >= 40
        page.screenshot(path=str(tmp_path / "map_phone.png"))
        page.tap("#gis-flag [data-cancel]")
        page.tap("#map", position={"x": 195, "y": 420})  # a parcel: the sheet, not a popup
        page.wait_for_selector(".gis-sheet:not([hidden]) .gis-hits")
        assert "Thửa đất" in page.inner_text(".gis-sheet")
        page.unroute_all(behavior="ignoreErrors")
        phone.close()
        browser.close()
    assert outside == []  # nothing tried to leave the machine
    assert errors == []

    store = open_store(server.service.store)
    case, history = case_detail(store, case_id)
    assert case["kind"] == "encroachment_public_land" and case["source"] == "inspector"
    assert case["notes"] == note and case["owner_name"] == "Nguyễn Văn Bình"
    assert case["inspector"] == "inspector" and key in case["parcel_keys"]
    assert (history["field"] == "created").any()
    attachments = case_attachments(store, case_id)
    assert len(attachments) == 1 and attachments.iloc[0]["role"] == "photo"
