"""Where a request's work runs, and when it stops (issue 15, "fair share").

A sync route runs in a thread. Threads come from three pools of each worker, so work
of one kind cannot take every thread from another:

- "heavy" (GLASSBOX_HEAVY_THREADS): creating a session, a new input (an image is
  decoded), a decision boundary or a dataset's metrics, the lab's descents: requests
  that may take a good part of a second;
- "api" (GLASSBOX_API_THREADS): every other sync route under /api (a step, a tensor,
  an explanation);
- AnyIO's default pool (40 threads): static files, pages, /docs, /healthz, /metrics.

So a flood of creates waits in its own queue while steps go on, and a flood of steps
does not keep the page's scripts from loading. Comparisons and trainings run in the
training processes (app/training/).

A request whose client is gone stops: `StopWhenGone` watches the connection while the
route works and cancels the request when the client disconnects. Work not yet started
(a request waiting for a thread) is dropped: a step the client gave up on is not
applied later. Work already running in a thread finishes (a thread cannot be stopped;
each is bounded by the cost limits), and its answer goes nowhere. A training stream
or comparison whose client is gone cancels its job (app/training/).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Literal, TypeVar

import anyio
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.asgi import WRITES, read_body, replay
from app.observability import CLIENT_GONE, route_label
from app.settings import Settings

log = logging.getLogger(__name__)
Pool = Literal["api", "heavy"]
T = TypeVar("T")


class Pools:
    """One worker's thread limiters, made in the event loop that uses them."""

    def __init__(self, settings: Settings) -> None:
        self.sizes: dict[Pool, int] = {"api": settings.api_threads,
                                       "heavy": settings.heavy_threads}  # fmt: skip
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limiters: dict[Pool, anyio.CapacityLimiter] = {}

    def limiter(self, pool: Pool) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests run several): new limiters
            self._loop = loop
            self._limiters = {p: anyio.CapacityLimiter(n) for p, n in self.sizes.items()}
        return self._limiters[pool]


_POOLS: ContextVar[Pools | None] = ContextVar("glassbox_pools", default=None)


def heavy(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a sync route as heavy: it runs in the "heavy" pool."""
    endpoint.__dict__["glassbox_pool"] = "heavy"
    return endpoint


def _in_pool(endpoint: Callable[..., Any], pool: Pool) -> Callable[..., Any]:
    """The sync `endpoint` as a coroutine that runs it in a thread of `pool` (FastAPI
    reads its parameters through functools.wraps)."""

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in(pool, functools.partial(endpoint, *args, **kwargs))

    return run


class PooledRoute(APIRoute):
    """An API route whose sync endpoint runs in the "api" pool, or "heavy" if marked."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _in_pool(endpoint, getattr(endpoint, "glassbox_pool", "api"))
        super().__init__(path, endpoint, **kwargs)


class StopWhenGone:
    """ASGI middleware for /api: reads the request's body, then watches the connection
    while the app works; if the client disconnects before the answer is sent, the
    request is cancelled (see the module's docstring)."""

    def __init__(self, app: ASGIApp, pools: Pools) -> None:
        self.app = app
        self.pools = pools

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        token = _POOLS.set(self.pools)
        try:
            await self._watched(scope, receive, send)
        finally:
            _POOLS.reset(token)

    async def _watched(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in WRITES:  # the whole body first (BodyLimit bounds it)
            body = await read_body(receive)
        else:  # a body sent with a GET or DELETE is not read: the watcher drops it
            body = [{"type": "http.request", "body": b"", "more_body": False}]
        gone = anyio.Event()
        if body[-1]["type"] == "http.disconnect":
            gone.set()
        started = answered = False
        error: Exception | None = None

        async def when_gone() -> Message:  # e.g. a streaming response listening for the end
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send_watched(message: Message) -> None:
            nonlocal started, answered
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True  # set first: the server reports "disconnect" once it is sent
            await send(message)

        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                while not gone.is_set():  # after the body only a disconnect comes (or
                    if (await receive())["type"] == "http.disconnect":  # an unread one's)
                        gone.set()
                if answered:
                    return
                if not started:  # gone before any answer (a stream cut later is not)
                    scope[CLIENT_GONE] = True
                    route = route_label(scope)
                    metrics.ABANDONED.labels(route).inc()
                    log.info("%s %s: the client went away before the answer; stopped",
                             scope["method"], route)  # fmt: skip
                tg.cancel_scope.cancel()

            tg.start_soon(watch)
            try:
                await self.app(scope, replay(body, when_gone), send_watched)
            except Exception as exc:  # raised as itself, not in a task group's ExceptionGroup
                error = exc
            tg.cancel_scope.cancel()  # answered (or failed): stop watching
        if error is not None:
            raise error


async def run_in(pool: Pool, fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) in a thread of `pool` (for an async route's blocking part)."""
    pools = _POOLS.get()
    limiter = pools.limiter(pool) if pools is not None else None
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=limiter)


def install(app: FastAPI, settings: Settings) -> None:
    """The pools (app.state.pools) and the middleware that stops abandoned requests."""
    pools = Pools(settings)
    app.state.pools = pools
    app.add_middleware(StopWhenGone, pools=pools)
