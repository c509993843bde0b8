"""The guided lessons' API (issue 19, items 1-2), read generically from GET /api/lessons
so every page's tasks are covered as they land: every task answers a wrong answer with
correct=false and the engine's answer (`expected`), and that answer back with
correct=true (a number within its tolerance; a size; the cells a delta reaches; a lab
outcome), worked out from a session the API makes for the task's page (its presets; the
real page's own session is tests/browser/test_guide.py's); predicting never steps the
student's session, and a number it predicts is the one the session records once it gets
there. Bad requests are coded 4xx in en and zh-CN, never a 500. Every task's words exist
in both languages with their placeholders filled, every query key is one of its page's
URL state keys, and every lecture link lands on a section of /lecture in both languages.
The lessons routes are fuzzed with real task ids and a real session (schemathesis)."""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient

from app.answers import NUMBER_ABS_TOL, NUMBER_REL_TOL
from app.i18n import SUPPORTED, t
from app.lessons import TASKS
from app.lessons.lecture import SECTION_IDS, lecture
from app.main import create_app
from app.routers.pages import TOPICS
from app.settings import Settings
from app.templating import STATIC_DIR
from engine.presets import list_presets
from tests.app.fuzz_checks import CHECKS

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
HAN = re.compile(r"[\u4e00-\u9fff]")
# A task whose session the API test cannot make from its topic's presets (none yet) is
# still answered right and wrong on its real page by tests/browser/test_guide.py.


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("lessons")
    with TestClient(create_app(Settings(data_dir=data, warm_up=False))) as c:
        yield c


@pytest.fixture(scope="module")
def lessons(api: TestClient) -> dict[str, Any]:
    r = api.get("/api/lessons")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def listed(lessons: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every task GET /api/lessons lists, by id."""
    return {x["id"]: x for tasks in lessons["topics"].values() for x in tasks}


def coded(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """A refusal: `status` (a 4xx), `code` if given, and a message in every language
    (each its own words); never a traceback."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    if code is not None:
        assert body.get("code") == code, body
    message = body.get("message")
    assert isinstance(message, dict) and set(message) == set(SUPPORTED), body
    assert all(isinstance(m, str) and m.strip() for m in message.values()), body
    assert message["en"] != message["zh-CN"], body
    assert "Traceback" not in r.text
    return body


# --- sessions for a task's page, from the server's own lists -------------------------


BP = "bp:"  # a Sessions key: the BP network of this JSON body (POST /api/bp/sessions)
BP_FIELDS = ("dataset", "noise", "activation", "loss", "optimizer", "lr", "seed")


class Sessions:
    """One session per preset, made when a task first needs it; a session task is
    answered from the first of its page's presets that records the tensor it asks
    about (its query's preset if it names one)."""

    def __init__(self, api: TestClient) -> None:
        self.api = api
        presets = api.get("/api/presets").json()
        rules = api.get("/api/rules").json()
        self.by_topic: dict[str, list[str]] = {}
        for p in presets:
            self.by_topic.setdefault(p["topic"], []).append(p["name"])
        for topic, names in rules["pages"].items():
            self.by_topic.setdefault(topic, [])
            self.by_topic[topic] += [n for n in names if n not in self.by_topic[topic]]
        self.made: dict[str, str] = {}

    def new(self, preset: str) -> str:
        if preset.startswith(BP):  # the BP page's network (its URL state, as bp.js builds it)
            r = self.api.post("/api/bp/sessions", json=json.loads(preset[len(BP) :]))
            assert r.status_code == 201, r.text
            return str(r.json()["id"])
        r = self.api.post("/api/sessions", json={"preset": preset})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def candidates(self, task: dict[str, Any]) -> list[str]:
        if task["topic"] == "bp":  # no presets: the network its query builds
            q = task["query"]
            body = {k: q[k] for k in BP_FIELDS if k in q}
            body["hidden"] = [int(n) for n in str(q.get("hidden", "")).split("-") if int(n or 0)]
            return [BP + json.dumps(body, sort_keys=True)]
        named = task["query"].get("preset")
        return [named] if named else self.by_topic.get(task["topic"], [])

    def answering(self, task: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """A session whose pass has the task's tensor, and the task's answer from it."""
        for preset in self.candidates(task):
            if preset not in self.made:
                self.made[preset] = self.new(preset)
            sid = self.made[preset]
            given = probe(task)
            if task["kind"] in ("cells", "map"):  # the grid the page would show
                r = self.api.get(f"/api/lessons/{task['id']}/form", params={"session": sid})
                if r.status_code != 200:
                    assert r.status_code == 422, r.text  # another network: not its tensor
                    continue
                grid = r.json()
                if task["kind"] == "cells":
                    given = {"cells": [[0] * len(grid["target_shape"])]}
                else:
                    rows, cols = grid["shape"]
                    given = {"map": [[0.0] * cols for _ in range(rows)]}
            r = check(self.api, task["id"], sid, given)
            if r.status_code == 200:
                return sid, r.json()["expected"]
            assert r.status_code == 422, r.text  # another network: not its tensor
        return None


@pytest.fixture(scope="module")
def sessions(api: TestClient) -> Sessions:
    return Sessions(api)


def check(api: TestClient, task_id: str, sid: str | None, answer: dict[str, Any]) -> Any:
    body: dict[str, Any] = {"answer": answer}
    if sid is not None:
        body["session"] = sid
    return api.post(f"/api/lessons/{task_id}/check", json=body)


def probe(task: dict[str, Any]) -> dict[str, Any]:
    """An answer of the task's kind (right or not: it only fetches `expected`)."""
    return {"number": {"number": 0.0}, "size": {"size": [1, 1]}, "cells": {"cells": [[0]]},
            "map": {"map": [[0.0]]},
            "choice": {"choice": (task.get("choices") or ["?"])[0]}}[task["kind"]]  # fmt: skip


def right(task: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer as a student would give it."""
    kind = task["kind"]
    if kind == "number":
        return {"number": expected["value"]}
    if kind == "size":
        return {"size": expected["size"]}
    if kind == "cells":
        return {"cells": [c["index"] for c in expected["cells"]]}
    if kind == "map":
        return {"map": expected["map"]}
    return {"choice": expected["choice"]}


def wrong(task: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """An answer that cannot be right, made from the engine's answer."""
    kind = task["kind"]
    if kind == "number":
        return {"number": expected["value"] + 3 * expected["tolerance"] + 1}
    if kind == "size":
        rows, cols = expected["size"]
        return {"size": [rows + 1, cols]}
    if kind == "cells":
        cells = [c["index"] for c in expected["cells"]]
        first = [0] * len(expected["target_shape"])
        return {"cells": cells[1:] if first in cells else [*cells, first]}
    if kind == "map":
        rows = [list(row) for row in expected["map"]]
        rows[-1][-1] += 3 * (NUMBER_ABS_TOL + NUMBER_REL_TOL * abs(rows[-1][-1])) + 1  # past it
        return {"map": rows}
    return {"choice": next(c for c in task["choices"] if c != expected["choice"])}


SESSION_TASKS = [x for x in TASKS.values() if x.needs_session]
# answered without a session: the lab's lecture cases, the RNN gradient chart's "reach"
LAB_TASKS = [x for x in TASKS.values() if not x.needs_session]


# --- the listing ----------------------------------------------------------------------


def test_the_listing_is_every_task_of_every_page_in_order(lessons: dict[str, Any]) -> None:
    assert list(lessons["topics"]) == list(TOPICS)
    ids = [x["id"] for tasks in lessons["topics"].values() for x in tasks]
    assert sorted(ids) == sorted(TASKS) and len(set(ids)) == len(ids)
    for topic, tasks in lessons["topics"].items():
        assert [x["id"] for x in tasks] == [x.id for x in TASKS.values() if x.topic == topic]
        for x in tasks:
            assert x["topic"] == topic
            assert x["kind"] in ("number", "cells", "size", "map", "choice")
            # the answer is worked out on a check, never listed
            assert not {"expected", "answer", "value", "cells", "size"} & set(x), x
            if x["kind"] in ("number", "cells"):
                assert x["tensor"] and x["index"], x
            if x["kind"] in ("size", "map"):
                assert x["tensor"], x
            if x["kind"] == "choice":
                assert len(x["choices"]) >= 2 and set(x["choice_labels"]) == set(x["choices"])
    for topic, tasks in lessons["topics"].items():
        if tasks:  # the issue: 4-8 short tasks on each page that has a path
            assert 4 <= len(tasks) <= 8, (topic, len(tasks))


def test_every_tasks_words_are_in_both_languages_with_placeholders_filled(
    listed: dict[str, dict[str, Any]],
) -> None:
    for tid, x in listed.items():
        for key in ("title", "ask", "note"):
            words = x[key]
            assert set(words) == set(SUPPORTED), (tid, key)
            for lang, text in words.items():
                assert text.strip(), (tid, key, lang)
                assert not PLACEHOLDER.search(text), f"{tid}.{key} ({lang}) unfilled: {text}"
            assert words["en"] != words["zh-CN"], (tid, key)
            assert HAN.search(words["zh-CN"]), (tid, key, words["zh-CN"])
            assert not HAN.search(words["en"]), (tid, key, words["en"])
        for choice, label in x.get("choice_labels", {}).items():
            assert set(label) == set(SUPPORTED) and all(label.values()), (tid, choice)
            assert label["en"] != label["zh-CN"], (tid, choice)


def _store_keys(view: str) -> set[str]:
    """The URL state keys of static/js/views/<view>.js (its createStore({...}))."""
    source = (STATIC_DIR / "js" / "views" / f"{view}.js").read_text(encoding="utf-8")
    found = re.search(r"createStore\(\{(.*?)\}\);", source, re.S)
    assert found, f"views/{view}.js has no createStore({{...}})"
    return set(re.findall(r"^\s*([A-Za-z_]\w*)\s*:", found.group(1), re.M)) | set(
        re.findall(r"[{,]\s*([A-Za-z_]\w*)\s*:", found.group(1))
    )


def test_every_tasks_query_is_its_pages_own_url_state(listed: dict[str, dict[str, Any]]) -> None:
    # a key the page's store does not keep would leave the task never "in state"
    for tid, x in listed.items():
        keys = _store_keys(TOPICS[x["topic"]])
        assert set(x["query"]) <= keys, (tid, sorted(set(x["query"]) - keys), sorted(keys))
        assert set(x["free"]) <= keys | {"frame", "step"}, tid


def test_no_page_script_names_a_task() -> None:
    # the pages know tasks only from GET /api/lessons, their answers only from a check
    scripts = {p: p.read_text(encoding="utf-8") for p in (STATIC_DIR / "js").rglob("*.js")}
    assert scripts
    named = [(p.name, tid) for p, text in scripts.items() for tid in TASKS if tid in text]
    assert not named, named


def test_every_lecture_link_is_a_section_of_the_lecture_in_both_languages(
    api: TestClient, lessons: dict[str, Any], listed: dict[str, dict[str, Any]]
) -> None:
    sections = {s.id: s for s in lecture()}
    assert tuple(sections) == SECTION_IDS
    assert all(s.paragraphs for s in sections.values()), "a section with no text"
    assert [s["id"] for s in lessons["lecture"]] == list(SECTION_IDS)
    for tid, x in listed.items():
        link = x["lecture"]
        assert link["id"] in sections, (tid, link)
        assert link["href"] == f"/lecture#{link['id']}"
        assert link["title"] == {lang: t(f"lecture.{link['id']}", lang) for lang in SUPPORTED}
    for lang in SUPPORTED:
        r = api.get(f"/lecture?lang={lang}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert f'<html lang="{lang}"' in r.text
        for sid in SECTION_IDS:
            assert r.text.count(f'id="{sid}"') == 1, (lang, sid)
            assert f'href="#{sid}"' in r.text, (lang, sid)
            assert t(f"lecture.{sid}", lang) in r.text, (lang, sid)


def test_the_home_page_lists_each_pages_tasks_for_its_progress(
    api: TestClient, lessons: dict[str, Any]
) -> None:
    for lang in SUPPORTED:
        html = api.get(f"/?lang={lang}").text
        for topic, tasks in lessons["topics"].items():
            marker = f'data-guide-topic="{topic}"'
            if not tasks:
                assert marker not in html, topic
                continue
            ids = " ".join(x["id"] for x in tasks)
            assert f'{marker} data-guide-tasks="{ids}"' in html, (lang, topic)
        assert 'href="/lecture?lang=' + lang + '"' in html


# --- answers: right and wrong, from the engine ----------------------------------------


@pytest.mark.parametrize("task_id", [x.id for x in LAB_TASKS])
def test_a_task_without_a_session_is_right_with_its_outcome_and_wrong_otherwise(
    api: TestClient, listed: dict[str, dict[str, Any]], task_id: str
) -> None:
    task = listed[task_id]
    r = check(api, task_id, None, probe(task))
    assert r.status_code == 200, r.text
    expected = r.json()["expected"]
    assert expected["choice"] in task["choices"], (task_id, expected["choice"])
    assert set(expected["text"]) == set(SUPPORTED) and all(expected["text"].values())
    assert expected["text"]["en"] != expected["text"]["zh-CN"]
    if "lab" not in expected:  # the RNN chart's reach: tests/app/test_api_lesson_claims.py
        _right_and_wrong(api, task, None, expected)
        return
    # the lab itself finds that outcome for that run (POST /api/lab/descent, as the page)
    lab = expected["lab"]
    run = {k: v for k, v in lab["run"].items() if v is not None}
    r = api.post("/api/lab/descent", json={"surface": lab["surface"], "start": lab["start"],
                                           "steps": lab["steps"], "runs": [run]})  # fmt: skip
    assert r.status_code == 200, r.text
    path = r.json()["paths"][0]
    assert (path["outcome"], path["text"]) == (expected["choice"], expected["text"])
    _right_and_wrong(api, task, None, expected)


@pytest.mark.parametrize("task_id", [x.id for x in SESSION_TASKS])
def test_a_session_task_is_right_with_the_engines_answer_and_wrong_otherwise(
    api: TestClient, sessions: Sessions, listed: dict[str, dict[str, Any]], task_id: str
) -> None:
    task = listed[task_id]
    found = sessions.answering(task)
    assert found is not None, (
        f"{task_id}: none of {sessions.candidates(task)} records {task.get('tensor')}"
    )
    sid, expected = found
    _right_and_wrong(api, task, sid, expected)
    if task["kind"] == "number":
        assert expected["tolerance"] > 0
        edge = expected["value"] + 0.98 * expected["tolerance"]
        assert check(api, task_id, sid, {"number": edge}).json()["correct"] is True
        over = expected["value"] - 1.02 * expected["tolerance"]
        assert check(api, task_id, sid, {"number": over}).json()["correct"] is False
    if task["kind"] == "map":
        form = api.get(f"/api/lessons/{task_id}/form", params={"session": sid})
        assert form.status_code == 200, form.text
        rows, cols = form.json()["shape"]
        assert [len(row) for row in expected["map"]] == [cols] * rows
    if task["kind"] == "cells":
        shape = expected["target_shape"]
        assert expected["target"].endswith(".dx")
        form = api.get(f"/api/lessons/{task_id}/form", params={"session": sid})
        assert form.status_code == 200, form.text
        assert form.json() == {"target": expected["target"], "target_shape": shape}
        for c in expected["cells"]:
            assert len(c["index"]) == len(shape)
            assert all(0 <= i < s for i, s in zip(c["index"], shape, strict=True))


def _right_and_wrong(
    api: TestClient, task: dict[str, Any], sid: str | None, expected: dict[str, Any]
) -> None:
    tid = task["id"]
    r = check(api, tid, sid, wrong(task, expected))
    assert r.status_code == 200, r.text
    said = r.json()
    assert (said["task"], said["kind"], said["correct"]) == (tid, task["kind"], False)
    assert said["expected"] == expected  # the same answer however it is asked
    r = check(api, tid, sid, right(task, expected))
    assert r.status_code == 200, r.text
    assert r.json()["correct"] is True, (tid, right(task, expected), r.json())
    if task["kind"] in ("number", "cells"):
        # a wrong answer gets the explanation of the right one
        assert said["expected"]["explanation"], (tid, said["expected"])


def test_predicting_does_not_step_the_students_session_and_matches_its_pass(
    api: TestClient, sessions: Sessions, listed: dict[str, dict[str, Any]]
) -> None:
    # every number task the API test can answer: on a fresh session of its page's first
    # preset, the answer (from a copy stepped on) leaves the session where it was, and
    # is the number the session records once it gets there itself
    numbers = [x for x in listed.values() if x["kind"] == "number" and "tensor" in x]
    assert numbers, "no number task"
    seen = 0
    for task in numbers:
        found = sessions.answering(task)
        if found is None:
            continue
        preset = next(p for p, s in sessions.made.items() if s == found[0])
        sid = sessions.new(preset)
        before = api.get(f"/api/sessions/{sid}").json()
        r = check(api, task["id"], sid, {"number": 0.0})
        assert r.status_code == 200, r.text
        value = r.json()["expected"]["value"]
        after = api.get(f"/api/sessions/{sid}").json()
        assert (after["cursor"], after["version"]) == (before["cursor"], before["version"])
        assert api.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).status_code == 200
        r = api.get(f"/api/sessions/{sid}/tensors/{task['tensor']}")
        assert r.status_code == 200, r.text
        cell: Any = r.json()["data"]
        for i in task["index"]:
            cell = cell[i]
        assert value == pytest.approx(cell, rel=1e-6, abs=1e-9), task["id"]
        seen += 1
    assert seen, "no number task could be answered from a preset session"


# --- refusals: coded 4xx, never a 500 -------------------------------------------------


@pytest.fixture(scope="module")
def any_session_task(sessions: Sessions, listed: dict[str, dict[str, Any]]) -> tuple[dict, str]:
    for kind in ("cells", "number", "size"):
        for task in listed.values():
            if task["kind"] == kind and "tensor" in task:
                found = sessions.answering(task)
                if found:
                    return task, found[0]
    pytest.fail("no session task could be answered")


def test_unknown_tasks_and_sessions_are_coded_404s(
    api: TestClient, any_session_task: tuple[dict, str]
) -> None:
    task, _ = any_session_task
    body = coded(check(api, "no-such-task", None, {"number": 1.0}), 404, "lesson_unknown")
    assert "no-such-task" in body["detail"]
    coded(api.get("/api/lessons/no-such-task/form"), 404, "lesson_unknown")
    coded(check(api, task["id"], "no-such-session", probe(task)), 404, "session_gone")
    r = api.get(f"/api/lessons/{task['id']}/form", params={"session": "no-such-session"})
    coded(r, 404, "session_gone")


def test_a_session_task_without_its_session_is_refused(
    api: TestClient, listed: dict[str, dict[str, Any]]
) -> None:
    for task in listed.values():
        if "tensor" in task:
            coded(check(api, task["id"], None, probe(task)), 422, "lesson_session")
            if task["kind"] == "cells":
                coded(api.get(f"/api/lessons/{task['id']}/form"), 422, "lesson_session")


def test_an_answer_of_another_kind_is_refused(
    api: TestClient, sessions: Sessions, listed: dict[str, dict[str, Any]]
) -> None:
    kinds = ("number", "size", "cells", "map", "choice")
    first = {}  # a task of each kind and way of answering (a session or none)
    for x in listed.values():
        first.setdefault((x["kind"], x.get("needs_session", True)), x)
    assert {kind for kind, _ in first} == {x["kind"] for x in listed.values()}
    for task in first.values():
        if "tensor" in task:
            found = sessions.answering(task)
            if found is None:
                continue
            sid = found[0]
        else:
            sid = None
        for other in kinds:
            if other != task["kind"]:
                given = probe({"kind": other, "choices": ["converged"]})
                coded(check(api, task["id"], sid, given), 422, "answer_kind")
        coded(check(api, task["id"], sid, {}), 422, "answer_kind")


def test_a_choice_not_offered_is_refused(api: TestClient) -> None:
    assert LAB_TASKS, "no choice task"
    for task in LAB_TASKS:
        body = coded(check(api, task.id, None, {"choice": "teleported"}), 422, "answer_choice")
        assert "teleported" in body["detail"]


def test_cells_outside_the_tensor_are_refused(
    api: TestClient, sessions: Sessions, listed: dict[str, dict[str, Any]]
) -> None:
    cells_tasks = [x for x in listed.values() if x["kind"] == "cells"]
    assert cells_tasks, "no cells task"
    for task in cells_tasks:
        found = sessions.answering(task)
        if found is None:
            continue
        sid, expected = found
        shape = expected["target_shape"]
        beyond = [*[0] * (len(shape) - 1), shape[-1]]  # one column past the last
        for cells in ([beyond], [[0] * (len(shape) - 1)], [[0] * (len(shape) + 1)]):
            r = check(api, task["id"], sid, {"cells": cells})
            coded(r, 422, "question_index")
        coded(check(api, task["id"], sid, {"cells": [[-1] * len(shape)]}), 422)


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
    api: TestClient, listed: dict[str, dict[str, Any]], body: Any
) -> None:
    for tid in {x["kind"]: x["id"] for x in listed.values()}.values():
        r = api.post(f"/api/lessons/{tid}/check", json=body)
        assert r.status_code == 422, (tid, body, r.text)
        assert set(r.json()["message"]) == set(SUPPORTED), r.text


def test_bodies_that_are_not_json_are_refused(api: TestClient) -> None:
    tid = next(iter(TASKS))
    for content, kind in ((b"{not json", "application/json"), (b"\xff\xfe", "application/json"),
                          (b"number=4", "application/x-www-form-urlencoded")):  # fmt: skip
        r = api.post(f"/api/lessons/{tid}/check", content=content, headers={"content-type": kind})
        assert 400 <= r.status_code < 500, (content, r.status_code, r.text)
    r = api.post(f"/api/lessons/{'x' * 65}/check", json={"answer": {"number": 1.0}})
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


def test_numbers_of_one_step_that_differ_by_a_few_percent_are_told_apart(
    api: TestClient, listed: dict[str, dict[str, Any]], sessions: Sessions
) -> None:
    """The LSTM walk's f x c_(t-1), i x g and h of one unit lie within 0.01 of each other:
    the tolerance (0.001 + 1 %) still refuses one given for another."""
    ids = ["rnn-forget-keep", "rnn-input-gate", "rnn-output-gate"]
    found = {i: sessions.answering(listed[i]) for i in ids}
    assert all(found.values()), found
    for asked in ids:
        sid = found[asked][0]  # type: ignore[index]
        for other in ids:
            value = found[other][1]["value"]  # type: ignore[index]
            res = check(api, asked, sid, {"number": value}).json()
            assert res["correct"] is (asked == other), (asked, other, value)


def test_a_session_of_another_page_is_refused(api: TestClient) -> None:
    """A task reads its own page's session: another page's network (which may record a
    tensor of the same name, or be large) is a coded 422, for the form as for a check."""
    pool = api.post("/api/sessions", json={"preset": "pooling"}).json()["id"]
    tensor = api.post("/api/sessions", json={"preset": "tensor-conv"}).json()["id"]
    body = coded(check(api, "conv-size", tensor, {"size": [3, 3]}), 422, "lesson_other_page")
    assert "convolution" in body["detail"] and "tensor-convolution" in body["detail"]
    coded(api.get("/api/lessons/conv-back-where/form", params={"session": pool}), 422,
          "lesson_other_page")  # fmt: skip
