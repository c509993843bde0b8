"""Ask the class in real browsers (issue 18, item 3): a teacher's page and students'
pages (separate contexts) against a real server. On the pooling page the teacher asks
"what is this number?" of a pool1.out cell and "where does this delta go?" of a
pool1.dout cell; on the learning-rate page "which case is this run?". Students answer
(wrong, then right; the right answer read from the API, never typed here), the teacher's
tally counts them, the reveal tells each student whether they were right (the server's
check) with the engine's explanation. An English and a Chinese student take part."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest

from app.i18n import fill, t
from tests.browser.conftest import screenshot, watched_page
from tests.browser.test_axe import AXE, AXE_PATH, check

STUDENT = "glassbox.class.student"  # sessionStorage: the class a student's tab is in


@pytest.fixture
def teacher(browser: object, server: str) -> Iterator[tuple[object, object]]:
    with watched_page(browser, server) as watched:
        yield watched


@pytest.fixture
def student(browser: object, server: str) -> Iterator[tuple[object, object]]:
    with watched_page(browser, server, viewport={"width": 390, "height": 844}) as watched:
        yield watched


@pytest.fixture
def student_zh(browser: object, server: str) -> Iterator[tuple[object, object]]:
    with watched_page(browser, server, locale="zh-CN") as watched:
        yield watched


def _with_axe(pg: object, server: str) -> None:
    """axe-core served to the page on its own origin (as test_axe.py does)."""
    source = AXE.read_text(encoding="utf-8")
    pg.route(
        server + AXE_PATH, lambda route: route.fulfill(body=source, content_type="text/javascript")
    )


def _start_class(pg: object) -> str:
    """Start a class on the teacher's page; its join code."""
    pg.locator(".class-start").click()
    pg.wait_for_selector(".class-panel .cq-teacher")
    return pg.locator(".class-panel .class-link").get_attribute("href").rsplit("/", 1)[1]


def _join(pg: object, server: str, code: str, page: str, lang: str = "en") -> None:
    """Join class `code` through the API and open `page` in the student's tab with the
    token where the page reads it (sessionStorage)."""
    r = httpx.post(f"{server}/api/classes/{code}/students", json={})
    r.raise_for_status()
    me = {"code": code, "token": r.json()["student_token"], "mode": "follow"}
    pg.add_init_script(
        f"sessionStorage.setItem({json.dumps(STUDENT)}, {json.dumps(json.dumps(me))})"
    )
    pg.goto(f"{server}/learn/{page}?class={code}&lang={lang}")
    pg.wait_for_selector("#view[data-ready]")


def _click_cell(pg: object, tensor: str, r: int, c: int) -> None:
    """Click cell (r, c) of a pooling page map (its base canvas is cols x rows pixels)."""
    where = f".pool-cell[data-tensor='{tensor}']"
    cols, rows = pg.evaluate(
        "(sel) => { const b = document.querySelector(sel + ' .heatmap-base');"
        " return [b.width, b.height]; }",
        where,
    )
    overlay = pg.locator(f"{where} .heatmap-overlay")
    box = overlay.bounding_box()
    at = {"x": (c + 0.5) * box["width"] / cols, "y": (r + 0.5) * box["height"] / rows}
    overlay.click(position=at)


def _left_behind(url: str) -> bool:
    """A request cut short as its page went to another page (the teacher's own move, or
    a student's page following it): the event stream, a tally poll or view update in
    flight, or a page load the next state replaced. Not a failure of the page."""
    path = urlparse(url).path
    return path.startswith("/learn/") or path.endswith(("/events", "/tally", "/view"))


def _explain(server: str, sid: str, tensor: str, index: list[int]) -> dict:
    r = httpx.get(
        f"{server}/api/sessions/{sid}/explain",
        params={"tensor": tensor, "index": ",".join(map(str, index))},
    )
    r.raise_for_status()
    return r.json()


def _tally(pg: object) -> dict[str, int]:
    """The teacher's tally as shown: {answer key: count}."""
    rows = pg.locator(".cq-tally .cq-row")
    return {
        rows.nth(i).get_attribute("data-answer"): int(rows.nth(i).get_attribute("data-count"))
        for i in range(rows.count())
    }


def test_the_class_answers_number_cell_and_choice_questions(
    teacher, student, student_zh, server
) -> None:
    tp, twatch = teacher
    sp, swatch = student
    zp, zwatch = student_zh
    tp.goto(server + "/learn/pooling")
    tp.wait_for_selector("#view[data-ready]")
    code = _start_class(tp)
    assert tp.locator(".cq-where").text_content() == t("cq.ask.noCell", "en")
    _join(sp, server, code, "pooling")
    _join(zp, server, code, "pooling", lang="zh-CN")

    # --- "what is this number?" of a pool1.out cell (the pass ran to the end of backward)
    _click_cell(tp, "pool1.out", 0, 1)
    tp.wait_for_selector(".cq-teacher [data-ask='number']")
    assert tp.locator(".cq-teacher [data-ask='cell']").count() == 0  # not a delta
    tp.locator(".cq-teacher [data-ask='number']").click()
    tp.wait_for_selector(".cq-open .cq-prompt")
    sid = tp.locator("#view").get_attribute("data-session-id")
    value = _explain(server, sid, "pool1.out", [0, 0, 0, 1])["value"]

    card = sp.locator(".cq-card[data-kind='number']")
    card.wait_for()
    assert "{" not in tp.locator(".cq").text_content() + card.text_content()
    assert card.get_attribute("role") == "region"
    assert card.locator("h3").text_content() == t("cq.card.title", "en")
    # on a 390 px phone: the card fits, no sideways scroll
    assert sp.evaluate("document.documentElement.scrollWidth") <= 390
    card.locator("input.cq-number").fill(str(value + 5))
    card.locator("button[type='submit']").click()
    sp.wait_for_function(
        "(text) => document.querySelector('.cq-card .cq-status').textContent === text",
        arg=t("cq.sent", "en"),
    )
    zcard = zp.locator(".cq-card[data-kind='number']")
    zcard.wait_for()
    assert zcard.locator("h3").text_content() == t("cq.card.title", "zh-CN")
    zcard.locator("input.cq-number").fill(str(value + 5))
    zcard.locator("button[type='submit']").click()
    zp.wait_for_function(
        "(text) => document.querySelector('.cq-card .cq-status').textContent === text",
        arg=t("cq.sent", "zh-CN"),
    )
    wrong = f"{value + 5:.6g}"  # the tally keys: numbers as given, 6 significant digits
    right = f"{value:.6g}"
    tp.wait_for_function("() => document.querySelector('.cq-count')?.dataset.total === '2'")
    assert _tally(tp) == {wrong: 2}
    # the English student changes their answer to the engine's number (from the API)
    card.locator("input.cq-number").fill(str(value))
    card.locator("button[type='submit']").click()
    tp.wait_for_function(
        "(key) => document.querySelector(`.cq-row[data-answer='${key}']`)", arg=right
    )
    assert _tally(tp) == {wrong: 1, right: 1}
    assert tp.locator(".cq-count").text_content() == fill("cq.tally.answered", "en", n=2)

    tp.locator(".cq-open [data-act='reveal']").click()
    tp.wait_for_selector(".cq-right")
    assert tp.locator(".cq-right").text_content() == fill("cq.tally.right", "en", n=1, m=2)
    assert tp.locator(f".cq-row.right[data-answer='{right}']").count() == 1
    verdict = card.locator(".cq-verdict")
    verdict.wait_for()
    assert verdict.text_content() == t("cq.right", "en")
    assert verdict.get_attribute("data-correct") == "true"
    total = card.locator(".explain .total")  # the explanation, as the page renders one
    assert float(total.get_attribute("data-value")) == pytest.approx(value)
    zverdict = zcard.locator(".cq-verdict")
    zverdict.wait_for()
    assert zverdict.text_content() == t("cq.wrong", "zh-CN")
    assert card.locator("input.cq-number").is_disabled()
    screenshot(sp, "live-question-student-reveal")
    screenshot(tp, "live-question-teacher-reveal")
    _with_axe(sp, server)
    check(sp, server, "the student's question card after the reveal (390 px)")
    _with_axe(tp, server)
    check(tp, server, "the teacher's question and its tally after the reveal")

    # --- "where does this delta go?" of a pool1.dout cell: click a pool1.dx cell
    _click_cell(tp, "pool1.dout", 1, 0)
    where = tp.locator(".cq-teacher [data-ask='cell']")
    where.wait_for()
    where.click()
    cell_card = sp.locator(".cq-card[data-kind='cell']")
    cell_card.wait_for()
    exp = _explain(server, sid, "pool1.dout", [0, 0, 1, 0])
    goes = [
        term["factors"][1]["index"] for term in exp["terms"] if term["factors"][1]["value"] != 0
    ]
    assert goes, "a max pool hands its delta to one position"
    _, _, r, c = goes[0]
    _click_cell(sp, "pool1.dx", r, c)
    cell_card.locator(".cq-status").filter(has_text=t("cq.sent", "en")).wait_for()
    key = ",".join(map(str, goes[0]))
    tp.wait_for_function(
        "(key) => document.querySelector(`.cq-row[data-answer='${key}']`)", arg=key
    )
    # the click was the answer, not a new explanation on the student's page
    assert "pool1.dx" not in sp.locator("#view .explain h3").first.text_content()
    tp.locator(".cq-open [data-act='reveal']").click()
    cell_card.locator(".cq-verdict.right").wait_for()
    marks = json.loads(
        sp.locator(".pool-cell[data-tensor='pool1.dx'] .heatmap-overlay").get_attribute(
            "data-marks"
        )
    )
    assert {(m["r"], m["c"]) for m in marks} == {(r, c)}
    tp.locator(".cq-open [data-act='close']").click()
    cell_card.wait_for(state="detached")

    # --- "which case is this?" on the learning-rate page: a run of the lab
    tp.goto(server + "/learn/learning-rate")
    tp.wait_for_selector("#view[data-run]")
    ask = tp.locator(".cq-teacher [data-ask='choice'][data-run='0']")
    ask.wait_for()
    ask.click()
    setup = json.loads(tp.locator("#view").get_attribute("data-lab-setup"))
    res = httpx.post(f"{server}/api/lab/descent", json={**setup, "runs": setup["runs"][:1]})
    res.raise_for_status()
    case = res.json()["paths"][0]["case"]
    sp.wait_for_url("**/learn/learning-rate?**")  # the student's page follows the teacher's
    zp.wait_for_url("**/learn/learning-rate?**")
    sp.wait_for_selector("#view[data-ready]")
    for watch in (twatch, swatch, zwatch):  # a page left behind aborts what it had open
        watch.failed[:] = [u for u in watch.failed if not _left_behind(u)]
    choice = sp.locator(".cq-card[data-kind='choice']")
    choice.wait_for()
    choice.get_by_label(t(f"lab.case.{case}", "en")).check()
    choice.locator("button[type='submit']").click()
    choice.locator(".cq-status").filter(has_text=t("cq.sent", "en")).wait_for()
    tp.wait_for_function(
        "(key) => document.querySelector(`.cq-row[data-answer='${key}']`)", arg=case
    )
    tp.locator(".cq-open [data-act='reveal']").click()
    choice.locator(".cq-verdict.right").wait_for()
    assert choice.locator(".cq-answer").text_content() == fill(
        "cq.case", "en", case=t(f"lab.case.{case}", "en")
    )
    assert choice.locator(".cq-text").text_content().strip()
    for pg in (tp, sp):  # every placeholder of the catalog's strings filled
        assert "{" not in pg.locator(".cq").text_content()


@pytest.mark.console_errors_expected(r"status of 404")
def test_a_question_the_server_refuses_says_why_in_the_teachers_language(teacher, server) -> None:
    """The server's 4xx message shows by the buttons (here: the teacher's network is no
    longer on the server), in the page's language (zh-CN)."""
    tp, _ = teacher
    tp.goto(server + "/learn/pooling?lang=zh-CN")
    tp.wait_for_selector("#view[data-ready]")
    _start_class(tp)
    assert tp.locator("#cq-ask-title").text_content() == t("cq.ask.title", "zh-CN")
    _click_cell(tp, "pool1.out", 1, 1)
    ask = tp.locator(".cq-teacher [data-ask='number']")
    ask.wait_for()
    assert ask.text_content() == t("cq.ask.number", "zh-CN")
    sid = tp.locator("#view").get_attribute("data-session-id")
    httpx.delete(f"{server}/api/sessions/{sid}").raise_for_status()
    ask.click()
    error = tp.locator(".cq-teacher .cq-error")
    error.filter(has_text=t("error.session_gone", "zh-CN")).wait_for()
    assert tp.locator(".cq-open .cq-prompt").count() == 0  # no question was asked
