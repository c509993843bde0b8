"""The pages obey the server's configured limits (issue 13 item 1): an app started
with GLASSBOX_LIMIT_MAX_EPOCHS=7, GLASSBOX_LIMIT_MAX_BP_LAYERS=2 and
GLASSBOX_LIMIT_MAX_BP_NEURONS=6 gives the epoch inputs max 7 and stops the BP
builder at 2 hidden layers of at most 6 neurons; the lab caps its steps at
GLASSBOX_LIMIT_MAX_LAB_STEPS, the BP comparison runs at most
GLASSBOX_LIMIT_MAX_COMPARE_RUNS rates in batches within GLASSBOX_LIMIT_MAX_BATCH; the
CNN and RNN pages list the presets the server names for them, and the pages open on
the defaults the injected rules state."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.browser.bp_helpers import BP, ready
from tests.browser.conftest import PageWatch, watched_page
from tests.browser.rnn_helpers import open_rnn
from tests.processes import app_server

LIMITS = {
    "GLASSBOX_LIMIT_MAX_EPOCHS": "7",
    "GLASSBOX_LIMIT_MAX_BP_LAYERS": "2",
    "GLASSBOX_LIMIT_MAX_BP_NEURONS": "6",
    "GLASSBOX_LIMIT_MAX_LAB_STEPS": "300",
    "GLASSBOX_LIMIT_MAX_COMPARE_RUNS": "2",
    "GLASSBOX_LIMIT_MAX_BATCH": "16",
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app in its own uvicorn process, with the limits above."""
    with app_server(tmp_path_factory.mktemp("limited"), LIMITS) as base:
        yield base


@pytest.fixture
def lpage(browser: object, limited: str) -> Iterator[tuple[object, PageWatch]]:
    """A page on the limited app; the conftest hook checks it is clean, as `page`."""
    with watched_page(browser, limited) as watched:
        yield watched


def test_bp_epoch_inputs_and_layer_cap_follow_the_settings(lpage, limited):
    pg, _ = lpage
    pg.goto(limited + BP + "?hidden=5")
    ready(pg)
    # training runs a request (within max_epochs) after another until paused: its
    # "stop after" count has no cap of its own
    assert pg.get_attribute("[data-field=epochs]", "max") is None
    assert pg.get_attribute("[data-field=compare-epochs]", "max") == "7"
    assert pg.locator("[data-act=add-layer]").is_enabled()
    pg.click("[data-act=add-layer]")
    assert pg.locator(".bp-layer").count() == 2
    assert pg.locator("[data-act=add-layer]").is_disabled()
    for _ in range(3):  # 5 -> 6, then held at the neuron limit
        pg.click(".bp-layer[data-layer='0'] [data-act=more]")
    assert pg.text_content(".bp-layer[data-layer='0'] b") == "6"


def test_a_url_asking_for_more_than_the_limits_is_cut_to_them(lpage, limited):
    pg, _ = lpage
    pg.goto(limited + BP + "?hidden=9-3-3")
    ready(pg)
    sid = pg.get_attribute("#view", "data-session")
    dense = [
        la["settings"]["out_features"]
        for la in httpx.get(f"{limited}/api/sessions/{sid}").json()["network"]["layers"]
        if la["type"] == "dense"
    ]
    assert dense[:-1] == [6, 3]


def test_rnn_page_epochs_and_presets_come_from_the_server(lpage, limited):
    pg, _ = lpage
    open_rnn(pg, limited)
    assert pg.get_attribute("[data-control=epochs]", "max") == "7"
    offered = pg.eval_on_selector_all("[data-control=preset] option", "os => os.map(o => o.value)")
    assert offered == httpx.get(f"{limited}/api/rules").json()["pages"]["rnn"]


def test_lab_steps_follow_the_max_lab_steps_setting(lpage, limited):
    pg, _ = lpage
    pg.goto(limited + "/learn/learning-rate?surface=rosenbrock&steps=1000")
    pg.wait_for_function("() => document.querySelector('#view').dataset.run === '1'")
    assert pg.get_attribute("input[data-field='steps']", "max") == "300"
    assert pg.input_value("input[data-field='steps']") == "300"
    steps = pg.eval_on_selector_all(".lab-row", "rows => rows.map(r => +r.dataset.stepsRun)")
    assert steps and max(steps) <= 300


def test_bp_compare_runs_and_batch_follow_the_settings(lpage, limited):
    """Three rates asked, two run (max_compare_runs = 2), in batches the server allows
    (max_batch = 16, below the page's usual 32)."""
    pg, _ = lpage
    pg.goto(limited + BP + "?dataset=xor&lrs=0.01_0.3_3&cmpEpochs=1")
    ready(pg)
    pg.click("[data-act=compare]")
    pg.wait_for_selector("#view[data-compared='1']")
    lrs = pg.eval_on_selector_all(".bp-run", "rs => rs.map(r => Number(r.dataset.lr))")
    assert lrs == [0.01, 0.3]
    assert pg.input_value("[data-field=lrs]") == "0.01, 0.3"


def _with_rules(pg, path, edit):
    """Serve `path` with its injected rules changed by edit(rules)."""

    def handler(route):
        resp = route.fetch()
        html = resp.text()
        m = re.search(r'<script id="rules" type="application/json">(.*?)</script>', html, re.S)
        rules = json.loads(m.group(1))
        edit(rules)
        text = json.dumps(rules).replace("</", "<\\/")
        route.fulfill(response=resp, body=html[: m.start(1)] + text + html[m.end(1) :])

    pg.route(f"**{path}*", handler)


def test_bp_page_opens_on_the_defaults_the_rules_state(page, server):
    pg, _ = page
    defaults = {"dataset": "circles", "noise": 0.2, "activation": "relu", "loss": "mse",
                "optimizer": "adam"}  # fmt: skip
    _with_rules(pg, BP, lambda r: r["bp"]["defaults"].update(defaults))
    pg.goto(server + BP)
    ready(pg)
    for field in ("dataset", "activation", "loss", "optimizer"):
        assert pg.input_value(f"[data-field={field}]") == defaults[field], field
    assert pg.input_value("[data-field=noise]") == "0.2"
    sid = pg.get_attribute("#view", "data-session")
    s = httpx.get(f"{server}/api/sessions/{sid}").json()
    assert s["optimizer"]["type"] == "adam" and s["network"]["loss"] == "mse_onehot"
    assert "relu" in [la["type"] for la in s["network"]["layers"]]
    assert "?" not in pg.url  # the defaults are not written into the URL


def test_cnn_and_lab_pages_open_on_the_defaults_the_rules_state(page, server):
    pg, _ = page
    _with_rules(pg, "/learn/cnn", lambda r: r["page_defaults"].update(cnn="shapes-cnn"))
    pg.goto(server + "/learn/cnn")
    pg.wait_for_selector("#view[data-ready]")
    assert pg.eval_on_selector(".controls select", "s => s.value") == "shapes-cnn"
    sid = pg.get_attribute("#view", "data-session-id")
    assert httpx.get(f"{server}/api/sessions/{sid}").json()["preset"] == "shapes-cnn"
    _with_rules(pg, "/learn/learning-rate", lambda r: r["lab"].update(default_surface="saddle"))
    pg.goto(server + "/learn/learning-rate")
    pg.wait_for_function("() => document.querySelector('#view').dataset.run === '1'")
    assert pg.input_value("[data-field=surface]") == "saddle"
