"""Map tools in a real browser (Playwright driving Debian's Chromium), offline: VN-2000 cursor
coordinates against pyproj, measuring distance and area, zoom to ward or project, scale bar,
English labels."""

from __future__ import annotations

import json
import re
import shutil
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from gis.catalog import MapSpec, load_catalog
from gis.cli import cli
from gis.crs import (
    ZONES,
    pinned_transformer,
    transform_geometries,
    zone_for_epsg,
    zone_for_province,
)
from gis.render.build import build_map, render_html, resolve_layers
from gis.render.zone import zone_parameters
from tests.browser import guard, launch
from tests.conftest import ROOT, make_map_store

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")

X0, Y0 = 585_000.0, 2_330_000.0  # VN-2000 TM-3 105°00' (Hà Nội), EPSG:5897
MAP = "window.gisLayers.wards._map"

# Places across Vietnam, each in its province's cadastral zone (lon, lat, province).
PLACES = [
    (105.85, 21.03, "Hà Nội"), (106.68, 20.86, "Hải Phòng"), (106.70, 10.78, "Hồ Chí Minh"),
    (108.22, 16.05, "Đà Nẵng"), (105.78, 10.03, "Cần Thơ"), (105.15, 9.18, "Cà Mau"),
    (104.73, 8.60, "Cà Mau"), (103.02, 21.39, "Điện Biên"), (103.46, 22.40, "Lai Châu"),
    (103.91, 21.33, "Sơn La"), (103.97, 22.48, "Lào Cai"), (105.68, 18.68, "Nghệ An"),
    (105.32, 23.36, "Hà Giang"), (106.26, 22.67, "Cao Bằng"), (106.60, 17.47, "Quảng Bình"),
    (107.19, 16.75, "Quảng Trị"), (105.84, 21.59, "Thái Nguyên"), (107.59, 16.46, "Huế"),
    (106.76, 21.85, "Lạng Sơn"), (108.00, 14.35, "Kon Tum"), (108.80, 15.12, "Quảng Ngãi"),
    (109.19, 12.24, "Khánh Hòa"), (108.10, 10.93, "Bình Thuận"), (108.04, 12.67, "Đắk Lắk"),
    (107.08, 10.35, "Bà Rịa - Vũng Tàu"), (103.96, 10.23, "Kiên Giang"),
]
UTM_PLACES = [(105.85, 21.03, 3405), (106.70, 10.78, 3405), (107.97, 21.52, 3405),
              (108.22, 16.05, 3406), (109.19, 12.24, 3406)]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = launch(p, CHROMIUM)
        yield b
        b.close()


@pytest.fixture(params=["geojson", "bulk"])
def layers_as(request, monkeypatch):  # type: ignore[no-untyped-def]
    """Every test using it runs twice: layers as L.GeoJSON (small, the default) and as bulk
    canvas layers (what a ward's 10k parcels are drawn with)."""
    if request.param == "bulk":
        monkeypatch.setattr("gis.render.elements.BULK_FEATURES", -1)
    return request.param


@contextmanager
def opened(browser, path):  # type: ignore[no-untyped-def]
    """A page on the map file; afterwards nothing tried the network and nothing failed."""
    outside: list[str] = []
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 800})

    guard(page, outside, errors, ("file://", "data:", "blob:", "about:"))
    page.goto(path.as_uri())
    page.wait_for_function("window.gisMeasure && window.gisLayers")
    try:
        yield page
    finally:
        page.close()
    assert outside == []  # nothing tried to leave the machine
    assert errors == []


def sample_frames(crs: str = "EPSG:5897", *, projects: bool = True) -> dict[str, gpd.GeoDataFrame]:
    """Two wards, five parcels and a project in Hà Nội's zone (optionally given in another CRS)."""
    frames = {
        "wards": gpd.GeoDataFrame(
            {"ward_code": ["09880", "09883"], "name": ["Phường An Bình", "Xã Đông Hòa"],
             "district": ["Quận 1", "Quận 1"]},
            geometry=[shapely.box(X0, Y0, X0 + 400, Y0 + 300),
                      shapely.box(X0 + 400, Y0, X0 + 900, Y0 + 300)], crs="EPSG:5897"),
        "parcels": gpd.GeoDataFrame(
            {"parcel_key": [f"09880-1-{i}" for i in range(1, 6)], "map_sheet": [1] * 5,
             "parcel_no": list(range(1, 6)), "land_use": ["ODT"] * 5, "area_m2": [2400.0] * 5},
            geometry=[shapely.box(X0 + 20 + i * 40, Y0 + 20, X0 + 60 + i * 40, Y0 + 80)
                      for i in range(5)], crs="EPSG:5897"),
    }
    if projects:
        frames["projects"] = gpd.GeoDataFrame(
            {"project_id": ["DA-01"], "name": ["Đường vành đai 2"],
             "capital_source": ["STATE_BUDGET"]},
            geometry=[shapely.box(X0 + 450, Y0 + 100, X0 + 600, Y0 + 250)], crs="EPSG:5897")
    if crs != "EPSG:5897":
        frames = {k: f.set_geometry(transform_geometries(f.geometry.values, "EPSG:5897", crs),
                                    crs=crs) for k, f in frames.items()}
    return frames


def build(tmp_path, frames, lang="vi", name="map.html"):  # type: ignore[no-untyped-def]
    spec = MapSpec.model_validate({"id": "t", "title": {"vi": "Thử", "en": "Test"},
                                   "layers": [{"layer": "wards"}, {"layer": "parcels"},
                                              {"layer": "projects"}]})
    layers = resolve_layers(spec, load_catalog(ROOT / "layers"))
    out = tmp_path / name
    out.write_text(render_html(build_map(spec, layers, frames, lang=lang)), encoding="utf-8")
    return out


def vi_number(text: str) -> float:
    """1.052,19 → 1052.19 (and the thin-space grouping of coordinates)."""
    return float(text.replace("\u202f", "").replace(".", "").replace(",", "."))


def en_number(text: str) -> float:
    return float(text.replace("\u202f", "").replace(",", ""))


def to_lonlat(xy: list[tuple[float, float]], epsg: int = 5897) -> list[tuple[float, float]]:
    lon, lat = pinned_transformer(epsg).transform(np.array([p[0] for p in xy]),
                                                  np.array([p[1] for p in xy]))
    return list(zip(lon.tolist(), lat.tolist()))


def click_lonlat(page, points: list[tuple[float, float]]) -> None:  # type: ignore[no-untyped-def]
    for lon, lat in points:
        pt = page.evaluate(f"(() => {{ var p = {MAP}.latLngToContainerPoint([{lat}, {lon}]); "
                           "return [p.x, p.y]; })()")
        page.mouse.click(pt[0], pt[1])


def fit(page, points: list[tuple[float, float]]) -> None:  # type: ignore[no-untyped-def]
    latlngs = json.dumps([[lat, lon] for lon, lat in points])
    page.evaluate(f"{MAP}.fitBounds({latlngs}, {{padding: [120, 120], animate: false}})")


def test_vn2000_in_the_page_matches_pyproj_within_a_centimetre(browser, tmp_path, small_parcels,
                                                                 monkeypatch):
    make_map_store(tmp_path, small_parcels, "ghi chú", monkeypatch)
    out = tmp_path / "map.html"
    res = CliRunner().invoke(cli, ["map", "build", str(ROOT / "maps" / "district.yaml"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    cases = [(lon, lat, zone_for_province(prov).epsg) for lon, lat, prov in PLACES] + UTM_PLACES
    assert len({epsg for *_, epsg in cases}) == len(ZONES)  # every zone, TM-3 and UTM
    with opened(browser, out) as page:
        assert page.evaluate("window.gisZone.epsg") == 5897  # the store's zone reached the page
        worst = 0.0
        flipped_best = np.inf
        for epsg in sorted({c[2] for c in cases}):
            pts = [(lon, lat) for lon, lat, e in cases if e == epsg]
            params = zone_parameters(zone_for_epsg(epsg).crs)
            got = np.array(page.evaluate(
                "([p, pts]) => { var f = window.gisVn2000Projector(p); "
                "return pts.map(function (q) { return f(q[0], q[1]); }); }", [params, pts]))
            east, north = pinned_transformer(epsg, inverse=True).transform(
                np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
            err = np.hypot(got[:, 0] - east, got[:, 1] - north)
            worst = max(worst, float(err.max()))
            # the test can see a sign error: EPSG's rotations read as position vector are off
            wrong = dict(params, helmert=dict(params["helmert"], convention="position_vector"))
            bad = np.array(page.evaluate(
                "([p, pts]) => { var f = window.gisVn2000Projector(p); "
                "return pts.map(function (q) { return f(q[0], q[1]); }); }", [wrong, pts]))
            flipped_best = min(flipped_best,
                               float(np.hypot(bad[:, 0] - east, bad[:, 1] - north).min()))
        assert worst < 0.01, f"worst {worst * 1000:.3f} mm"
        assert worst < 1e-5  # in fact nanometres: Krüger to 6th order, the same Helmert as PROJ
        assert flipped_best > 0.3
        # the page's own function is the store's zone
        lon, lat = to_lonlat([(X0 + 10, Y0 + 15)])[0]
        e, n = page.evaluate(f"window.gisVn2000({lon}, {lat})")
        assert abs(e - (X0 + 10)) < 0.01 and abs(n - (Y0 + 15)) < 0.01


def test_cursor_coordinates_and_metric_scale_bar(browser, tmp_path):
    out = build(tmp_path, sample_frames())
    with opened(browser, out) as page:
        page.mouse.move(640, 400)
        lat, lon = page.evaluate(f"(() => {{ var ll = {MAP}.containerPointToLatLng([640, 400]); "
                                 "return [ll.lat, ll.lng]; })()")
        wgs = page.inner_text(".gis-coords-wgs84")
        assert wgs == f"WGS 84: {lat:.6f}, {lon:.6f}"
        vn = page.inner_text(".gis-coords-vn2000")
        m = re.fullmatch(r"VN-2000 \(KTT 105°00′, múi 3°\): "
                         r"X ([\d\u202f]+,\d\d)\s+Y ([\d\u202f]+,\d\d)", vn)
        assert m, vn
        east, north = pinned_transformer(5897, inverse=True).transform(lon, lat)
        assert abs(vi_number(m.group(1)) - north) <= 0.006  # X is the northing, to the cm
        assert abs(vi_number(m.group(2)) - east) <= 0.006
        assert "\u202f" in m.group(1)  # 2 330 134,63: thousands apart, decimal comma
        # the scale bar: one line, metric
        lines = page.locator(".leaflet-control-scale-line")
        assert lines.count() == 1
        assert re.fullmatch(r"\d+ k?m", lines.first.inner_text())


def test_measure_a_known_square_in_the_zone_plane(browser, tmp_path, layers_as):
    out = build(tmp_path, sample_frames())
    side = 150.0
    # the first corner is inside project DA-01, whose popup a click opens when not measuring
    square = [(X0 + 460, Y0 + 110), (X0 + 460 + side, Y0 + 110), (X0 + 460 + side, Y0 + 110 + side),
              (X0 + 460, Y0 + 110 + side)]
    corners = to_lonlat(square)
    with opened(browser, out) as page:
        fit(page, corners)
        page.click(".gis-measure-area")
        assert page.get_attribute(".gis-measure-area", "aria-pressed") == "true"
        assert "Esc" in page.inner_text(".gis-measure-hint")
        click_lonlat(page, corners)
        assert page.locator(".leaflet-popup").count() == 0  # a click on the project measures
        running = page.evaluate("window.gisMeasure.result()")
        assert abs(running["area"] - side * side) / (side * side) < 0.005
        page.click(".gis-measure-area")  # the button again finishes
        assert page.evaluate("window.gisMeasure.mode()") is None
        text = page.inner_text(".gis-measure-result")
        m = re.fullmatch(r"Diện tích: ([\d.]+,\d) m² \(([\d,]+) ha\), chu vi ([\d.,]+) m", text)
        assert m, text
        area = vi_number(m.group(1))
        assert abs(area - side * side) / (side * side) < 0.005, area
        assert abs(vi_number(m.group(2)) - area / 1e4) < 1e-4
        assert abs(vi_number(m.group(3)) - 4 * side) / (4 * side) < 0.005
        assert re.fullmatch(r"\d{2}\.\d{3},\d", m.group(1))  # Vietnamese grouping: 22.500,1
        assert page.inner_text(".gis-measure-note") == ("tính trên mặt phẳng VN-2000 "
                                                        "(KTT 105°00′, múi 3°)")
        # popups are back once measuring has finished
        click_lonlat(page, corners[:1])
        page.wait_for_selector(".leaflet-popup-content")
        assert "DA-01" in page.inner_text(".leaflet-popup-content")
        page.evaluate(f"{MAP}.closePopup()")

        # distance along two sides, finished by a double click, then Esc clears it
        page.click(".gis-measure-distance")
        zoom = page.evaluate(f"{MAP}.getZoom()")
        click_lonlat(page, corners[:2])
        pt = page.evaluate(f"(() => {{ var p = {MAP}.latLngToContainerPoint("
                           f"[{corners[2][1]}, {corners[2][0]}]); return [p.x, p.y]; }})()")
        page.mouse.dblclick(pt[0], pt[1])
        assert page.evaluate(f"{MAP}.getZoom()") == zoom  # no double-click zoom while measuring
        assert page.evaluate("window.gisMeasure.mode()") is None
        assert len(page.evaluate("window.gisMeasure.points()")) == 3  # the double click counts once
        text = page.inner_text(".gis-measure-result")
        m = re.fullmatch(r"Khoảng cách: ([\d.,]+) m", text)
        assert m, text
        assert abs(vi_number(m.group(1)) - 2 * side) / (2 * side) < 0.005
        page.screenshot(path=str(tmp_path / "measure.png"))
        page.keyboard.press("Escape")
        assert page.inner_text(".gis-measure-result") == ""
        assert page.evaluate("window.gisMeasure.points()") == []
        # Esc during a measurement cancels it
        page.click(".gis-measure-distance")
        click_lonlat(page, corners[:2])
        page.keyboard.press("Escape")
        assert page.evaluate("window.gisMeasure.mode()") is None
        assert page.inner_text(".gis-measure-result") == ""
        assert page.evaluate(f"{MAP}.doubleClickZoom.enabled()")


def test_measure_on_the_sphere_without_a_vn2000_zone(browser, tmp_path):
    frames = sample_frames("EPSG:4326")
    out = build(tmp_path, frames)
    corners = to_lonlat([(X0 + 30, Y0 + 30), (X0 + 180, Y0 + 30), (X0 + 180, Y0 + 180),
                         (X0 + 30, Y0 + 180)])
    with opened(browser, out) as page:
        assert page.evaluate("window.gisZone") is None
        page.mouse.move(640, 400)
        assert page.inner_text(".gis-coords").startswith("WGS 84: 21.")
        assert page.locator(".gis-coords-vn2000").count() == 0  # WGS 84 only
        fit(page, corners)
        page.click(".gis-measure-area")
        click_lonlat(page, corners)
        page.click(".gis-measure-area")
        got = page.evaluate("window.gisMeasure.result()")
        clicked = page.evaluate("window.gisMeasure.points()")
        geod_area, geod_perimeter = Geod(ellps="WGS84").polygon_area_perimeter(
            [p[1] for p in clicked], [p[0] for p in clicked])
        assert abs(got["area"] - abs(geod_area)) / abs(geod_area) < 0.005
        assert abs(got["perimeter"] - geod_perimeter) / geod_perimeter < 0.005
        assert "mặt cầu" in page.inner_text(".gis-measure-note")


def test_zoom_to_ward_and_project(browser, tmp_path, layers_as):
    out = build(tmp_path, sample_frames())
    with opened(browser, out) as page:
        wards = page.locator(".gis-zoomto-wards option").all_inner_texts()
        assert wards == ["Đến phường, xã…", "Phường An Bình (09880)", "Xã Đông Hòa (09883)"]
        projects = page.locator(".gis-zoomto-projects option").all_inner_texts()
        assert projects == ["Đến dự án…", "Đường vành đai 2 (DA-01)"]
        for selector, label, box in [
                (".gis-zoomto-wards", "Xã Đông Hòa (09883)", (X0 + 400, Y0, X0 + 900, Y0 + 300)),
                (".gis-zoomto-projects", "Đường vành đai 2 (DA-01)",
                 (X0 + 450, Y0 + 100, X0 + 600, Y0 + 250))]:
            page.evaluate(f"() => {{ window.moved = new Promise(function (r) "
                          f"{{ {MAP}.once('moveend', r); }}); }}")
            page.select_option(selector, label=label)
            page.evaluate("window.moved")  # the animation is over
            (w, s), (e, n) = to_lonlat([box[:2], box[2:]])
            view = page.evaluate(f"""(() => {{ var m = {MAP};
                var b = L.latLngBounds([[{s}, {w}], [{n}, {e}]]);
                return [m.getBounds().contains(b), m.getZoom(), m.getBoundsZoom(b),
                        m.getCenter().lat, m.getCenter().lng]; }})()""")
            assert view[0] and view[1] == view[2]  # fitted: all of it, as close as it fits
            assert abs(view[3] - (s + n) / 2) < 2e-4 and abs(view[4] - (w + e) / 2) < 2e-4


def test_zoom_lists_only_for_layers_present(browser, tmp_path, layers_as):
    out = build(tmp_path, sample_frames(projects=False))
    with opened(browser, out) as page:
        assert page.locator(".gis-zoomto-wards").count() == 1
        assert page.locator(".gis-zoomto-projects").count() == 0
    frames = {"parcels": sample_frames()["parcels"]}
    out = build(tmp_path, frames, name="parcels.html")
    with opened(browser, out) as page:
        assert page.locator(".gis-zoomto").count() == 0


def test_english_labels(browser, tmp_path):
    out = build(tmp_path, sample_frames(), lang="en")
    corners = to_lonlat([(X0 + 30, Y0 + 30), (X0 + 180, Y0 + 30), (X0 + 180, Y0 + 180),
                         (X0 + 30, Y0 + 180)])
    with opened(browser, out) as page:
        assert page.inner_text(".gis-measure-distance") == "Measure distance"
        assert page.inner_text(".gis-measure-area") == "Measure area"
        assert page.locator(".gis-zoomto-wards option").first.inner_text() == "Zoom to ward…"
        assert page.locator(".gis-zoomto-projects option").first.inner_text() == "Zoom to project…"
        page.mouse.move(640, 400)
        vn = page.inner_text(".gis-coords-vn2000")
        assert re.fullmatch(r"VN-2000 \(CM 105°00′, 3° zone\): X \(N\) [\d\u202f]+\.\d\d\s+"
                            r"Y \(E\) [\d\u202f]+\.\d\d", vn), vn
        fit(page, corners)
        page.click(".gis-measure-area")
        assert page.inner_text(".gis-measure-hint").startswith("Click to add points")
        click_lonlat(page, corners)
        page.click(".gis-measure-area")
        text = page.inner_text(".gis-measure-result")
        m = re.fullmatch(r"Area: ([\d,]+\.\d) m² \(([\d.]+) ha\), perimeter ([\d.,]+) m", text)
        assert m, text
        assert abs(en_number(m.group(1)) - 22_500) / 22_500 < 0.005
        assert page.inner_text(".gis-measure-note").startswith("computed in the plane of VN-2000")
