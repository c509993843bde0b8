"""Guided lessons: every walkthrough's "predict, then reveal" tasks.

GET /api/lessons lists them (with their words in en and zh-CN and the lecture section
each comes from); a page sets itself to a task's URL state (`query`), the student
answers, and POST /api/lessons/{task}/check works out the answer from the engine,
from the page's own session (or, for the learning-rate lab, the lecture's run), and
says whether the student's is right, with the explanation a click on that number
gives. Progress is the browser's (localStorage): nothing about a student is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import Field

from app import answers
from app.classes.model import ClassError
from app.deps import ServiceDep
from app.encoding import json_response
from app.errors import BODY_ERRORS, Responses
from app.lessons import Task, task
from app.lessons.check import expected, form
from app.lessons.public import listing
from app.pools import PooledRoute
from app.routers.classes import Index
from app.routers.pages import TOPICS
from app.schemas import ErrorOut, Strict

router = APIRouter(route_class=PooledRoute, prefix="/api/lessons", tags=["lessons"])
ERRORS: Responses = {
    404: {"model": ErrorOut, "description": "no such task, or no such session"},
    422: {"model": ErrorOut},
    **BODY_ERRORS,
}  # fmt: skip
TaskId = Annotated[str, Path(max_length=64, examples=["conv-size"])]
SessionQuery = Annotated[str | None, Query(max_length=64, description="the page's session")]


Row = Annotated[list[float], Field(max_length=64)]  # a map's row (maps are at most 64 x 64)


class Given(Strict):
    """A student's answer: the field the task's kind wants."""

    number: float | None = Field(None, allow_inf_nan=False, examples=[4.0])
    cells: list[list[Index]] | None = Field(None, max_length=4096, examples=[[[0, 0, 1, 1]]])
    size: list[Index] | None = Field(None, min_length=2, max_length=2, examples=[[3, 3]])
    map: list[Row] | None = Field(None, max_length=64, examples=[[[4, 3], [2, 4]]])
    choice: str | None = Field(None, max_length=32, examples=["oscillating"])


class CheckRequest(Strict):
    session: str | None = Field(None, max_length=64, description="the page's session id "
                                "(every task but the learning-rate lab's)")  # fmt: skip
    answer: Given


def _task(task_id: str) -> Task:
    """The task `task_id`; a coded 404 (en and zh-CN) naming the known ones otherwise."""
    try:
        return task(task_id)
    except LookupError as exc:
        raise ClassError(404, "lesson_unknown", str(exc.args[0])) from None


@router.get("", responses=ERRORS)
def list_lessons() -> dict[str, Any]:
    """Every walkthrough's tasks in order (`topics`: topic -> tasks), and the lecture's
    sections the tasks link to. A task's `query` is the page's URL state it sets;
    `free` names the keys a student may change without leaving it (the player's
    position); its answer is not here: POST .../check works it out."""
    return listing(TOPICS)


@router.get("/{task_id}/form", responses=ERRORS)
def task_form(service: ServiceDep, task_id: TaskId, session: SessionQuery = None) -> Any:
    """What a page needs to ask the task, from its session: a "cells" task's grid
    (`target`, `target_shape`: the tensor the delta goes to), a "map" task's `shape`."""
    return json_response(form(service, _task(task_id), session))


@router.post("/{task_id}/check", responses=ERRORS)
def check_answer(service: ServiceDep, task_id: TaskId, body: CheckRequest) -> Any:
    """Whether the answer is right, and the right one (`expected`) with its explanation
    (the same as a click on that number gives), worked out from the engine now: from
    the page's session (stepped on in a copy if the page has not reached the number
    yet) or the lab's lecture run. A number is right within 0.001 + 1 % of it; a map
    when every number is; cells when they are exactly the cells the delta reaches; a
    size when rows and columns match; a choice when it is the outcome the lab finds."""
    task_ = _task(task_id)
    found = expected(service, task_, body.session if task_.needs_session else None)
    given = body.answer.model_dump(exclude_none=True)
    choices = list(task_.choices) if task_.choices else None
    stored, correct = answers.check(task_.kind, found, given, choices)
    return json_response({"task": task_.id, "kind": task_.kind, "correct": correct,
                          "answer": stored, "expected": found})  # fmt: skip
