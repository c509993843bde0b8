"""SQLite session store: one file, WAL mode, safe across threads and worker processes."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from app.store.base import (
    SessionNotFound,
    SessionStore,
    StoredSession,
    VersionConflict,
    new_session_id,
    pack,
    unpack,
)

BUSY_TIMEOUT_S = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    blob BLOB NOT NULL,
    created REAL NOT NULL,
    touched REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_touched ON sessions (touched);
CREATE TABLE IF NOT EXISTS signals (
    id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (id, name)
);
"""


class _Holder:
    """Weak-referenceable wrapper (sqlite3.Connection is not)."""

    __slots__ = ("db", "__weakref__")

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to WAL (it stays so). The switch needs an exclusive lock and
    SQLite answers "database is locked" at once, without the busy timeout, when
    another process (a second worker starting) holds one: retry for a while."""
    if db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class SQLiteStore(SessionStore):
    """Sessions in one SQLite file, one connection per thread."""

    def __init__(self, path: str | os.PathLike[str], ttl_seconds: int, max_sessions: int) -> None:
        super().__init__(ttl_seconds, max_sessions)
        if str(path) in ("", ":memory:"):
            # Every thread would get its own empty in-memory database.
            raise ValueError("SQLiteStore needs a file path, not an in-memory database")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pid = os.getpid()
        self._local = threading.local()
        # Holders live in their thread's threading.local, so a finished thread's
        # connection is closed when the thread goes; this set only lets close() reach
        # the live ones.
        self._holders: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._holders_lock = threading.Lock()
        self._forked_away: list[_Holder] = []
        self._conn().executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,  # autocommit; multi-statement writes use BEGIN IMMEDIATE
            check_same_thread=False,  # only so close() may close other threads' connections
        )
        db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        _use_wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def _conn(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            # Forked child: SQLite connections must not cross fork(). Keep the parent's
            # objects referenced so they are never finalised (closed) in this process.
            self._forked_away.extend(self._holders)
            self._pid = os.getpid()
            self._local = threading.local()
            self._holders = weakref.WeakSet()
            self._holders_lock = threading.Lock()
        holder: _Holder | None = getattr(self._local, "holder", None)
        if holder is None:
            holder = _Holder(self._connect())
            self._local.holder = holder
            with self._holders_lock:
                self._holders.add(holder)
        return holder.db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the write lock from its start, so writers serialise."""
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _cutoff(self, now: float) -> float:
        return now - self.ttl_seconds

    def create(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> StoredSession:
        """Store a new session (version 1); purge expired and evict the oldest."""
        blob = pack(meta, arrays)
        session_id = new_session_id()
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE touched < ?", (self._cutoff(now),))
            (live,) = db.execute("SELECT COUNT(*) FROM sessions").fetchone()
            excess = live + 1 - self.max_sessions
            if excess > 0:
                db.execute(
                    "DELETE FROM sessions WHERE id IN "
                    "(SELECT id FROM sessions ORDER BY touched, rowid LIMIT ?)",
                    (excess,),
                )
            db.execute(
                "INSERT INTO sessions (id, version, blob, created, touched) VALUES (?, 1, ?, ?, ?)",
                (session_id, blob, now, now),
            )
        return StoredSession(session_id, 1, meta, dict(arrays))

    def get(self, session_id: str) -> StoredSession:
        """The session, or SessionNotFound (expired ones are deleted on the way)."""
        db = self._conn()
        row = db.execute(
            "SELECT version, blob, touched FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None:
            raise SessionNotFound(session_id)
        version, blob, touched = row
        cutoff = self._cutoff(time.time())
        if touched < cutoff:
            # Conditional, in case another worker refreshed it meanwhile.
            db.execute("DELETE FROM sessions WHERE id = ? AND touched < ?", (session_id, cutoff))
            raise SessionNotFound(session_id)
        meta, arrays = unpack(blob)
        return StoredSession(session_id, version, meta, arrays)

    def version(self, session_id: str) -> int:
        """The stored version, or SessionNotFound (also when expired)."""
        row = (
            self._conn()
            .execute("SELECT version, touched FROM sessions WHERE id = ?", (session_id,))
            .fetchone()
        )
        if row is None or row[1] < self._cutoff(time.time()):
            raise SessionNotFound(session_id)
        return int(row[0])

    def put(self, session: StoredSession) -> StoredSession:
        """Compare-and-swap on the version; returns a copy with version + 1."""
        blob = pack(session.meta, session.arrays)
        now = time.time()
        cutoff = self._cutoff(now)
        with self._write() as db:
            cur = db.execute(
                "UPDATE sessions SET version = version + 1, blob = ?, touched = ? "
                "WHERE id = ? AND version = ? AND touched >= ?",
                (blob, now, session.id, session.version, cutoff),
            )
            if cur.rowcount == 0:
                row = db.execute(
                    "SELECT touched FROM sessions WHERE id = ?", (session.id,)
                ).fetchone()
                if row is None or row[0] < cutoff:
                    raise SessionNotFound(session.id)
                raise VersionConflict(session.id)
        return replace(session, version=session.version + 1)

    def delete(self, session_id: str) -> bool:
        """Remove a session and its signals; False if there was no live one."""
        rows = (
            self._conn()
            .execute("DELETE FROM sessions WHERE id = ? RETURNING touched", (session_id,))
            .fetchall()
        )
        return bool(rows) and rows[0][0] >= self._cutoff(time.time())

    def count(self) -> int:
        """Live (unexpired) sessions."""
        (n,) = (
            self._conn()
            .execute(
                "SELECT COUNT(*) FROM sessions WHERE touched >= ?", (self._cutoff(time.time()),)
            )
            .fetchone()
        )
        return n

    def signal(self, session_id: str, name: str) -> None:
        """Raise a flag; SessionNotFound if the session is not live."""
        cutoff = self._cutoff(time.time())
        with self._write() as db:
            row = db.execute("SELECT touched FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None or row[0] < cutoff:
                raise SessionNotFound(session_id)
            db.execute("INSERT OR IGNORE INTO signals (id, name) VALUES (?, ?)", (session_id, name))

    def take_signal(self, session_id: str, name: str) -> bool:
        """Clear the flag; True if it was raised."""
        cur = self._conn().execute(
            "DELETE FROM signals WHERE id = ? AND name = ?", (session_id, name)
        )
        return cur.rowcount > 0

    def close(self) -> None:
        """Close every thread's connection (the store must not be used afterwards)."""
        with self._holders_lock:
            holders = list(self._holders)
            self._holders = weakref.WeakSet()
        for holder in holders:
            holder.db.close()
        self._local = threading.local()
