"""The PostGIS backend of the API tests (``GIS_TEST_BACKEND=postgis``): one template schema
per source GeoPackage and session, a clone of it per service. Kept apart from ``conftest.py``,
which pytest imports under a second name: the templates and clones made must be one list."""

from __future__ import annotations

import uuid
from pathlib import Path

TEMPLATES: dict[Path, str] = {}  # source GeoPackage → template schema
CLONES: list[str] = []  # schemas cloned and not dropped yet, oldest first


def location(schema: str) -> str:
    from tests.store.conftest import TEST_DATABASE

    return f"{TEST_DATABASE}?schema={schema}"


def template(source: Path) -> str:
    """The template schema holding ``source`` (copied on first use in this session)."""
    from gis.store import open_store
    from gis.store.copy import copy_store
    from tests.store.conftest import require_postgis

    source = Path(source).resolve()
    if source not in TEMPLATES:
        require_postgis()
        schema = f"api_tmpl_{uuid.uuid4().hex[:12]}"
        TEMPLATES[source] = schema  # dropped at the end of the session even if the copy fails
        result = copy_store(open_store(str(source)), open_store(location(schema)))
        assert result.differences == [], result.differences
    return TEMPLATES[source]


#: one statement, run by the server: every table of the template with its rows, defaults,
#: constraints and indexes (``LIKE … INCLUDING ALL``), identity counters set past the copied
#: rows' largest value
_CLONE_SQL = """
DO $clone$
DECLARE
  src text := {src};
  dst text := {dst};
  t record;
  c record;
BEGIN
  EXECUTE format('CREATE SCHEMA %I', dst);
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = src ORDER BY tablename LOOP
    EXECUTE format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING ALL)',
                   dst, t.tablename, src, t.tablename);
    EXECUTE format('INSERT INTO %I.%I OVERRIDING SYSTEM VALUE SELECT * FROM %I.%I',
                   dst, t.tablename, src, t.tablename);
    FOR c IN SELECT a.attname FROM pg_attribute a
             WHERE a.attrelid = format('%I.%I', dst, t.tablename)::regclass
               AND a.attidentity <> '' AND NOT a.attisdropped LOOP
      EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), '
                     'coalesce((SELECT max(%I) FROM %I.%I), 0) + 1, false)',
                     format('%I.%I', dst, t.tablename), c.attname, c.attname,
                     dst, t.tablename);
    END LOOP;
  END LOOP;
END
$clone$
"""


def clone(template: str) -> str:
    """A new store location: a schema cloned from ``template`` (dropped when the test, module
    or session that made it ends, see tests/api/conftest.py)."""
    import psycopg
    from psycopg import sql

    from tests.store.conftest import TEST_DATABASE

    schema = f"api_{uuid.uuid4().hex[:12]}"
    CLONES.append(schema)
    with psycopg.connect(TEST_DATABASE, autocommit=True) as con:
        con.execute(sql.SQL(_CLONE_SQL).format(src=sql.Literal(template), dst=sql.Literal(schema)))
    return location(schema)


def drop(schemas: list[str]) -> None:
    from tests.store.conftest import drop_schema

    for schema in schemas:
        drop_schema(schema)
