"""The session store interface.

A stored session is JSON metadata plus named NumPy arrays, serialised as one
.npz blob (allow_pickle=False; no pickle anywhere) and a version number.
Writes are compare-and-swap on the version: two requests that both read
version 3 cannot both write version 4, the second gets VersionConflict (the
API answers 409 and the client retries).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import secrets
import threading
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

import numpy as np


class SessionNotFound(KeyError):
    """No session with that id (never existed, deleted, expired or evicted)."""


class VersionConflict(RuntimeError):
    """The session changed since it was read; re-read and retry."""


class ClientSessionsFull(RuntimeError):
    """A client already holds `limit` live sessions, none of them idle CLIENT_IDLE_S
    (the API's 429; see app/fairshare.py)."""

    def __init__(self, client: str, count: int, limit: int) -> None:
        self.client, self.count, self.limit = client, count, limit
        super().__init__(f"{client} holds {count} sessions, the most allowed is {limit}")


# A create at a client's session limit takes that client's own session idle longest
# only if it has been idle this long. Ten minutes: a session a student is working in is
# stepped every few seconds, so one idle that long is one they left (a closed tab, a
# page changed before it deleted its replaced sessions); a class behind one address
# reaches the limit within a lesson and must get those back, not wait an hour.
CLIENT_IDLE_S = 600


class StoreUnavailable(RuntimeError):
    """The store cannot be used right now: Redis is down or does not answer in time,
    the SQLite file or its directory is missing or unreadable, or the file stayed
    locked past the busy timeout. Retryable (the API answers 503 with Retry-After).

    A write that fails this way changed nothing: SQLite rolls its transaction back,
    and a Redis write is one Lua script, run whole or not at all. (If Redis ran it
    but the reply was lost, the stored session moved on by one whole version, as if
    the request had succeeded: putting the same StoredSession again is a
    VersionConflict, and the service, which drops its live copy on any error, reads
    that version back; never a half-written session.)
    """

    def __init__(
        self, backend: str, operation: str, reason: str, code: str = "store_unavailable"
    ) -> None:
        # `code` names the kind of failure for the API's body (a catalog key
        # "error.<code>"): "store_unavailable", or "store_full" for a full disk.
        self.backend, self.operation, self.reason, self.code = backend, operation, reason, code
        super().__init__(
            f"the session store ({backend}) is unavailable: {reason} (during {operation}); "
            "this is temporary, retry in a few seconds"
        )


# Called with (backend, operation, exception) whenever a store operation fails with
# StoreUnavailable: the hook for a store-errors counter (app metrics register here).
StoreErrorHook = Callable[[str, str, BaseException], None]
_ERROR_HOOKS: list[StoreErrorHook] = []


def on_store_error(hook: StoreErrorHook) -> Callable[[], None]:
    """Call `hook(backend, operation, exc)` on every store failure (e.g. to count them);
    returns what removes the hook again."""
    if hook not in _ERROR_HOOKS:
        _ERROR_HOOKS.append(hook)

    def remove() -> None:
        if hook in _ERROR_HOOKS:
            _ERROR_HOOKS.remove(hook)

    return remove


def store_failed(
    backend: str, operation: str, cause: BaseException, reason: str, code: str = "store_unavailable"
) -> StoreUnavailable:
    """The StoreUnavailable to raise for `cause`, after telling the error hooks."""
    for hook in list(_ERROR_HOOKS):
        with contextlib.suppress(Exception):  # a broken counter must not hide the store error
            hook(backend, operation, cause)
    return StoreUnavailable(backend, operation, reason, code)


@dataclass
class StoredSession:
    id: str
    version: int
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    # The version at which `arrays` (and the rest of meta) were last written: later
    # versions up to `version` only moved the cursor (SessionStore.advance).
    arrays_version: int = 0


@dataclass(frozen=True)
class Head:
    """A stored session's version, the version its arrays were written at, and its
    cursor: enough for a worker to tell whether its live copy is current, or only
    behind by steps another worker ran (which it can run too), without the blob."""

    version: int
    arrays_version: int
    cursor: int | None  # None: not recorded apart from the blob (a session stored before)


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

    backend: ClassVar[str] = "store"  # its name in messages and metrics: sqlite, redis

    def __init__(self, ttl_seconds: int, max_sessions: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_sessions = max_sessions

    @abstractmethod
    def create(
        self, meta: dict[str, Any], arrays: dict[str, np.ndarray], client: str = "",
        client_max: int = 0,
    ) -> StoredSession:  # fmt: skip
        """Store a new session (version 1) under a fresh id; evict the least recently
        used sessions beyond max_sessions. With a `client` and `client_max`, a client
        holding that many live sessions first loses its own least recently used one
        if it has been idle CLIENT_IDLE_S, else ClientSessionsFull."""

    @abstractmethod
    def get(self, session_id: str) -> StoredSession:
        """The session, or SessionNotFound (also when expired)."""

    @abstractmethod
    def head(self, session_id: str) -> Head:
        """The stored version, arrays version and cursor (no blob read), or
        SessionNotFound: a worker holding the session live at that version need not
        read it again."""

    def version(self, session_id: str) -> int:
        """The stored version alone, or SessionNotFound."""
        return self.head(session_id).version

    @abstractmethod
    def put(self, session: StoredSession) -> StoredSession:
        """Write session if the stored version still equals session.version, else
        VersionConflict; returns it with version + 1 (also its arrays_version).
        Refreshes its TTL."""

    @abstractmethod
    def advance(self, session_id: str, version: int, cursor: int) -> int:
        """Record that the pass moved on to `cursor` and nothing else changed: a
        compare-and-swap on `version` as put's, writing no blob; returns the new
        version. A step's write (its arrays are the pass start, unchanged)."""

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

    @abstractmethod
    def ping(self) -> None:
        """Check the store answers (readiness); StoreUnavailable if it does not."""

    def close(self) -> None:  # noqa: B027 - optional for backends
        """Release connections."""

    @contextlib.contextmanager
    def _faults(self, operation: str) -> Iterator[None]:
        """Where a backend turns its own outage errors into StoreUnavailable (and tells
        the error hooks through store_failed); this default lets everything through."""
        yield


_Store = TypeVar("_Store", bound=SessionStore)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def guarded(
    method: Callable[Concatenate[_Store, _P], _R],
) -> Callable[Concatenate[_Store, _P], _R]:
    """Run a store method inside its store's `_faults(<method name>)`."""

    @functools.wraps(method)
    def run(self: _Store, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._faults(method.__name__):
            return method(self, *args, **kwargs)

    return run


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
