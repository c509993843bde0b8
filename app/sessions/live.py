"""The sessions a worker keeps live in memory, and the lock each request takes.

Bounded by count (GLASSBOX_LIVE_SESSIONS) and by bytes (GLASSBOX_LIVE_SESSIONS_MB,
as estimated by state.footprint): the least recently used go first; the session
just used always stays. One lock per session id while anyone holds it, so two
requests of one worker for one session take turns.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

from app.sessions.state import Live, footprint


class LiveSessions:
    """Live sessions by id, least recently used first."""

    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count, self.max_bytes = max_count, max_bytes
        self._live: OrderedDict[str, Live] = OrderedDict()
        # each one's footprint in bytes, with the (trace, cursor) it was taken at
        self._sizes: dict[str, tuple[tuple[int, int] | None, int]] = {}
        self.bytes = 0
        # A request that has fetched a lock keeps it alive, so a second one gets the same.
        self._locks: weakref.WeakValueDictionary[str, SessionLock] = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def __len__(self) -> int:
        return len(self._live)

    def ids(self) -> list[str]:
        """Least recently used first."""
        with self._guard:
            return list(self._live)

    def get(self, sid: str) -> Live | None:
        return self._live.get(sid)

    def lock(self, sid: str) -> SessionLock:
        with self._guard:
            lock = self._locks.get(sid)
            if lock is None:
                lock = self._locks[sid] = SessionLock()
            return lock

    def held_lock(self, sid: str) -> SessionLock | None:
        """The session's lock if some request holds a reference to it now."""
        return self._locks.get(sid)

    def keep(self, live: Live) -> None:
        """Hold `live` as the most recently used, then drop the least recently used
        beyond the count or the bytes."""
        # Sized again only when its pass moved on (a BiLSTM pass's trace takes 0.5 ms
        # to add up); reads between steps add only derived tensors, a little.
        key = (id(live.run.trace), live.run.cursor)
        known = self._sizes.get(live.id)
        size = known[1] if known is not None and known[0] == key else footprint(live)
        with self._guard:
            # read again under the guard: another request may have dropped it meanwhile
            prev = self._sizes.get(live.id)
            self.bytes += size - (prev[1] if prev is not None else 0)
            self._sizes[live.id] = (key, size)
            self._live[live.id] = live
            self._live.move_to_end(live.id)
            while len(self._live) > 1 and (
                len(self._live) > self.max_count or self.bytes > self.max_bytes
            ):
                old, _ = self._live.popitem(last=False)
                self.bytes -= self._sizes.pop(old, (None, 0))[1]

    def forget(self, sid: str) -> None:
        with self._guard:
            self._live.pop(sid, None)
            self.bytes -= self._sizes.pop(sid, (None, 0))[1]

    def clear(self) -> None:
        """Drop every live session (as after a restart: the next request rebuilds)."""
        with self._guard:
            self._live.clear()
            self._sizes.clear()
            self.bytes = 0


class SessionLock:
    """A lock that a WeakValueDictionary can hold (threading.Lock cannot be)."""

    __slots__ = ("__weakref__", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __enter__(self) -> None:
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()
