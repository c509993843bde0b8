"""The guided lessons' API (issue 19, items 1-2), read generically from GET /api/lessons
so every page's tasks are covered as they land: every task answers a wrong answer with
correct=false and the engine's answer (`expected`), and that answer back with
correct=true (a number within its tolerance; a map; a size; the cells a delta reaches; a
lab outcome), worked out from a session the API makes for the task's page (its presets;
the real page's own session is tests/browser/test_guide.py's); predicting never steps
the student's session, and a number it predicts is the one the session records once it
gets there. Every task's words exist in both languages with their placeholders filled,
every query key is one of its page's URL state keys, and every lecture link lands on a
section of /lecture in both languages. Refusals and fuzzing:
test_api_lessons_refusals.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.i18n import SUPPORTED, t
from app.lessons import TASKS
from app.lessons.lecture import SECTION_IDS, lecture
from app.routers.pages import TOPICS
from app.templating import STATIC_DIR
from tests.app.lessons_support import LAB_TASKS, SESSION_TASKS, Sessions, check, probe, right, wrong

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
HAN = re.compile(r"[\u4e00-\u9fff]")


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
    lessons_api: TestClient, lessons: dict[str, Any], listed: dict[str, dict[str, Any]]
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
        r = lessons_api.get(f"/lecture?lang={lang}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert f'<html lang="{lang}"' in r.text
        for sid in SECTION_IDS:
            assert r.text.count(f'id="{sid}"') == 1, (lang, sid)
            assert f'href="#{sid}"' in r.text, (lang, sid)
            assert t(f"lecture.{sid}", lang) in r.text, (lang, sid)


def test_the_home_page_lists_each_pages_tasks_for_its_progress(
    lessons_api: TestClient, lessons: dict[str, Any]
) -> None:
    for lang in SUPPORTED:
        html = lessons_api.get(f"/?lang={lang}").text
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
    lessons_api: TestClient, listed: dict[str, dict[str, Any]], task_id: str
) -> None:
    task = listed[task_id]
    r = check(lessons_api, task_id, None, probe(task))
    assert r.status_code == 200, r.text
    expected = r.json()["expected"]
    assert expected["choice"] in task["choices"], (task_id, expected["choice"])
    assert set(expected["text"]) == set(SUPPORTED) and all(expected["text"].values())
    assert expected["text"]["en"] != expected["text"]["zh-CN"]
    if "lab" not in expected:  # the RNN chart's reach: tests/app/test_api_lesson_claims.py
        _right_and_wrong(lessons_api, task, None, expected)
        return
    # the lab itself finds that outcome for that run (POST /api/lab/descent, as the page)
    lab = expected["lab"]
    run = {k: v for k, v in lab["run"].items() if v is not None}
    r = lessons_api.post("/api/lab/descent", json={"surface": lab["surface"], "start": lab["start"],
                                           "steps": lab["steps"], "runs": [run]})  # fmt: skip
    assert r.status_code == 200, r.text
    path = r.json()["paths"][0]
    assert (path["outcome"], path["text"]) == (expected["choice"], expected["text"])
    _right_and_wrong(lessons_api, task, None, expected)


@pytest.mark.parametrize("task_id", [x.id for x in SESSION_TASKS])
def test_a_session_task_is_right_with_the_engines_answer_and_wrong_otherwise(
    lessons_api: TestClient,
    page_sessions: Sessions,
    listed: dict[str, dict[str, Any]],
    task_id: str,
) -> None:
    task = listed[task_id]
    found = page_sessions.answering(task)
    assert found is not None, (
        f"{task_id}: none of {page_sessions.candidates(task)} records {task.get('tensor')}"
    )
    sid, expected = found
    _right_and_wrong(lessons_api, task, sid, expected)
    if task["kind"] == "number":
        assert expected["tolerance"] > 0
        edge = expected["value"] + 0.98 * expected["tolerance"]
        assert check(lessons_api, task_id, sid, {"number": edge}).json()["correct"] is True
        over = expected["value"] - 1.02 * expected["tolerance"]
        assert check(lessons_api, task_id, sid, {"number": over}).json()["correct"] is False
    if task["kind"] == "map":
        form = lessons_api.get(f"/api/lessons/{task_id}/form", params={"session": sid})
        assert form.status_code == 200, form.text
        rows, cols = form.json()["shape"]
        assert [len(row) for row in expected["map"]] == [cols] * rows
    if task["kind"] == "cells":
        shape = expected["target_shape"]
        assert expected["target"].endswith(".dx")
        form = lessons_api.get(f"/api/lessons/{task_id}/form", params={"session": sid})
        assert form.status_code == 200, form.text
        assert form.json() == {"target": expected["target"], "target_shape": shape}
        for c in expected["cells"]:
            assert len(c["index"]) == len(shape)
            assert all(0 <= i < s for i, s in zip(c["index"], shape, strict=True))


def _right_and_wrong(
    lessons_api: TestClient, task: dict[str, Any], sid: str | None, expected: dict[str, Any]
) -> None:
    tid = task["id"]
    r = check(lessons_api, tid, sid, wrong(task, expected))
    assert r.status_code == 200, r.text
    said = r.json()
    assert (said["task"], said["kind"], said["correct"]) == (tid, task["kind"], False)
    assert said["expected"] == expected  # the same answer however it is asked
    r = check(lessons_api, tid, sid, right(task, expected))
    assert r.status_code == 200, r.text
    assert r.json()["correct"] is True, (tid, right(task, expected), r.json())
    if task["kind"] in ("number", "cells"):
        # a wrong answer gets the explanation of the right one
        assert said["expected"]["explanation"], (tid, said["expected"])


def test_predicting_does_not_step_the_students_session_and_matches_its_pass(
    lessons_api: TestClient, page_sessions: Sessions, listed: dict[str, dict[str, Any]]
) -> None:
    # every number task the API test can answer: on a fresh session of its page's first
    # preset, the answer (from a copy stepped on) leaves the session where it was, and
    # is the number the session records once it gets there itself
    numbers = [x for x in listed.values() if x["kind"] == "number" and "tensor" in x]
    assert numbers, "no number task"
    seen = 0
    for task in numbers:
        found = page_sessions.answering(task)
        if found is None:
            continue
        preset = next(p for p, s in page_sessions.made.items() if s == found[0])
        sid = page_sessions.new(preset)
        before = lessons_api.get(f"/api/sessions/{sid}").json()
        r = check(lessons_api, task["id"], sid, {"number": 0.0})
        assert r.status_code == 200, r.text
        value = r.json()["expected"]["value"]
        after = lessons_api.get(f"/api/sessions/{sid}").json()
        assert (after["cursor"], after["version"]) == (before["cursor"], before["version"])
        assert (
            lessons_api.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).status_code
            == 200
        )
        r = lessons_api.get(f"/api/sessions/{sid}/tensors/{task['tensor']}")
        assert r.status_code == 200, r.text
        cell: Any = r.json()["data"]
        for i in task["index"]:
            cell = cell[i]
        assert value == pytest.approx(cell, rel=1e-6, abs=1e-9), task["id"]
        seen += 1
    assert seen, "no number task could be answered from a preset session"


def test_numbers_of_one_step_that_differ_by_a_few_percent_are_told_apart(
    lessons_api: TestClient, listed: dict[str, dict[str, Any]], page_sessions: Sessions
) -> None:
    """The LSTM walk's f x c_(t-1), i x g and h of one unit lie within 0.01 of each other:
    the tolerance (0.001 + 1 %) still refuses one given for another."""
    ids = ["rnn-forget-keep", "rnn-input-gate", "rnn-output-gate"]
    found = {i: page_sessions.answering(listed[i]) for i in ids}
    assert all(found.values()), found
    for asked in ids:
        sid = found[asked][0]  # type: ignore[index]
        for other in ids:
            value = found[other][1]["value"]  # type: ignore[index]
            res = check(lessons_api, asked, sid, {"number": value}).json()
            assert res["correct"] is (asked == other), (asked, other, value)
