"""What the district map shows: clearance status of project parts, project progress, candidates
vs confirmed cases, public land, --project/--ward scopes, Vietnamese numbers; in Chromium."""

from __future__ import annotations

import datetime as dt
import shutil

import geopandas as gpd
import pytest
import shapely

from gis.catalog import load_catalog, load_map_spec
from gis.errors import GisError
from gis.render.build import build_map, layer_frames, render_html, resolve_layers
from gis.render.scope import scope_tables
from tests.browser import launch
from tests.conftest import ROOT

CRS = "EPSG:9210"  # VN-2000 / TM-3 105°45' (Hà Nội)


def _frame(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def _square(x: float, y: float, side: float = 20.0) -> shapely.Polygon:
    return shapely.box(x, y, x + side, y + side)


@pytest.fixture
def tables() -> dict[str, gpd.GeoDataFrame]:
    x0, y0 = 585_000.0, 2_330_000.0
    parcels = _frame([
        {"parcel_key": f"09880-1-{i}", "ward_code": "09880", "map_sheet": 1, "parcel_no": i,
         "land_use": "LUC" if i % 2 else "ODT", "land_group": "agricultural" if i % 2 else
         "non_agricultural", "area_m2": 1052.19, "owner_name": "Nguyễn Văn Ánh",
         "address": "Thôn Đông", "is_public": i == 3, "public_rule": "DGT" if i == 3 else None,
         "geometry": _square(x0 + 25 * i, y0)} for i in range(1, 6)]
        + [{"parcel_key": "09883-1-1", "ward_code": "09883", "map_sheet": 1, "parcel_no": 1,
            "land_use": "ONT", "land_group": "non_agricultural", "area_m2": 400.0,
            "is_public": False, "geometry": _square(x0 + 2000, y0)}])
    wards = _frame([{"ward_code": "09880", "name": "Phường Đông", "district": "Quận A",
                     "geometry": shapely.box(x0 - 10, y0 - 10, x0 + 200, y0 + 50)},
                    {"ward_code": "09883", "name": "Phường Tây", "district": "Quận A",
                     "geometry": shapely.box(x0 + 1990, y0 - 10, x0 + 2100, y0 + 50)}])
    project = shapely.box(x0 + 20, y0 - 5, x0 + 75, y0 + 25)
    projects = _frame([
        {"project_id": "DA-001", "name": "Đường vành đai", "investor": "Ban QLDA",
         "capital_source": "STATE_BUDGET", "key_project": True, "planned_area_ha": 0.17,
         "parcels_affected": 2, "parcels_handed_over": 1, "compensation_approved_vnd": 182_900_000_000,
         "compensation_paid_vnd": 91_450_000_000, "pct_area_recovered": 45.5,
         "pct_plans_approved": 100.0, "pct_paid": 50.0, "geometry": project},
        {"project_id": "DA-002", "name": "Trường học", "investor": "UBND",
         "capital_source": "NON_BUDGET", "key_project": False, "planned_area_ha": 0.04,
         "pct_area_recovered": 0.0, "pct_plans_approved": 0.0, "pct_paid": 0.0,
         "geometry": _square(x0 + 2000, y0)}])
    parts = _frame([
        {"project_id": "DA-001", "parcel_key": "09880-1-1", "ward_code": "09880",
         "status": "HANDED_OVER", "share": 0.25, "handed_over": True, "complaint": False,
         "geometry": _square(x0 + 25, y0).intersection(project)},
        {"project_id": "DA-001", "parcel_key": "09880-1-2", "ward_code": "09880",
         "status": "PLAN_APPROVED", "share": 1.0, "handed_over": False, "complaint": True,
         "approved_vnd": 1_250_000_000, "geometry": _square(x0 + 50, y0).intersection(project)}])
    now = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC).isoformat()
    cases = _frame([
        {"case_id": "VP-2026-00001", "kind": "encroachment_public_land", "status": "DETECTED",
         "source": "detection", "ward_code": "09880", "area_m2": 12.5, "created_at": now,
         "notes": "<img src=x onerror=window.pwned=1> lấn chiếm", "geometry": _square(x0 + 75, y0, 3)},
        {"case_id": "VP-2026-00002", "kind": "construction_on_agricultural_land",
         "status": "MINUTES_ISSUED", "source": "inspector", "ward_code": "09880",
         "minutes_no": "12/BB-UBND", "area_m2": 48.0, "created_at": now,
         "geometry": _square(x0 + 100, y0, 5)}])
    return {"parcels": parcels, "wards": wards, "clearance_projects": projects,
            "project_parcels": parts, "violation_cases": cases}


def _layers():
    spec = load_map_spec(ROOT / "maps" / "district.yaml")
    return spec, resolve_layers(spec, load_catalog(ROOT / "layers"))


def test_district_map_resolves_styles_tables_and_filters(tables):
    spec, layers = _layers()
    keys = [layer.key for layer in layers]
    assert keys == ["wards", "units", "parcels", "public_land", "buildings", "project_parcels",
                    "projects", "violation_cases"]
    frames = layer_frames(layers, tables, today=dt.date(2026, 11, 23))
    assert "buildings" not in frames  # no such table: left out, not an error
    assert list(frames["public_land"]["parcel_key"]) == ["09880-1-3"]  # where: is_public
    assert len(frames["projects"]) == 2  # clearance_projects preferred to projects
    assert list(frames["violation_cases"]["age_days"]) == [3, 3]  # days in Vietnam's time zone
    status = next(layer for layer in layers if layer.key == "project_parcels").style
    from gis.core.clearance.status import LABELS_VI, Status

    # one colour per status of the workflow, labelled as the clearance report labels it
    assert {s.value for s in Status} <= set(status.colors)
    assert all(status.labels[s.value].vi == LABELS_VI[s] for s in Status)


def test_map_html_carries_formats_rules_and_only_present_categories(tables):
    spec, layers = _layers()
    frames = layer_frames(layers, tables, today=dt.date(2026, 11, 23))
    html = render_html(build_map(spec, layers, frames, lang="vi"))
    assert '"unit":"tỷ đồng"' in html and '"scale":1e-09' in html
    assert "Nghi vấn (phát hiện tự động, chưa xác minh)" in html  # candidate rule in the legend
    assert "Dự án trọng điểm" in html
    assert "Đã bàn giao mặt bằng" in html and "Đã phê duyệt phương án" in html
    assert "Đã kiểm đếm" not in html.split("gisLegendDraw")[0]  # absent statuses: no legend row
    assert "onerror=window.pwned=1" in html  # data, inside JSON, never markup


def test_project_and_ward_scopes(tables):
    scoped = scope_tables(tables, project="DA-001")
    assert list(scoped["clearance_projects"]["project_id"]) == ["DA-001"]
    assert len(scoped["project_parcels"]) == 2
    # parcels the project touches plus neighbours within 30 m; not the other ward's parcel
    assert set(scoped["parcels"]["parcel_key"]) >= {"09880-1-1", "09880-1-2"}
    assert "09883-1-1" not in set(scoped["parcels"]["parcel_key"])
    assert list(scoped["wards"]["ward_code"]) == ["09880"]
    ward = scope_tables(tables, ward="09883")
    assert list(ward["parcels"]["parcel_key"]) == ["09883-1-1"]
    assert list(ward["clearance_projects"]["project_id"]) == ["DA-002"]  # by intersection
    assert ward["violation_cases"].empty
    with pytest.raises(GisError, match="no project 'DA-404'.*known: DA-001, DA-002"):
        scope_tables(tables, project="DA-404")
    with pytest.raises(GisError, match="no ward '99999'"):
        scope_tables(tables, ward="99999")


def test_two_layers_of_one_table_need_distinct_ids(tmp_path):
    spec_file = tmp_path / "m.yaml"
    spec_file.write_text("id: m\ntitle: {vi: a, en: b}\nlayers:\n  - layer: parcels\n"
                         "  - table: parcels\n    title: {vi: c, en: d}\n", encoding="utf-8")
    with pytest.raises(GisError, match="give one an `id:`"):
        resolve_layers(load_map_spec(spec_file), load_catalog(ROOT / "layers"))


CHROMIUM = shutil.which("chromium")


# the largest layer a map may draw with L.GeoJSON: default (none of these), 5 (only the six
# parcels are a bulk layer, under and over GeoJSON layers), -1 (every layer is a bulk layer)
BULK = {"geojson": None, "mixed": 5, "bulk": -1}


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
@pytest.mark.parametrize("mode", list(BULK))
def test_popups_progress_and_legend_in_chromium(tables, tmp_path, mode, monkeypatch):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    if BULK[mode] is not None:
        monkeypatch.setattr("gis.render.elements.BULK_FEATURES", BULK[mode])
    spec, layers = _layers()
    frames = layer_frames(layers, tables, today=dt.date(2026, 11, 23))
    page_file = tmp_path / "m.html"
    page_file.write_text(render_html(build_map(spec, layers, frames, lang="vi")), encoding="utf-8")
    outside: list[str] = []
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = launch(p, CHROMIUM)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
            ("file:", "data:", "blob:", "about:")) else (outside.append(r.request.url), r.abort()))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_function("window.gisLayers && window.gisLayers.violation_cases")
        bulk = page.evaluate("""() => Object.keys(window.gisLayers).filter(function (k) {
            return window.gisLayers[k] instanceof window.GisBulkLayer; }).sort()""")
        assert bulk == {"geojson": [], "mixed": ["parcels"],
                        "bulk": sorted(["wards", "parcels", "public_land", "project_parcels",
                                        "projects", "violation_cases"])}[mode]

        def popup(layer: str, key: str, value: str) -> str:
            return page.evaluate("""([layer, key, value]) => {
                var text = null;
                window.gisLayers[layer].eachLayer(function (f) {
                  if (f.feature.properties[key] === value) {
                    f.openPopup(); text = f.getPopup().getElement().innerText;
                  }
                });
                return text; }""", [layer, key, value])

        project = popup("projects", "project_id", "DA-001")
        assert "182,9 tỷ đồng" in project and "91,5 tỷ đồng" in project
        assert "Diện tích đã thu hồi: 45,5 %" in project and "Vốn ngân sách" in project
        assert page.evaluate("document.querySelectorAll('.gis-progress').length") == 3
        parcel = popup("parcels", "parcel_key", "09880-1-1")
        assert "1.052,19 m²" in parcel and "Nguyễn Văn Ánh" in parcel
        part = popup("project_parcels", "parcel_key", "09880-1-2")
        assert "Đã phê duyệt phương án" in part and "1,3 tỷ đồng" in part and "Không" in part
        case = popup("violation_cases", "case_id", "VP-2026-00001")
        assert "Lấn, chiếm đất công" in case and "Phát hiện" in case and "3 ngày" in case
        assert "<img src=x onerror=window.pwned=1> lấn chiếm" in case
        assert page.evaluate("window.pwned === undefined")
        confirmed = popup("violation_cases", "case_id", "VP-2026-00002")
        assert "12/BB-UBND" in confirmed and "Đã lập biên bản" in confirmed
        # candidates dashed and lighter, confirmed solid; key project thicker
        styles = page.evaluate("""() => { var out = {};
            window.gisLayers.violation_cases.eachLayer(function (f) {
              out[f.feature.properties.case_id] = [f.options.dashArray, f.options.fillOpacity]; });
            window.gisLayers.projects.eachLayer(function (f) {
              out[f.feature.properties.project_id] = f.options.weight; });
            return out; }""")
        assert styles["VP-2026-00001"] == ["5 4", 0.25] and styles["VP-2026-00002"] == [None, 0.7]
        assert styles["DA-001"] == 5 and styles["DA-002"] == 2
        # a real click reaches a parcel under the layers drawn above it (one shared canvas)
        page.evaluate("window.gisLayers.parcels._map.closePopup()")
        point = page.evaluate("""() => { var map = window.gisLayers.parcels._map, hit = null;
            window.gisLayers.parcels.eachLayer(function (f) {
              if (f.feature.properties.parcel_key === '09880-1-5') {
                map.fitBounds(f.getBounds(), {animate: false, maxZoom: 19});
                hit = map.latLngToContainerPoint(f.getBounds().getCenter()); } });
            var box = map.getContainer().getBoundingClientRect();
            return [hit.x + box.left, hit.y + box.top]; }""")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(() => setTimeout(r, 50))))")
        page.mouse.click(point[0], point[1])
        # the parcel's popup (the case popup closed just before may still be fading out)
        page.wait_for_function("""() => { var p = document.querySelector(
            '.leaflet-popup-content'); return p && p.innerText.includes('09880-1-5'); }""",
                               timeout=15_000)
        assert "09880-1-5" in page.inner_text(".leaflet-popup-content")
        # the pointer over a parcel shows its key, and the next parcel's when it moves on
        page.mouse.move(point[0] + 1, point[1] + 1)
        page.wait_for_function("""() => { var t = document.querySelector('.leaflet-tooltip');
                                          return t && t.innerText === '09880-1-5'; }""")
        page.evaluate("window.gisLayers.parcels._map.closePopup()")

        def centre(layer: str, key: str, value: str) -> list[float]:
            return page.evaluate("""([layer, key, value]) => {
                var map = window.gisLayers.parcels._map, hit = null;
                window.gisLayers[layer].eachLayer(function (f) {
                  if (f.feature.properties[key] === value) {
                    hit = map.latLngToContainerPoint(f.getBounds().getCenter()); } });
                var box = map.getContainer().getBoundingClientRect();
                return [hit.x + box.left, hit.y + box.top]; }""", [layer, key, value])

        page.evaluate("""window.gisLayers.parcels._map.fitBounds(
            window.gisLayers.parcels.getBounds(), {animate: false})""")
        # the renderers reproject their shapes on the next animation frames: a click before
        # that is tested against the shapes of the previous view (no hand is that fast)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(() => setTimeout(r, 50))))")
        four = centre("parcels", "parcel_key", "09880-1-4")
        page.mouse.move(four[0] - 3, four[1])
        page.mouse.move(four[0], four[1])
        page.wait_for_function("""() => { var t = document.querySelector('.leaflet-tooltip');
                                          return t && t.innerText === '09880-1-4'; }""")
        # a case drawn over parcel 4: a click on it opens the case, the top-most feature
        case = centre("violation_cases", "case_id", "VP-2026-00002")
        page.mouse.click(case[0], case[1])
        page.wait_for_function("""() => { var p = document.querySelector('.leaflet-popup-content');
                                          return p && p.innerText.indexOf('VP-2026-00002') >= 0; }""")
        assert "VP-2026-00002" in page.inner_text(".leaflet-popup-content")
        page.evaluate("window.gisLayers.parcels._map.closePopup()")
        # the legend follows the layer control: hidden layers have no entry until switched on
        legend = page.inner_text(".gis-legend")
        assert "Tiến độ GPMB theo thửa" in legend and "Đất công" not in legend
        page.evaluate("window.gisLayers.public_land.addTo(window.gisLayers.parcels._map)")
        page.evaluate("window.gisLayers.parcels._map.fire('overlayadd')")
        assert "Đất công" in page.inner_text(".gis-legend")
        page.screenshot(path=str(tmp_path / "layers.png"))
        browser.close()
    assert outside == [] and errors == []
