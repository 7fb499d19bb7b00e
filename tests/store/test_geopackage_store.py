"""The GeoPackage store: atomic replace, quarantine, log, diff, readable by GDAL's ogrinfo."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from gis.errors import StoreError
from gis.ingest import ingest_layer
from gis.store import GeoPackageStore, Store


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()



def test_ingest_writes_layer_quarantine_and_log(store_path, parcels_shp):
    store = GeoPackageStore(store_path)
    assert isinstance(store, Store)
    report = ingest_layer(store, parcels_shp, "parcels", user="tester")
    assert store.layers()["parcels"] == 3
    q = store.quarantine("parcels")
    assert len(q) == 3 and set(q["kind"]) == {"parcels"}
    log = store.ingest_log()
    assert len(log) == 1
    entry = log.iloc[0]
    assert entry["user"] == "tester" and entry["rows_total"] == 6
    assert entry["rows_loaded"] + entry["rows_quarantined"] == 6
    assert len(entry["source_sha256"]) == 64
    assert store.crs().to_epsg() == 5897
    assert report.diff.as_dict()["added"] == 3
    assert store.vacuum_check()


def test_reingest_prints_diff_and_replaces(store_path, parcels_shp, small_parcels, tmp_path):
    store = GeoPackageStore(store_path)
    ingest_layer(store, parcels_shp, "parcels")
    changed = small_parcels.copy()
    changed.loc[0, "KyHieuMucDichSuDung"] = "TMD"  # parcel 1 changes use
    changed = changed.drop(index=1)  # parcel 2 removed
    changed.loc[len(changed) + 10] = changed.iloc[0]
    changed.loc[changed.index[-1], "SoThuTuThua"] = 99  # parcel 99 added
    second = tmp_path / "v2" / "parcels.shp"
    second.parent.mkdir()
    changed.to_file(second)
    report = ingest_layer(store, second, "parcels")
    d = report.diff
    assert d.added == ("09880-1-99",)
    assert d.removed == ("09880-1-2",)
    assert d.changed == ("09880-1-1",)
    assert len(store.ingest_log()) == 2
    assert len(store.quarantine("parcels")) == 3  # replaced, not appended


def test_failure_half_way_leaves_store_intact(store_path, parcels_shp, monkeypatch):
    store = GeoPackageStore(store_path)
    ingest_layer(store, parcels_shp, "parcels")
    before = _sha(store_path)
    calls = {"n": 0}
    original = GeoPackageStore._write

    def failing_write(path, frame, layer):
        calls["n"] += 1
        if calls["n"] == 2:  # after the layer itself was written into the working copy
            raise OSError("disk full (simulated)")
        return original(path, frame, layer)

    monkeypatch.setattr(GeoPackageStore, "_write", staticmethod(failing_write))
    with pytest.raises(StoreError, match="disk full"):
        ingest_layer(store, parcels_shp, "parcels")
    assert _sha(store_path) == before
    assert not list(store_path.parent.glob(".store.gpkg.*.tmp.gpkg"))


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin (ogrinfo) not installed")
def test_store_opens_in_system_gdal(store_path, parcels_shp):
    ingest_layer(GeoPackageStore(store_path), parcels_shp, "parcels")
    out = subprocess.run(["ogrinfo", "-so", "-al", str(store_path)], capture_output=True,
                         text=True, check=True)
    assert "Layer name: parcels" in out.stdout
    assert "Feature Count: 3" in out.stdout
    assert "VN-2000 / TM-3 zone 482" in out.stdout
    assert "Layer name: ingest_log" in out.stdout
    assert "may only be partially supported" not in out.stderr


def test_reading_missing_layer_names_it(store_path):
    with pytest.raises(StoreError, match="no layer 'wards'"):
        GeoPackageStore(store_path).read("wards")
