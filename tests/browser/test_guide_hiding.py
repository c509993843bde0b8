"""What a waiting guided task keeps off the page, and what does not undo it (issue 19;
found by reading the change): the step's caption and the size formula while a size task
waits; the LSTM cell diagram's asked number and every number it feeds (c - i·g would
give f·c_(t-1)), a gate's wire drawn half open; the lab surface's description while a
lab task waits; a live class's state without a question leaves a task's hiding alone;
and progress stored in another shape does not stop the guide."""

from __future__ import annotations

from typing import Any

import pytest

STORE = "glassbox.guide.v1"  # guide-store.js's localStorage key


def _waiting(pg: Any, server: str, topic: str, query: str) -> None:
    """The page opened on a task (?guide=: the path opens on it), in its state."""
    pg.goto(f"{server}/learn/{topic}?lang=en&{query}")
    pg.wait_for_selector(".guide-answer")
    pg.wait_for_function("() => document.documentElement.dataset.quiz")
    assert pg.locator(".guide-moved").is_hidden()


def _hidden(pg: Any, selector: str) -> bool:
    return pg.eval_on_selector(selector, "e => getComputedStyle(e).visibility") == "hidden"


def test_a_size_task_hides_the_caption_and_formula_that_state_the_size(page, server):
    pg, _ = page
    _waiting(pg, server, "convolution", "guide=conv-size&k=3&p=0&s=1&frame=0")
    assert pg.evaluate("document.documentElement.dataset.quiz") == "size"
    assert _hidden(pg, ".caption-box") and _hidden(pg, ".size-formula")
    pg.fill(".guide-rows", "3")
    pg.fill(".guide-cols", "3")
    pg.click(".guide-answer button[type=submit]")
    pg.wait_for_selector(".guide-verdict.right")
    assert not _hidden(pg, ".caption-box") and not _hidden(pg, ".size-formula")


def test_the_lstm_diagram_hides_the_asked_number_and_what_it_feeds(page, server):
    pg, _ = page
    _waiting(pg, server, "rnn", "guide=rnn-forget-keep&preset=memory-lstm&step=6&unit=12")
    pg.wait_for_selector(".lstm-cell[data-ready='1'][data-unit='12']")
    shown = pg.eval_on_selector_all(
        ".lstm-cell [data-tensor]",
        "gs => Object.fromEntries(gs.map(g => [g.dataset.tensor.split('.').pop(), "
        "g.querySelector('text').textContent]))",
    )
    # f·c_(t-1) is asked: it and c, tanh(c), h (which would give it) are "?"; what it is
    # made of (f, c_(t-1)) and the other branch (i, g, i·g) stay
    assert {k for k, v in shown.items() if v == "?"} == {"fc", "c", "tanh_c", "h"}, shown
    assert all(shown[k] != "?" for k in ("f", "c_prev", "i", "g", "ig", "o", "h_prev"))
    assert pg.locator(".lstm-cell-caption").is_hidden()  # it says every number
    pg.fill(".guide-number", "987654")
    pg.click(".guide-answer button[type=submit]")
    pg.wait_for_selector(".guide-verdict.wrong")
    pg.wait_for_function(
        "() => ![...document.querySelectorAll('.lstm-cell [data-tensor] text')]"
        ".some(t => t.textContent === '?')"
    )
    assert pg.locator(".lstm-cell-caption").is_visible()


def test_a_lab_task_hides_the_surface_description(page, server):
    pg, _ = page
    _waiting(pg, server, "learning-rate", "guide=lab-saddle&surface=saddle&frame=0")
    assert _hidden(pg, ".lab-description")


def test_a_class_state_without_a_question_leaves_a_waiting_task_hidden(page, server):
    """classroom.js sets the class's question on every state (none: null); that must not
    lift a guided task's hiding (live-hooks keeps each asker's question apart)."""
    pg, _ = page
    _waiting(pg, server, "pooling", "guide=pool-max&kind=max&frame=0")
    assert pg.evaluate("document.documentElement.dataset.quiz") == "number"
    pg.evaluate("""async () => {
        const hooks = await import('/static/js/live-hooks.js');
        hooks.setQuiz(null);  // a class state with no question (classroom.js)
    }""")
    assert pg.evaluate("document.documentElement.dataset.quiz") == "number"
    # a class's question comes first, and its reveal gives the task's hiding back
    pg.evaluate("""async () => {
        const hooks = await import('/static/js/live-hooks.js');
        hooks.setQuiz({id: 'q1', kind: 'choice'});
    }""")
    assert pg.evaluate("document.documentElement.dataset.quiz") == "choice"
    pg.evaluate("""async () => {
        const hooks = await import('/static/js/live-hooks.js');
        hooks.setQuiz({id: 'q1', kind: 'choice', revealed: true});
    }""")
    assert pg.evaluate("document.documentElement.dataset.quiz") == "number"


@pytest.mark.parametrize("stored", ['{"done":1,"current":1,"open":1}', '{"done":"x"}', "[]"])
def test_progress_stored_in_another_shape_does_not_stop_the_guide(page, server, stored):
    pg, _ = page
    pg.goto(f"{server}/?lang=en")
    pg.evaluate("([k, v]) => localStorage.setItem(k, v)", [STORE, stored])
    pg.goto(f"{server}/learn/pooling?lang=en")
    pg.wait_for_selector(".guide-toggle")
    pg.click(".guide-toggle")
    pg.wait_for_selector(".guide-number")
    pg.fill(".guide-number", "987654")
    pg.click(".guide-answer button[type=submit]")
    pg.wait_for_selector(".guide-verdict.wrong")
