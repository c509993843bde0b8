"""One worker's followers of live classes, and how a change reaches them.

Each open event stream (a student's page, the teacher's, a projector) is a Follower
of one class, on this worker's event loop. A follower keeps only the latest state
(the highest seq): a page that falls behind skips to the newest step instead of
replaying every one. A change reaches the hub three ways:

- from this worker: the request that made it delivers it at once;
- SQLite (one machine, several workers): a watcher thread reads the `seq` of the
  classes this worker's followers follow every WATCH_S and loads the ones that moved;
- Redis (several replicas): a listener thread subscribes to every class's channel
  (one pattern subscription a worker) and delivers what is published.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.classes.store import ClassStore
from app.classes.store_redis import CHANNEL_PREFIX, RedisClasses
from app.metrics import CLASS_EVENTS, CLASS_STREAMS

log = logging.getLogger("glassbox.classes")
WATCH_S = 0.05  # SQLite: how often a worker looks for changes made by another worker


@dataclass(eq=False)
class Follower:
    code: str
    seq: int = 0
    latest: bytes | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def sent(self, seq: int) -> None:
        """Its stream sent state `seq` itself: a state the hub handed over that is not
        newer is dropped."""
        if self.seq <= seq:
            self.seq, self.latest = seq, None
            self.event.clear()

    async def next(self, timeout: float) -> bytes | None:
        """The newest state not yet sent, or None after `timeout` seconds without one."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()
        latest, self.latest = self.latest, None
        return latest


class Hub:
    """The followers of this worker, by class code."""

    def __init__(self, store: ClassStore, current: Callable[[str], tuple[int, bytes] | None]):
        # current(code): the class's (seq, public state JSON) now, or None if it is gone
        self.store, self.current = store, current
        self.followers: dict[str, set[Follower]] = {}
        self.seqs: dict[str, int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # --- on the event loop -----------------------------------------------------------

    def follow(self, code: str) -> Follower:
        self.loop = asyncio.get_running_loop()
        follower = Follower(code)
        with self._lock:
            self.followers.setdefault(code, set()).add(follower)
        CLASS_STREAMS.inc()
        self._start()
        return follower

    def leave(self, follower: Follower) -> None:
        CLASS_STREAMS.dec()
        with self._lock:
            group = self.followers.get(follower.code)
            if group is not None:
                group.discard(follower)
                if not group:
                    del self.followers[follower.code]
                    self.seqs.pop(follower.code, None)

    def _deliver(self, code: str, seq: int, payload: bytes) -> None:
        if seq <= self.seqs.get(code, 0):
            return  # seen already (this worker made it, and Redis echoed it)
        self.seqs[code] = seq
        sent = 0
        for f in list(self.followers.get(code, ())):
            if seq > f.seq:
                f.seq, f.latest = seq, payload
                f.event.set()
                sent += 1
        CLASS_EVENTS.inc(sent)

    # --- from any thread --------------------------------------------------------------

    def deliver(self, code: str, seq: int, payload: bytes) -> None:
        """Hand a class's new state to its followers on this worker."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._deliver, code, seq, payload)

    def followed(self) -> list[str]:
        with self._lock:
            return list(self.followers)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {code: len(group) for code, group in self.followers.items()}

    def _start(self) -> None:
        if self._thread is not None:
            return
        run = self._listen if isinstance(self.store, RedisClasses) else self._watch
        self._thread = threading.Thread(target=run, name="class-hub", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        """SQLite: look for changes of the followed classes that other workers made."""
        while not self._stop.wait(WATCH_S):
            codes = self.followed()
            if not codes:
                continue
            try:
                seqs = self.store.seqs(codes)
                for code in codes:
                    seq = seqs.get(code)
                    if seq is None or seq > self.seqs.get(code, 0):
                        now = self.current(code)  # None: gone (expired) -> an ended state
                        if now is not None:
                            self.deliver(code, *now)
            except Exception:  # the store is down: the streams wait, and say nothing new
                log.warning("class hub: the store did not answer", exc_info=True)
                self._stop.wait(1.0)

    def _listen(self) -> None:
        """Redis: one pattern subscription for every class; reconnects when Redis does."""
        assert isinstance(self.store, RedisClasses)
        while not self._stop.is_set():
            try:
                pubsub = self.store.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(CHANNEL_PREFIX + "*")
                # A class that changed while this worker was not subscribed: catch up.
                for code in self.followed():
                    now = self.current(code)
                    if now is not None:
                        self.deliver(code, *now)
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=1.0)
                    if msg is None or msg.get("type") != "pmessage":
                        continue
                    channel = msg["channel"]
                    code = channel.decode() if isinstance(channel, bytes) else channel
                    payload = msg["data"]
                    payload = payload if isinstance(payload, bytes) else payload.encode()
                    seq = int(json.loads(payload)["seq"])
                    self.deliver(code.removeprefix(CHANNEL_PREFIX), seq, payload)
            except Exception:
                log.warning("class hub: Redis subscription lost; retrying", exc_info=True)
                time.sleep(1.0)
