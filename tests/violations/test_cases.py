"""Case lifecycle, document numbers, flags, history, CLI, concurrent writers."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing as mp

import pytest
import shapely
from click.testing import CliRunner

from gis.cli import cli
from gis.core.violations.cases import (
    TRANSITIONS,
    CaseStatus,
    apply_changes,
    overdue,
    parse_document_number,
)
from gis.errors import CaseError
from gis.ingest import ingest_layer
from gis.store import GeoPackageStore
from gis.violations import case_detail, flag, list_cases, update

AT = dt.datetime(2024, 11, 1, 8, 0, tzinfo=dt.UTC)


def _case(**kw):
    return {"case_id": "VP-2024-00001", "status": "DETECTED", **kw}


def test_document_numbers():
    assert str(parse_document_number("Số: 12/BB-VPHC", field="minutes_no")) == "12/BB-VPHC"
    assert str(parse_document_number("45/QĐ-XPHC", field="decision_no")) == "45/QĐ-XPHC"
    doc = parse_document_number("316/KL-STNMT-TTr", field="conclusion_no")
    assert (doc.number, doc.doc_type, doc.issuer, doc.unit) == (316, "KL", "STNMT", "TTr")
    with pytest.raises(CaseError, match="does not parse"):
        parse_document_number("mười hai", field="minutes_no")
    with pytest.raises(CaseError, match="expected type BB"):
        parse_document_number("45/QĐ-XPHC", field="minutes_no")


def test_lifecycle_allows_only_listed_transitions():
    new, hist = apply_changes(_case(), {"status": "VERIFYING"}, who="a", at=AT)
    assert new["status"] == "VERIFYING" and hist[0]["old"] == "DETECTED"
    with pytest.raises(CaseError, match="DETECTED → CLOSED is not allowed"):
        apply_changes(_case(), {"status": "CLOSED", "closed_reason": "x"}, who="a", at=AT)
    with pytest.raises(CaseError, match="minutes need their number"):
        apply_changes(_case(status="VERIFYING"), {"status": "MINUTES_ISSUED"}, who="a", at=AT)
    with pytest.raises(CaseError, match="a decision needs its number"):
        apply_changes(_case(status="MINUTES_ISSUED", minutes_no="1/BB-VPHC"),
                      {"status": "DECISION_ISSUED"}, who="a", at=AT)
    with pytest.raises(CaseError, match="needs a reason"):
        apply_changes(_case(status="VERIFYING"), {"status": "DISMISSED"}, who="a", at=AT)
    for final in (CaseStatus.CLOSED, CaseStatus.DISMISSED):
        assert TRANSITIONS[final] == frozenset()
    case = _case()
    for step, extra in [("VERIFYING", {}), ("MINUTES_ISSUED", {"minutes_no": "12/BB-VPHC",
                                                                "minutes_date": "01/11/2024"}),
                        ("DECISION_ISSUED", {"decision_no": "45/QĐ-XPHC", "decision_date": "05/11/2024",
                                             "fine_vnd": 7_500_000}),
                        ("REMEDY_PENDING", {"remedy_deadline": "05/01/2025"}),
                        ("CLOSED", {"closed_reason": "đã khôi phục hiện trạng"})]:
        case, _ = apply_changes(case, {"status": step, **extra}, who="a", at=AT)
    assert case["status"] == "CLOSED" and case["fine_vnd"] == 7_500_000


def test_overdue():
    minutes = _case(status="MINUTES_ISSUED", minutes_no="1/BB-VPHC", minutes_date="2024-10-01")
    assert "without a decision" in overdue(minutes, today=dt.date(2024, 11, 1))
    assert overdue(minutes, today=dt.date(2024, 10, 10)) is None
    remedy = _case(status="REMEDY_PENDING", remedy_deadline="2024-10-15")
    assert "deadline 15/10/2024 passed" in overdue(remedy, today=dt.date(2024, 11, 1))


@pytest.fixture
def store(tmp_path, small_parcels):
    src = tmp_path / "p.shp"
    small_parcels.to_file(src)
    wards = small_parcels[:1][["MaXa", "geometry"]].copy()
    wards["geometry"] = [shapely.box(*small_parcels.total_bounds).buffer(5)]
    wsrc = tmp_path / "w.gpkg"
    wards.to_file(wsrc)
    store = GeoPackageStore(tmp_path / "store.gpkg")
    ingest_layer(store, src, "parcels")
    ingest_layer(store, wsrc, "wards")
    return store


def _sha(store):
    return hashlib.sha256(store.path.read_bytes()).hexdigest()


def test_flag_update_history_and_bad_input_leaves_case_unchanged(store):
    case_id = flag(store, shapely.Point(585_010, 2_330_015), kind="encroachment_public_land",
                   who="tt.lan", notes="<script>alert(1)</script>")
    case, history = case_detail(store, case_id)
    assert case["ward_code"] == "09880" and case["parcel_keys"] == "09880-1-1"
    assert case["notes"] == "<script>alert(1)</script>" and case["source"] == "inspector"
    before = _sha(store)
    for changes, message in [({"status": "CLOSED"}, "not allowed"),
                             ({"minutes_no": "twelve"}, "does not parse"),
                             ({"minutes_date": "31/02/2024"}, "not a date"),
                             ({"kind": "flying"}, "unknown kind")]:
        with pytest.raises(CaseError, match=message):
            update(store, case_id, changes, who="tt.lan")
        assert _sha(store) == before
    update(store, case_id, {"status": "VERIFYING", "inspector": "tt.lan"}, who="tt.lan")
    update(store, case_id, {"status": "MINUTES_ISSUED", "minutes_no": "12/BB-VPHC",
                            "minutes_date": "2024-11-01"}, who="tt.lan")
    case, history = case_detail(store, case_id)
    assert case["status"] == "MINUTES_ISSUED" and case["minutes_no"] == "12/BB-VPHC"
    # the inspector was already tt.lan (set by the flag), so no line for it
    assert list(history["field"]) == ["created", "status", "status", "minutes_no", "minutes_date"]
    wgs = flag(store, shapely.Point(*_to_wgs(585_030, 2_330_015)), kind="other", who="x",
               crs="EPSG:4326", source="citizen")
    assert case_detail(store, wgs)[0]["parcel_keys"] == "09880-1-2"


def _to_wgs(x, y):
    from gis import crs as crsmod

    return crsmod.pinned_transformer(5897).transform(x, y)


def test_flag_refusals(store):
    with pytest.raises(CaseError, match="outside every ward"):
        flag(store, shapely.Point(600_000, 2_340_000), kind="other", who="x")
    bowtie = shapely.Polygon([(585_000, 2_330_000), (585_010, 2_330_010), (585_010, 2_330_000),
                              (585_000, 2_330_010)])
    with pytest.raises(CaseError, match="not valid"):
        flag(store, bowtie, kind="other", who="x")
    with pytest.raises(CaseError, match="unknown kind"):
        flag(store, shapely.Point(585_010, 2_330_015), kind="parking", who="x")


def _flag_and_update(args):
    path, n = args
    store = GeoPackageStore(path)
    ids = []
    for i in range(n):
        ids.append(flag(store, shapely.Point(585_010 + i, 2_330_015), kind="other", who=f"p{n}"))
    for case_id in ids:
        update(store, case_id, {"status": "VERIFYING"}, who=f"p{n}")
    return ids


def test_concurrent_flagging_and_updating_loses_nothing(store):
    jobs = [(store.path, 3), (store.path, 4), (store.path, 5)]
    with mp.get_context("spawn").Pool(3) as pool:
        results = pool.map(_flag_and_update, jobs)
    ids = [i for r in results for i in r]
    assert len(ids) == len(set(ids)) == 12
    cases = list_cases(store)
    assert len(cases) == 12 and set(cases["status"]) == {"VERIFYING"}
    history = store.read_table("violation_history")
    assert len(history) == 24  # one "created" and one status line per case
    assert sorted(history["case_id"].unique()) == sorted(ids)


def test_cli_flag_update_list_geojson(store, monkeypatch, tmp_path):
    monkeypatch.setenv("GIS_STORE", str(store.path))
    runner = CliRunner()
    res = runner.invoke(cli, ["violations", "flag", "--kind", "encroachment_public_land",
                              "--point", "585010", "2330015", "--who", "tt.lan"])
    assert res.exit_code == 0, res.output
    case_id = res.output.split()[1]
    res = runner.invoke(cli, ["violations", "update", case_id, "--status", "DECISION_ISSUED"])
    assert res.exit_code == 2 and "not allowed" in res.output
    assert isinstance(res.exception, SystemExit)
    res = runner.invoke(cli, ["violations", "update", case_id, "--status", "VERIFYING"])
    assert res.exit_code == 0 and "DETECTED → VERIFYING" in res.output
    out = tmp_path / "cases.geojson"
    res = runner.invoke(cli, ["violations", "list", "--format", "geojson", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    props = data["features"][0]["properties"]
    for key in ("case_id", "kind", "status", "area_m2", "parcel_keys", "ward_code", "source"):
        assert key in props
    assert props["parcel_keys"] == ["09880-1-1"]
    lon, lat = data["features"][0]["geometry"]["coordinates"]
    assert 105 < lon < 106 and 20 < lat < 22
    res = runner.invoke(cli, ["violations", "show", case_id])
    assert "VERIFYING" in res.output and "tt.lan" in res.output
    res = runner.invoke(cli, ["violations", "list", "--status", "CLOSED"])
    assert "(0)" in res.output
    unit = props["unit_code"]  # the 2025 unit of ward 09880's conversion
    res = runner.invoke(cli, ["violations", "list", "--unit", unit.lstrip("0")],
                        terminal_width=200)
    assert res.exit_code == 0 and "(1)" in res.output and f"({unit})" in res.output
    res = runner.invoke(cli, ["violations", "list", "--unit", "09880"])  # a legacy-only code
    assert res.exit_code != 0 and "09880" in res.output and "Traceback" not in res.output
    other = runner.invoke(cli, ["violations", "export", "--format", "csv", "--unit", "00118",
                                "--out", str(tmp_path / "none.csv")])
    assert other.exit_code == 0 and "0 cases" in other.output


def test_attach_report_dossier_export(store, monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("GIS_STORE", str(store.path))
    runner = CliRunner()
    case_id = flag(store, shapely.Point(585_010, 2_330_015), kind="encroachment_public_land",
                   who="tt.lan")
    photo = tmp_path / "hien_truong.png"
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.text(0.1, 0.5, "Ảnh")
    fig.savefig(photo)
    plt.close(fig)
    res = runner.invoke(cli, ["violations", "attach", case_id, str(photo), "--who", "tt.lan"])
    assert res.exit_code == 0, res.output
    table = store.read_table("violation_attachments")
    assert table.iloc[0]["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    stored = store.path.with_name("store_attachments") / table.iloc[0]["stored_as"]
    assert stored.read_bytes() == photo.read_bytes()
    before = _sha(store)
    fake = tmp_path / "anh.jpg"
    fake.write_text("not a photo")
    res = runner.invoke(cli, ["violations", "attach", case_id, str(fake)])
    assert res.exit_code == 2 and "a photo must be an image" in res.output
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert runner.invoke(cli, ["violations", "attach", case_id, str(pdf), "--role", "photo"]).exit_code == 2
    assert _sha(store) == before  # refused attachments change nothing
    assert runner.invoke(cli, ["violations", "attach", case_id, str(pdf), "--role", "document"]).exit_code == 0
    out = tmp_path / "dossier.pdf"
    res = runner.invoke(cli, ["violations", "dossier", case_id, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"%PDF") and out.stat().st_size > 10_000
    res = runner.invoke(cli, ["violations", "report", "--format", "json", "--out", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["summary"]["cases"] == 1 and report["summary"]["by_kind"] == {"encroachment_public_land": 1}
    assert (tmp_path / "r_chart.png").stat().st_size > 1000
    report_unit = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    res = runner.invoke(cli, ["violations", "report", "--unit", "00118", "--format", "json",
                              "--out", str(tmp_path / "none.json")])  # Phường Bồ Đề: not here
    assert res.exit_code == 0, res.output
    unit = json.loads((tmp_path / "none.json").read_text(encoding="utf-8"))
    assert unit["summary"]["cases"] == 0 and report_unit["summary"]["cases"] == 1
    res = runner.invoke(cli, ["violations", "report", "--format", "xlsx", "--out", str(tmp_path / "r.xlsx")])
    from openpyxl import load_workbook

    assert "Theo loại" in load_workbook(tmp_path / "r.xlsx").sheetnames
    res = runner.invoke(cli, ["violations", "export", "--format", "gpkg", "--out", str(tmp_path / "v.gpkg")])
    assert res.exit_code == 0 and "1 cases written" in res.output


def test_one_conclusion_links_many_cases_and_big_files_are_refused(store, monkeypatch, tmp_path):
    from gis.core.violations.attachments import inspect_attachment

    monkeypatch.setenv("GIS_STORE", str(store.path))
    ids = [flag(store, shapely.Point(585_005 + i, 2_330_015), kind="other", who="x") for i in range(3)]
    res = CliRunner().invoke(cli, ["violations", "update", *ids, "--conclusion-no",
                                   "316/KL-STNMT-TTr", "--conclusion-date", "15/10/2024"])
    assert res.exit_code == 0, res.output
    cases = list_cases(store)
    assert set(cases.loc[cases["case_id"].isin(ids), "conclusion_no"]) == {"316/KL-STNMT-TTr"}
    with pytest.raises(CaseError, match="over the limit"):
        inspect_attachment("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 2048, role="photo", max_bytes=1024)


def test_store_level_fines_documents_and_locks(store):
    case_id = flag(store, shapely.Point(585_010, 2_330_015), kind="other", who="x")
    other = flag(store, shapely.Point(585_030, 2_330_015), kind="other", who="x")
    before = _sha(store)
    for changes, message in [
            ({"decision_no": "99/QĐ-XPHC", "decision_date": "01/01/2020"}, "belongs to DECISION_ISSUED"),
            ({"fine_vnd": 7_500_000}, "belongs to DECISION_ISSUED")]:
        with pytest.raises(CaseError, match=message):
            update(store, case_id, changes, who="x")
    with pytest.raises(CaseError, match="no case 'NOPE'; nothing was changed"):
        from gis.violations import update_many

        update_many(store, [case_id, "NOPE", other], {"notes": "x"}, who="x")
    assert _sha(store) == before
    update(store, case_id, {"status": "MINUTES_ISSUED", "minutes_no": "12/BB-VPHC",
                            "minutes_date": "01/11/2024"}, who="x")
    with pytest.raises(CaseError, match="before minutes_date"):
        update(store, case_id, {"status": "DECISION_ISSUED", "decision_no": "45/QĐ-XPHC",
                                "decision_date": "01/10/2024"}, who="x")
    update(store, case_id, {"status": "DECISION_ISSUED", "decision_no": "45/QĐ-XPHC",
                            "decision_date": "05/11/2024", "fine_vnd": 7_500_000}, who="x")
    case, _ = case_detail(store, case_id)
    assert case["fine_vnd"] == 7_500_000
    update(store, case_id, {"status": "CLOSED", "closed_reason": "đã nộp phạt, khôi phục"}, who="x")
    with pytest.raises(CaseError, match="only notes can change"):
        update(store, case_id, {"closed_reason": "khác"}, who="x")
    update(store, case_id, {"notes": "lưu hồ sơ"}, who="x")


def test_arising_since_uses_occurred_on_or_the_building_year(store):
    a = flag(store, shapely.Point(585_010, 2_330_015), kind="other", who="x")
    b = flag(store, shapely.Point(585_030, 2_330_015), kind="other", who="x")
    update(store, a, {"occurred_on": "15/03/2020"}, who="x")
    update(store, b, {"occurred_on": "15/03/2019"}, who="x")
    since_2020 = list_cases(store, since=dt.date(2020, 1, 1))
    assert list(since_2020["case_id"]) == [a]


def test_updates_are_row_level_and_gdal_still_reads_the_store(store):
    import os
    import shutil
    import subprocess

    case_id = flag(store, shapely.Point(585_010, 2_330_015), kind="other", who="x")
    inode = os.stat(store.path).st_ino
    update(store, case_id, {"status": "VERIFYING", "notes": "row-level"}, who="x")
    assert os.stat(store.path).st_ino == inode  # updated in place, not copied and replaced
    case, history = case_detail(store, case_id)
    assert case["status"] == "VERIFYING" and list(history["field"])[-2:] == ["status", "notes"]
    assert store.vacuum_check()
    if shutil.which("ogrinfo"):
        out = subprocess.run(["ogrinfo", "-ro", "-al", "-q", str(store.path), "violation_cases"],
                             capture_output=True, text=True, check=True).stdout
        assert "VERIFYING" in out and "row-level" in out
