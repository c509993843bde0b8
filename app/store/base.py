"""The session store interface.

A stored session is JSON metadata plus named NumPy arrays, serialised as one
.npz blob (allow_pickle=False; no pickle anywhere) and a version number.
Writes are compare-and-swap on the version: two requests that both read
version 3 cannot both write version 4, the second gets VersionConflict (the
API answers 409 and the client retries).
"""

from __future__ import annotations

import io
import json
import secrets
import threading
import zipfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class SessionNotFound(KeyError):
    """No session with that id (never existed, deleted, expired or evicted)."""


class VersionConflict(RuntimeError):
    """The session changed since it was read; re-read and retry."""


@dataclass
class StoredSession:
    id: str
    version: int
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def new_session_id() -> str:
    """128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def pack(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """meta (JSON) + arrays as one uncompressed .npz blob."""
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, __meta__=np.array(json.dumps(meta)), **arrays)
    return buf.getvalue()


# np.load parses each .npy header with ast.literal_eval, and CPython before 3.11.8
# (Debian 12 ships 3.11.2) shares the AST constructor's recursion counter between
# threads: two request threads loading sessions at once could fail with "SystemError:
# AST constructor recursion depth mismatch" (cpython gh-106905), an HTTP 500.
_NPY_HEADERS = threading.Lock()


def unpack(blob: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of pack; refuses pickled objects."""
    try:
        with _NPY_HEADERS, np.load(io.BytesIO(blob), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"corrupt stored session: {exc}") from None
    meta = json.loads(str(arrays.pop("__meta__")))
    return meta, arrays


class SessionStore(ABC):
    """Where sessions live between requests (and across workers and restarts)."""

    def __init__(self, ttl_seconds: int, max_sessions: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_sessions = max_sessions

    @abstractmethod
    def create(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> StoredSession:
        """Store a new session (version 1) under a fresh id; evict the oldest sessions
        beyond max_sessions."""

    @abstractmethod
    def get(self, session_id: str) -> StoredSession:
        """The session, or SessionNotFound (also when expired)."""

    @abstractmethod
    def version(self, session_id: str) -> int:
        """The stored version alone (no blob read), or SessionNotFound: a worker
        holding the session live at that version need not read it again."""

    @abstractmethod
    def put(self, session: StoredSession) -> StoredSession:
        """Write session if the stored version still equals session.version, else
        VersionConflict; returns it with version + 1. Refreshes its TTL."""

    @abstractmethod
    def delete(self, session_id: str) -> bool:
        """Remove a session; False if there was none."""

    @abstractmethod
    def count(self) -> int:
        """Live sessions."""

    @abstractmethod
    def signal(self, session_id: str, name: str) -> None:
        """Raise a named flag on a session (e.g. "cancel-train"), outside its version."""

    @abstractmethod
    def take_signal(self, session_id: str, name: str) -> bool:
        """Clear the flag; True if it was raised."""

    def close(self) -> None:  # noqa: B027 - optional for backends
        """Release connections."""


def open_store(url: str, ttl_seconds: int, max_sessions: int) -> SessionStore:
    """A store for `sqlite:///path.db` or `redis://host:port/db`."""
    if url.startswith("sqlite:///"):
        from app.store.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"), ttl_seconds, max_sessions)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from app.store.redis import RedisStore

        return RedisStore(url, ttl_seconds, max_sessions)
    raise ValueError(
        f"unsupported store URL {url!r}: use sqlite:///path.db or redis://host:port/db"
    )
