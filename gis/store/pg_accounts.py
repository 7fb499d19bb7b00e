"""The PostgreSQL account store: users, sessions, tokens, sign-in counters and the session key
in the store's own schema, so that every service machine of a province shares them.

Same rows and rules as the SQLite file (:mod:`gis.store.sqlite_accounts`): each method is one
transaction; those that check before they change (sign-in counters, the first key) serialise on
a transaction-scoped advisory lock of the schema, so concurrent workers on several machines
never pass a limit or make two keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from gis.errors import StoreError
from gis.store.accounts import AccountRow, AttemptLimit, TokenRow, pack_units, unpack_units
from gis.store.postgis import _first_line, _ident, _masked, _pool, split_location

__all__ = ["PostgresAccountStore"]

_USER = "u.name, u.role, u.password_hash, u.stamp, u.created_at, u.units"


def _row(row: Sequence[Any] | None) -> AccountRow | None:
    if row is None:
        return None
    return AccountRow(str(row[0]), str(row[1]), str(row[2]), int(row[3]), float(row[4]),
                      unpack_units(row[5]))


class PostgresAccountStore:
    """:class:`~gis.store.accounts.AccountStore` in the schema of a PostGIS store."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.url, self.schema = split_location(location)
        s = _ident(self.schema)
        self._users, self._sessions = f"{s}.gis_users", f"{s}.gis_sessions"
        self._tokens, self._counts = f"{s}.gis_tokens", f"{s}.gis_login_counts"
        self._secret = f"{s}.gis_secret"
        with self._write("open") as con:
            # workers starting together: one creates, the others find it done
            con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                        (f"gis-schema:{self.schema}",))
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            con.execute(f"CREATE TABLE IF NOT EXISTS {self._users} (name text PRIMARY KEY, "
                        "role text NOT NULL, password_hash text NOT NULL, "
                        "created_at double precision NOT NULL, stamp bigint NOT NULL DEFAULT 0, "
                        "units text)")
            con.execute(f"CREATE TABLE IF NOT EXISTS {self._tokens} (hash text PRIMARY KEY, "
                        f"name text NOT NULL REFERENCES {self._users} (name) ON DELETE CASCADE, "
                        "created_at double precision NOT NULL)")
            con.execute(f"CREATE TABLE IF NOT EXISTS {self._sessions} (hash text PRIMARY KEY, "
                        f"name text NOT NULL REFERENCES {self._users} (name) ON DELETE CASCADE, "
                        "expires_at double precision NOT NULL)")
            con.execute(f"CREATE TABLE IF NOT EXISTS {self._counts} (key text PRIMARY KEY, "
                        "count bigint NOT NULL, since double precision NOT NULL)")
            con.execute(f"CREATE TABLE IF NOT EXISTS {self._secret} (id int PRIMARY KEY "
                        "CHECK (id = 1), key bytea NOT NULL)")
            con.execute(f"CREATE INDEX IF NOT EXISTS gis_sessions_name ON {self._sessions} "
                        "(name)")
            con.execute(f"CREATE INDEX IF NOT EXISTS gis_tokens_name ON {self._tokens} (name)")

    @property
    def path(self) -> str:
        """Where the accounts are, for messages (password masked)."""
        return _masked(self.location)

    def __repr__(self) -> str:
        return f"PostgresAccountStore({self.path!r})"

    # --- connections ------------------------------------------------------------------------
    @contextmanager
    def _write(self, doing: str, *, serial: bool = False) -> Iterator[Any]:
        """One transaction (serialised on the schema's accounts lock when ``serial``)."""
        try:
            with _pool(self.url).connection() as con, con.transaction():
                if serial:
                    con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                                (f"gis-accounts:{self.schema}",))
                yield con
        except StoreError:
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("psycopg"):
                raise StoreError(f"accounts: cannot {doing}: {_first_line(exc)}",
                                 path=self.path) from exc
            raise

    def _one(self, doing: str, sql: str, params: Sequence[Any]) -> Any:
        with self._write(doing) as con:
            return con.execute(sql, params).fetchone()

    def _all(self, doing: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._write(doing) as con:
            return list(con.execute(sql, params).fetchall())

    # --- users ------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str, *, created_at: float,
                 units: Sequence[str] | None = None) -> bool:
        """Add a user with stamp 0 and a scope; False when the name is taken."""
        with self._write("add a user") as con:
            cur = con.execute(f"INSERT INTO {self._users} (name, role, password_hash, "
                              "created_at, stamp, units) VALUES (%s, %s, %s, %s, 0, %s) "
                              "ON CONFLICT (name) DO NOTHING",
                              (name, role, password_hash, created_at, pack_units(units)))
            return bool(cur.rowcount == 1)

    def user(self, name: str) -> AccountRow | None:
        """The user, or None."""
        return _row(self._one("read a user", f"SELECT {_USER} FROM {self._users} u "
                              "WHERE u.name = %s", (name,)))

    def users(self) -> list[AccountRow]:
        """Every user, by name."""
        rows = self._all("list the users", f"SELECT {_USER} FROM {self._users} u "
                         "ORDER BY u.name")
        return [r for r in map(_row, rows) if r is not None]

    def stamp(self, name: str) -> int | None:
        """The user's credential stamp (None: no such user)."""
        row = self._one("read a stamp", f"SELECT stamp FROM {self._users} WHERE name = %s",
                        (name,))
        return int(row[0]) if row else None

    def set_password_hash(self, name: str, password_hash: str) -> bool:
        """New hash, stamp + 1, the user's sessions and tokens ended; all together."""
        with self._write("change a password") as con:
            cur = con.execute(f"UPDATE {self._users} SET password_hash = %s, stamp = stamp + 1 "
                              "WHERE name = %s", (password_hash, name))
            if cur.rowcount == 0:
                return False
            con.execute(f"DELETE FROM {self._sessions} WHERE name = %s", (name,))
            con.execute(f"DELETE FROM {self._tokens} WHERE name = %s", (name,))
            return True

    def rehash_password(self, name: str, old_hash: str, new_hash: str) -> bool:
        """Replace the hash if it is still ``old_hash``; the stamp stays."""
        with self._write("rehash a password") as con:
            cur = con.execute(f"UPDATE {self._users} SET password_hash = %s WHERE name = %s "
                              "AND password_hash = %s", (new_hash, name, old_hash))
            return bool(cur.rowcount == 1)

    def set_role(self, name: str, role: str) -> bool:
        """New role, stamp + 1."""
        with self._write("change a role") as con:
            cur = con.execute(f"UPDATE {self._users} SET role = %s, stamp = stamp + 1 "
                              "WHERE name = %s", (role, name))
            return bool(cur.rowcount == 1)

    def set_units(self, name: str, units: Sequence[str] | None) -> bool:
        """New scope, stamp + 1."""
        with self._write("change a scope") as con:
            cur = con.execute(f"UPDATE {self._users} SET units = %s, stamp = stamp + 1 "
                              "WHERE name = %s", (pack_units(units), name))
            return bool(cur.rowcount == 1)

    def delete_user(self, name: str) -> bool:
        """Remove the user; their sessions and tokens go with them (foreign keys)."""
        with self._write("delete a user") as con:
            cur = con.execute(f"DELETE FROM {self._users} WHERE name = %s", (name,))
            return bool(cur.rowcount == 1)

    # --- browser sessions -------------------------------------------------------------------
    def create_session(self, session_hash: str, name: str, *, expires_at: float,
                       now: float) -> bool:
        """Store a session of an existing user; drop the expired ones."""
        with self._write("create a session") as con:
            con.execute(f"DELETE FROM {self._sessions} WHERE expires_at <= %s", (now,))
            cur = con.execute(f"INSERT INTO {self._sessions} (hash, name, expires_at) "
                              f"SELECT %s, name, %s FROM {self._users} WHERE name = %s "
                              "ON CONFLICT (hash) DO NOTHING", (session_hash, expires_at, name))
            return bool(cur.rowcount == 1)

    def session_user(self, session_hash: str, *, now: float) -> AccountRow | None:
        """The user of a live session."""
        return _row(self._one("read a session", f"SELECT {_USER} FROM {self._sessions} s "
                              f"JOIN {self._users} u ON u.name = s.name WHERE s.hash = %s "
                              "AND s.expires_at > %s", (session_hash, now)))

    def delete_session(self, session_hash: str) -> bool:
        """End one session."""
        with self._write("end a session") as con:
            cur = con.execute(f"DELETE FROM {self._sessions} WHERE hash = %s", (session_hash,))
            return bool(cur.rowcount == 1)

    def delete_sessions(self, name: str) -> int:
        """End every session of a user."""
        with self._write("end sessions") as con:
            return int(con.execute(f"DELETE FROM {self._sessions} WHERE name = %s",
                                   (name,)).rowcount)

    # --- bearer tokens ----------------------------------------------------------------------
    def create_token(self, token_hash: str, name: str, *, created_at: float) -> bool:
        """Store a token of an existing user."""
        with self._write("create a token") as con:
            cur = con.execute(f"INSERT INTO {self._tokens} (hash, name, created_at) "
                              f"SELECT %s, name, %s FROM {self._users} WHERE name = %s "
                              "ON CONFLICT (hash) DO NOTHING", (token_hash, created_at, name))
            return bool(cur.rowcount == 1)

    def token_user(self, token_hash: str) -> AccountRow | None:
        """The user of a token."""
        return _row(self._one("read a token", f"SELECT {_USER} FROM {self._tokens} t "
                              f"JOIN {self._users} u ON u.name = t.name WHERE t.hash = %s",
                              (token_hash,)))

    def tokens(self, name: str | None = None) -> list[TokenRow]:
        """Tokens of a user (everyone's for None), oldest first."""
        rows = self._all("list tokens", f"SELECT hash, name, created_at FROM {self._tokens} "
                         "WHERE %s::text IS NULL OR name = %s ORDER BY created_at, hash",
                         (name, name))
        return [TokenRow(str(h), str(n), float(c)) for h, n, c in rows]

    def revoke_token(self, token_hash: str) -> bool:
        """Revoke one token."""
        with self._write("revoke a token") as con:
            cur = con.execute(f"DELETE FROM {self._tokens} WHERE hash = %s", (token_hash,))
            return bool(cur.rowcount == 1)

    # --- sign-in counters -------------------------------------------------------------------
    def count_attempt(self, limits: Sequence[AttemptLimit], *, now: float,
                      window: float) -> bool:
        """Count an attempt on every counter unless one is at its limit (one serialised
        transaction)."""
        with self._write("count a sign-in attempt", serial=True) as con:
            con.execute(f"DELETE FROM {self._counts} WHERE since < %s", (now - window,))
            for limit in limits:
                row = con.execute(f"SELECT count FROM {self._counts} WHERE key = %s",
                                  (limit.key,)).fetchone()
                if row is not None and int(row[0]) >= limit.limit:
                    return False
            for limit in limits:
                con.execute(f"INSERT INTO {self._counts} AS c (key, count, since) "
                            "VALUES (%s, 1, %s) ON CONFLICT (key) DO UPDATE "
                            "SET count = c.count + 1", (limit.key, now))
            return True

    def attempts(self, key: str, *, now: float, window: float) -> int:
        """The attempts a counter holds within the window."""
        row = self._one("read a sign-in counter", f"SELECT count FROM {self._counts} "
                        "WHERE key = %s AND since >= %s", (key, now - window))
        return int(row[0]) if row else 0

    def forgive_attempt(self, *, clear: Sequence[str] = (),
                        take_back: Sequence[str] = ()) -> None:
        """Reset ``clear``, take one attempt back from ``take_back``; together."""
        with self._write("forgive a sign-in attempt", serial=True) as con:
            for key in clear:
                con.execute(f"DELETE FROM {self._counts} WHERE key = %s", (key,))
            for key in take_back:
                con.execute(f"UPDATE {self._counts} SET count = greatest(count - 1, 0) "
                            "WHERE key = %s", (key,))

    # --- the session-signing key ------------------------------------------------------------
    def secret_key(self, make: Callable[[], bytes]) -> bytes:
        """The key in the database; the first caller's ``make()`` when there is none yet."""
        with self._write("read the session key", serial=True) as con:
            row = con.execute(f"SELECT key FROM {self._secret} WHERE id = 1").fetchone()
            if row is None:
                key = make().strip()
                con.execute(f"INSERT INTO {self._secret} (id, key) VALUES (1, %s)", (key,))
                return key
            return bytes(row[0])
