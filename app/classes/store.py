"""Where live classes are kept: beside the sessions, in the same SQLite file or Redis.

Every worker (and, with Redis, every replica) reads and changes a class through
here, so a teacher on one and students on another see one class. A change is a
read-modify-write of the class record that raises its `seq` by one, atomic in both
backends (SQLite: one IMMEDIATE transaction; Redis: WATCH/MULTI). How the other
workers hear of a change is the hub's business (app/classes/hub.py): SQLite's watch
the `seq` column, Redis's subscribe to `publish`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from app.store.base import SessionStore, store_failed
from app.store.sqlite_file import BUSY_TIMEOUT_S

Record = dict[str, Any]
Change = Callable[[Record], None]  # changes a record in place (or raises to change nothing)


class ClassStore(ABC):
    """Class records, their students (by token hash) and their answers."""

    backend: ClassVar[str] = "store"

    @abstractmethod
    def create(self, code: str, teacher: str, record: Record, ttl_s: float) -> bool:
        """Store a new class under `code`; False if a live class has that code."""

    @abstractmethod
    def load(self, code: str) -> tuple[Record, str] | None:
        """(record, teacher token hash), or None for no live class (expired too)."""

    @abstractmethod
    def update(self, code: str, change: Change, ttl_s: float) -> Record:
        """Apply `change` to the record and raise its seq, atomically; refreshes the
        class's time to live. LookupError if there is no such class."""

    def seqs(self, codes: list[str]) -> dict[str, int]:
        """The seq of each of these classes that exists (for a hub that polls)."""
        return {}

    @abstractmethod
    def join(self, code: str, token: str, nick: str, cap: int, ttl_s: float) -> int:
        """Add a student; the number of students after, or -1 if `cap` are in."""

    @abstractmethod
    def student(self, code: str, token: str) -> dict[str, Any] | None:
        """{nick, mode, seen} of a student, or None."""

    @abstractmethod
    def seen(self, code: str, token: str, mode: str | None, ttl_s: float) -> None:
        """The student is there now (and, with `mode`, following or exploring)."""

    @abstractmethod
    def students(self, code: str) -> list[dict[str, Any]]:
        """Every student's {nick, mode, seen}."""

    @abstractmethod
    def put_answer(self, code: str, qid: str, token: str, answer: dict[str, Any]) -> None:
        """A student's answer to question `qid` (a second one replaces the first)."""

    @abstractmethod
    def answer(self, code: str, qid: str, token: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def answers(self, code: str, qid: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def end(self, code: str, record: Record, keep_s: float) -> None:
        """Drop the class's students and answers; keep `record` (ended) `keep_s`."""

    def publish(self, code: str, payload: bytes) -> None:  # noqa: B027 - SQLite's hub polls
        """Tell every replica's hub of a change (Redis pub/sub)."""

    def close(self) -> None:  # noqa: B027
        """Release connections."""


def open_class_store(sessions: SessionStore) -> ClassStore:
    """The class store beside a session store, on the same file or Redis."""
    if sessions.backend == "redis":
        from app.classes.store_redis import RedisClasses

        return RedisClasses(sessions.client)  # type: ignore[attr-defined]
    return SQLiteClasses(sessions.path)  # type: ignore[attr-defined]


SCHEMA = """
CREATE TABLE IF NOT EXISTS classes (
    code TEXT PRIMARY KEY, seq INTEGER NOT NULL, teacher TEXT NOT NULL,
    record TEXT NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS class_students (
    code TEXT NOT NULL, token TEXT NOT NULL, nick TEXT NOT NULL, mode TEXT NOT NULL,
    seen REAL NOT NULL, PRIMARY KEY (code, token)
);
CREATE TABLE IF NOT EXISTS class_answers (
    code TEXT NOT NULL, qid TEXT NOT NULL, token TEXT NOT NULL, answer TEXT NOT NULL,
    PRIMARY KEY (code, qid, token)
);
"""


class SQLiteClasses(ClassStore):
    """Classes in the sessions' SQLite file (WAL): one connection per thread."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        with self._db("open") as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _db(self, operation: str) -> Iterator[sqlite3.Connection]:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        try:
            if db is None:
                db = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=rw", uri=True,
                    timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False,
                )  # fmt: skip
                self._local.db = db
            yield db
        except sqlite3.Error as exc:
            # Drop the connection (the next operation opens the file again) and say why.
            self._local.db = None
            if db is not None:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            raise store_failed(self.backend, operation, exc, str(exc)) from exc

    @contextlib.contextmanager
    def _tx(self, operation: str) -> Iterator[sqlite3.Connection]:
        with self._db(operation) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def create(self, code: str, teacher: str, record: Record, ttl_s: float) -> bool:
        now = time.time()
        with self._tx("class_create") as db:
            # Classes that expired go now, with their students and answers.
            db.execute("DELETE FROM classes WHERE expires < ?", (now,))
            if db.execute("SELECT 1 FROM classes WHERE code = ?", (code,)).fetchone():
                return False
            for table in ("class_students", "class_answers"):
                db.execute(f"DELETE FROM {table} WHERE code NOT IN (SELECT code FROM classes)")
            db.execute(
                "INSERT INTO classes VALUES (?, ?, ?, ?, ?)",
                (code, record["seq"], teacher, json.dumps(record), now + ttl_s),
            )
        return True

    def load(self, code: str) -> tuple[Record, str] | None:
        with self._db("class_load") as db:
            row = db.execute(
                "SELECT record, teacher FROM classes WHERE code = ? AND expires >= ?",
                (code, time.time()),
            ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def update(self, code: str, change: Change, ttl_s: float) -> Record:
        with self._tx("class_update") as db:
            row = db.execute(
                "SELECT record FROM classes WHERE code = ? AND expires >= ?", (code, time.time())
            ).fetchone()
            if row is None:
                raise LookupError(code)
            record = json.loads(row[0])
            change(record)
            record["seq"] += 1
            record["touched"] = time.time()
            db.execute(
                "UPDATE classes SET record = ?, seq = ?, expires = ? WHERE code = ?",
                (json.dumps(record), record["seq"], time.time() + ttl_s, code),
            )
        return record

    def seqs(self, codes: list[str]) -> dict[str, int]:
        if not codes:
            return {}
        marks = ",".join("?" * len(codes))
        with self._db("class_seqs") as db:
            rows = db.execute(f"SELECT code, seq FROM classes WHERE code IN ({marks})", codes)
            return dict(rows.fetchall())

    def join(self, code: str, token: str, nick: str, cap: int, ttl_s: float) -> int:
        with self._tx("class_join") as db:
            (n,) = db.execute(
                "SELECT count(*) FROM class_students WHERE code = ?", (code,)
            ).fetchone()
            if n >= cap:
                return -1
            db.execute(
                "INSERT INTO class_students VALUES (?, ?, ?, 'follow', ?)",
                (code, token, nick, time.time()),
            )
        return n + 1

    def student(self, code: str, token: str) -> dict[str, Any] | None:
        with self._db("class_student") as db:
            row = db.execute(
                "SELECT nick, mode, seen FROM class_students WHERE code = ? AND token = ?",
                (code, token),
            ).fetchone()
        return {"nick": row[0], "mode": row[1], "seen": row[2]} if row else None

    def seen(self, code: str, token: str, mode: str | None, ttl_s: float) -> None:
        with self._db("class_seen") as db:
            db.execute(
                "UPDATE class_students SET seen = ?, mode = coalesce(?, mode) "
                "WHERE code = ? AND token = ?",
                (time.time(), mode, code, token),
            )

    def students(self, code: str) -> list[dict[str, Any]]:
        with self._db("class_students") as db:
            rows = db.execute(
                "SELECT nick, mode, seen FROM class_students WHERE code = ?", (code,)
            ).fetchall()
        return [{"nick": n, "mode": m, "seen": s} for n, m, s in rows]

    def put_answer(self, code: str, qid: str, token: str, answer: dict[str, Any]) -> None:
        with self._db("class_answer") as db:
            db.execute(
                "INSERT OR REPLACE INTO class_answers VALUES (?, ?, ?, ?)",
                (code, qid, token, json.dumps(answer)),
            )

    def answer(self, code: str, qid: str, token: str) -> dict[str, Any] | None:
        with self._db("class_answer") as db:
            row = db.execute(
                "SELECT answer FROM class_answers WHERE code = ? AND qid = ? AND token = ?",
                (code, qid, token),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def answers(self, code: str, qid: str) -> list[dict[str, Any]]:
        with self._db("class_answers") as db:
            rows = db.execute(
                "SELECT answer FROM class_answers WHERE code = ? AND qid = ?", (code, qid)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def end(self, code: str, record: Record, keep_s: float) -> None:
        with self._tx("class_end") as db:
            db.execute("DELETE FROM class_students WHERE code = ?", (code,))
            db.execute("DELETE FROM class_answers WHERE code = ?", (code,))
            db.execute(
                "UPDATE classes SET record = ?, seq = ?, expires = ? WHERE code = ?",
                (json.dumps(record), record["seq"], time.time() + keep_s, code),
            )
