"""Errors as clear 4xx answers: what was wrong and, for limits, which limit.

Every error body is {"detail": ...}: a string, or for validation and limits a
list of {loc, msg, type, ...} like FastAPI's own 422s. An error a student may meet on
a page also has a `code` and a `message` (`coded`): the page shows the catalog string
"error.<code>" in its language; scripts read `detail` (English) or `message`.

A browser that asks for a page which is not there, or whose page fails, gets a page
instead, in its language (`wants_html`: not under /api, and Accept prefers text/html
to JSON); the API and every client that does not ask for HTML get the JSON.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.asgi import WRITES, replay
from app.http_rules import allowed_methods
from app.i18n import coded_body
from app.limits import LimitExceeded
from app.plain_errors import PlainValueError, limit_message, validation_message
from app.routers.pages import error_page
from app.schemas import ErrorOut
from app.security import security_headers
from app.sessions.explain import NotExplainable
from app.sessions.state import SessionFrozen
from app.store import SessionNotFound, StoreUnavailable, VersionConflict
from app.training.queue import QueueFull

log = logging.getLogger(__name__)

# How long a client should wait before retrying a request the store could not serve.
STORE_RETRY_AFTER_S = 2
# ... and a training refused because the worker's training queue is full.
QUEUE_RETRY_AFTER_S = 30

# The type of a route's `responses=` (FastAPI's own annotation).
Responses = dict[int | str, dict[str, Any]]

# Documented on every route that reads a JSON body.
BODY_ERRORS: Responses = {
    400: {"model": ErrorOut, "description": "The body is not JSON text (e.g. not UTF-8)"},
    413: {"model": ErrorOut, "description": "The body is larger than max_body_bytes"},
    415: {"model": ErrorOut, "description": "Content-Type is not application/json"},
}


def _detail(status: int, detail: object) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def coded(
    status: int, code: str, detail: object, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An error the page explains, with `status` (see coded_body)."""
    return JSONResponse(coded_body(code, detail), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Map domain errors to status codes."""

    @app.exception_handler(SessionNotFound)
    async def _missing_session(_: Request, exc: SessionNotFound) -> JSONResponse:
        detail = "no such session (it never existed, was deleted, or expired)"
        return coded(404, "session_gone", detail)

    @app.exception_handler(SessionFrozen)
    async def _frozen(_: Request, exc: SessionFrozen) -> JSONResponse:
        return coded(409, "session_frozen", str(exc))

    @app.exception_handler(VersionConflict)
    async def _conflict(_: Request, exc: VersionConflict) -> JSONResponse:
        return _detail(409, f"the session changed while this request ran; retry ({exc})")

    @app.exception_handler(StoreUnavailable)
    async def _store_down(_: Request, exc: StoreUnavailable) -> JSONResponse:
        # Only the reason, never a traceback; the app reconnects by itself when the
        # store is back, so the client just retries.
        log.warning("%s", exc)  # one line per failed request, no traceback
        headers = {"Retry-After": str(STORE_RETRY_AFTER_S)}
        return coded(503, exc.code, str(exc), headers)

    @app.exception_handler(LimitExceeded)
    async def _limit(_: Request, exc: LimitExceeded) -> JSONResponse:
        item = {"loc": ["body", *exc.field.split(".")], "msg": str(exc), "type": "limit_exceeded",
                "limit": exc.limit, "allowed": exc.allowed, "given": exc.given}  # fmt: skip
        message = limit_message(exc.limit, exc.allowed, exc.given)  # the page's plain words
        return JSONResponse({"detail": [item], "message": message}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 body, plus the page's plain words (app.plain_errors).
        errors = jsonable_encoder(exc.errors())
        body = {"detail": errors, "message": validation_message(errors)}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(NotExplainable)
    async def _not_explainable(_: Request, exc: NotExplainable) -> JSONResponse:
        return _detail(422, str(exc))

    @app.exception_handler(QueueFull)
    async def _queue_full(_: Request, exc: QueueFull) -> JSONResponse:
        headers = {"Retry-After": str(QUEUE_RETRY_AFTER_S)}
        return JSONResponse({"detail": str(exc)}, status_code=429, headers=headers)

    @app.exception_handler(LookupError)
    async def _lookup(request: Request, exc: LookupError) -> Response:
        if wants_html(request):  # e.g. /learn/<a topic mistyped>
            return error_page(request, 404)
        return _detail(404, exc.args[0] if exc.args else "not found")

    @app.exception_handler(ValueError)
    async def _value(_: Request, exc: ValueError) -> JSONResponse:
        if isinstance(exc, ValidationError):  # a model validated by a service, not FastAPI
            message = validation_message(jsonable_encoder(exc.errors()))
            return JSONResponse({"detail": str(exc), "message": message}, status_code=422)
        if isinstance(exc, PlainValueError):  # a mistake a student can make, in plain words
            return JSONResponse({"detail": str(exc), "message": exc.message()}, status_code=422)
        return _detail(422, str(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and wants_html(request):
            return error_page(request, 404)
        if exc.status_code == 405:  # every route at this path, HEAD wherever GET (http_rules)
            allow = ", ".join(sorted(allowed_methods(request.app, request.scope)))
            exc.headers = {**(exc.headers or {}), "Allow": allow}
        return await http_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette's ServerErrorMiddleware, outside every middleware, sends this and
        # then raises `exc` on (logged with its traceback): the headers come from here.
        headers = security_headers()
        if wants_html(request):
            try:
                page = error_page(request, 500)
                page.headers.update(headers)
                return page
            except Exception:  # a page that fails itself: the JSON below
                log.exception("the 500 page failed")
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500, headers=headers)


def wants_html(request: Request) -> bool:
    """Whether an error should be a page: a browser asks for a page (Accept prefers
    text/html to JSON) whose path is not under /api."""
    path = request.scope["path"]
    if path == "/api" or path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "")
    return _quality(accept, "text/html") > _quality(accept, "application/json")


def _quality(accept: str, media_type: str) -> float:
    """The q an Accept header gives `media_type`, by its most specific entry (0: none)."""
    kind = media_type.split("/")[0]
    specificity = {media_type: 3, f"{kind}/*": 2, "*/*": 1}
    best, quality = 0, 0.0
    for part in accept.lower().split(","):
        name, *params = (p.strip() for p in part.split(";"))
        rank = specificity.get(name, 0)
        if rank <= best:
            continue
        best, quality = rank, 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
    return quality


class BodyLimit:
    """413 for a request body over `max_bytes`, whether or not it declares its length.

    The body is read (up to the limit) before the app sees it, then replayed; an
    exception raised mid-read would reach FastAPI's body parser and come out as
    a vague 400.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send, int(declared))
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                await self._refuse(scope, send, size)
                return
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, replay([whole], receive), send)

    async def _refuse(self, scope: Scope, send: Send, size: int) -> None:
        msg = (
            f"request body of {size}+ bytes exceeds the limit max_body_bytes = "
            f"{self.max_bytes} (set by GLASSBOX_LIMIT_MAX_BODY_BYTES)"
        )
        body = {"detail": msg, "message": limit_message("max_body_bytes", self.max_bytes, size)}
        await JSONResponse(body, status_code=413)(scope, _disconnected, send)


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}
