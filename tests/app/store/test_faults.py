"""Which store errors are outages (StoreUnavailable, the API's 503) and which are not."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

import app.store.sqlite as sqlite_store
from app.store import StoredSession, StoreUnavailable, VersionConflict
from app.store.redis import RedisStore
from app.store.sqlite import SQLiteStore
from tests.processes import free_port

ARRAYS = {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another connection (as another worker would) holding the file's write lock."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_sqlite_lock_held_past_the_busy_timeout_is_unavailable_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_S", 0.3)
    store = SQLiteStore(tmp_path / "s.db", 3600, 100)
    created = store.create({"n": 0}, ARRAYS)
    other = hold_write_lock(store.path)
    try:
        with pytest.raises(StoreUnavailable, match="locked by another writer") as caught:
            store.put(created)
        assert (caught.value.backend, caught.value.operation) == ("sqlite", "put")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.get(created.id).version == 1  # the failed write left nothing
    assert store.put(created).version == 2  # and the store works again at once
    store.close()


def test_sqlite_lock_released_within_the_busy_timeout_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_S", 5.0)
    store = SQLiteStore(tmp_path / "s.db", 3600, 100)
    created = store.create({"n": 0}, ARRAYS)
    other = hold_write_lock(store.path)
    release = threading.Timer(0.1, lambda: other.execute("ROLLBACK"))
    release.start()
    try:
        assert store.put(created).version == 2  # waited for the lock, then wrote
    finally:
        release.join()
        other.close()
        store.close()


def test_sqlite_errors_that_are_not_outages_pass_unchanged(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", 3600, 100)
    created = store.create({"n": 0}, ARRAYS)
    with sqlite3.connect(store.path) as db:
        db.execute("DROP TABLE signals")  # a broken schema is a bug to see, not a 503
    with pytest.raises(sqlite3.OperationalError, match="no such table") as caught:
        store.take_signal(created.id, "cancel")
    assert not isinstance(caught.value, StoreUnavailable)
    store.close()


def test_sqlite_missing_file_is_not_recreated_empty(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", 3600, 100)
    created = store.create({"n": 0}, ARRAYS)
    (tmp_path / "s.db").rename(tmp_path / "kept.db")
    with pytest.raises(StoreUnavailable, match="missing or cannot be opened"):
        store.get(created.id)
    assert not (tmp_path / "s.db").exists()
    (tmp_path / "kept.db").rename(tmp_path / "s.db")
    assert store.get(created.id).meta == {"n": 0}
    store.close()


@pytest.mark.parametrize(
    "operation",
    ["create", "get", "head", "put", "advance", "delete", "count", "signal", "take_signal",
     "ping"],
)  # fmt: skip
def test_redis_that_refuses_connections_is_unavailable_for_every_operation(
    operation: str,
) -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", 3600, 100)  # nothing listens
    calls = {
        "create": lambda: store.create({}, ARRAYS),
        "put": lambda: store.put(StoredSession("x", 1, {}, {})),
        "advance": lambda: store.advance("x", 1, 2),
        "ping": store.ping,
        "count": store.count,
        "signal": lambda: store.signal("x", "cancel"),
        "take_signal": lambda: store.take_signal("x", "cancel"),
    }
    call = calls.get(operation) or (lambda: getattr(store, operation)("x"))
    with pytest.raises(StoreUnavailable, match=r"session store \(redis\) is unavailable") as c:
        call()
    assert c.value.operation == operation
    assert "retry" in str(c.value)
    store.close()


def test_version_conflict_is_not_an_outage(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", 3600, 100)
    created = store.create({"n": 0}, ARRAYS)
    store.put(created)
    with pytest.raises(VersionConflict):
        store.put(created)
    store.close()
