"""Fair share: what one client may ask of the server at once.

A client is the address the request came from, or, when that address is a trusted
proxy (GLASSBOX_TRUSTED_PROXIES), the rightmost address of X-Forwarded-For that is
not one. Each worker keeps, per client:

- a token bucket of session creations (GLASSBOX_CLIENT_CREATES_PER_MINUTE: the
  bucket holds that many and refills at that rate);
- a count of heavy requests running or waiting (GLASSBOX_CLIENT_HEAVY_REQUESTS):
  creates, comparisons of learning rates, training streams and uploaded weights.

The store counts a client's live sessions (GLASSBOX_CLIENT_SESSIONS, across workers):
a create beyond them takes the client's own session that has been idle longest, if
it has been idle 10 minutes (CLIENT_IDLE_S), else it is refused (ClientSessionsFull).

Over a limit the answer is a 429 with Retry-After, naming the limit and its setting.
A whole school behind one NAT address is one client: the defaults are sized for 300
students sharing one address (docs/deployment.md, "Fair share").
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import threading
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.i18n import coded_body
from app.settings import Settings
from app.store.base import ClientSessionsFull

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
HEAVY_RETRY_AFTER_S = 5  # a heavy request usually ends within seconds
SESSIONS_RETRY_AFTER_S = 600  # a client's sessions free up as they go idle
CREATE_PATHS = frozenset({"/api/sessions", "/api/bp/sessions"})
HEAVY_PATHS = (  # (method, path): besides creates, what builds or trains a network
    ("POST", re.compile(r"^/api/bp/compare$")),
    ("POST", re.compile(r"^/api/sessions/[^/]+/train$")),
    ("PUT", re.compile(r"^/api/sessions/[^/]+/weights$")),  # reads and runs an uploaded net
)
MAX_CLIENTS = 10_000  # buckets kept per worker; full, idle ones are dropped beyond

# What a create's OpenAPI says of the 429s here (the routes that create list it).
CREATE_429: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "A limit of this client (its address): creates a minute "
        "(client_creates_per_minute), heavy requests at once (client_heavy_requests) or "
        "live sessions (client_sessions); Retry-After says when to try again"
    }
}

# The client of the request being served, and its session limit (read by the
# session service when it stores a new session).
_QUOTA: ContextVar[tuple[str, int]] = ContextVar("glassbox_client_quota", default=("", 0))


def quota() -> dict[str, Any]:
    """The store.create keywords for this request's client: {client, client_max}."""
    client, most = _QUOTA.get()
    return {"client": client, "client_max": most}


def trusted_networks(spec: str) -> list[Network]:
    """Comma-separated addresses or CIDR networks (ValueError naming a bad one)."""
    nets: list[Network] = []
    for part in (p.strip() for p in spec.split(",")):
        if part:
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(
                    f"GLASSBOX_TRUSTED_PROXIES: {part!r} is not an address or a network"
                ) from None
    return nets


def _trusted(address: str, nets: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in nets)


def client_of(peer: str, forwarded: str | None, nets: list[Network]) -> str:
    """The client: the peer, or, if the peer is a trusted proxy, the rightmost address
    of X-Forwarded-For (`forwarded`, its values joined by commas) that is not trusted
    (the leftmost if all are): the hops left of it could be written by the client."""
    if not nets or not forwarded or not _trusted(peer, nets):
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, nets):
            return hop
    return hops[0] if hops else peer


def grouped(address: str) -> str:
    """The client an address counts as: itself, or for IPv6 its /64 network (one
    household or host is given a whole /64, so one machine could take any number of
    its addresses)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


@dataclass
class Bucket:
    tokens: float
    at: float


class Limiter:
    """One worker's per-client token buckets and heavy-request counts."""

    def __init__(self, creates_per_minute: int, heavy: int) -> None:
        self.capacity = float(creates_per_minute)
        self.rate = creates_per_minute / 60.0  # tokens a second
        self.heavy = heavy
        self.buckets: dict[str, Bucket] = {}
        self.running: dict[str, int] = {}
        self.lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """Take a creation token: 0.0 if there was one, else seconds until there is."""
        now = time.monotonic() if now is None else now
        with self.lock:
            b = self.buckets.get(client)
            if b is None:
                if len(self.buckets) >= MAX_CLIENTS:
                    self._prune(now)
                b = self.buckets[client] = Bucket(self.capacity, now)
            b.tokens = min(self.capacity, b.tokens + (now - b.at) * self.rate)
            b.at = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled (they would start full again anyway)."""
        full = [c for c, b in self.buckets.items()
                if b.tokens + (now - b.at) * self.rate >= self.capacity]  # fmt: skip
        for c in full:
            del self.buckets[c]

    def enter(self, client: str) -> bool:
        """Start a heavy request; False if the client has `heavy` running already."""
        with self.lock:
            n = self.running.get(client, 0)
            if n >= self.heavy:
                return False
            self.running[client] = n + 1
            return True

    def leave(self, client: str) -> None:
        with self.lock:
            n = self.running.get(client, 0) - 1
            if n > 0:
                self.running[client] = n
            else:
                self.running.pop(client, None)


def _too_many(code: str, detail: str, retry_after: float) -> tuple[dict[str, Any], bytes]:
    seconds = str(max(1, math.ceil(retry_after)))
    body = json.dumps(coded_body(code, detail), ensure_ascii=False).encode()
    return {"status": 429, "headers": [(b"content-type", b"application/json"),
                                       (b"content-length", str(len(body)).encode()),
                                       (b"retry-after", seconds.encode())]}, body  # fmt: skip


class FairShare:
    """ASGI middleware: finds the client, applies the per-client limits."""

    def __init__(self, app: ASGIApp, settings: Settings, limiter: Limiter) -> None:
        self.app = app
        self.settings = settings
        self.nets = trusted_networks(settings.trusted_proxies)
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope["client"][0] if scope.get("client") else ""
        forwarded = b",".join(v for k, v in scope["headers"] if k == b"x-forwarded-for")
        client = grouped(client_of(peer, forwarded.decode("latin-1") or None, self.nets))
        token = _QUOTA.set((client, self.settings.client_sessions))
        try:
            await self._limited(client, scope, receive, send)
        finally:
            _QUOTA.reset(token)

    async def _limited(self, client: str, scope: Scope, receive: Receive, send: Send) -> None:
        path, s = scope["path"], self.settings
        create = scope["method"] == "POST" and path.rstrip("/") in CREATE_PATHS
        heavy = create or any(scope["method"] == m and p.match(path) for m, p in HEAVY_PATHS)
        if heavy and not self.limiter.enter(client):
            detail = (f"too many heavy requests from your address ({client}) at once: at most "
                      f"{s.client_heavy_requests} (client_heavy_requests, "
                      "GLASSBOX_CLIENT_HEAVY_REQUESTS: creates, compares, trainings, "
                      "weights); wait for one to finish")  # fmt: skip
            await self._refuse(send, "too_busy", detail, HEAVY_RETRY_AFTER_S)
            return
        if create and (wait := self.limiter.take(client)) > 0:
            self.limiter.leave(client)
            detail = (f"too many new sessions from your address ({client}): at most "
                      f"{s.client_creates_per_minute} a minute (client_creates_per_minute, "
                      "GLASSBOX_CLIENT_CREATES_PER_MINUTE); try again shortly")  # fmt: skip
            await self._refuse(send, "too_many_creates", detail, wait)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            if heavy:
                self.limiter.leave(client)

    @staticmethod
    async def _refuse(send: Send, code: str, detail: str, retry_after: float) -> None:
        start, body = _too_many(code, detail, retry_after)
        await send({"type": "http.response.start", **start})
        await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, settings: Settings) -> None:
    """The middleware (its Limiter is app.state.fairshare), and the 429 for a client
    at its session limit."""
    trusted_networks(settings.trusted_proxies)  # a bad setting fails here, at start
    limiter = Limiter(settings.client_creates_per_minute, settings.client_heavy_requests)
    app.state.fairshare = limiter
    app.add_middleware(FairShare, settings=settings, limiter=limiter)

    @app.exception_handler(ClientSessionsFull)
    async def _sessions_full(_: Request, exc: ClientSessionsFull) -> JSONResponse:
        detail = (f"your address ({exc.client}) holds {exc.count} sessions, the most "
                  f"client_sessions = {exc.limit} (GLASSBOX_CLIENT_SESSIONS) allows, all used "
                  "in the last 10 minutes; try again later or delete one")  # fmt: skip
        headers = {"Retry-After": str(SESSIONS_RETRY_AFTER_S)}
        return JSONResponse(coded_body("too_many_sessions", detail), 429, headers=headers)
