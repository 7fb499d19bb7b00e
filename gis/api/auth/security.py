"""Users, roles, passwords, tokens, sessions and sign-in rate limits of the service.

Kept in ``<data_dir>/service.db`` (SQLite, WAL), apart from the GeoPackage store: the store is
copied and opened in QGIS by planners, password hashes must not travel with it. Passwords are
hashed with argon2 (argon2-cffi); bearer tokens and session ids are random and stored as
SHA-256 hashes, so a copy of the database does not let anyone sign in.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gis.core.enums import ParsedEnum
from gis.errors import AuthError

__all__ = ["Role", "Permission", "User", "UserDB", "SignIn", "AuthError", "load_secret_key",
           "csrf_token"]


class Role(ParsedEnum):
    VIEWER = "viewer"        # land officer: maps, dashboard, cases (read)
    INSPECTOR = "inspector"  # flags and updates violation cases
    PLANNER = "planner"      # exports layers
    ADMIN = "admin"          # uploads data, manages users, everything

    @classmethod
    def what(cls) -> str:
        return "role"

    @classmethod
    def error(cls, message: str, value: object) -> Exception:
        return AuthError(message, field="role")


class Permission(str, enum.Enum):
    READ = "read"
    WRITE = "write"
    EXPORT = "export"
    ADMIN = "admin"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.INSPECTOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.PLANNER: frozenset({Permission.READ, Permission.EXPORT}),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, name TEXT NOT NULL,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS login_counts (key TEXT PRIMARY KEY, count INTEGER NOT NULL,
    since REAL NOT NULL);
DROP TABLE IF EXISTS login_failures;
"""

_HASHER = PasswordHasher()  # argon2id, the library's recommended parameters
_WINDOW = 15 * 60.0


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise AuthError("a user name is 1-64 letters, digits or . _ - @", field="name", value=name)
    return name


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise AuthError("a password needs at least 8 characters", field="password")


@dataclass(frozen=True)
class SignIn:
    """The outcome of :meth:`UserDB.sign_in`: the user (None for a wrong name or password), or
    ``limited`` when the attempt was refused before the password was checked."""

    user: User | None
    limited: bool = False
    stamp: int | None = None  # the user's credential stamp when the password was checked


class UserDB:
    """The service's accounts (``service.db``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as con:
            con.executescript(_SCHEMA)
            con.execute("BEGIN IMMEDIATE")  # workers starting together: one adds the column
            try:
                columns = {row[1] for row in con.execute("PRAGMA table_info(users)")}
                if "stamp" not in columns:  # databases made before credential stamps
                    con.execute("ALTER TABLE users ADD COLUMN stamp INTEGER NOT NULL DEFAULT 0")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            yield con
        finally:
            con.close()

    def _reader(self) -> sqlite3.Connection:
        """This thread's kept read connection: opening one costs ~0.8 ms, a read on it ~10 µs
        (autocommit, WAL: each statement sees the last commit of any process)."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            con.execute("PRAGMA busy_timeout=30000")
        return con

    # --- accounts -------------------------------------------------------------------------
    def add(self, name: str, role: Role | str, password: str) -> User:
        name, role = _check_name(name), Role.parse(role) if isinstance(role, str) else role
        _check_password(password)
        with self._connect() as con:
            try:
                con.execute("INSERT INTO users (name, role, password_hash, created_at) "
                            "VALUES (?, ?, ?, ?)", (name, role.value, _HASHER.hash(password),
                                                    time.time()))
            except sqlite3.IntegrityError:
                raise AuthError(f"user {name!r} exists; change the password with "
                                "`gis users passwd`", field="name", value=name) from None
        return User(name, role)

    def get(self, name: str) -> User | None:
        with self._connect() as con:
            row = con.execute("SELECT name, role FROM users WHERE name = ?", (name,)).fetchone()
        return User(row[0], Role(row[1])) if row else None

    def list(self) -> list[User]:
        with self._connect() as con:
            rows = con.execute("SELECT name, role FROM users ORDER BY name").fetchall()
        return [User(n, Role(r)) for n, r in rows]

    def stamp(self, name: str) -> int | None:
        """The user's credential stamp, bumped by every password or role change (None: no such
        user). Workers keep verified HTTP Basic pairs with the stamp they were verified at and
        compare it on each request: one primary-key read on a kept connection."""
        row = self._reader().execute("SELECT stamp FROM users WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else None

    def set_password(self, name: str, password: str) -> None:
        """New password; every session and token of the user ends, and every worker's cached
        HTTP Basic pair with it (the stamp changes)."""
        _check_password(password)
        with self._connect() as con:
            cur = con.execute("UPDATE users SET password_hash = ?, stamp = stamp + 1 "
                              "WHERE name = ?", (_HASHER.hash(password), name))
            if cur.rowcount == 0:
                raise AuthError(f"no user {name!r}", field="name", value=name)
            con.execute("DELETE FROM sessions WHERE name = ?", (name,))
            con.execute("DELETE FROM tokens WHERE name = ?", (name,))

    def set_role(self, name: str, role: Role | str) -> None:
        role = Role.parse(role) if isinstance(role, str) else role
        with self._connect() as con:
            if con.execute("UPDATE users SET role = ?, stamp = stamp + 1 WHERE name = ?",
                           (role.value, name)).rowcount == 0:
                raise AuthError(f"no user {name!r}", field="name", value=name)

    def verify(self, name: str, password: str) -> User | None:
        """The user if the password is right (argon2; rehashed when parameters changed)."""
        return self.verify_stamped(name, password)[0]

    def verify_stamped(self, name: str, password: str) -> tuple[User | None, int | None]:
        """:meth:`verify` and the stamp the user had when the password was checked (read with
        the hash, so a change made meanwhile shows as a newer stamp on the next request)."""
        with self._connect() as con:
            row = con.execute("SELECT role, password_hash, stamp FROM users WHERE name = ?",
                              (name,)).fetchone()
        if row is None:
            _HASHER.hash(password)  # same work for unknown names: no timing oracle
            return None, None
        try:
            _HASHER.verify(row[1], password)
        except (VerificationError, InvalidHashError):
            return None, int(row[2])
        if _HASHER.check_needs_rehash(row[1]):
            with self._connect() as con:  # same password: the stamp stays
                con.execute("UPDATE users SET password_hash = ? WHERE name = ? AND "
                            "password_hash = ?", (_HASHER.hash(password), name, row[1]))
        return User(name, Role(row[0])), int(row[2])

    # --- bearer tokens --------------------------------------------------------------------
    def new_token(self, name: str) -> str:
        if self.get(name) is None:
            raise AuthError(f"no user {name!r}; add it with `gis users add`", field="name")
        token = "gis_" + secrets.token_urlsafe(32)
        with self._connect() as con:
            con.execute("INSERT INTO tokens (hash, name, created_at) VALUES (?, ?, ?)",
                        (_sha(token), name, time.time()))
        return token

    def token_user(self, token: str) -> User | None:
        with self._connect() as con:
            row = con.execute("SELECT u.name, u.role FROM tokens t JOIN users u ON u.name = t.name "
                              "WHERE t.hash = ?", (_sha(token),)).fetchone()
        return User(row[0], Role(row[1])) if row else None

    # --- browser sessions -----------------------------------------------------------------
    def new_session(self, name: str, hours: float) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._connect() as con:
            con.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            con.execute("INSERT INTO sessions (hash, name, expires_at) VALUES (?, ?, ?)",
                        (_sha(sid), name, now + hours * 3600))
        return sid

    def session_user(self, sid: str) -> User | None:
        with self._connect() as con:
            row = con.execute("SELECT u.name, u.role FROM sessions s JOIN users u "
                              "ON u.name = s.name WHERE s.hash = ? AND s.expires_at > ?",
                              (_sha(sid), time.time())).fetchone()
        return User(row[0], Role(row[1])) if row else None

    def end_session(self, sid: str) -> None:
        with self._connect() as con:
            con.execute("DELETE FROM sessions WHERE hash = ?", (_sha(sid),))

    # --- sign-in rate limit ---------------------------------------------------------------
    def sign_in(self, name: str, password: str, client: str, *, per_name: int,
                per_address: int, scope: str = "login") -> SignIn:
        """Check a password under the sign-in limits: at most ``per_name`` failed attempts per
        (name, client address) and ``per_address`` per address, in 15 minutes from the first.

        The attempt is counted *before* the password is checked, both counters in one
        ``BEGIN IMMEDIATE`` transaction, so concurrent attempts (threads, workers) never let more
        than the limit through; a refused attempt is not counted (a desktop GIS retrying a stale
        password cannot lock out its whole office), and a right password takes its attempt back
        and clears the (name, address) count. ``scope`` keeps HTTP Basic and the sign-in form
        apart.
        """
        keys = (f"{scope}:pair:{client}:{name}", f"{scope}:addr:{client}")
        if not self._reserve(keys, (per_name, per_address)):
            return SignIn(None, limited=True)
        user, stamp = self.verify_stamped(name, password)
        if user is not None:
            with self._connect() as con:
                con.execute("DELETE FROM login_counts WHERE key = ?", (keys[0],))
                con.execute("UPDATE login_counts SET count = max(count - 1, 0) WHERE key = ?",
                            (keys[1],))
        return SignIn(user, stamp=stamp)

    def _reserve(self, keys: tuple[str, ...], limits: tuple[int, ...]) -> bool:
        now = time.time()
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute("DELETE FROM login_counts WHERE since < ?", (now - _WINDOW,))
                counts = [con.execute("SELECT count FROM login_counts WHERE key = ?",
                                      (k,)).fetchone() for k in keys]
                if any(c is not None and c[0] >= limit for c, limit in zip(counts, limits)):
                    con.execute("ROLLBACK")
                    return False
                for key in keys:
                    con.execute("INSERT INTO login_counts (key, count, since) VALUES (?, 1, ?) "
                                "ON CONFLICT (key) DO UPDATE SET count = count + 1", (key, now))
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        return True


def load_secret_key(data_dir: Path, configured: str | None = None) -> bytes:
    """The session-signing key: the setting, else ``<data_dir>/secret.key``, created on first
    run with 32 random bytes and mode 0600 (never a constant in the code)."""
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret.key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # first worker wins; the others read its key
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_bytes().strip()


def csrf_token(secret: bytes, session_id: str) -> str:
    """The CSRF token of a session: an HMAC of its id (double submit, nothing stored)."""
    return hmac.new(secret, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()
