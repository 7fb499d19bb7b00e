"""Shared fixtures: paths to the real public data in ../shared/data and small synthetic layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared(relative: str) -> Path:
    """Path of a file under ../shared/data; skips the test with a reason when absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real test data not available: {path} (see ../shared/data/README.md)")
    return path


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh GeoPackage store path, also set as GIS_STORE for CLI tests."""
    path = tmp_path / "store.gpkg"
    monkeypatch.setenv("GIS_STORE", str(path))
    return path


@pytest.fixture
def small_parcels() -> gpd.GeoDataFrame:
    """Six parcels in VN-2000 TM-3 105°00' (Hà Nội), cadastral field names, one bow-tie."""
    x0, y0 = 585_000.0, 2_330_000.0
    geoms = [shapely.box(x0 + i * 20, y0, x0 + i * 20 + 20, y0 + 30) for i in range(5)]
    geoms.append(shapely.Polygon([(x0, y0 + 40), (x0 + 20, y0 + 60), (x0 + 20, y0 + 40),
                                  (x0, y0 + 60)]))  # self-intersecting
    return gpd.GeoDataFrame({
        "MaXa": ["09880"] * 6,
        "SoHieuToBanDo": [1, 1, 1, 1, 1, 2],
        "SoThuTuThua": [1, 2, 3, 3, 0, 7],
        "DienTich": [600.0, 600.0, 700.0, 600.0, 600.0, 200.0],
        "KyHieuMucDichSuDung": ["ODT", "ODT+CLN", "BHK", "LUC", "COC", "DGT"],
        "TenChu": ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung",
                   "UBND phường An Bình", None],
    }, geometry=geoms, crs="EPSG:5897")


@pytest.fixture
def parcels_shp(tmp_path: Path, small_parcels: gpd.GeoDataFrame) -> Path:
    """``small_parcels`` written as a shapefile (names cut to 10 characters by the DBF)."""
    path = tmp_path / "src" / "parcels.shp"
    path.parent.mkdir()
    small_parcels.to_file(path, engine="pyogrio")
    return path


def make_map_store(tmp_path: Path, small_parcels: gpd.GeoDataFrame, note: str,
                   monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A store with the small parcels, one ward around them and one flagged case carrying
    ``note``; GIS_STORE and GIS_CATALOG point at it and at the repository's layers."""
    from gis.ingest import ingest_layer
    from gis.store import GeoPackageStore
    from gis.violations import flag

    src = tmp_path / "p.shp"
    small_parcels.to_file(src)
    wards = small_parcels[:1][["MaXa", "geometry"]].copy()
    wards["geometry"] = [shapely.box(*small_parcels.total_bounds).buffer(5)]
    wards.to_file(tmp_path / "w.gpkg")
    store = GeoPackageStore(tmp_path / "store.gpkg")
    ingest_layer(store, src, "parcels")
    ingest_layer(store, tmp_path / "w.gpkg", "wards")
    flag(store, shapely.Point(585_010, 2_330_015), kind="encroachment_public_land", who="x",
         notes=note)
    monkeypatch.setenv("GIS_STORE", str(store.path))
    monkeypatch.setenv("GIS_CATALOG", str(ROOT / "layers"))
    return store


#: tests that start real servers, a browser, QGIS, or run many generated cases: marked ``slow``
#: here in one place (``scripts/test -m "not slow"`` is the inner loop; CI runs everything)
SLOW = (
    "tests/api/test_faults.py::", "tests/clients/", "tests/corpus/", "tests/api/test_map_page.py::",
    "tests/render/test_map_browser.py::", "tests/render/test_map_tools_browser.py::",
    "tests/render/test_base_maps.py::", "chromium", "_in_a_browser", "on_a_phone",
    "test_eight_reports_at_once", "test_random_sheets_parse_and_add_up",
    "test_the_per_address_ceiling_holds", "test_any_ring_shape_is_accounted_for",
    "test_concurrent_writers_lose_nothing", "test_concurrent_flagging_and_updating_loses_nothing",
    "test_drawing_every_report_never_loads_pyplot", "test_random_sheets_through_files",
    "test_real_clearance.py::",
    # processes, subprocesses, a district built per module, a full route matrix
    "test_workers_opening_a_new_schema_together", "test_processes_at_once_lose_nothing",
    "tests/store/test_copy.py::", "test_change_tokens_follow_writes_of_another_process",
    "written_by_another_process", "test_random_filters_agree_with_pandas", "test_role_matrix",
    "tests/test_real_data.py::", "test_skipping_footprints_changes_no_candidate",
)


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    slow = pytest.mark.slow
    for item in items:
        if any(part in item.nodeid for part in SLOW):
            item.add_marker(slow)
