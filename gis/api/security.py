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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gis.errors import GisError

__all__ = ["Role", "Permission", "User", "UserDB", "AuthError", "load_secret_key", "csrf_token"]


class AuthError(GisError, PermissionError):
    """Sign-in refused, or a role that may not do this."""


class Role(str, enum.Enum):
    VIEWER = "viewer"        # land officer: maps, dashboard, cases (read)
    INSPECTOR = "inspector"  # flags and updates violation cases
    PLANNER = "planner"      # exports layers
    ADMIN = "admin"          # uploads data, manages users, everything

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise AuthError(f"unknown role {value!r}; valid: {', '.join(r.value for r in cls)}",
                            field="role") from None


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
CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at);
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


class UserDB:
    """The service's accounts (``service.db``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            yield con
        finally:
            con.close()

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

    def set_password(self, name: str, password: str) -> None:
        """New password; every session and token of the user ends."""
        _check_password(password)
        with self._connect() as con:
            cur = con.execute("UPDATE users SET password_hash = ? WHERE name = ?",
                              (_HASHER.hash(password), name))
            if cur.rowcount == 0:
                raise AuthError(f"no user {name!r}", field="name", value=name)
            con.execute("DELETE FROM sessions WHERE name = ?", (name,))
            con.execute("DELETE FROM tokens WHERE name = ?", (name,))

    def set_role(self, name: str, role: Role | str) -> None:
        role = Role.parse(role) if isinstance(role, str) else role
        with self._connect() as con:
            if con.execute("UPDATE users SET role = ? WHERE name = ?",
                           (role.value, name)).rowcount == 0:
                raise AuthError(f"no user {name!r}", field="name", value=name)

    def verify(self, name: str, password: str) -> User | None:
        """The user if the password is right (argon2; rehashed when parameters changed)."""
        with self._connect() as con:
            row = con.execute("SELECT role, password_hash FROM users WHERE name = ?",
                              (name,)).fetchone()
        if row is None:
            _HASHER.hash(password)  # same work for unknown names: no timing oracle
            return None
        try:
            _HASHER.verify(row[1], password)
        except (VerificationError, InvalidHashError):
            return None
        if _HASHER.check_needs_rehash(row[1]):
            with self._connect() as con:
                con.execute("UPDATE users SET password_hash = ? WHERE name = ?",
                            (_HASHER.hash(password), name))
        return User(name, Role(row[0]))

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
    def failures(self, key: str) -> int:
        with self._connect() as con:
            return int(con.execute("SELECT count(*) FROM login_failures WHERE key = ? AND at > ?",
                                   (key, time.time() - _WINDOW)).fetchone()[0])

    def record_failure(self, key: str) -> None:
        now = time.time()
        with self._connect() as con:
            con.execute("DELETE FROM login_failures WHERE at < ?", (now - _WINDOW,))
            con.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)", (key, now))

    def clear_failures(self, key: str) -> None:
        with self._connect() as con:
            con.execute("DELETE FROM login_failures WHERE key = ?", (key,))


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
