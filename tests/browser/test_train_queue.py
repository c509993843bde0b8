"""Training that waits for a trainer (issue 14): an app with one trainer
(GLASSBOX_TRAIN_WORKERS=1) whose trainer is taken by a long training made through the
API; the BP and RNN pages' trainings then wait in the server's queue, and the pages say
so ("queued" events: the place in line, in the page's language) until the long training
is cancelled, when theirs start and finish. Stop cancels a training that waits."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.browser.bp_helpers import BP, ready
from tests.browser.conftest import PageWatch, screenshot, watched_page
from tests.browser.rnn_helpers import open_rnn
from tests.processes import app_server

ONE_TRAINER = {
    "GLASSBOX_TRAIN_WORKERS": "1",
    # the long training cannot end on its own while a test waits behind it
    "GLASSBOX_LIMIT_MAX_ITERATIONS": "100000000",
    "GLASSBOX_LIMIT_MAX_TRAIN_FLOPS": str(10**18),  # ... and its cost (engine.cost) allowed
}
WAITING = {"en": "Waiting for a free trainer: position ", "zh-CN": "等待空闲的训练器：排在第 "}


@pytest.fixture(scope="module")
def one_trainer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app in its own uvicorn process, with a single trainer."""
    with app_server(tmp_path_factory.mktemp("one-trainer"), ONE_TRAINER) as base:
        yield base


@pytest.fixture(scope="module")
def full_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with a single trainer and room for a single training to wait."""
    env = {**ONE_TRAINER, "GLASSBOX_TRAIN_QUEUE_MAX": "1"}
    with app_server(tmp_path_factory.mktemp("full-queue"), env) as base:
        yield base


@pytest.fixture
def fpage(browser: object, full_queue: str) -> Iterator[tuple[object, PageWatch]]:
    """A page on the full-queue app; the conftest hook checks it is clean, as `page`."""
    with watched_page(browser, full_queue) as watched:
        yield watched


@pytest.fixture
def qpage(browser: object, one_trainer: str) -> Iterator[tuple[object, PageWatch]]:
    """A page on the one-trainer app; the conftest hook checks it is clean, as `page`."""
    with watched_page(browser, one_trainer) as watched:
        yield watched


@contextmanager
def trainer_taken(base: str, waiting: int = 0) -> Iterator[list[dict]]:
    """Take the only trainer with a training that runs until cancelled (an LSTM session
    trained for 10^8 iterations, its stream read in a thread), and queue `waiting` more
    such trainings behind it. Yields the running one's events once it has started and
    the others wait; on exit cancels them all (DELETE .../train) and checks that each
    ended "cancelled"."""
    http = httpx.Client(base_url=base, timeout=60)
    runs = []
    try:
        for n in range(1 + waiting):
            sid = http.post("/api/sessions", json={"preset": "memory-lstm"}).json()["id"]
            run = {"sid": sid, "events": [], "heard": threading.Event()}
            run["thread"] = threading.Thread(target=_read, args=(http, run), daemon=True)
            run["thread"].start()
            runs.append(run)
            assert run["heard"].wait(30), "the long training sent nothing"
            # the first starts at once (the trainer is free); the others wait
            assert run["events"][0]["event"] == ("queued" if n else "start"), run["events"][0]
        yield runs[0]["events"]
    finally:
        for run in reversed(runs):
            assert http.delete(f"/api/sessions/{run['sid']}/train").status_code == 202
            run["thread"].join(30)
            assert not run["thread"].is_alive(), "a long training did not end when cancelled"
            http.delete(f"/api/sessions/{run['sid']}")
        http.close()
    assert all(run["events"][-1]["event"] == "cancelled" for run in runs)


def _read(http: httpx.Client, run: dict) -> None:
    body = {"iterations": 100_000_000, "batch_size": 32}
    with http.stream("POST", f"/api/sessions/{run['sid']}/train", json=body) as res:
        assert res.status_code == 200, res.read()
        for line in res.iter_lines():
            if line.startswith("data: "):
                run["events"].append(json.loads(line[6:]))
                run["heard"].set()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_bp_training_waits_in_line_then_runs_when_the_trainer_frees(qpage, one_trainer, lang):
    pg, _ = qpage
    pg.goto(f"{one_trainer}{BP}?dataset=blobs&epochs=2&lang={lang}")
    ready(pg)
    with trainer_taken(one_trainer):
        pg.click("[data-act=train]")
        pg.wait_for_selector(".bp-status[data-waiting=queued]")
        said = pg.text_content(".bp-status")
        assert said.startswith(WAITING[lang] + "1"), said
        assert pg.locator("[data-act=stop]").is_enabled()
        assert pg.get_attribute(".bp-status", "aria-live") == "polite"
        screenshot(pg, f"bp-train-queued-{lang}")
    # the long training is cancelled: the page's starts, both epochs run, and the
    # status line is the last epoch's numbers again
    pg.wait_for_selector("#view[data-trained='1']", timeout=60_000)
    assert pg.get_attribute("#view", "data-epoch") == "2"
    assert pg.get_attribute(".bp-status", "data-waiting") is None
    said = pg.text_content(".bp-status")
    assert ("Epoch 2" if lang == "en" else "第 2 轮") in said, said
    assert pg.locator("canvas.line-chart").count() == 3


def test_bp_stop_cancels_a_training_that_waits(qpage, one_trainer):
    pg, _ = qpage
    pg.goto(f"{one_trainer}{BP}?dataset=blobs&epochs=3")
    ready(pg)
    with trainer_taken(one_trainer) as taken:
        pg.click("[data-act=train]")
        pg.wait_for_selector(".bp-status[data-waiting=queued]")
        pg.click("[data-act=stop]")
        # the page's training ends without a start; the long one runs on
        pg.wait_for_selector("#view[data-trained='1']")
        assert pg.get_attribute("#view", "data-epoch") == "0"
        assert pg.get_attribute(".bp-status", "data-waiting") is None
        assert pg.locator("[data-act=train]").is_enabled()
        assert pg.locator("[data-act=stop]").is_disabled()
        assert taken[-1]["event"] != "cancelled"
    # the cancelled request left nothing in the queue: the next training starts at once
    pg.click("[data-act=train]")
    pg.wait_for_selector("#view[data-trained='2']", timeout=60_000)
    assert pg.get_attribute("#view", "data-epoch") == "3"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_rnn_trainings_wait_in_line_then_run_when_the_trainer_frees(qpage, one_trainer, lang):
    pg, _ = qpage
    open_rnn(pg, one_trainer, f"?epochs=1&lang={lang}")
    with trainer_taken(one_trainer):
        pg.locator("[data-control=train]").click()
        for model in ("rnn", "lstm"):
            status = f'.train-status[data-model="{model}"]'
            pg.wait_for_selector(f"{status}[data-waiting=queued]")
            assert pg.text_content(status).startswith(WAITING[lang]), pg.text_content(status)
            assert pg.get_attribute(status, "aria-live") == "polite"
        assert pg.locator("[data-control=stop]").is_enabled()
        screenshot(pg, f"learn-rnn-train-queued-{lang}")
    pg.wait_for_selector(".rnn-train[data-done]", timeout=120_000)
    for model in ("rnn", "lstm"):
        status = f'.train-status[data-model="{model}"]'
        assert pg.get_attribute(status, "data-status") == "done"
        assert pg.get_attribute(status, "data-waiting") is None
        bar = pg.locator(f'progress[data-model="{model}"]')
        assert float(bar.get_attribute("value") or 0) == pytest.approx(
            float(bar.evaluate("b => b.max"))
        )


def test_rnn_stop_cancels_the_trainings_that_wait(qpage, one_trainer):
    pg, _ = qpage
    open_rnn(pg, one_trainer, "?epochs=1")
    with trainer_taken(one_trainer):
        pg.locator("[data-control=train]").click()
        for model in ("rnn", "lstm"):
            pg.wait_for_selector(f'.train-status[data-model="{model}"][data-waiting=queued]')
        pg.locator("[data-control=stop]").click()
        pg.wait_for_selector(".rnn-train[data-done]")
        for model in ("rnn", "lstm"):
            status = f'.train-status[data-model="{model}"]'
            assert pg.get_attribute(status, "data-status") == "cancelled"
            assert pg.text_content(status) == "stopped before it started"
        assert pg.locator("[data-control=train]").is_enabled()
        assert pg.locator("[data-control=stop]").is_disabled()


@pytest.mark.console_errors_expected("status of 429")
def test_bp_says_it_will_try_again_when_the_queue_is_full(fpage, full_queue):
    pg, watch = fpage
    pg.goto(f"{full_queue}{BP}?dataset=blobs&epochs=2")
    ready(pg)
    with trainer_taken(full_queue, waiting=1):
        pg.click("[data-act=train]")
        # the 429 is not the end: the page says why it waits, and will try again
        pg.wait_for_selector(".bp-status[data-waiting=retry]")
        said = pg.text_content(".bp-status")
        assert said.startswith("The server is busy (") and "train_queue_max = 1" in said, said
        assert "trying again in 30 s (try 2 of 6)" in said, said  # the Retry-After
        assert pg.locator("[data-act=train]").is_disabled()
        screenshot(pg, "bp-train-retry")
        # Stop ends the wait at once: nothing trained, nothing left to retry
        pg.click("[data-act=stop]")
        pg.wait_for_selector("#view[data-trained='1']")
        assert pg.get_attribute("#view", "data-epoch") == "0"
        assert pg.get_attribute(".bp-status", "data-waiting") is None
    assert any("429" in e for e in watch.errors)  # the refusal the page recovered from
