"""Backends of the Store conformance suite (tests/store/test_conformance*.py).

A backend adds itself to ``BACKENDS`` and says how a fresh store of it is opened in
:func:`store_location`; every ``location`` test then runs against it.

The PostGIS backend needs a PostgreSQL server with PostGIS: ``GIS_TEST_DATABASE`` (default
``postgresql://postgres@127.0.0.1:5432/gis_test``, created when missing). Each test gets its own
schema, dropped afterwards. Without a server the PostGIS tests skip and say why, unless
``GIS_REQUIRE_POSTGIS=1`` (set by ``.ci/run``), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

BACKENDS = ["geopackage", "postgis"]
TEST_DATABASE = os.environ.get("GIS_TEST_DATABASE",
                               "postgresql://postgres@127.0.0.1:5432/gis_test")
_UNAVAILABLE: list[str] = []


def postgis_unavailable() -> str | None:
    """Why the PostGIS tests cannot run here (None when they can); asked once per session."""
    if _UNAVAILABLE:
        return _UNAVAILABLE[0] or None
    reason = ""
    try:
        import psycopg
        from psycopg import sql

        base, _, name = TEST_DATABASE.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as con:
            if con.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                           (name,)).fetchone() is None:
                con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with psycopg.connect(TEST_DATABASE, autocommit=True, connect_timeout=5) as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except Exception as exc:  # no server, no PostGIS, no psycopg
        reason = (f"no PostgreSQL with PostGIS at {TEST_DATABASE} ({exc!s:.200}); "
                  "set GIS_TEST_DATABASE or install postgresql-15-postgis-3")
    _UNAVAILABLE.append(reason)
    return reason or None


def drop_schema(schema: str) -> None:
    """Remove a test store's schema from the test database."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(TEST_DATABASE, autocommit=True) as con:
        con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def store_location(backend: str, folder: Path) -> str:
    """Where a fresh, empty store of ``backend`` lives for one test."""
    if backend == "geopackage":
        return str(folder / "store.gpkg")
    if backend == "postgis":
        return f"{TEST_DATABASE}?schema=t_{uuid.uuid4().hex[:12]}"
    raise AssertionError(backend)  # pragma: no cover - a new backend says how it is opened


def require_postgis() -> None:
    """Skip (or fail, under ``GIS_REQUIRE_POSTGIS=1``) when there is no PostGIS to test."""
    reason = postgis_unavailable()
    if reason:
        if os.environ.get("GIS_REQUIRE_POSTGIS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(params=BACKENDS)
def location(request, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh store location, once per backend."""
    if request.param == "postgis":
        require_postgis()
    where = store_location(request.param, tmp_path)
    yield where
    if request.param == "postgis":
        drop_schema(where.rpartition("schema=")[2])


def accounts_location(backend: str, folder: Path) -> tuple[Path, str]:
    """Where a fresh, empty account store of ``backend`` lives for one test: the service's
    data folder and the store location, as ``open_accounts`` takes them."""
    return folder / "data", store_location(backend, folder)


@pytest.fixture(params=BACKENDS)
def accounts_at(request, tmp_path) -> Iterator[tuple[Path, str]]:  # type: ignore[no-untyped-def]
    """A fresh account store location (data folder, store location), once per backend."""
    if request.param == "postgis":
        require_postgis()
    where = accounts_location(request.param, tmp_path)
    yield where
    if request.param == "postgis":
        drop_schema(where[1].rpartition("schema=")[2])


@pytest.fixture
def database(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh PostGIS store location (for tests of that backend alone), dropped afterwards."""
    require_postgis()
    location = store_location("postgis", tmp_path)
    yield location
    drop_schema(location.rpartition("schema=")[2])
