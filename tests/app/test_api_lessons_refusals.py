"""The guided lessons' API refuses what it cannot answer with a coded 4xx in en and
zh-CN, never a 500: an unknown task or session, no session, another page's session, an
answer of another kind, a choice not offered, cells outside the tensor, malformed
bodies. The lessons routes are fuzzed with real task ids and real sessions
(schemathesis)."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient

from app.i18n import SUPPORTED
from app.lessons import TASKS
from app.main import create_app
from app.settings import Settings
from engine.presets import list_presets
from tests.app.fuzz_checks import CHECKS
from tests.app.lessons_support import LAB_TASKS, Sessions, check, coded, probe

# --- refusals: coded 4xx, never a 500 -------------------------------------------------


@pytest.fixture(scope="module")
def any_session_task(
    page_sessions: Sessions, listed: dict[str, dict[str, Any]]
) -> tuple[dict, str]:
    for kind in ("cells", "number", "size"):
        for task in listed.values():
            if task["kind"] == kind and "tensor" in task:
                found = page_sessions.answering(task)
                if found:
                    return task, found[0]
    pytest.fail("no session task could be answered")


def test_unknown_tasks_and_sessions_are_coded_404s(
    lessons_api: TestClient, any_session_task: tuple[dict, str]
) -> None:
    task, _ = any_session_task
    body = coded(check(lessons_api, "no-such-task", None, {"number": 1.0}), 404, "lesson_unknown")
    assert "no-such-task" in body["detail"]
    coded(lessons_api.get("/api/lessons/no-such-task/form"), 404, "lesson_unknown")
    coded(check(lessons_api, task["id"], "no-such-session", probe(task)), 404, "session_gone")
    r = lessons_api.get(f"/api/lessons/{task['id']}/form", params={"session": "no-such-session"})
    coded(r, 404, "session_gone")


def test_a_session_task_without_its_session_is_refused(
    lessons_api: TestClient, listed: dict[str, dict[str, Any]]
) -> None:
    for task in listed.values():
        if "tensor" in task:
            coded(check(lessons_api, task["id"], None, probe(task)), 422, "lesson_session")
            if task["kind"] == "cells":
                coded(lessons_api.get(f"/api/lessons/{task['id']}/form"), 422, "lesson_session")


def test_an_answer_of_another_kind_is_refused(
    lessons_api: TestClient, page_sessions: Sessions, listed: dict[str, dict[str, Any]]
) -> None:
    kinds = ("number", "size", "cells", "map", "choice")
    first = {}  # a task of each kind and way of answering (a session or none)
    for x in listed.values():
        first.setdefault((x["kind"], x.get("needs_session", True)), x)
    assert {kind for kind, _ in first} == {x["kind"] for x in listed.values()}
    for task in first.values():
        if "tensor" in task:
            found = page_sessions.answering(task)
            if found is None:
                continue
            sid = found[0]
        else:
            sid = None
        for other in kinds:
            if other != task["kind"]:
                given = probe({"kind": other, "choices": ["converged"]})
                coded(check(lessons_api, task["id"], sid, given), 422, "answer_kind")
        coded(check(lessons_api, task["id"], sid, {}), 422, "answer_kind")


def test_a_choice_not_offered_is_refused(lessons_api: TestClient) -> None:
    assert LAB_TASKS, "no choice task"
    for task in LAB_TASKS:
        body = coded(
            check(lessons_api, task.id, None, {"choice": "teleported"}), 422, "answer_choice"
        )
        assert "teleported" in body["detail"]


def test_cells_outside_the_tensor_are_refused(
    lessons_api: TestClient, page_sessions: Sessions, listed: dict[str, dict[str, Any]]
) -> None:
    cells_tasks = [x for x in listed.values() if x["kind"] == "cells"]
    assert cells_tasks, "no cells task"
    for task in cells_tasks:
        found = page_sessions.answering(task)
        if found is None:
            continue
        sid, expected = found
        shape = expected["target_shape"]
        beyond = [*[0] * (len(shape) - 1), shape[-1]]  # one column past the last
        for cells in ([beyond], [[0] * (len(shape) - 1)], [[0] * (len(shape) + 1)]):
            r = check(lessons_api, task["id"], sid, {"cells": cells})
            coded(r, 422, "question_index")
        coded(check(lessons_api, task["id"], sid, {"cells": [[-1] * len(shape)]}), 422)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"session": "x"},
        {"answer": []},
        {"answer": {"number": "four"}},
        {"answer": {"number": 1.0}, "extra": 1},
        {"answer": {"nuber": 1.0}},
        {"answer": {"size": [1, 2, 3]}},
        {"answer": {"size": [3]}},
        {"answer": {"size": [-1, 3]}},
        {"answer": {"size": [1.5, 3]}},
        {"answer": {"cells": [[0, "a"]]}},
        {"answer": {"cells": "all"}},
        {"answer": {"choice": 3}},
        {"answer": {"choice": "x" * 100}},
        {"answer": {"number": 1.0}, "session": "s" * 100},
        {"answer": {"number": 1.0}, "session": 7},
        [1, 2],
        "number",
    ],
)
def test_malformed_bodies_are_explained_422s(
    lessons_api: TestClient, listed: dict[str, dict[str, Any]], body: Any
) -> None:
    for tid in {x["kind"]: x["id"] for x in listed.values()}.values():
        r = lessons_api.post(f"/api/lessons/{tid}/check", json=body)
        assert r.status_code == 422, (tid, body, r.text)
        assert set(r.json()["message"]) == set(SUPPORTED), r.text


def test_bodies_that_are_not_json_are_refused(lessons_api: TestClient) -> None:
    tid = next(iter(TASKS))
    for content, kind in ((b"{not json", "application/json"), (b"\xff\xfe", "application/json"),
                          (b"number=4", "application/x-www-form-urlencoded")):  # fmt: skip
        r = lessons_api.post(
            f"/api/lessons/{tid}/check", content=content, headers={"content-type": kind}
        )
        assert 400 <= r.status_code < 500, (content, r.status_code, r.text)
    r = lessons_api.post(f"/api/lessons/{'x' * 65}/check", json={"answer": {"number": 1.0}})
    assert r.status_code == 422, r.text


# --- fuzzing: the lessons routes with real task ids and a real session ----------------

FUZZ = hypothesis.settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=False,
)


def _lessons_schema(openapi: dict[str, Any], sids: list[str]) -> dict[str, Any]:
    """The app's schema cut to the lessons routes, task ids limited to the real tasks
    and the session to real ones (negative examples are anything else)."""
    openapi = copy.deepcopy(openapi)
    openapi["paths"] = {p: ops for p, ops in openapi["paths"].items() if "/api/lessons" in p}
    assert len(openapi["paths"]) == 3, list(openapi["paths"])
    only = {("path", "task_id"): list(TASKS), ("query", "session"): sids}
    for ops in openapi["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", []):
                if (param["in"], param["name"]) in only:
                    param["schema"] = {"type": "string", "enum": only[param["in"], param["name"]]}
    body = openapi["components"]["schemas"]["CheckRequest"]["properties"]
    body["session"] = {"enum": sids}
    return openapi


_DATA = tempfile.TemporaryDirectory(prefix="glassbox-lessons-fuzz-")
_APP = create_app(Settings(data_dir=Path(_DATA.name), warm_up=False))
# a session of the first preset of each page that has session tasks
_PRESETS = {p.topic: p.name for p in reversed(list_presets())}
_FIRST = sorted(
    {_PRESETS[x.topic] for x in TASKS.values() if x.needs_session and x.topic in _PRESETS}
)
with TestClient(_APP) as _c:
    _SIDS = [_c.post("/api/sessions", json={"preset": p}).json()["id"] for p in _FIRST]
fuzz_schema = schemathesis.openapi.from_dict(_lessons_schema(_APP.openapi(), _SIDS))
fuzz_schema.app = _APP


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    _APP.state.sessions.store.close()
    _DATA.cleanup()


# The task ids and sessions are limited here, not by the API (any string is a task id
# or session it answers with a 404 or 422): a request outside the limits is not invalid,
# so "invalid data is rejected" is test_schemathesis.py's (the real schema), not this run's.
LESSON_CHECKS = {
    **CHECKS,
    "excluded_checks": [*CHECKS["excluded_checks"], schemathesis.checks.negative_data_rejection],
}


@pytest.mark.fuzz
@fuzz_schema.parametrize()
@FUZZ
def test_fuzz_the_lessons_routes(case: schemathesis.Case) -> None:
    case.call_and_validate(**LESSON_CHECKS)


def test_a_session_of_another_page_is_refused(lessons_api: TestClient) -> None:
    """A task reads its own page's session: another page's network (which may record a
    tensor of the same name, or be large) is a coded 422, for the form as for a check."""
    pool = lessons_api.post("/api/sessions", json={"preset": "pooling"}).json()["id"]
    tensor = lessons_api.post("/api/sessions", json={"preset": "tensor-conv"}).json()["id"]
    body = coded(
        check(lessons_api, "conv-size", tensor, {"size": [3, 3]}), 422, "lesson_other_page"
    )
    assert "convolution" in body["detail"] and "tensor-convolution" in body["detail"]
    coded(lessons_api.get("/api/lessons/conv-back-where/form", params={"session": pool}), 422,
          "lesson_other_page")  # fmt: skip
