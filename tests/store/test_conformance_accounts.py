"""What every AccountStore backend must do (gis/store/accounts.py), parametrised by backend.

Round trips of users, sessions, tokens and sign-in counters; changes that several rows share
made together; concurrent processes that lose nothing and never pass a limit; a revoked token,
an ended session and a removed user that stop working at once for every other connection. The
SQLite backend also reads the ``service.db`` files of earlier releases.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gis.errors import StoreError
from gis.store import AccountStore, open_accounts
from gis.store.accounts import AttemptLimit

HOUR = 3600.0
WINDOW = 900.0


@pytest.fixture
def accounts(accounts_at) -> AccountStore:  # type: ignore[no-untyped-def]
    """A fresh account store, once per backend."""
    return open_accounts(*accounts_at)


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- round trips ------------------------------------------------------------------------------
def test_users_round_trip(accounts):
    assert isinstance(accounts, AccountStore)
    assert accounts.users() == [] and accounts.user("lan") is None and accounts.stamp("lan") is None
    assert accounts.add_user("lan", "inspector", "hash-1", created_at=100.0)
    assert accounts.add_user("an", "viewer", "hash-2", created_at=101.0)
    assert not accounts.add_user("lan", "admin", "other", created_at=102.0)  # taken: unchanged
    lan = accounts.user("lan")
    assert (lan.name, lan.role, lan.password_hash, lan.stamp, lan.created_at) == \
        ("lan", "inspector", "hash-1", 0, 100.0)
    assert [u.name for u in accounts.users()] == ["an", "lan"]
    assert accounts.user("Lan") is None  # names are exact
    assert accounts.set_role("lan", "planner") and accounts.stamp("lan") == 1
    assert accounts.user("lan").role == "planner"
    assert not accounts.set_role("nobody", "admin") and accounts.stamp("nobody") is None


def test_a_users_scope_round_trips_and_moves_the_stamp(accounts):
    assert accounts.add_user("xa", "inspector", "h", created_at=1.0, units=("09574", "09604"))
    assert accounts.user("xa").units == ("09574", "09604")
    assert accounts.add_user("so", "viewer", "h", created_at=1.0)
    assert accounts.user("so").units is None  # the whole store
    assert accounts.set_units("xa", ("09604",)) and accounts.stamp("xa") == 1
    assert accounts.user("xa").units == ("09604",)
    assert accounts.set_units("xa", None) and accounts.stamp("xa") == 2
    assert accounts.user("xa").units is None
    assert not accounts.set_units("nobody", ("09604",))
    assert accounts.create_token("t" * 64, "xa", created_at=2.0)
    accounts.set_units("xa", ("09574",))
    assert accounts.token_user("t" * 64).units == ("09574",)  # a token sees the new scope


def test_a_new_password_bumps_the_stamp_and_ends_sessions_and_tokens_together(accounts):
    accounts.add_user("lan", "viewer", "old", created_at=0.0)
    accounts.add_user("an", "viewer", "x", created_at=0.0)
    now = time.time()
    for who in ("lan", "an"):
        assert accounts.create_session(_h(f"s-{who}"), who, expires_at=now + HOUR, now=now)
        assert accounts.create_token(_h(f"t-{who}"), who, created_at=now)
    assert accounts.set_password_hash("lan", "new")
    assert accounts.user("lan").password_hash == "new" and accounts.stamp("lan") == 1
    assert accounts.session_user(_h("s-lan"), now=now) is None
    assert accounts.token_user(_h("t-lan")) is None and accounts.tokens("lan") == []
    assert accounts.session_user(_h("s-an"), now=now).name == "an"  # others keep theirs
    assert accounts.token_user(_h("t-an")).name == "an"
    assert not accounts.set_password_hash("nobody", "x")


def test_a_rehash_replaces_only_the_hash_it_read(accounts):
    accounts.add_user("lan", "viewer", "v1", created_at=0.0)
    assert accounts.rehash_password("lan", "v1", "v1-stronger")
    assert accounts.user("lan").password_hash == "v1-stronger" and accounts.stamp("lan") == 0
    accounts.set_password_hash("lan", "v2")  # a change meanwhile wins over a late rehash
    assert not accounts.rehash_password("lan", "v1-stronger", "v1-rehashed")
    assert accounts.user("lan").password_hash == "v2"


def test_a_removed_user_takes_their_sessions_and_tokens(accounts):
    accounts.add_user("lan", "admin", "h", created_at=0.0)
    now = time.time()
    accounts.create_session(_h("s"), "lan", expires_at=now + HOUR, now=now)
    accounts.create_token(_h("t"), "lan", created_at=now)
    assert accounts.delete_user("lan") and not accounts.delete_user("lan")
    assert accounts.user("lan") is None and accounts.stamp("lan") is None
    assert accounts.session_user(_h("s"), now=now) is None and accounts.token_user(_h("t")) is None
    # a new account of the same name does not inherit them
    accounts.add_user("lan", "viewer", "h2", created_at=1.0)
    assert accounts.session_user(_h("s"), now=now) is None and accounts.tokens() == []


def test_sessions_round_trip_and_expire(accounts):
    accounts.add_user("lan", "inspector", "h", created_at=0.0)
    assert not accounts.create_session(_h("ghost"), "nobody", expires_at=2000.0, now=1000.0)
    assert accounts.create_session(_h("a"), "lan", expires_at=1100.0, now=1000.0)
    assert accounts.create_session(_h("b"), "lan", expires_at=5000.0, now=1000.0)
    user = accounts.session_user(_h("a"), now=1050.0)
    assert (user.name, user.role) == ("lan", "inspector")
    assert accounts.session_user(_h("a"), now=1100.0) is None  # expired
    assert accounts.session_user(_h("nope"), now=1050.0) is None
    accounts.set_role("lan", "admin")  # a session sees the current role
    assert accounts.session_user(_h("b"), now=1050.0).role == "admin"
    # creating a session drops the expired ones
    assert accounts.create_session(_h("c"), "lan", expires_at=9000.0, now=1200.0)
    assert accounts.session_user(_h("a"), now=1050.0) is None
    assert accounts.delete_session(_h("b")) and not accounts.delete_session(_h("b"))
    assert accounts.session_user(_h("b"), now=1250.0) is None
    assert accounts.create_session(_h("d"), "lan", expires_at=9000.0, now=1200.0)
    assert accounts.delete_sessions("lan") == 2
    assert accounts.session_user(_h("c"), now=1250.0) is None


def test_tokens_round_trip_and_revoke(accounts):
    accounts.add_user("lan", "planner", "h", created_at=0.0)
    accounts.add_user("an", "viewer", "h", created_at=0.0)
    assert not accounts.create_token(_h("ghost"), "nobody", created_at=1.0)
    assert accounts.create_token(_h("t2"), "lan", created_at=20.0)
    assert accounts.create_token(_h("t1"), "lan", created_at=10.0)
    assert accounts.create_token(_h("t3"), "an", created_at=30.0)
    assert [(t.hash, t.name, t.created_at) for t in accounts.tokens("lan")] == \
        [(_h("t1"), "lan", 10.0), (_h("t2"), "lan", 20.0)]
    assert [t.name for t in accounts.tokens()] == ["lan", "lan", "an"]
    assert accounts.token_user(_h("t2")).role == "planner" and accounts.token_user("x") is None
    assert accounts.revoke_token(_h("t2")) and not accounts.revoke_token(_h("t2"))
    assert accounts.token_user(_h("t2")) is None and accounts.token_user(_h("t1")).name == "lan"


def test_sign_in_counters(accounts):
    pair, addr = AttemptLimit("p", 2), AttemptLimit("a", 3)
    assert accounts.attempts("p", now=0.0, window=WINDOW) == 0
    assert accounts.count_attempt([pair, addr], now=0.0, window=WINDOW)
    assert accounts.count_attempt([pair, addr], now=1.0, window=WINDOW)
    assert not accounts.count_attempt([pair, addr], now=2.0, window=WINDOW)  # pair at 2
    assert accounts.attempts("a", now=2.0, window=WINDOW) == 2  # a refusal is not counted
    assert accounts.count_attempt([AttemptLimit("q", 2), addr], now=3.0, window=WINDOW)
    assert not accounts.count_attempt([AttemptLimit("r", 2), addr], now=4.0, window=WINDOW)
    accounts.forgive_attempt(clear=["p"], take_back=["a"])
    assert accounts.attempts("p", now=5.0, window=WINDOW) == 0
    assert accounts.attempts("a", now=5.0, window=WINDOW) == 2
    accounts.forgive_attempt(take_back=["q", "q", "q"])  # several times: never below zero
    accounts.forgive_attempt(take_back=["q"])
    assert accounts.attempts("q", now=5.0, window=WINDOW) == 0
    # a counter starts again once its window from the first attempt has passed
    assert accounts.attempts("a", now=WINDOW + 1, window=WINDOW) == 0
    assert accounts.count_attempt([AttemptLimit("a", 1)], now=WINDOW + 1, window=WINDOW)
    assert accounts.attempts("a", now=WINDOW + 1, window=WINDOW) == 1


def test_the_secret_key_is_made_once(accounts):
    made = []

    def make() -> bytes:
        made.append(1)
        return b"k" * 64

    assert accounts.secret_key(make) == b"k" * 64
    assert accounts.secret_key(lambda: b"other") == b"k" * 64 and made == [1]


# --- every connection sees a change at once ---------------------------------------------------
def test_a_revoked_token_an_ended_session_and_a_removed_user_stop_at_once(accounts_at):
    reader, writer = open_accounts(*accounts_at), open_accounts(*accounts_at)
    now = time.time()
    writer.add_user("lan", "admin", "h", created_at=now)
    writer.add_user("an", "viewer", "h", created_at=now)
    writer.create_token(_h("t"), "lan", created_at=now)
    writer.create_session(_h("s"), "lan", expires_at=now + HOUR, now=now)
    writer.create_session(_h("s-an"), "an", expires_at=now + HOUR, now=now)
    assert reader.token_user(_h("t")).name == "lan"  # the reader's connection is warm
    assert reader.session_user(_h("s"), now=now).name == "lan"
    assert reader.stamp("an") == 0
    writer.revoke_token(_h("t"))
    assert reader.token_user(_h("t")) is None
    writer.delete_session(_h("s"))
    assert reader.session_user(_h("s"), now=now) is None
    writer.set_role("an", "admin")
    assert reader.stamp("an") == 1 and reader.session_user(_h("s-an"), now=now).role == "admin"
    writer.delete_user("an")
    assert reader.stamp("an") is None and reader.session_user(_h("s-an"), now=now) is None


# --- processes at once ------------------------------------------------------------------------
def _worker(place: tuple[Path, str], i: int, n: int, go, results) -> None:  # type: ignore[no-untyped-def]
    store = open_accounts(*place)
    go.wait()  # a barrier of all the workers
    for k in range(n):
        name = f"user-{i}-{k}"
        assert store.add_user(name, "viewer", "h", created_at=float(k))
        assert store.create_session(_h(f"s-{i}-{k}"), name, expires_at=time.time() + HOUR,
                                    now=time.time())
        assert store.create_token(_h(f"t-{i}-{k}"), name, created_at=float(k))
        store.set_role("shared", "admin" if k % 2 else "planner")  # stamp + 1 each time
    go.wait()
    passed = 0
    for _ in range(n):  # wrong passwords from everywhere at once
        assert store.count_attempt([AttemptLimit("everyone", 10**6)], now=time.time(),
                                   window=WINDOW)
        passed += store.count_attempt([AttemptLimit("pair", LIMIT),
                                       AttemptLimit("address", 10**6)],
                                      now=time.time(), window=WINDOW)
    results.put(passed)


LIMIT = 20


def test_processes_at_once_lose_nothing_and_never_pass_a_limit(accounts_at):
    store = open_accounts(*accounts_at)
    store.add_user("shared", "viewer", "h", created_at=0.0)
    ctx = mp.get_context("spawn")
    procs, n = 3, 15
    go, results = ctx.Barrier(procs), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(accounts_at, i, n, go, results))
               for i in range(procs)]
    for w in workers:
        w.start()
    passed = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    now = time.time()
    assert len(store.users()) == procs * n + 1 and len(store.tokens()) == procs * n
    assert all(store.session_user(_h(f"s-{i}-{k}"), now=now) is not None
               for i in range(procs) for k in range(n))
    assert store.stamp("shared") == procs * n
    assert store.attempts("everyone", now=now, window=WINDOW) == procs * n  # exact
    assert sum(passed) == LIMIT and store.attempts("pair", now=now, window=WINDOW) == LIMIT
    assert store.attempts("address", now=now, window=WINDOW) == LIMIT  # refused: not counted


# --- the backend is chosen by the store location ----------------------------------------------
def test_a_database_that_cannot_be_reached_is_a_clear_error_at_once(tmp_path):
    import time

    started = time.monotonic()
    with pytest.raises(StoreError, match="cannot reach the database:.*no-such-host"):
        open_accounts(tmp_path, "postgresql://gis:secret@no-such-host.invalid/land")
    assert time.monotonic() - started < 15
    assert not (tmp_path / "service.db").exists()


def test_a_geopackage_deployment_keeps_accounts_in_its_data_folder(tmp_path):
    store = open_accounts(tmp_path / "data", str(tmp_path / "elsewhere" / "store.gpkg"))
    store.add_user("lan", "viewer", "h", created_at=0.0)
    store.secret_key(lambda: b"k" * 64)
    assert {p.name for p in (tmp_path / "data").iterdir()} >= {"service.db", "secret.key"}
    assert not (tmp_path / "elsewhere").exists()
    assert open_accounts(tmp_path / "data").user("lan") is not None  # no store location: same


# --- the SQLite backend reads the files of earlier releases -----------------------------------
#: service.db as the first release wrote it, and as the release with credential stamps did
FIRST_SCHEMA = """
CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
    created_at REAL NOT NULL);
CREATE TABLE tokens (hash TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE sessions (hash TEXT PRIMARY KEY, name TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE login_failures (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX login_failures_key ON login_failures (key, at);
"""
STAMP_SCHEMA = """
CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
    created_at REAL NOT NULL, stamp INTEGER NOT NULL DEFAULT 0);
CREATE TABLE tokens (hash TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE sessions (hash TEXT PRIMARY KEY, name TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE login_counts (key TEXT PRIMARY KEY, count INTEGER NOT NULL, since REAL NOT NULL);
"""


def _old_file(folder: Path, schema: str) -> None:
    from argon2 import PasswordHasher

    folder.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(folder / "service.db")
    con.executescript(schema)
    con.execute("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                ("chi", "admin", PasswordHasher().hash("mật-khẩu-cũ-của-chi"), 1.0))
    con.execute("INSERT INTO tokens VALUES (?, 'chi', 2.0)", (_h("gis_old-token"),))
    con.execute("INSERT INTO sessions VALUES (?, 'chi', ?)", (_h("old-session"), time.time() + HOUR))
    if "login_failures" in schema:
        con.execute("INSERT INTO login_failures VALUES ('login:10.0.0.1', ?)", (time.time(),))
    con.commit()
    con.close()


@pytest.mark.parametrize("schema", [FIRST_SCHEMA, STAMP_SCHEMA], ids=["first", "stamps"])
def test_the_service_db_of_earlier_releases_is_read_and_upgraded(tmp_path, schema):
    from gis.api.auth.security import UserDB

    folder = tmp_path / "data"
    _old_file(folder, schema)
    # workers starting together: one upgrades, none fails (separate connections contend for
    # the file's lock as processes do)
    start = threading.Barrier(4)

    def open_() -> int | None:
        start.wait()
        return open_accounts(folder).stamp("chi")

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda _: open_(), range(4))) == [0] * 4
    users = UserDB(open_accounts(folder))
    assert users.verify("chi", "mật-khẩu-cũ-của-chi") is not None
    assert users.token_user("gis_old-token").name == "chi"
    assert users.session_user("old-session").name == "chi"
    assert users.stamp("chi") == 0
    users.set_password("chi", "mật-khẩu-mới-của-chi")
    assert users.stamp("chi") == 1 and users.token_user("gis_old-token") is None
    con = sqlite3.connect(folder / "service.db")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "login_failures" not in tables and "login_counts" in tables
    assert con.execute("PRAGMA user_version").fetchone()[0] == 3
    assert users.get("chi").units is None  # users of earlier releases: the whole store
    users.set_units("chi", ["09574"])
    assert users.get("chi").units == ("09574",)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_a_service_db_from_a_newer_release_is_refused(tmp_path):
    open_accounts(tmp_path)
    con = sqlite3.connect(tmp_path / "service.db")
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        open_accounts(tmp_path)
