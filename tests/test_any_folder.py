"""Commands work from any folder: the catalog (layers/, with rules, sheets and styles) and the
map specs (maps/) ship with the package; GIS_CATALOG, --catalog and --config override them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import yaml

from tests.conftest import ROOT, make_map_store


def _gis(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gis.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def elsewhere(tmp_path, small_parcels, monkeypatch):
    """A store with parcels, a ward, a case and one building; a working folder far from the
    repository; the environment with no GIS_CATALOG."""
    from gis.ingest import ingest_layer

    store = make_map_store(tmp_path, small_parcels, "note", monkeypatch)
    building = gpd.GeoDataFrame({"floors": [2]}, geometry=[shapely.box(585_002, 2_330_002,
                                                                       585_012, 2_330_012)],
                                crs="EPSG:5897")  # on parcel 1 (ODT): no violation
    building.to_file(tmp_path / "b.gpkg")
    ingest_layer(store, tmp_path / "b.gpkg", "buildings")
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env.update(PYTHONPATH=str(ROOT), GIS_STORE=str(store.path), GIS_DATA_DIR=str(work / "data"))
    return work, env


@pytest.mark.slow
def test_commands_run_from_another_folder(elsewhere):
    work, env = elsewhere
    res = _gis(["map", "list"], work, env)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "district" in res.stdout
    res = _gis(["catalog", "validate"], work, env)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "ok parcels" in res.stdout and "ok buildings" in res.stdout
    res = _gis(["violations", "detect"], work, env)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "candidates" in res.stdout
    res = _gis(["map", "build", "district", "--out", "m.html"], work, env)
    assert res.returncode == 0, res.stderr + res.stdout
    assert (work / "m.html").stat().st_size > 10_000
    assert not (work / "data" / "logs").exists()  # nothing unexpected happened


def test_shipped_folders_are_the_repository_folders():
    from gis.resources import shipped_folder
    from gis.settings import IngestSettings, ServiceSettings

    assert shipped_folder("layers").resolve() == (ROOT / "layers").resolve()
    assert shipped_folder("maps").resolve() == (ROOT / "maps").resolve()
    env = {k: v for k, v in os.environ.items() if k.startswith("GIS_")}
    if "GIS_CATALOG" not in env:
        assert IngestSettings().catalog == shipped_folder("layers")
    if "GIS_MAPS" not in env:
        assert ServiceSettings().maps == shipped_folder("maps")


def test_gis_catalog_overrides_the_shipped_one(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gis.cli import cli

    (tmp_path / "only.yaml").write_text(
        (ROOT / "layers" / "wards.yaml").read_text(encoding="utf-8").replace("id: wards",
                                                                            "id: only"),
        encoding="utf-8")
    monkeypatch.setenv("GIS_CATALOG", str(tmp_path))
    res = CliRunner().invoke(cli, ["catalog", "validate"])
    assert res.exit_code == 0, res.output
    assert "ok only" in res.output and "parcels" not in res.output


def test_config_copied_elsewhere_finds_its_style_in_the_catalog(tmp_path):
    from gis.catalog import load_layer_spec

    data = yaml.safe_load((ROOT / "layers" / "parcels.yaml").read_text(encoding="utf-8"))
    if not isinstance(data.get("style"), str):
        data["style"] = "styles/landuse.yaml"
    copy = tmp_path / "my_parcels.yaml"
    copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    spec = load_layer_spec(copy, catalog=ROOT / "layers")
    assert spec.style is not None and spec.style.colors
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles" / Path(data["style"]).name).write_text(
        "by: land_use\ncolors: {ODT: '#ff0000'}\n", encoding="utf-8")
    own = load_layer_spec(copy, catalog=ROOT / "layers")  # its own folder wins
    assert own.style.colors == {"ODT": "#ff0000"}
