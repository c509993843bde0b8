"""A step's write: `advance` moves the cursor alone (a compare-and-swap like put's,
writing no blob), and `head` tells a worker whether only steps happened since its copy.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from app.store import SessionNotFound, SessionStore, VersionConflict
from app.store.base import Head, pack
from app.store.sqlite import SQLiteStore

META = {"cursor": 0, "n": 1}


def test_advance_moves_the_cursor_and_keeps_the_arrays(store: SessionStore) -> None:
    s = store.create(dict(META), {"w": np.arange(3.0)})
    assert store.head(s.id) == Head(version=1, arrays_version=1, cursor=0)
    assert store.advance(s.id, 1, 1) == 2
    assert store.advance(s.id, 2, 3) == 3
    assert store.head(s.id) == Head(version=3, arrays_version=1, cursor=3)
    got = store.get(s.id)
    assert (got.version, got.arrays_version, got.meta) == (3, 1, {"cursor": 3, "n": 1})
    np.testing.assert_array_equal(got.arrays["w"], np.arange(3.0))


def test_put_after_advances_writes_the_arrays_at_its_version(store: SessionStore) -> None:
    s = store.create(dict(META), {"w": np.zeros(2)})
    store.advance(s.id, 1, 5)
    got = store.get(s.id)
    got.meta["cursor"] = 0  # a new pass
    got.arrays["w"] = np.ones(2)
    put = store.put(got)
    assert (put.version, put.arrays_version) == (3, 3)
    assert store.head(s.id) == Head(version=3, arrays_version=3, cursor=0)
    np.testing.assert_array_equal(store.get(s.id).arrays["w"], np.ones(2))


def test_a_stale_advance_conflicts_and_changes_nothing(store: SessionStore) -> None:
    s = store.create(dict(META), {})
    store.advance(s.id, 1, 1)
    with pytest.raises(VersionConflict):
        store.advance(s.id, 1, 7)  # read version 1, which is gone
    with pytest.raises(VersionConflict):
        store.put(s)  # a put at version 1 too
    assert store.head(s.id) == Head(version=2, arrays_version=1, cursor=1)


def test_advance_of_a_missing_session(store: SessionStore) -> None:
    s = store.create(dict(META), {})
    store.delete(s.id)
    with pytest.raises(SessionNotFound):
        store.advance(s.id, 1, 1)
    with pytest.raises(SessionNotFound):
        store.head(s.id)


def test_a_meta_without_a_cursor_round_trips(store: SessionStore) -> None:
    s = store.create({"n": 1}, {})
    assert store.head(s.id).cursor is None
    assert store.get(store.put(s).id).meta == {"n": 1}


def test_a_file_from_before_gets_the_columns_and_its_sessions_read_as_before(
    tmp_path: Path,
) -> None:
    """A sessions.db written by the previous schema (no cursor or arrays_version):
    opening it adds the columns, and its rows read with the blob's cursor."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, version INTEGER NOT NULL, "
            "blob BLOB NOT NULL, created REAL NOT NULL, touched REAL NOT NULL);"
            "CREATE TABLE signals (id TEXT NOT NULL REFERENCES sessions (id) "
            "ON DELETE CASCADE, name TEXT NOT NULL, PRIMARY KEY (id, name));"
        )
        blob = pack({"cursor": 4, "n": 2}, {"w": np.ones(2)})
        db.execute("INSERT INTO sessions VALUES ('old', 6, ?, 0, strftime('%s'))", (blob,))
    store = SQLiteStore(path, 3600, 10)
    assert store.head("old") == Head(version=6, arrays_version=6, cursor=None)
    got = store.get("old")
    assert (got.version, got.arrays_version, got.meta) == (6, 6, {"cursor": 4, "n": 2})
    assert store.advance("old", 6, 5) == 7
    assert store.get("old").meta["cursor"] == 5
    assert SQLiteStore(path, 3600, 10).head("old").cursor == 5  # opened again: no error
    store.close()


def test_a_session_from_before_advances_to_a_known_arrays_version(
    store: SessionStore,
) -> None:
    """A session written by the code before arrays_version existed (no column or `av`
    field): its first advance records that its blob is of the version it had, so a
    worker holding it live catches up instead of rebuilding at every hop."""
    s = store.create(dict(META), {"w": np.zeros(2)})
    _forget_arrays_version(store, s.id)
    assert store.head(s.id) == Head(version=1, arrays_version=1, cursor=0)
    store.advance(s.id, 1, 1)
    assert store.head(s.id) == Head(version=2, arrays_version=1, cursor=1)


def _forget_arrays_version(store: SessionStore, session_id: str) -> None:
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE sessions SET arrays_version = NULL WHERE id = ?", (session_id,))
    else:
        from app.store.redis import SESSION_PREFIX

        store._redis.hdel(SESSION_PREFIX + session_id, "av")  # type: ignore[attr-defined]
