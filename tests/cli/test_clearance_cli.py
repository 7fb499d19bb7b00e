"""`gis ingest clearance` and `gis clearance report|chart` on the sample district."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gis.cli import cli


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    from gis.sample import generate_district, write_sample

    out = tmp_path_factory.mktemp("d")
    write_sample(generate_district(4000, seed=3), out / "s")
    return out / "s"


@pytest.fixture
def loaded(district, store_path):
    runner = CliRunner()
    for kind, name in [("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp")]:
        res = runner.invoke(cli, ["ingest", kind, str(district / name)])
        assert res.exit_code == 0, res.output
    return runner


def test_ingest_clearance_reports_rows_and_keeps_bad_ones_aside(loaded, district, tmp_path):
    manifest = json.loads((district / "manifest.json").read_text(encoding="utf-8"))
    planted = manifest["clearance"]["planted"]
    out = tmp_path / "sheet.json"
    res = loaded.invoke(cli, ["ingest", "clearance", str(district / "clearance.xlsx"),
                              "--report", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text(encoding="utf-8"))
    rules = report["summary"]["issues"]
    assert rules["unknown_status"] == len(planted["unknown_status"])
    assert rules["bad_amount"] == len(planted["unparseable_amount"])
    assert rules["bad_date"] == len(planted["unparseable_date"])
    assert rules["unknown_parcel"] >= len(planted["unknown_parcel_key"])
    s = report["summary"]
    assert s["rows_accepted"] + s["rows_rejected"] == s["rows_total"] == manifest["counts"]["clearance_rows"]
    rows = {i["row"] for i in report["issues"] if i["rule"] == "unknown_status"}
    assert rows == {p["STT"] + 1 for p in planted["unknown_status"]}  # Excel row = STT + header


def test_report_json_xlsx_csv_and_charts(loaded, district, tmp_path):
    loaded.invoke(cli, ["ingest", "clearance", str(district / "clearance.csv")])
    res = loaded.invoke(cli, ["clearance", "report", "--as-of", "2024-12-31", "--format", "json",
                              "--out", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(data) >= {"projects", "wards", "district", "summary"}
    first = data["projects"][0]
    for key in ("project_id", "name", "capital_source", "parcels_affected", "parcels_handed_over",
                "area_affected_m2", "area_recovered_m2", "plans_total", "plans_approved",
                "compensation_approved_vnd", "compensation_paid_vnd"):
        assert key in first
    assert "Tính đến ngày 31/12/2024" in data["summary"]["vi"]  # after the units and province
    assert "As of 31/12/2024" in data["summary"]["en"]
    total = sum(p["parcels_affected"] for p in data["projects"])
    distinct = data["district"]["parcels_affected"]
    assert distinct == sum(w["parcels_affected"] for w in data["wards"]) <= total
    earlier = loaded.invoke(cli, ["clearance", "report", "--as-of", "2023-06-30", "--format", "json"])
    before = json.loads(earlier.output)
    assert before["district"]["parcels_handed_over"] <= data["district"]["parcels_handed_over"]
    assert before["district"]["compensation_paid_vnd"] <= data["district"]["compensation_paid_vnd"]

    xlsx = tmp_path / "r.xlsx"
    assert loaded.invoke(cli, ["clearance", "report", "--as-of", "2024-12-31", "--format", "xlsx",
                               "--out", str(xlsx)]).exit_code == 0
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["Dự án", "Xã, phường", "Tỉnh, thành phố", "Vấn đề"]
    ws = wb["Dự án"]
    assert ws.freeze_panes == "A2" and ws["A1"].value == "Mã dự án"
    assert ws.cell(row=2, column=9).number_format == "#,##0.00"  # ha
    res = loaded.invoke(cli, ["clearance", "report", "--format", "csv", "--out",
                              str(tmp_path / "c.csv"), "--lang", "en"])
    assert res.exit_code == 0
    assert (tmp_path / "c_units.csv").read_text(encoding="utf-8-sig").startswith("Unit code")
    res = loaded.invoke(cli, ["clearance", "chart", "--out", str(tmp_path / "charts")])
    assert res.exit_code == 0, res.output
    for name in ("projects.png", "projects.svg", "wards.png", "wards.svg"):
        assert (tmp_path / "charts" / name).stat().st_size > 1000


def test_report_written_back_to_the_store(loaded, district, store_path):
    from gis.store import GeoPackageStore

    loaded.invoke(cli, ["ingest", "clearance", str(district / "clearance.csv")])
    assert loaded.invoke(cli, ["clearance", "report"]).exit_code == 0
    store = GeoPackageStore(store_path)
    layers = store.layers()
    assert {"project_parcels", "clearance_projects", "clearance_wards"} <= set(layers)
    pp = store.read("project_parcels")
    assert {"status", "overlap_m2", "share"} <= set(pp.columns)


def test_report_refuses_an_impossible_date():
    runner = CliRunner()
    res = runner.invoke(cli, ["clearance", "report", "--as-of", "31/02/2024"])
    assert res.exit_code == 2 and "not a real date" in res.output


def test_sheet_yaml_overrides_column_detection(loaded, district, tmp_path, store_path):
    import pandas as pd

    frame = pd.read_csv(district / "clearance.csv", dtype=str, encoding="utf-8-sig")
    frame = frame.rename(columns={"Trạng thái": "Diễn biến hồ sơ"})
    odd = tmp_path / "odd.csv"
    frame.to_csv(odd, index=False, encoding="utf-8-sig")
    res = loaded.invoke(cli, ["ingest", "clearance", str(odd)])
    assert res.exit_code == 2 and "status" in res.output and "Diễn biến hồ sơ" in res.output
    config = tmp_path / "sheet.yaml"
    config.write_text("clearance_sheet:\n  columns:\n    status: Diễn biến hồ sơ\n",
                      encoding="utf-8")
    res = loaded.invoke(cli, ["ingest", "clearance", str(odd), "--config", str(config)])
    assert res.exit_code == 0, res.output
    assert "Diễn biến hồ sơ" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {stat: X}\n", encoding="utf-8")
    res = loaded.invoke(cli, ["ingest", "clearance", str(odd), "--config", str(bad)])
    assert res.exit_code == 2 and "bad.yaml" in res.output and "stat" in res.output


def test_as_of_reproduces_an_earlier_day_after_a_later_sheet(tmp_path, monkeypatch):
    import datetime as dt

    import geopandas as gpd
    import pandas as pd
    import shapely

    from gis.clearance import ingest_clearance, run_clearance
    from gis.ingest import ingest_layer
    from gis.store import GeoPackageStore

    x, y = 585_000, 2_330_000
    parcels = gpd.GeoDataFrame({"MaXa": ["00001"] * 2, "SoTo": [1, 1], "SoThua": [1, 2]},
                               geometry=[shapely.box(x, y, x + 10, y + 10),
                                         shapely.box(x + 10, y, x + 20, y + 10)], crs="EPSG:5897")
    projects = gpd.GeoDataFrame({"MaDuAn": ["P"], "TenDuAn": ["Đường"], "NguonVon": ["Ngân sách"]},
                                geometry=[shapely.box(585_000, 2_330_000, 585_020, 2_330_010)],
                                crs="EPSG:5897")
    parcels.to_file(tmp_path / "p.gpkg")
    projects.to_file(tmp_path / "j.gpkg")
    store = GeoPackageStore(tmp_path / "s.gpkg")
    ingest_layer(store, tmp_path / "p.gpkg", "parcels")
    ingest_layer(store, tmp_path / "j.gpkg", "projects")
    head = ["Mã dự án", "Mã xã", "Số tờ", "Số thửa", "Số hộ", "Trạng thái", "Ngày thông báo",
            "Ngày phê duyệt PA", "Số tiền phê duyệt (đồng)", "Số tiền đã chi trả (đồng)",
            "Ngày chi trả", "Ngày bàn giao", "Khiếu nại"]
    t6 = pd.DataFrame([["P", "00001", 1, 1, 2, "Đã phê duyệt phương án", "01/02/2024", "01/03/2024",
                        "1.000.000.000", None, None, None, "Có"],
                       ["P", "00001", 1, 2, 1, "Đã bàn giao mặt bằng", "01/02/2024", None, None,
                        None, None, None, None]], columns=head)
    t12 = pd.DataFrame([["P", "00001", 1, 1, 3, "Đã bàn giao mặt bằng", "01/02/2024", "01/03/2024",
                         "1.000.000.000", "1.000.000.000", "15/07/2024", "01/09/2024", "Không"]],
                       columns=head)
    t6.to_csv(tmp_path / "t6.csv", index=False)
    t12.to_csv(tmp_path / "t12.csv", index=False)
    day = dt.date(2024, 6, 30)
    ingest_clearance(store, tmp_path / "t6.csv", known_on=day)
    first = run_clearance(store, as_of=day, write_back=False).to_dict()
    ingest_clearance(store, tmp_path / "t12.csv", known_on=dt.date(2024, 12, 31))
    again = run_clearance(store, as_of=day, write_back=False).to_dict()
    assert first["projects"] == again["projects"]
    assert first["district"] == again["district"]
    p = first["projects"][0]
    assert p["parcels_handed_over"] == 1 and p["households"] == 3 and p["complaints"] == 1
    assert p["compensation_paid_vnd"] == 0 and p["compensation_approved_vnd"] == 1_000_000_000
    late = run_clearance(store, as_of=dt.date(2024, 12, 31), write_back=False).to_dict()
    q = late["projects"][0]
    assert q["parcels_handed_over"] == 2 and q["compensation_paid_vnd"] == 1_000_000_000
    assert q["households"] == 4 and q["complaints"] == 0
    assert {p["kind"] for p in late["problems"]} >= {"ahead_of_paperwork"}  # parcel 2
