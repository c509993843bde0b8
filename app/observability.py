"""What an operator sees: request ids, request metrics, logs (text or JSON), /metrics.

`install(app, settings)` adds all of it to an app. Every response carries an
X-Request-ID (the client's, if it sent a sane one; else a new one) and every log
line written while the request runs carries the same id, so a slow or failed
request can be found in the logs from the id the client saw.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.settings import Settings

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode()
# A client's id is kept if it is short and plain (a UUID, a hex or base64 token): it
# goes into log lines, so no spaces, quotes or newlines.
_SANE_ID = re.compile(rb"[A-Za-z0-9._:+/=-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Set in the scope of a request that app.pools stopped because its client went
# away before the answer: timed with status 499 (nginx's "client closed request").
CLIENT_GONE = "glassbox.client_gone"
GONE_STATUS = 499

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def install(app: FastAPI, settings: Settings) -> None:
    """Request ids and metrics on every request (outermost of the app's own
    middleware, so a 413 is timed too), GET /metrics, and the log format."""
    configure_logging(settings.log_format)
    app.add_middleware(RequestObserver)

    @app.get("/metrics", include_in_schema=False)
    def _metrics(request: Request) -> Response:
        body = metrics.exposition(request.app.state.sessions.store)
        return Response(body, media_type=metrics.CONTENT_TYPE)


def route_label(scope: Scope) -> str:
    """The route template that served a request ("/api/sessions/{sid}/steps"), so
    the label has as many values as there are routes, whatever the ids."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str):
        return path
    root = scope.get("root_path") or ""
    if root and scope.get("app_root_path", "") != root:  # a mount, e.g. /static
        return f"{root}/{{path}}"
    return "unmatched"  # a 404 with no route: one label, not one per path tried


class RequestObserver:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware, and it does not break
    streaming responses): request id in and out, the latency histogram."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _client_id(scope) or uuid.uuid4().hex
        token = request_id.set(rid)
        header = (_HEADER_KEY, rid.encode())
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            if scope.get(CLIENT_GONE):  # cancelled: its client went away before the answer
                status = GONE_STATUS
            method = scope["method"] if scope["method"] in _METHODS else "other"
            metrics.REQUEST_SECONDS.labels(
                route_label(scope), method, f"{status // 100}xx"
            ).observe(elapsed)
            request_id.reset(token)


def _client_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == _HEADER_KEY:
            return value.decode() if _SANE_ID.fullmatch(value) else None
    return None


# --- logs ---------------------------------------------------------------------------

_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


# A live class's event stream takes a student's token in its query (EventSource sends
# no headers): access lines keep the parameter's name, never its value.
_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s]*")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record (None outside a request), and
    hides tokens in the query of an access line's path."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_QUERY.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id; an
    access line also has client, method, path, http_version and status."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            out.update(zip(_ACCESS_FIELDS, record.args, strict=False))
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class WithRequestId(logging.Formatter):
    """Another formatter's line with ` request_id=...` appended (inside a request)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        rid = getattr(record, "request_id", None)
        return f"{line} request_id={rid}" if rid else line


_TEXT = logging.Formatter("%(levelname)s:     %(name)s: %(message)s")
_MARK = "_glassbox_observed"
_ORIGINAL = "_glassbox_original_formatter"


class _Stderr(logging.StreamHandler):
    """Writes to sys.stderr as it is at each line (as logging's last resort does),
    not as it was when the handler was made (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(fmt: str) -> None:
    """Give uvicorn's handlers (its server and access lines) and the app's log lines
    the request id, as text or JSON.

    Under uvicorn the root logger has no handler (the app's warnings would go out
    bare, through logging's last resort): it gets one. A root logger that already
    has handlers (a --log-config, a test runner) is left alone. Idempotent: apps
    made again in one process (tests) change the format, never add a handler."""
    root = logging.getLogger()
    if not root.handlers:
        stderr = _Stderr()
        setattr(stderr, _MARK, True)
        root.addHandler(stderr)
    handlers: list[logging.Handler] = [h for h in root.handlers if getattr(h, _MARK, False)]
    for name in ("uvicorn", "uvicorn.access"):  # uvicorn.error writes through "uvicorn"
        handlers += logging.getLogger(name).handlers
    for handler in handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if not hasattr(handler, _ORIGINAL):  # uvicorn's own, kept for text lines
            setattr(handler, _ORIGINAL, handler.formatter or _TEXT)
        original: logging.Formatter = getattr(handler, _ORIGINAL)
        handler.setFormatter(JsonFormatter() if fmt == "json" else WithRequestId(original))
