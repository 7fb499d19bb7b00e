"""Tests of the synthetic district generator (gis.sample): determinism, topology, planted
problems listed in the manifest, written files, and the TCVN3 encoder."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import viparse
from geopandas.testing import assert_geodataframe_equal
from hypothesis import example, given
from hypothesis import strategies as st

from gis.sample import encode_tcvn3, fold_for_tcvn3, generate_district, write_sample
from gis.sample import names as N
from gis.sample.tcvn3 import TCVN3_TABLE

N_PARCELS, SEED = 2500, 7
SHAPEFILE_FIELDS = ["MaXa", "SoHieuToBa", "SoThuTuThu", "DienTich", "KyHieuMucD", "TenChu",
                    "MaDoiTuong", "DiaChi"]
PUBLIC_CODES = {"DGT", "DTL", "SON"}


@pytest.fixture(scope="module")
def district():
    """A 2 500-parcel district, seed 7."""
    return generate_district(N_PARCELS, seed=SEED)


@pytest.fixture(scope="module")
def written(district, tmp_path_factory):
    """The district written with default options; returns (directory, paths)."""
    out = tmp_path_factory.mktemp("sample")
    return out, write_sample(district, out)


def _date(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


def _planted_rows(manifest: dict, name: str) -> set[int]:
    return {e["row"] for e in manifest["planted"]["parcels"][name]}


# --- generation --------------------------------------------------------------------------

def test_same_seed_gives_identical_output_and_csv_bytes(district, written, tmp_path):
    again = generate_district(N_PARCELS, seed=SEED)
    for layer in ("parcels", "projects", "buildings", "wards"):
        assert_geodataframe_equal(getattr(district, layer), getattr(again, layer), check_less_precise=False)
    pd.testing.assert_frame_equal(district.clearance, again.clearance)
    assert district.manifest == again.manifest
    write_sample(again, tmp_path)
    out, _ = written
    for name in ("clearance.csv", "parcels.dbf", "parcels.shp", "manifest.json"):
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_different_seed_gives_different_output(district):
    other = generate_district(N_PARCELS, seed=SEED + 1)
    assert other.manifest["bounds"] != district.manifest["bounds"] or not other.parcels.equals(district.parcels)
    assert other.manifest["planted"] != district.manifest["planted"]
    assert list(other.parcels["TenChu"][:50]) != list(district.parcels["TenChu"][:50])
    assert not other.clearance.equals(district.clearance)


@pytest.mark.parametrize("n", [1000, 1700, 3000])
def test_parcel_count_within_one_percent(n):
    d = generate_district(n, seed=3)
    assert abs(len(d.parcels) - n) <= 0.01 * n
    assert d.manifest["counts"]["parcels"] == len(d.parcels)
    assert d.manifest["n_parcels_requested"] == n
    assert len(d.wards) >= 4


@pytest.mark.parametrize("bad", [999, 1_000_001, 5000.0, True])
def test_rejects_bad_sizes(bad):
    with pytest.raises((ValueError, TypeError), match="n_parcels"):
        generate_district(bad)


def test_rejects_negative_seed():
    with pytest.raises(ValueError, match="seed"):
        generate_district(1000, seed=-1)


def test_crs_and_extent(district):
    for layer in (district.parcels, district.projects, district.buildings, district.wards):
        assert layer.crs.to_epsg() == 5897
    xmin, ymin, xmax, ymax = district.parcels.total_bounds
    assert 580_000 <= xmin < xmax <= 600_000 and 2_320_000 <= ymin < ymax <= 2_340_000
    assert district.manifest["bounds"] == pytest.approx([xmin, ymin, xmax, ymax])


def test_only_planted_bow_ties_are_invalid(district):
    invalid = set(np.flatnonzero(~district.parcels.is_valid))
    assert invalid == _planted_rows(district.manifest, "bow_tie")
    assert len(invalid) >= 3
    for layer in (district.projects, district.buildings, district.wards):
        assert layer.is_valid.all()


def test_parcels_tile_without_overlaps_or_gaps(district):
    parcels = district.parcels
    bow = _planted_rows(district.manifest, "bow_tie")
    valid = np.array([i not in bow for i in range(len(parcels))])
    geoms = parcels.geometry.to_numpy()
    left, right = shapely.STRtree(geoms[valid]).query(geoms[valid], predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[valid][left[pairs]], geoms[valid][right[pairs]]))
    assert overlap.max() <= 0.01
    # No gaps: valid parcels plus the intended area of the bow-ties fill the district box.
    xmin, ymin, xmax, ymax = district.manifest["bounds"]
    filled = shapely.area(geoms[valid]).sum() + parcels["DienTich"].to_numpy()[~valid].sum()
    assert filled == pytest.approx((xmax - xmin) * (ymax - ymin), rel=2e-3)


def test_wards_tile_the_district_and_codes_have_leading_zero(district):
    wards, parcels = district.wards, district.parcels
    assert all(isinstance(c, str) and re.fullmatch(r"0\d{4}", c) for c in wards["MaXa"])
    assert wards["MaXa"].is_unique
    assert set(parcels["MaXa"]) == set(wards["MaXa"])
    assert all(t.startswith(("Phường ", "Xã ")) for t in wards["TenXa"])
    assert {"Phường", "Xã"} == {t.split()[0] for t in wards["TenXa"]}
    assert set(wards["Tinh"]) == {"Thành phố Hà Nội"}
    xmin, ymin, xmax, ymax = district.manifest["bounds"]
    assert wards.area.sum() == pytest.approx((xmax - xmin) * (ymax - ymin), rel=1e-9)
    assert shapely.union_all(wards.geometry.to_numpy()).area == pytest.approx(wards.area.sum(), rel=1e-9)
    # every parcel lies in the ward its MaXa names
    by_code = dict(zip(wards["MaXa"], wards.geometry))
    inside = [by_code[c].buffer(0.01).contains(g.representative_point())
              for c, g in zip(parcels["MaXa"], parcels.geometry) if g.is_valid]
    assert all(inside)


def test_keys_sheets_and_numbers(district):
    parcels, manifest = district.parcels, district.manifest
    for code, group in parcels.groupby("MaXa"):
        assert group["SoHieuToBa"].nunique() >= 2, code
    zero = set(np.flatnonzero(parcels["SoThuTuThu"] == 0))
    assert zero == _planted_rows(manifest, "zero_parcel_number")
    keys = parcels[["MaXa", "SoHieuToBa", "SoThuTuThu"]]
    dup_rows = set(np.flatnonzero(keys.duplicated(keep=False) & (parcels["SoThuTuThu"] > 0)))
    planted_dups = manifest["planted"]["parcels"]["duplicate_key"]
    assert dup_rows == {r for e in planted_dups for r in e["rows"]}
    for e in planted_dups:
        assert [list(keys.iloc[r].to_numpy()) == e["key"] for r in e["rows"]] == [True, True]


def test_recorded_area_matches_geometry_except_planted(district):
    parcels, manifest = district.parcels, district.manifest
    ratio = (parcels["DienTich"] / parcels.area).to_numpy()
    mismatch = _planted_rows(manifest, "area_mismatch")
    bow = _planted_rows(manifest, "bow_tie")
    for row in mismatch:
        assert abs(ratio[row] - 1) > 0.05
    clean = np.array([i not in mismatch and i not in bow for i in range(len(parcels))])
    tolerance = 0.003 + 0.05 / parcels.area.to_numpy()[clean]
    assert (np.abs(ratio[clean] - 1) <= tolerance).all()
    assert (parcels["DienTich"] == parcels["DienTich"].round(1)).all()


def test_manifest_counts_and_codes_match_frames(district):
    m, parcels = district.manifest, district.parcels
    assert m["counts"] == {
        "parcels": len(parcels), "projects": len(district.projects),
        "buildings": len(district.buildings), "wards": len(district.wards),
        "clearance_rows": len(district.clearance),
        "map_sheets": int(parcels.groupby("MaXa")["SoHieuToBa"].nunique().sum()),
    }
    assert m["land_use_counts"] == parcels["KyHieuMucD"].value_counts().to_dict()
    assert m["owner_code_counts"] == parcels["MaDoiTuong"].value_counts().to_dict()
    assert [w["MaXa"] for w in m["wards"]] == list(district.wards["MaXa"])
    assert sum(w["parcels"] for w in m["wards"]) == len(parcels)
    unknown = {e["row"]: e["code"] for e in m["planted"]["parcels"]["unknown_code"]}
    is_unknown = parcels["KyHieuMucD"].isin(N.UNKNOWN_CODES)
    assert set(np.flatnonzero(is_unknown)) == set(unknown)
    assert set(unknown.values()) == set(N.UNKNOWN_CODES)
    json.dumps(m, ensure_ascii=False)  # serialisable


def test_land_use_mix_is_realistic(district):
    codes = set(district.parcels["KyHieuMucD"])
    assert {"ODT", "ONT", "LUC", "LUK", "HNK", "CLN", "NTS", "DGT", "DTL", "SON"} <= codes
    assert {"BHK", "DSH"} & codes and {"ODT+CLN", "ONT+CLN"} & codes
    parcels = district.parcels
    public = parcels[parcels["MaDoiTuong"].isin(["UBQ", "TCQ"])]
    assert len(public) > 0 and public["TenChu"].str.match(r"UBND (phường|xã) ").all()
    households = parcels[parcels["MaDoiTuong"].isin(["GDC", "CNV"])]
    assert households["TenChu"].str.split().str.len().ge(3).all()
    assert set(parcels["MaDoiTuong"]) <= {"GDC", "CNV", "UBQ", "TCQ", "TCN", "TKT", "CDS", "TSQ"}
    # residential cores: ODT only in phường, ONT only in xã
    kind = {w["MaXa"]: w["kind"] for w in district.manifest["wards"]}
    odt = parcels["KyHieuMucD"].str.startswith("ODT")
    assert all(kind[c] == "phường" for c in parcels.loc[odt, "MaXa"])
    assert all(kind[c] == "xã" for c in parcels.loc[parcels["KyHieuMucD"].str.startswith("ONT"), "MaXa"])


# --- buildings ---------------------------------------------------------------------------

def test_planted_building_violations_overlap_as_listed(district):
    parcels, buildings = district.parcels, district.buildings.set_index("MaNha")
    planted = district.manifest["planted"]["buildings"]
    kinds = {e["expected_kind"] for e in planted}
    assert kinds == {"construction_on_agricultural_land", "below_threshold",
                     "encroachment_public_land", "encroachment_neighbour"}
    for e in planted:
        fp = buildings.geometry[e["MaNha"]]
        rows = e["parcel_rows"]
        assert [list(parcels.iloc[r][["MaXa", "SoHieuToBa", "SoThuTuThu"]]) for r in rows] == e["parcel_keys"]
        hits = [shapely.intersection(fp, parcels.geometry.iat[r]).area for r in rows]
        assert sum(hits) == pytest.approx(fp.area, abs=1e-6)  # nothing outside the listed parcels
        codes = [parcels["KyHieuMucD"].iat[r] for r in rows]
        if e["expected_kind"] == "construction_on_agricultural_land":
            assert codes[0] in N.AGRICULTURAL_CODES and fp.area >= 20
            assert e["area_m2"] == pytest.approx(fp.area, abs=0.06)
        elif e["expected_kind"] == "below_threshold":
            assert codes[0] in N.AGRICULTURAL_CODES and fp.area < 5
        elif e["expected_kind"] == "encroachment_public_land":
            assert codes[0] in N.RESIDENTIAL_CODES and codes[1] in PUBLIC_CODES
            assert parcels["MaDoiTuong"].iat[rows[1]] in {"UBQ", "TCQ"}
            assert hits[1] >= 10 and e["area_m2"] == pytest.approx(hits[1], abs=0.06)
        else:
            assert codes == [codes[0], codes[1]] and set(codes) <= N.RESIDENTIAL_CODES
            assert parcels["MaDoiTuong"].iat[rows[1]] in {"GDC", "CNV"}
            assert hits[1] >= 5 and e["area_m2"] == pytest.approx(hits[1], abs=0.06)


def test_ordinary_buildings_sit_well_inside_residential_parcels(district):
    parcels, buildings = district.parcels, district.buildings
    planted = {e["MaNha"] for e in district.manifest["planted"]["buildings"]}
    ordinary = buildings[~buildings["MaNha"].isin(planted)]
    geoms = parcels.geometry.to_numpy()
    fp_idx, parcel_idx = shapely.STRtree(geoms).query(ordinary.geometry.to_numpy(), predicate="intersects")
    assert np.bincount(fp_idx, minlength=len(ordinary)).max() == 1  # one parcel each, no touching
    hosts = parcels.iloc[parcel_idx]
    assert hosts["KyHieuMucD"].isin(N.RESIDENTIAL_CODES).all()
    shrunk = shapely.buffer(geoms[parcel_idx], -0.5)
    assert shapely.contains(shrunk, ordinary.geometry.to_numpy()[fp_idx]).all()
    residential = parcels["KyHieuMucD"].str.match(r"^O[DN]T").sum()
    assert 0.3 <= len(buildings) / residential <= 0.5
    assert buildings["MaNha"].is_unique and (buildings["SoTang"] >= 1).all()
    assert buildings["NamXD"].between(1975, 2024).all()


# --- projects and clearance ---------------------------------------------------------------

def test_projects(district):
    projects, wards = district.projects, district.wards
    assert 3 <= len(projects) <= 60
    assert list(projects["MaDuAn"]) == [f"DA-{i:03d}" for i in range(1, len(projects) + 1)]
    assert set(projects["NguonVon"]) <= {"Ngân sách", "Ngoài ngân sách"}
    assert set(projects["KhoiCong"]) <= {"Chuyển tiếp", "Mới"}
    assert set(projects["TrongDiem"]) <= {"Có", "Không"}
    assert projects["TenDuAn"].is_unique
    for codes, geom, planned in zip(projects["PhuongXa"], projects.geometry, projects["DienTichQH"]):
        listed = set(codes.split(","))
        hit = set(wards.loc[wards.intersection(geom).area > 1.0, "MaXa"])
        assert listed == hit
        assert planned == pytest.approx(geom.area / 1e4, rel=0.06)
    assert (projects["PhuongXa"].str.count(",") >= 1).any()  # a corridor crosses wards
    # projects cut parcels: some parcels lie only partly inside
    cut = district.parcels.geometry.intersection(projects.geometry.iat[0]).area
    part = cut[(cut > 1) & (cut < district.parcels.area - 1)]
    assert len(part) > 0


def test_clearance_sheet_content_and_planted_rows(district):
    sheet, m = district.clearance, district.manifest["clearance"]
    assert list(sheet.columns) == list(N.CLEARANCE_COLUMNS)
    assert list(sheet["STT"]) == list(range(1, len(sheet) + 1))
    assert sheet["Mã xã"].str.fullmatch(r"0\d{4}").all()
    planted = m["planted"]
    for name, entries in planted.items():
        assert entries, name
    keys = set(map(tuple, district.parcels[["MaXa", "SoHieuToBa", "SoThuTuThu"]].to_numpy().tolist()))
    row_keys = list(zip(sheet["Mã xã"], sheet["Số tờ"], sheet["Số thửa"]))
    missing = {i + 1 for i, k in enumerate(row_keys) if k not in keys}
    assert missing == {e["STT"] for e in planted["unknown_parcel_key"]}
    texts = {s["text"] for s in m["statuses"]}
    unknown_status = {i + 1 for i, s in enumerate(sheet["Trạng thái"]) if s not in texts}
    assert unknown_status == {e["STT"] for e in planted["unknown_status"]}
    as_of = date.fromisoformat(m["as_of"])
    bad_dates = {e["STT"] for e in planted["unparseable_date"]}
    bad_amounts = {e["STT"] for e in planted["unparseable_amount"]}
    no_approval = {e["STT"] for e in planted["handed_over_without_approval_date"]}
    unpaid = {e["STT"] for e in planted["approved_unpaid_over_30_days"]}
    found_unpaid = set()
    for row in sheet.itertuples(index=False):
        stt, status = row[0], row[7]
        dates = [None if pd.isna(v) else v for v in row[8:11] + (row[13], row[14])]
        if stt in bad_dates:
            with pytest.raises(ValueError):
                _date(dates[1])
            continue
        parsed = [_date(d) if d else None for d in dates]
        present = [d for d in parsed if d]
        assert present == sorted(present) and all(date(2022, 1, 1) <= d <= as_of for d in present)
        if status == "Đã bàn giao mặt bằng":
            assert (parsed[2] is None) == (stt in no_approval)
        amount = row[11]
        if stt in bad_amounts:
            assert isinstance(amount, str) and not re.fullmatch(r"[\d.]+", amount)
        elif parsed[2] is not None or status == "Đã bàn giao mặt bằng":
            assert isinstance(amount, int) or re.fullmatch(r"\d{1,3}(\.\d{3})*", amount)
        if status == "Đã phê duyệt phương án" and (as_of - parsed[2]).days > 30:
            found_unpaid.add(stt)
        if parsed[3] and parsed[2]:
            assert (parsed[3] - parsed[2]).days <= 30
    assert found_unpaid == unpaid
    assert set(sheet["Khiếu nại"]) == {"Có", "Không"}
    assert len(m["not_started"]) > 0


# --- written files -------------------------------------------------------------------------

def test_written_files_and_no_temp_leftovers(written):
    out, paths = written
    names = sorted(p.name for p in paths)
    assert names == sorted([
        "parcels.shp", "parcels.shx", "parcels.dbf", "parcels.prj", "parcels.cpg",
        "projects.shp", "projects.shx", "projects.dbf", "projects.prj", "projects.cpg",
        "buildings.gpkg", "wards.gpkg", "clearance.xlsx", "clearance.csv", "manifest.json"])
    assert sorted(p.name for p in out.iterdir()) == names
    assert (out / "parcels.cpg").read_text().strip() == "UTF-8"


def test_shapefile_reads_back_with_truncated_names_and_crs(district, written):
    out, _ = written
    info = pyogrio.read_info(out / "parcels.shp")
    assert list(info["fields"]) == SHAPEFILE_FIELDS
    assert info["crs"] == "EPSG:5897" and info["features"] == len(district.parcels)
    back = pyogrio.read_dataframe(out / "parcels.shp")
    assert back.crs.to_epsg() == 5897
    assert list(back["MaXa"]) == list(district.parcels["MaXa"])  # leading zeros kept
    assert list(back["TenChu"]) == list(district.parcels["TenChu"])
    assert list(back["SoThuTuThu"]) == list(district.parcels["SoThuTuThu"])
    projects = pyogrio.read_dataframe(out / "projects.shp")
    assert list(projects.columns[:-1]) == list(district.projects.columns[:-1])
    assert list(projects["TenDuAn"]) == list(district.projects["TenDuAn"])
    for name in ("buildings", "wards"):
        gpkg = pyogrio.read_info(out / f"{name}.gpkg", layer=name)
        assert gpkg["crs"] == "EPSG:5897" and gpkg["features"] == len(getattr(district, name))
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8")) == district.manifest


def test_legacy_tcvn3_variant_decodes_with_viparse(district, tmp_path):
    write_sample(district, tmp_path, legacy_encoding=True)
    assert not (tmp_path / "parcels.cpg").exists()
    assert (tmp_path / "parcels.prj").exists() and (tmp_path / "projects.cpg").exists()
    raw = (tmp_path / "parcels.dbf").read_bytes()
    assert b"\xad" in raw and b"\xc6\xb0" not in raw  # TCVN3 ư, no UTF-8 ư
    back = pyogrio.read_dataframe(tmp_path / "parcels.shp", encoding="latin1")
    for column in ("TenChu", "DiaChi"):
        decode = {u: viparse.fix(u, encoding="tcvn3") for u in back[column].unique()}
        assert list(back[column].map(decode)) == [fold_for_tcvn3(v) for v in district.parcels[column]]
    assert list(back["MaXa"]) == list(district.parcels["MaXa"])


def test_drop_prj_leaves_no_prj_and_rewrites_in_place(district, tmp_path):
    write_sample(district, tmp_path)
    assert (tmp_path / "parcels.prj").exists()
    write_sample(district, tmp_path, drop_prj=True, legacy_encoding=True)
    assert not (tmp_path / "parcels.prj").exists() and not (tmp_path / "parcels.cpg").exists()
    assert (tmp_path / "projects.prj").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_failed_write_leaves_no_files(district, tmp_path, monkeypatch):
    import gis.sample.write as writer

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writer, "_write_xlsx", boom)
    with pytest.raises(OSError, match="disk full"):
        write_sample(district, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_csv_and_xlsx_have_exact_headers_and_rows(district, written):
    from openpyxl import load_workbook

    out, _ = written
    raw = (out / "clearance.csv").read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8"))
    with open(out / "clearance.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(N.CLEARANCE_COLUMNS)
    assert len(rows) == len(district.clearance) + 1
    assert all(re.fullmatch(r"0\d{4}", r[2]) for r in rows[1:])
    book = load_workbook(out / "clearance.xlsx", read_only=True)
    assert book.sheetnames == ["TienDoGPMB"]
    xrows = list(book["TienDoGPMB"].iter_rows(values_only=True))
    assert list(xrows[0]) == list(N.CLEARANCE_COLUMNS)
    assert len(xrows) == len(district.clearance) + 1
    assert [r[2] for r in xrows[1:]] == list(district.clearance["Mã xã"])
    book.close()


# --- TCVN3 encoder ------------------------------------------------------------------------

_BASES = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
VIETNAMESE_LOWER = [unicodedata.normalize("NFC", b + t) for b in _BASES for t in _TONES] + ["đ"]
VIETNAMESE = VIETNAMESE_LOWER + [c.upper() for c in VIETNAMESE_LOWER]


def test_every_vietnamese_letter_round_trips_through_viparse():
    assert len(VIETNAMESE) == 146
    for letter in VIETNAMESE:
        encoded = encode_tcvn3(letter)
        assert len(encoded.encode("latin-1")) == 1
        assert viparse.fix(encoded, encoding="tcvn3") == fold_for_tcvn3(letter), letter
    text = " ".join(VIETNAMESE)
    assert viparse.fix(encode_tcvn3(text), encoding="tcvn3") == fold_for_tcvn3(text)


@pytest.mark.parametrize("letter, byte", [
    ("ư", 0xAD), ("đ", 0xAE), ("Đ", 0xA7), ("ơ", 0xAC), ("ă", 0xA8), ("â", 0xA9), ("ê", 0xAA),
    ("ô", 0xAB), ("Ă", 0xA1), ("Â", 0xA2), ("Ê", 0xA3), ("Ô", 0xA4), ("Ơ", 0xA5), ("Ư", 0xA6),
    ("à", 0xB5), ("ý", 0xFD), ("ỵ", 0xFE), ("Ấ", 0xCA),
])
def test_known_tcvn3_bytes(letter, byte):
    assert encode_tcvn3(letter).encode("latin-1") == bytes([byte])


def test_table_agrees_with_viparse_charmap():
    from viparse.normalize.tcvn3 import TCVN3

    inverted = {unicode: legacy for legacy, unicode in TCVN3.pairs}
    assert len(inverted) == 74
    for unicode, legacy in inverted.items():
        assert TCVN3_TABLE[unicode] == ord(legacy)


def test_capital_toned_vowels_come_back_lowercase():
    assert viparse.fix(encode_tcvn3("ỦY BAN NHÂN DÂN"), encoding="tcvn3") == "ủY BAN NHÂN DÂN"
    assert fold_for_tcvn3("Ấp Ươm") == "ấp Ươm"
    assert encode_tcvn3(unicodedata.normalize("NFD", "Hồ")) == encode_tcvn3("Hồ")


def test_unencodable_character_raises():
    with pytest.raises(ValueError, match="TCVN3"):
        encode_tcvn3("giá 5 €")
    with pytest.raises(ValueError, match="TCVN3"):
        encode_tcvn3("µ")


@given(st.lists(st.sampled_from(VIETNAMESE + list("abcdfghklmnpqrstvxABCDGHKLMNPQRSTVX0123456789,.-+")),
                min_size=1, max_size=40).map("".join))
@example("Thôn Đông, xã Đông Hòa")
@example("Tổ 5, phường An Bình")
def test_tcvn3_round_trip_property(word):
    assert viparse.fix(encode_tcvn3(word), encoding="tcvn3") == fold_for_tcvn3(word)
