"""The store opens in QGIS (Debian python3-qgis, headless) as a normal GeoPackage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gis.ingest import ingest_layer
from gis.store import GeoPackageStore

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("qgis_layers.py")


def _has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _has_qgis(), reason="python3-qgis (QGIS 3.22) not installed")


def test_store_layers_open_in_qgis(tmp_path, small_parcels):
    src = tmp_path / "parcels.shp"
    small_parcels.to_file(src)
    store = GeoPackageStore(tmp_path / "store.gpkg")
    ingest_layer(store, src, "parcels")
    out = subprocess.run([SYSTEM_PYTHON, str(SCRIPT), str(store.path), "parcels", "quarantine",
                          "ingest_log"], capture_output=True, text=True, timeout=120,
                         env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
                              "PATH": "/usr/bin:/bin"})
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " valid=" in line)
    assert lines["parcels"] == "valid=True count=3 crs=EPSG:5897", out.stdout + out.stderr
    assert lines["quarantine"].startswith("valid=True count=3")
    assert lines["ingest_log"].startswith("valid=True count=1")
