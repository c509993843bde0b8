"""HTTP rules every route keeps (issue 15's small fixes), as one ASGI middleware:

- HEAD is answered wherever GET is (the GET's status and headers, no body); FastAPI
  routes declared with GET alone would otherwise answer HEAD with 405.
- A write (POST, PUT, PATCH) to a route that serves it must say
  `Content-Type: application/json`, else 415: a cross-site HTML form or no-cors fetch
  (text/plain, form-urlencoded, multipart, or no type at all) cannot step a session.
  An empty body with that type still means "the defaults"; DELETE needs no body.
- NaN, Infinity and numbers too large for a float (1e999) are refused with a 422
  naming each field that holds one: Python's JSON reader accepts them, and they would
  otherwise fail later without saying where.

`allowed_methods` is also the Allow header of every 405 (app/errors.py).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import anyio
from fastapi.responses import JSONResponse
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.asgi import WRITES, read_body, replay
from app.observability import CLIENT_GONE
from app.plain_errors import validation_message

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
JSON_TYPE = "application/json"
# A body can hold a non-finite number only if it has one of these (a float literal
# overflows only with a 3-digit exponent or 309+ digits); others are not parsed twice.
MAYBE_NON_FINITE = re.compile(rb"NaN|Infinity|[eE]\+?0*[1-9]\d\d|\d{309}")
MAX_NAMED = 10  # at most this many fields named in one 422


def allowed_methods(app: Any, scope: Scope) -> set[str]:
    """Every method some route of `app` serves at the request's path (HEAD wherever
    GET is; static files serve GET and HEAD)."""
    allowed = {m for m in METHODS if _serves(app, scope, m)}
    if "GET" in allowed:
        allowed.add("HEAD")
    return allowed


def _serves(app: Any, scope: Scope, method: str) -> bool:
    """Whether a route of `app` serves `method` at the request's path."""
    probe = _probe(scope, method)
    for route in app.router.routes:
        # a Mount (static files) matches any method; StaticFiles serve GET and HEAD
        if isinstance(route, Mount) and method not in ("GET", "HEAD"):
            continue
        if route.matches(probe)[0] is Match.FULL:
            return True
    return False


def _probe(scope: Scope, method: str) -> Scope:
    """A fresh scope for matching routes (matching writes into the scope it is given),
    at the app's root even when `scope` is a mount's (e.g. a 405 from /static)."""
    root = scope.get("app_root_path", scope.get("root_path", ""))
    return {"type": "http", "method": method, "path": scope["path"], "root_path": root,
            "headers": [], "query_string": b""}  # fmt: skip


def _media_type(scope: Scope) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return None


class HttpRules:
    """HEAD as GET without the body, JSON-only writes (415), no NaN or Infinity (422)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or method not in WRITES | {"HEAD"}:
            await self.app(scope, receive, send)
        elif method == "HEAD":
            await self._head(scope, receive, send)
        elif _media_type(scope) == JSON_TYPE:  # every page write: no route matching here
            await self._finite_only(scope, receive, send)
        elif not _serves(scope["app"], scope, method):  # 404 or 405, as the router says
            await self.app(scope, receive, send)
        else:
            given = _media_type(scope) or "none"
            msg = (f"{method} {scope['path']} takes a JSON body: send Content-Type: "
                   f"{JSON_TYPE} (given: {given}); an empty body means the defaults")  # fmt: skip
            await JSONResponse({"detail": msg}, status_code=415)(scope, receive, send)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _serves(scope["app"], scope, "HEAD"):  # e.g. static files answer HEAD themselves
            await self.app(scope, receive, send)
            return
        as_get = {**scope, "method": "GET"}  # a copy: the server still knows it is a HEAD

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(as_get, receive, headers_only)
        for key in ("route", CLIENT_GONE):  # the route label of /metrics; a client gone
            if key in as_get:
                scope[key] = as_get[key]

    async def _finite_only(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages = await read_body(receive)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        named: list[dict[str, Any]] = []
        if MAYBE_NON_FINITE.search(body):  # parsed in a thread: the event loop serves on
            named = await anyio.to_thread.run_sync(non_finite_fields, body)
        if named:
            plain = {"detail": named, "message": validation_message(named)}  # words, too
            await JSONResponse(plain, status_code=422)(scope, receive, send)
            return
        await self.app(scope, replay(messages, receive), send)


class _NonFinite:
    """Where the JSON text had NaN, Infinity, -Infinity or an overflowing number."""

    def __init__(self, text: str) -> None:
        self.text = text


def non_finite_fields(body: bytes) -> list[dict[str, Any]]:
    """A FastAPI-style error item for each number of the JSON `body` that is not
    finite, or an integer too large for a float (none for a body that is not JSON:
    the route's own parser says so). The fields are looked for only if the parse
    met one."""
    seen = False

    def constant(text: str) -> _NonFinite:
        nonlocal seen
        seen = True
        return _NonFinite(text)

    def number(text: str) -> float | _NonFinite:
        value = float(text)
        return value if math.isfinite(value) else constant(text)

    def integer(text: str) -> int | _NonFinite:
        # 309+ digits: beyond a float (the JSON reader refuses 4,300+ by itself)
        return int(text) if len(text.lstrip("-")) < 309 else constant(text)

    try:
        doc = json.loads(body, parse_constant=constant, parse_float=number, parse_int=integer)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        return []
    if not seen:  # "NaN" or "Infinity" only inside strings, or an exponent that fits
        return []
    found: list[dict[str, Any]] = []
    stack: list[tuple[list[str | int], Any]] = [(["body"], doc)]
    while stack and len(found) < MAX_NAMED:
        loc, value = stack.pop()
        if isinstance(value, _NonFinite):
            msg = f"{value.text} is not a finite number; only finite numbers are accepted"
            found.append({"loc": loc, "msg": msg, "type": "finite_number", "input": value.text})
        elif isinstance(value, dict):
            stack.extend(([*loc, k], v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(([*loc, i], v) for i, v in reversed(list(enumerate(value))))
    return found
