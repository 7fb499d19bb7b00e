"""What every Store backend must do (the protocol in gis/store/base.py), parametrised by backend.

Today the GeoPackage store is the only backend; a PostGIS store (issue 12) adds itself to
``BACKENDS`` and must pass the same tests: round trips of layers and tables with their types,
filters, read-modify-write that sees the current state and writes all or nothing, concurrent
writers that lose nothing, and a writer killed half-way that leaves the old state.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis.errors import CRSMismatchError
from gis.store import open_store
from gis.store.base import IngestLogEntry, LayerReplacement, Store
from tests.conftest import ROOT


def _parcels(n: int = 5, ward: str = "00001") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"parcel_key": [f"{ward}-1-{i}" for i in range(1, n + 1)], "ward_code": ward,
         "owner_name": ["Nguyễn Văn Ấn", None, "UBND phường", "Trần Thị Bé", "Lê Ư"][:n],
         "area_m2": [100.5, 200.0, 0.0, 50.25, 75.0][:n],
         "households": pd.array([1, None, 0, 3, 2][:n], dtype="Int64"),
         "is_public": [False, False, True, False, False][:n]},
        geometry=[shapely.box(585000 + 20 * i, 2330000, 585018 + 20 * i, 2330025)
                  for i in range(n)], crs="EPSG:5897")


def _log(kind: str = "parcels", rows: int = 5) -> IngestLogEntry:
    return IngestLogEntry(kind=kind, source_path="/tmp/x.shp", source_layer="x", source_sha256="0",
                          user="test", started_at="2026-01-01T00:00:00+00:00",
                          finished_at="2026-01-01T00:00:01+00:00", rows_total=rows,
                          rows_loaded=rows, rows_quarantined=0, crs_source="EPSG:5897",
                          crs_store="EPSG:5897", engine="pyogrio", added=rows, removed=0,
                          changed=0, issues_json="{}")


def test_an_empty_store(location):
    store = open_store(location)
    assert isinstance(store, Store)
    assert store.crs() is None and not store.has("parcels")
    assert store.read_table("anything").empty and store.ingest_log().empty


def test_a_layer_round_trips_with_its_types_its_quarantine_and_its_log(location):
    store = open_store(location)
    frame = _parcels()
    bad = _parcels(1, "00002").assign(rules="bad_key", reason="a reason")
    store.replace_layer("parcels", frame, quarantine=bad, log=_log())
    assert store.crs().to_epsg() == 5897 and store.layers()["parcels"] == 5
    back = store.read("parcels").sort_values("parcel_key").reset_index(drop=True)
    assert list(back["parcel_key"]) == list(frame["parcel_key"])
    def texts(column: pd.Series) -> list[object]:
        return [None if pd.isna(v) else v for v in column]

    assert texts(back["owner_name"]) == texts(frame["owner_name"])
    assert texts(back["owner_name"])[:3] == ["Nguyễn Văn Ấn", None, "UBND phường"]
    assert back["area_m2"].tolist() == frame["area_m2"].tolist()
    assert back["is_public"].astype(bool).tolist() == frame["is_public"].tolist()
    assert shapely.equals_exact(back.geometry.values, frame.geometry.values, tolerance=1e-6).all()
    assert list(store.quarantine("parcels")["reason"]) == ["a reason"]
    assert store.ingest_log()["rows_loaded"].tolist() == [5]


def test_reads_filter_by_box_and_columns(location):
    store = open_store(location)
    store.replace_layer("parcels", _parcels(), quarantine=None, log=_log())
    inside = store.read("parcels", bbox=(585000, 2330000, 585030, 2330030))
    assert sorted(inside["parcel_key"]) == ["00001-1-1", "00001-1-2"]
    narrow = store.read("parcels", columns=["parcel_key"])
    assert set(narrow.columns) <= {"parcel_key", "geometry"} and len(narrow) == 5


def test_tables_round_trip_with_their_types(location):
    store = open_store(location)
    table = pd.DataFrame({"name": ["Phường Phúc Diễn", None],
                          "amount_vnd": pd.array([1_050_000_000_000, None], dtype="Int64"),
                          "share": [0.5, 1.25]})
    store.write_tables({"figures": table}, log=_log("clearance", 2))
    back = store.read_table("figures")
    assert back["name"].iloc[0] == "Phường Phúc Diễn" and pd.isna(back["name"].iloc[1])
    assert int(back["amount_vnd"].iloc[0]) == 1_050_000_000_000  # beyond 32 bits, whole
    assert back["share"].tolist() == [0.5, 1.25]
    assert store.ingest_log()["kind"].tolist() == ["clearance"]


def test_long_column_names_stay_whole_and_apart(location):
    """Names of more than 63 bytes (PostgreSQL keeps 63 of a name: 20-odd Vietnamese letters),
    also two that share their first 63 bytes, round trip through layers and tables."""
    from gis.store.query import LayerQuery

    store = open_store(location)
    long = "tình_trạng_giải_phóng_mặt_bằng_" * 3
    assert len(long.encode()) > 63
    frame = _parcels(2).assign(**{long + "a": [1, 2], long + "b": ["x", "y"]})
    store.replace_layer("parcels", frame, quarantine=None, log=_log(rows=2))
    back = store.read("parcels")
    assert back[long + "a"].tolist() == [1, 2] and back[long + "b"].tolist() == ["x", "y"]
    rows = store.query("parcels", LayerQuery(columns=(long + "b",), equals=((long + "a", 2),),
                                             order_by=("-" + long + "a",))).records()
    assert rows == [("y",)]
    assert {f.name for f in store.layer_info("parcels").fields} >= {long + "a", long + "b"}
    assert store.distinct("parcels", long + "b") == ["x", "y"]
    store.write_tables({"figures": pd.DataFrame({long + "a": [1.5], long + "b": [2.5]})})
    assert store.read_table("figures")[[long + "a", long + "b"]].values.tolist() == [[1.5, 2.5]]


def test_errors_say_whether_the_store_is_a_file_or_a_database(location):
    from gis.errors import StoreError

    with pytest.raises(StoreError) as err:
        open_store(location).read("nothing")
    kind = "database" if location.startswith("postgresql://") else "file"
    assert str(err.value).startswith(f"{kind} ") and "no layer 'nothing'" in str(err.value)


def test_read_modify_write_sees_the_current_state_and_writes_all_or_nothing(location):
    store = open_store(location)
    store.write_tables({"counter": pd.DataFrame({"n": [1]})})

    def bump(working):  # type: ignore[no-untyped-def]
        n = int(working.read_table("counter")["n"].iloc[0])
        return {"counter": pd.DataFrame({"n": [n + 1]}), "other": pd.DataFrame({"x": [n]})}

    store.modify(bump)
    assert int(store.read_table("counter")["n"].iloc[0]) == 2

    def half_then_fail(working):  # type: ignore[no-untyped-def]
        raise RuntimeError("the change failed")

    before = (store.layers(), store.read_table("counter").to_dict())
    with pytest.raises(Exception, match="the change failed"):
        store.modify(half_then_fail)
    assert (store.layers(), store.read_table("counter").to_dict()) == before


def test_a_layer_read_modify_write_keeps_what_it_read(location):
    store = open_store(location)
    store.replace_layer("parcels", _parcels(3, "00001"), quarantine=None, log=_log())

    def add_ward(working):  # type: ignore[no-untyped-def]
        old = working.read("parcels")
        new = gpd.GeoDataFrame(pd.concat([old, _parcels(2, "00002")], ignore_index=True),
                               geometry="geometry", crs=old.crs)
        return LayerReplacement(new, _log(rows=2))

    store.replace_layer_with("parcels", add_ward)
    assert sorted(store.read("parcels")["ward_code"].unique()) == ["00001", "00002"]
    assert len(store.read("parcels")) == 5 and len(store.ingest_log()) == 2


def test_a_layer_and_the_layers_it_moves_are_written_together_or_not_at_all(location):
    """A units load re-places the stored parcels (``LayerReplacement.also``): both land in one
    transaction, and a failure writing the second leaves the first unwritten too."""
    store = open_store(location)
    store.replace_layer("parcels", _parcels(3, "00001"), quarantine=None, log=_log())
    units = gpd.GeoDataFrame({"unit_code": ["09574"], "name": ["Phường Sơn Tây"]},
                             geometry=[shapely.box(584900, 2329900, 585200, 2330100)],
                             crs="EPSG:5897")

    def with_units(working):  # type: ignore[no-untyped-def]
        return LayerReplacement(units, _log("units", 1),
                                also={"parcels": working.read("parcels").assign(unit_code="09574")})

    store.replace_layer_with("units", with_units)
    assert set(store.read("parcels")["unit_code"]) == {"09574"}
    assert len(store.read("units")) == 1 and len(store.ingest_log()) == 2

    def unwritable(working):  # type: ignore[no-untyped-def]
        broken = working.read("parcels").to_crs("EPSG:4326")  # refused after units are written
        return LayerReplacement(units.assign(name="Phường Mới"), _log("units", 1),
                                also={"parcels": broken})

    before = (store.read("units").to_json(), store.read("parcels").to_json(),
              len(store.ingest_log()))
    with pytest.raises(CRSMismatchError, match="parcels|EPSG"):
        store.replace_layer_with("units", unwritable)
    assert (store.read("units").to_json(), store.read("parcels").to_json(),
            len(store.ingest_log())) == before


def _bump_many(location: str, name: str, times: int) -> None:
    store = open_store(location)

    def bump(working):  # type: ignore[no-untyped-def]
        rows = working.read_table("log_of_writers")
        return {"log_of_writers": pd.concat(
            [rows, pd.DataFrame({"writer": [name], "seq": [len(rows)]})], ignore_index=True)}

    for _ in range(times):
        store.modify(bump)


@pytest.mark.slow
def test_concurrent_writers_in_processes_lose_nothing(location):
    ctx = mp.get_context("spawn")
    writers = [ctx.Process(target=_bump_many, args=(location, name, 6)) for name in "AB"]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=180)
        assert w.exitcode == 0
    rows = open_store(location).read_table("log_of_writers")
    assert sorted(rows["writer"].value_counts().to_dict().items()) == [("A", 6), ("B", 6)]
    assert sorted(rows["seq"].astype(int)) == list(range(12))  # each saw the one before


@pytest.mark.slow
def test_a_writer_killed_half_way_leaves_the_old_state(location, tmp_path):
    store = open_store(location)
    store.write_tables({"counter": pd.DataFrame({"n": [1]})})
    before = store.read_table("counter").to_dict()
    ready = tmp_path / "inside"
    script = textwrap.dedent(f"""
        import time, pandas as pd
        from pathlib import Path
        from gis.store import open_store
        store = open_store({location!r})
        def slow(working):
            Path({str(ready)!r}).write_text("in")
            time.sleep(60)
            return {{"counter": pd.DataFrame({{"n": [99]}})}}
        store.modify(slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the writer never started its change"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    after = open_store(location)
    assert after.read_table("counter").to_dict() == before
    after.write_tables({"counter": pd.DataFrame({"n": [2]})})  # and the store still works
    assert int(after.read_table("counter")["n"].iloc[0]) == 2
