"""The pages obey the server's configured limits (issue 13 item 1): an app started
with GLASSBOX_LIMIT_MAX_EPOCHS=7, GLASSBOX_LIMIT_MAX_BP_LAYERS=2 and
GLASSBOX_LIMIT_MAX_BP_NEURONS=6 gives the epoch inputs max 7 and stops the BP
builder at 2 hidden layers of at most 6 neurons; the CNN and RNN pages list the
presets the server names for them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.browser.bp_helpers import BP, ready
from tests.browser.conftest import ROOT, PageWatch
from tests.browser.rnn_helpers import open_rnn
from tests.processes import free_port, stop

LIMITS = {
    "GLASSBOX_LIMIT_MAX_EPOCHS": "7",
    "GLASSBOX_LIMIT_MAX_BP_LAYERS": "2",
    "GLASSBOX_LIMIT_MAX_BP_NEURONS": "6",
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app in its own uvicorn process, with the limits above."""
    port = free_port()
    env = {**os.environ, **LIMITS, "GLASSBOX_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    log = (tmp_path_factory.mktemp("log") / "uvicorn.log").open("w")
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the limited app did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


@pytest.fixture
def lpage(browser: object, limited: str) -> Iterator[tuple[object, PageWatch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    watch = PageWatch(pg, limited)
    pg.set_default_timeout(20_000)
    yield pg, watch
    watch.assert_clean()
    context.close()


def test_bp_epoch_inputs_and_layer_cap_follow_the_settings(lpage, limited):
    pg, _ = lpage
    pg.goto(limited + BP + "?hidden=5")
    ready(pg)
    assert pg.get_attribute("[data-field=epochs]", "max") == "7"
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
