"""Units and parcels loaded at the same time by different officers, on both backends: nothing is
lost and every parcel ends in the unit holding it, whichever load commits first (issue 13).

Three processes start together on one store of the sample moved onto Thị xã Sơn Tây: the 2025
units' polygons, the parcels of some wards, the parcels of the others. Whatever the order the
writers' lock gives them, a parcels load places its rows against the units as they are when it
commits, and a units load re-places the stored parcels in its own transaction; so at the end
every parcel of both files is there, placed by geometry, with three lines in the ingest log.
And a units load killed half-way leaves the store as it was.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from gis.io.admin_units import load_registry
from gis.sample import generate_district, write_sample
from gis.sample.units import district_wards, on_real_district, unit_polygons
from gis.store import open_store
from tests.conftest import ROOT
from tests.store import conftest as store_conftest

pytestmark = pytest.mark.slow

#: one fresh store per backend, as the store conformance suite has it
location = store_conftest.location


@pytest.fixture(scope="module")
def files(tmp_path_factory):  # type: ignore[no-untyped-def]
    import geopandas as gpd

    reg = load_registry()
    real = on_real_district(generate_district(2000, seed=3),
                            district_wards(reg, "Thị xã Sơn Tây", "Thành phố Hà Nội"))
    folder = tmp_path_factory.mktemp("writers")
    write_sample(real, folder)
    unit_polygons(real.wards, reg).to_file(folder / "units.gpkg", layer="units")
    parcels = gpd.read_file(folder / "parcels.shp", encoding="utf-8")
    wards = sorted(parcels["MaXa"].unique())
    half = wards[: len(wards) // 2]
    for name, part in (("east", parcels[parcels["MaXa"].isin(half)]),
                       ("west", parcels[~parcels["MaXa"].isin(half)])):
        part.to_file(folder / f"{name}.shp", encoding="utf-8")
    return folder


def _gis(location: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "GIS_STORE": location, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "gis.cli", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_units_and_two_wards_loaded_at_once_lose_nothing(files, location):
    loads = [_gis(location, "ingest", "units", str(files / "units.gpkg"), "--user", "so"),
             _gis(location, "ingest", "parcels", str(files / "east.shp"), "--user", "a"),
             _gis(location, "ingest", "parcels", str(files / "west.shp"), "--user", "b")]
    for load in loads:
        out, _ = load.communicate(timeout=300)
        assert load.returncode == 0, out
    store = open_store(location)
    parcels = store.read("parcels")
    log = store.ingest_log()
    expected = sum(int(line) for line in log.loc[log["kind"] == "parcels", "rows_loaded"])
    assert len(parcels) == expected > 0  # both wards' parcels, none lost
    assert sorted(log["kind"]) == ["parcels", "parcels", "units"]
    assert set(parcels["unit_source"]) == {"geometry"}  # whichever came first
    assert set(parcels["unit_code"]) <= set(store.read("units")["unit_code"])


def test_a_units_load_killed_half_way_leaves_the_old_state(files, location, tmp_path):
    first = _gis(location, "ingest", "parcels", str(files / "parcels.shp"))
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 0, out
    store = open_store(location)
    before = store.read("parcels").drop(columns="geometry").to_json()
    inside = tmp_path / "inside"
    script = (
        "import sys, time, pathlib\n"
        "import gis.ingest as ingest\n"
        "import gis.units as units\n"  # gis.units.parcels_after places the stored parcels
        "real = units.with_units\n"
        "def slow(*a, **k):\n"
        "    out = real(*a, **k)\n"
        f"    pathlib.Path({str(inside)!r}).touch()\n"
        "    time.sleep(60)\n"
        "    return out\n"
        "units.with_units = slow\n"
        "from gis.store import open_store\n"
        f"ingest.ingest_layer(open_store({location!r}), {str(files / 'units.gpkg')!r}, 'units')\n")
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while not inside.exists() and time.monotonic() < deadline and writer.poll() is None:
        time.sleep(0.1)
    assert inside.exists(), "the units load never reached the parcels' placement"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    store = open_store(location)
    assert not store.has("units")
    assert store.read("parcels").drop(columns="geometry").to_json() == before
    assert list(store.ingest_log()["kind"]) == ["parcels"]
