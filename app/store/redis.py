"""Redis session store, for several replicas behind a load balancer.

Keys (KEY_PREFIX = "glassbox:"):
- `glassbox:session:{id}`: hash {version, blob, cursor, av}, EXPIRE ttl (refreshed on
  put and advance); `av` is the version the blob was written at (an advance moves
  only the cursor; see SessionStore.advance);
- `glassbox:signals:{id}`: set of raised signal names, same TTL as its session;
- `glassbox:client:{address}`: sorted set of a client's session ids (by creation),
  for GLASSBOX_CLIENT_SESSIONS; ids of sessions gone are dropped when met;
- `glassbox:sessions`: sorted set of ids scored by last touch (ms, server clock),
  used for max_sessions eviction; members whose hash expired are dropped when met.

Every multi-key change is one Lua script, so it is atomic. The scripts touch keys
they compute from ids, which a standalone Redis allows (not Redis Cluster).

When Redis is down or does not answer, every operation raises StoreUnavailable (the
API's 503). Nothing needs restarting when it returns: the pool opens new connections
on the next call, and a pooled connection that died meanwhile is retried once, at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, cast

import numpy as np
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

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

KEY_PREFIX = "glassbox:"
SESSION_PREFIX = KEY_PREFIX + "session:"
SIGNALS_PREFIX = KEY_PREFIX + "signals:"
INDEX_KEY = KEY_PREFIX + "sessions"
CLIENT_PREFIX = KEY_PREFIX + "client:"  # sorted set of a client's session ids

# Bounded waits, so a Redis that hangs (not refuses) gives a 503 in seconds instead of
# holding a request thread; options in the URL (?socket_timeout=...) take precedence.
CONNECT_TIMEOUT_S = 2.0
REPLY_TIMEOUT_S = 5.0
# The one retry is on a broken connection (a pooled one that Redis closed while it
# restarted), with a fresh connection and no pause; a refusal then fails fast.
RETRY = Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,))
_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

# Server time in ms: replicas with skewed clocks still agree on the order. Milliseconds
# (13 digits) survive Lua's %.14g number-to-string conversion; microseconds would not.
_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: index, session, signals, client set. ARGV: id, blob, ttl_s, max_sessions,
# session prefix, signals prefix, cursor ('' if the meta has none), client ('' for
# none), client_max (0: no limit), idle ms. A client at client_max loses its sessions
# idle `idle ms` (idle longest first) until it has room, else {-1, held}.
_CREATE = (
    _NOW_MS
    + """
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - ttl * 1000))
local most = tonumber(ARGV[9])
if ARGV[8] ~= '' and most > 0 then
  local held = redis.call('ZCARD', KEYS[4])
  if held >= most then
    local cutoff = now - tonumber(ARGV[10])
    local ids = redis.call('ZRANGE', KEYS[4], 0, -1)
    local idle = {}
    for i = 1, #ids do
      local touched = tonumber(redis.call('ZSCORE', KEYS[1], ids[i]) or '-1')
      if touched < cutoff then
        idle[#idle + 1] = {ids[i], touched}
      end
    end
    table.sort(idle, function(a, b) return a[2] < b[2] end)  -- idle longest first
    for i = 1, #idle do
      if held < most then break end
      redis.call('DEL', ARGV[5] .. idle[i][1], ARGV[6] .. idle[i][1])
      redis.call('ZREM', KEYS[1], idle[i][1])
      redis.call('ZREM', KEYS[4], idle[i][1])
      held = held - 1
    end
    if held >= most then
      return {-1, held}
    end
  end
end
local excess = redis.call('ZCARD', KEYS[1]) + 1 - tonumber(ARGV[4])
if excess > 0 then
  local old = redis.call('ZPOPMIN', KEYS[1], excess)
  for i = 1, #old, 2 do
    redis.call('DEL', ARGV[5] .. old[i], ARGV[6] .. old[i])
  end
end
redis.call('HSET', KEYS[2], 'version', 1, 'blob', ARGV[2], 'av', 1)
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[2], 'cursor', ARGV[7])
end
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[1], now, ARGV[1])
if ARGV[8] ~= '' then
  redis.call('ZADD', KEYS[4], now, ARGV[1])
  redis.call('EXPIRE', KEYS[4], ttl)
end
return {1, 0}
"""
)

# KEYS: session, index, signals. ARGV: expected version, ttl_s, id, cursor ('' for
# none)[, blob].
# With a blob (a put) it is written and `av` set to the new version; without (an
# advance) only the cursor moves. Returns the new version, -1 if the session is gone,
# -2 on a version mismatch.
_PUT = (
    """
local v = redis.call('HGET', KEYS[1], 'version')
if not v then
  redis.call('ZREM', KEYS[2], ARGV[3])
  return -1
end
if tonumber(v) ~= tonumber(ARGV[1]) then
  return -2
end
local nv = tonumber(v) + 1
if ARGV[5] then
  redis.call('HSET', KEYS[1], 'version', nv, 'blob', ARGV[5], 'av', nv)
else
  if not redis.call('HGET', KEYS[1], 'av') then  -- written before av: its blob is v's
    redis.call('HSET', KEYS[1], 'av', v)
  end
  redis.call('HSET', KEYS[1], 'version', nv)
end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'cursor', ARGV[4])
else
  redis.call('HDEL', KEYS[1], 'cursor')
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[2])
"""
    + _NOW_MS
    + """
redis.call('ZADD', KEYS[2], now, ARGV[3])
return nv
"""
)

# KEYS: session, signals. ARGV: name. Returns 0 if the session is gone.
_SIGNAL = """
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[1])
if pttl > 0 then
  redis.call('PEXPIRE', KEYS[2], pttl)
end
return 1
"""

# KEYS: index. ARGV: ttl_s.
_COUNT = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1]) * 1000))
return redis.call('ZCARD', KEYS[1])
"""
)


@contextmanager
def redis_faults(backend: str, operation: str) -> Iterator[None]:
    """Redis down, refusing, or too slow to answer: StoreUnavailable (the live classes'
    store uses it too)."""
    try:
        yield
    except _DOWN as exc:
        why = str(exc) or type(exc).__name__
        raise store_failed(backend, operation, exc, why) from exc


class RedisStore(SessionStore):
    """Sessions in Redis (`redis://host:port/db`, `rediss://...`, `unix://...`)."""

    backend = "redis"

    def __init__(self, url: str, ttl_seconds: int, max_sessions: int) -> None:
        super().__init__(ttl_seconds, max_sessions)
        if ttl_seconds < 1:
            raise ValueError("RedisStore needs ttl_seconds >= 1")
        self._redis = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=REPLY_TIMEOUT_S,
            retry=RETRY,
        )
        self._create = self._redis.register_script(_CREATE)
        self._put = self._redis.register_script(_PUT)
        self._signal = self._redis.register_script(_SIGNAL)
        self._count = self._redis.register_script(_COUNT)

    @guarded
    def create(
        self, meta: dict[str, Any], arrays: dict[str, np.ndarray], client: str = "",
        client_max: int = 0,
    ) -> StoredSession:  # fmt: skip
        """Store a new session (version 1); keep the client within client_max; evict
        the least recently used beyond max_sessions."""
        blob = pack(meta, arrays)
        session_id = new_session_id()
        keys = [INDEX_KEY, SESSION_PREFIX + session_id, SIGNALS_PREFIX + session_id]
        done, held = self._create(
            keys=[*keys, CLIENT_PREFIX + client],
            args=[
                session_id,
                blob,
                self.ttl_seconds,
                self.max_sessions,
                SESSION_PREFIX,
                SIGNALS_PREFIX,
                meta.get("cursor", ""),
                client,
                client_max if client else 0,
                CLIENT_IDLE_S * 1000,
            ],
        )
        if int(done) < 0:
            raise ClientSessionsFull(client, int(held), client_max)
        return StoredSession(session_id, 1, meta, dict(arrays), 1)

    @guarded
    def get(self, session_id: str) -> StoredSession:
        """The session, or SessionNotFound (expired, evicted or never there)."""
        version, blob, cursor, av = self._redis.hmget(
            SESSION_PREFIX + session_id, ["version", "blob", "cursor", "av"]
        )
        if version is None or blob is None:
            self._redis.zrem(INDEX_KEY, session_id)
            raise SessionNotFound(session_id)
        # redis-py types replies as bytes | str; this client (no decode_responses) gets bytes.
        meta, arrays = unpack(cast(bytes, blob))
        if cursor is not None:  # steps since the blob was written moved it on
            meta["cursor"] = int(cursor)
        return StoredSession(session_id, int(version), meta, arrays, int(av or version))

    @guarded
    def head(self, session_id: str) -> Head:
        """Version, arrays version and cursor, or SessionNotFound (expired, evicted or
        never there)."""
        version, cursor, av = self._redis.hmget(
            SESSION_PREFIX + session_id, ["version", "cursor", "av"]
        )
        if version is None:
            raise SessionNotFound(session_id)
        return Head(int(version), int(av or version), None if cursor is None else int(cursor))

    @guarded
    def put(self, session: StoredSession) -> StoredSession:
        """Compare-and-swap on the version; returns a copy with version + 1."""
        blob = pack(session.meta, session.arrays)
        version = self._swap(session.id, session.version, session.meta.get("cursor", ""), blob)
        return replace(session, version=version, arrays_version=version)

    @guarded
    def advance(self, session_id: str, version: int, cursor: int) -> int:
        """Compare-and-swap of the cursor alone; returns the new version."""
        return self._swap(session_id, version, cursor)

    def _swap(self, session_id: str, version: int, cursor: int | str, *blob: bytes) -> int:
        result = self._put(
            keys=[SESSION_PREFIX + session_id, INDEX_KEY, SIGNALS_PREFIX + session_id],
            args=[version, self.ttl_seconds, session_id, cursor, *blob],
        )
        if result == -1:
            raise SessionNotFound(session_id)
        if result == -2:
            raise VersionConflict(session_id)
        return int(result)

    @guarded
    def delete(self, session_id: str) -> bool:
        """Remove a session and its signals; False if there was none."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(SESSION_PREFIX + session_id)
        pipe.delete(SIGNALS_PREFIX + session_id)
        pipe.zrem(INDEX_KEY, session_id)
        deleted, _, _ = pipe.execute()
        return deleted == 1

    @guarded
    def count(self) -> int:
        """Live sessions."""
        return int(self._count(keys=[INDEX_KEY], args=[self.ttl_seconds]))

    @guarded
    def signal(self, session_id: str, name: str) -> None:
        """Raise a flag; SessionNotFound if the session is not live."""
        raised = self._signal(
            keys=[SESSION_PREFIX + session_id, SIGNALS_PREFIX + session_id], args=[name]
        )
        if not raised:
            raise SessionNotFound(session_id)

    @guarded
    def take_signal(self, session_id: str, name: str) -> bool:
        """Clear the flag; True if it was raised."""
        return bool(self._redis.srem(SIGNALS_PREFIX + session_id, name))

    @guarded
    def ping(self) -> None:
        """StoreUnavailable unless Redis answers PING."""
        self._redis.ping()

    @contextmanager
    def _faults(self, operation: str) -> Iterator[None]:
        with redis_faults(self.backend, operation):
            yield

    @property
    def client(self) -> redis.Redis:
        """The connection pool's client (the live classes share it: app/classes)."""
        return self._redis

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()
