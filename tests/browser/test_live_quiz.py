"""A live class's open question keeps its answer off every page until the reveal (issue
18, review): a teacher's page and a student's page (separate contexts, real server).

On the pooling page a number question greys the asked cell and says "?" for it (its map's
tip and data attribute) on both pages, and hides every explanation's result, until the
reveal; a cell question hides the whole tensor the delta goes to; an exploring student is
brought back to the teacher's state and cannot explore until the reveal; after the
teacher changes a setting the class no longer names the old cell. On the learning-rate
page a choice question hides the legend's cases; on the BP page the teacher can ask about
a neuron's explanation."""

from __future__ import annotations

import httpx

from app.i18n import t
from tests.browser.test_live_questions import (
    _click_cell,
    _explain,
    _join,
    _left_behind,
    _start_class,
    student,  # noqa: F401 (fixtures)
    teacher,  # noqa: F401
)

OUT = ".pool-cell[data-tensor='pool1.out'] .heatmap-overlay"
DX = ".pool-cell[data-tensor='pool1.dx'] .heatmap-overlay"


def _hidden(pg: object, overlay: str) -> str | None:
    """The cells the open question hides on a map ("r,c r,c"), or None."""
    return pg.locator(overlay).get_attribute("data-quiz-hidden")


def _tip(pg: object, r: int, c: int) -> str:
    """The pool1.out map's tip for cell (r, c), as a hover shows it."""
    return pg.evaluate(
        """([sel, r, c]) => {
          const o = document.querySelector(sel);
          const box = o.getBoundingClientRect();
          const b = o.parentElement.querySelector('.heatmap-base');
          const x = box.left + ((c + 0.5) * box.width) / b.width;
          const y = box.top + ((r + 0.5) * box.height) / b.height;
          o.dispatchEvent(new PointerEvent('pointermove', {clientX: x, clientY: y, bubbles: true}));
          o.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y, bubbles: true}));
          return document.querySelector('.map-tooltip, .tooltip')?.textContent ?? '';
        }""",
        [OUT, r, c],
    )


def _total_shown(pg: object) -> bool:
    """Whether the page's explanation result (the view's panel) is visible."""
    total = pg.locator("#view .explain .total")
    return total.count() > 0 and total.first.is_visible()


def _state(server: str, code: str) -> dict:
    r = httpx.get(f"{server}/api/classes/{code}")
    r.raise_for_status()
    return r.json()


def test_an_open_question_hides_its_answer_until_the_reveal(teacher, student, server) -> None:  # noqa: F811
    tp, twatch = teacher
    sp, swatch = student
    tp.goto(server + "/learn/pooling")
    tp.wait_for_selector("#view[data-ready]")
    code = _start_class(tp)
    _join(sp, server, code, "pooling")

    # the student explores on their own (average pooling)
    sp.locator(".class-toggle").click()
    sp.wait_for_selector(".class-bar[data-mode='explore']", state="attached")
    sp.locator("#view select").first.select_option("avg")
    sp.wait_for_function("() => new URLSearchParams(location.search).get('kind') === 'avg'")

    # --- "what is this number?" of pool1.out [0,0,0,1]
    _click_cell(tp, "pool1.out", 0, 1)
    tp.locator(".cq-teacher [data-ask='number']").click()
    sp.locator(".cq-card[data-kind='number']").wait_for()
    # the exploring student is back on the teacher's state, and may not explore
    sp.wait_for_selector(".class-bar[data-mode='follow'][data-held='question']", state="attached")
    sp.wait_for_function("() => new URLSearchParams(location.search).get('kind') !== 'avg'")
    sp.wait_for_selector("#view[data-ready]")
    sp.wait_for_selector(".class-bar[data-held='question'] .class-toggle[disabled]")
    note = sp.locator(".class-lock-note")
    assert note.is_visible() and note.text_content() == t("cq.heldByQuestion", "en")
    for pg in (tp, sp):
        pg.wait_for_function("(sel) => document.querySelector(sel)?.dataset.quizHidden", arg=OUT)
        assert _hidden(pg, OUT) == "0,1"  # only the asked cell
        assert _hidden(pg, DX) is None
        tip = _tip(pg, 0, 1)
        assert tip.endswith("= ?"), tip
        assert pg.evaluate("document.documentElement.dataset.quiz") == "number"
    # the teacher's open explanation keeps its terms, not its result; the student's page
    # does not open the asked cell at all
    assert tp.locator("#view .explain .terms li").count() > 0
    assert tp.locator("#view .explain .total").count() == 1 and not _total_shown(tp)
    sp.wait_for_timeout(300)  # the student's page has applied the teacher's state
    assert sp.locator("#view .explain .terms").count() == 0
    assert not _total_shown(sp)

    tp.locator(".cq-open [data-act='reveal']").click()
    sid = tp.locator("#view").get_attribute("data-session-id")
    value = _explain(server, sid, "pool1.out", [0, 0, 0, 1])["value"]
    for pg in (tp, sp):
        pg.wait_for_function("(sel) => !document.querySelector(sel).dataset.quizHidden", arg=OUT)
        assert float(_tip(pg, 0, 1).rsplit("= ", 1)[1]) == value
    assert _total_shown(tp)
    sp.wait_for_function("() => document.querySelector('#view .explain .total')")  # opened now
    assert _total_shown(sp)
    assert not sp.locator(".class-toggle").is_disabled()
    assert sp.locator(".class-lock-note").is_hidden()

    # --- "where does this delta go?": the whole of pool1.dx is hidden until the reveal
    _click_cell(tp, "pool1.dout", 1, 0)
    tp.locator(".cq-teacher [data-ask='cell']").click()
    sp.locator(".cq-card[data-kind='cell']").wait_for()
    cells = tp.evaluate(
        "(sel) => { const b = document.querySelector(sel).parentElement"
        ".querySelector('.heatmap-base'); return b.width * b.height; }",
        DX,
    )
    for pg in (tp, sp):
        pg.wait_for_function("(sel) => document.querySelector(sel)?.dataset.quizHidden", arg=DX)
        assert len(_hidden(pg, DX).split()) == cells
        assert _hidden(pg, OUT) is None
    assert not _total_shown(tp)
    assert not tp.locator("#view .explain .terms").is_visible()  # they name where it goes
    tp.locator(".cq-open [data-act='close']").click()  # closing lifts it too
    for pg in (tp, sp):
        pg.wait_for_function("(sel) => !document.querySelector(sel).dataset.quizHidden", arg=DX)
    assert _total_shown(tp)

    # --- a new pass (average pooling): the class no longer names the old cell
    assert _state(server, code)["view"]["cell"] is not None
    tp.locator("#view select").first.select_option("avg")
    tp.wait_for_function("() => new URLSearchParams(location.search).get('kind') === 'avg'")
    tp.wait_for_function("() => !document.querySelector('#view .explain .total')")
    for _ in range(50):
        view = _state(server, code)["view"]
        if "avg" in view["query"] and view["cell"] is None:
            break
        tp.wait_for_timeout(100)
    assert view["cell"] is None and "avg" in view["query"], view

    # --- "which case is this run?" on the learning-rate page: the legend's cases hidden
    tp.goto(server + "/learn/learning-rate")
    tp.wait_for_selector("#view[data-run]")
    sp.wait_for_url("**/learn/learning-rate?**")
    sp.wait_for_selector("#view[data-run]")
    tp.locator(".cq-teacher [data-ask='choice'][data-run='0']").click()
    sp.locator(".cq-card[data-kind='choice']").wait_for()
    sp.wait_for_function("() => document.documentElement.dataset.quiz === 'choice'")
    for pg in (tp, sp):
        row = pg.locator(".lab-row[data-run='0']")
        assert row.locator(".lab-case").text_content()  # in the page, not shown
        assert not row.locator(".lab-case").is_visible()
        assert not row.locator(".lab-outcome").is_visible()
        assert not pg.locator(".lab-note").is_visible()
        assert row.locator(".lab-now").is_visible()  # the numbers to judge from stay
    tp.locator(".cq-open [data-act='reveal']").click()
    sp.locator(".cq-card .cq-verdict").wait_for()
    for pg in (tp, sp):
        pg.wait_for_function("() => !document.documentElement.dataset.quiz")
        assert pg.locator(".lab-row[data-run='0'] .lab-case").is_visible()

    # --- the BP page: a neuron's explanation open, the teacher can ask about it
    tp.goto(server + "/learn/bp")
    tp.wait_for_selector("#view[data-built]")
    assert tp.locator(".cq-where").text_content() == t("cq.ask.noCell", "en")
    tp.locator(".bp-neuron[data-col='1']").first.click()
    tp.locator(".cq-teacher [data-ask='number']").wait_for()
    tp.wait_for_function("() => document.querySelector('#view .explain .total')")
    sp.wait_for_url("**/learn/bp?**")
    for watch in (twatch, swatch):  # a page left behind aborts what it had open
        watch.failed[:] = [u for u in watch.failed if not _left_behind(u)]
    for watch in (twatch, swatch):
        watch.assert_clean()
