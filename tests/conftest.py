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
