"""Status sheets, the workflow, amounts and dates, progress "as of" a date, the briefing."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis.catalog import load_vocabulary
from gis.core.clearance.progress import compute_progress
from gis.core.clearance.sheet import SheetContext, parse_sheet
from gis.core.clearance.status import Status

VOCAB = load_vocabulary()


def parse_status(text):
    return VOCAB.match_status(text).status
from gis.core.clearance.summary import briefing
from gis.core.clearance.values import parse_date, parse_vnd
from gis.core.overlay import overlay_parcels_projects
from gis.errors import FieldMappingError
from gis.text import translator


@pytest.mark.parametrize("text,value", [
    ("1.052.188.000", 1_052_188_000), ("1,05 tỷ", 1_050_000_000), ("1,05 ty", 1_050_000_000),
    ("250 triệu", 250_000_000), ("1.052.188.000 đồng", 1_052_188_000), ("3000000", 3_000_000),
    ("1,052,188,000", 1_052_188_000), (2_500_000.0, 2_500_000), ("", None), (None, None)])
def test_amounts(text, value):
    assert parse_vnd(text) == value


@pytest.mark.parametrize("text", ["khoảng 1 tỷ", "1,2 tỷ (tạm tính)", "abc", "1.05.2"])
def test_bad_amounts(text):
    with pytest.raises(ValueError, match="not an amount"):
        parse_vnd(text)


def test_dates():
    assert parse_date("05/03/2024") == dt.date(2024, 3, 5)
    assert parse_date("5-3-2024") == dt.date(2024, 3, 5)
    assert parse_date(dt.datetime(2024, 3, 5, 10)) == dt.date(2024, 3, 5)
    with pytest.raises(ValueError, match="not a real date"):
        parse_date("31/02/2023")
    with pytest.raises(ValueError, match="not a date"):
        parse_date("tháng 3")


def test_statuses_in_order_and_words():
    assert [s.rank for s in Status] == list(range(15))
    assert Status.HANDED_OVER.cleared and Status.ENFORCED.cleared and not Status.PAID.cleared
    assert parse_status("Đã phê duyệt phương án") is Status.PLAN_APPROVED
    assert parse_status("DA BAN GIAO MAT BANG") is Status.HANDED_OVER
    assert parse_status("Kiểm đếm bắt buộc") is Status.FORCED_INVENTORY
    assert parse_status("land_banked") is Status.LAND_BANKED
    assert parse_status("Tạm dừng") is None


def _sheet(rows, headers=None):
    headers = headers or ["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Số hộ", "Trạng thái",
                          "Ngày thông báo", "Ngày phê duyệt PA", "Số tiền phê duyệt (đồng)",
                          "Số tiền đã chi trả (đồng)", "Ngày chi trả", "Ngày bàn giao", "Khiếu nại"]
    return pd.DataFrame(rows, columns=headers, dtype=object)


ROWS = [
    ["P", "00001", 1, 1, 2, "Đã bàn giao mặt bằng", "01/02/2024", "01/03/2024", "1.000.000.000",
     "1.000.000.000", "15/03/2024", "01/06/2024", "Không"],
    ["P", "00001", 1, 2, 1, "Đã phê duyệt phương án", "01/02/2024", "01/03/2024", "0,5 tỷ", None,
     None, None, "Có"],
    ["P", "00001", 1, 3, 1, "Tạm dừng", "01/02/2024", None, None, None, None, None, None],
    ["P", "00001", 1, 99, 1, "Đã thông báo thu hồi", "01/02/2024", None, None, None, None, None, None],
    ["P", "00001", 1, 4, 1, "Đã kiểm đếm", "31/02/2024", None, None, None, None, None, None],
]


def test_sheet_rows_are_accepted_or_kept_aside_with_row_and_column():
    parse = parse_sheet(vocabulary=VOCAB, frame=_sheet(ROWS), sheet="S1", header_row=3,
                        context=SheetContext(parcel_keys={"00001-1-1", "00001-1-2", "00001-1-3",
                                                          "00001-1-4"}))
    assert parse.rows_total == 5 and len(parse.records) == 2 and len(parse.rejected) == 3
    issues = {(r.row, r.column, r.rule) for r in parse.issues.itertuples()}
    assert (6, "Trạng thái", "unknown_status") in issues  # third data row under header row 3
    assert (7, "Số thửa", "unknown_parcel") in issues
    assert (8, "Ngày thông báo", "bad_date") in issues
    assert set(parse.rejected["reason"].str.split(":").str[0]) == {
        "Trạng thái", "Số thửa", "Ngày thông báo"}
    ev = parse.events[parse.events["parcel_key"] == "00001-1-1"]
    assert list(ev["status"]) == ["NOTIFIED", "PLAN_APPROVED", "PAID", "HANDED_OVER"]
    assert ev.set_index("status").loc["PLAN_APPROVED", "amount_vnd"] == 1_000_000_000


def test_headers_without_diacritics_and_missing_columns():
    headers = ["Ma du an", "Ma xa", "So to", "So thua", "Trang thai"]
    parse = parse_sheet(vocabulary=VOCAB, frame=_sheet([["P", "1", "1", "1", "da thong bao thu hoi"]], headers))
    assert parse.records.iloc[0]["parcel_key"] == "00001-1-1"
    assert parse.records.iloc[0]["status"] == "NOTIFIED"
    with pytest.raises(FieldMappingError, match="status"):
        parse_sheet(vocabulary=VOCAB, frame=_sheet([["P", "1", "1", "1"]], headers[:4]), sheet="S")


@pytest.fixture
def progress_inputs():
    parcels = gpd.GeoDataFrame(
        {"parcel_key": ["00001-1-1", "00001-1-2", "00002-1-5"], "ward_code": ["00001", "00001", "00002"]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.box(20, 0, 30, 10)],
        crs="EPSG:5897")
    projects = gpd.GeoDataFrame({"project_id": ["P"], "name": ["Đường"], "capital_source": ["STATE_BUDGET"],
                                 "start_type": ["NEW"], "key_project": [True],
                                 "capital_plan_vnd": [2e9], "disbursed_vnd": [1.5e9]},
                                geometry=[shapely.box(5, 0, 30, 10)], crs="EPSG:5897")
    pairs = overlay_parcels_projects(parcels, projects).pairs
    parse = parse_sheet(vocabulary=VOCAB, frame=_sheet(ROWS[:2]))
    return pairs, projects, parse.records, parse.events


@pytest.mark.parametrize("as_of,status1,status2,approved,paid,recovered,overdue", [
    ("2024-01-15", "NOT_STARTED", "NOT_STARTED", 0, 0, 0.0, 0),
    ("2024-02-15", "NOTIFIED", "NOTIFIED", 0, 0, 0.0, 0),
    ("2024-03-10", "PLAN_APPROVED", "PLAN_APPROVED", 1_500_000_000, 0, 0.0, 0),
    ("2024-04-30", "PAID", "PLAN_APPROVED", 1_500_000_000, 1_000_000_000, 0.0, 1),
    ("2024-07-01", "HANDED_OVER", "PLAN_APPROVED", 1_500_000_000, 1_000_000_000, 50.0, 1),
])
def test_progress_as_of(progress_inputs, as_of, status1, status2, approved, paid, recovered,
                        overdue):
    pairs, projects, records, events = progress_inputs
    p = compute_progress(pairs, projects, records, events, as_of=dt.date.fromisoformat(as_of))
    st = p.parcels.set_index("parcel_key")["status"]
    assert st["00001-1-1"] == status1 and st["00001-1-2"] == status2
    assert st["00002-1-5"] == "NOT_STARTED"  # inside the project, no sheet row
    proj = p.projects.set_index("project_id").loc["P"]
    assert proj["parcels_affected"] == 3 and proj["area_affected_m2"] == pytest.approx(250.0)
    assert proj["compensation_approved_vnd"] == approved
    assert proj["compensation_paid_vnd"] == paid
    assert proj["area_recovered_m2"] == pytest.approx(recovered)  # only the project part (50 of 100)
    assert proj["overdue_payments"] == overdue
    assert proj["disbursement_pct"] == pytest.approx(75.0)
    wards = p.wards.set_index("ward_code")
    assert wards.loc["00001", "parcels_affected"] == 2 and wards.loc["00002", "parcels_affected"] == 1
    assert p.district["projects_total"] == 1 and p.district["key_projects"]["projects"] == 1


def test_problems_listed(progress_inputs):
    pairs, projects, records, events = progress_inputs
    p = compute_progress(pairs, projects, records, events, as_of=dt.date(2024, 7, 1))
    kinds = set(p.problems["kind"])
    assert {"payment_overdue", "complaints"} <= kinds


def test_briefing_from_figures_in_both_languages(progress_inputs):
    pairs, projects, records, events = progress_inputs
    p = compute_progress(pairs, projects, records, events, as_of=dt.date(2024, 7, 1))
    vi = briefing(p.district, as_of="01/07/2024", translate=translator("vi"))
    en = briefing(p.district, as_of="01/07/2024", translate=translator("en"))
    assert vi.startswith("Tính đến ngày 01/07/2024: 1 dự án") and "2/3 phương án" in vi
    assert "1,5 tỷ đồng" not in vi and "1,0 tỷ đồng" in vi  # paid, not approved
    assert "2 of 3 plans approved" in en and "1.0 billion VND paid" in en


def test_a_parcel_in_two_overlapping_projects_counts_once_above_project_level():
    parcels = gpd.GeoDataFrame({"parcel_key": ["00001-1-1"], "ward_code": ["00001"]},
                               geometry=[shapely.box(0, 0, 10, 10)], crs="EPSG:5897")
    projects = gpd.GeoDataFrame({"project_id": ["A", "B"], "capital_source": ["STATE_BUDGET"] * 2,
                                 "start_type": ["NEW"] * 2},
                                geometry=[shapely.box(0, 0, 6, 10), shapely.box(4, 0, 10, 10)],
                                crs="EPSG:5897")
    pairs = overlay_parcels_projects(parcels, projects).pairs
    p = compute_progress(pairs, projects, pd.DataFrame(), pd.DataFrame(columns=["project_id",
                         "parcel_key", "status", "rank", "date", "amount_vnd", "dated_by"]),
                         as_of=dt.date(2024, 1, 1))
    assert list(p.projects["area_affected_m2"]) == [60.0, 60.0]  # each project its own part
    ward = p.wards.set_index("ward_code").loc["00001"]
    assert ward["parcels_affected"] == 1 and ward["area_affected_m2"] == pytest.approx(100.0)
    assert p.district["parcels_affected"] == 1
    assert p.district["area_affected_m2"] == pytest.approx(100.0)  # union, not 120
    assert ward["plans_total"] == 2  # one plan per project


def test_amount_units_from_headers_and_silly_amounts():
    headers = ["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái", "Ngày phê duyệt PA",
               "Số tiền phê duyệt (tỷ đồng)"]
    parse = parse_sheet(vocabulary=VOCAB, frame=_sheet([["P", "1", "1", "1", "Đã phê duyệt phương án", "01/03/2024", "1,05"],
                                ["P", "1", "1", "2", "Đã phê duyệt phương án", "01/03/2024", "-5"]],
                               headers))
    assert parse.records.iloc[0]["compensation_approved_vnd"] == 1_050_000_000
    assert parse.issues.set_index("row").loc[3, "rule"] == "bad_amount"
    with pytest.raises(ValueError, match="too small"):
        parse_vnd("1,05")
    bad = parse_sheet(vocabulary=VOCAB, frame=_sheet([["P", "1", "1", "44.5", "Đã kiểm đếm", None, None]], headers))
    assert bad.issues["rule"].tolist()[-1] == "bad_number"


def test_undated_statuses_are_known_from_the_sheet_day():
    headers = ["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái", "Ngày thông báo"]
    parse = parse_sheet(vocabulary=VOCAB, frame=_sheet([["P", "1", "1", "1", "Đã bàn giao mặt bằng", "01/02/2024"]], headers),
                        known_on=dt.date(2024, 6, 30))
    handed = parse.events[parse.events["status"] == "HANDED_OVER"].iloc[0]
    assert handed["date"] == dt.date(2024, 6, 30) and handed["dated_by"] == "known_on"


def test_semicolon_csv_with_decimal_commas_and_a_title_row(tmp_path):
    from gis.io.tables import read_table

    path = tmp_path / "s.csv"
    path.write_text("BÁO CÁO TIẾN ĐỘ GPMB\n"
                    "Mã dự án;Mã xã;Số tờ;Số thửa;Trạng thái;Số tiền đã chi trả (tỷ đồng)\n"
                    "DA-1;00001;2;3;Đã chi trả;1,05\n", encoding="utf-8-sig")
    frame, source = read_table(path)
    assert source.header_row == 2 and list(frame.columns)[-1] == "Số tiền đã chi trả (tỷ đồng)"
    parse = parse_sheet(frame, vocabulary=VOCAB, header_row=source.header_row,
                        known_on=dt.date(2024, 12, 31))
    assert parse.records.iloc[0]["compensation_paid_vnd"] == 1_050_000_000
    paid = parse.events[parse.events["status"] == "PAID"].iloc[0]
    assert paid["amount_vnd"] == 1_050_000_000 and paid["dated_by"] == "known_on"
