"""The BP page passed on, in a real browser: training runs chunk after chunk past the
server's per-request epoch limit until Pause; the copied link opens a copy of the
trained network (its weights, not a fresh build's) that the student trains apart from
the original; a value out of the server's range is refused next to its field (nothing
sent), in both languages; and the URL follows the built network, not the form."""

from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from app.i18n import t
from engine.weights import read_npz
from tests.browser.bp_helpers import BP, ready
from tests.browser.conftest import PageWatch, screenshot, watched_page
from tests.processes import app_server

# A training request may ask for at most this many epochs here (the default is 50): the
# page must keep going past it, a request at a time, until Pause.
FEW = "3"


@pytest.fixture(scope="module")
def few_epochs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"GLASSBOX_LIMIT_MAX_EPOCHS": FEW}
    with app_server(tmp_path_factory.mktemp("few-epochs"), env) as base:
        yield base


@pytest.fixture
def fpage(browser: object, few_epochs: str) -> Iterator[tuple[object, PageWatch]]:
    with watched_page(browser, few_epochs) as watched:
        yield watched


def _tensor(base, sid, name):
    r = httpx.get(f"{base}/api/sessions/{sid}/tensors/{name}")
    assert r.status_code == 200, r.text
    return np.asarray(r.json()["data"], dtype=np.float32)


def _weights(base, sid):
    r = httpx.get(f"{base}/api/sessions/{sid}/weights.npz")
    assert r.status_code == 200, r.text
    return read_npz(r.content)[2]


def test_training_runs_until_paused_and_the_link_opens_the_trained_network(fpage, few_epochs):
    pg, _ = fpage
    limit = httpx.get(f"{few_epochs}/api/rules").json()["limits"]["max_epochs"]
    pg.goto(few_epochs + BP + "?dataset=blobs&hidden=3")
    ready(pg)
    assert pg.input_value("[data-field=epochs]") == ""  # no count: until Pause
    train, pause = pg.locator("[data-act=train]"), pg.locator("[data-act=stop]")
    assert pause.text_content() == t("bp.pause") and pause.is_disabled()
    train.click()
    pg.wait_for_selector("[data-act=train][data-state=running]")
    assert train.text_content() == t("bp.training.now") and pause.is_enabled()
    # past twice what one request may train: chunk after chunk
    pg.wait_for_function(f"() => +document.getElementById('view').dataset.epoch > {2 * limit}")
    pause.click()
    pg.wait_for_selector("#view[data-trained='1']")
    epoch = int(pg.get_attribute("#view", "data-epoch"))
    assert epoch > 2 * limit
    assert train.get_attribute("data-state") == "paused"
    assert train.text_content() == t("bp.trainMore") and pause.is_disabled()
    pg.wait_for_timeout(300)
    assert int(pg.get_attribute("#view", "data-epoch")) == epoch  # it stays paused
    sid = pg.get_attribute("#view", "data-session")
    trained = _weights(few_epochs, sid)
    screenshot(pg, "bp-paused")

    # The copied link carries a copy of the trained session ...
    pg.click(".share-link")
    pg.wait_for_selector(".share-url:not([hidden])")
    link = pg.input_value(".share-url")
    assert "session=" in link and "hidden=3" in link and "dataset=blobs" in link
    # ... and the page it opens trains its own copy of that one, from the trained weights
    pg.goto(link)
    ready(pg)
    mine = pg.get_attribute("#view", "data-session")
    assert mine != sid and mine not in link
    for name, value in trained.items():  # the pass shown runs with the trained weights
        np.testing.assert_allclose(_tensor(few_epochs, mine, name), value, rtol=1e-6)
    assert "session=" not in pg.url  # taken once: a reload is the settings' network
    pg.fill("[data-field=epochs]", "1")
    pg.click("[data-act=train]")
    pg.wait_for_selector("#view[data-trained='1']")
    for name, value in _weights(few_epochs, sid).items():  # the original is as it was
        np.testing.assert_array_equal(value, trained[name], err_msg=name)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_out_of_range_values_are_refused_inline_and_nothing_is_sent(page, server, lang):
    pg, _ = page
    rules = httpx.get(f"{server}/api/rules").json()["bp"]
    pg.goto(f"{server}{BP}?hidden=2&lr=0.5&lang={lang}")
    ready(pg)
    sent = []
    pg.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    lr = pg.locator("[data-field=lr]")
    lr.fill(str(rules["lr"]["le"] * 5))  # 500: the page used to drop it silently
    assert lr.get_attribute("aria-invalid") == "true"
    said = pg.locator("#" + lr.get_attribute("aria-describedby"))
    assert said.is_visible()
    text = said.text_content()
    assert f"{rules['lr']['le']:g}" in text and t("bp.lr", lang) in text
    pg.click("[data-act=build]")
    pg.fill("[data-field=lrs]", "0.1, -1")
    pg.click("[data-act=compare]")
    lrs = pg.locator("[data-field=lrs]")
    assert lrs.get_attribute("aria-invalid") == "true"
    assert "-1" in pg.text_content("#" + lrs.get_attribute("aria-describedby"))
    pg.wait_for_timeout(300)
    assert sent == [] and pg.get_attribute("#view", "data-built") == "1"
    assert "lr=0.5" in pg.url  # the URL is the network built
    screenshot(pg, f"bp-refused-{lang}")
    # a value in range clears the message, and Build sends it
    lr.fill("2")
    assert lr.get_attribute("aria-invalid") is None and said.is_hidden()
    pg.click("[data-act=build]")
    ready(pg, builds=2)
    assert "lr=2" in pg.url
    sid = pg.get_attribute("#view", "data-session")
    assert httpx.get(f"{server}/api/sessions/{sid}").json()["optimizer"]["lr"] == 2


def test_the_url_follows_the_built_network_not_the_form(page, server):
    pg, _ = page
    pg.goto(f"{server}{BP}?hidden=2")
    ready(pg)
    pg.select_option("[data-field=activation]", "relu")
    pg.click("[data-act=add-layer]")
    assert pg.locator(".bp-pending").is_visible()
    assert pg.get_attribute("[data-act=build]", "data-pending") == "1"
    pg.wait_for_timeout(300)
    assert "activation" not in pg.url and "hidden=2&" in pg.url + "&"  # still the built one
    pg.click("[data-act=build]")
    ready(pg, builds=2)
    assert "activation=relu" in pg.url and "hidden=2-4" in pg.url
    assert pg.locator(".bp-pending").is_hidden()
    # the learning rates compared are in the URL too: the link shows the same runs
    pg.fill("[data-field=compare-epochs]", "3")
    pg.fill("[data-field=lrs]", "0.1, 1")
    pg.click("[data-act=compare]")
    pg.wait_for_selector("#view[data-compared='1']")
    assert "cmp=1" in pg.url and "lrs=0.1_1" in pg.url

    def runs():
        return pg.eval_on_selector_all(".bp-run", "rs => rs.map(r => r.dataset.finalLoss)")

    shown = runs()
    pg.reload()
    pg.wait_for_selector("#view[data-compared='1']")
    assert runs() == shown and len(shown) == 2


@pytest.mark.console_errors_expected("404")
def test_present_toggle_keeps_the_trained_network_and_a_failed_link_says_why(page, server):
    """Present mode's toggle on a trained network makes no session: the page goes on
    with its own. A link whose network is gone says so by the button, in zh-CN too."""
    pg, _ = page
    pg.goto(f"{server}{BP}?dataset=blobs&hidden=3&lang=zh-CN")
    ready(pg)
    pg.fill("[data-field=epochs]", "2")
    pg.click("[data-act=train]")
    pg.wait_for_selector("#view[data-trained='1']")
    sid = pg.get_attribute("#view", "data-session")
    made = []
    pg.on(
        "request",
        lambda r: (
            made.append(r.url)
            if r.method == "POST" and r.url.split("?")[0].endswith("sessions")
            else None
        ),
    )
    for on in (True, False):
        pg.locator("h1").click()
        pg.keyboard.press("p")
        pg.wait_for_function(
            f"() => document.documentElement.classList.contains('present') === {str(on).lower()}"
        )
        ready(pg)
        assert pg.get_attribute("#view", "data-session") == sid
    assert made == []  # (the page shows the pass of the same network, trained)
    # the network to copy is gone: the reason shows by the button, in the page's language
    assert httpx.delete(f"{server}/api/sessions/{sid}").status_code in (200, 204)
    pg.click(".share-link")
    status = pg.locator(".share-status")
    pg.wait_for_function("() => document.querySelector('.share-status').textContent !== ''")
    assert status.text_content() == t("share.gone", "zh-CN")
    assert pg.locator(".share-url").is_hidden() and pg.locator(".share-link").is_enabled()
