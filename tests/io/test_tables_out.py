"""Formula injection: text a spreadsheet would run is escaped in CSV and kept as text in XLSX;
numbers are never touched."""

from __future__ import annotations

import openpyxl
import pandas as pd

from gis.io.files import atomic_write_csv
from gis.io.tables_out import escape_formulas, keep_text_cells

NASTY = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_escape_prefixes_text_only():
    frame = pd.DataFrame({"owner": NASTY + ["An", None], "n": [-1.5, 2, -3, 4, 5, 6, 7, 8]})
    out = escape_formulas(frame)
    assert list(out["owner"][:6]) == ["'" + v for v in NASTY]
    assert out["owner"][6] == "An" and pd.isna(out["owner"][7])
    assert out["n"].tolist() == frame["n"].tolist()
    assert frame["owner"][0] == NASTY[0]  # the input is not changed


def test_csv_writer_escapes(tmp_path):
    path = atomic_write_csv(pd.DataFrame({"owner": NASTY[:4], "n": [-2, -3, 4, 5]}),
                            tmp_path / "a.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith('"\'=HYPERLINK') and lines[1].endswith(",-2")
    assert lines[3] == "'-2+3,4"


def test_openpyxl_cells_stay_text(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for v in NASTY[:4]:
        ws.append([v, -2])
    keep_text_cells(ws)
    wb.save(tmp_path / "a.xlsx")
    back = openpyxl.load_workbook(tmp_path / "a.xlsx").active
    assert [(r[0].value, r[0].data_type) for r in back.iter_rows()] == [(v, "s") for v in NASTY[:4]]
    assert all(r[1].value == -2 and r[1].data_type == "n" for r in back.iter_rows())


def test_violation_report_xlsx_and_csv_keep_formulas_as_text(tmp_path):
    import geopandas as gpd
    import shapely

    from gis.report.violations import write_report

    cases = gpd.GeoDataFrame({"case_id": ["VP-1"], "kind": ["other"], "status": ["DETECTED"],
                              "ward_code": ["09880"], "overdue": [None], "area_m2": [1.0],
                              "notes": ["=cmd|' /C calc'!A0"]},
                             geometry=[shapely.Point(0, 0)])
    empty = gpd.GeoDataFrame({"cases": []}, geometry=[])
    out = write_report(cases, {}, pd.DataFrame(), empty, tmp_path / "r.xlsx", fmt="xlsx")[0]
    ws = openpyxl.load_workbook(out)["Danh sách vụ việc"]
    cell = [c for c in ws[2] if c.value == "=cmd|' /C calc'!A0"][0]
    assert cell.data_type == "s"
    written = write_report(cases, {}, pd.DataFrame(), empty, tmp_path / "r.csv", fmt="csv")
    listing = [p for p in written if p.name == "r_cases.csv"][0]
    assert "'=cmd|" in listing.read_text(encoding="utf-8-sig")
