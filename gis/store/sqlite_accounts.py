"""The SQLite account store: ``<data_dir>/service.db`` (WAL) and ``<data_dir>/secret.key``.

Each thread keeps one connection (opening one costs ~0.8 ms, a read on it ~10 µs); in
autocommit mode under WAL every read sees the last commit of any process, and every change of
several rows runs in one ``BEGIN IMMEDIATE`` transaction, so writers in other processes wait
for it (up to 30 s) instead of interleaving.

The file is the one every earlier release wrote; :func:`_migrate` upgrades it on open:

- version 0, first schema: ``users`` without ``stamp``, sign-in failures as one row per attempt
  in ``login_failures``;
- version 0, credential stamps: ``users.stamp``, counters in ``login_counts``;
- version 2 (``PRAGMA user_version``): the same tables, indexes on the owner of sessions and
  tokens. Failures counted by the first schema are dropped (they expire in 15 minutes anyway).
- version 3: ``users.units``, the user's scope (2025 unit codes joined by commas; NULL: the
  whole store).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gis.errors import StoreError
from gis.store.accounts import AccountRow, AttemptLimit, TokenRow, pack_units, unpack_units

__all__ = ["SQLiteAccountStore", "SCHEMA_VERSION"]

SCHEMA_VERSION = 3

_TABLES = (
    "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
    "password_hash TEXT NOT NULL, created_at REAL NOT NULL, stamp INTEGER NOT NULL DEFAULT 0, units TEXT)",
    "CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "created_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "expires_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS login_counts (key TEXT PRIMARY KEY, count INTEGER NOT NULL, "
    "since REAL NOT NULL)",
)
_USER = "u.name, u.role, u.password_hash, u.stamp, u.created_at, u.units"


def _row(row: Sequence[Any] | None) -> AccountRow | None:
    if row is None:
        return None
    return AccountRow(str(row[0]), str(row[1]), str(row[2]), int(row[3]), float(row[4]),
                      unpack_units(row[5]))


def _use_wal(con: sqlite3.Connection, wait: float = 30.0) -> None:
    """Put the file in WAL mode once. The switch needs the file to itself and SQLite does not
    wait for it (no busy handler: workers opening an older file together got "database is
    locked"), so a worker that finds another one holding the file tries again until the mode
    is WAL or ``wait`` seconds have passed."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            con.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class SQLiteAccountStore:
    """:class:`~gis.store.accounts.AccountStore` in one SQLite file."""

    def __init__(self, path: str | os.PathLike[str], *,
                 secret_path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path)
        self.secret_path = Path(secret_path) if secret_path else self.path.with_name("secret.key")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._errors("open"):
            con = self._con()
            _use_wal(con)
            _migrate(con, self.path)

    def __repr__(self) -> str:
        return f"SQLiteAccountStore({str(self.path)!r})"

    # --- connections ------------------------------------------------------------------------
    def _con(self) -> sqlite3.Connection:
        """This thread's connection (a new one after a fork: a connection must not cross
        processes)."""
        kept: tuple[int, sqlite3.Connection] | None = getattr(self._local, "con", None)
        if kept is not None and kept[0] == os.getpid():
            return kept[1]
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        con.execute("PRAGMA busy_timeout=30000")
        self._local.con = (os.getpid(), con)
        return con

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"accounts: cannot {doing}: {exc}", path=str(self.path)) from exc

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed when the block ends, rolled back if
        it raises."""
        with self._errors(doing):
            con = self._con()
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _one(self, doing: str, sql: str, params: Sequence[Any]) -> Any:
        with self._errors(doing):
            return self._con().execute(sql, params).fetchone()

    def _all(self, doing: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._errors(doing):
            return self._con().execute(sql, params).fetchall()

    # --- users ------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str, *, created_at: float,
                 units: Sequence[str] | None = None) -> bool:
        """Add a user with stamp 0 and a scope; False when the name is taken."""
        with self._write("add a user") as con:
            cur = con.execute("INSERT INTO users (name, role, password_hash, created_at, stamp, "
                              "units) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (name) DO NOTHING",
                              (name, role, password_hash, created_at, pack_units(units)))
            return cur.rowcount == 1

    def user(self, name: str) -> AccountRow | None:
        """The user, or None."""
        return _row(self._one("read a user", f"SELECT {_USER} FROM users u WHERE u.name = ?",
                              (name,)))

    def users(self) -> list[AccountRow]:
        """Every user, by name."""
        rows = self._all("list the users", f"SELECT {_USER} FROM users u ORDER BY u.name")
        return [r for r in map(_row, rows) if r is not None]

    def stamp(self, name: str) -> int | None:
        """The user's credential stamp (None: no such user)."""
        row = self._one("read a stamp", "SELECT stamp FROM users WHERE name = ?", (name,))
        return int(row[0]) if row else None

    def set_password_hash(self, name: str, password_hash: str) -> bool:
        """New hash, stamp + 1, the user's sessions and tokens ended; all together."""
        with self._write("change a password") as con:
            cur = con.execute("UPDATE users SET password_hash = ?, stamp = stamp + 1 "
                              "WHERE name = ?", (password_hash, name))
            if cur.rowcount == 0:
                return False
            con.execute("DELETE FROM sessions WHERE name = ?", (name,))
            con.execute("DELETE FROM tokens WHERE name = ?", (name,))
            return True

    def rehash_password(self, name: str, old_hash: str, new_hash: str) -> bool:
        """Replace the hash if it is still ``old_hash``; the stamp stays."""
        with self._write("rehash a password") as con:
            return con.execute("UPDATE users SET password_hash = ? WHERE name = ? AND "
                               "password_hash = ?", (new_hash, name, old_hash)).rowcount == 1

    def set_role(self, name: str, role: str) -> bool:
        """New role, stamp + 1."""
        with self._write("change a role") as con:
            return con.execute("UPDATE users SET role = ?, stamp = stamp + 1 WHERE name = ?",
                               (role, name)).rowcount == 1

    def set_units(self, name: str, units: Sequence[str] | None) -> bool:
        """New scope, stamp + 1."""
        with self._write("change a scope") as con:
            return con.execute("UPDATE users SET units = ?, stamp = stamp + 1 WHERE name = ?",
                               (pack_units(units), name)).rowcount == 1

    def delete_user(self, name: str) -> bool:
        """Remove the user, their sessions and tokens, together."""
        with self._write("delete a user") as con:
            con.execute("DELETE FROM sessions WHERE name = ?", (name,))
            con.execute("DELETE FROM tokens WHERE name = ?", (name,))
            return con.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 1

    # --- browser sessions -------------------------------------------------------------------
    def create_session(self, session_hash: str, name: str, *, expires_at: float,
                       now: float) -> bool:
        """Store a session of an existing user; drop the expired ones."""
        with self._write("create a session") as con:
            con.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            cur = con.execute("INSERT INTO sessions (hash, name, expires_at) SELECT ?, ?, ? "
                              "WHERE EXISTS (SELECT 1 FROM users WHERE name = ?)",
                              (session_hash, name, expires_at, name))
            return cur.rowcount == 1

    def session_user(self, session_hash: str, *, now: float) -> AccountRow | None:
        """The user of a live session."""
        return _row(self._one("read a session", f"SELECT {_USER} FROM sessions s JOIN users u "
                              "ON u.name = s.name WHERE s.hash = ? AND s.expires_at > ?",
                              (session_hash, now)))

    def delete_session(self, session_hash: str) -> bool:
        """End one session."""
        with self._write("end a session") as con:
            return con.execute("DELETE FROM sessions WHERE hash = ?",
                               (session_hash,)).rowcount == 1

    def delete_sessions(self, name: str) -> int:
        """End every session of a user."""
        with self._write("end sessions") as con:
            return con.execute("DELETE FROM sessions WHERE name = ?", (name,)).rowcount

    # --- bearer tokens ----------------------------------------------------------------------
    def create_token(self, token_hash: str, name: str, *, created_at: float) -> bool:
        """Store a token of an existing user."""
        with self._write("create a token") as con:
            cur = con.execute("INSERT INTO tokens (hash, name, created_at) SELECT ?, ?, ? "
                              "WHERE EXISTS (SELECT 1 FROM users WHERE name = ?)",
                              (token_hash, name, created_at, name))
            return cur.rowcount == 1

    def token_user(self, token_hash: str) -> AccountRow | None:
        """The user of a token."""
        return _row(self._one("read a token", f"SELECT {_USER} FROM tokens t JOIN users u "
                              "ON u.name = t.name WHERE t.hash = ?", (token_hash,)))

    def tokens(self, name: str | None = None) -> list[TokenRow]:
        """Tokens of a user (everyone's for None), oldest first."""
        rows = self._all("list tokens", "SELECT hash, name, created_at FROM tokens "
                         "WHERE ? IS NULL OR name = ? ORDER BY created_at, hash", (name, name))
        return [TokenRow(str(h), str(n), float(c)) for h, n, c in rows]

    def revoke_token(self, token_hash: str) -> bool:
        """Revoke one token."""
        with self._write("revoke a token") as con:
            return con.execute("DELETE FROM tokens WHERE hash = ?", (token_hash,)).rowcount == 1

    # --- sign-in counters -------------------------------------------------------------------
    def count_attempt(self, limits: Sequence[AttemptLimit], *, now: float,
                      window: float) -> bool:
        """Count an attempt on every counter unless one is at its limit (one transaction)."""
        with self._write("count a sign-in attempt") as con:
            con.execute("DELETE FROM login_counts WHERE since < ?", (now - window,))
            for limit in limits:
                row = con.execute("SELECT count FROM login_counts WHERE key = ?",
                                  (limit.key,)).fetchone()
                if row is not None and int(row[0]) >= limit.limit:
                    return False
            con.executemany("INSERT INTO login_counts (key, count, since) VALUES (?, 1, ?) "
                            "ON CONFLICT (key) DO UPDATE SET count = count + 1",
                            [(limit.key, now) for limit in limits])
            return True

    def attempts(self, key: str, *, now: float, window: float) -> int:
        """The attempts a counter holds within the window."""
        row = self._one("read a sign-in counter", "SELECT count FROM login_counts "
                        "WHERE key = ? AND since >= ?", (key, now - window))
        return int(row[0]) if row else 0

    def forgive_attempt(self, *, clear: Sequence[str] = (),
                        take_back: Sequence[str] = ()) -> None:
        """Reset ``clear``, take one attempt back from ``take_back``; together."""
        with self._write("forgive a sign-in attempt") as con:
            con.executemany("DELETE FROM login_counts WHERE key = ?", [(k,) for k in clear])
            con.executemany("UPDATE login_counts SET count = max(count - 1, 0) WHERE key = ?",
                            [(k,) for k in take_back])

    # --- the session-signing key ------------------------------------------------------------
    def secret_key(self, make: Callable[[], bytes]) -> bytes:
        """``secret.key`` beside the database (mode 0600), written by the first caller."""
        path = self.secret_path
        if not path.exists():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, make())
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)  # the first worker wins; the others read its key
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        return path.read_bytes().strip()


def _migrate(con: sqlite3.Connection, path: Path) -> None:
    """Bring the file to :data:`SCHEMA_VERSION` in one transaction (workers starting together:
    one migrates, the others find it done)."""
    if _version(con) == SCHEMA_VERSION:
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        version = _version(con)
        if version > SCHEMA_VERSION:
            raise StoreError(f"the accounts file has schema version {version}, newer than this "
                             f"release knows ({SCHEMA_VERSION}); upgrade gis", path=str(path))
        if version < SCHEMA_VERSION:
            for statement in _TABLES:
                con.execute(statement)
            columns = {row[1] for row in con.execute("PRAGMA table_info(users)")}
            if "stamp" not in columns:  # files made before credential stamps
                con.execute("ALTER TABLE users ADD COLUMN stamp INTEGER NOT NULL DEFAULT 0")
            if "units" not in columns:  # files made before scopes (version 2)
                con.execute("ALTER TABLE users ADD COLUMN units TEXT")
            con.execute("DROP TABLE IF EXISTS login_failures")  # first schema's counters
            con.execute("CREATE INDEX IF NOT EXISTS sessions_name ON sessions (name)")
            con.execute("CREATE INDEX IF NOT EXISTS tokens_name ON tokens (name)")
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _version(con: sqlite3.Connection) -> int:
    return int(con.execute("PRAGMA user_version").fetchone()[0])
