"""Live classes in Redis, for several replicas (see app/classes/store.py).

Keys (every one expires with the class; the teacher's changes refresh them):
- `glassbox:class:{code}`: JSON {"teacher": hash, "record": {...}};
- `glassbox:class:{code}:students`: hash token-hash -> JSON {nick, mode, seen};
- `glassbox:class:{code}:answers:{qid}`: hash token-hash -> JSON answer;
and the channel `glassbox:class-events:{code}`, on which every change is published
(the public state, as JSON) for the hubs of every replica.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import redis

from app.classes.store import Change, ClassStore, Record
from app.store.redis import redis_faults

PREFIX = "glassbox:class:"
CHANNEL_PREFIX = "glassbox:class-events:"

# KEYS: students. ARGV: token, student JSON, cap, ttl ms. -> count after, or -1 if full
_JOIN = """
local n = redis.call('HLEN', KEYS[1])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and n >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('HLEN', KEYS[1])
"""


class RedisClasses(ClassStore):
    backend = "redis"

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._join = client.register_script(_JOIN)

    def _faults(self, operation: str) -> contextlib.AbstractContextManager[None]:
        return redis_faults(self.backend, operation)

    def create(self, code: str, teacher: str, record: Record, ttl_s: float) -> bool:
        value = json.dumps({"teacher": teacher, "record": record})
        with self._faults("class_create"):
            made = self.redis.set(PREFIX + code, value, px=int(ttl_s * 1000), nx=True)
            if made:
                self.redis.delete(PREFIX + code + ":students")
        return bool(made)

    def load(self, code: str) -> tuple[Record, str] | None:
        with self._faults("class_load"):
            raw = self.redis.get(PREFIX + code)
        if raw is None:
            return None
        value = json.loads(raw)
        return value["record"], value["teacher"]

    def update(self, code: str, change: Change, ttl_s: float) -> Record:
        key = PREFIX + code
        out: dict[str, Record] = {}

        def apply(pipe: Any) -> None:
            raw = pipe.get(key)
            if raw is None:
                raise LookupError(code)
            value = json.loads(raw)
            record = value["record"]
            change(record)
            record["seq"] += 1
            record["touched"] = time.time()
            pipe.multi()
            pipe.set(key, json.dumps(value), px=int(ttl_s * 1000))
            pipe.pexpire(key + ":students", int(ttl_s * 1000))
            out["record"] = record

        with self._faults("class_update"):
            self.redis.transaction(apply, key)
        return out["record"]

    def join(self, code: str, token: str, nick: str, cap: int, ttl_s: float) -> int:
        student = json.dumps({"nick": nick, "mode": "follow", "seen": time.time()})
        with self._faults("class_join"):
            keys = [PREFIX + code + ":students"]
            return int(self._join(keys=keys, args=[token, student, cap, int(ttl_s * 1000)]))

    def student(self, code: str, token: str) -> dict[str, Any] | None:
        with self._faults("class_student"):
            raw = self.redis.hget(PREFIX + code + ":students", token)
        return json.loads(raw) if raw else None

    def seen(self, code: str, token: str, mode: str | None, ttl_s: float) -> None:
        got = self.student(code, token)
        if got is None:
            return
        got["seen"] = time.time()
        if mode is not None:
            got["mode"] = mode
        with self._faults("class_seen"):
            self.redis.hset(PREFIX + code + ":students", token, json.dumps(got))

    def students(self, code: str) -> list[dict[str, Any]]:
        with self._faults("class_students"):
            raw = self.redis.hvals(PREFIX + code + ":students")
        return [json.loads(v) for v in raw]

    def put_answer(self, code: str, qid: str, token: str, answer: dict[str, Any]) -> None:
        key = f"{PREFIX}{code}:answers:{qid}"
        with self._faults("class_answer"):
            pipe = self.redis.pipeline()
            pipe.hset(key, token, json.dumps(answer))
            pipe.pexpire(key, max(1, int(self.redis.pttl(PREFIX + code))))
            pipe.execute()

    def answer(self, code: str, qid: str, token: str) -> dict[str, Any] | None:
        with self._faults("class_answer"):
            raw = self.redis.hget(f"{PREFIX}{code}:answers:{qid}", token)
        return json.loads(raw) if raw else None

    def answers(self, code: str, qid: str) -> list[dict[str, Any]]:
        with self._faults("class_answers"):
            raw = self.redis.hvals(f"{PREFIX}{code}:answers:{qid}")
        return [json.loads(v) for v in raw]

    def end(self, code: str, record: Record, keep_s: float) -> None:
        loaded = self.load(code)
        teacher = loaded[1] if loaded else ""
        with self._faults("class_end"):
            pipe = self.redis.pipeline()
            pipe.delete(PREFIX + code + ":students")
            for k in range(1, int(record.get("asked", 0)) + 1):
                pipe.delete(f"{PREFIX}{code}:answers:q{k}")
            value = json.dumps({"teacher": teacher, "record": record})
            pipe.set(PREFIX + code, value, px=int(keep_s * 1000))
            pipe.execute()

    def publish(self, code: str, payload: bytes) -> None:
        with self._faults("class_publish"):
            self.redis.publish(CHANNEL_PREFIX + code, payload)
