"""Reading compensation-board sheets as offices write them (gis.io.tables).

Every fixture is written at test time: XLSX with openpyxl, XLS and ODS with the small writers in
``tests/io/sheet_files.py`` (BIFF8 in an OLE2 compound file; an ODS zip), CSV/HTML as text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from gis.errors import DataSourceError
from gis.io.tables import read_table, read_tables
from tests.io.sheet_files import _cfb, write_ods, write_xls

TITLE = [["UBND PHƯỜNG HÒA MINH", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
         ["BẢNG TỔNG HỢP TIẾN ĐỘ GPMB DỰ ÁN: Đường Nguyễn Tất Thành mở rộng"],
         ["Đơn vị tính: đồng"],
         ["Ngày 12 tháng 3 năm 2025"],
         []]
# two-row header: "Ngày" over three children, "Kinh phí (đồng)" over two; the others vertical
TOP = ["STT", "Họ tên", "Số tờ", "Số thửa", "Ngày", None, None, "Kinh phí (đồng)", None]
BOTTOM = [None, None, None, None, "Thông báo", "Kiểm đếm", "Phê duyệt PA", "Phê duyệt", "Đã chi trả"]
COMBINED = ["STT", "Họ tên", "Số tờ", "Số thửa", "Ngày Thông báo", "Ngày Kiểm đếm",
            "Ngày Phê duyệt PA", "Kinh phí (đồng) Phê duyệt", "Kinh phí (đồng) Đã chi trả"]
PARTS = (("", "STT"), ("", "Họ tên"), ("", "Số tờ"), ("", "Số thửa"), ("Ngày", "Thông báo"),
         ("Ngày", "Kiểm đếm"), ("Ngày", "Phê duyệt PA"), ("Kinh phí (đồng)", "Phê duyệt"),
         ("Kinh phí (đồng)", "Đã chi trả"))
D1, D2 = dt.date(2024, 5, 2), dt.date(2024, 7, 19)
DATA = [[1, "Nguyễn Văn An", 12, 345, D1, D2, None, 125000000, 100000000],
        [2, "Trần Thị Bình", 12, 346, D1, None, None, None, None]]
# merged ranges of the two-row header when it starts on 0-based row r
MERGES = [(0, 1, 0, 0), (0, 1, 1, 1), (0, 1, 2, 2), (0, 1, 3, 3), (0, 0, 4, 6), (0, 0, 7, 8)]


def _xlsx(path: Path, sheets: dict[str, list[list[object]]], *,
          merges: dict[str, list[str]] | None = None, hidden: tuple[str, ...] = ()) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is not None:
                    ws.cell(r, c, v)
        for ref in (merges or {}).get(name, []):
            ws.merge_cells(ref)
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


def _excel_ref(r1: int, c1: int, r2: int, c2: int) -> str:
    return f"{chr(65 + c1)}{r1 + 1}:{chr(65 + c2)}{r2 + 1}"


def _csv_text(rows: list[list[object]], sep: str = ";") -> str:
    def text(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, dt.date):
            return v.strftime("%d/%m/%Y")
        return str(v)
    return "\n".join(sep.join(text(v) for v in row) for row in rows) + "\n"


GROUPED = TITLE + [TOP, BOTTOM] + DATA  # header on spreadsheet rows 6-7, data on 8-9


# ------------------------------------------------------------------------------ formats


def test_xlsx_typed_values_title_and_merged_two_row_header(tmp_path: Path) -> None:
    merges = [_excel_ref(a + 5, c1, b + 5, c2) for a, b, c1, c2 in MERGES]
    path = _xlsx(tmp_path / "s.xlsx", {"Tiến độ": GROUPED}, merges={"Tiến độ": merges})
    frame, source = read_table(path)
    assert list(frame.columns) == COMBINED
    assert source.header_parts == PARTS
    assert list(frame.index) == [8, 9]
    assert (source.header_row, source.header_rows, source.format) == (6, 2, "xlsx")
    assert source.title_lines == (
        "UBND PHƯỜNG HÒA MINH CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "BẢNG TỔNG HỢP TIẾN ĐỘ GPMB DỰ ÁN: Đường Nguyễn Tất Thành mở rộng",
        "Đơn vị tính: đồng", "Ngày 12 tháng 3 năm 2025")
    row = frame.loc[8]
    assert row["STT"] == 1 and isinstance(row["Số thửa"], int)
    assert row["Ngày Thông báo"] in (D1, dt.datetime(2024, 5, 2))
    assert isinstance(row["Ngày Thông báo"], dt.date)
    assert row["Kinh phí (đồng) Phê duyệt"] == 125000000
    assert frame.loc[9, "Ngày Kiểm đếm"] is None


def test_csv_with_the_same_layout_gives_the_same_headers(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(_csv_text(GROUPED), encoding="utf-8-sig")
    frame, source = read_table(path)
    assert list(frame.columns) == COMBINED
    assert source.header_parts == PARTS
    assert list(frame.index) == [8, 9]
    assert frame.loc[8, "Ngày Thông báo"] == "02/05/2024"
    assert source.title_lines[1].endswith("Đường Nguyễn Tất Thành mở rộng")


def test_xls_biff8_dates_numbers_merges_and_sheets(tmp_path: Path) -> None:
    path = write_xls(tmp_path / "s.xls", {"Bìa": [["BÁO CÁO"]], "Dự án A": GROUPED,
                                          "Ẩn": [["a", "b", "c"], [1, 2, 3]]},
                     merged={"Dự án A": [(a + 5, b + 5, c1, c2) for a, b, c1, c2 in MERGES]},
                     hidden=("Ẩn",))
    frame, source = read_table(path)
    assert (source.sheet, source.format, source.sheets) == ("Dự án A", "xls", ("Bìa", "Dự án A", "Ẩn"))
    assert list(frame.columns) == COMBINED and list(frame.index) == [8, 9]
    assert frame.loc[8, "Ngày Thông báo"] == D1 and isinstance(frame.loc[8, "Số tờ"], int)
    assert frame.loc[8, "Họ tên"] == "Nguyễn Văn An"
    assert "sheet 'Bìa' has no table: skipped" in source.notes
    assert source.formula_cells == ()


def test_ods_reads_typed_cells_and_spanned_group(tmp_path: Path) -> None:
    path = write_ods(tmp_path / "s.ods", {"Trống": [], "S": GROUPED},
                     spans={"S": {(5, 4): 3, (5, 7): 2}})
    frame, source = read_table(path)
    assert (source.sheet, source.format) == ("S", "ods")
    assert list(frame.columns) == COMBINED and source.header_parts == PARTS
    assert frame.loc[9, "Số thửa"] == 346 and frame.loc[8, "Ngày Kiểm đếm"] == D2


@pytest.mark.parametrize("encoding,sep", [("utf-8", ","), ("utf-8-sig", ";"), ("cp1258", ";"),
                                          ("utf-16", "\t")])
def test_csv_encodings_and_separators(tmp_path: Path, encoding: str, sep: str) -> None:
    rows = [["Mã thửa", "Họ tên", "Tình trạng", "Diện tích"],
            ["HM-12-345", "Lê Văn Đức", "Đã thông báo", "12,5" if sep != "," else "12.5"]]
    path = tmp_path / "s.csv"
    if encoding == "cp1258":
        path.write_bytes(_cp1258(_csv_text(rows, sep)))
    else:
        path.write_bytes(_csv_text(rows, sep).encode(encoding))  # "utf-16" writes the BOM
    frame, source = read_table(path)
    assert list(frame.index) == [2]
    assert len(frame.columns) == 4 and source.format == "csv"
    import unicodedata
    assert unicodedata.normalize("NFC", frame.iloc[0, 1]) == "Lê Văn Đức"


def _cp1258(text: str) -> bytes:
    """cp1258 as Windows writes Vietnamese: precomposed letters (ư, ê, đ) + combining tone marks."""
    import unicodedata

    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        for cut in range(len(d), 0, -1):
            try:
                out += unicodedata.normalize("NFC", d[:cut]).encode("cp1258") + d[cut:].encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
    return out


# ------------------------------------------------------------------------------ layouts


def test_blank_rows_keep_row_numbers_and_stt_is_a_column(tmp_path: Path) -> None:
    rows = [["STT", "Mã thửa", "Họ tên", "Tình trạng"], [1, "A-1-1", "An", "x"], [],
            [2, "A-1-2", "Bình", "y"], [None, None, None, None], [], [3, "A-1-3", "Chi", "z"], [], []]
    for path in (_xlsx(tmp_path / "b.xlsx", {"S": rows}), tmp_path / "b.csv"):
        if path.suffix == ".csv":
            path.write_text(_csv_text(rows), encoding="utf-8")
        frame, source = read_table(path)
        assert list(frame.index) == [2, 4, 7], path
        assert source.blank_rows == 3  # rows 3, 5, 6; the trailing ones are not inside the table
        assert list(frame["STT"]) == [1, 2, 3] if path.suffix == ".xlsx" else ["1", "2", "3"]


@pytest.mark.parametrize("numbering", [
    ["(1)", "(2)", "(3)", "(4)", "(5)"], [1, 2, 3, 4, 5], ["A", "B", "1", "2", "3"],
    ["(1)", "(2)", "(3)", "(4)", "(5)=(3)x(4)"]])
def test_numbering_row_under_the_header_is_skipped(tmp_path: Path, numbering: list[object]) -> None:
    rows = [["Bảng kê"], ["STT", "Mã thửa", "Họ tên", "Diện tích", "Thành tiền"], numbering,
            [1, "A-1-1", "An", 10, 100]]
    frame, source = read_table(_xlsx(tmp_path / "n.xlsx", {"S": rows}))
    assert source.numbering_row == 3 and list(frame.index) == [4]
    assert frame.loc[4, "Họ tên"] == "An"


def test_a_data_row_of_small_numbers_is_not_a_numbering_row(tmp_path: Path) -> None:
    rows = [["STT", "Số tờ", "Số thửa", "Số hộ"], [1, 4, 9, 2], [2, 4, 10, 1]]
    frame, source = read_table(_xlsx(tmp_path / "n.xlsx", {"S": rows}))
    assert source.numbering_row is None and list(frame.index) == [2, 3]


def test_a_three_cell_title_line_is_not_the_header(tmp_path: Path) -> None:
    rows = [["UBND QUẬN", None, "CỘNG HÒA XÃ HỘI", "Độc lập"], ["Số: 12/BC"],
            ["Mã thửa", "Họ tên", "Tình trạng", "Ghi chú", "Phường"], ["A-1-1", "An", "x", None, "P1"]]
    frame, source = read_table(_xlsx(tmp_path / "t.xlsx", {"S": rows}))
    assert source.header_row == 3 and list(frame.index) == [4]
    assert source.title_lines == ("UBND QUẬN CỘNG HÒA XÃ HỘI Độc lập", "Số: 12/BC")
    assert source.header_rows == 1


def test_multiline_header_cells_are_collapsed(tmp_path: Path) -> None:
    rows = [["Mã thửa", "Số tiền\nphê duyệt  (đồng)", "Tình trạng"], ["A-1-1", 5, "x"]]
    frame, _ = read_table(_xlsx(tmp_path / "m.xlsx", {"S": rows}))
    assert list(frame.columns) == ["Mã thửa", "Số tiền phê duyệt (đồng)", "Tình trạng"]


def test_formula_cells_without_cached_value_are_reported(tmp_path: Path) -> None:
    rows = [["Mã thửa", "Diện tích", "Đơn giá", "Thành tiền"], ["A-1-1", 10, 5, "=B2*C2"],
            ["A-1-2", 20, 5, 100], ["Tổng", "=SUM(B2:B3)", None, "=SUM(D2:D3)"]]
    frame, source = read_table(_xlsx(tmp_path / "f.xlsx", {"S": rows}))
    assert source.formula_cells == ((2, "Thành tiền", "=B2*C2"), (4, "Diện tích", "=SUM(B2:B3)"),
                                    (4, "Thành tiền", "=SUM(D2:D3)"))
    assert frame.loc[2, "Thành tiền"] is None and frame.loc[3, "Thành tiền"] == 100


# ------------------------------------------------------------------------------ workbooks


def test_several_sheets_first_with_a_table_and_read_tables(tmp_path: Path) -> None:
    a = [["Dự án: Đường A"], ["Mã thửa", "Họ tên", "Tình trạng"], ["A-1-1", "An", "x"]]
    b = [["Mã thửa", "Họ tên", "Tình trạng"], ["B-1-1", "Bình", "y"], ["B-1-2", "Chi", "z"]]
    path = _xlsx(tmp_path / "w.xlsx", {"Trống": [], "Ẩn": b, "Bìa": [["BÁO CÁO TIẾN ĐỘ"], ["2025"]],
                                       "Dự án A": a, "Dự án B": b}, hidden=("Ẩn",))
    frame, source = read_table(path)
    assert source.sheet == "Dự án A" and source.sheets == ("Trống", "Ẩn", "Bìa", "Dự án A", "Dự án B")
    assert "sheet 'Ẩn' is hidden: skipped" in source.notes
    tables = read_tables(path)
    assert [(s.sheet, list(f.index)) for f, s in tables] == [("Dự án A", [3]), ("Dự án B", [2, 3])]
    assert all("sheet 'Bìa' has no table: skipped" in s.notes for _, s in tables)
    frame, source = read_table(path, sheet="Ẩn")
    assert list(frame.index) == [2, 3] and "sheet 'Ẩn' is hidden" in source.notes


# ------------------------------------------------------------------------------ errors


def _error(path: Path, **kwargs: object) -> str:
    with pytest.raises(DataSourceError) as info:
        read_table(path, **kwargs)  # type: ignore[arg-type]
    text = str(info.value)
    assert str(path) in text and "\n" not in text
    return text


def test_errors_name_the_file_and_sheet(tmp_path: Path) -> None:
    (tmp_path / "empty.xlsx").write_bytes(b"")
    assert "empty" in _error(tmp_path / "empty.xlsx")
    (tmp_path / "blank.csv").write_text("\n\n", encoding="utf-8")
    assert "empty" in _error(tmp_path / "blank.csv")
    (tmp_path / "few.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    assert "no header row" in _error(tmp_path / "few.csv")
    path = _xlsx(tmp_path / "nohead.xlsx", {"Số liệu": [[1, 2, 3], [4, 5, 6]]})
    assert "Số liệu" in _error(path) and "no header row" in _error(path)
    assert "no sheet 'X'" in _error(path, sheet="X")
    two = _xlsx(tmp_path / "two.xlsx", {"A": [[1, 2, 3]], "B": [["x"]]})
    assert "no sheet has a table" in _error(two) and "'A', 'B'" in _error(two)

    (tmp_path / "locked.xlsx").write_bytes(_cfb(b"\x00" * 64, name="EncryptionInfo"))
    assert "encrypted or password-protected workbook" in _error(tmp_path / "locked.xlsx")

    good = _xlsx(tmp_path / "good.xlsx", {"S": [["a", "b", "c"]]}).read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(good[: len(good) // 2])
    assert "corrupt" in _error(tmp_path / "cut.xlsx")
    xls = write_xls(tmp_path / "x.xls", {"S": [["a", "b", "c"], [1, 2, 3]]}).read_bytes()
    (tmp_path / "cut.xls").write_bytes(xls[:1500])
    assert "corrupt" in _error(tmp_path / "cut.xls")
    (tmp_path / "noise.xls").write_bytes(bytes(range(256)) * 8)
    assert "corrupt" in _error(tmp_path / "noise.xls")
    (tmp_path / "x2003.xls").write_text('<?xml version="1.0"?><Workbook xmlns='
                                        '"urn:schemas-microsoft-com:office:spreadsheet">'
                                        "<Worksheet><Table/></Worksheet></Workbook>")
    assert "Excel 2003 XML" in _error(tmp_path / "x2003.xls")
    (tmp_path / "s.pdf").write_bytes(b"%PDF-1.4")
    assert "unsupported" in _error(tmp_path / "s.pdf")


def test_html_and_csv_renamed_xls_are_read_as_what_they_are(tmp_path: Path) -> None:
    page = ("<html><head><meta charset='utf-8'></head><body><table>"
            "<tr><td colspan='5'>BẢNG TỔNG HỢP GPMB</td></tr>"
            "<tr><th rowspan='2'>STT</th><th rowspan='2'>Mã thửa</th><th colspan='2'>Ngày</th>"
            "<th rowspan='2'>Ghi&nbsp;chú</th></tr>"
            "<tr><th>Thông báo</th><th>Kiểm đếm</th></tr>"
            "<tr><td>1</td><td>A-1-1</td><td>02/05/2024</td><td></td><td>x &amp; y</td></tr>"
            "</table></body></html>")
    (tmp_path / "web.xls").write_text(page, encoding="utf-8")
    frame, source = read_table(tmp_path / "web.xls")
    assert source.format == "html" and "HTML page" in source.notes[0]
    assert list(frame.columns) == ["STT", "Mã thửa", "Ngày Thông báo", "Ngày Kiểm đếm", "Ghi chú"]
    assert list(frame.index) == [4] and frame.loc[4, "Ghi chú"] == "x & y"
    assert source.title_lines == ("BẢNG TỔNG HỢP GPMB",)

    renamed = tmp_path / "renamed.xls"
    renamed.write_bytes(_xlsx(tmp_path / "r.xlsx", {"S": [["Mã thửa", "Họ tên", "Tình trạng"],
                                                           ["A-1-1", "An", "x"]]}).read_bytes())
    frame, source = read_table(renamed)
    assert source.format == "xlsx" and "really an XLSX workbook" in source.notes[0]

    (tmp_path / "text.xls").write_text("Mã thửa\tHọ tên\tTình trạng\nA-1-1\tAn\tx\n", encoding="utf-8")
    frame, source = read_table(tmp_path / "text.xls")
    assert source.format == "csv" and "delimited text" in source.notes[0]
    assert list(frame.index) == [2]


# ------------------------------------------------------------------------------ property

POOL = ["STT", "Mã thửa", "Họ tên", "Số tờ", "Số thửa", "Tình trạng", "Ghi chú", "Phường"]
GROUPS = {"Ngày": ["Thông báo", "Kiểm đếm", "Phê duyệt PA"], "Kinh phí (đồng)": ["Phê duyệt", "Đã chi trả"]}


def _value(column: str, i: int, *, typed: bool) -> object:
    if column in ("STT", "Số tờ", "Số thửa"):
        return i + 1 if column == "STT" else 10 + i
    if column.startswith("Ngày"):
        return dt.date(2024, 1 + i % 12, 1 + i % 28) if typed else f"{1 + i % 28:02d}/03/2024"
    if column.startswith("Kinh phí"):
        return 1000 * (i + 1)
    return f"{column} giá trị {i}"


@st.composite
def sheets(draw: st.DrawFn) -> dict[str, object]:
    singles = draw(st.lists(st.sampled_from(POOL), min_size=3, max_size=6, unique=True))
    grouped = draw(st.booleans())
    groups = {g: draw(st.lists(st.sampled_from(ch), min_size=2, max_size=len(ch), unique=True))
              for g, ch in GROUPS.items()} if grouped else {}
    titles = draw(st.lists(st.sampled_from([t for t in TITLE if t]), max_size=5))
    blank_after_titles = draw(st.booleans())
    numbering = draw(st.booleans())
    n = draw(st.integers(1, 12))
    blanks = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return {"singles": singles, "groups": groups, "titles": titles, "numbering": numbering,
            "n": n, "blanks": blanks, "gap": blank_after_titles,
            "fmt": draw(st.sampled_from(["xlsx", "csv"]))}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=sheets())
def test_random_layouts_give_the_data_rows_with_their_row_numbers(tmp_path: Path,
                                                                  spec: dict[str, object]) -> None:
    singles: list[str] = spec["singles"]  # type: ignore[assignment]
    groups: dict[str, list[str]] = spec["groups"]  # type: ignore[assignment]
    typed = spec["fmt"] == "xlsx"
    rows: list[list[object]] = [list(t) for t in spec["titles"]]  # type: ignore[attr-defined]
    if spec["gap"]:
        rows.append([])
    header_row = len(rows) + 1
    headers = list(singles)
    merges: list[str] = []
    if groups:
        top: list[object] = list(singles)
        bottom: list[object] = [None] * len(singles)
        for group, children in groups.items():
            merges.append(_excel_ref(header_row - 1, len(top), header_row - 1,
                                     len(top) + len(children) - 1))
            top += [group] + [None] * (len(children) - 1)
            bottom += children
            headers += [f"{group} {c}" for c in children]
        merges += [_excel_ref(header_row - 1, j, header_row, j) for j in range(len(singles))]
        rows += [top, bottom]
    else:
        rows.append(list(singles))
    if spec["numbering"]:
        rows.append([f"({j + 1})" for j in range(len(headers))])
    expected: list[int] = []
    for i, blank in enumerate(spec["blanks"]):  # type: ignore[attr-defined]
        if blank and i:
            rows.append([])
        rows.append([_value(h, i, typed=typed) for h in headers])
        expected.append(len(rows))
    if spec["fmt"] == "xlsx":
        path = _xlsx(tmp_path / "p.xlsx", {"S": rows}, merges={"S": merges})
    else:
        path = tmp_path / "p.csv"
        path.write_text(_csv_text(rows), encoding="utf-8")
    frame, source = read_table(path)
    assert list(frame.columns) == headers
    assert list(frame.index) == expected
    assert source.header_row == header_row
    assert source.header_rows == (2 if groups else 1)
    assert source.numbering_row == ((header_row + source.header_rows) if spec["numbering"] else None)
    assert source.title_lines == tuple(" ".join(str(v) for v in t if v) for t in spec["titles"])  # type: ignore[attr-defined]
    assert source.blank_rows == sum(1 for i, b in enumerate(spec["blanks"]) if b and i)  # type: ignore[arg-type]
    name_col = next((h for h in headers if h in ("Họ tên", "Tình trạng", "Ghi chú", "Phường",
                                                 "Mã thửa")), None)
    if name_col:
        assert list(frame[name_col]) == [_value(name_col, i, typed=typed) for i in range(len(expected))]
