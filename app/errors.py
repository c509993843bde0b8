"""Errors as clear 4xx answers: what was wrong and, for limits, which limit.

Every error body is {"detail": ...}: a string, or for validation and limits a
list of {loc, msg, type, ...} like FastAPI's own 422s.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.limits import LimitExceeded
from app.sessions.explain import NotExplainable
from app.sessions.training import TrainingBusy
from app.store import SessionNotFound, VersionConflict


def _detail(status: int, detail: object) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def install(app: FastAPI) -> None:
    """Map domain errors to status codes."""

    @app.exception_handler(SessionNotFound)
    def _missing_session(_: Request, exc: SessionNotFound) -> JSONResponse:
        return _detail(404, "no such session (it never existed, was deleted, or expired)")

    @app.exception_handler(VersionConflict)
    def _conflict(_: Request, exc: VersionConflict) -> JSONResponse:
        return _detail(409, f"the session changed while this request ran; retry ({exc})")

    @app.exception_handler(LimitExceeded)
    def _limit(_: Request, exc: LimitExceeded) -> JSONResponse:
        item = {"loc": ["body", *exc.field.split(".")], "msg": str(exc), "type": "limit_exceeded",
                "limit": exc.limit, "allowed": exc.allowed, "given": exc.given}  # fmt: skip
        return _detail(422, [item])

    @app.exception_handler(NotExplainable)
    def _not_explainable(_: Request, exc: NotExplainable) -> JSONResponse:
        return _detail(422, str(exc))

    @app.exception_handler(TrainingBusy)
    def _busy(_: Request, exc: TrainingBusy) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": "5"})

    @app.exception_handler(LookupError)
    def _lookup(_: Request, exc: LookupError) -> JSONResponse:
        return _detail(404, exc.args[0] if exc.args else "not found")

    @app.exception_handler(ValueError)
    def _value(_: Request, exc: ValueError) -> JSONResponse:
        return _detail(422, str(exc))


class BodyLimit:
    """413 for a request body over `max_bytes`, whether or not it says its length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, int(declared))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge(seen)
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge as exc:
            await self._refuse(send, exc.args[0])

    async def _refuse(self, send: Send, size: int) -> None:
        msg = (f"request body of {size} bytes exceeds the limit max_body_bytes = "
               f"{self.max_bytes} (set by GLASSBOX_LIMIT_MAX_BODY_BYTES)")  # fmt: skip
        response = JSONResponse({"detail": msg}, status_code=413)
        await response({"type": "http"}, _no_receive, send)


class _TooLarge(Exception):
    pass


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
