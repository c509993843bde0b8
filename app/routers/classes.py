"""Live classes: the teacher steps, every student's page follows, the class answers.

The teacher's page creates a class (POST /api/classes) and gets a join code and a
teacher token; it sends its view (PUT .../view) as the teacher steps. Students join
with the code (POST .../students: a student token) and follow over Server-Sent
Events (GET .../events): the current state at once, then every change. Only the
teacher token changes the class (Authorization: Bearer <token>); a student token
can only join, report following or exploring, and answer.
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from app.classes.model import ClassError, normal_code
from app.classes.service import ClassService
from app.classes.stream import class_events
from app.encoding import json_response
from app.errors import BODY_ERRORS, Responses
from app.limits import at_most
from app.pools import PooledRoute
from app.routers.pages import TOPICS
from app.schemas import ErrorOut, Int, PositiveInt, Strict
from app.schemas.base import BODY_REQUIRED, Empty, _given, _integral
from app.schemas.lab import DescentRun
from app.subpath import base_path

router = APIRouter(route_class=PooledRoute, prefix="/api/classes", tags=["classes"])
pages = APIRouter(include_in_schema=False)
ERRORS: Responses = {
    401: {"model": ErrorOut, "description": "no token was sent"},
    403: {"model": ErrorOut, "description": "the token is not the teacher's (or a student's)"},
    404: {"model": ErrorOut, "description": "no live class has this code"},
    409: {"model": ErrorOut}, 410: {"model": ErrorOut, "description": "the class has ended"},
    422: {"model": ErrorOut},
    429: {"model": ErrorOut, "description": "too many unknown codes from this address"},
    **BODY_ERRORS,
}  # fmt: skip
Code = Annotated[str, Path(min_length=1, max_length=16, description="the join code",
                           examples=["K7QMPX"])]  # fmt: skip
QuestionId = Annotated[str, Path(max_length=16, examples=["q1"])]
Auth = Annotated[str | None, Header(description="Bearer <teacher or student token>")]
# A cell's index (bounded: it is stored, and sent back to every follower as JSON).
Index = Annotated[int, Field(ge=0, le=2**31 - 1), BeforeValidator(_integral)]


class Cell(Strict):
    tensor: str = Field(max_length=128, examples=["conv1.out"])
    index: list[Index] = Field(max_length=8, examples=[[0, 0, 1, 1]])


class View(Strict):
    """What the teacher's page shows; a follower's page shows the same."""

    page: str = Field(max_length=32, examples=["convolution"],
                      json_schema_extra={"enum": list(TOPICS)})  # fmt: skip
    query: str = Field("", max_length=16_384, description="the page's URL state "
                       "(its query string, without the frame)", examples=["k=3&p=1"])  # fmt: skip
    frame: Int = Field(-1, ge=-1, le=100_000, description="the player's frame (-1: none)")
    cell: Cell | None = Field(None, description="the explanation open, if any")
    present: bool = False

    @model_validator(mode="after")
    def _known_page(self) -> View:
        if self.page not in TOPICS:
            raise ValueError(f"page must be one of {', '.join(TOPICS)}; got {self.page!r}")
        return self


class ClassCreate(Strict):
    view: View | None = None


class ClassPatch(Strict):
    locked: bool


class JoinRequest(Strict):
    nickname: str = Field("", max_length=32, description="optional; nothing else "
                          "identifies a student")  # fmt: skip


class Presence(Strict):
    mode: Literal["follow", "explore"]


class LabRun(Strict):
    surface: str = Field(max_length=64, examples=["bowl"])
    start: list[float] = Field(min_length=2, max_length=2, examples=[[-4.5, 2.0]])
    steps: PositiveInt = 100
    run: DescentRun


class Ask(Strict):
    """A question about what is on screen: a cell's number, where a delta goes, or the
    lecture's case of a learning rate."""

    # The schema says what _parts checks: a choice needs lab; a number or cell question
    # session, tensor and index.
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"allOf": [{"properties": {"kind": {"const": "choice"}}}, _given("lab")]},
        {"allOf": [{"properties": {"kind": {"enum": ["number", "cell"]}}}, _given("session"),
                   _given("tensor"), _given("index")]},
    ]})  # fmt: skip

    kind: Literal["number", "cell", "choice"]
    session: str | None = Field(None, max_length=64, description="the teacher's session "
                                "(number, cell)")  # fmt: skip
    tensor: str | None = Field(None, max_length=128, examples=["conv1.out"])
    index: list[Index] | None = Field(None, max_length=8)
    lab: LabRun | None = Field(None, description="the descent (choice)")

    @model_validator(mode="after")
    def _parts(self) -> Ask:
        if self.kind == "choice" and self.lab is None:
            raise ValueError("a choice question needs lab: {surface, start, steps, run}")
        if self.kind != "choice" and (self.session is None or self.tensor is None
                                      or self.index is None):  # fmt: skip
            raise ValueError(f"a {self.kind} question needs session, tensor and index")
        return self


class Answer(Strict):
    number: float | None = Field(None, allow_inf_nan=False)
    index: list[Index] | None = Field(None, max_length=8)
    choice: str | None = Field(None, max_length=32)


def _classes(request: Request) -> ClassService:
    return request.app.state.classes


def _token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _join_path(request: Request, code: str) -> str:
    return f"{base_path(request)}/join/{code}"


def _join_url(request: Request, code: str) -> str:
    """The join link as the teacher's browser reached this server (its host and port)."""
    return f"{request.url.scheme}://{request.url.netloc}{_join_path(request, code)}"


def _created(
    request: Request, service: ClassService, record: dict[str, Any], token: str
) -> dict[str, Any]:
    code = record["code"]
    return {"code": code, "teacher_token": token, "join_path": _join_path(request, code),
            "join_url": _join_url(request, code),
            "qr_svg": f"{base_path(request)}/api/classes/{code}/qr.svg",
            "state": service.state(record)}  # fmt: skip


@router.post("", status_code=201, responses=ERRORS, openapi_extra=BODY_REQUIRED)
def create_class(request: Request, req: ClassCreate | None = None) -> Response:
    """Start a class: a join code (6 letters and digits read alike by no one), the
    join link, its QR code, and the teacher token (keep it: it alone changes the class;
    never show it to students)."""
    service = _classes(request)
    view = req.view.model_dump() if req and req.view else None
    record, token = service.create(view)
    return json_response(_created(request, service, record, token), 201)


@router.get("/{code}", responses=ERRORS)
def get_class(request: Request, code: Code) -> Response:
    """The class as a follower sees it: the teacher's view, the question open (its
    answer once revealed), whether following is locked, whether it has ended."""
    record, _ = _classes(request).find(code, allow_ended=True)
    return json_response(_classes(request).state(record))


@router.get("/{code}/qr.svg", responses=ERRORS, response_class=Response)
def qr(request: Request, code: Code) -> Response:
    """The join link as a QR code (SVG, made here: nothing from outside)."""
    record, _ = _classes(request).find(code)
    url = _join_url(request, record["code"])
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, xmldecl=False,
                                    svgns=True, title=url)  # fmt: skip
    return Response(out.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-store"})  # fmt: skip


@router.put("/{code}/view", responses=ERRORS)
def put_view(request: Request, code: Code, view: View, authorization: Auth = None) -> Response:
    """The teacher's page shows this now (teacher only): every follower's page goes there."""
    record = _classes(request).set_view(code, _token(authorization), view.model_dump())
    return json_response(_classes(request).state(record))


@router.patch("/{code}", responses=ERRORS)
def patch_class(
    request: Request, code: Code, req: ClassPatch, authorization: Auth = None
) -> Response:
    """Lock following (every student sees the teacher's step; explore is off) or open it."""
    record = _classes(request).set_locked(code, _token(authorization), req.locked)
    return json_response(_classes(request).state(record))


@router.delete("/{code}", status_code=204, responses=ERRORS)
def end_class(request: Request, code: Code, authorization: Auth = None) -> Response:
    """End the class: every student's page is told; its code, answers and nicknames go."""
    _classes(request).end(code, _token(authorization))
    return Response(status_code=204)


@router.post("/{code}/students", status_code=201, responses=ERRORS, openapi_extra=BODY_REQUIRED)
def join(request: Request, code: Code, req: JoinRequest | None = None) -> Response:
    """Join a class: a student token (send it back to answer), and the class's state."""
    service = _classes(request)
    record, token = service.join(code, (req.nickname if req else "").strip())
    return json_response({"code": record["code"], "student_token": token,
                          "state": service.state(record)}, 201)  # fmt: skip


@router.put("/{code}/students/me", status_code=204, responses=ERRORS)
def presence(request: Request, code: Code, req: Presence, authorization: Auth = None) -> Response:
    """The student follows the teacher, or explores on their own (the teacher sees counts)."""
    _classes(request).presence(code, _token(authorization), req.mode)
    return Response(status_code=204)


@router.get("/{code}/tally", responses=ERRORS)
def get_tally(request: Request, code: Code, authorization: Auth = None) -> Response:
    """For the teacher: how many follow and explore, and the open question's answers."""
    return json_response(_classes(request).tally(code, _token(authorization)))


@router.post("/{code}/questions", status_code=201, responses=ERRORS)
def ask(request: Request, code: Code, req: Ask, authorization: Auth = None) -> Response:
    """Ask the class (teacher only); the answer is worked out now, from the engine's
    numbers, and stays on the server until revealed. It replaces an open question."""
    service = _classes(request)
    if req.lab is not None:
        at_most("steps", req.lab.steps, service.settings.limits, "max_lab_steps")
    record = service.ask(code, _token(authorization), req.model_dump(exclude_none=True))
    return json_response(service.state(record), 201)


@router.post("/{code}/questions/{qid}/answers", status_code=202, responses=ERRORS)
def answer(
    request: Request, code: Code, qid: QuestionId, req: Answer, authorization: Auth = None
) -> Response:
    """A student's answer (a second replaces the first); checked by the server, told
    at the reveal."""
    _classes(request).answer(code, _token(authorization), qid, req.model_dump())
    return json_response({"received": True}, 202)


@router.post("/{code}/questions/{qid}/reveal", responses=ERRORS, openapi_extra=BODY_REQUIRED)
def reveal(
    request: Request, code: Code, qid: QuestionId, req: Empty | None = None,
    authorization: Auth = None,
) -> Response:  # fmt: skip
    """Reveal the answer to everyone (teacher only): the engine's value and its
    explanation; each student then reads whether they were right (.../mine)."""
    record = _classes(request).reveal(code, _token(authorization), qid)
    return json_response(_classes(request).state(record))


@router.delete("/{code}/questions/{qid}", responses=ERRORS)
def close_question(
    request: Request, code: Code, qid: QuestionId, authorization: Auth = None
) -> Response:
    """Close the question (teacher only): students' pages put it away."""
    record = _classes(request).close_question(code, _token(authorization), qid)
    return json_response(_classes(request).state(record))


@router.get("/{code}/questions/{qid}/mine", responses=ERRORS)
def mine(request: Request, code: Code, qid: QuestionId, authorization: Auth = None) -> Response:
    """A student's own answer, and once revealed whether it was right."""
    return json_response(_classes(request).mine(code, _token(authorization), qid))


@router.get(
    "/{code}/events",
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}},
                               "description": "state events"}},
)  # fmt: skip
async def events(
    request: Request,
    code: Code,
    token: Annotated[
        str | None, Query(max_length=64, description="a student's token: counts them as here")
    ] = None,  # fmt: skip
    mode: Annotated[Literal["follow", "explore"] | None, Query()] = None,
) -> StreamingResponse:
    """The class as Server-Sent Events: `state` now, then at every change (a page
    that falls behind gets the newest only); a comment every 15 s keeps it open and
    counts a student as here. Ends with the class."""
    service = _classes(request)
    record, teacher = await run_in_threadpool(service.find, code, allow_ended=True)
    who = await run_in_threadpool(service.who, record["code"], teacher, token)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        class_events(service, record, who, mode), media_type="text/event-stream", headers=headers
    )


@pages.get("/join/{code}")
def join_page(request: Request, code: str) -> RedirectResponse:
    """A join link (or its QR code) opens the teacher's page, following the class (the
    page joins); a code the server does not know opens the home page, which says so."""
    code = normal_code(code)[:16]
    try:
        record, _ = _classes(request).find(code)
    except ClassError:
        record = None
    view = record and record.get("view")
    if not view:
        return RedirectResponse(f"{base_path(request)}/?class={code}", 303)
    query = "&".join(q for q in (view["query"], f"class={code}") if q)
    return RedirectResponse(f"{base_path(request)}/learn/{view['page']}?{query}", 303)


def install(app: Any, service: ClassService) -> None:
    app.state.classes = service

    @app.exception_handler(ClassError)
    async def _class_error(_: Request, exc: ClassError) -> JSONResponse:
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)
