"""A live class's followers, as their pages' EventSource reads them (bench.live_class).

Each follower's event stream is one raw HTTP/1.1 connection read by one asyncio loop
(hundreds stay light on the client's CPU); each state's arrival is noted by its seq,
and `delays` turns the teacher's sends into per-(send, follower) delays.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.classroom import pct


@dataclass
class Follower:
    """One student's page: its token and when each state (by seq) reached it."""

    token: str
    got: dict[int, float] = field(default_factory=dict)  # seq -> perf_counter at arrival
    port: int = 0  # the stream's local port (to find the worker that holds it)
    ended: bool = False
    error: str = ""


async def listen(url: str, path: str, f: Follower, opened: asyncio.Event) -> None:
    """Read one SSE stream to its end (raw HTTP/1.1, chunked or not)."""
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    try:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    except OSError as exc:
        f.error = f"connect: {exc!r}"
        opened.set()
        return
    f.port = writer.get_extra_info("sockname")[1]
    head = f"GET {u.path}{path} HTTP/1.1\r\nHost: {u.netloc}\r\nAccept: text/event-stream\r\n"
    writer.write((head + "Cache-Control: no-cache\r\n\r\n").encode())
    try:
        reply = await reader.readuntil(b"\r\n\r\n")
        status = int(reply.split(b" ", 2)[1])
        if status != 200:
            f.error = f"HTTP {status}"
            return
        chunked = b"transfer-encoding: chunked" in reply.lower()
        buf = b""
        while True:
            if chunked:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    return
                data = (await reader.readexactly(size + 2))[:-2]
            else:
                data = await reader.read(1 << 16)
                if not data:
                    return
            now = time.perf_counter()
            buf += data
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                if block.startswith(b"event: state\n"):
                    state = json.loads(block.split(b"data: ", 1)[1])
                    f.got.setdefault(int(state["seq"]), now)
                    opened.set()
                    if state["ended"]:
                        f.ended = True
                        return
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        f.error = f"stream: {exc!r}"
    finally:
        opened.set()
        writer.close()


def delays(followers: list[Follower], sent: list[tuple[int, float]]) -> dict[str, Any]:
    """Each (sent seq, follower)'s delay: to that seq, or (coalesced) to the first newer."""
    ms: list[float] = []
    missed = coalesced = 0
    for seq, t0 in sent:
        for f in followers:
            at = f.got.get(seq)
            if at is None:
                newer = [t for s, t in f.got.items() if s > seq]
                if not newer:
                    missed += 1
                    continue
                coalesced += 1
                at = min(newer)
            ms.append((at - t0) * 1e3)
    out: dict[str, Any] = {"pairs": len(ms), "missed": missed, "coalesced": coalesced}
    if ms:
        out.update({f"p{q}": pct(ms, q) for q in (50, 90, 99)}, max=max(ms))
    return out


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50": pct(ms, 50), "p99": pct(ms, 99), "max": max(ms)} if ms else {}


async def delivered(followers: list[Follower], seq: int, within: float) -> None:
    """Wait until every live follower has `seq` or newer (or `within` seconds pass)."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        if all(f.error or f.ended or max(f.got, default=-1) >= seq for f in followers):
            return
        await asyncio.sleep(0.02)
