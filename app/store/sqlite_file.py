"""The SQLite file under the store: its schema, how a connection opens it, and which
errors mean "the file cannot be used now" (StoreUnavailable) rather than a bug."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

BUSY_TIMEOUT_S = 5.0
SQLITE_FULL = 13  # the disk (or max_page_count) is full: the API says so ("store_full")

# Primary result codes meaning "the file cannot be used now", not "the SQL is wrong".
# SQLITE_BUSY comes only after the busy timeout ran out: contention that resolves
# within it never surfaces as an error.
UNAVAILABLE = {
    5: "the file stayed locked by another writer past the busy timeout",  # SQLITE_BUSY
    6: "a table stayed locked",  # SQLITE_LOCKED
    8: "the file is read-only",  # SQLITE_READONLY
    10: "disk I/O error",  # SQLITE_IOERR
    11: "the file is damaged",  # SQLITE_CORRUPT
    13: "the disk is full",  # SQLITE_FULL
    14: "the file or its directory is missing or cannot be opened",  # SQLITE_CANTOPEN
    15: "file locking failed",  # SQLITE_PROTOCOL
    26: "the file is not a database",  # SQLITE_NOTADB
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    blob BLOB NOT NULL,
    created REAL NOT NULL,
    touched REAL NOT NULL,
    cursor INTEGER,
    arrays_version INTEGER
);
CREATE INDEX IF NOT EXISTS sessions_touched ON sessions (touched);
CREATE TABLE IF NOT EXISTS signals (
    id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (id, name)
);
"""


class Holder:
    """Weak-referenceable wrapper (sqlite3.Connection is not), with the identity of the
    file the connection opened."""

    __slots__ = ("db", "file", "__weakref__")

    def __init__(self, db: sqlite3.Connection, file: tuple[int, int]) -> None:
        self.db, self.file = db, file


class FileGone(Exception):
    """The path no longer names the file a connection opened."""


def group_writable(path: Path) -> None:
    """In a process of group 0 (the image's users: uid 10001 or any uid of group 0, as
    OpenShift runs it), let the group write the database: SQLite makes it 0644 whatever
    the umask, and its -wal and -shm files take its mode, so another uid of the group
    could not take over the data folder (app/datadir.py). Elsewhere (a user's own
    machine, where the group may be shared) nothing changes. Only a file this user owns
    is changed."""
    if os.getgid() != 0:
        return
    try:
        st = path.stat()
        if st.st_uid == os.getuid() and not st.st_mode & stat.S_IWGRP:
            path.chmod(stat.S_IMODE(st.st_mode) | stat.S_IRGRP | stat.S_IWGRP)
    except OSError:  # not ours to change: app/datadir.py says what is wrong, if anything
        pass


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the regular file at path; None if there is none."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def reason(exc: sqlite3.Error) -> str | None:
    """Why the file cannot be used, or None for an error that is not about availability."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    why = UNAVAILABLE.get(code & 0xFF)
    return None if why is None else f"{why} ({exc})"


def use_wal(db: sqlite3.Connection) -> None:
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


# Columns added since the first schema: a file made before gets them on open (NULL
# in old rows: the cursor is then the blob's, and the arrays are the version's).
ADDED = {"cursor": "INTEGER", "arrays_version": "INTEGER", "client": "TEXT"}


def add_columns(db: sqlite3.Connection) -> None:
    have = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
    for name, kind in ADDED.items():
        if name not in have:
            try:
                db.execute(f"ALTER TABLE sessions ADD COLUMN {name} {kind}")
            except sqlite3.OperationalError as exc:  # another process added it meanwhile
                if "duplicate column" not in str(exc):
                    raise
    # After the column exists (a file made before has it only now): a client's sessions.
    db.execute("CREATE INDEX IF NOT EXISTS sessions_client ON sessions (client, touched)")
