"""The OGC API – Features end point read by the planners' real clients, over HTTP against a real
`gis serve`: GDAL's OAPIF driver (ogrinfo, ogr2ogr; Debian gdal-bin) and QGIS 3.22 (Debian
python3-qgis, headless), both signing in with HTTP Basic."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from gis.io.write import reproject
from gis.store import GeoPackageStore

# the service fixtures live with the API tests; these clients use them too
from tests.api.conftest import PASSWORD, make_service, sample_store, start_server  # noqa: F401
from tests.api.test_ogc import clearance_store  # noqa: F401
from tests.browser import launch
from tests.conftest import ROOT

OGRINFO, OGR2OGR = shutil.which("ogrinfo"), shutil.which("ogr2ogr")
SYSTEM_PYTHON = "/usr/bin/python3"
QGIS_SCRIPT = Path(__file__).with_name("qgis_oapif.py")
#: collection → store table (the sample store has the clearance report written back)
TABLES = {"parcels": "parcels", "projects": "clearance_projects", "clearance": "project_parcels",
          "violations": "violation_cases", "wards": "wards", "buildings": "buildings"}
IDS = {"parcels": "parcel_key", "violations": "case_id", "wards": "ward_code",
       "projects": "project_id", "buildings": "building_id"}

needs_gdal = pytest.mark.skipif(OGRINFO is None or OGR2OGR is None,
                                reason="GDAL's ogrinfo/ogr2ogr (Debian gdal-bin) not installed")


def _has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"],
                          capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="module")
def oapif(clearance_store, tmp_path_factory):  # noqa: F811
    """`gis serve` on loopback over a copy of the sample store with the clearance report."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        service = make_service(tmp_path_factory.mktemp("oapif"), clearance_store, monkeypatch)
        server = start_server(service)
        try:
            yield server
        finally:
            server.stop()


def _gdal(*args: str, user: str | None = "viewer", password: str | None = None,
          cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GDAL_HTTP", "CPL_", "OGR_"))}
    env["OGR_GEOJSON_DATE_AS_STRING"] = "YES"  # see test_gdal_keeps_keys_that_look_like_dates
    if user:
        env |= {"GDAL_HTTP_AUTH": "BASIC",
                "GDAL_HTTP_USERPWD": f"{user}:{password or PASSWORD.format(role=user)}"}
    return subprocess.run(list(args), check=False, capture_output=True, text=True, timeout=300, env=env,
                          cwd=cwd)


def _count(store: Path, table: str) -> int:
    return int(pyogrio.read_info(store, layer=table)["features"])


@needs_gdal
def test_ogrinfo_lists_the_collections_with_basic_credentials(oapif):
    url = f"OAPIF:{oapif.url}/ogc"
    res = _gdal(OGRINFO, "-ro", "-so", url)
    assert res.returncode == 0, res.stderr
    layers = re.findall(r"^\d+: (\w+) \(title: ([^)]*\)?)\) \(([\w ]+)\)$", res.stdout, re.MULTILINE)
    assert [name for name, _, _ in layers] == list(TABLES)
    assert ("parcels", "Thửa đất", "Multi Polygon") in layers
    assert ("violations", "Vụ việc vi phạm đất đai", "Polygon") in layers
    refused = _gdal(OGRINFO, "-ro", "-so", url, user=None)
    assert refused.returncode != 0 and "401" in refused.stderr + refused.stdout
    wrong = _gdal(OGRINFO, "-ro", "-so", url, password="not-the-password")
    assert wrong.returncode != 0


@needs_gdal
def test_ogrinfo_counts_equal_the_store(oapif):
    res = _gdal(OGRINFO, "-ro", "-so", f"OAPIF:{oapif.url}/ogc", *TABLES)
    assert res.returncode == 0, res.stderr
    counts = dict(re.findall(r"^Layer name: (\w+)\n(?:.*\n)*?Feature Count: (\d+)$", res.stdout,
                             re.MULTILINE))
    store = oapif.service.store
    assert {k: int(v) for k, v in counts.items()} == {c: _count(store, t) for c, t in TABLES.items()}
    assert "Extent: (105." in res.stdout  # lon/lat of Hà Nội, not VN-2000 metres


def _direct(store: Path, table: str) -> pd.DataFrame:
    """The store layer as a direct export gives it in WGS 84 (pinned EPSG:6960)."""
    return reproject(GeoPackageStore(store).read(table), "EPSG:4326")


def _same(served, direct, key: str) -> None:  # type: ignore[no-untyped-def]
    served = served.set_index("id")
    direct = direct.set_index(key, drop=False)
    assert served.index.is_unique and set(served.index) == set(direct.index)
    direct = direct.loc[served.index]
    for column in served.columns:
        if column == "geometry" or column not in direct.columns:
            continue
        a, b = served[column], direct[column]
        if pd.api.types.is_numeric_dtype(b) and pd.api.types.is_numeric_dtype(a) and \
                not pd.api.types.is_bool_dtype(b):
            same = np.isclose(a.astype(float), b.astype(float), equal_nan=True)
        else:
            same = (a.astype("string").fillna("\0") == b.astype("string").fillna("\0")).to_numpy()
        assert same.all(), (column, a[~same].head(3).tolist(), b[~same].head(3).tolist())
    dropped = {"geometry_original_wkt", "extra", "source_row", "fingerprint", "rank"}
    assert set(direct.columns) - set(served.columns) <= dropped | {"geometry", "id"}
    distance = shapely.hausdorff_distance(served.geometry.values, direct.geometry.values)
    assert float(np.max(distance)) < 1e-7  # ~1 cm; the API rounds to 1e-8 degree


@needs_gdal
def test_ogr2ogr_export_through_the_api_equals_the_direct_export(oapif, tmp_path):
    from gis.cli import cli

    store = oapif.service.store
    out = tmp_path / "served.gpkg"
    res = _gdal(OGR2OGR, "-f", "GPKG", str(out), f"OAPIF:{oapif.url}/ogc", *TABLES)
    assert res.returncode == 0, res.stderr
    for collection, table in TABLES.items():  # every feature read, page after page
        assert _count(out, collection) == _count(store, table), collection
    direct = tmp_path / "direct.gpkg"
    res = CliRunner(env={"GIS_STORE": str(store), "GIS_CATALOG": str(ROOT / "layers")}).invoke(
        cli, ["export", "parcels", "--format", "gpkg", "--crs", "EPSG:4326", "--out", str(direct)])
    assert res.exit_code == 0, res.output
    exported = pyogrio.read_dataframe(direct)
    _same(pyogrio.read_dataframe(out, layer="parcels"), exported, "parcel_key")
    for collection in ("violations", "wards", "projects"):
        _same(pyogrio.read_dataframe(out, layer=collection),
              _direct(store, TABLES[collection]), IDS[collection])
    parts = _direct(store, "project_parcels")
    parts["id"] = parts["project_id"] + ":" + parts["parcel_key"]
    _same(pyogrio.read_dataframe(out, layer="clearance"), parts, "id")
    served = pyogrio.read_info(out, layer="parcels")
    assert served["crs"] == "EPSG:4326"
    fields = dict(zip(served["fields"], served["dtypes"]))
    assert fields["map_sheet"] == "int32" and fields["is_public"] == "bool"  # typed by /schema


@needs_gdal
def test_gdal_filters_reach_the_server(oapif):
    store = oapif.service.store
    cases = GeoPackageStore(store).read("violation_cases")
    ward = cases["ward_code"].mode()[0]
    res = _gdal(OGRINFO, "-ro", "-so", f"OAPIF:{oapif.url}/ogc", "violations",
                "-where", f"ward_code = '{ward}'")
    assert res.returncode == 0, res.stderr
    assert f"Feature Count: {int((cases['ward_code'] == ward).sum())}" in res.stdout
    parcels = _direct(store, "parcels")
    minx, miny, maxx, maxy = parcels.total_bounds
    box = (minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)
    want = int(parcels.intersects(shapely.box(*box)).sum())
    res = _gdal(OGRINFO, "-ro", "-so", f"OAPIF:{oapif.url}/ogc", "parcels",
                "-spat", *(f"{v:.9f}" for v in box))
    assert res.returncode == 0, res.stderr
    assert f"Feature Count: {want}" in res.stdout and 0 < want < len(parcels)


@needs_gdal
def test_gdal_keeps_keys_that_look_like_dates(oapif):
    """GDAL's GeoJSON reader takes "09880-1-2" (ward-sheet-number) for the date 9880-01-02 when
    a whole page looks like dates; OGR_GEOJSON_DATE_AS_STRING=YES (what the landing page tells
    planners to set, in GDAL and in QGIS) keeps the text. The feature id is never touched."""
    res = _gdal(OGR2OGR, "-limit", "3", "-f", "GeoJSON", "/vsistdout/",
                f"OAPIF:{oapif.url}/ogc", "parcels", "-select", "parcel_key")
    assert res.returncode == 0, res.stderr
    assert re.findall(r'"parcel_key": "([^"]+)"', res.stdout) == ["09880-1-1", "09880-1-2",
                                                                 "09880-1-3"]


@pytest.mark.skipif(not _has_qgis(), reason="python3-qgis (QGIS 3.22) not installed")
def test_qgis_loads_every_collection_with_a_basic_authcfg(oapif, tmp_path):
    store = oapif.service.store
    keys = {**IDS, "clearance": "parcel_key"}
    out = subprocess.run([SYSTEM_PYTHON, str(QGIS_SCRIPT), f"{oapif.url}/ogc", "viewer",
                          PASSWORD.format(role="viewer"), *(f"{c}:{keys[c]}" for c in TABLES)],
                         check=False, capture_output=True, text=True, timeout=300,
                         env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
                              "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                              "OGR_GEOJSON_DATE_AS_STRING": "YES"})
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " valid=" in line)
    assert list(lines) == list(TABLES), out.stdout + out.stderr[-2000:]
    for collection, table in TABLES.items():
        n = _count(store, table)
        assert lines[collection].startswith(f"valid=True count={n} read={n} crs=EPSG:4326 "), \
            (collection, out.stdout)
    first = {c: lines[c].rsplit(" first=", 1)[1].split("|") for c in TABLES}
    assert first["parcels"] == ["09880-1-1", "09880-1-1"]  # the key as text, not a date
    assert first["violations"] == ["VP-2026-00001", "VP-2026-00001"]
    project, parcel = first["clearance"][0].split(":")
    assert first["clearance"][1] == parcel and project.startswith("DA-")


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
def test_html_pages_in_a_browser_draw_the_page_on_the_map(oapif, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    outside: list[str] = []
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = launch(p, CHROMIUM)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def route(r):  # type: ignore[no-untyped-def]
            url = r.request.url
            if url.endswith("/favicon.ico"):  # base.html names no icon; not this page's error
                return r.fulfill(status=204)
            if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:")):
                return r.continue_()
            outside.append(url)
            return r.abort()

        page.route("**/*", route)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{oapif.url}/ogc/collections/violations/items?f=html")
        page.fill("input[name=name]", "viewer")  # sent to the sign-in form first
        page.fill("input[name=password]", PASSWORD.format(role="viewer"))
        page.click("button[type=submit]")
        page.wait_for_url("**/ogc/collections/violations/items?f=html")
        page.wait_for_selector("#ogc-map[data-loaded]")
        rows = page.locator("table.ogc-items tbody tr").count()
        assert rows > 0 and page.get_attribute("#ogc-map", "data-loaded") == str(rows)
        assert page.locator(".leaflet-overlay-pane canvas").count() == 1  # drawn on a canvas
        page.select_option("select[name=limit]", "10")
        page.click("form.ogc-filter button[type=submit]")
        page.wait_for_selector("#ogc-map[data-loaded]")
        page.screenshot(path=str(tmp_path / "violations.png"))
        page.goto(f"{oapif.url}/ogc/collections/parcels/items/09880-1-2?f=html&lang=en")
        page.wait_for_selector("#ogc-map[data-loaded='1']")
        assert "Parcels: 09880-1-2" in page.inner_text("h1")
        page.goto(f"{oapif.url}/ogc?f=html")
        assert "OGR_GEOJSON_DATE_AS_STRING=YES" in page.inner_text("main")
        browser.close()
    assert outside == []
    assert errors == []
