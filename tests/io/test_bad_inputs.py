"""A corpus of bad inputs, generated in tmp_path (nothing downloaded, no binary committed).

Each refused input must:

* raise the specific :class:`~gis.errors.GisError` subclass, whose message names the file and,
  where it applies, the layer, row and field;
* make ``gis ingest parcels PATH`` exit non-zero with one ``Error:`` line and no traceback;
* leave the store as it was: absent when it did not exist, byte-identical when it already held a
  good parcels layer (``small_parcels`` ingested non-strict; its planted bad rows are quarantined).

Inputs that are merely unusual (a lying ``.cpg``, Z/M coordinates, GeometryCollections, a zip with
nested folders) must load, with the note that says what was done.

CLI tests run in an empty working directory, so that the repository's ``layers/`` catalog (whose
``province: Hà Nội`` would pick the CRS zone) does not mask the errors under test.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyogrio.raw import write as raw_write

from gis.cli import cli
from gis.errors import (
    CRSError,
    DataSourceError,
    GisError,
    ParcelValidationError,
    UnsafeArchiveError,
)
from gis.ingest import ingest_layer, prepare_layer
from gis.io.archive import ArchiveLimits, check_archive
from gis.store import open_store

X0, Y0 = 585_000.0, 2_330_000.0  # VN-2000 / TM-3 105°00' (EPSG:5897), Hà Nội

# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------

#: TCVN3 (ABC, TCVN 5712:1993) byte of each non-ASCII letter used below, written independently
#: of gis.encoding / viparse so that the test does not check the decoder against itself.
TCVN3 = {"ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE, "Đ": 0xA7,
         "ạ": 0xB9, "ặ": 0xC6, "ầ": 0xC7, "ễ": 0xD4, "ì": 0xD7, "ị": 0xDE, "ờ": 0xEA, "ú": 0xF3}
OWNERS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Đặng Văn Lê"]


def tcvn3(text: str) -> str:
    """Vietnamese text as TCVN3 bytes, held as latin-1 code points (how GDAL hands them over)."""
    return "".join(chr(TCVN3[c]) if c in TCVN3 else c for c in text)


def test_tcvn3_table_spot_checks():
    # Known TCVN3 renderings (DOMAIN.md examples, gis.encoding docstring): "Đất trồng lúa".
    assert tcvn3("Nguyễn Văn An").encode("latin-1") == b"Nguy\xd4n V\xa8n An"
    assert tcvn3("Đặng") == "\xa7\xc6ng"


def parcels(n: int = 5, *, owners: list[str] | None = None, crs: str | None = "EPSG:5897",
            lonlat: bool = False) -> gpd.GeoDataFrame:
    """``n`` clean 20 m x 30 m parcels with cadastral field names (short enough for a DBF)."""
    if lonlat:
        geoms = [shapely.box(105.80 + i * 2e-4, 21.0, 105.80 + (i + 1) * 2e-4, 21.0003)
                 for i in range(n)]
    else:
        geoms = [shapely.box(X0 + i * 20, Y0, X0 + i * 20 + 20, Y0 + 30) for i in range(n)]
    return gpd.GeoDataFrame({
        "MaXa": ["09880"] * n,
        "SoTo": [1] * n,
        "SoThua": list(range(1, n + 1)),
        "DienTich": [600.0] * n,
        "LoaiDat": ["ODT"] * n,
        "TenChu": (owners or OWNERS * n)[:n],
    }, geometry=geoms, crs=crs)


def save_layer(frame: gpd.GeoDataFrame, path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame.to_file(path, engine="pyogrio", **kwargs)
    return path


def sidecars(shp: Path) -> list[Path]:
    return sorted(p for p in shp.parent.iterdir() if p.stem == shp.stem)


def make_zip(path: Path, members: dict[str, Path | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, src in members.items():
            zf.writestr(name, src if isinstance(src, bytes) else src.read_bytes())
    return path


def zipped_shapefile(shp: Path, folder: str = "", rename: str | None = None) -> dict[str, Path]:
    stem = rename or shp.stem
    return {f"{folder}{stem}{p.suffix}": p for p in sidecars(shp)}


def write_zm_shapefile(path: Path, dims: str) -> Path:
    """A PolygonZ / PolygonM / PolygonZM shapefile written by GDAL (``SHPT`` creation option)."""
    n = 3
    tail = {"Z": " 5", "M": " 7", "ZM": " 5 7"}[dims]
    wkt = [f"POLYGON {dims} ((" + ", ".join(f"{x} {y}{tail}" for x, y in (
        (X0 + i * 20, Y0), (X0 + i * 20 + 20, Y0), (X0 + i * 20 + 20, Y0 + 30),
        (X0 + i * 20, Y0 + 30), (X0 + i * 20, Y0))) + "))" for i in range(n)]
    geoms = shapely.to_wkb(shapely.from_wkt(wkt), flavor="iso")
    path.parent.mkdir(parents=True, exist_ok=True)
    raw_write(path, geometry=np.asarray(geoms, dtype=object),
              field_data=[np.array(["09880"] * n, dtype=object), np.ones(n, dtype="int32"),
                          np.arange(1, n + 1, dtype="int32"), np.full(n, 600.0),
                          np.array(["ODT"] * n, dtype=object)],
              fields=["MaXa", "SoTo", "SoThua", "DienTich", "LoaiDat"], geometry_type="Unknown",
              layer_options={"SHPT": "POLYGON" + dims}, crs="EPSG:5897", driver="ESRI Shapefile")
    shape_type = struct.unpack("<i", path.read_bytes()[32:36])[0]
    assert shape_type == {"Z": 15, "M": 25, "ZM": 15}[dims]  # the file really is 3D/measured
    return path


def write_geojson(path: Path, geometries: list[dict]) -> Path:
    features = [{"type": "Feature", "geometry": g,
                 "properties": {"MaXa": "09880", "SoTo": 1, "SoThua": i + 1, "LoaiDat": "ODT"}}
                for i, g in enumerate(geometries)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def square(i: int, size: float = 2e-4) -> dict:
    x, y = 105.80 + i * 2 * size, 21.02
    return {"type": "Polygon",
            "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]}


# --------------------------------------------------------------------------------------------
# Fixtures and checks
# --------------------------------------------------------------------------------------------

@pytest.fixture
def cli_dir(tmp_path, monkeypatch):
    """An empty working directory: no ./layers catalog."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


_LOADED_STORES: dict[str, bytes] = {}  # small_parcels content -> store bytes, built once


@pytest.fixture(params=["empty_store", "loaded_store"])
def store_state(request, store_path, tmp_path, small_parcels, cli_dir):
    """The store before the refused ingest: absent, or holding a good parcels layer.

    The loaded store is built once (``small_parcels`` written as a shapefile and ingested
    non-strict: its planted bad rows go to quarantine), then copied, to keep the corpus fast.
    """
    if request.param == "loaded_store":
        key = hashlib.sha256(small_parcels.to_json().encode()).hexdigest()
        if key not in _LOADED_STORES:
            good = save_layer(small_parcels, tmp_path / "good" / "parcels.shp")
            report = ingest_layer(open_store(store_path), good, "parcels")
            assert report.stored and len(report.validation.quarantine) == 3
            _LOADED_STORES[key] = store_path.read_bytes()
        else:
            store_path.write_bytes(_LOADED_STORES[key])
        assert open_store(store_path).layers()["parcels"] == 3
    return request.param


def snapshot(store_path: Path) -> tuple[str | None, list[str]]:
    """The store's sha256 (None when absent) and every file that belongs to it."""
    digest = hashlib.sha256(store_path.read_bytes()).hexdigest() if store_path.exists() else None
    return digest, sorted(p.name for p in store_path.parent.iterdir()
                          if p.name.startswith((store_path.name, "." + store_path.name)))


def run_ingest(path: Path, *args: str):
    return CliRunner().invoke(cli, ["ingest", "parcels", str(path), *args])


def flat(text: str) -> str:
    """Output with whitespace runs (the console's line wrapping) folded to one space."""
    return " ".join(text.split())


def assert_cli_refuses(result, message: str, *, code: int = 2) -> None:
    """Exit ``code``, no traceback, and the whole error message on one ``Error:`` line."""
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # handled, no crash
    assert result.exit_code == code, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {message}"], result.output


def assert_refused(path: Path, store_path: Path, error: type[GisError], needles: tuple[str, ...],
                   args: tuple[str, ...] = (), *, layer: str | None = None,
                   row: int | None = None, field: str | None = None) -> GisError:
    """Library and CLI both refuse ``path``; the store is untouched by either."""
    before = snapshot(store_path)
    with pytest.raises(GisError) as caught:
        ingest_layer(open_store(store_path), path, "parcels", strict="--strict" in args)
    exc = caught.value
    assert type(exc) is error, f"{type(exc).__name__}: {exc}"
    assert exc.path is not None and Path(exc.path) == path
    assert str(exc).startswith(f"file {path}")
    for needle in needles:
        assert needle in str(exc), (needle, str(exc))
    if layer is not None:
        assert exc.layer == layer and f"layer {layer}" in str(exc)
    if row is not None:
        assert exc.row == row and f"row {row}" in str(exc)
    if field is not None:
        assert exc.field == field and f"field {field}" in str(exc)
    assert snapshot(store_path) == before
    result = run_ingest(path, *args)
    assert_cli_refuses(result, str(exc), code=3 if isinstance(exc, ParcelValidationError) else 2)
    assert snapshot(store_path) == before
    return exc


# --------------------------------------------------------------------------------------------
# Refused inputs: one builder per case, run against an empty and a loaded store
# --------------------------------------------------------------------------------------------

Case = tuple[Path, type[GisError], tuple[str, ...], dict]


def case_truncated_shp(d: Path) -> Case:
    shp = save_layer(parcels(), d / "parcels.shp")
    shp.write_bytes(shp.read_bytes()[:-100])
    return shp, DataSourceError, (".shp is truncated", "declares"), {}


def case_truncated_shx(d: Path) -> Case:
    shp = save_layer(parcels(), d / "parcels.shp")
    shx = shp.with_suffix(".shx")
    shx.write_bytes(shx.read_bytes()[:-16])
    return shp, DataSourceError, (".shx (index) is truncated",), {}


def case_truncated_dbf(d: Path) -> Case:
    # GDAL/Arrow reads such a file without an error and silently drops the last parcel.
    shp = save_layer(parcels(), d / "parcels.shp")
    dbf = shp.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes()[:-30])
    return shp, DataSourceError, (".dbf (attribute table) is truncated", "5 records"), {}


def case_dbf_of_another_layer(d: Path) -> Case:
    shp = save_layer(parcels(5), d / "parcels.shp")
    other = save_layer(parcels(6), d / "other" / "parcels.shp")
    shutil.copyfile(other.with_suffix(".dbf"), shp.with_suffix(".dbf"))
    return shp, DataSourceError, ("5 shapes", "6 records", "do not belong together"), {}


def case_missing_shx(d: Path) -> Case:
    shp = save_layer(parcels(), d / "parcels.shp")
    shp.with_suffix(".shx").unlink()
    return shp, DataSourceError, ("no .shx (index) file",), {}


def case_missing_dbf(d: Path) -> Case:
    shp = save_layer(parcels(), d / "parcels.shp")
    shp.with_suffix(".dbf").unlink()
    return shp, DataSourceError, ("no .dbf (attribute table) file",), {}


def case_missing_dbf_in_zip(d: Path) -> Case:
    shp = save_layer(parcels(), d / "src" / "parcels.shp")
    members = {k: v for k, v in zipped_shapefile(shp, "thua/").items() if not k.endswith(".dbf")}
    archive = make_zip(d / "parcels.zip", members)
    return archive, DataSourceError, ("thua/parcels.shp inside the zip", "no .dbf"), {}


def case_truncated_shp_in_zip(d: Path) -> Case:
    shp = save_layer(parcels(), d / "src" / "parcels.shp")
    members: dict[str, Path | bytes] = dict(zipped_shapefile(shp))
    members["parcels.shp"] = shp.read_bytes()[:-100]
    archive = make_zip(d / "parcels.zip", members)
    return archive, DataSourceError, ("parcels.shp inside the zip", ".shp is truncated"), {}


def case_missing_prj(d: Path) -> Case:
    shp = save_layer(parcels().assign(MaXa="99999"), d / "parcels.shp")
    shp.with_suffix(".prj").unlink()
    # Projected VN-2000 coordinates fit several TM-3 zones, and the ward code is of no
    # province: refuse to guess.
    return shp, CRSError, ("no CRS is declared", "EPSG:5897", "EPSG:9209", "pass --crs"), {
        "layer": "parcels"}


def case_empty_shp(d: Path) -> Case:
    shp = d / "parcels.shp"
    shp.parent.mkdir(parents=True, exist_ok=True)
    shp.write_bytes(b"")
    return shp, DataSourceError, ("empty (0 bytes)",), {}


def case_empty_shp_with_sidecars(d: Path) -> Case:
    shp = save_layer(parcels(), d / "parcels.shp")
    shp.write_bytes(b"")
    return shp, DataSourceError, ("empty (0 bytes)",), {}


def case_empty_geojson(d: Path) -> Case:
    path = d / "parcels.geojson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path, DataSourceError, ("empty (0 bytes)",), {}


def case_geojson_not_json(d: Path) -> Case:
    path = d / "parcels.geojson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Danh sách thửa đất — not JSON at all\n", encoding="utf-8")
    return path, DataSourceError, ("cannot open as a vector layer",), {}


def case_geojson_cut_short(d: Path) -> Case:
    path = d / "parcels.geojson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", ')
    return path, DataSourceError, ("cannot open as a vector layer",), {}


def case_zip_path_traversal(d: Path) -> Case:
    shp = save_layer(parcels(), d / "src" / "parcels.shp")
    members: dict[str, Path | bytes] = dict(zipped_shapefile(shp))
    members["../evil.shp"] = shp.read_bytes()
    archive = make_zip(d / "parcels.zip", members)
    return archive, UnsafeArchiveError, ("'../evil.shp'", "path traversal"), {}


def case_zip_absolute_member(d: Path) -> Case:
    archive = make_zip(d / "parcels.zip", {"/etc/cron.d/evil.shp": b"x" * 200})
    return archive, UnsafeArchiveError, ("'/etc/cron.d/evil.shp'", "path traversal"), {}


def case_zip_two_shapefiles(d: Path) -> Case:
    a = save_layer(parcels(), d / "src" / "a" / "thua_2019.shp")
    b = save_layer(parcels(), d / "src" / "b" / "thua_2024.shp")
    archive = make_zip(d / "parcels.zip", {**zipped_shapefile(a), **zipped_shapefile(b, "moi/")})
    return archive, DataSourceError, ("thua_2019.shp", "moi/thua_2024.shp", "--layer NAME"), {}


def case_not_a_zip(d: Path) -> Case:
    path = d / "parcels.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    return path, DataSourceError, ("not a readable zip archive",), {}


def case_lonlat_declared_vn2000(d: Path) -> Case:
    frame = parcels(lonlat=True).set_crs("EPSG:5897", allow_override=True)
    shp = save_layer(frame, d / "parcels.shp")
    assert "VN-2000" in shp.with_suffix(".prj").read_text() or "VN_2000" in shp.with_suffix(
        ".prj").read_text()
    return shp, CRSError, ("look like lon/lat", "EPSG:5897"), {"layer": "parcels"}


def case_zero_features_shp(d: Path) -> Case:
    shp = save_layer(parcels().iloc[:0], d / "parcels.shp")
    return shp, DataSourceError, ("zero features",), {"layer": "parcels"}


def case_zero_features_gpkg(d: Path) -> Case:
    path = save_layer(parcels().iloc[:0], d / "parcels.gpkg", layer="thua_dat")
    return path, DataSourceError, ("zero features",), {"layer": "thua_dat"}


def case_gpkg_several_layers(d: Path) -> Case:
    path = save_layer(parcels(), d / "ban_do.gpkg", layer="thua_dat")
    save_layer(parcels(), path, layer="thua_dat_2019")
    return path, DataSourceError, ("2 layers", "thua_dat, thua_dat_2019", "--layer"), {}


def case_table_without_geometry(d: Path) -> Case:
    path = d / "danh_sach_thua.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("MaXa,SoTo,SoThua,DienTich\n09880,1,1,120.5\n", encoding="utf-8")
    return path, DataSourceError, ("no geometry", "MaXa", "gis ingest clearance"), {}


def case_missing_file(d: Path) -> Case:
    return d / "khong_co.shp", DataSourceError, ("no such file",), {}


CASES: dict[str, Callable[[Path], Case]] = {
    name[len("case_"):]: func for name, func in globals().items() if name.startswith("case_")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_and_store_unchanged(case, store_state, store_path, tmp_path):
    path, error, needles, where = CASES[case](tmp_path / "in")
    assert_refused(path, store_path, error, needles, **where)


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """200 MB of zeros, deflated to ~200 KB (a ~1000:1 ratio), beside a real shapefile."""
    d = tmp_path_factory.mktemp("bomb")
    shp = save_layer(parcels(), d / "src" / "parcels.shp")
    path = d / "parcels.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, src in zipped_shapefile(shp).items():
            zf.write(src, name)
        with zf.open("docs/readme.txt", "w", force_zip64=True) as fh:
            block = bytes(1 << 20)
            for _ in range(200):
                fh.write(block)
    assert path.stat().st_size < 2 * 1024**2
    return path


def test_zip_bomb_is_refused_end_to_end(zip_bomb, store_state, store_path):
    assert_refused(zip_bomb, store_path, UnsafeArchiveError,
                   ("'docs/readme.txt'", "compression ratio", "zip bomb"))


def test_strict_refuses_the_file_naming_row_and_field(store_state, store_path, tmp_path,
                                                      small_parcels):
    shp = save_layer(small_parcels, tmp_path / "in" / "thua.shp")
    exc = assert_refused(shp, store_path, ParcelValidationError,
                         ("--strict", "3 of 6 rows", "duplicate parcel key", "nothing was written"),
                         ("--strict",), layer="thua", row=3, field="parcel_key")
    assert exc.report is not None and len(exc.report.validation.quarantine) == 3


# --------------------------------------------------------------------------------------------
# check_archive limits, small and fast
# --------------------------------------------------------------------------------------------

def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_check_archive_accepts_a_plain_archive(tmp_path):
    # small and very compressible (5000:~20): below the ratio floor, so not judged
    path = _zip(tmp_path / "ok.zip", {"a/": b"", "a/p.shp": b"\0" * 5000, "a/p.dbf": b"x" * 100})
    assert check_archive(path) == ["a/p.shp", "a/p.dbf"]


@pytest.mark.parametrize("limits,members,needle", [
    (dict(max_total_bytes=100_000), {"p.shp": np.random.default_rng(0).bytes(150_000)},
     "declared uncompressed size 150,000 bytes exceeds the limit 100,000"),
    (dict(ratio_floor_bytes=10_000), {"p.shp": bytes(1_000_000)},
     "compression ratio"),
    (dict(max_members=3), {f"p{i}.txt": b"x" for i in range(4)},
     "4 members, more than the limit 3"),
    # one bomb member hidden among incompressible ones: the overall ratio stays low
    (dict(ratio_floor_bytes=100_000),
     {"big.bin": np.random.default_rng(1).bytes(2_000_000), "p.shp": bytes(1_000_000)},
     "member 'p.shp': compression ratio"),
], ids=["declared_size", "ratio", "members", "bomb_member_among_incompressible"])
def test_check_archive_limits(tmp_path, limits, members, needle):
    path = _zip(tmp_path / "a.zip", members)
    check_archive(path)  # the default limits let these small archives through
    with pytest.raises(UnsafeArchiveError) as caught:
        check_archive(path, ArchiveLimits(**limits))
    assert needle in str(caught.value) and str(caught.value).startswith(f"file {path}")


# --------------------------------------------------------------------------------------------
# Unusual but loadable
# --------------------------------------------------------------------------------------------

def test_missing_prj_with_crs_option_loads(cli_dir, store_path, tmp_path):
    shp = save_layer(parcels(), tmp_path / "in" / "parcels.shp")
    shp.with_suffix(".prj").unlink()
    result = run_ingest(shp, "--crs", "EPSG:5897")
    assert result.exit_code == 0, result.output
    assert "no .prj file" in result.output
    stored = open_store(store_path).read("parcels")
    assert len(stored) == 5 and stored.crs.to_epsg() == 5897


def _lying_cpg_shapefile(d: Path) -> Path:
    shp = save_layer(parcels(owners=[tcvn3(o) for o in OWNERS]), d / "parcels.shp",
                    encoding="latin1")
    raw = shp.with_suffix(".dbf").read_bytes()
    assert tcvn3("Nguyễn").encode("latin-1") in raw  # TCVN3 bytes, not UTF-8, in the DBF
    shp.with_suffix(".cpg").write_text("UTF-8")
    return shp


@pytest.mark.parametrize("engine", ["pyogrio", "fiona"])
@pytest.mark.parametrize("zipped", [False, True], ids=["shp", "zip"])
def test_cpg_that_lies_is_detected_and_text_decoded(tmp_path, engine, zipped):
    shp = _lying_cpg_shapefile(tmp_path / "in")
    source = make_zip(tmp_path / "in.zip", zipped_shapefile(shp, "a/b/")) if zipped else shp
    report = prepare_layer(source, "parcels", engine=engine)
    assert report.validation.valid["owner_name"].tolist() == OWNERS
    notes = " ".join(report.source.notes)
    assert ".cpg says 'UTF-8'" in notes and "not UTF-8" in notes and "field TenChu" in notes
    assert [d.encoding.value for d in report.decodings if d.column == "TenChu"] == ["tcvn3"]


def test_cpg_that_lies_ingests_through_the_cli(cli_dir, store_path, tmp_path):
    shp = _lying_cpg_shapefile(tmp_path / "in")
    result = run_ingest(shp)
    assert result.exit_code == 0, result.output
    assert ".cpg says 'UTF-8'" in flat(result.output) and "Traceback" not in result.output
    assert open_store(store_path).read("parcels")["owner_name"].tolist() == OWNERS


def test_honest_utf8_cpg_gets_no_encoding_note(tmp_path):
    shp = save_layer(parcels(), tmp_path / "in" / "parcels.shp")
    report = prepare_layer(shp, "parcels")
    assert report.validation.valid["owner_name"].tolist() == OWNERS
    assert not any("not UTF-8" in n for n in report.source.notes)


def test_utf8_character_cut_by_field_width_keeps_the_column(tmp_path):
    # An honest UTF-8 DBF whose writer cut "Đình" inside the "ì" at the field's byte width: the
    # value must keep its text (cut character as U+FFFD) and the rest of the column stay UTF-8,
    # not be re-read as latin-1 mojibake.
    addresses = ["Thôn Đông, xã Vân Đình", "Thôn Đoài", "Thôn Bắc"]
    frame = parcels(3).assign(DiaChi=addresses)
    shp = save_layer(frame, tmp_path / "in" / "parcels.shp")
    dbf = bytearray(shp.with_suffix(".dbf").read_bytes())
    full = addresses[0].encode()
    cut = full[:full.index("ì".encode()) + 1]  # first byte of a two-byte character
    at = dbf.index(full)
    dbf[at:at + len(full)] = cut.ljust(len(full))
    shp.with_suffix(".dbf").write_bytes(bytes(dbf))
    report = prepare_layer(shp, "parcels")
    assert report.validation.valid["address"].tolist() == [
        "Thôn Đông, xã Vân Đ\ufffd", "Thôn Đoài", "Thôn Bắc"]
    assert report.validation.valid["owner_name"].tolist() == OWNERS[:3]
    assert any("1 text value(s) end in a UTF-8 character cut" in n for n in report.source.notes)


@pytest.mark.parametrize("dims", [
    "Z",
    "M",
    "ZM"])
def test_3d_and_measured_shapefiles_load_in_2d(tmp_path, dims):
    shp = write_zm_shapefile(tmp_path / "in" / f"thua_{dims.lower()}.shp", dims)
    report = prepare_layer(shp, "parcels")
    valid = report.validation.valid
    assert len(valid) == 3 and len(report.validation.quarantine) == 0
    assert any("Z/M values are not kept" in n for n in report.source.notes)
    assert not shapely.has_z(valid.geometry.values).any()
    # the sample's 09880 is a real split ward (Xã An Thượng): its parcels list the assumed unit
    assert set(report.validation.issues["rule"]) - {"unit_default_assumed"} == {"z_dropped"}
    assert not shapely.has_m(valid.geometry.values).any()


def test_3d_shapefile_ingests_as_2d(cli_dir, store_path, tmp_path):
    shp = write_zm_shapefile(tmp_path / "in" / "thua.shp", "ZM")
    result = run_ingest(shp)
    assert result.exit_code == 0, result.output
    assert "z_dropped" in result.output
    info = pyogrio.read_info(store_path, layer="parcels")
    assert info["geometry_type"] in ("Polygon", "MultiPolygon") and info["features"] == 3


def test_geometry_collections(tmp_path):
    line = {"type": "LineString", "coordinates": [[105.80, 21.02], [105.81, 21.03]]}
    points = {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [105.80, 21.02]},
        {"type": "Point", "coordinates": [105.81, 21.02]}]}
    path = write_geojson(tmp_path / "in" / "gc.geojson", [
        square(0),
        {"type": "GeometryCollection", "geometries": [square(1), line]},
        points])
    result = prepare_layer(path, "parcels").validation
    issues = {(r.row, r.rule, r.severity) for r in result.issues.itertuples()}
    assert (2, "geometry_collection", "warning") in issues
    assert (3, "non_polygon", "error") in issues
    assert result.valid["parcel_no"].tolist() == [1, 2]
    assert list(result.valid.geometry.geom_type) == ["Polygon", "Polygon"]
    assert result.quarantine["parcel_no"].tolist() == [3]
    assert result.quarantine["rules"].tolist() == ["non_polygon"]


def test_zip_with_two_shapefiles_and_layer_option(cli_dir, store_path, tmp_path):
    path, *_ = case_zip_two_shapefiles(tmp_path / "in")
    result = run_ingest(path, "--layer", "thua_2024")
    assert result.exit_code == 0, result.output
    assert "moi/thua_2024.shp inside the zip" in result.output
    assert len(open_store(store_path).read("parcels")) == 5


def test_zip_with_nested_folders_loads(cli_dir, store_path, tmp_path):
    shp = save_layer(parcels(), tmp_path / "src" / "parcels.shp")
    members: dict[str, Path | bytes] = dict(zipped_shapefile(shp, "Xa Van Dinh/2024/ban do/"))
    members["__MACOSX/Xa Van Dinh/2024/ban do/._parcels.shp"] = b"\0" * 10  # macOS junk
    path = make_zip(tmp_path / "in" / "thua_dat.zip", members)
    result = run_ingest(path)
    assert result.exit_code == 0, result.output
    assert len(open_store(store_path).read("parcels")) == 5


def test_shapefile_name_with_glob_characters_loads(tmp_path):
    # "[dat]" is a glob character class: sidecars must not be looked up with glob().
    shp = save_layer(parcels(), tmp_path / "in" / "thua[dat].shp")
    report = prepare_layer(shp, "parcels")
    assert len(report.validation.valid) == 5 and report.source.layer == "thua[dat]"


def test_gpkg_several_layers_with_layer_option(cli_dir, store_path, tmp_path):
    path, *_ = case_gpkg_several_layers(tmp_path / "in")
    result = run_ingest(path, "--layer", "thua_dat_2019")
    assert result.exit_code == 0, result.output
    assert "(layer thua_dat_2019)" in flat(result.output)


# --------------------------------------------------------------------------------------------
# Square brackets in file names are not rich markup
# --------------------------------------------------------------------------------------------

def test_cli_error_keeps_brackets_in_file_names(cli_dir, store_path, tmp_path):
    path = tmp_path / "in" / "thua[dat].shp"
    path.parent.mkdir()
    path.write_bytes(b"")
    result = run_ingest(path)
    assert result.exit_code == 2
    assert "thua[dat].shp" in flat(result.output)


def test_zip_with_same_named_shapefiles_in_two_folders(tmp_path, small_parcels):
    import zipfile

    from gis.errors import DataSourceError
    from gis.io.read import read_layer

    parts = {}
    for ward in ("xa1", "xa2"):
        folder = tmp_path / ward
        folder.mkdir()
        small_parcels.to_file(folder / "thuadat.shp")
        parts[ward] = folder
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for ward, folder in parts.items():
            for f in folder.iterdir():
                zf.write(f, f"{ward}/{f.name}")
    with pytest.raises(DataSourceError, match="2 files match 'thuadat'"):
        read_layer(archive, layer="thuadat")
    frame, info = read_layer(archive, layer="xa2/thuadat.shp")
    assert len(frame) == len(small_parcels)
    frame, info = read_layer(archive, layer="xa1/thuadat")
    assert len(frame) == len(small_parcels)
