"""Sheets as boards write them, generated: wording variants, any subset of optional columns,
title, section and total rows, amount formats, several projects, .xlsx/.xls/.csv, several
sheets in any order. The generator knows the truth; the parser and the figures must agree."""

from __future__ import annotations

import csv
import datetime as dt
import random
import unicodedata

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from gis.catalog import load_vocabulary
from gis.core.clearance.history import (
    EVENT_TYPES,
    RECORD_TYPES,
    effective_events,
    effective_records,
    typed,
)
from gis.core.clearance.progress import compute_progress
from gis.core.clearance.sheet import SheetContext, parse_sheet
from gis.core.clearance.status import LABELS_VI, Status
from gis.io.tables import read_table
from tests.io.sheet_files import write_xls

VOCAB = load_vocabulary()

# -- the matcher ------------------------------------------------------------------------------
# phrases boards write, with the step they mean (the vocabulary's own phrases are tested too)
WRITTEN = {
    "Đã thông báo thu hồi đất": Status.NOTIFIED, "Đã TB thu hồi": Status.NOTIFIED,
    "Đã kiểm đếm": Status.INVENTORIED, "Chưa kiểm đếm": Status.NOTIFIED,
    "Đã lập PA BT, HT, TĐC": Status.PLAN_DRAFTED, "Đã niêm yết PA": Status.PLAN_POSTED,
    "Đã PD PA": Status.PLAN_APPROVED, "Phương án đã được phê duyệt": Status.PLAN_APPROVED,
    "Đã phê duyệt PA, chưa chi trả": Status.PLAN_APPROVED,
    "Đã nhận tiền bồi thường": Status.PAID, "Chưa nhận tiền": Status.PLAN_DELIVERED,
    "Đã có QĐ thu hồi": Status.RECOVERY_DECIDED, "Đã BGMB": Status.HANDED_OVER,
    "Hoàn thành GPMB": Status.HANDED_OVER, "Cưỡng chế thu hồi": Status.ENFORCED,
    "Cưỡng chế kiểm đếm": Status.FORCED_INVENTORY, "Kiểm đếm bắt buộc": Status.FORCED_INVENTORY,
    "Đã giao đất cho chủ đầu tư": Status.LAND_BANKED, "Chưa thực hiện": Status.PLANNED,
}
ABBREVIATE = {"thông báo": "TB", "phương án": "PA", "phê duyệt": "PD", "bàn giao mặt bằng": "BGMB",
              "quyết định": "QĐ", "mặt bằng": "MB", "kiểm đếm": "KĐ"}


def _strip_accents(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@st.composite
def variants(draw):  # type: ignore[no-untyped-def]
    """A wording of a known step: accents, capitals, abbreviations, "đã", "đất", punctuation."""
    source = draw(st.sampled_from(sorted({**WRITTEN, **{v: k for k, v in LABELS_VI.items()}})))
    step = WRITTEN.get(source) or next(s for s, label in LABELS_VI.items() if label == source)
    text = source
    for long, short in ABBREVIATE.items():
        if long in text and draw(st.booleans()):
            text = text.replace(long, short)
    if text.startswith("Đã ") and draw(st.booleans()):
        text = text[3:]
    if step is Status.NOTIFIED and "thu hồi" in text and draw(st.booleans()):
        text += " đất"
    if draw(st.booleans()):
        text = _strip_accents(text)
    text = draw(st.sampled_from([text, text.upper(), text.lower(), text.title()]))
    text = draw(st.sampled_from(["{}", " {} ", "{}.", "- {}", "{} ;"])).format(text)
    return text, step


@given(variants())
@example(("Đã thông báo thu hồi đất", Status.NOTIFIED))
@example(("Đã BGMB", Status.HANDED_OVER))
@example(("Chưa kiểm đếm", Status.NOTIFIED))
@example(("Đã nhận tiền bồi thường", Status.PAID))
@example(("DA PD PA", Status.PLAN_APPROVED))
@settings(max_examples=300, deadline=None)
def test_the_matcher_reads_the_words_boards_write(case):
    text, step = case
    assert VOCAB.match_status(text).status is step, text


@given(st.text(alphabet="xyzqwj ", min_size=1, max_size=12))
@settings(max_examples=50, deadline=None)
def test_unknown_wording_names_the_nearest_steps(text):
    assume(text.strip())
    match = VOCAB.match_status(text)
    assert match.status is None and match.nearest
    assert all(n in LABELS_VI.values() for n in match.nearest)


def test_capital_sources_as_offices_write_them():
    for text in ("Ngân sách thành phố", "Ngân sách quận", "NSTP", "NSNN", "Vốn đầu tư công",
                 "ngan sach tinh", "Ngân sách Trung ương"):
        assert VOCAB.capital_source(text) == "STATE_BUDGET", text
    for text in ("Ngoài ngân sách", "Vốn ngoài ngân sách", "Xã hội hóa", "XHH", "BT", "BOT",
                 "Vốn doanh nghiệp"):
        assert VOCAB.capital_source(text) == "NON_BUDGET", text
    assert VOCAB.capital_source("Vốn gì đó") == "UNKNOWN"
    assert VOCAB.capital_source(None) is None


# -- random sheets ----------------------------------------------------------------------------
HEADERS = {"project_id": "Mã dự án", "ward_code": "Mã xã", "map_sheet": "Số tờ",
           "parcel_no": "Số thửa", "status": "Trạng thái", "households": "Số hộ",
           "owner_name": "Họ tên chủ sử dụng", "date_approved": "Ngày phê duyệt PA",
           "approved": "Số tiền bồi thường (đồng)", "paid": "Số tiền đã chi trả (đồng)",
           "date_handed_over": "Ngày bàn giao"}
OPTIONAL = ["households", "owner_name", "date_approved", "approved", "paid", "date_handed_over"]
# (wording, step) with the steps the figures care about
STEPS = [("Đã thông báo thu hồi đất", Status.NOTIFIED), ("da kiem dem", Status.INVENTORIED),
         ("Đã PD PA", Status.PLAN_APPROVED), ("Đã nhận tiền bồi thường", Status.PAID),
         ("Đã BGMB", Status.HANDED_OVER), ("ĐÃ BÀN GIAO MẶT BẰNG", Status.HANDED_OVER)]
KNOWN_ON = dt.date(2025, 6, 30)


def _amount_text(value: int, style: int) -> object:
    if style == 0:
        return value
    if style == 1:
        return f"{value:,}".replace(",", ".")
    if style == 2:
        return f"{value / 1e9:.3f}".replace(".", ",") + " tỷ" if value % 1_000_000 == 0 else value
    return f"{value / 1e6:g}".replace(".", ",") + " triệu" if value % 1000 == 0 else value


@st.composite
def sheets(draw):  # type: ignore[no-untyped-def]
    """A sheet (list of rows, first row headers) and the truth per (project, parcel)."""
    projects = draw(st.sampled_from([["P1"], ["P1", "P2"]]))
    optional = draw(st.lists(st.sampled_from(OPTIONAL), unique=True))
    columns = ["project_id", "ward_code", "map_sheet", "parcel_no", "status", *optional]
    n = draw(st.integers(1, 12))
    truth: dict[tuple[str, str], dict[str, object]] = {}
    rows = []
    for _ in range(n):
        project = draw(st.sampled_from(projects))
        parcel = draw(st.integers(1, 20))
        key = f"00001-1-{parcel}"
        if (project, key) in truth:
            continue
        wording, step = draw(st.sampled_from(STEPS))
        approved = draw(st.integers(1, 900)) * 1_000_000
        style = draw(st.integers(0, 3))
        row = {"project_id": project, "ward_code": draw(st.sampled_from(["00001", "1", 1])),
               "map_sheet": 1, "parcel_no": parcel, "status": wording,
               "households": draw(st.integers(0, 4)),
               "owner_name": draw(st.sampled_from(["Nguyễn Văn A", "Trần Thị B", "Lê C"])),
               "date_approved": "01/03/2025" if step.rank >= Status.PLAN_APPROVED.rank else None,
               "approved": _amount_text(approved, style)
               if step.rank >= Status.PLAN_APPROVED.rank else None,
               "paid": _amount_text(approved, style) if step.rank >= Status.PAID.rank else None,
               "date_handed_over": "01/05/2025" if step.cleared else None}
        rows.append([row[c] for c in columns])
        truth[(project, key)] = {
            "step": step, "households": row["households"] if "households" in optional else None,
            "approved": approved if "approved" in optional and row["approved"] is not None else 0,
            "paid": approved if "paid" in optional and row["paid"] is not None else 0}
    title = draw(st.integers(0, 2))
    total = draw(st.booleans())
    body = [[HEADERS[c] for c in columns], *rows]
    if total:
        body.append(["Tổng cộng"] + [None] * (len(columns) - 1))
    if draw(st.booleans()) and len(rows) > 1:
        body.insert(2, [None] * len(columns))  # a blank row
    titles = [["UBND PHƯỜNG THỬ NGHIỆM"], ["BẢNG TỔNG HỢP TIẾN ĐỘ GPMB"]][:title]
    return titles, body, truth, total


def _frame(titles, body):  # type: ignore[no-untyped-def]
    headers, *rows = body
    start = len(titles) + 1
    frame = pd.DataFrame(rows, columns=headers, dtype=object)
    frame.index = range(start + 1, start + 1 + len(rows))
    return frame, start


def _pairs(truth):  # type: ignore[no-untyped-def]
    """Every parcel 1..20 overlaps both projects by 10 m² (a synthetic overlay)."""
    rows = [{"project_id": p, "parcel_key": f"00001-1-{i}", "ward_code": "00001", "overlap_m2": 10.0}
            for p in ("P1", "P2") for i in range(1, 21)]
    return pd.DataFrame(rows)


PROJECTS = gpd.GeoDataFrame({"project_id": ["P1", "P2"], "name": ["Một", "Hai"],
                             "capital_source": ["STATE_BUDGET", "NON_BUDGET"]},
                            geometry=[shapely.box(0, 0, 1, 1)] * 2, crs="EPSG:5897")


def _figures(parses):  # type: ignore[no-untyped-def]
    records = pd.concat([typed(p.records.assign(load_id=f"L{i}", load_seq=i), RECORD_TYPES)
                         for i, p in enumerate(parses)], ignore_index=True)
    events = pd.concat([typed(p.events.assign(known_on=p.records["known_on"].iloc[0]
                                              if len(p.records) else KNOWN_ON,
                                              load_id=f"L{i}", load_seq=i), EVENT_TYPES)
                        for i, p in enumerate(parses)], ignore_index=True)
    progress = compute_progress(_pairs(None), PROJECTS, effective_records(records),
                                effective_events(events), as_of=dt.date(2025, 12, 31))
    return progress.projects.set_index("project_id")


@given(sheets())
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_sheets_parse_and_add_up(case):
    titles, body, truth, has_total = case
    frame, header_row = _frame(titles, body)
    parse = parse_sheet(frame, vocabulary=VOCAB, sheet="S", header_row=header_row,
                        context=SheetContext(parcel_keys={f"00001-1-{i}" for i in range(1, 21)},
                                             projects={"P1": "Một", "P2": "Hai"},
                                             wards={"00001": "Thử"}),
                        known_on=KNOWN_ON)
    data_rows = len(truth)
    assert parse.rows_total == data_rows == len(parse.records) + len(parse.rejected)
    assert len(parse.rejected) == 0, parse.issues.to_dict("records")
    assert parse.total_rows == int(has_total)
    assert parse.rows_read == data_rows + int(has_total)
    got = {(r["project_id"], r["parcel_key"]): r["status"] for r in parse.records.to_dict("records")}
    assert got == {k: v["step"].value for k, v in truth.items()}
    figures = _figures([parse])
    for project in ("P1", "P2"):
        mine = {k: v for k, v in truth.items() if k[0] == project}
        assert figures.loc[project, "parcels_handed_over"] == sum(
            v["step"].cleared for v in mine.values())
        assert figures.loc[project, "compensation_approved_vnd"] == sum(
            int(v["approved"]) for v in mine.values())
        assert figures.loc[project, "compensation_paid_vnd"] == sum(
            int(v["paid"]) for v in mine.values())
        assert figures.loc[project, "households"] == sum(
            int(v["households"] or 0) for v in mine.values())


@pytest.mark.slow
@given(sheets(), sheets(), st.randoms())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_sheets_of_different_days_give_the_same_figures_in_any_order(a, b, rnd):
    parses = []
    for (titles, body, _, _), day in ((a, dt.date(2025, 3, 1)), (b, dt.date(2025, 6, 1))):
        frame, header_row = _frame(titles, body)
        parses.append(parse_sheet(frame, vocabulary=VOCAB, sheet=f"S{day}",
                                  header_row=header_row, known_on=day))
    forward = _figures(parses)
    shuffled = parses[:]
    rnd.shuffle(shuffled)
    backward = _figures(list(reversed(parses)))
    pd.testing.assert_frame_equal(forward, backward, check_like=True)
    pd.testing.assert_frame_equal(forward, _figures(shuffled), check_like=True)


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "csv"])
@given(case=sheets())
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_random_sheets_through_files(tmp_path_factory, fmt, case):
    titles, body, truth, _ = case
    folder = tmp_path_factory.mktemp("sheets")
    path = folder / f"s.{fmt}"
    rows = [*titles, *body]
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(path)
    elif fmt == "xls":
        write_xls(path, {"Tiến độ": rows})
    else:
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([["" if v is None else v for v in r] for r in rows])
    frame, source = read_table(path)
    parse = parse_sheet(frame, vocabulary=VOCAB, sheet=source.sheet, header_row=source.header_row,
                        known_on=KNOWN_ON)
    assert parse.rows_total == len(truth) and len(parse.rejected) == 0, \
        parse.issues.to_dict("records")
    assert sorted(parse.records["sheet_row"]) == sorted(
        i + 1 for i, r in enumerate(rows) if r and r[0] in ("P1", "P2"))
    figures = _figures([parse])
    assert int(figures["compensation_approved_vnd"].sum()) == sum(
        int(v["approved"]) for v in truth.values())


def test_a_second_sheet_without_dates_or_amounts_keeps_the_first_ones():
    first, _ = _frame([], [["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái",
                            "Ngày phê duyệt PA", "Số tiền bồi thường (đồng)", "Số hộ"],
                           ["P1", "00001", 1, 1, "Đã PD PA", "01/03/2025", "1.000.000.000", 3],
                           ["P1", "00001", 1, 2, "Đã kiểm đếm", None, None, 2]])
    second, _ = _frame([], [["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái"],
                            ["P1", "00001", 1, 1, "Đã nhận tiền"]])
    a = parse_sheet(first, vocabulary=VOCAB, known_on=dt.date(2025, 3, 31))
    b = parse_sheet(second, vocabulary=VOCAB, known_on=dt.date(2025, 4, 30))
    before, after = _figures([a]), _figures([a, b])
    assert before.loc["P1", "compensation_approved_vnd"] == 1_000_000_000
    assert after.loc["P1", "compensation_approved_vnd"] == 1_000_000_000  # kept
    assert after.loc["P1", "households"] == 5  # carried from the first sheet
    assert after.loc["P1", "plans_approved"] == before.loc["P1", "plans_approved"]
    events = pd.concat([typed(p.events.assign(known_on=d, load_id=str(d), load_seq=i), EVENT_TYPES)
                        for i, (p, d) in enumerate([(a, "2025-03-31"), (b, "2025-04-30")])])
    assert len(effective_events(events)) >= len(a.events)


def test_total_rows_are_checked_and_sections_set_the_ward():
    frame, header_row = _frame(["BẢNG TỔNG HỢP DỰ ÁN: Hai"], [
        ["STT", "Phường/Xã", "Số tờ", "Số thửa", "Trạng thái", "Số tiền bồi thường (đồng)"],
        ["I", "Phường Thử", None, None, None, None],
        [1, None, 1, 1, "Đã PD PA", "100.000.000"],
        [2, None, 1, 2, "Đã PD PA", "200.000.000"],
        ["Cộng phường", None, None, None, None, "300.000.000"],
        ["Tổng cộng", None, None, None, None, "400.000.000"]])
    parse = parse_sheet(frame, vocabulary=VOCAB, header_row=header_row, known_on=KNOWN_ON,
                        context=SheetContext(projects={"P1": "Một", "P2": "Hai"},
                                             wards={"00001": "Thử"},
                                             title_lines=("BẢNG TỔNG HỢP DỰ ÁN: Hai",)))
    assert len(parse.records) == 2 and set(parse.records["project_id"]) == {"P2"}
    assert set(parse.records["ward_code"]) == {"00001"}
    assert parse.total_rows == 2 and parse.section_rows == 1
    mismatch = parse.issues[parse.issues["rule"] == "total_mismatch"]
    assert list(mismatch["row"]) == [frame.index[-1]]  # the grand total, not the subtotal


def test_a_stated_status_is_kept_over_later_dates_and_listed():
    frame, _ = _frame([], [["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái",
                            "Ngày chi trả", "Ngày quyết định thu hồi", "Số tiền đã chi trả"],
                           ["P1", "00001", 1, 1, "Đã chi trả", "01/04/2025", "10/04/2025",
                            "5.000.000"]])
    parse = parse_sheet(frame, vocabulary=VOCAB, known_on=KNOWN_ON)
    assert parse.records.iloc[0]["status"] == "PAID"
    assert "status_disagrees_with_dates" in set(parse.issues["rule"])
    progress = compute_progress(_pairs(None), PROJECTS, effective_records(typed(
        parse.records.assign(load_id="L", load_seq=1), RECORD_TYPES)), effective_events(typed(
            parse.events.assign(known_on=KNOWN_ON, load_id="L", load_seq=1), EVENT_TYPES)),
        as_of=dt.date(2025, 12, 31))
    pair = progress.parcels.set_index(["project_id", "parcel_key"]).loc[("P1", "00001-1-1")]
    assert pair["status"] == "PAID"
    assert "status_disagrees_with_dates" in set(progress.problems["kind"])


def test_money_never_disappears():
    """An approved amount on a row before approval is not in the total: it is a problem."""
    frame, _ = _frame([], [["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái",
                            "Số tiền bồi thường (đồng)"],
                           ["P1", "00001", 1, 1, "Đã kiểm đếm", "1,05 tỷ"],
                           ["P1", "00001", 1, 2, "Đã PD PA", "2 tỷ"]])
    parse = parse_sheet(frame, vocabulary=VOCAB, known_on=KNOWN_ON)
    progress = compute_progress(_pairs(None), PROJECTS, effective_records(typed(
        parse.records.assign(load_id="L", load_seq=1), RECORD_TYPES)), effective_events(typed(
            parse.events.assign(known_on=KNOWN_ON, load_id="L", load_seq=1), EVENT_TYPES)),
        as_of=dt.date(2025, 12, 31))
    counted = int(progress.projects.set_index("project_id").loc["P1", "compensation_approved_vnd"])
    listed = int(progress.problems["approved_vnd"].fillna(0).sum())
    assert counted == 2_000_000_000 and listed == 1_050_000_000
    assert counted + listed == 3_050_000_000


def test_plans_are_per_land_user_and_the_state_has_none():
    frame, _ = _frame([], [["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái", "Chủ sử dụng"],
                           ["P1", "00001", 1, 1, "Đã PD PA", "Nguyễn Văn A"],
                           ["P1", "00001", 1, 2, "Đã PD PA", "nguyen van a"],
                           ["P1", "00001", 1, 3, "Đã kiểm đếm", "Trần Thị B"],
                           ["P1", "00001", 1, 4, "Đã BGMB", "UBND phường Thử"]])
    parse = parse_sheet(frame, vocabulary=VOCAB, known_on=KNOWN_ON)
    pairs = _pairs(None)
    pairs = pairs[(pairs["project_id"] == "P1") & pairs["parcel_key"].isin(
        [f"00001-1-{i}" for i in range(1, 7)])]
    parcels = pd.DataFrame({"parcel_key": [f"00001-1-{i}" for i in range(1, 7)],
                            "owner_name": [None] * 4 + ["Lê C", None],
                            "is_public": [False] * 5 + [True]})
    progress = compute_progress(pairs, PROJECTS, effective_records(typed(
        parse.records.assign(load_id="L", load_seq=1), RECORD_TYPES)), effective_events(typed(
            parse.events.assign(known_on=KNOWN_ON, load_id="L", load_seq=1), EVENT_TYPES)),
        as_of=dt.date(2025, 12, 31), parcels=parcels, vocabulary=VOCAB)
    p1 = progress.projects.set_index("project_id").loc["P1"]
    # A (two parcels), B, Lê C (parcel 5, not on the sheet); the commune and a public parcel: none
    assert (p1["plans_total"], p1["plans_approved"], p1["plans_rule"]) == (3, 1, "owners")


def test_random_seeded_sheet_rows_never_crash():
    """Garbage in every cell: every row accepted or kept aside, never an exception."""
    rnd = random.Random(7)
    junk = [None, "", "abc", "-5", "12a", "0", 3.5, "1.2.3", "31/02/2024", "Tổng", "=SUM(A1)",
            "Đã BGMB", "P1", "00001", 10**20, -1, True]
    headers = ["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái", "Số hộ",
               "Số tiền bồi thường (đồng)", "Ngày bàn giao", "Diện tích thu hồi (m²)"]
    rows = [[rnd.choice(junk) for _ in headers] for _ in range(300)]
    frame, header_row = _frame([], [headers, *rows])
    parse = parse_sheet(frame, vocabulary=VOCAB, header_row=header_row, known_on=KNOWN_ON)
    blank = sum(all(v in (None, "") for v in r) for r in rows)
    assert parse.rows_read + blank == len(rows)
    assert parse.rows_total == len(parse.records) + len(parse.rejected)


def test_the_sheet_area_is_compared_with_the_map():
    frame, _ = _frame([], [["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái",
                            "Diện tích thu hồi (m²)"],
                           ["P1", "00001", 1, 1, "Đã BGMB", "10,2"],
                           ["P1", "00001", 1, 2, "Đã BGMB", "25"]])
    parse = parse_sheet(frame, vocabulary=VOCAB, known_on=KNOWN_ON)
    progress = compute_progress(_pairs(None), PROJECTS, effective_records(typed(
        parse.records.assign(load_id="L", load_seq=1), RECORD_TYPES)), effective_events(typed(
            parse.events.assign(known_on=KNOWN_ON, load_id="L", load_seq=1), EVENT_TYPES)),
        as_of=dt.date(2025, 12, 31))
    off = progress.problems[progress.problems["kind"] == "area_differs"]
    assert list(off["parcel_key"]) == ["00001-1-2"]  # 25 m² on the sheet, 10 m² on the map


def test_an_amount_not_due_yet_on_the_as_of_day_is_not_a_problem():
    frame, _ = _frame([], [["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái",
                            "Ngày phê duyệt PA", "Số tiền bồi thường (đồng)"],
                           ["P1", "00001", 1, 1, "Đã PD PA", "01/03/2025", "2 tỷ"]])
    parse = parse_sheet(frame, vocabulary=VOCAB, known_on=dt.date(2025, 1, 15))
    records = effective_records(typed(parse.records.assign(load_id="L", load_seq=1),
                                      RECORD_TYPES))
    events = effective_events(typed(parse.events.assign(known_on=dt.date(2025, 1, 15),
                                                        load_id="L", load_seq=1), EVENT_TYPES))
    for day, counted in ((dt.date(2025, 2, 1), 0), (dt.date(2025, 4, 1), 2_000_000_000)):
        progress = compute_progress(_pairs(None), PROJECTS, records, events, as_of=day)
        assert progress.projects.set_index("project_id").loc[
            "P1", "compensation_approved_vnd"] == counted
        assert "amount_not_counted" not in set(progress.problems["kind"])
