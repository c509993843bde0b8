import io
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import redis

from app.store import SessionNotFound, SessionStore, StoredSession, VersionConflict, open_store
from app.store.base import pack, unpack
from app.store.redis import SESSION_PREFIX, RedisStore
from app.store.sqlite import SQLiteStore

from .conftest import StoreFactory

ROOT = Path(__file__).resolve().parents[3]


def sample_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "w32": rng.standard_normal((3, 4)).astype(np.float32),
        "w64": rng.standard_normal((2, 2, 2)),
        "idx": np.arange(-5, 5, dtype=np.int64),
        "mask": np.array([[True, False], [False, True]]),
        "scalar": np.array(2.5),
        "count": np.array(7, dtype=np.int64),
        "labels": np.array(["cat", "狗", "éclair"]),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


META = {"kind": "cnn", "cursor": 3, "lr": 0.01, "layers": [1, 2], "name": "café ☕", "ok": None}


def assert_arrays_equal(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key].dtype == value.dtype, key
        assert got[key].shape == value.shape, key
        np.testing.assert_array_equal(got[key], value, err_msg=key)


def write_raw_blob(store: SessionStore, session_id: str, blob: bytes) -> None:
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE sessions SET blob = ? WHERE id = ?", (blob, session_id))
    else:
        assert isinstance(store, RedisStore)
        store._redis.hset(SESSION_PREFIX + session_id, "blob", blob)


def increment(store: SessionStore, session_id: str) -> int:
    """Read-modify-write of meta["n"], retried on conflict; returns the retries."""
    retries = 0
    while True:
        s = store.get(session_id)
        s.meta["n"] += 1
        try:
            store.put(s)
            return retries
        except VersionConflict:
            retries += 1


def test_round_trip(store: SessionStore) -> None:
    arrays = sample_arrays()
    created = store.create(META, arrays)
    assert created.version == 1
    got = store.get(created.id)
    assert got.id == created.id
    assert got.version == 1
    assert got.meta == META
    assert_arrays_equal(got.arrays, arrays)
    assert store.count() == 1


def test_ids_unique_and_unguessable(store: SessionStore) -> None:
    ids = {store.create({}, {}).id for _ in range(100)}
    assert len(ids) == 100
    for session_id in ids:
        # 22 url-safe base64 characters carry 132 bits >= 128.
        assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", session_id)


def test_get_unknown(store: SessionStore) -> None:
    with pytest.raises(SessionNotFound):
        store.get("no-such-session-xxxxxxxx")


def test_put_increments_version(store: SessionStore) -> None:
    s = store.create({"n": 0}, {"w": np.zeros(3)})
    s.meta["n"] = 1
    s.arrays["w"] = np.ones(3)
    s.arrays["b"] = np.array([1.5], dtype=np.float32)
    s2 = store.put(s)
    assert s2.version == 2
    s3 = store.put(s2)
    assert s3.version == 3
    got = store.get(s.id)
    assert got.version == 3
    assert got.meta == {"n": 1}
    assert_arrays_equal(got.arrays, {"w": np.ones(3), "b": np.array([1.5], dtype=np.float32)})


def test_stale_put_conflicts_and_keeps_data(store: SessionStore) -> None:
    s = store.create({"n": 0}, {"w": np.zeros(2)})
    a = store.get(s.id)
    b = store.get(s.id)
    a.meta["n"] = 1
    store.put(a)
    b.meta["n"] = 99
    b.arrays["w"] = np.full(2, 99.0)
    with pytest.raises(VersionConflict):
        store.put(b)
    got = store.get(s.id)
    assert got.version == 2
    assert got.meta == {"n": 1}
    assert_arrays_equal(got.arrays, {"w": np.zeros(2)})


def test_put_after_delete(store: SessionStore) -> None:
    s = store.create({}, {})
    assert store.delete(s.id) is True
    assert store.delete(s.id) is False
    assert store.delete("never-existed-xxxxxxxxxx") is False
    with pytest.raises(SessionNotFound):
        store.get(s.id)
    with pytest.raises(SessionNotFound):
        store.put(s)
    assert store.count() == 0


def test_ttl_expiry(make_store: StoreFactory) -> None:
    store = make_store(ttl_seconds=1)
    old = store.create({"who": "old"}, {})
    kept = store.create({"who": "kept"}, {})
    time.sleep(0.7)
    kept = store.put(kept)  # refreshes its TTL
    time.sleep(0.6)
    with pytest.raises(SessionNotFound):
        store.get(old.id)
    with pytest.raises(SessionNotFound):
        store.put(old)
    with pytest.raises(SessionNotFound):
        store.signal(old.id, "cancel")
    assert store.get(kept.id).meta == {"who": "kept"}
    assert store.count() == 1


def test_eviction_oldest_first(make_store: StoreFactory) -> None:
    store = make_store(max_sessions=3)
    ids = []
    for i in range(3):
        ids.append(store.create({"i": i}, {}).id)
        time.sleep(0.01)
    store.put(store.get(ids[0]))  # touching 0 makes 1 the oldest
    time.sleep(0.01)
    ids.append(store.create({"i": 3}, {}).id)
    time.sleep(0.01)
    with pytest.raises(SessionNotFound):
        store.get(ids[1])
    assert store.count() == 3
    ids.append(store.create({"i": 4}, {}).id)
    with pytest.raises(SessionNotFound):
        store.get(ids[2])
    assert [store.get(i).meta["i"] for i in (ids[0], ids[3], ids[4])] == [0, 3, 4]
    assert store.count() == 3


def test_signals(store: SessionStore) -> None:
    a = store.create({}, {})
    b = store.create({}, {})
    assert store.take_signal(a.id, "cancel-train") is False
    store.signal(a.id, "cancel-train")
    store.signal(a.id, "cancel-train")
    store.signal(a.id, "other")
    assert store.take_signal(b.id, "cancel-train") is False
    assert store.take_signal(a.id, "cancel-train") is True
    assert store.take_signal(a.id, "cancel-train") is False
    assert store.get(a.id).version == 1  # signals live outside the version
    store.put(store.get(a.id))  # and survive a put
    assert store.take_signal(a.id, "other") is True
    with pytest.raises(SessionNotFound):
        store.signal("never-existed-xxxxxxxxxx", "cancel-train")
    store.signal(b.id, "cancel-train")
    store.delete(b.id)
    assert store.take_signal(b.id, "cancel-train") is False


def test_no_pickle(store: SessionStore) -> None:
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.array("{}"), x=np.array([{"evil": 1}], dtype=object))
    blob = buf.getvalue()
    with pytest.raises(ValueError):
        unpack(blob)
    s = store.create({}, {"x": np.zeros(1)})
    write_raw_blob(store, s.id, blob)
    with pytest.raises(ValueError):
        store.get(s.id)


def test_concurrent_increments(store: SessionStore) -> None:
    s = store.create({"n": 0}, {"w": np.zeros(16)})
    retries: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            retries.extend(increment(store, s.id) for _ in range(25))
        except BaseException as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = store.get(s.id)
    assert got.meta["n"] == 200
    assert got.version == 201
    assert len(retries) == 200


def test_sqlite_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "s.db"
    first = SQLiteStore(path, 3600, 100)
    s = first.create({"n": 1}, {"w": np.arange(4.0)})
    first.close()
    second = SQLiteStore(path, 3600, 100)
    try:
        got = second.get(s.id)
        assert got.meta == {"n": 1}
        got.meta["n"] = 2
        assert second.put(got).version == 2
    finally:
        second.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    third = SQLiteStore(path, 3600, 100)
    assert third.get(s.id).meta == {"n": 2}
    third.close()


CHILD = textwrap.dedent(
    """
    import sys
    from app.store.base import VersionConflict
    from app.store.sqlite import SQLiteStore

    store = SQLiteStore(sys.argv[1], 3600, 100)
    print("ready", flush=True)
    for _ in range(int(sys.argv[3])):
        while True:
            s = store.get(sys.argv[2])
            s.meta["n"] += 1
            try:
                store.put(s)
                break
            except VersionConflict:
                pass
    print(store.get(sys.argv[2]).meta["n"], flush=True)
    """
)


def test_sqlite_shared_with_another_process(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path, 3600, 100)
    s = store.create({"n": 0}, {"w": np.zeros(64)})
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), s.id, "100"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        seen = []
        for _ in range(100):
            seen.append(store.get(s.id).meta["n"])
            increment(store, s.id)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert seen == sorted(seen)
    got = store.get(s.id)
    assert got.meta["n"] == 200
    assert got.version == 201
    store.close()


def test_open_store(tmp_path: Path, redis_url: str) -> None:
    sqlite_store = open_store(f"sqlite:///{tmp_path}/x/s.db", 60, 10)
    assert isinstance(sqlite_store, SQLiteStore)
    assert sqlite_store.path == tmp_path / "x" / "s.db"
    assert (tmp_path / "x" / "s.db").exists()
    sqlite_store.close()
    redis_store = open_store(redis_url, 60, 10)
    assert isinstance(redis_store, RedisStore)
    sid = redis_store.create({"a": 1}, {}).id
    assert redis_store.get(sid).meta == {"a": 1}
    assert redis_store.delete(sid)
    redis_store.close()
    for url in ("postgres://x/y", "memory://", "/tmp/s.db", "sqlite://relative.db", ""):
        with pytest.raises(ValueError):
            open_store(url, 60, 10)


def test_pack_round_trip_without_store() -> None:
    arrays = sample_arrays()
    meta, got = unpack(pack(META, arrays))
    assert meta == META
    assert_arrays_equal(got, arrays)


def test_put_returns_copy(store: SessionStore) -> None:
    s = store.create({}, {})
    s2 = store.put(s)
    assert isinstance(s2, StoredSession)
    assert (s.version, s2.version) == (1, 2)
    with pytest.raises(VersionConflict):
        store.put(s)


def test_redis_close_releases_connections(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as admin:
        before = len(admin.client_list())
        store = RedisStore(redis_url, 60, 10)
        store.create({}, {})
        assert len(admin.client_list()) == before + 1
        store.close()
        deadline = time.monotonic() + 2
        while len(admin.client_list()) != before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(admin.client_list()) == before


def test_version_reads_only_the_version_and_follows_puts(store):
    s = store.create({"n": 1}, {"a": np.zeros(2)})
    assert store.version(s.id) == 1
    store.put(s)
    assert store.version(s.id) == 2
    store.delete(s.id)
    with pytest.raises(SessionNotFound):
        store.version(s.id)


def test_sqlite_processes_starting_together_on_a_new_file_all_open_it(tmp_path: Path) -> None:
    # Switching a new file to WAL needs an exclusive lock, which SQLite refuses at
    # once (no busy timeout) while a second worker is doing the same.
    path = tmp_path / "fresh.db"
    code = (
        "from app.store.sqlite import SQLiteStore;"
        f"s = SQLiteStore({str(path)!r}, 60, 100); s.create({{'a': 1}}, {{}})"
    )
    root = Path(__file__).resolve().parents[3]
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=root, stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    errors = [p.communicate()[1].decode()[-300:] for p in procs if p.wait() != 0]
    assert not errors, errors
    assert SQLiteStore(path, 60, 100).count() == 6
