"""Clearance sheets in 2025 unit codes (issue 13, ``--units 2025``) over a real former district.

The sample district moved onto Thị xã Sơn Tây (Hà Nội): its legacy wards (09574 Ngô Quyền,
09592 Đường Lâm, 09598, 09604 Thanh Mỹ…) went to the 2025 units 09574 Phường Sơn Tây and 09604
Phường Tùng Thiện, 09604 split between both. The board's sheet is rewritten from the stored
parcels with each row's unit code in the ward column. Map sheets are numbered within each legacy
ward, so inside a unit of several legacy wards most (sheet, number) pairs are two or three
parcels: those rows are kept aside naming the candidates, never guessed; every other row loads
with the parcel's legacy key, and the figures are those of the same rows loaded in legacy codes.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.catalog import load_vocabulary
from gis.core.clearance.sheet import SheetContext, parse_sheet
from gis.core.clearance.unit_match import UnitParcels
from gis.core.units import CodeSystem
from gis.errors import UnitCodeError
from gis.io.admin_units import load_registry
from gis.sample import generate_district, write_sample
from gis.sample.units import district_wards, on_real_district, unit_polygons

DISTRICT, PROVINCE = "Thị xã Sơn Tây", "Thành phố Hà Nội"
KNOWN_ON = dt.date(2024, 12, 31)
VOCAB = load_vocabulary()
#: the sheet's code column as boards head it (aliases, and a "(mới)" note the matcher drops)
CODE_HEADERS = ("Mã xã", "Mã phường", "Mã phường/xã", "Mã phường xã", "MaXa", "Mã ĐVHC",
                "Mã xã (mới)", "Mã ĐVHC (2025)")


@pytest.fixture(scope="module")
def reg():
    return load_registry()


@pytest.fixture(scope="module")
def files(reg, tmp_path_factory):
    real = on_real_district(generate_district(1500, seed=3),
                            district_wards(reg, DISTRICT, PROVINCE))
    folder = tmp_path_factory.mktemp("sontay_sheets")
    write_sample(real, folder)
    unit_polygons(real.wards, reg).to_file(folder / "units.gpkg", layer="units")
    return folder


@pytest.fixture(scope="module")
def loaded(files, tmp_path_factory):
    """A store of the district with wards, parcels, 2025 units and projects (copied per test)."""
    from gis.ingest import ingest_layer
    from gis.store import open_store

    path = tmp_path_factory.mktemp("sontay_store") / "store.gpkg"
    store = open_store(path)
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("units", "units.gpkg"), ("projects", "projects.shp")):
        ingest_layer(store, files / name, kind, user="t")
    return path


def _copy(loaded, tmp_path, name="store.gpkg"):
    from gis.store import open_store

    target = tmp_path / name
    shutil.copy(loaded, target)
    return open_store(target)


@pytest.fixture(scope="module")
def parcels(loaded):
    from gis.store import open_store

    frame = pd.DataFrame(open_store(loaded).read("parcels").drop(columns="geometry"))
    return frame.set_index("parcel_key")


@pytest.fixture(scope="module")
def legacy_sheet(files):
    """The board's sheet as the sample writes it: legacy ward codes (Mã xã) as text."""
    return pd.read_csv(files / "clearance.csv", dtype=str, encoding="utf-8-sig")


def _keys(sheet: pd.DataFrame, code: str = "Mã xã") -> pd.Series:
    return sheet[code].str.zfill(5) + "-" + sheet["Số tờ"] + "-" + sheet["Số thửa"]


def _in_2025(sheet: pd.DataFrame, parcels: pd.DataFrame, reg) -> pd.DataFrame:
    """The same rows with each row's 2025 unit (of its parcel; a row naming no stored parcel
    takes its ward's unit by conversion)."""
    out = sheet.copy()
    units = parcels["unit_code"].to_dict()
    out["Mã xã"] = [units.get(k) or reg.convert(w).unit.code
                    for k, w in zip(_keys(sheet), sheet["Mã xã"])]
    return out


def _candidates(parcels: pd.DataFrame) -> dict[tuple[str, str, str], list[str]]:
    """(unit, sheet, number) → the stored keys it may name."""
    out: dict[tuple[str, str, str], list[str]] = {}
    for key, unit in parcels["unit_code"].items():
        ward, sheet, number = key.split("-")[:3]
        if len(key.split("-")) == 3:
            out.setdefault((unit, sheet, number), []).append(key)
    return out


def _context(store, reg, system: CodeSystem) -> SheetContext:
    from gis.clearance_units import stored_unit_parcels

    keys = frozenset(store.read("parcels", columns=["parcel_key"])["parcel_key"].astype(str))
    wards = store.read("wards", columns=["ward_code", "name"])
    projects = store.read("projects", columns=["project_id", "name"])
    return SheetContext(
        projects=dict(zip(projects["project_id"].astype(str), projects["name"].astype(str))),
        wards=dict(zip(wards["ward_code"], wards["name"])), parcel_keys=keys,
        code_system=system, registry=reg,
        unit_parcels=stored_unit_parcels(store, reg) if system is CodeSystem.CURRENT else None)


@pytest.fixture(scope="module")
def contexts(loaded, reg):
    from gis.store import open_store

    store = open_store(loaded)
    return {s: _context(store, reg, s) for s in CodeSystem}


# -- the sample as it is ----------------------------------------------------------------------
def test_units_of_several_legacy_wards_repeat_sheet_numbers(parcels, reg):
    """The sample has what the issue warns of: a unit formed from two or more legacy wards in
    which one (sheet, number) is several parcels, and one legacy ward split over two units."""
    by_unit = parcels.groupby("unit_code")["ward_code"].agg(lambda w: sorted(set(w)))
    assert max(len(w) for w in by_unit) >= 2
    several = [ks for ks in _candidates(parcels).values() if len(ks) > 1]
    assert several and all(len({k.split("-")[0] for k in ks}) == len(ks) for ks in several)
    assert (parcels.groupby("ward_code")["unit_code"].nunique() > 1).any()  # 09604


# -- rows of a generated sheet in 2025 codes (the parser, against the stored parcels) ---------
@st.composite
def sheets_2025(draw, legacy: pd.DataFrame):
    rows = draw(st.lists(st.integers(0, len(legacy) - 1), min_size=1, max_size=25,
                         unique=True))
    header = draw(st.sampled_from(CODE_HEADERS))
    forms = draw(st.lists(st.sampled_from(["text", "short", "int", "float", "spaced"]),
                          min_size=len(rows), max_size=len(rows)))
    numbers_as_int = draw(st.booleans())
    no_unit = draw(st.booleans())
    return sorted(rows), header, forms, numbers_as_int, no_unit


def _written(code: str, form: str) -> object:
    """A unit code as a board's spreadsheet may hold it: "09574", "9574", 9574, 9574.0…"""
    return {"text": code, "short": code.lstrip("0"), "int": int(code), "float": float(code),
            "spaced": f" {code} "}[form]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_sheet_in_2025_codes_loads_with_legacy_keys(data, legacy_sheet, parcels, contexts,
                                                      reg):
    rows, header, forms, numbers_as_int, no_unit = data.draw(sheets_2025(legacy_sheet))
    legacy = legacy_sheet.iloc[rows].reset_index(drop=True)
    current = _in_2025(legacy, parcels, reg)
    current["Mã xã"] = [_written(c, f) for c, f in zip(current["Mã xã"], forms)]
    if numbers_as_int:
        for column in ("Số tờ", "Số thửa"):
            current[column] = current[column].astype(int)
    if no_unit:  # a code of no unit in either list
        extra = current.iloc[[0]].assign(**{"Mã xã": "99999"})
        current = pd.concat([current, extra], ignore_index=True)
    current = current.rename(columns={"Mã xã": header})
    parse = parse_sheet(current, vocabulary=VOCAB, sheet="S", known_on=KNOWN_ON,
                        context=contexts[CodeSystem.CURRENT])
    before = parse_sheet(legacy, vocabulary=VOCAB, sheet="S", known_on=KNOWN_ON,
                         context=contexts[CodeSystem.LEGACY])

    # every row is loaded or kept aside with its reasons
    assert parse.rows_read == len(current) == len(parse.records) + len(parse.rejected)
    assert parse.rejected["reason"].notna().all()
    assert parse.columns["ward_code"] == header
    candidates = _candidates(parcels)
    units = _in_2025(legacy, parcels, reg)["Mã xã"]
    by_row = {r: i for i, r in enumerate(parse.issues["row"])}
    loaded = parse.records.set_index("sheet_row")
    kept = parse.rejected.set_index("sheet_row")
    expected = before.records.set_index("sheet_row")
    for i, (unit, sheet, number) in enumerate(zip(units, legacy["Số tờ"], legacy["Số thửa"])):
        row = i + 2  # under the header row
        found = candidates.get((unit, sheet, number), [])
        if len(found) > 1:
            reason = kept.at[row, "reason"]
            assert "ambiguous_parcel" in set(parse.issues.loc[parse.issues["row"] == row,
                                                              "rule"])
            for key in found:
                ward = key.split("-")[0]
                assert key in reason and f"legacy ward {ward}" in reason
            assert row not in loaded.index
        elif row in expected.index:  # the legacy sheet loads it: so does the 2025 one
            assert loaded.at[row, "parcel_key"] == expected.at[row, "parcel_key"]
            assert loaded.at[row, "ward_code"] == expected.at[row, "ward_code"]
            assert loaded.at[row, "sheet_unit_code"] == unit
        else:  # kept aside in legacy codes (a planted problem): kept aside here too
            assert row in kept.index and row in by_row
    if no_unit:
        last = len(current) + 1
        rules = set(parse.issues.loc[parse.issues["row"] == last, "rule"])
        assert "code_unknown" in rules and last in kept.index
        assert "99999" in kept.at[last, "reason"]


# -- through the store and the command line ---------------------------------------------------
def _progress(store):
    from gis.clearance import run_clearance

    run = run_clearance(store, as_of=KNOWN_ON, write_back=False)
    return run.progress, run.summary


def _flat(text: str) -> str:
    """Console output with its line wrapping undone."""
    return " ".join(text.split())


def test_report_after_a_2025_load_matches_the_same_rows_in_legacy_codes(
        loaded, legacy_sheet, parcels, reg, tmp_path, monkeypatch):
    from gis.clearance import ingest_clearance
    from gis.cli import cli

    current = _in_2025(legacy_sheet, parcels, reg)
    ambiguous = [len(_candidates(parcels).get((u, s, n), [])) > 1 for u, s, n in zip(
        current["Mã xã"], current["Số tờ"], current["Số thửa"])]
    assert any(ambiguous) and not all(ambiguous)
    path = tmp_path / "tien_do_2025.xlsx"
    current.assign(**{"Mã xã": current["Mã xã"].str.lstrip("0")}).to_excel(path, index=False)

    new = _copy(loaded, tmp_path, "new.gpkg")
    monkeypatch.setenv("GIS_STORE", str(tmp_path / "new.gpkg"))
    monkeypatch.setenv("GIS_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli, ["ingest", "clearance", str(path), "--units", "2025",
                                      "--known-on", "31/12/2024", "--user", "t"])
    assert result.exit_code == 0, result.output
    assert "ward column read as 2025 unit codes" in _flat(result.output)
    assert "are two parcels of the unit" in _flat(result.output)
    records = new.read_table("clearance_records")
    rejected = new.read_table("clearance_rejected")
    assert len(records) + len(rejected) == len(current)
    assert rejected["reason"].str.contains(r"is \d parcels").sum() == sum(ambiguous)
    assert set(records["ward_code"]) <= set(parcels["ward_code"])  # legacy codes, as keys
    assert set(records["sheet_unit_code"]) <= {"09574", "09604"}
    sheets = new.read_table("clearance_sheets")
    assert list(sheets["units"]) == ["2025"]
    assert int(sheets["rows_read"].iloc[0]) == int(sheets["rows_loaded"].iloc[0]) + int(
        sheets["rows_rejected"].iloc[0]) == len(current)

    # the same rows in legacy codes (those the unit codes cannot place left out)
    old = _copy(loaded, tmp_path, "old.gpkg")
    same = tmp_path / "tien_do_legacy.xlsx"
    legacy_sheet[[not a for a in ambiguous]].to_excel(same, index=False)
    ingest_clearance(old, same, user="t", known_on=KNOWN_ON)
    assert sorted(old.read_table("clearance_records")["parcel_key"]) == sorted(
        records["parcel_key"])
    got, want = _progress(new), _progress(old)
    for level in ("projects", "units", "provinces", "wards"):
        pd.testing.assert_frame_equal(getattr(got[0], level), getattr(want[0], level),
                                      check_dtype=False)
    assert json.dumps(got[0].district, default=str, sort_keys=True) == json.dumps(
        want[0].district, default=str, sort_keys=True)
    assert got[1] == want[1]


def test_a_code_of_another_system_makes_the_shared_codes_ambiguous(
        loaded, legacy_sheet, parcels, reg, tmp_path):
    """A legacy-only ward code in a sheet read in 2025 codes is that ward (named); the file
    then mixes systems, so its codes valid in both (09574, 09604) are errors naming both
    units."""
    from gis.clearance import prepare_clearance

    legacy_only = sorted(c for c in parcels["ward_code"].unique() if c not in reg.current.index)
    assert legacy_only  # 09592 Xã Đường Lâm went to 09574 Phường Sơn Tây
    current = _in_2025(legacy_sheet.head(6), parcels, reg)
    current.loc[0, "Mã xã"] = legacy_only[0]
    path = tmp_path / "mixed.csv"
    current.to_csv(path, index=False)
    report = prepare_clearance(path, store=_copy(loaded, tmp_path), units="2025",
                               known_on=KNOWN_ON)
    issues = report.parse.issues.set_index("row")
    first = issues.loc[[2]]
    other = first[first["rule"] == "code_other_system"]["message"].iloc[0]
    assert reg.legacy.at[legacy_only[0], "name"] in other and "--units legacy" in other
    ambiguous = issues[issues["rule"] == "code_ambiguous"]["message"]
    assert len(ambiguous) == 5
    assert "Phường Ngô Quyền" in " ".join(ambiguous) or "Xã Thanh Mỹ" in " ".join(ambiguous)
    assert "Phường Sơn Tây" in " ".join(ambiguous) or "Phường Tùng Thiện" in " ".join(ambiguous)
    assert len(report.parse.records) == 0 and len(report.parse.rejected) == 6


@pytest.fixture(scope="module")
def loads_in_legacy(legacy_sheet, contexts):
    """The positions of the sample sheet's rows that load in legacy codes."""
    parse = parse_sheet(legacy_sheet, vocabulary=VOCAB, sheet="S", known_on=KNOWN_ON,
                        context=contexts[CodeSystem.LEGACY])
    return pd.Series(False, index=legacy_sheet.index).mask(
        legacy_sheet.index.isin(parse.records["sheet_row"] - 2), True)


def test_unit_names_sections_and_the_ward_option(loaded, legacy_sheet, parcels, reg, tmp_path,
                                                 loads_in_legacy):
    """The ward column may name the unit ("P. Sơn Tây"); a legacy ward's name is refused as
    such; a section row or --ward gives the unit of rows naming none."""
    from gis.clearance import prepare_clearance

    store = _copy(loaded, tmp_path)
    current = _in_2025(legacy_sheet, parcels, reg)
    unique = pd.Series([len(_candidates(parcels).get((u, s, n), [])) == 1 for u, s, n in zip(
        current["Mã xã"], current["Số tờ"], current["Số thửa"])], index=current.index)
    rows = current[unique & loads_in_legacy & (current["Mã xã"] == "09574")].head(3)
    assert len(rows) == 3
    named = rows.drop(columns=["Mã xã"]).assign(**{"Phường/Xã": ["P. Sơn Tây", "phuong son tay",
                                                                  "Phường Ngô Quyền"]})
    path = tmp_path / "names.csv"
    named.to_csv(path, index=False)
    parse = prepare_clearance(path, store=store, units="2025", known_on=KNOWN_ON).parse
    assert list(parse.records["sheet_unit_code"]) == ["09574", "09574"]
    assert list(parse.records["parcel_key"]) == list(_keys(legacy_sheet.loc[rows.index[:2]]))
    problem = parse.issues[parse.issues["rule"] == "unknown_unit"]["message"].iloc[0]
    assert "legacy ward" in problem and "09574 Phường Sơn Tây" in problem

    # a section row names the unit of the rows under it
    bare = rows.drop(columns=["Mã xã"])
    heading = pd.DataFrame([{"STT": "I. Phường Sơn Tây"}], columns=bare.columns)
    path = tmp_path / "sections.csv"
    pd.concat([heading, bare], ignore_index=True).to_csv(path, index=False)
    parse = prepare_clearance(path, store=store, units="2025", known_on=KNOWN_ON).parse
    assert parse.section_rows == 1 and parse.rows_read == 4
    assert list(parse.records["sheet_unit_code"]) == ["09574"] * 3
    assert list(parse.records["parcel_key"]) == list(_keys(legacy_sheet.loc[rows.index]))

    # --ward names the unit of rows that name none
    path = tmp_path / "bare.csv"
    bare.to_csv(path, index=False)
    parse = prepare_clearance(path, store=store, units="2025", ward="9574",
                              known_on=KNOWN_ON).parse
    assert len(parse.records) == 3 and set(parse.records["sheet_unit_code"]) == {"09574"}


def test_a_legacy_sheet_with_a_2025_code_says_so(loaded, legacy_sheet, reg, tmp_path):
    from gis.clearance import prepare_clearance

    sheet = legacy_sheet.head(2).copy()
    sheet["Mã xã"] = "09616"  # 2025 Xã Đoài Phương; legacy Xã Cổ Đông, not in this store
    path = tmp_path / "legacy.csv"
    sheet.to_csv(path, index=False)
    parse = prepare_clearance(path, store=_copy(loaded, tmp_path), known_on=KNOWN_ON).parse
    message = parse.issues[parse.issues["rule"] == "unknown_ward"]["message"].iloc[0]
    assert "Xã Đoài Phương" in message and "--units 2025" in message


def test_a_sheet_in_2025_codes_needs_stored_parcels(legacy_sheet, tmp_path, monkeypatch):
    from gis.clearance import prepare_clearance
    from gis.cli import cli

    path = tmp_path / "s.csv"
    legacy_sheet.head(3).to_csv(path, index=False)
    with pytest.raises(UnitCodeError, match="no parcels"):
        prepare_clearance(path, store=None, units="2025")
    monkeypatch.setenv("GIS_STORE", str(tmp_path / "empty.gpkg"))
    monkeypatch.setenv("GIS_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli, ["validate", str(path), "--kind", "clearance",
                                      "--units", "2025"])
    assert result.exit_code != 0 and "load the parcels first" in _flat(result.output)


def test_a_parcel_whose_unit_was_assumed_is_a_candidate_in_each_unit_of_its_ward():
    """Without unit polygons a split ward's parcels sit in the default unit, assumed: a row of
    the other unit with the same numbers is not matched to a neighbour as if it were sure."""
    index = UnitParcels.from_parcels(
        ["09604-2-7", "09592-2-7", "09574-1-1"],
        [("09604", "09574"), ("09574",), ("09574",)],
        unit_names={"09574": "Phường Sơn Tây", "09604": "Phường Tùng Thiện"},
        ward_names={"09604": "Xã Thanh Mỹ", "09592": "Xã Đường Lâm"}, assumed=["09604-2-7"])
    assert index.match("09604", 2, 7).key == "09604-2-7"
    two = index.match("09574", 2, 7)
    assert two.key is None and two.rule == "ambiguous_parcel"
    assert "its unit assumed" in str(two.message) and "09592-2-7" in str(two.message)
    assert index.match("09574", 1, 1).ward == "09574"
    assert index.match("09616", 1, 1).rule == "unknown_parcel"
