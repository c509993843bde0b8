"""A client's live sessions in the store (GLASSBOX_CLIENT_SESSIONS), and eviction under
a flood: a client at its limit loses only its own sessions idle CLIENT_IDLE_S (10
minutes), else it is refused; a student who stepped recently keeps their session (both
backends)."""

import sqlite3
from pathlib import Path

import pytest
import redis

from app.store.base import CLIENT_IDLE_S, ClientSessionsFull, SessionNotFound, SessionStore
from app.store.redis import INDEX_KEY, RedisStore
from app.store.sqlite import SQLiteStore
from tests.app.store.conftest import StoreFactory

TTL = 6 * 3600  # the default: sessions idle an hour are not expired yet


def _idle(store: SessionStore, sid: str, seconds: float) -> None:
    """Make the session look untouched for `seconds` more (as time passing would)."""
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE sessions SET touched = touched - ? WHERE id = ?", (seconds, sid))
    else:
        assert isinstance(store, RedisStore)
        store._redis.zincrby(INDEX_KEY, -seconds * 1000, sid)


def _live(store: SessionStore, sid: str) -> bool:
    try:
        store.get(sid)
    except SessionNotFound:
        return False
    return True


def test_a_client_at_its_limit_is_refused_while_its_sessions_are_in_use(
    make_store: StoreFactory,
) -> None:
    store = make_store(ttl_seconds=TTL)
    ids = [store.create({}, {}, client="a", client_max=3).id for _ in range(3)]
    with pytest.raises(ClientSessionsFull) as exc:
        store.create({}, {}, client="a", client_max=3)
    assert (exc.value.client, exc.value.count, exc.value.limit) == ("a", 3, 3)
    assert all(_live(store, sid) for sid in ids)
    store.create({}, {}, client="b", client_max=3)  # another client has its own count
    store.create({}, {})  # no client (e.g. a script of the tests): no per-client limit
    assert store.count() == 5


def test_a_client_at_its_limit_gets_room_from_its_own_session_idle_longest(
    make_store: StoreFactory,
) -> None:
    store = make_store(ttl_seconds=TTL)
    ids = [store.create({}, {}, client="a", client_max=3).id for _ in range(3)]
    other = store.create({}, {}, client="b", client_max=3).id
    _idle(store, other, 2 * CLIENT_IDLE_S)  # idle, but another client's: never taken here
    _idle(store, ids[1], CLIENT_IDLE_S - 60)  # used a minute before the bound: kept
    _idle(store, ids[2], CLIENT_IDLE_S + 60)
    new = store.create({}, {}, client="a", client_max=3).id
    assert not _live(store, ids[2])
    assert all(_live(store, sid) for sid in (ids[0], ids[1], new, other))
    with pytest.raises(ClientSessionsFull):
        store.create({}, {}, client="a", client_max=3)


def test_a_class_behind_one_address_gets_back_what_its_students_left(
    make_store: StoreFactory,
) -> None:
    """One address, limit 4: two sessions left 11 minutes ago (a closed tab), two that
    students step every few seconds. Two creates recycle the left ones, oldest first;
    the third is refused: a working student's session is never taken."""
    assert CLIENT_IDLE_S == 600  # a lesson's abandoned sessions come back within it
    store = make_store(ttl_seconds=TTL)
    left = [store.create({}, {}, client="school", client_max=4).id for _ in range(2)]
    working = [store.create({}, {}, client="school", client_max=4).id for _ in range(2)]
    _idle(store, left[0], 12 * 60)
    _idle(store, left[1], 11 * 60)
    _idle(store, working[0], 5)
    _idle(store, working[1], 9 * 60)  # a student thinking for 9 minutes still keeps it
    first = store.create({}, {}, client="school", client_max=4).id
    assert not _live(store, left[0]) and _live(store, left[1])
    second = store.create({}, {}, client="school", client_max=4).id
    assert not _live(store, left[1])
    with pytest.raises(ClientSessionsFull):
        store.create({}, {}, client="school", client_max=4)
    assert all(_live(store, sid) for sid in (*working, first, second))


def test_a_deleted_session_frees_its_clients_place(make_store: StoreFactory) -> None:
    store = make_store(ttl_seconds=TTL)
    ids = [store.create({}, {}, client="a", client_max=2).id for _ in range(2)]
    store.delete(ids[0])
    store.create({}, {}, client="a", client_max=2)
    with pytest.raises(ClientSessionsFull):
        store.create({}, {}, client="a", client_max=2)


def test_a_flood_from_one_client_never_evicts_a_working_student(make_store: StoreFactory) -> None:
    """max_sessions 6: an old idle session, a student's (stepped just now), then a flood
    from one address with client_max 5: the idle session goes first (least recently
    used), the student's stays, and the flood is refused past its own limit."""
    store = make_store(ttl_seconds=TTL, max_sessions=6)
    idle = store.create({}, {}, client="home", client_max=5).id
    _idle(store, idle, 2 * CLIENT_IDLE_S)
    student = store.create({"cursor": 0}, {}, client="school", client_max=5)
    flood: list[str] = []
    refused = 0
    for _ in range(20):
        store.advance(student.id, student.version, 1)  # the student keeps stepping
        student = store.get(student.id)
        try:
            flood.append(store.create({}, {}, client="script", client_max=5).id)
        except ClientSessionsFull:
            refused += 1
    assert len(flood) == 5 and refused == 15
    assert _live(store, student.id) and not _live(store, idle)
    assert store.count() == 6


def test_a_file_from_before_gains_the_client_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the first schema, before cursor and client
        db.executescript(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, version INTEGER NOT NULL, "
            "blob BLOB NOT NULL, created REAL NOT NULL, touched REAL NOT NULL);"
        )
    store = SQLiteStore(path, 3600, 100)
    try:
        sid = store.create({}, {}, client="a", client_max=1).id
        with pytest.raises(ClientSessionsFull):
            store.create({}, {}, client="a", client_max=1)
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT client FROM sessions WHERE id = ?", (sid,)).fetchone() == (
                "a",
            )
    finally:
        store.close()


def test_the_redis_client_set_expires_with_the_sessions(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as r:
        r.flushdb()
    store = RedisStore(redis_url, 60, 100)
    try:
        store.create({}, {}, client="a", client_max=5)
        ttl = store._redis.ttl("glassbox:client:a")
        assert 0 < ttl <= 60
    finally:
        store.close()
