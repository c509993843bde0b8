"""The guided path on every walkthrough that has tasks (issue 19, items 1-2), in a real
browser against a real server: for each task the test sets the page up if the guide asks
(.guide-set), checks the page is in the task's state and the answer hidden while it
waits (<html data-quiz>), answers WRONG (a value that cannot be right), checks the
verdict, the engine's answer (read from the API's response, never typed here) with its
explanation and the note, then answers RIGHT with that answer and checks the verdict and
the progress; the home page then shows the page's progress. Every topic in English, two
in Chinese (the words compared with GET /api/lessons's zh-CN text). axe-core with the
guide open and feedback shown, and no sideways scroll at 390 px.

The topics and tasks are the server's (app.lessons at collection, GET /api/lessons in
the test), so tasks added to a page are answered here as they land."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import expect

from app.i18n import fill, t
from app.lessons import topic_tasks
from app.routers.pages import TOPICS
from tests.browser.conftest import PageWatch, watched_page
from tests.browser.test_axe import AXE, AXE_PATH, check

WITH_TASKS = [topic for topic in TOPICS if topic_tasks(topic)]
# Chinese for two topics (the fastest pages with tasks first)
ZH_TOPICS = sorted(WITH_TASKS, key=lambda x: (x not in ("pooling", "learning-rate"), x))[:2]
RUNS = [(topic, "en") for topic in WITH_TASKS] + [(topic, "zh-CN") for topic in ZH_TOPICS]
# what the page hides while a task of each kind waits (<html data-quiz>)
QUIZ = {"number": "number", "cells": "cell", "size": "size", "map": "size", "choice": "choice"}
IMPOSSIBLE = "987654.321"  # no task's number is this
STORE = "glassbox.guide.v1"  # guide-store.js's localStorage key


@pytest.fixture(scope="module")
def lessons(server: str) -> dict[str, Any]:
    r = httpx.get(f"{server}/api/lessons")
    r.raise_for_status()
    return r.json()


def _open(pg: Any, server: str, topic: str, lang: str) -> None:
    pg.goto(f"{server}/learn/{topic}?lang={lang}")
    pg.wait_for_selector("#view[data-ready]")
    toggle = pg.locator(".guide-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def _shown(pg: Any, task: dict[str, Any], lang: str) -> None:
    """The guide shows `task` in `lang` with its answer form."""
    expect(pg.locator(".guide-task-title")).to_have_text(task["title"][lang])
    expect(pg.locator(".guide-ask")).to_have_text(task["ask"][lang])
    pg.wait_for_selector(".guide-answer")


def _loads_page(request: Any) -> bool:
    return bool(request.is_navigation_request() and request.resource_type == "document")


def _in_state(pg: Any, task: dict[str, Any], lang: str) -> None:
    """Set the page up for `task` if the guide says it is not (one navigation), then
    check it is in the task's state with the answer hidden."""
    _shown(pg, task, lang)
    setter = pg.locator(".guide-set")
    if setter.is_visible():
        with pg.expect_navigation(), pg.expect_request(_loads_page) as nav:
            setter.click()
        # the page is set up through its own URL state: the task's query (the page may
        # then drop the keys that hold its defaults from its address)
        given = parse_qs(urlparse(nav.value.url).query)
        for key, value in task["query"].items():
            if f"{value}" != "":
                assert given.get(key) == [f"{value}"], (task["id"], key, nav.value.url)
        assert given["guide"] == [task["id"]] and given["lang"] == [lang]
        pg.wait_for_selector("#view[data-ready]")
        _shown(pg, task, lang)
    expect(pg.locator(".guide-moved")).to_be_hidden()
    expect(pg.locator(".guide-answer [type=submit]")).to_be_enabled()
    # predict before seeing: the page hides what would give the answer away
    expect(pg.locator("html")).to_have_attribute("data-quiz", QUIZ[task["kind"]])
    link = pg.locator(".guide-lecture")
    assert link.get_attribute("href").endswith(f"/lecture?lang={lang}#{task['lecture']['id']}")
    expect(link).to_contain_text(task["lecture"]["title"][lang])


def _submit(pg: Any, task_id: str) -> dict[str, Any]:
    """Press Check; the server's response."""
    with pg.expect_response(lambda r: r.url.endswith(f"/api/lessons/{task_id}/check")) as got:
        pg.locator(".guide-answer [type=submit]").click()
    response = got.value
    assert response.status == 200, response.text()
    return response.json()


def _lab_answer(server: str, task_id: str, choices: list[str]) -> str:
    """A lab task's outcome, asked of the API (it needs no session)."""
    r = httpx.post(f"{server}/api/lessons/{task_id}/check", json={"answer": {"choice": choices[0]}})
    r.raise_for_status()
    return str(r.json()["expected"]["choice"])


def _answer_wrong(pg: Any, server: str, task: dict[str, Any]) -> None:
    kind = task["kind"]
    if kind == "number":
        pg.locator(".guide-number").fill(IMPOSSIBLE)
    elif kind == "size":
        pg.locator(".guide-rows").fill("0")
        pg.locator(".guide-cols").fill("0")
    elif kind == "map":
        for cell in pg.locator(".guide-map-cell").all():
            cell.fill(IMPOSSIBLE)
    elif kind == "choice":
        right = _lab_answer(server, task["id"], task["choices"])
        pg.locator(f".guide-answer input[value='{next(c for c in task['choices'] if c != right)}']"
                   ).check()  # fmt: skip
    else:  # every cell of the grid: a delta never reaches them all in these tasks
        _press_cells(pg, None)


def _answer_right(pg: Any, task: dict[str, Any], expected: dict[str, Any]) -> None:
    kind = task["kind"]
    if kind == "number":
        pg.locator(".guide-number").fill(repr(expected["value"]))
    elif kind == "size":
        pg.locator(".guide-rows").fill(str(expected["size"][0]))
        pg.locator(".guide-cols").fill(str(expected["size"][1]))
    elif kind == "map":
        cells = pg.locator(".guide-map-cell").all()
        values = [v for row in expected["map"] for v in row]
        assert len(cells) == len(values)
        for cell, value in zip(cells, values, strict=True):
            cell.fill(repr(value))
    elif kind == "choice":
        pg.locator(f".guide-answer input[value='{expected['choice']}']").check()
    else:
        _press_cells(pg, [",".join(map(str, c["index"])) for c in expected["cells"]])


def _press_cells(pg: Any, wanted: list[str] | None) -> None:
    """Click the grid's cells so that those `wanted` (data-index; None: all) are pressed
    (a click event on each button to toggle, in one call: a CNN map has hundreds)."""
    pg.locator(".guide-cell").evaluate_all(
        """(cells, wanted) => { for (const b of cells) {
             const want = wanted === null || wanted.includes(b.dataset.index);
             if ((b.getAttribute("aria-pressed") === "true") !== want) b.click(); } }""",
        wanted,
    )
    pressed = pg.locator(".guide-cell[aria-pressed=true]")
    expect(pressed).to_have_count(
        pg.locator(".guide-cell").count() if wanted is None else len(wanted)
    )


def _said(kind: str, expected: dict[str, Any]) -> Any:
    """What .guide-expected[data-expected] holds for the engine's answer."""
    if kind == "cells":
        return [c["index"] for c in expected["cells"]]
    return expected[{"number": "value", "size": "size", "map": "map", "choice": "choice"}[kind]]


def _feedback(pg: Any, task: dict[str, Any], res: dict[str, Any], lang: str) -> None:
    """The verdict, the engine's answer, its explanation and the note, as the server said."""
    verdict = "right" if res["correct"] else "wrong"
    expect(pg.locator(f".guide-verdict.{verdict}")).to_have_text(t(f"guide.{verdict}", lang))
    said = pg.locator(".guide-expected")
    expect(said).not_to_be_empty()
    assert json.loads(said.get_attribute("data-expected")) == _said(task["kind"], res["expected"])
    if res["expected"].get("explanation"):
        expect(pg.locator(".guide-feedback .explain")).to_be_visible()
    expect(pg.locator(".guide-note")).to_have_text(task["note"][lang])
    expect(pg.locator("html")).not_to_have_attribute("data-quiz", QUIZ[task["kind"]])


def _progress(pg: Any, done: int, total: int, lang: str) -> None:
    label = fill("guide.show", lang, done=done, total=total)
    expect(pg.locator(".guide-toggle")).to_have_text(label)


@pytest.mark.parametrize(("topic", "lang"), RUNS)
def test_each_task_answered_wrong_then_right(
    page: tuple[Any, PageWatch], server: str, lessons: dict[str, Any], topic: str, lang: str
) -> None:
    pg, _ = page
    tasks = lessons["topics"][topic]
    assert [x["id"] for x in tasks] == [x.id for x in topic_tasks(topic)]
    _open(pg, server, topic, lang)
    for k, task in enumerate(tasks):
        if k:
            pg.locator(".guide-nav [data-act=next]").click()
        _in_state(pg, task, lang)
        _progress(pg, k, len(tasks), lang)

        _answer_wrong(pg, server, task)
        res = _submit(pg, task["id"])
        assert res["correct"] is False, (task["id"], res["answer"], res["expected"])
        _feedback(pg, task, res, lang)
        _progress(pg, k, len(tasks), lang)

        _answer_right(pg, task, res["expected"])
        again = _submit(pg, task["id"])
        assert again["correct"] is True, (task["id"], again["answer"], res["expected"])
        assert again["expected"] == res["expected"]  # the same pass, the same answer
        _feedback(pg, task, again, lang)
        _progress(pg, k + 1, len(tasks), lang)
    done = pg.evaluate(f"() => JSON.parse(localStorage.getItem('{STORE}')).done")
    assert set(done) == {x["id"] for x in tasks}
    expect(pg.locator(".guide-nav [data-act=next]")).to_be_disabled()

    pg.goto(f"{server}/?lang={lang}")
    here = pg.locator(f".guide-progress[data-guide-topic='{topic}']")
    total = len(tasks)
    expect(here).to_have_attribute("data-done", str(total))
    expect(here).to_have_text(fill("guide.progress", lang, done=total, total=total))
    for other in WITH_TASKS:  # the other pages' paths are untouched
        if other != topic:
            expect(pg.locator(f".guide-progress[data-guide-topic='{other}']")).to_have_attribute(
                "data-done", "0"
            )


@pytest.fixture
def phone(browser: object, server: str) -> Iterator[tuple[object, PageWatch]]:
    source = AXE.read_text(encoding="utf-8")
    with watched_page(browser, server, viewport={"width": 390, "height": 844}) as watched:
        watched[0].route(
            server + AXE_PATH,
            lambda route: route.fulfill(body=source, content_type="text/javascript"),
        )
        yield watched


# the first page with both a number task (its feedback shows an explanation) and a
# cells task (a grid of buttons), the widest things the guide shows
PHONE_TOPIC = next(
    (x for x in WITH_TASKS if {"number", "cells"} <= {y.kind for y in topic_tasks(x)}),
    WITH_TASKS[0],
)


def test_the_open_guide_with_feedback_fits_a_phone_and_passes_axe(
    phone: tuple[Any, PageWatch], server: str, lessons: dict[str, Any]
) -> None:
    pg, _ = phone
    tasks = lessons["topics"][PHONE_TOPIC]
    for n, kind in enumerate(("number", "cells")):
        task = next((x for x in tasks if x["kind"] == kind), tasks[0])
        # opened at the task by its link (?guide=<id>), as "Set up the page" does
        pg.goto(f"{server}/learn/{PHONE_TOPIC}?lang=en&guide={task['id']}")
        pg.wait_for_selector("#view[data-ready]")
        _in_state(pg, task, "en")
        _answer_wrong(pg, server, task)
        _feedback(pg, task, _submit(pg, task["id"]), "en")
        wide = pg.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 390, f"sideways scroll at 390 px with {task['id']} answered: {wide} px"
        if n == 0:
            check(pg, server, f"/learn/{PHONE_TOPIC} with {task['id']}'s feedback shown")
