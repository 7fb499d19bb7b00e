"""Write the odd-and-bad-input corpus into a folder: clearance sheets and GIS layers.

    PYTHONPATH=. python tests/corpus/make_corpus.py OUT_DIR

Every file is generated here (nothing copied from real data). The sheets name parcels, wards and
projects of the synthetic district ``gis sample --parcels 1000`` (default seed), which the corpus
test loads into its base store; the layers sit inside that district's wards (VN-2000 TM-3
105°00', EPSG:5897). ``tests/corpus/cases.py`` says what each file is for and what must happen.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import unicodedata
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import shapely
from openpyxl.styles import Font

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "io") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "io"))
from sheet_files import write_ods, write_xls  # noqa: E402  (tests/io/sheet_files.py)

D = dt.date
PROJECT = "DA-001"
PROJECT_NAME = "Cải tạo, nâng cấp đường tỉnh 419 đoạn qua xã An Bình"
WARD = "09880"
WARD_NAME = "Phường Đức Thượng"

# --------------------------------------------------------------------------------------------
# Clearance sheets
# --------------------------------------------------------------------------------------------

#: five parcels of DA-001 in ward 09880 (sheet 4), each at another step, with their figures
ROWS = [
    # sheet, number, owner, households, status, notified, inventoried, approved, approved đ, paid đ, paid on, handed over
    (4, 21, "Đặng Xuân Cường", 1, "Đã chi trả", D(2024, 3, 6), D(2024, 4, 30), D(2024, 9, 8),
     35_226_000, 35_226_000, D(2024, 9, 22), None),
    (4, 22, "Nguyễn Công Cường", 2, "Đã bàn giao mặt bằng", D(2024, 3, 20), D(2024, 5, 30),
     D(2024, 8, 22), 29_161_000, 29_161_000, D(2024, 8, 31), D(2024, 10, 18)),
    (4, 23, "Nguyễn Văn Tuấn", 1, "Đã kiểm đếm", D(2024, 3, 20), D(2024, 4, 9), None, None, None,
     None, None),
    (4, 24, "Nguyễn Văn Nghĩa", 3, "Đã thông báo thu hồi", D(2024, 3, 20), None, None, None, None,
     None, None),
    (4, 25, "Lê Thị Hoa", 1, "Đã phê duyệt phương án", D(2024, 3, 20), D(2024, 4, 30),
     D(2024, 10, 1), 1_052_188_000, None, None, None),
]
FULL = ["STT", "Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Chủ sử dụng", "Số hộ", "Trạng thái",
        "Ngày thông báo", "Ngày kiểm đếm", "Ngày phê duyệt PA", "Số tiền phê duyệt (đồng)",
        "Số tiền đã chi trả (đồng)", "Ngày chi trả", "Ngày bàn giao"]


def dmy(value: object) -> object:
    return value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else value


def dots(value: object) -> object:
    """1052188000 → '1.052.188.000' as boards type amounts."""
    return f"{value:,}".replace(",", ".") if isinstance(value, int) else value


def full_rows(*, text: bool = True, project: bool = True, ward: object = WARD,
              stt: bool = True) -> tuple[list[str], list[list[object]]]:
    """The five parcels with every column; dates and amounts as text (``text``) or values."""
    head = [h for h in FULL if (project or h != "Mã dự án") and (ward is not None or h != "Mã xã")
            and (stt or h != "STT")]
    if ward is not None and ward != WARD:
        head[head.index("Mã xã")] = "Phường/Xã"
    out = []
    for i, (sh, no, owner, hh, status, tb, kd, pd_, appr, paid, paid_on, bg) in enumerate(ROWS, 1):
        cells = {"STT": i, "Mã dự án": PROJECT, "Mã xã": ward, "Phường/Xã": ward, "Số tờ": sh,
                 "Số thửa": no, "Chủ sử dụng": owner, "Số hộ": hh, "Trạng thái": status,
                 "Ngày thông báo": tb, "Ngày kiểm đếm": kd, "Ngày phê duyệt PA": pd_,
                 "Số tiền phê duyệt (đồng)": appr, "Số tiền đã chi trả (đồng)": paid,
                 "Ngày chi trả": paid_on, "Ngày bàn giao": bg}
        row = [cells[h] for h in head]
        if text:
            row = [dots(dmy(v)) if h not in ("STT", "Số tờ", "Số thửa", "Số hộ") else v
                   for h, v in zip(head, row)]
        out.append(row)
    return head, out


def simple(rows: list[tuple[object, object, object]], *, extra: dict[str, list[object]] | None = None,
           ) -> tuple[list[str], list[list[object]]]:
    """Mã dự án, Mã xã, Số tờ, Số thửa, Trạng thái (+ extra columns) for (sheet, number, status)."""
    head = ["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Trạng thái", *(extra or {})]
    body = [[PROJECT, WARD, sh, no, st, *[v[i] for v in (extra or {}).values()]]
            for i, (sh, no, st) in enumerate(rows)]
    return head, body


def cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: base letter (with ^, breve or horn) + tone mark."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        letter = [m for m in marks if m in "\u0302\u0306\u031b"]
        tones = [m for m in marks if m not in letter]
        out += (unicodedata.normalize("NFC", base + "".join(letter)) + "".join(tones)
                ).encode("cp1258")
    return out


def write_csv(path: Path, head: list[str], rows: list[list[object]], *, encoding: str = "utf-8",
              sep: str = ",", above: list[str] = ()) -> Path:
    def cell(v: object) -> str:
        s = "" if v is None else str(dmy(v))
        return f'"{s}"' if (sep in s or '"' in s) else s

    lines = [*above, sep.join(head), *(sep.join(cell(v) for v in r) for r in rows)]
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes(cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]], *,
               merged: dict[str, list[str]] | None = None) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
        for rng in (merged or {}).get(name, []):
            ws.merge_cells(rng)
        if rows:
            for c in ws[1]:
                c.font = Font(bold=True)
    wb.save(path)
    return path


def sheets(d: Path) -> None:  # noqa: C901  (one block per file, on purpose)
    head, text_rows = full_rows()
    _, value_rows = full_rows(text=False)

    # -- columns present or absent -----------------------------------------------------------
    write_csv(d / "s_required_only.csv", ["Số tờ", "Số thửa", "Trạng thái"],
              [[r[0], r[1], r[4]] for r in ROWS])
    write_csv(d / "s_households_no_amounts.csv", *simple(
        [(r[0], r[1], r[4]) for r in ROWS], extra={"Số hộ": [r[3] for r in ROWS]}))
    # -- amounts in every unit ---------------------------------------------------------------
    write_csv(d / "s_amount_dong_dots.csv", head, text_rows)
    write_csv(d / "s_amount_trieu.csv", *simple(
        [(4, 25, "Đã phê duyệt phương án"), (4, 21, "Đã chi trả")],
        extra={"Ngày phê duyệt PA": ["01/10/2024", "08/09/2024"],
               "Kinh phí phê duyệt (triệu đồng)": ["1.052,188", "35,226"],
               "Đã chi trả (triệu đồng)": [None, "35,226"]}))
    write_csv(d / "s_amount_ty.csv", *simple(
        [(4, 25, "Đã phê duyệt phương án"), (4, 21, "Đã chi trả")],
        extra={"Ngày phê duyệt PA": ["01/10/2024", "08/09/2024"],
               "Số tiền phê duyệt (tỷ đồng)": ["1,05", "0,035"],
               "Đã chi trả (tỷ đồng)": [None, "0,035"]}))
    write_csv(d / "s_amount_words.csv", *simple(
        [(4, 25, "Đã phê duyệt phương án"), (4, 21, "Đã chi trả"), (4, 22, "Đã chi trả")],
        extra={"Ngày phê duyệt PA": ["01/10/2024", "08/09/2024", "22/08/2024"],
               "Số tiền phê duyệt (đồng)": ["1,05 tỷ", "250 triệu", "1.052.188.000"],
               "Số tiền đã chi trả (đồng)": [None, "250 triệu", "1.052.188.000"]}))
    write_xlsx(d / "s_amount_excel_numbers.xlsx", {"Tổng hợp": [head, *value_rows]})
    write_csv(d / "s_amount_bad.csv", *simple(
        [(4, 25, "Đã phê duyệt phương án"), (4, 21, "Đã phê duyệt phương án")],
        extra={"Số tiền phê duyệt (đồng)": ["khoảng một tỷ", "1.052.188.000"]}))
    # -- the project from the title, the option, or nowhere ----------------------------------
    _, no_project = full_rows(project=False)
    head_np = [h for h in head if h != "Mã dự án"]
    write_xlsx(d / "s_title_project.xlsx", {"DA001": [
        ["UBND THỊ XÃ MẪU SƠN"], ["HỘI ĐỒNG BỒI THƯỜNG, HỖ TRỢ VÀ TÁI ĐỊNH CƯ"],
        [f"BẢNG TỔNG HỢP TIẾN ĐỘ GPMB DỰ ÁN: {PROJECT_NAME.upper()}"],
        ["(Số liệu đến ngày 31/12/2024)"], [], head_np, *no_project]})
    write_xlsx(d / "s_title_no_project.xlsx", {"Tiến độ": [
        ["UBND THỊ XÃ MẪU SƠN"], ["BẢNG TỔNG HỢP TIẾN ĐỘ GIẢI PHÓNG MẶT BẰNG"], [],
        head_np, *no_project]})
    write_csv(d / "s_project_unknown.csv", *simple([(4, 21, "Đã kiểm đếm"), (4, 22, "Đã kiểm đếm")]))
    path = d / "s_project_unknown.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(f"{PROJECT},{WARD},4,22", f"DA-999,{WARD},4,22"),
                    encoding="utf-8")
    # -- wards by name --------------------------------------------------------------------------
    for slug, name in (("full", WARD_NAME), ("folded", "duc thuong"),
                       ("abbrev", "P. Đức Thượng"), ("caps", "PHƯỜNG ĐỨC THƯỢNG")):
        h, r = full_rows(ward=name)
        write_csv(d / f"s_ward_name_{slug}.csv", h, r)
    h, r = full_rows(ward=WARD_NAME)
    r[1][h.index("Phường/Xã")] = "Phường Phúc Diễn"
    write_csv(d / "s_ward_name_unknown.csv", h, r)
    h, r = full_rows(ward=None)
    write_csv(d / "s_ward_missing.csv", h, r)
    write_csv(d / "s_ward_code_bad.csv", *simple([(4, 21, "Đã kiểm đếm"), (4, 22, "Đã kiểm đếm")]))
    path = d / "s_ward_code_bad.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(f"{WARD},4,22", "2093549,4,22"),
                    encoding="utf-8")
    # the ambiguous ward: a wards layer with two wards named "Xã An Bình" (09886 and 09889)
    write_csv(d / "s_ward_name_ambiguous.csv", ["Mã dự án", "Phường/Xã", "Số tờ", "Số thửa",
                                                "Trạng thái"],
              [[PROJECT, "Xã An Bình", 6, 2, "Đã kiểm đếm"],
               [PROJECT, WARD_NAME, 4, 21, "Đã kiểm đếm"]])
    wards = gpd.GeoDataFrame(
        {"MaXa": ["09880", "09883", "09886", "09889"],
         "TenXa": [WARD_NAME, "Xã Xuân Phương", "Xã An Bình", "Xã An Bình"],
         "Huyen": ["Thị xã Mẫu Sơn"] * 4, "Tinh": ["Thành phố Hà Nội"] * 4},
        geometry=[shapely.box(589_600 + 400 * (i % 2), 2_329_600 + 400 * (i // 2),
                              590_000 + 400 * (i % 2), 2_330_000 + 400 * (i // 2))
                  for i in range(4)], crs="EPSG:5897")
    wards.to_file(d / "w_wards_same_name.gpkg", layer="wards", engine="pyogrio")
    # -- layout: STT, numbering row, two-row headers, blank rows -----------------------------
    write_csv(d / "s_numbering_row.csv", head, [[f"({i})" for i in range(1, len(head) + 1)],
                                               *text_rows])
    group = ["STT", "Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Chủ sử dụng", "Số hộ", "Trạng thái",
             "Ngày", None, None, "Kinh phí (đồng)", None]
    child = [None] * 8 + ["Thông báo", "Kiểm đếm", "Phê duyệt PA", "Phê duyệt", "Đã chi trả"]
    two = [[r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12]]
           for r in value_rows]
    write_xlsx(d / "s_two_row_header.xlsx", {"GPMB": [
        ["BẢNG THEO DÕI TIẾN ĐỘ"], group, child, [f"({i})" for i in range(1, 14)], *two]},
        merged={"GPMB": ["I2:K2", "L2:M2", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:E3",
                         "F2:F3", "G2:G3", "H2:H3"]})
    write_csv(d / "s_blank_rows.csv", head,
              [text_rows[0], [None] * len(head), text_rows[1], [None] * len(head),
               [None] * len(head), *text_rows[2:]])
    # -- totals, subtotals and sections ------------------------------------------------------
    hh = sum(r[3] for r in ROWS)
    appr = sum(r[8] or 0 for r in ROWS)
    paid = sum(r[9] or 0 for r in ROWS)

    def total(label: str, households: int, approved: int, paid_: int) -> list[object]:
        cells = dict.fromkeys(head)
        cells.update({"STT": label, "Số hộ": households, "Số tiền phê duyệt (đồng)": approved,
                      "Số tiền đã chi trả (đồng)": paid_})
        return [cells[h] for h in head]

    write_xlsx(d / "s_total_right.xlsx", {"Sheet1": [head, *value_rows,
                                                     total("Tổng cộng", hh, appr, paid)]})
    write_xlsx(d / "s_total_wrong.xlsx", {"Sheet1": [head, *value_rows,
                                                     total("Tổng cộng", hh + 1, appr + 1_000_000,
                                                           paid)]})
    section = [None] * len(head)
    section[0] = f"I. {WARD_NAME}"
    write_xlsx(d / "s_sections_subtotals.xlsx", {"Sheet1": [
        head, section, *value_rows[:3], total("Cộng phường Đức Thượng (1)", 4, 64_387_000,
                                              64_387_000),
        ["II. Tờ bản đồ số 4 (tiếp)"] + [None] * (len(head) - 1), *value_rows[3:],
        total("Cộng (2)", 4, 1_052_188_000, 0), total("Tổng cộng", hh, appr, paid)]})
    # -- status wording ------------------------------------------------------------------------
    write_csv(d / "s_status_legal.csv", *simple([
        (4, 24, "Đã thông báo thu hồi đất"), (4, 23, "Đã tổ chức kiểm đếm hiện trạng"),
        (4, 25, "Đã có quyết định phê duyệt phương án bồi thường, hỗ trợ"),
        (4, 22, "Đã bàn giao mặt bằng cho chủ đầu tư")]))
    write_csv(d / "s_status_abbrev.csv", *simple([
        (4, 22, "Đã BGMB"), (4, 25, "Đã PD PA"), (4, 23, "chưa kiểm đếm"),
        (4, 24, "Da thong bao thu hoi"), (4, 21, "ĐÃ CHI TRẢ")]))
    write_csv(d / "s_status_unknown.csv", *simple([
        (4, 21, "Đã kiểm đếm"), (4, 22, "Hồ sơ đang treo"), (4, 23, "Đã kiểm đém")]))
    write_csv(d / "s_status_empty.csv", *simple([(4, 21, "Đã kiểm đếm"), (4, 22, None)]))
    write_csv(d / "s_status_vs_dates.csv", *simple(
        [(4, 23, "Đã kiểm đếm"), (4, 24, "Đã thông báo thu hồi")],
        extra={"Ngày kiểm đếm": ["09/04/2024", None],
               "Ngày phê duyệt PA": ["01/10/2024", None]}))
    write_csv(d / "s_amount_before_approval.csv", *simple(
        [(4, 23, "Đã kiểm đếm"), (4, 25, "Đã phê duyệt phương án")],
        extra={"Ngày phê duyệt PA": [None, "01/10/2024"],
               "Số tiền phê duyệt (đồng)": ["500.000.000", "1.052.188.000"]}))
    write_csv(d / "s_bad_date.csv", *simple(
        [(4, 23, "Đã kiểm đếm"), (4, 24, "Đã kiểm đếm")],
        extra={"Ngày kiểm đếm": ["31/02/2024", "09/04/2024"]}))
    # -- sheets with nothing to load -----------------------------------------------------------
    write_csv(d / "s_header_only.csv", head, [])
    write_csv(d / "s_all_rejected.csv", *simple([(4, 9001, "Đã kiểm đếm"), (4, 9002, "Đã kiểm đếm")]))
    write_csv(d / "s_strict_one_bad.csv", *simple([(4, 21, "Đã kiểm đếm"), (4, 9003, "Đã kiểm đếm")]))
    write_csv(d / "s_no_status_column.csv", ["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Ghi chú"],
              [[PROJECT, WARD, 4, 21, "chưa rõ"]])
    # -- file formats and encodings ------------------------------------------------------------
    write_xls(d / "s_real.xls", {"Tổng hợp": [["BẢNG TỔNG HỢP"], head, *value_rows]})
    write_xls(d / "s_hidden_first.xls", {"Ẩn": [["x", "y"], [1, 2]],
                                         "Tổng hợp": [head, *value_rows]}, hidden=("Ẩn",))
    write_ods(d / "s_real.ods", {"Tổng hợp": [["BẢNG TỔNG HỢP"], head, *value_rows]})
    write_csv(d / "s_utf8.csv", head, text_rows)
    write_csv(d / "s_utf8_bom.csv", head, text_rows, encoding="utf-8-sig")
    write_csv(d / "s_cp1258.csv", head, text_rows, encoding="cp1258")
    write_csv(d / "s_utf16_tab.txt", head, text_rows, encoding="utf-16", sep="\t")
    h, r = simple([(4, 23, "Đã kiểm đếm"), (4, 24, "Đã thông báo")],
                  extra={"Diện tích thu hồi (m2)": ["111,3", "1.149,8"],
                         "Số tiền phê duyệt (đồng)": [None, None]})
    write_csv(d / "s_semicolon_decimal_comma.csv", h, r, sep=";")
    write_csv(d / "s_csv_named_xls.xls", head, text_rows)
    html = ["<html><head><meta charset='utf-8'></head><body><table>",
            "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    html += ["<tr>" + "".join(f"<td>{'' if v is None else v}</td>" for v in r) + "</tr>"
             for r in text_rows]
    (d / "s_html_table.xls").write_text("\n".join(html + ["</table></body></html>"]),
                                        encoding="utf-8")
    formula = [head, *value_rows]
    formula[5] = list(formula[5])
    formula[5][head.index("Số tiền phê duyệt (đồng)")] = "=1000000*1052.188"
    write_xlsx(d / "s_formula_no_value.xlsx", {"Sheet1": formula})
    (d / "s_empty.xlsx").write_bytes(b"")
    (d / "s_empty.csv").write_bytes(b"")
    good = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(head)
    for r in value_rows:
        wb.active.append(r)
    wb.save(good)
    (d / "s_truncated.xlsx").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    # an "encrypted" workbook: Excel stores those in an OLE2 file with EncryptionInfo and
    # EncryptedPackage streams, still named .xlsx
    write_xls(d / "s_encrypted.xlsx", {"EncryptedPackage": [["x"]]})
    raw = bytearray((d / "s_encrypted.xlsx").read_bytes())
    at = raw.find("Workbook".encode("utf-16-le"))
    name = "EncryptedPackage".encode("utf-16-le") + b"\x00\x00"
    raw[at:at + 64] = name.ljust(64, b"\x00")
    raw[at + 64:at + 66] = len(name).to_bytes(2, "little")
    (d / "s_encrypted.xlsx").write_bytes(bytes(raw))
    (d / "s_not_a_sheet.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 26 + b"garbage" * 50)
    write_xlsx(d / "s_cover_first.xlsx", {
        "Bìa": [["ỦY BAN NHÂN DÂN THỊ XÃ MẪU SƠN"], ["BÁO CÁO TIẾN ĐỘ GPMB"], ["Năm 2024"]],
        "Số liệu": [head, *value_rows]})
    write_xlsx(d / "s_two_sheets_pick.xlsx", {"Dự án 1": [head, *value_rows[:2]],
                                              "Dự án 2": [head, *value_rows[2:]]})
    # -- two loads in sequence: the second lacks the date columns --------------------------------
    write_csv(d / "s_seq_first.csv", head, text_rows)
    write_csv(d / "s_seq_second_no_dates.csv", ["Mã dự án", "Mã xã", "Số tờ", "Số thửa",
                                                "Chủ sử dụng", "Trạng thái"],
              [[PROJECT, WARD, r[0], r[1], r[2], r[4]] for r in ROWS[:3]])
    # -- odd parcel numbers, duplicates ----------------------------------------------------------
    write_csv(d / "s_parcel_negative.csv", *simple([(4, 21, "Đã kiểm đếm"), (4, -5, "Đã kiểm đếm")]))
    h, r = simple([(4, 21, "Đã kiểm đếm"), (4, 22.5, "Đã kiểm đếm")])
    write_xlsx(d / "s_parcel_fraction.xlsx", {"Sheet1": [h, *r]})
    write_csv(d / "s_parcel_text.csv", *simple([(4, 21, "Đã kiểm đếm"), (4, "12a", "Đã kiểm đếm")]))
    write_csv(d / "s_duplicate_row.csv", *simple([(4, 21, "Đã kiểm đếm"), (4, 22, "Đã kiểm đếm"),
                                                  (4, 21, "Đã kiểm đếm")]))


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------

X0, Y0 = 589_700.0, 2_329_700.0  # inside ward 09886 (Xã An Bình) of the sample district
CP1258_NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"]


def parcel_frame(n: int = 4, **columns: list[object]) -> gpd.GeoDataFrame:
    data = {"MaXa": ["09886"] * n, "SHBANDO": [90] * n, "SHTHUA": list(range(1, n + 1)),
            "KHLOAIDAT": ["ODT"] * n, "TenChu": CP1258_NAMES[:n]}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=[shapely.box(X0 + 20 * i, Y0, X0 + 20 * i + 18, Y0 + 25)
                                            for i in range(n)], crs="EPSG:5897")


def save(frame: gpd.GeoDataFrame, path: Path, **kwargs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_file(path, engine="pyogrio", **kwargs)
    return path


def geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def lonlat_square(i: int, props: dict, size: float = 1.5e-4) -> dict:
    x, y = 105.8648 + i * 2.5e-4, 21.0590  # Hà Nội, in ward 09886 of the sample district
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def layers(d: Path) -> None:
    # a .cpg that lies, both ways
    shp = save(parcel_frame(), d / "l_cpg_says_1258" / "parcels.shp", encoding="utf-8")
    shp.with_suffix(".cpg").write_text("1258")
    shp = save(parcel_frame(TenChu=[cp1258(n).decode("latin-1") for n in CP1258_NAMES]),
               d / "l_cpg_says_utf8" / "parcels.shp", encoding="latin1")
    shp.with_suffix(".cpg").write_text("UTF-8")
    # a bow-tie among good polygons
    frame = parcel_frame()
    frame.loc[2, "geometry"] = shapely.Polygon([(X0 + 40, Y0), (X0 + 58, Y0 + 25), (X0 + 58, Y0),
                                                (X0 + 40, Y0 + 25)])
    save(frame, d / "l_bowtie" / "parcels.shp")
    # an unclosed ring in GeoJSON (lon/lat, so with --province)
    feats = [lonlat_square(i, {"MaXa": "09886", "SoTo": 91, "SoThua": i + 1, "LoaiDat": "ODT"})
             for i in range(3)]
    feats[1]["geometry"]["coordinates"][0].pop()
    geojson(d / "l_unclosed_ring.geojson", feats)
    # odd parcel numbers
    save(parcel_frame(SHTHUA=[1, 2, -5, 4]), d / "l_parcel_negative" / "parcels.shp")
    save(parcel_frame(SHTHUA=["1", "2", "12a", "4"]), d / "l_parcel_12a" / "parcels.shp")
    save(parcel_frame(SHTHUA=[1, 2, 0, 4], KHLOAIDAT=["ODT", "ODT", "DGT", "ODT"],
                      TenChu=CP1258_NAMES[:2] + ["UBND xã An Bình", CP1258_NAMES[3]]),
         d / "l_parcel_zero_road" / "parcels.shp")
    save(parcel_frame(SHTHUA=[1, 2, 0, 4]), d / "l_parcel_zero_house" / "parcels.shp")
    save(parcel_frame(MaXa=["09886", "09886", "2093549", "09886"]),
         d / "l_ward_code_7_digits" / "parcels.shp")
    save(parcel_frame(MaXa=["09886", "09886", "09999", "09886"]),
         d / "l_ward_code_unknown" / "parcels.shp")
    # Hà Nội coordinates with a .prj of the 107°45' zone (VN-2000 TM-3, Quảng Nam/Đà Nẵng)
    shp = save(parcel_frame(), d / "l_wrong_zone" / "parcels.shp")
    prj = shp.with_suffix(".prj").read_text()
    import pyproj

    wrong = pyproj.CRS.from_proj4("+proj=tmerc +lat_0=0 +lon_0=107.75 +k=0.9999 +x_0=500000 "
                                  "+y_0=0 +ellps=WGS84 +towgs84=-191.90441429,-39.30318279,"
                                  "-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278 "
                                  "+units=m +no_defs")
    assert prj
    shp.with_suffix(".prj").write_text(wrong.to_wkt("WKT1_ESRI"))
    # WGS 84 GeoJSON, no --province
    geojson(d / "l_wgs84_no_province.geojson",
            [lonlat_square(i, {"MaXa": "09886", "SoTo": 92, "SoThua": i + 1, "LoaiDat": "ODT"})
             for i in range(3)])
    # OSM-like buildings
    osm = [lonlat_square(i, {"building": "yes", "osm_id": f"w{100 + i}"}) for i in range(3)]
    osm += [lonlat_square(3, {"leisure": "pitch", "osm_id": "w200"}),
            lonlat_square(4, {"amenity": "university", "osm_id": "w201"})]
    geojson(d / "l_osm_buildings.geojson", osm)
    # the owner field as some exports name it
    save(parcel_frame().rename(columns={"TenChu": "tenchusdd"}), d / "l_tenchusdd" / "parcels.shp")
    # empty and point-only layers
    save(parcel_frame().iloc[:0], d / "l_empty_buildings" / "buildings.shp")
    points = parcel_frame()
    points["geometry"] = points.geometry.centroid
    save(points, d / "l_points_only.gpkg", layer="parcels")
    # a null geometry among good rows
    feats = [lonlat_square(i, {"MaXa": "09886", "SoTo": 93, "SoThua": i + 1, "LoaiDat": "ODT"})
             for i in range(3)]
    feats[1]["geometry"] = None
    geojson(d / "l_null_geometry.geojson", feats)
    # projects: a duplicate id
    projects = gpd.GeoDataFrame(
        {"MaDuAn": ["DA-101", "DA-101", "DA-102"], "TenDuAn": ["Đường A", "Đường B", "Trường C"]},
        geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100),
                  shapely.box(X0 + 200, Y0, X0 + 300, Y0 + 100),
                  shapely.box(X0, Y0 + 200, X0 + 100, Y0 + 300)], crs="EPSG:5897")
    save(projects, d / "l_projects_duplicate_id" / "projects.shp")
    # a KML of parcels (always WGS 84)
    placemarks = "".join(
        f"<Placemark><ExtendedData><Data name='MaXa'><value>09886</value></Data>"
        f"<Data name='SoTo'><value>94</value></Data><Data name='SoThua'><value>{i + 1}</value>"
        f"</Data><Data name='LoaiDat'><value>ODT</value></Data></ExtendedData><Polygon>"
        f"<outerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x},{y}" for x, y in lonlat_square(i, {})["geometry"]["coordinates"][0])
        + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>" for i in range(3))
    (d / "l_parcels.kml").write_text(
        "<?xml version='1.0' encoding='UTF-8'?><kml xmlns='http://www.opengis.net/kml/2.2'>"
        f"<Document>{placemarks}</Document></kml>", encoding="utf-8")
    # a zip holding the bow-tie shapefile in nested folders with a Vietnamese folder name
    with zipfile.ZipFile(d / "l_zip_nested.zip", "w") as zf:
        for p in sorted((d / "l_bowtie").iterdir()):
            zf.write(p, f"Bản đồ/địa chính/{p.name}")


def make_corpus(out: Path) -> list[Path]:
    """Write every corpus file into ``out``; returns their paths (folders count as one)."""
    out.mkdir(parents=True, exist_ok=True)
    sheets(out)
    layers(out)
    return sorted(out.iterdir())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py OUT_DIR")
    for p in make_corpus(Path(sys.argv[1])):
        print(p)
