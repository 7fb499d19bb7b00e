"""Violation cases through the Store protocol (its "violation cases" block), parametrised by
backend: round trips with their types, structured filters, history, attachments, and writers in
several processes at once (flags, transitions of one case, and a clearance sheet load beside a
detection run, flags and attachment uploads) that lose nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import multiprocessing as mp
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis.errors import CaseError
from gis.store import open_store
from gis.store.base import IngestLogEntry
from gis.store.cases import (
    ATTACHMENT_COLUMNS,
    CASE_COLUMNS,
    HISTORY_COLUMNS,
    CaseQuery,
    HistoryLine,
    NewAttachment,
    NewCase,
)
from gis.violations import attach, detect, flag, update
from tests.conftest import ROOT

X0, Y0 = 585_000.0, 2_330_000.0
AT = "2026-03-04T05:06:07+00:00"
PNG = b"\x89PNG\r\n\x1a\n"


def _log(kind: str, rows: int) -> IngestLogEntry:
    return IngestLogEntry(kind=kind, source_path="/tmp/x", source_layer=None, source_sha256="0",
                          user="test", started_at=AT, finished_at=AT, rows_total=rows,
                          rows_loaded=rows, rows_quarantined=0, crs_source="EPSG:5897",
                          crs_store="EPSG:5897", engine="pyogrio")


def _small_district(location: str) -> None:
    """Two wards side by side and a row of parcels: enough for ``flag``."""
    store = open_store(location)
    wards = gpd.GeoDataFrame({"ward_code": ["00001", "00002"], "name": ["Một", "Hai"]},
                             geometry=[shapely.box(X0, Y0, X0 + 500, Y0 + 500),
                                       shapely.box(X0 + 500, Y0, X0 + 1000, Y0 + 500)],
                             crs="EPSG:5897")
    store.replace_layer("wards", wards, quarantine=None, log=_log("wards", 2))
    parcels = gpd.GeoDataFrame(
        {"parcel_key": [f"00001-1-{i}" for i in range(1, 11)], "ward_code": "00001"},
        geometry=[shapely.box(X0 + 40 * i, Y0, X0 + 40 * i + 40, Y0 + 40) for i in range(10)],
        crs="EPSG:5897")
    store.replace_layer("parcels", parcels, quarantine=None, log=_log("parcels", 10))


def _case(n: int, geometry: shapely.Geometry | None = None, **fields: object) -> NewCase:
    row = {"kind": "other", "status": "DETECTED", "source": "inspector", "area_m2": 0.0,
           "ward_code": "00001", "created_at": AT, "updated_at": AT, **fields}
    return NewCase(row, shapely.Point(X0 + 10 + 40 * n, Y0 + 10) if geometry is None
                   else geometry, (HistoryLine(at=AT, who="tester", field="created",
                                               new="inspector"),))


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


# -- round trips ---------------------------------------------------------------------------------
def test_an_empty_store_has_no_cases(location):
    store = open_store(location)
    cases = store.read_cases()
    assert cases.empty and set(CASE_COLUMNS) <= set(cases.columns) and "geometry" in cases
    assert store.read_cases(CaseQuery(ids=("VP-2026-00001",))).empty
    assert list(store.case_history("VP-2026-00001").columns) == HISTORY_COLUMNS
    assert list(store.case_attachments("VP-2026-00001").columns) == ATTACHMENT_COLUMNS
    assert store.case_history("VP-2026-00001").empty


def test_cases_round_trip_with_their_types_and_history(location):
    store = open_store(location)
    _small_district(location)
    square = shapely.box(X0 + 100, Y0 + 100, X0 + 107, Y0 + 105)
    first = store.insert_cases([_case(0, notes="Xây tường rào trái phép", fine_vnd=7_500_000,
                                      year_built=2019, owner_name=None)], id_prefix="VP-2026-")
    # a polygon after a point, then two more points: the store takes any mix
    more = store.insert_cases([_case(1, geometry=square, area_m2=35.0, kind="encroachment_"
                                     "public_land"), _case(2), _case(3)], id_prefix="VP-2026-")
    assert first == ["VP-2026-00001"]
    assert more == ["VP-2026-00002", "VP-2026-00003", "VP-2026-00004"]
    cases = store.read_cases().set_index("case_id")
    assert list(cases.index) == first + more  # in the order they were recorded
    one = cases.loc["VP-2026-00001"]
    assert one["notes"] == "Xây tường rào trái phép" and one["kind"] == "other"
    assert int(one["fine_vnd"]) == 7_500_000 and int(one["year_built"]) == 2019
    assert _missing(one["owner_name"]) and _missing(one["minutes_no"])
    assert _missing(cases.loc["VP-2026-00002", "fine_vnd"])
    assert pd.Timestamp(one["created_at"]) == pd.Timestamp(AT)
    assert cases["area_m2"].dtype == "float64" and cases.loc["VP-2026-00002", "area_m2"] == 35.0
    assert cases.loc["VP-2026-00002"].geometry.equals(square)
    assert cases.loc["VP-2026-00001"].geometry.equals(shapely.Point(X0 + 10, Y0 + 10))
    assert store.crs().equals(cases.crs)
    history = store.case_history("VP-2026-00002")
    assert history.to_dict("records") == [{"case_id": "VP-2026-00002", "at": AT, "who": "tester",
                                           "field": "created", "old": history["old"].iloc[0],
                                           "new": "inspector",
                                           "unit_code": history["unit_code"].iloc[0]}]
    assert _missing(history["old"].iloc[0]) and _missing(history["unit_code"].iloc[0])
    # ids continue from the highest of their own prefix
    assert store.insert_cases([_case(4)], id_prefix="VP-2027-") == ["VP-2027-00001"]
    assert store.insert_cases([_case(5)], id_prefix="VP-2026-") == ["VP-2026-00005"]


def test_updates_decide_on_the_current_row_and_write_all_or_nothing(location):
    store = open_store(location)
    _small_district(location)
    a, b = store.insert_cases([_case(0, notes="đầu"), _case(1)], id_prefix="VP-2026-")
    seen = []

    def change(current):  # type: ignore[no-untyped-def]
        seen.append(dict(current))
        new = {**current, "status": "VERIFYING", "fine_vnd": None, "notes": None,
               "inspector": "tt.lan", "updated_at": "2026-03-05T00:00:00+00:00"}
        return new, [{"case_id": current["case_id"], "at": new["updated_at"], "who": "tt.lan",
                      "field": "status", "old": current["status"], "new": "VERIFYING"}]

    lines = store.update_cases([a], change)
    assert seen[0]["case_id"] == a and seen[0]["notes"] == "đầu" and seen[0]["fine_vnd"] is None
    assert "geometry" not in seen[0]
    assert [line["new"] for line in lines] == ["VERIFYING"]
    row = store.read_cases(CaseQuery(ids=(a,))).iloc[0]
    assert (row["status"], row["inspector"]) == ("VERIFYING", "tt.lan")
    assert _missing(row["notes"])  # a value cleared
    assert row["updated_at"] == "2026-03-05T00:00:00+00:00" and row["created_at"] == AT
    assert list(store.case_history(a)["field"]) == ["created", "status"]
    assert store.read_cases(CaseQuery(ids=(b,))).iloc[0]["status"] == "DETECTED"

    def snapshot() -> list[list[dict[str, object]]]:
        frames = [store.read_cases().drop(columns="geometry"), store.case_history(a),
                  store.case_history(b)]
        return [f.astype(object).where(f.notna(), None).to_dict("records") for f in frames]

    before = snapshot()

    def refuse(current):  # type: ignore[no-untyped-def]
        if current["case_id"] == b:
            raise CaseError("not allowed", field="status")
        return change(current)

    with pytest.raises(CaseError, match="not allowed"):
        store.update_cases([a, b], refuse)  # a would change, b refuses: neither does
    with pytest.raises(CaseError, match="no case"):
        store.update_cases([b, "VP-2026-09999"], change)
    assert snapshot() == before


def test_reads_filter_by_ids_ward_kind_status_source_and_box(location):
    store = open_store(location)
    _small_district(location)
    ids = store.insert_cases([
        _case(0), _case(1, kind="construction_on_agricultural_land"),
        _case(2, status="VERIFYING", source="citizen"),
        _case(3, ward_code="00002", geometry=shapely.Point(X0 + 600, Y0 + 10)),
    ], id_prefix="VP-2026-")

    def found(query: CaseQuery) -> list[str]:
        return sorted(store.read_cases(query)["case_id"])

    assert found(CaseQuery(ids=(ids[1], ids[3], "VP-1999-00001"))) == [ids[1], ids[3]]
    assert found(CaseQuery(ids=())) == []
    assert found(CaseQuery(ids=("VP-' OR 1=1 --",))) == []  # values are values, never SQL
    assert found(CaseQuery(ward="00002")) == [ids[3]]
    assert found(CaseQuery(kind="construction_on_agricultural_land")) == [ids[1]]
    assert found(CaseQuery(status="VERIFYING")) == [ids[2]]
    assert found(CaseQuery(source="citizen")) == [ids[2]]
    assert found(CaseQuery(ward="00001", status="DETECTED")) == [ids[0], ids[1]]
    assert found(CaseQuery(bbox=(X0, Y0, X0 + 60, Y0 + 60))) == [ids[0], ids[1]]
    assert found(CaseQuery(bbox=(X0 + 590, Y0, X0 + 610, Y0 + 20), ward="00001")) == []
    narrow = store.read_cases(CaseQuery(ward="00002"), columns=["case_id", "status"],
                              geometry=False)
    assert list(narrow.columns) == ["case_id", "status"]
    assert narrow.to_dict("records") == [{"case_id": ids[3], "status": "DETECTED"}]


def test_attachments_round_trip(location, tmp_path):
    store = open_store(location)
    _small_district(location)
    (case,) = store.insert_cases([_case(0)], id_prefix="VP-2026-")
    data = PNG + b"a photo" * 50
    sha = hashlib.sha256(data).hexdigest()
    new = NewAttachment(case_id=case, filename="ảnh hiện trường.png", role="photo",
                        mime="image/png", sha256=sha, ext=".png", data=data, who="tt.lan",
                        added_at=AT, note="góc phía bắc",
                        history=HistoryLine(at=AT, who="tt.lan", field="photo attached",
                                            new="ảnh hiện trường.png"))
    row = store.add_attachment(new)
    assert row["stored_as"] == f"{case}/{sha}.png" and row["size"] == len(data)
    assert (store.attachments_dir() / str(row["stored_as"])).read_bytes() == data
    table = store.case_attachments(case)
    assert table.to_dict("records") == [{
        "case_id": case, "filename": "ảnh hiện trường.png", "role": "photo",
        "mime": "image/png", "size": len(data), "sha256": sha, "stored_as": f"{case}/{sha}.png",
        "note": "góc phía bắc", "added_at": AT, "who": "tt.lan"}]
    assert table["size"].dtype == "int64"
    with pytest.raises(CaseError, match="already attached"):
        store.add_attachment(new)
    with pytest.raises(CaseError, match="no case"):
        store.add_attachment(dataclasses.replace(new, case_id="VP-2026-09999"))
    # through the pipeline: checked by content, a second file after the first
    pdf = tmp_path / "biên bản.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"x" * 100)
    attach(store, case, pdf, role="document", who="tt.lan")
    assert list(store.case_attachments(case)["mime"]) == ["image/png", "application/pdf"]
    assert _missing(store.case_attachments(case)["note"].iloc[1])
    assert list(store.case_history(case)["field"]) == ["created", "photo attached",
                                                        "document attached"]
    assert store.case_attachments("VP-2026-09999").empty


# -- several processes -----------------------------------------------------------------------
def _wait(start: float) -> None:
    time.sleep(max(0.0, start - time.time()))


def _flag_many(location: str, points: list[tuple[float, float]], who: str,
               start: float) -> list[str]:
    store = open_store(location)
    _wait(start)
    return [flag(store, shapely.Point(x, y), kind="other", who=who) for x, y in points]


def _points(n: int, row: int) -> list[tuple[float, float]]:
    return [(X0 + 5 + 24 * i, Y0 + 50 + 20 * row) for i in range(n)]


@pytest.mark.slow
def test_two_processes_flagging_at_once_get_distinct_ids_and_lose_nothing(location):
    _small_district(location)
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(abs, [1, 2])  # workers up (imports done) before the start
        start = time.time() + 0.5
        jobs = [pool.apply_async(_flag_many, (location, _points(20, row), f"p{row}", start))
                for row in range(2)]
        got = [job.get(timeout=300) for job in jobs]
    ids = got[0] + got[1]
    assert len(ids) == len(set(ids)) == 40
    store = open_store(location)
    cases = store.read_cases()
    assert sorted(cases["case_id"]) == sorted(ids)
    assert all(len(store.case_history(i)) == 1 for i in ids)
    for row, mine in enumerate(got):  # each process's cases are where it put them
        stored = cases.set_index("case_id").loc[mine]
        assert [(g.x, g.y) for g in stored.geometry] == _points(20, row)
        assert set(stored["inspector"]) == {f"p{row}"}


def _note_many(location: str, case: str, who: str, start: float) -> int:
    store = open_store(location)
    _wait(start)
    for i in range(10):
        update(store, case, {}, who=who, note=f"{who} lần {i}")
    return 10


def _move(location: str, cases: list[str], changes: dict[str, object], who: str,
          start: float) -> dict[str, str]:
    store = open_store(location)
    _wait(start)
    done = {}
    for case in cases:
        try:
            update(store, case, changes, who=who)
            done[case] = "done"
        except CaseError:
            done[case] = "refused"
    return done


@pytest.mark.slow
def test_two_processes_changing_one_case_lose_no_update(location):
    _small_district(location)
    store = open_store(location)
    ids = store.insert_cases([_case(i) for i in range(6)], id_prefix="VP-2026-")
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(abs, [1, 2])
        # ten notes each on one case: every note is kept, each on top of the one before
        start = time.time() + 0.5
        pool.starmap(_note_many, [(location, ids[0], who, start) for who in ("an", "binh")])
        # two officers moving the same cases at once: to VERIFYING, and dismissing
        start = time.time() + 0.5
        verify, dismiss = pool.starmap(_move, [
            (location, ids[1:], {"status": "VERIFYING", "inspector": "an"}, "an", start),
            (location, ids[1:], {"status": "DISMISSED", "closed_reason": "không vi phạm"},
             "binh", start)])
    notes = str(open_store(location).read_cases(CaseQuery(ids=(ids[0],))).iloc[0]["notes"])
    lines = notes.splitlines()
    assert sorted(line.split("] ", 1)[1] for line in lines) == sorted(
        f"{who} lần {i}" for who in ("an", "binh") for i in range(10))
    history = store.case_history(ids[0])
    changes = history[history["field"] == "notes"]
    assert len(changes) == 20
    olds = [None if _missing(v) else v for v in changes["old"]]
    assert olds[1:] == list(changes["new"])[:-1]  # each note written on top of the one before
    for case in ids[1:]:
        row = store.read_cases(CaseQuery(ids=(case,))).iloc[0]
        moves = store.case_history(case)
        moves = moves[moves["field"] == "status"]
        assert dismiss[case] == "done" and row["status"] == "DISMISSED"  # allowed either way
        if verify[case] == "done":  # then it came first, and the dismissal saw it
            assert [(m.who, m.old, m.new) for m in moves.itertuples()] == [
                ("an", "DETECTED", "VERIFYING"), ("binh", "VERIFYING", "DISMISSED")]
            assert row["inspector"] == "an"
        else:  # dismissed first: moving a dismissed case is refused
            assert [(m.who, m.old, m.new) for m in moves.itertuples()] == [
                ("binh", "DETECTED", "DISMISSED")]


@pytest.fixture(scope="module")
def district_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample district's source files (``gis sample``): wards, parcels, projects,
    buildings and a clearance sheet."""
    from gis.sample import generate_district, write_sample

    out = tmp_path_factory.mktemp("district") / "src"
    write_sample(generate_district(1000, seed=2), out)
    return out


def _sheet(location: str, path: str, start: float) -> int:
    from gis.clearance import ingest_clearance

    store = open_store(location)
    _wait(start)
    report = ingest_clearance(store, path, user="sheet", known_on=dt.date(2024, 12, 31))
    assert report.stored
    return len(report.parse.records)


def _detect(location: str, start: float) -> list[str]:
    store = open_store(location)
    _wait(start)
    return detect(store, rules=ROOT / "layers" / "rules" / "violations.yaml").added


def _upload_many(location: str, case: str, paths: list[str], start: float) -> list[str]:
    store = open_store(location)
    _wait(start)
    return [str(attach(store, case, p, role="photo", who="uploader")["sha256"]) for p in paths]


@pytest.mark.slow
def test_sheet_load_detection_flags_and_uploads_at_once_lose_nothing(location, district_src,
                                                                    tmp_path):
    """A clearance sheet load, two detection runs, an inspector flagging five cases and another
    uploading three photos to a case, all started together on one store: everything each of
    them reported as done is in the store afterwards, and no case twice."""
    from gis.ingest import ingest_layer

    store = open_store(location)
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp"), ("buildings", "buildings.gpkg")):
        ingest_layer(store, district_src / name, kind, user="setup")
    parcels = store.read("parcels", columns=["parcel_key"])
    inside = shapely.point_on_surface(parcels.geometry.values[:6])
    target = flag(store, inside[0], kind="other", who="setup")
    points = [(p.x, p.y) for p in inside[1:]]
    photos = []
    for i in range(3):
        photos.append(tmp_path / f"photo{i}.png")
        photos[-1].write_bytes(PNG + f"photo {i}".encode() * 200)
    with mp.get_context("spawn").Pool(5) as pool:
        pool.map(abs, range(5))
        start = time.time() + 0.5
        jobs = [pool.apply_async(_sheet, (location, str(district_src / "clearance.xlsx"), start)),
                pool.apply_async(_detect, (location, start)),
                pool.apply_async(_detect, (location, start)),
                pool.apply_async(_flag_many, (location, points, "flagger", start)),
                pool.apply_async(_upload_many, (location, target, [str(p) for p in photos],
                                                start))]
        loaded, added, again, flagged, uploaded = (job.get(timeout=600) for job in jobs)
    store = open_store(location)
    cases = store.read_cases()
    assert len(flagged) == 5 and len(uploaded) == 3 and loaded
    assert bool(added) != bool(again)  # the second detection found the first one's cases
    added = added or again
    assert sorted(cases["case_id"]) == sorted([target, *added, *flagged])  # all, once each
    detected = cases[cases["source"] == "detection"]
    assert set(detected["case_id"]) == set(added) and detected["fingerprint"].is_unique
    created = [line for case in cases["case_id"] for line in
               store.case_history(case).to_dict("records") if line["field"] == "created"]
    assert sorted(line["case_id"] for line in created) == sorted(cases["case_id"])
    table = store.case_attachments(target)
    assert list(table["sha256"]) == uploaded
    for row, photo in zip(table.to_dict("records"), photos):
        assert (store.attachments_dir() / row["stored_as"]).read_bytes() == photo.read_bytes()
    history = store.case_history(target)
    assert list(history["field"]).count("photo attached") == 3
    assert len(store.read_table("clearance_records")) == loaded
    assert list(store.read_table("clearance_sheets")["user"]) == ["sheet"]
    assert "clearance" in set(store.ingest_log()["kind"])
    assert len(store.read("parcels", columns=["parcel_key"])) == len(parcels)
