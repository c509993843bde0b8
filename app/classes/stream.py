"""A class's event stream (GET /api/classes/{code}/events), as Server-Sent Events.

`state` with the class's state now, then at every change (the hub hands over only the
newest: a page that fell behind skips to it); a `: ping` comment every
PRESENCE_PING_S keeps proxies from closing it and counts a student as here. It ends
after a state with ended: true, or when the class is gone (expired).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.concurrency import run_in_threadpool

from app.classes.model import PRESENCE_PING_S, Who
from app.classes.service import ClassService
from app.classes.store import Record


def _event(payload: bytes) -> bytes:
    return b"event: state\ndata: " + payload + b"\n\n"


def _ended(payload: bytes) -> bool:
    # The public state as app.encoding.dumps writes it (orjson: no spaces).
    return b'"ended":true' in payload


async def class_events(
    service: ClassService, record: Record, who: Who, mode: str | None
) -> AsyncIterator[bytes]:
    code = record["code"]
    follower = service.hub.follow(code)  # before reading the state: nothing is missed
    try:
        await run_in_threadpool(service.seen, code, who, mode)
        now = await run_in_threadpool(service.current, code)
        seq, first = now if now else (record["seq"], service.payload({**record, "ended": True}))
        payload: bytes | None = first
        follower.sent(seq)  # the hub may have handed it this very state meanwhile
        while True:
            if payload is not None:
                yield _event(payload)
                if _ended(payload):
                    return
            else:
                yield b": ping\n\n"
                await run_in_threadpool(service.seen, code, who)
                if await run_in_threadpool(service.store.load, code) is None:  # expired
                    gone = {**record, "ended": True, "seq": follower.seq + 1}
                    yield _event(service.payload(gone))
                    return
            payload = await follower.next(PRESENCE_PING_S)
    finally:
        service.hub.leave(follower)
