"""Versions of the PostGIS store's own tables, and the migrations between them
(``gis db upgrade``).

The version is the ``schema_version`` row of ``gis_meta``. A new schema is created at
:data:`SCHEMA_VERSION`; a schema at an older version is refused on open with the command that
upgrades it, and :func:`upgrade` applies every migration from its version on, in one
transaction under the writers' lock (a failure leaves the old version, whole).

Versions:

1. (2026-12-07, first PostGIS store) ``gis_meta``; ``gis_layers`` with the dtypes as ``jsonb``
   (which sorts the keys: column order lost).
2. ``gis_layers.dtypes`` as ``json`` in the tables' own column order, ``gis_layers.geometry_type``,
   and ``gis_changes`` (the versions behind the change tokens).
3. ``gis_users.units``: each user's scope (2025 unit codes joined by commas; NULL: the whole
   store). The account tables are made by :mod:`gis.store.pg_accounts` on first use, so the
   column is added only where the table already exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gis.errors import StoreError
from gis.store.postgis import _ident

if TYPE_CHECKING:
    from gis.store.postgis import PostGISStore

__all__ = ["SCHEMA_VERSION", "Migration", "MIGRATIONS", "version_of", "create", "upgrade",
           "check"]

SCHEMA_VERSION = 3


@dataclass(frozen=True)
class Migration:
    """From ``version - 1`` to ``version``."""

    version: int
    summary: str
    apply: Callable[[PostGISStore, Any], None]


def version_of(store: PostGISStore, con: Any) -> int | None:
    """The schema's version (None: no store tables yet)."""
    exists = con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                         "AND table_name = 'gis_meta'", (store.schema,)).fetchone()
    if exists is None:
        return None
    row = con.execute(f"SELECT value FROM {store._t('gis_meta')} WHERE key = 'schema_version'"
                      ).fetchone()
    return int(row[0]) if row else 1  # version 1 wrote it only with the first layer


def create(store: PostGISStore, con: Any) -> None:
    """The store's own tables at :data:`SCHEMA_VERSION` (a new schema)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(store.schema)}")
    con.execute(f"CREATE TABLE {store._t('gis_meta')} (key text PRIMARY KEY, value text NOT NULL)")
    con.execute(f"CREATE TABLE {store._t('gis_layers')} (name text PRIMARY KEY, "
                "spatial boolean NOT NULL, dtypes json NOT NULL, geometry_type text)")
    con.execute(f"CREATE TABLE {store._t('gis_changes')} (name text PRIMARY KEY, "
                "version bigint NOT NULL)")
    con.execute(f"INSERT INTO {store._t('gis_meta')} (key, value) VALUES ('schema_version', %s)",
                (str(SCHEMA_VERSION),))


def _to_2(store: PostGISStore, con: Any) -> None:
    """dtypes as ``json`` in each table's column order; geometry types; ``gis_changes``."""
    registry = store._t("gis_layers")
    rows = con.execute(f"SELECT name, spatial, dtypes::text FROM {registry}").fetchall()
    con.execute(f"ALTER TABLE {registry} ALTER COLUMN dtypes TYPE json USING dtypes::json")
    con.execute(f"ALTER TABLE {registry} ADD COLUMN IF NOT EXISTS geometry_type text")
    for name, spatial, text in rows:
        dtypes = json.loads(text)
        order = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
            "table_name = %s ORDER BY ordinal_position", (store.schema, name))]
        ordered = {c: dtypes[c] for c in order if c in dtypes}
        ordered.update({c: t for c, t in dtypes.items() if c not in ordered})
        gtype = None
        if spatial:
            kinds = {r[0] for r in con.execute(
                f"SELECT DISTINCT upper(GeometryType(geom)) FROM {store._t(name)} "
                "WHERE geom IS NOT NULL")}
            gtype = ("MULTIPOLYGON" if kinds == {"POLYGON", "MULTIPOLYGON"} else
                     next(iter(kinds)) if len(kinds) == 1 else "GEOMETRY")
        con.execute(f"UPDATE {registry} SET dtypes = %s, geometry_type = %s WHERE name = %s",
                    (json.dumps(ordered), gtype, name))
    con.execute(f"CREATE TABLE IF NOT EXISTS {store._t('gis_changes')} "
                "(name text PRIMARY KEY, version bigint NOT NULL)")


def _to_3(store: PostGISStore, con: Any) -> None:
    """The users' scopes (``gis_users.units``), where the accounts table exists."""
    exists = con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                         "AND table_name = 'gis_users'", (store.schema,)).fetchone()
    if exists is not None:
        con.execute(f"ALTER TABLE {store._t('gis_users')} ADD COLUMN IF NOT EXISTS units text")


MIGRATIONS = (Migration(2, "column order kept, geometry types, change versions", _to_2),
              Migration(3, "users' scopes by 2025 unit", _to_3))


def check(store: PostGISStore, con: Any) -> None:
    """On open: create a new schema, refuse an older or newer one with what to do."""
    version = version_of(store, con)
    if version is None:
        create(store, con)
    elif version < SCHEMA_VERSION:
        raise StoreError(f"the database's store schema {store.schema!r} is at version "
                         f"{version}, this release needs {SCHEMA_VERSION}: run "
                         f"`gis db upgrade` (GIS_STORE={store.path})", path=store.path)
    elif version > SCHEMA_VERSION:
        raise StoreError(f"the store schema {store.schema!r} is at version {version}, newer "
                         f"than this release knows ({SCHEMA_VERSION}); upgrade gis",
                         path=store.path)


def upgrade(store: PostGISStore, con: Any) -> list[Migration]:
    """Every migration from the schema's version on, inside the caller's transaction; the
    ones applied."""
    version = version_of(store, con)
    if version is None:
        create(store, con)
        return []
    if version > SCHEMA_VERSION:
        raise StoreError(f"the store schema is at version {version}, newer than this release "
                         f"knows ({SCHEMA_VERSION}); upgrade gis", path=store.path)
    applied = [m for m in MIGRATIONS if m.version > version]
    for migration in applied:
        migration.apply(store, con)
    con.execute(f"INSERT INTO {store._t('gis_meta')} (key, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (str(SCHEMA_VERSION),))
    return applied
