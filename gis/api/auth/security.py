"""Users, roles, passwords, tokens, sessions and sign-in rate limits of the service: the policy.

The rows live in an :class:`~gis.store.accounts.AccountStore` (``open_accounts``: for a
GeoPackage deployment ``<data_dir>/service.db``, apart from the GeoPackage, which planners copy
and open in QGIS: password hashes must not travel with it). This module decides what is stored:
passwords hashed with argon2 (argon2-cffi); bearer tokens and session ids random and stored as
SHA-256 hashes, so a copy of the accounts does not let anyone sign in; the session-signing key
random, made on first use.
"""

from __future__ import annotations

import builtins
import enum
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gis.core.enums import ParsedEnum
from gis.errors import AuthError
from gis.store.accounts import AccountRow, AccountStore, AttemptLimit

__all__ = ["Role", "Permission", "User", "UserDB", "SignIn", "TokenInfo", "AuthError",
           "load_secret_key", "csrf_token"]


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
    """A signed-in officer: their role, and their scope, the 2025 commune-level units they
    work in (``units``; None: the whole store, a province department)."""

    name: str
    role: Role
    units: tuple[str, ...] | None = None

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    @property
    def scoped(self) -> bool:
        """True for an officer of some units (a commune office), False for the whole store."""
        return self.units is not None

    def sees(self, unit_code: object) -> bool:
        """Whether a row of this unit is in the user's scope (a row without a unit is not,
        for a scoped user: it cannot be shown to belong to their units)."""
        return self.units is None or (isinstance(unit_code, str) and unit_code in self.units)

    @property
    def scope_key(self) -> str:
        """The scope as a short text for cache keys and ETags (``*``: everything)."""
        return "*" if self.units is None else ",".join(sorted(self.units))


_HASHER = PasswordHasher()  # argon2id, the library's recommended parameters
_WINDOW = 15 * 60.0  # sign-in counters run 15 minutes from their first attempt


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


def _user(row: AccountRow | None) -> User | None:
    return User(row.name, Role(row.role), row.units) if row is not None else None


def _scope(units: Sequence[str] | None) -> tuple[str, ...] | None:
    if units is None:
        return None
    codes = tuple(sorted({str(u).strip() for u in units if str(u).strip()}))
    if not codes:
        raise AuthError("give at least one unit code, or none for the whole store",
                        field="units")
    return codes


def _no_user(name: str) -> AuthError:
    return AuthError(f"no user {name!r}; add it with `gis users add`", field="name", value=name)


@dataclass(frozen=True)
class SignIn:
    """The outcome of :meth:`UserDB.sign_in`: the user (None for a wrong name or password), or
    ``limited`` when the attempt was refused before the password was checked."""

    user: User | None
    limited: bool = False
    stamp: int | None = None  # the user's credential stamp when the password was checked


@dataclass(frozen=True)
class TokenInfo:
    """A bearer token as listed (the token itself is never stored): ``id`` is the start of its
    hash, enough to revoke it."""

    id: str
    name: str
    created_at: float


class UserDB:
    """The service's accounts: the policy over an :class:`~gis.store.accounts.AccountStore`."""

    def __init__(self, store: AccountStore) -> None:
        self.store = store

    # --- accounts -------------------------------------------------------------------------
    def add(self, name: str, role: Role | str, password: str, *,
            units: Sequence[str] | None = None) -> User:
        """A new account; ``units`` (2025 unit codes, checked by the caller: see
        :func:`check_units`) scope it to a commune office, None gives the whole store."""
        name, role = _check_name(name), Role.parse(role) if isinstance(role, str) else role
        _check_password(password)
        scope = _scope(units)
        if not self.store.add_user(name, role.value, _HASHER.hash(password),
                                   created_at=time.time(), units=scope):
            raise AuthError(f"user {name!r} exists; change the password with "
                            "`gis users passwd`", field="name", value=name)
        return User(name, role, scope)

    def get(self, name: str) -> User | None:
        return _user(self.store.user(name))

    def list(self) -> list[User]:
        return [User(row.name, Role(row.role), row.units) for row in self.store.users()]

    def stamp(self, name: str) -> int | None:
        """The user's credential stamp, bumped by every password or role change (None: no such
        user). Workers keep verified HTTP Basic pairs with the stamp they were verified at and
        compare it on each request: one primary-key read."""
        return self.store.stamp(name)

    def set_password(self, name: str, password: str) -> None:
        """New password; every session and token of the user ends, and every worker's cached
        HTTP Basic pair with it (the stamp changes)."""
        _check_password(password)
        if not self.store.set_password_hash(name, _HASHER.hash(password)):
            raise _no_user(name)

    def set_role(self, name: str, role: Role | str) -> None:
        role = Role.parse(role) if isinstance(role, str) else role
        if not self.store.set_role(name, role.value):
            raise _no_user(name)

    def set_units(self, name: str, units: Sequence[str] | None) -> None:
        """A new scope (None: the whole store). Like a role change it takes effect at the
        user's next request on every worker (the credential stamp moves)."""
        if not self.store.set_units(name, _scope(units)):
            raise _no_user(name)

    def delete(self, name: str) -> None:
        """Remove an account with its sessions and tokens (at once, on every worker: a cached
        HTTP Basic pair finds no stamp at its next request)."""
        if not self.store.delete_user(name):
            raise _no_user(name)

    def verify(self, name: str, password: str) -> User | None:
        """The user if the password is right (argon2; rehashed when parameters changed)."""
        return self.verify_stamped(name, password)[0]

    def verify_stamped(self, name: str, password: str) -> tuple[User | None, int | None]:
        """:meth:`verify` and the stamp the user had when the password was checked (read with
        the hash, so a change made meanwhile shows as a newer stamp on the next request)."""
        row = self.store.user(name)
        if row is None:
            _HASHER.hash(password)  # same work for unknown names: no timing oracle
            return None, None
        try:
            _HASHER.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None, row.stamp
        if _HASHER.check_needs_rehash(row.password_hash):  # same password: the stamp stays
            self.store.rehash_password(name, row.password_hash, _HASHER.hash(password))
        return User(row.name, Role(row.role), row.units), row.stamp

    # --- bearer tokens --------------------------------------------------------------------
    def new_token(self, name: str) -> str:
        token = "gis_" + secrets.token_urlsafe(32)
        if not self.store.create_token(_sha(token), name, created_at=time.time()):
            raise _no_user(name)
        return token

    def token_user(self, token: str) -> User | None:
        return _user(self.store.token_user(_sha(token)))

    def tokens(self, name: str | None = None) -> builtins.list[TokenInfo]:
        """The tokens of a user (everyone's for None), oldest first."""
        return [TokenInfo(t.hash[:12], t.name, t.created_at) for t in self.store.tokens(name)]

    def revoke_token(self, token_or_id: str) -> TokenInfo:
        """Revoke a token, named by itself or by the id :meth:`tokens` lists; it stops working
        at once."""
        text = token_or_id.strip()
        if text.startswith("gis_"):
            found = [t for t in self.store.tokens() if t.hash == _sha(text)]
        else:
            found = [t for t in self.store.tokens() if len(text) >= 6 and
                     t.hash.startswith(text.lower())]
        if len(found) != 1 or not self.store.revoke_token(found[0].hash):
            raise AuthError("no such token (list them with `gis users tokens`)" if not found else
                            "several tokens start so; give more of the id", field="token")
        return TokenInfo(found[0].hash[:12], found[0].name, found[0].created_at)

    # --- browser sessions -----------------------------------------------------------------
    def new_session(self, name: str, hours: float) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        if not self.store.create_session(_sha(sid), name, expires_at=now + hours * 3600,
                                         now=now):
            raise _no_user(name)
        return sid

    def session_user(self, sid: str) -> User | None:
        return _user(self.store.session_user(_sha(sid), now=time.time()))

    def end_session(self, sid: str) -> None:
        self.store.delete_session(_sha(sid))

    # --- sign-in rate limit ---------------------------------------------------------------
    def sign_in(self, name: str, password: str, client: str, *, per_name: int,
                per_address: int, scope: str = "login") -> SignIn:
        """Check a password under the sign-in limits: at most ``per_name`` failed attempts per
        (name, client address) and ``per_address`` per address, in 15 minutes from the first.

        The attempt is counted *before* the password is checked, both counters in one atomic
        step of the store, so concurrent attempts (threads, workers) never let more than the
        limit through; a refused attempt is not counted (a desktop GIS retrying a stale
        password cannot lock out its whole office), and a right password takes its attempt back
        and clears the (name, address) count. ``scope`` keeps HTTP Basic and the sign-in form
        apart.
        """
        pair, address = f"{scope}:pair:{client}:{name}", f"{scope}:addr:{client}"
        if not self.store.count_attempt((AttemptLimit(pair, per_name),
                                         AttemptLimit(address, per_address)),
                                        now=time.time(), window=_WINDOW):
            return SignIn(None, limited=True)
        user, stamp = self.verify_stamped(name, password)
        if user is not None:
            self.store.forgive_attempt(clear=(pair,), take_back=(address,))
        return SignIn(user, stamp=stamp)


def load_secret_key(store: AccountStore, configured: str | None = None) -> bytes:
    """The session-signing key: the setting, else the one the account store keeps, made on
    first run from 32 random bytes (never a constant in the code)."""
    if configured:
        return configured.encode()
    return store.secret_key(lambda: secrets.token_hex(32).encode())


def csrf_token(secret: bytes, session_id: str) -> str:
    """The CSRF token of a session: an HMAC of its id (double submit, nothing stored)."""
    return hmac.new(secret, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()
