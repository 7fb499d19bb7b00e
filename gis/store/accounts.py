"""The AccountStore protocol: where the service keeps its users, sessions, tokens and sign-in
counters.

The store holds rows; the policy (what a password must be, argon2 hashing, roles and what they
may do, how session ids and tokens are made) is ``gis.api.auth.security``. Session ids and
tokens reach the store only as hashes. Every method is one atomic step, also across processes
(several web workers and the ``gis users`` command share one store): a method that changes
several rows changes all of them or none, and a reader sees every change committed before it
started.

``open_accounts`` picks the backend from the store location: a GeoPackage deployment keeps its
accounts in ``<data_dir>/service.db`` (SQLite, not in the GeoPackage, which planners copy and
open in QGIS: password hashes must not travel with it); a database deployment keeps them in the
database (:mod:`gis.store.pg_accounts`), shared by every service machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["AccountStore", "AccountRow", "TokenRow", "AttemptLimit", "open_accounts",
           "pack_units", "unpack_units"]


@dataclass(frozen=True)
class AccountRow:
    """One user as stored: the role by its value, the argon2 hash, and the credential stamp
    (bumped by every password, role or scope change, so workers that cached a verified password
    notice the change at their next request)."""

    name: str
    role: str
    password_hash: str
    stamp: int
    created_at: float
    units: tuple[str, ...] | None = None  # 2025 unit codes of the user's scope; None: all


def pack_units(units: Sequence[str] | None) -> str | None:
    """A scope as stored: the unit codes joined by commas (None: the whole store)."""
    return None if units is None else ",".join(units)


def unpack_units(text: object) -> tuple[str, ...] | None:
    """A stored scope back as codes (None or NULL: the whole store)."""
    if text is None:
        return None
    return tuple(c for c in str(text).split(",") if c)


@dataclass(frozen=True)
class TokenRow:
    """One bearer token as stored: its SHA-256 hash (never the token), owner and age."""

    hash: str
    name: str
    created_at: float


@dataclass(frozen=True)
class AttemptLimit:
    """A sign-in counter (``key``, e.g. one per (name, address) and one per address) and the
    number of counted attempts at which it refuses more."""

    key: str
    limit: int


@runtime_checkable
class AccountStore(Protocol):
    """Users, sessions, tokens, sign-in counters and the session-signing key of one service.
    Each call is atomic across threads and processes."""

    # --- users ------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str, *, created_at: float,
                 units: Sequence[str] | None = None) -> bool:
        """Add a user with stamp 0 and a scope (2025 unit codes; None: the whole store); False
        (and nothing changed) when the name is taken."""

    def user(self, name: str) -> AccountRow | None:
        """The user, or None."""

    def users(self) -> list[AccountRow]:
        """Every user, by name."""

    def stamp(self, name: str) -> int | None:
        """The user's credential stamp (None: no such user). Called on every request that a
        worker answers from its cache of verified passwords: a primary-key read, kept cheap."""

    def set_password_hash(self, name: str, password_hash: str) -> bool:
        """A new password: the hash changes, the stamp goes up by one, and every session and
        token of the user ends, together. False when there is no such user."""

    def rehash_password(self, name: str, old_hash: str, new_hash: str) -> bool:
        """The same password hashed with newer parameters: replaces the hash only if it is
        still ``old_hash`` (a change made meanwhile wins); the stamp stays. True if replaced."""

    def set_role(self, name: str, role: str) -> bool:
        """A new role; the stamp goes up by one. False when there is no such user."""

    def set_units(self, name: str, units: Sequence[str] | None) -> bool:
        """A new scope (None: the whole store); the stamp goes up by one. False when there is
        no such user."""

    def delete_user(self, name: str) -> bool:
        """Remove the user with their sessions and tokens, together. False when there is no
        such user."""

    # --- browser sessions -------------------------------------------------------------------
    def create_session(self, session_hash: str, name: str, *, expires_at: float,
                       now: float) -> bool:
        """Store a session of the user until ``expires_at``, and drop the sessions expired at
        ``now``. False (nothing stored) when there is no such user."""

    def session_user(self, session_hash: str, *, now: float) -> AccountRow | None:
        """The user of a session that has not expired at ``now``, with their current role."""

    def delete_session(self, session_hash: str) -> bool:
        """End one session; True if it existed."""

    def delete_sessions(self, name: str) -> int:
        """End every session of a user; how many there were."""

    # --- bearer tokens ----------------------------------------------------------------------
    def create_token(self, token_hash: str, name: str, *, created_at: float) -> bool:
        """Store a token of the user; False (nothing stored) when there is no such user."""

    def token_user(self, token_hash: str) -> AccountRow | None:
        """The user of a token that has not been revoked, with their current role."""

    def tokens(self, name: str | None = None) -> list[TokenRow]:
        """The tokens of a user (of everyone for None), oldest first."""

    def revoke_token(self, token_hash: str) -> bool:
        """Revoke one token; True if it existed."""

    # --- sign-in counters -------------------------------------------------------------------
    def count_attempt(self, limits: Sequence[AttemptLimit], *, now: float,
                      window: float) -> bool:
        """Count one sign-in attempt on every counter, unless one of them has reached its
        limit: then nothing is counted and the answer is False. Counters older than
        ``window`` seconds (from their first attempt) start again from zero. Checking and
        counting are one step, so concurrent attempts never pass a limit."""

    def attempts(self, key: str, *, now: float, window: float) -> int:
        """How many attempts a counter holds within the window."""

    def forgive_attempt(self, *, clear: Sequence[str] = (),
                        take_back: Sequence[str] = ()) -> None:
        """After a right password: reset the ``clear`` counters and take one attempt back
        from the ``take_back`` counters (never below zero), together."""

    # --- the session-signing key ------------------------------------------------------------
    def secret_key(self, make: Callable[[], bytes]) -> bytes:
        """The service's session-signing key: the stored one, or ``make()`` stored on first
        use (when several workers start together, one key wins and all of them use it)."""


def open_accounts(data_dir: Path, store_location: str | None = None) -> AccountStore:
    """The account store of the service whose own folder is ``data_dir`` and whose layers are
    at ``store_location`` (a ``.gpkg`` path, or a ``postgresql://`` URL).

    With a GeoPackage store (or none), the accounts are ``<data_dir>/service.db`` and the key
    ``<data_dir>/secret.key``, as in every earlier release (older files are upgraded on open).
    With a PostGIS store they are tables of the store's schema, shared by every machine.
    """
    text = str(store_location or "")
    if text.startswith(("postgresql://", "postgres://")):
        from gis.store.pg_accounts import PostgresAccountStore

        return PostgresAccountStore(text)
    from gis.store.sqlite_accounts import SQLiteAccountStore

    return SQLiteAccountStore(Path(data_dir) / "service.db")
