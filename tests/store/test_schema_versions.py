"""Versions of the PostGIS store's own tables and ``gis db upgrade`` (issue 12): a store made by
every earlier version is refused with the command to run, then upgraded whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gis.cli import cli
from gis.errors import StoreError
from gis.store import open_store
from gis.store.pg_schema import SCHEMA_VERSION
from tests.store.conftest import TEST_DATABASE

ROOT_DIR = Path(__file__).parent


def _sql(statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(TEST_DATABASE, autocommit=True) as con:
        for statement in statements:
            con.execute(statement)


def _version_1(schema: str) -> None:
    """A store as the first PostGIS release (version 1) left it: dtypes as jsonb (keys sorted),
    no geometry types, no change versions, schema_version "1" written with the first layer."""
    s = f'"{schema}"'
    dtypes = json.dumps({"parcel_key": "object", "ward_code": "object", "area_m2": "float"})
    _sql([f"CREATE SCHEMA {s}",
          f"CREATE TABLE {s}.gis_meta (key text PRIMARY KEY, value text NOT NULL)",
          f"CREATE TABLE {s}.gis_layers (name text PRIMARY KEY, spatial boolean NOT NULL, "
          "dtypes jsonb NOT NULL)",
          f"CREATE TABLE {s}.parcels (fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "parcel_key text, ward_code text, area_m2 double precision, "
          "geom geometry(Geometry, 5897))",
          f"INSERT INTO {s}.parcels (parcel_key, ward_code, area_m2, geom) VALUES "
          "('00001-1-1', '00001', 100.5, ST_GeomFromText('POLYGON((585000 2330000, 585010 "
          "2330000, 585010 2330010, 585000 2330010, 585000 2330000))', 5897)), "
          "('00001-1-2', '00001', 80, ST_GeomFromText('POLYGON((585010 2330000, 585020 "
          "2330000, 585020 2330010, 585010 2330010, 585010 2330000))', 5897))",
          f"INSERT INTO {s}.gis_layers VALUES ('parcels', true, '{dtypes}'::jsonb)",
          f"INSERT INTO {s}.gis_meta VALUES ('crs', 'EPSG:5897'), ('schema_version', '1')"])


def test_a_new_store_is_at_the_current_version(database):  # type: ignore[no-untyped-def]
    store = open_store(database)
    assert store.schema_version() == SCHEMA_VERSION == 3
    res = CliRunner().invoke(cli, ["db", "upgrade", database])
    assert res.exit_code == 0 and "nothing to do" in res.output


def test_a_version_1_store_is_refused_then_upgraded_whole(database):  # type: ignore[no-untyped-def]
    schema = database.rpartition("schema=")[2]
    _version_1(schema)
    with pytest.raises(StoreError, match="version 1, this release needs 3: run `gis db upgrade`"):
        open_store(database)
    res = CliRunner().invoke(cli, ["db", "upgrade", database])
    assert res.exit_code == 0, res.output
    assert "schema version 1 → 3" in res.output
    store = open_store(database)
    assert store.schema_version() == 3
    parcels = store.read("parcels")
    # the names beside the codes are filled too (legacy 00001: Phường Phúc Xá, Hà Nội)
    assert list(parcels.columns) == ["parcel_key", "ward_code", "ward_name", "area_m2",
                                     "geometry"]
    assert set(parcels["ward_name"]) == {"Phường Phúc Xá"}
    assert "names beside codes: 2 rows of parcels" in res.output
    assert store.layer_info("parcels").geometry_type == "POLYGON"
    before = store.change_token("parcels")
    store.modify(lambda working: {"parcels": working.read("parcels").iloc[:1]})
    assert store.change_token("parcels") != before and len(store.read("parcels")) == 1
    again = CliRunner().invoke(cli, ["db", "upgrade", database])
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_a_store_from_a_newer_release_is_refused(database):  # type: ignore[no-untyped-def]
    open_store(database)
    schema = database.rpartition("schema=")[2]
    _sql([f"UPDATE \"{schema}\".gis_meta SET value = '99' WHERE key = 'schema_version'"])
    with pytest.raises(StoreError, match="version 99, newer than this release"):
        open_store(database)
    res = CliRunner().invoke(cli, ["db", "upgrade", database])
    assert res.exit_code == 2 and "newer than this release" in res.output


def test_a_geopackage_store_has_nothing_to_upgrade(tmp_path):  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(cli, ["db", "upgrade", str(tmp_path / "store.gpkg")])
    assert res.exit_code == 0 and "nothing to do" in res.output


def test_a_version_2_store_gets_the_users_scopes(database):  # type: ignore[no-untyped-def]
    """Version 3 adds ``gis_users.units``: accounts made before scopes keep their users, who
    see the whole store until given units."""
    from gis.store import open_accounts

    schema = database.rpartition("schema=")[2]
    open_store(database)
    open_accounts(ROOT_DIR, database).add_user("so", "admin", "h", created_at=1.0)
    _sql([f'ALTER TABLE "{schema}".gis_users DROP COLUMN units',
          f"UPDATE \"{schema}\".gis_meta SET value = '2' WHERE key = 'schema_version'"])
    with pytest.raises(StoreError, match="version 2, this release needs 3"):
        open_store(database)
    res = CliRunner().invoke(cli, ["db", "upgrade", database])
    assert res.exit_code == 0 and "schema version 2 → 3" in res.output, res.output
    accounts = open_accounts(ROOT_DIR, database)
    assert accounts.user("so").units is None
    assert accounts.set_units("so", ("09574",)) and accounts.user("so").units == ("09574",)
