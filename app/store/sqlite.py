"""SQLite session store: one file, WAL mode, safe across threads and worker processes.

When the file cannot be used (its directory or the file itself is gone or replaced,
a disk error, a full disk, a lock held past the busy timeout) an operation raises
StoreUnavailable (the API's 503) and drops its thread's connection; the next
operation opens the file again, so the store recovers by itself when the file is back.
An open connection would keep using a moved or deleted file unnoticed (its descriptor
stays valid, and root ignores permissions), so each operation also checks that the
path still names the file its connection opened (one stat, about a microsecond).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from app.store.base import (
    CLIENT_IDLE_S,
    ClientSessionsFull,
    Head,
    SessionNotFound,
    SessionStore,
    StoredSession,
    VersionConflict,
    guarded,
    new_session_id,
    pack,
    store_failed,
    unpack,
)
from app.store.sqlite_file import (
    BUSY_TIMEOUT_S,
    SCHEMA,
    SQLITE_FULL,
    FileGone,
    Holder,
    add_columns,
    group_writable,
    identity,
    reason,
    use_wal,
)


class SQLiteStore(SessionStore):
    """Sessions in one SQLite file, one connection per thread."""

    backend = "sqlite"

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
        self._holders: weakref.WeakSet[Holder] = weakref.WeakSet()
        self._holders_lock = threading.Lock()
        self._forked_away: list[Holder] = []
        # Only here is the file created: reopened later, a missing file is an error, not
        # a new empty store (e.g. a data volume that is not mounted).
        with closing(sqlite3.connect(self.path)):
            pass
        group_writable(self.path)
        with self._faults("open"):
            db = self._conn()
            db.executescript(SCHEMA)
            add_columns(db)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode=rw",
            uri=True,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,  # autocommit; multi-statement writes use BEGIN IMMEDIATE
            check_same_thread=False,  # only so close() may close other threads' connections
        )
        db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        use_wal(db)
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
        holder: Holder | None = getattr(self._local, "holder", None)
        if holder is not None and holder.file != identity(self.path):
            self._drop()  # the file moved, went or was replaced: open the path anew
            holder = None
        if holder is None:
            db = self._connect()
            file = identity(self.path)
            if file is None:  # gone between the open and now
                db.close()
                raise FileGone
            holder = Holder(db, file)
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

    @guarded
    def create(
        self, meta: dict[str, Any], arrays: dict[str, np.ndarray], client: str = "",
        client_max: int = 0,
    ) -> StoredSession:  # fmt: skip
        """Store a new session (version 1); purge expired, keep the client within
        client_max, and evict the least recently used beyond max_sessions."""
        blob = pack(meta, arrays)
        session_id = new_session_id()
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE touched < ?", (self._cutoff(now),))
            if client and client_max > 0:
                self._client_room(db, client, client_max, now)
            (live,) = db.execute("SELECT COUNT(*) FROM sessions").fetchone()
            excess = live + 1 - self.max_sessions
            if excess > 0:
                db.execute(
                    "DELETE FROM sessions WHERE id IN "
                    "(SELECT id FROM sessions ORDER BY touched, rowid LIMIT ?)",
                    (excess,),
                )
            db.execute(
                "INSERT INTO sessions (id, version, blob, created, touched, cursor, "
                "arrays_version, client) VALUES (?, 1, ?, ?, ?, ?, 1, ?)",
                (session_id, blob, now, now, meta.get("cursor"), client or None),
            )
        return StoredSession(session_id, 1, meta, dict(arrays), 1)

    @staticmethod
    def _client_room(db: sqlite3.Connection, client: str, most: int, now: float) -> None:
        """Room for one more session of `client` (in create's transaction): its least
        recently used sessions idle CLIENT_IDLE_S go, else ClientSessionsFull."""
        (held,) = db.execute("SELECT COUNT(*) FROM sessions WHERE client = ?", (client,)).fetchone()
        excess = held + 1 - most
        if excess <= 0:
            return
        gone = db.execute(
            "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE client = ? "
            "AND touched < ? ORDER BY touched, rowid LIMIT ?)",
            (client, now - CLIENT_IDLE_S, excess),
        ).rowcount
        if gone < excess:
            raise ClientSessionsFull(client, held - gone, most)

    @guarded
    def get(self, session_id: str) -> StoredSession:
        """The session, or SessionNotFound (expired ones are deleted on the way)."""
        db = self._conn()
        row = db.execute(
            "SELECT version, blob, touched, cursor, arrays_version FROM sessions WHERE id = ?",
            (session_id,),
        ).fetchone()
        if row is None:
            raise SessionNotFound(session_id)
        version, blob, touched, cursor, arrays_version = row
        cutoff = self._cutoff(time.time())
        if touched < cutoff:
            # Conditional, in case another worker refreshed it meanwhile.
            db.execute("DELETE FROM sessions WHERE id = ? AND touched < ?", (session_id, cutoff))
            raise SessionNotFound(session_id)
        meta, arrays = unpack(blob)
        if cursor is not None:  # steps since the blob was written moved it on
            meta["cursor"] = cursor
        return StoredSession(session_id, version, meta, arrays, arrays_version or version)

    @guarded
    def head(self, session_id: str) -> Head:
        """Version, arrays version and cursor, or SessionNotFound (also when expired)."""
        row = (
            self._conn()
            .execute(
                "SELECT version, touched, cursor, arrays_version FROM sessions WHERE id = ?",
                (session_id,),
            )
            .fetchone()
        )
        if row is None or row[1] < self._cutoff(time.time()):
            raise SessionNotFound(session_id)
        version, _, cursor, arrays_version = row
        return Head(int(version), int(arrays_version or version), cursor)

    @guarded
    def put(self, session: StoredSession) -> StoredSession:
        """Compare-and-swap on the version; returns a copy with version + 1."""
        blob = pack(session.meta, session.arrays)
        version = session.version + 1
        self._swap(
            session.id,
            session.version,
            "blob = ?, cursor = ?, arrays_version = ?",
            (blob, session.meta.get("cursor"), version),
        )
        return replace(session, version=version, arrays_version=version)

    @guarded
    def advance(self, session_id: str, version: int, cursor: int) -> int:
        """Compare-and-swap of the cursor alone; returns the new version."""
        # A row written before arrays_version existed got its blob at `version` (the old
        # code wrote the blob on every write): say so, or every hop would rebuild it.
        columns = "cursor = ?, arrays_version = COALESCE(arrays_version, version)"
        self._swap(session_id, version, columns, (cursor,))
        return version + 1

    def _swap(self, session_id: str, version: int, columns: str, values: tuple[Any, ...]) -> None:
        """UPDATE `columns` (and version + 1, touched) if the version is still `version`."""
        now = time.time()
        cutoff = self._cutoff(now)
        with self._write() as db:
            cur = db.execute(
                f"UPDATE sessions SET version = version + 1, touched = ?, {columns} "
                "WHERE id = ? AND version = ? AND touched >= ?",
                (now, *values, session_id, version, cutoff),
            )
            if cur.rowcount == 0:
                row = db.execute(
                    "SELECT touched FROM sessions WHERE id = ?", (session_id,)
                ).fetchone()
                if row is None or row[0] < cutoff:
                    raise SessionNotFound(session_id)
                raise VersionConflict(session_id)

    @guarded
    def delete(self, session_id: str) -> bool:
        """Remove a session and its signals; False if there was no live one."""
        rows = (
            self._conn()
            .execute("DELETE FROM sessions WHERE id = ? RETURNING touched", (session_id,))
            .fetchall()
        )
        return bool(rows) and rows[0][0] >= self._cutoff(time.time())

    @guarded
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

    @guarded
    def signal(self, session_id: str, name: str) -> None:
        """Raise a flag; SessionNotFound if the session is not live."""
        cutoff = self._cutoff(time.time())
        with self._write() as db:
            row = db.execute("SELECT touched FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None or row[0] < cutoff:
                raise SessionNotFound(session_id)
            db.execute("INSERT OR IGNORE INTO signals (id, name) VALUES (?, ?)", (session_id, name))

    @guarded
    def take_signal(self, session_id: str, name: str) -> bool:
        """Clear the flag; True if it was raised."""
        cur = self._conn().execute(
            "DELETE FROM signals WHERE id = ? AND name = ?", (session_id, name)
        )
        return cur.rowcount > 0

    @guarded
    def ping(self) -> None:
        """StoreUnavailable unless the file opens and holds the sessions table."""
        self._conn().execute("SELECT 1 FROM sessions LIMIT 1").fetchall()

    @contextmanager
    def _faults(self, operation: str) -> Iterator[None]:
        """The file cannot be used: drop this thread's connection (the next operation
        reopens the file) and raise StoreUnavailable. Other errors pass unchanged."""
        try:
            yield
        except FileGone as exc:
            self._drop()
            gone = f"{self.path.name} is gone or was replaced"
            raise store_failed(self.backend, operation, exc, gone) from None
        except sqlite3.Error as exc:
            why = reason(exc)
            if why is None:
                raise
            self._drop()
            # The file's name only: the message reaches students' browsers.
            why = f"{why}, file {self.path.name}"
            full = (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == SQLITE_FULL
            code = "store_full" if full else "store_unavailable"
            raise store_failed(self.backend, operation, exc, why, code) from exc

    def _drop(self) -> None:
        """Close and forget this thread's connection."""
        holder: Holder | None = getattr(self._local, "holder", None)
        self._local.holder = None
        if holder is not None:
            with self._holders_lock:
                self._holders.discard(holder)
            with contextlib.suppress(sqlite3.Error):
                holder.db.close()

    def close(self) -> None:
        """Close every thread's connection (the store must not be used afterwards)."""
        with self._holders_lock:
            holders = list(self._holders)
            self._holders = weakref.WeakSet()
        for holder in holders:
            holder.db.close()
        self._local = threading.local()
