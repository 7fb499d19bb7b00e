"""What only the PostGIS store has to get right (found by an independent review): readers during
a replacement, the connection pool, workers opening a new schema together, the store's own table
names, another CRS, URLs and passwords in messages."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis.errors import CRSMismatchError, StoreError
from gis.store import open_accounts, open_store
from gis.store.postgis import PostGISStore, _masked, split_location
from tests.store.conftest import drop_schema, require_postgis, store_location
from tests.store.test_conformance import _log, _parcels


def test_a_reader_during_a_replacement_sees_the_old_rows(database, monkeypatch):  # type: ignore[no-untyped-def]
    from gis.store.query import LayerQuery

    store = open_store(database)
    store.replace_layer("parcels", _parcels(5), quarantine=None, log=_log())
    slow = PostGISStore._append_log

    def append_slowly(self, con, log):  # type: ignore[no-untyped-def]
        slow(self, con, log)
        time.sleep(1.5)  # the new rows are written, not yet committed

    monkeypatch.setattr(PostGISStore, "_append_log", append_slowly)
    writer = threading.Thread(target=lambda: store.replace_layer(
        "parcels", _parcels(3, "00002"), quarantine=None, log=_log(rows=3)))
    writer.start()
    time.sleep(0.5)
    seen = open_store(database).query("parcels", LayerQuery(count=True))
    writer.join()
    assert seen.matched == 5 and len(seen) == 5  # the old layer, whole, never an empty one
    assert len(open_store(database).read("parcels")) == 3


def test_a_pool_of_one_connection_is_enough(database, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GIS_DB_POOL", "1")
    location = database.replace("?schema=", "?connect_timeout=7&schema=")  # a pool of its own
    store = open_store(location)
    store.replace_layer("parcels", _parcels(2), quarantine=None, log=_log(rows=2))
    assert store.layers()["parcels"] == 2 and store.has("parcels")


def _open_both(location: str, n: int) -> None:
    for _ in range(n):
        open_store(location)
        open_accounts(Path("/tmp"), location)


def test_workers_opening_a_new_schema_together_all_succeed(tmp_path):  # type: ignore[no-untyped-def]
    require_postgis()
    ctx = mp.get_context("spawn")
    for round_ in range(3):
        location = store_location("postgis", tmp_path)
        try:
            procs = [ctx.Process(target=_open_both, args=(location, 1)) for _ in range(5)]
            for p in procs:
                p.start()
            for p in procs:
                p.join(timeout=120)
            assert [p.exitcode for p in procs] == [0] * 5, round_
        finally:
            drop_schema(location.rpartition("schema=")[2])


def test_the_store_s_own_tables_cannot_be_overwritten(database):  # type: ignore[no-untyped-def]
    store = open_store(database)
    for name in ("gis_sessions", "gis_layers", "gis_secret"):
        with pytest.raises(StoreError, match="belong to the store itself"):
            store.write_tables({name: pd.DataFrame({"x": [1]})})


def test_a_layer_in_another_crs_is_refused_not_mislabelled(database):  # type: ignore[no-untyped-def]
    store = open_store(database)
    store.replace_layer("parcels", _parcels(2), quarantine=None, log=_log(rows=2))
    lonlat = gpd.GeoDataFrame({"project_id": ["P"]}, geometry=[shapely.box(105.8, 21.0, 105.81, 21.01)],
                              crs="EPSG:4326")
    with pytest.raises(CRSMismatchError, match="transform it first"):
        store.write_tables({"projects": lonlat})
    assert not store.has("projects")


def test_urls_keep_their_parameters_and_hide_passwords():
    url, schema = split_location("postgresql://gis@db/land?options=-c%20statement_timeout%3D5000"
                                 "&schema=Office_1")
    assert schema == "office_1" and "options=-c%20statement_timeout%3D5000" in url
    assert "s3cret" not in _masked("postgresql://gis:s3cret@db/land?schema=gis")
    assert "s3cret" not in _masked("postgresql://gis@db/land?password=s3cret&schema=gis")


def test_a_percent_sign_in_an_operators_filter(database):  # type: ignore[no-untyped-def]
    store = open_store(database)
    store.replace_layer("parcels", _parcels(5), quarantine=None, log=_log())
    found = store.read("parcels", where="owner_name LIKE 'Nguy%'")
    assert list(found["parcel_key"]) == ["00001-1-1"]


def test_structured_reads_inside_a_write_transaction(database):  # type: ignore[no-untyped-def]
    from gis.store.query import LayerQuery

    store = open_store(database)
    store.replace_layer("parcels", _parcels(5), quarantine=None, log=_log())
    store.modify(lambda working: {"few": pd.DataFrame(
        {"n": [len(working.query("parcels", LayerQuery(wards=("00001",), count=True)))]})})
    assert int(store.read_table("few")["n"].iloc[0]) == 5


def test_the_database_moves_vn2000_to_web_mercator_as_we_do(database):  # type: ignore[no-untyped-def]
    """Tiles are projected in SQL through the pinned private SRID: every VN-2000 zone lands
    where gis.crs puts it (EPSG:6960 pinned), to a millimetre."""
    import numpy as np
    import psycopg

    from gis import crs as crsmod
    from gis.store import pg_tiles

    store = open_store(database)
    url, _ = split_location(database)
    with psycopg.connect(url, autocommit=True) as con:
        for zone in crsmod.ZONES:
            srid = pg_tiles.pinned_srid(store, con, zone.epsg)
            assert srid == pg_tiles.PINNED_SRID_BASE + zone.epsg
            points = [shapely.Point(500_000 + dx, 1_200_000 + dy)
                      for dx in (-90_000, 0, 60_000) for dy in (0, 600_000, 1_100_000)]
            ours = crsmod.transform_geometries(np.array(points), f"EPSG:{zone.epsg}", "EPSG:3857")
            for p, o in zip(points, ours):
                x, y = con.execute("SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform("
                                   "ST_SetSRID(ST_MakePoint(%s, %s), %s), 3857) g) t",
                                   (p.x, p.y, srid)).fetchone()
                assert abs(x - o.x) < 1e-3 and abs(y - o.y) < 1e-3, (zone.epsg, p, x - o.x)


def test_a_foreign_definition_of_the_private_srid_is_refused(database):  # type: ignore[no-untyped-def]
    import psycopg

    from gis.store import pg_tiles

    store = open_store(database)
    url, _ = split_location(database)
    srid = pg_tiles.PINNED_SRID_BASE + 9217
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DELETE FROM spatial_ref_sys WHERE srid = %s", (srid,))
        con.execute("INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, proj4text) "
                    "VALUES (%s, 'other', 1, '+proj=longlat +datum=WGS84')", (srid,))
        pg_tiles._REGISTERED.discard((store.url, srid))
        try:
            with pytest.raises(StoreError, match="not the pinned VN-2000"):
                pg_tiles.pinned_srid(store, con, 9217)
        finally:
            con.execute("DELETE FROM spatial_ref_sys WHERE srid = %s", (srid,))


def test_vector_tiles_follow_the_layer_filter_and_leave_out_specks(database):  # type: ignore[no-untyped-def]
    import mapbox_vector_tile
    import numpy as np

    from gis import crs as crsmod
    from gis.api.tiles import mvt
    from gis.store.query import TileQuery

    store = open_store(database)
    parcels = _parcels()
    parcels.loc[4, "geometry"] = shapely.box(585080, 2330000, 585080.2, 2330000.2)  # a speck
    store.replace_layer("parcels", parcels, quarantine=None, log=_log())
    middle, speck = crsmod.transform_geometries(
        np.array([shapely.Point(585050, 2330012), shapely.Point(585080.1, 2330000.1)]),
        "EPSG:5897", "EPSG:3857")

    def keys(z: int, at: shapely.Point = middle, **kw: object) -> list[str]:
        x, y = mvt.tile_of(at.x, at.y, z)
        body = store.vector_tile("parcels", TileQuery(z, x, y, "p", columns=(
            "parcel_key", "households", "no_such_column"), **kw))  # type: ignore[arg-type]
        assert body is not None
        feats = mapbox_vector_tile.decode(body).get("p", {}).get("features", []) if body else []
        return sorted(f["properties"]["parcel_key"] for f in feats)

    assert keys(16) == ["00001-1-1", "00001-1-2", "00001-1-3", "00001-1-4"]  # not the speck
    assert "00001-1-5" in keys(23, speck)  # near enough, it is drawn
    assert keys(16, where=(("is_public", (True,)),)) == ["00001-1-3"]
    assert len(keys(16, max_features=2)) == 2
    assert keys(3) == []  # a whole-country tile: every parcel is a speck there


def test_box_and_area_filters_can_use_the_spatial_index(database):  # type: ignore[no-untyped-def]
    """A box made with the row's own SRID is no constant: the planner scanned all 1M parcels
    for every box (0.6 s a flag). Both filters must be index conditions."""
    import psycopg

    from gis.store import pg_reads
    from gis.store.query import LayerQuery

    store = open_store(database)
    store.replace_layer("parcels", _parcels(), quarantine=None, log=_log())
    url, schema = split_location(database)
    spatial, dtypes, _ = store._registry_full()["parcels"]
    for q in (LayerQuery(bbox=(585000, 2330000, 585010, 2330010)),
              LayerQuery(area=shapely.box(585000, 2330000, 585010, 2330010))):
        where, params = pg_reads._where(store, "parcels", spatial, q)
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in con.execute(
                f'EXPLAIN SELECT fid FROM "{schema}".parcels WHERE {where}', params))
        assert "parcels_geom_idx" in plan or "Index" in plan, plan


def test_a_database_address_is_not_taken_for_a_file(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from gis.store.geopackage import GeoPackageStore

    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="not a GeoPackage file") as err:
        GeoPackageStore("postgresql://gis:secret@db.example/land?schema=gis")
    assert "secret" not in str(err.value) and not any(tmp_path.iterdir())
