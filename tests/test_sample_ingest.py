"""The sample district round trip: `gis sample` output ingests with exactly the planted problems."""

from __future__ import annotations

import json

import pytest

from gis.ingest import ingest_layer, prepare_layer
from gis.sample import generate_district, write_sample
from gis.store import GeoPackageStore


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    district = generate_district(3000, seed=11)
    write_sample(district, out / "utf8")
    write_sample(district, out / "tcvn3", legacy_encoding=True, drop_prj=True)
    return out


def _key(k):
    return f"{k[0]}-{k[1]}-{k[2]}"


def test_planted_parcel_problems_are_found_exactly(sample_dir):
    manifest = json.loads((sample_dir / "utf8" / "manifest.json").read_text(encoding="utf-8"))
    planted = manifest["planted"]["parcels"]
    report = prepare_layer(sample_dir / "utf8" / "parcels.shp", "parcels")
    issues = report.validation.issues

    def rows(rule):
        return sorted(issues.loc[issues["rule"] == rule, "row"].tolist())

    assert rows("invalid_geometry_repaired") == sorted(p["row"] + 1 for p in planted["bow_tie"])
    assert rows("parcel_number_zero") == sorted(p["row"] + 1 for p in planted["zero_parcel_number"])
    assert rows("duplicate_key") == sorted(r + 1 for p in planted["duplicate_key"] for r in p["rows"])
    assert rows("unknown_land_use") == sorted(p["row"] + 1 for p in planted["unknown_code"])
    mismatch = set(rows("area_mismatch"))
    assert {p["row"] + 1 for p in planted["area_mismatch"]} <= mismatch
    assert mismatch - {p["row"] + 1 for p in planted["area_mismatch"]} <= {
        p["row"] + 1 for p in planted["bow_tie"]}  # a repaired bow-tie loses half its area
    v = report.validation
    assert len(v.quarantine) == len(set(rows("parcel_number_zero")) | set(rows("duplicate_key")))
    assert len(v.valid) + len(v.quarantine) == manifest["counts"]["parcels"]
    assert v.valid["ward_code"].str.len().eq(5).all()
    assert v.valid["ward_code"].str.startswith("0").all()


def test_tcvn3_dbf_without_prj(sample_dir):
    path = sample_dir / "tcvn3" / "parcels.shp"
    assert not path.with_suffix(".prj").exists() and not path.with_suffix(".cpg").exists()
    inferred = prepare_layer(path, "parcels")  # no .prj: the ward codes name Hà Nội
    assert "EPSG:5897" in inferred.crs_working
    legacy = prepare_layer(path, "parcels", province="Hà Nội")
    modern = prepare_layer(sample_dir / "utf8" / "parcels.shp", "parcels")
    assert {d.column: d.encoding.value for d in legacy.decodings} == {
        "TenChu": "tcvn3", "DiaChi": "tcvn3"}
    a = legacy.validation.valid.set_index("parcel_key")["owner_name"]
    b = modern.validation.valid.set_index("parcel_key")["owner_name"]
    # TCVN3 has no capital toned vowels: compare case-insensitively, exactly otherwise
    assert (a.str.lower() == b.str.lower()).all()
    assert "EPSG:5897" in legacy.crs_working


def test_all_layers_ingest_into_one_store(sample_dir, tmp_path):
    store = GeoPackageStore(tmp_path / "s.gpkg")
    src = sample_dir / "utf8"
    for kind, name in [("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp"), ("buildings", "buildings.gpkg")]:
        report = ingest_layer(store, src / name, kind)
        assert report.stored
    layers = store.layers()
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    assert layers["wards"] == manifest["counts"]["wards"]
    assert layers["projects"] == manifest["counts"]["projects"]
    assert layers["buildings"] == manifest["counts"]["buildings"]
    projects = store.read("projects")
    assert set(projects["capital_source"]) <= {"STATE_BUDGET", "NON_BUDGET"}
    assert projects["capital_source"].notna().all() and projects["start_type"].notna().all()
    assert len(store.ingest_log()) == 4
