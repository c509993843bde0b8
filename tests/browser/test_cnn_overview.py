"""The CNN page as one overview (issue 17, item 1; CNN Explainer's pattern): a small
column of maps per layer and the prediction, the layer the player is on lit up (forward,
loss, backward, update), a click on a layer opening its detail (the player goes to its
step; the stage under the player draws its maps and numbers, clickable), the player on
the first screen at 1366x768 and 1024x768, and no sideways scrolling on a 390 px phone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import PageWatch, screenshot

CNN = "/learn/cnn?preset=digits-cnn"


def at_step(pg: Any, i: int) -> None:
    pg.wait_for_function(f"() => document.querySelector('#view').dataset.step === '{i}'")


def lit(pg: Any) -> list[str]:
    return pg.locator(".overview .layer.current").evaluate_all(
        "els => els.map((e) => e.dataset.layer)"
    )


def plan_of(pg: Any, server: str) -> list[dict[str, Any]]:
    sid = pg.get_attribute("#view", "data-session-id")
    return httpx.get(f"{server}/api/sessions/{sid}").json()["plan"]


def test_the_layer_the_player_is_on_lights_up(page, server):
    pg, _ = page
    pg.goto(server + CNN)
    pg.wait_for_selector("#view[data-ready]")
    plan = plan_of(pg, server)
    assert lit(pg) == []  # before the first step
    phases = {p["phase"] for p in plan}
    assert phases == {"forward", "loss", "backward", "update"}
    # forward through conv, pool and dense, the loss, backward, the update
    wanted = [
        next(i for i, p in enumerate(plan) if p["phase"] == ph and p["layer"] == layer)
        for ph, layer in [("forward", "conv1"), ("forward", "pool1"), ("forward", "dense1"),
                          ("loss", "loss"), ("backward", "relu2"), ("backward", "conv1"),
                          ("update", "dense1")]
    ]  # fmt: skip
    pg.locator("h1").click()  # the keyboard is the page's
    done = -1
    for i in wanted:
        while done < i:
            pg.keyboard.press("ArrowRight")
            done += 1
            at_step(pg, done)
        step = plan[i]
        assert lit(pg) == [step["layer"]], (i, step)
        assert pg.get_attribute(".overview", "data-phase") == step["phase"]
        head = pg.locator(".overview .layer.current .layer-head")
        assert head.get_attribute("aria-current") == "step"
    # and back: two steps before the last update is the first one (conv1's)
    pg.keyboard.press("ArrowLeft")
    pg.keyboard.press("ArrowLeft")
    at_step(pg, wanted[-1] - 2)
    assert lit(pg) == [plan[wanted[-1] - 2]["layer"]] == ["conv1"]
    assert pg.get_attribute(".overview", "data-phase") == "update"
    screenshot(pg, "cnn-overview-update")


def test_a_click_on_a_layer_opens_its_detail(page, server):
    pg, _ = page
    pg.goto(server + CNN + "&step=0")
    at_step(pg, 0)
    plan = plan_of(pg, server)
    # a head: the layer's step in the player's phase (forward here); the stage draws it
    pg.click(".overview .layer[data-layer='conv2'] .layer-head")
    conv2 = next(i for i, p in enumerate(plan) if p["phase"] == "forward" and p["layer"] == "conv2")
    at_step(pg, conv2)
    assert lit(pg) == ["conv2"]
    assert pg.locator(".stage-box .tensor[data-tensor='conv2.out']").count() == 1
    # a cell of a map: its layer's forward step, and that cell's explanation
    pg.locator(".overview .channel-grid[data-tensor='pool1.out'] .heatmap-overlay").click(
        position={"x": 2, "y": 2}
    )
    pool1 = next(i for i, p in enumerate(plan) if p["phase"] == "forward" and p["layer"] == "pool1")
    at_step(pg, pool1)
    pg.wait_for_selector(".stage-box .explain .total")
    assert "pool1.out[0,0," in pg.locator(".stage-box .explain h3").text_content()
    total = float(pg.get_attribute(".stage-box .explain .total", "data-total"))
    value = float(pg.get_attribute(".stage-box .explain .total", "data-value"))
    assert total == pytest.approx(value, rel=1e-5, abs=1e-6)
    # backward: a head opens the layer's backward step (the phase the player is in)
    back = next(i for i, p in enumerate(plan) if p["phase"] == "backward" and p["layer"] == "relu2")
    pg.goto(server + CNN + f"&step={back}")
    at_step(pg, back)
    pg.click(".overview .layer[data-layer='pool1'] .layer-head")
    pool1_back = next(
        i for i, p in enumerate(plan) if p["phase"] == "backward" and p["layer"] == "pool1"
    )
    at_step(pg, pool1_back)
    assert lit(pg) == ["pool1"]
    assert pg.locator(".stage-box .tensor[data-tensor='pool1.dx']").count() == 1
    # the prediction's head opens the loss
    pg.click(".prediction .layer-head")
    at_step(pg, next(i for i, p in enumerate(plan) if p["phase"] == "loss"))
    assert lit(pg) == ["loss"]


@pytest.mark.parametrize("size", [(1366, 768), (1024, 768)])
def test_the_player_is_on_the_first_screen_beside_the_overview(page, server, size):
    pg, _ = page
    pg.set_viewport_size({"width": size[0], "height": size[1]})
    pg.goto(server + CNN + "&step=3")
    at_step(pg, 3)
    boxes = pg.evaluate(
        """() => ['.overview', '.player'].map((s) => {
             const r = document.querySelector(s).getBoundingClientRect();
             return [r.left, r.top, r.right, r.bottom]; })"""
    )
    assert pg.evaluate("scrollY") == 0
    for left, top, right, bottom in boxes:
        assert left >= 0 and top >= 0 and right <= size[0] and bottom <= size[1], boxes


def test_no_sideways_scrolling_on_a_phone(browser, server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    pg = context.new_page()
    watch = PageWatch(pg, server)
    try:
        wide = "() => document.scrollingElement.scrollWidth - innerWidth"
        pg.goto(server + CNN)
        pg.wait_for_selector("#view[data-ready]")
        assert pg.evaluate(wide) <= 0
        for step in (7, 9, 19):  # dense forward, dense backward, the update of dense1
            pg.goto(server + CNN + f"&step={step}")
            at_step(pg, step)
            assert pg.evaluate(wide) <= 0, step
        pg.locator(".overview .channel-grid[data-tensor='relu1.out'] .heatmap-overlay").tap(
            position={"x": 2, "y": 2}
        )
        pg.wait_for_selector(".stage-box .explain .total")
        assert pg.evaluate(wide) <= 0
        screenshot(pg, "cnn-phone-explained")
        watch.assert_clean()
    finally:
        context.close()
