"""Watching a CNN learn on the CNN page, in a real browser (issue 19 item 3): a page
opened on random weights trains over SSE, its curves get points and the first
layer's kernels are redrawn with new numbers, the walk then shows the trained
weights, a drawing is added to the training data with its label; and the panel in
Chinese, by keyboard, axe-clean and without sideways scrolling at 390 px."""

from __future__ import annotations

import json

import httpx
import pytest

from app.i18n import LOCALES_DIR
from tests.browser.conftest import screenshot, watched_page
from tests.browser.test_axe import AXE, AXE_PATH, serious_violations
from tests.processes import app_server

CNN = "/learn/cnn?preset=digits-cnn"

# Each redraw of the kernels, as pixels: recorded by the page's own observer.
RECORD_KERNELS = """() => {
  window.__kernels = [];
  const grid = document.querySelector('.cnn-kernels-grid');
  new MutationObserver(() => window.__kernels.push({
    redraws: grid.dataset.redraws, iteration: grid.dataset.iteration,
    pixels: [...grid.querySelectorAll('canvas')].map((c) => c.toDataURL()).join(),
  })).observe(grid, { attributes: true, attributeFilter: ['data-redraws'] });
}"""


def _session(pg, server):
    sid = pg.get_attribute("#view", "data-session-id")
    return httpx.get(f"{server}/api/sessions/{sid}").json()


def test_random_weights_train_with_curves_kernels_and_an_added_drawing(page, server):
    pg, _ = page
    pg.goto(server + CNN + "&weights=random")
    pg.wait_for_selector("#view[data-ready]")
    assert pg.input_value("[data-control=weights]") == "random"
    before = _session(pg, server)
    assert before["trained"] is False  # the page shows an untrained network
    limits = httpx.get(f"{server}/api/rules").json()["limits"]

    # A number over the server's limit is refused on the page, nothing sent
    pg.fill("[data-control=epochs]", str(limits["max_epochs"] + 1))
    pg.click("[data-control=train]")
    assert pg.get_attribute(".cnn-train", "data-state") == "refused"
    assert str(limits["max_epochs"]) in pg.text_content(".cnn-train-status")

    pg.fill("[data-control=epochs]", "2")
    pg.fill("[data-control=batch]", "16")
    pg.evaluate(RECORD_KERNELS)
    pg.click("[data-control=train]")
    pg.wait_for_selector(".cnn-train[data-runs='1']", timeout=60_000)
    assert pg.get_attribute(".cnn-train", "data-state") == "done"
    assert int(pg.get_attribute(".cnn-train", "data-points")) >= 2
    assert int(pg.get_attribute(".cnn-kernels-grid", "data-redraws")) >= 2
    label = pg.get_attribute(".cnn-kernels-grid", "aria-label")
    assert "conv1" in label and pg.get_attribute(".cnn-kernels-grid", "data-iteration") in label
    # the walk shows the trained weights: the same session, trained, a new pass
    after = _session(pg, server)
    assert after["id"] == before["id"] and after["trained"] is True
    assert after["passes"] == before["passes"] + 1
    assert "weights=random" in pg.url and "epochs=2" in pg.url and "batch=16" in pg.url

    # A drawing, its label, added: the page counts it, the session holds it
    pad = pg.locator("canvas.pad").bounding_box()
    pg.mouse.move(pad["x"] + 100, pad["y"] + 30)
    pg.mouse.down()
    pg.mouse.move(pad["x"] + 100, pad["y"] + 170, steps=8)
    pg.mouse.up()
    pg.select_option("[data-control=sample-label]", "1")
    pg.click("[data-control=add-sample]")
    pg.wait_for_selector(".cnn-samples-count[data-added='1']")
    assert f"1 of {limits['max_extra_samples']}" in pg.text_content(".cnn-samples-count")
    sid = after["id"]
    assert httpx.get(f"{server}/api/sessions/{sid}/samples").json()["labels"] == [1]
    # training again goes on with the same curves
    points = int(pg.get_attribute(".cnn-train", "data-points"))
    pg.fill("[data-control=epochs]", "1")
    pg.click("[data-control=train]")
    pg.wait_for_function(
        f"() => Number(document.querySelector('.cnn-train').dataset.points) > {points}"
    )
    pg.wait_for_selector(".cnn-train[data-runs='2'][data-state=done]")
    # the kernels as drawn (two events may arrive in one chunk: one look at them, then)
    seen = pg.evaluate("window.__kernels")
    assert len(seen) >= 2 and len({r["pixels"] for r in seen}) == len(seen)
    assert [int(r["redraws"]) for r in seen] == sorted(int(r["redraws"]) for r in seen)
    screenshot(pg, "cnn-train")
    # and the drawings added can be taken out again
    pg.click("[data-control=clear-samples]")
    pg.wait_for_selector(".cnn-samples-count[data-added='0']")
    assert httpx.get(f"{server}/api/sessions/{sid}/samples").json()["labels"] == []
    assert pg.locator("[data-control=clear-samples]").is_disabled()


def test_the_panel_in_chinese_by_keyboard_axe_clean_at_phone_width(browser, server):
    zh = json.loads((LOCALES_DIR / "zh-CN" / "cnn-train.json").read_text(encoding="utf-8"))
    source = AXE.read_text(encoding="utf-8")
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    with watched_page(browser, server, **phone) as (pg, watch):
        axe = lambda route: route.fulfill(body=source, content_type="text/javascript")  # noqa: E731
        pg.route(server + AXE_PATH, axe)
        pg.goto(server + CNN + "&lang=zh-CN&epochs=1&batch=32")
        pg.wait_for_selector("#view[data-ready]")
        assert pg.text_content("#cnn-train-title") == zh["cnnTrain.title"]
        assert pg.text_content("[data-control=train]") == zh["cnnTrain.train"]
        assert pg.text_content("#cnn-samples-title") == zh["cnnTrain.samples"]
        # by keyboard: from the batch size, Tab reaches Train, Enter starts it
        pg.focus("[data-control=batch]")
        pg.keyboard.press("Tab")
        assert pg.evaluate("document.activeElement.dataset.control") == "train"
        pg.keyboard.press("Enter")
        pg.wait_for_selector(".cnn-train[data-runs='1'][data-state=done]", timeout=60_000)
        assert "完成" in pg.text_content(".cnn-train-status")
        assert pg.get_attribute(".cnn-kernels-grid", "data-redraws") is not None
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
        found = serious_violations(pg, server)
        assert not found, "\n".join(found)
        screenshot(pg, "cnn-train-zh-390")
        watch.assert_clean()


@pytest.mark.console_errors_expected("status of 422")
def test_the_servers_limits_bound_the_panel_and_its_refusal_is_shown(browser, tmp_path):
    """An app whose limits refuse any training (max_train_flops) and hold one drawing:
    the inputs take their maximums from it, its 422 is said in the page's words."""
    env = {"GLASSBOX_LIMIT_MAX_EPOCHS": "3", "GLASSBOX_LIMIT_MAX_TRAIN_FLOPS": "1000",
           "GLASSBOX_LIMIT_MAX_EXTRA_SAMPLES": "1"}  # fmt: skip
    with app_server(tmp_path, env) as base, watched_page(browser, base) as (pg, watch):
        pg.goto(base + CNN)
        pg.wait_for_selector("#view[data-ready]")
        assert pg.get_attribute("[data-control=epochs]", "max") == "3"
        pg.fill("[data-control=epochs]", "1")
        pg.click("[data-control=train]")
        pg.wait_for_selector(".cnn-train[data-runs='1'][data-state=refused]")
        assert "at most 1,000" in pg.text_content(".cnn-train-status")  # the limit, plainly
        assert pg.locator("[data-control=train]").is_enabled()
        pg.click("[data-control=add-sample]")
        pg.wait_for_selector(".cnn-samples-count[data-added='1']")
        assert "1 of 1" in pg.text_content(".cnn-samples-count")
        assert pg.locator("[data-control=add-sample]").is_disabled()
        watch.assert_clean(("status of 422",))
