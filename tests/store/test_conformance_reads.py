"""What every Store backend must answer to structured reads (:class:`gis.store.query.LayerQuery`)
and change tokens, parametrised by backend (tests/store/conftest.py).

Filters are compared with the same filter applied by pandas/shapely to the frame that was
written; paging must be stable and complete; a change made by another process must move the
token of what it changed and of the store, and nothing else.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.errors import QueryError, StoreError
from gis.store import open_store
from gis.store.query import ABSENT, LayerQuery
from tests.conftest import ROOT
from tests.store.test_conformance import _log

WARDS = ("00001", "00002", "00003")
X0, Y0 = 585000.0, 2330000.0


def _grid(n: int = 36) -> gpd.GeoDataFrame:
    """``n`` parcels on a 6-wide grid of 20 m cells (parcels 18 × 18 m; every fifth is an
    L-shape whose envelope is larger than itself), three wards, NULLs in text and integers."""
    geoms = []
    for i in range(n):
        x, y = X0 + 20 * (i % 6), Y0 + 20 * (i // 6)
        box = shapely.box(x, y, x + 18, y + 18)
        if i % 5 == 0:
            box = box.difference(shapely.box(x + 9, y + 9, x + 18, y + 18))
        geoms.append(box)
    return gpd.GeoDataFrame({
        "parcel_key": [f"{WARDS[i % 3]}-1-{i + 1}" for i in range(n)],
        "ward_code": [WARDS[i % 3] for i in range(n)],
        "land_use": [("ODT", "LUC", "CLN", None)[i % 4] for i in range(n)],
        "area_m2": [float(round(g.area, 2)) for g in geoms],
        "households": pd.array([None if i % 7 == 0 else i % 4 for i in range(n)], dtype="Int64"),
        "is_public": [i % 9 == 0 for i in range(n)],
    }, geometry=geoms, crs="EPSG:5897")


@pytest.fixture
def grid_store(location):  # type: ignore[no-untyped-def]
    store = open_store(location)
    frame = _grid()
    store.replace_layer("parcels", frame, quarantine=None, log=_log(rows=len(frame)))
    return store, frame


def _keys(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["parcel_key"].astype(str))


def _expected(frame: gpd.GeoDataFrame, *, bbox=None, area=None, wards=None, keys=None,
              equals=()) -> list[str]:  # type: ignore[no-untyped-def]
    keep = np.ones(len(frame), dtype=bool)
    if bbox is not None:
        b = frame.geometry.bounds
        keep &= ((b.minx <= bbox[2]) & (b.maxx >= bbox[0]) & (b.miny <= bbox[3])
                 & (b.maxy >= bbox[1])).to_numpy()
    if area is not None:
        keep &= shapely.intersects(np.asarray(frame.geometry.values, dtype=object), area)
    if wards is not None:
        keep &= frame["ward_code"].isin(wards).to_numpy()
    if keys is not None:
        keep &= frame["parcel_key"].isin(keys).to_numpy()
    for name, value in equals:
        column = frame[name]
        keep &= (column.isna() if value is None else (column == value).fillna(False)).to_numpy(
            dtype=bool)
    return _keys(frame[keep])


def test_each_filter_alone_and_combined(grid_store):
    store, frame = grid_store
    bbox = (X0 + 15, Y0 + 15, X0 + 45, Y0 + 35)
    # a triangle: it meets some parcels' envelopes but not the parcels (the L-shapes' notches)
    area = shapely.Polygon([(X0 + 10, Y0 + 10), (X0 + 70, Y0 + 10), (X0 + 10, Y0 + 70)])
    cases = [
        {"bbox": bbox}, {"area": area}, {"wards": ("00002",)}, {"wards": ("00001", "00003")},
        {"keys": ("00001-1-1", "00003-1-3", "99999-9-9")}, {"equals": (("land_use", "ODT"),)},
        {"equals": (("households", 2),)}, {"equals": (("land_use", None),)},
        {"equals": (("is_public", True),)},
        {"equals": (("is_public", 1),)}, {"equals": (("is_public", 0),)},  # the OGC API's form
        {"bbox": bbox, "wards": ("00001", "00002"), "equals": (("land_use", "LUC"),)},
        {"area": area, "keys": tuple(frame["parcel_key"][:20]), "wards": ("00003",)},
        {"wards": ()},
    ]
    for case in cases:
        got = store.query("parcels", LayerQuery(**case, count=True))
        assert _keys(got.frame) == _expected(frame, **case), case
        assert got.matched == len(got.frame), case
    # the area test is exact: a notch of an L-shape holding the area is no hit
    notch = shapely.box(X0 + 12, Y0 + 12, X0 + 14, Y0 + 14)
    assert _keys(store.query("parcels", LayerQuery(area=notch)).frame) == []
    assert _keys(store.query("parcels", LayerQuery(bbox=notch.bounds)).frame) == ["00001-1-1"]


def test_fids_are_the_index_and_filter(grid_store):
    store, frame = grid_store
    every = store.query("parcels", LayerQuery()).frame
    assert every.index.name == "fid" and every.index.is_unique and len(every) == len(frame)
    some = tuple(every.index[[1, 4, 9]])
    picked = store.query("parcels", LayerQuery(fids=some)).frame
    assert tuple(picked.index) == some
    assert list(picked["parcel_key"]) == list(every.loc[list(some), "parcel_key"])


@pytest.mark.parametrize("order", [(), ("area_m2",), ("-ward_code",), ("land_use", "-area_m2"),
                                   ("households",)])
def test_pages_in_order_are_stable_and_complete(grid_store, order):
    store, frame = grid_store
    whole = store.query("parcels", LayerQuery(order_by=order, count=True))
    assert whole.matched == len(frame)
    pages, offset = [], 0
    while True:
        page = store.query("parcels", LayerQuery(order_by=order, limit=7, offset=offset,
                                                 count=True))
        assert page.matched == len(frame)
        if page.frame.empty:
            break
        pages.append(page.frame)
        offset += 7
    paged = pd.concat(pages)
    assert list(paged.index) == list(whole.frame.index)  # same order, none twice, none missing
    assert paged.index.is_unique and len(paged) == len(frame)
    again = store.query("parcels", LayerQuery(order_by=order, limit=7, offset=14))
    assert list(again.frame.index) == list(whole.frame.index[14:21])
    for name in (o.lstrip("-") for o in order[:1]):
        values = whole.frame[name].dropna().tolist()
        assert values == sorted(values, reverse=order[0].startswith("-"))


def test_columns_geometry_types_and_empty_results(grid_store):
    store, frame = grid_store
    full = store.query("parcels", LayerQuery()).frame
    assert isinstance(full, gpd.GeoDataFrame) and full.crs.to_epsg() == 5897
    assert list(full.columns) == [*frame.columns.drop("geometry"), "geometry"]
    back = full.sort_values("parcel_key").reset_index(drop=True)
    ref = frame.sort_values("parcel_key").reset_index(drop=True)
    assert shapely.equals_exact(back.geometry.values, ref.geometry.values, tolerance=1e-6).all()
    assert back["area_m2"].tolist() == ref["area_m2"].tolist()
    assert [None if pd.isna(v) else int(v) for v in back["households"]] == \
        [None if pd.isna(v) else int(v) for v in ref["households"]]
    assert back["is_public"].astype(bool).tolist() == ref["is_public"].tolist()
    read = store.read("parcels")
    for column in read.columns.drop("geometry"):  # the same types as Store.read
        assert full[column].dtype == read[column].dtype, column
    some = store.query("parcels", LayerQuery(columns=("ward_code", "area_m2"),
                                             with_geometry=False))
    assert not isinstance(some.frame, gpd.GeoDataFrame)
    assert list(some.frame.columns) == ["ward_code", "area_m2"]
    assert some.types == {"ward_code": "string", "area_m2": "number"}
    none = store.query("parcels", LayerQuery(wards=("77777",), count=True))
    assert none.matched == 0 and none.frame.empty
    assert list(none.frame.columns) == list(full.columns)
    kinds = {"string": pd.api.types.is_string_dtype, "number": pd.api.types.is_float_dtype,
             "integer": pd.api.types.is_integer_dtype, "boolean": pd.api.types.is_bool_dtype}
    for name, kind in store.layer_info("parcels").types.items():  # typed, though empty
        assert kinds[kind](none.frame[name].dtype), (name, none.frame[name].dtype)
    rows = store.query("parcels", LayerQuery(keys=("00001-1-1",),
                                             columns=("households", "land_use"))).records()
    assert rows == [(None, "ODT")]  # plain values: None for NULL


def test_unknown_names_are_clear_errors(grid_store):
    store, _ = grid_store
    for q in (LayerQuery(columns=("nope",)), LayerQuery(equals={"nope": 1}),
              LayerQuery(order_by=("-nope",)), LayerQuery(limit=-1)):
        with pytest.raises(QueryError) as err:
            store.query("parcels", q)
        assert "nope" in str(err.value) or "negative" in str(err.value)
    with pytest.raises(StoreError, match="no layer 'nothing'"):
        store.query("nothing", LayerQuery())
    with pytest.raises(QueryError, match="nope"):
        store.distinct("parcels", "nope")


def test_layer_info_distinct_and_scan(grid_store):
    store, frame = grid_store
    info = store.layer_info("parcels")
    assert info.count == len(frame) and info.geometry_type.upper() in ("POLYGON", "MULTIPOLYGON")
    assert info.types == {"parcel_key": "string", "ward_code": "string", "land_use": "string",
                          "area_m2": "number", "households": "integer", "is_public": "boolean"}
    assert info.extent == pytest.approx(tuple(frame.total_bounds))
    assert info.crs.to_epsg() == 5897
    assert store.distinct("parcels", "ward_code") == list(WARDS)
    assert store.distinct("parcels", "land_use", limit=2) == ["CLN", "LUC"]
    assert store.distinct("parcels", "is_public") == [False, True]
    q = LayerQuery(wards=("00001", "00002"), order_by=("area_m2",))
    batches = [r.frame for r in store.scan("parcels", q, batch_size=5)]
    assert all(len(b) <= 5 for b in batches) and len(batches) == 5
    assert list(pd.concat(batches).index) == list(store.query("parcels", q).frame.index)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wards=st.none() | st.sets(st.sampled_from(WARDS + ("00009",))).map(tuple),
       land_use=st.none() | st.sampled_from(["ODT", "LUC", "CLN", None]),
       households=st.none() | st.integers(0, 4),
       box=st.none() | st.tuples(st.floats(-10, 130), st.floats(-10, 130), st.floats(0, 80),
                                 st.floats(0, 80)),
       limit=st.none() | st.integers(0, 40), offset=st.integers(0, 40))
def test_random_filters_agree_with_pandas(grid_store, wards, land_use, households, box, limit,
                                          offset):
    store, frame = grid_store
    equals = []
    if land_use is not None or households == 0:
        equals.append(("land_use", land_use))
    if households is not None:
        equals.append(("households", households))
    bbox = None if box is None else (X0 + box[0], Y0 + box[1], X0 + box[0] + box[2],
                                     Y0 + box[1] + box[3])
    expected = _expected(frame, bbox=bbox, wards=wards, equals=tuple(equals))
    got = store.query("parcels", LayerQuery(bbox=bbox, wards=wards, equals=tuple(equals),
                                            order_by=("parcel_key",), limit=limit,
                                            offset=offset, count=True))
    assert got.matched == len(expected)
    end = None if limit is None else offset + limit
    assert list(got.frame["parcel_key"]) == expected[offset:end]


_WRITER = textwrap.dedent("""
    import sys
    import shapely
    from gis.store import open_store
    from gis.store.gpkg_sql import insert_features
    from tests.store.test_conformance import _log, _parcels
    store = open_store(sys.argv[1])
    if sys.argv[2] == "projects":
        frame = _parcels(2).rename(columns={"parcel_key": "project_id"})
        store.replace_layer("projects", frame, quarantine=None, log=_log("projects", 2))
    else:
        with store.sql_transaction() as con:
            insert_features(con, "parcels", [{"parcel_key": "00001-9-9", "ward_code": "00001"}],
                            [shapely.box(585000, 2329000, 585010, 2329010)])
""")


def _write_elsewhere(location: str, what: str) -> None:
    subprocess.run([sys.executable, "-c", _WRITER, location, what], cwd=ROOT, check=True,
                   timeout=120)


def test_change_tokens_follow_writes_of_another_process(grid_store, location):
    store, _ = grid_store
    if not hasattr(store, "sql_transaction"):
        pytest.skip("row-level writes of this backend are tested with its own writer")
    first = (store.change_token(), store.change_token("parcels"), store.change_token("projects"))
    assert first[2] == ABSENT and first[1] != ABSENT
    # stable while nothing changes, also for another opening of the store
    assert (store.change_token(), store.change_token("parcels")) == first[:2]
    assert open_store(location).change_token("parcels") == first[1]
    _write_elsewhere(location, "projects")  # another layer, written whole
    second = (store.change_token(), store.change_token("parcels"), store.change_token("projects"))
    assert second[0] != first[0] and second[2] != ABSENT
    assert second[1] == first[1]  # parcels untouched: a cache of them stays valid
    _write_elsewhere(location, "parcels")  # one row inserted in place
    third = (store.change_token(), store.change_token("parcels"), store.change_token("projects"))
    assert third[0] != second[0] and third[1] != second[1] and third[2] == second[2]
    assert "00001-9-9" in set(store.query("parcels", LayerQuery(wards=("00001",))).frame[
        "parcel_key"])


def test_an_in_place_update_moves_the_token_of_its_table(grid_store):
    """An UPDATE changes no rowid and no size class: the store stamps the table it wrote."""
    store, _ = grid_store
    if not hasattr(store, "sql_transaction"):
        pytest.skip("row-level writes of this backend are tested with its own writer")
    before = store.change_token("parcels")
    for _ in range(3):  # back to back: each stamp is later than the last
        with store.sql_transaction() as con:
            con.execute("UPDATE parcels SET land_use = 'ODT' WHERE parcel_key = '00001-1-1'")
        after = store.change_token("parcels")
        assert after != before
        before = after


_CASE_WRITER = textwrap.dedent("""
    import sys
    import shapely
    from gis.store import open_store
    from gis.store.cases import HistoryLine, NewCase
    store = open_store(sys.argv[1])
    at = "2026-03-04T05:06:07+00:00"
    store.insert_cases([NewCase({"kind": "other", "status": "DETECTED", "source": "inspector",
                                 "ward_code": "00001", "created_at": at, "updated_at": at},
                                shapely.Point(585005, 2330005),
                                (HistoryLine(at=at, who="t", field="created"),))],
                       id_prefix="VP-2026-")
""")


def test_a_case_written_by_another_process_moves_only_the_tokens_it_touched(grid_store,
                                                                           location):
    """Every backend: a row-level write through the protocol (a new case) in another process
    moves the store's token and the cases', never the parcels'."""
    store, _ = grid_store
    before = (store.change_token(), store.change_token("parcels"),
              store.change_token("violation_cases"))
    subprocess.run([sys.executable, "-c", _CASE_WRITER, location], cwd=ROOT, check=True,
                   timeout=120)
    after = (store.change_token(), store.change_token("parcels"),
             store.change_token("violation_cases"))
    assert after[0] != before[0] and after[2] != before[2] and after[2] != ABSENT
    assert after[1] == before[1]
