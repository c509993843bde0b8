"""The CNN walkthrough in a real browser (Chromium through Playwright)."""

import re

import httpx
import pytest

from tests.browser.conftest import screenshot

PAGES = ["/", "/?lang=zh-CN", "/learn/convolution", "/learn/tensor-convolution", "/learn/pooling",
         "/learn/cnn", "/docs"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_with_no_errors_and_nothing_from_outside(page, server, path):
    pg, watch = page
    pg.goto(server + path)
    if path.startswith("/learn/"):
        pg.wait_for_selector("#view[data-ready]")
    elif path == "/docs":
        pg.wait_for_selector(".swagger-ui .info")
    pg.wait_for_load_state("networkidle")
    name = ("home" + path[1:] if path.startswith("/?") else path.strip("/")) or "home"
    name = name.replace("/", "-").replace("?", "-").replace("=", "-")
    screenshot(pg, name)
    watch.assert_clean()


def _explained(pg):
    total = float(pg.get_attribute(".explain .total", "data-total"))
    value = float(pg.get_attribute(".explain .total", "data-value"))
    return total, value


def test_tensor_convolution_output_cell_explains_itself(page, server):
    pg, watch = page
    pg.goto(server + "/learn/tensor-convolution")
    pg.wait_for_selector("#view[data-ready]")
    pg.locator(".grid-cell.sum .heatmap-overlay").first.click(position={"x": 60, "y": 60})
    pg.wait_for_selector(".explain .total")
    total, value = _explained(pg)
    assert total == pytest.approx(value, abs=1e-5)
    assert pg.locator(".explain .terms li").count() == 27  # 3 channels x 3 x 3
    watch.assert_clean()


def test_pooling_routes_each_delta_and_matches_the_api(page, server):
    pg, watch = page
    pg.goto(server + "/learn/pooling")
    pg.wait_for_selector("#view[data-ready]")
    for _ in range(5):
        pg.keyboard.press("ArrowRight")
        pg.wait_for_timeout(150)
    pg.wait_for_function("document.querySelector('.frame-label').textContent.startsWith('6 / 6')")
    pg.wait_for_selector(".explain .total")
    screenshot(pg, "pooling-backward")
    watch.assert_clean()


def _frame(pg):
    return int(pg.get_attribute("#view", "data-step") or -1)


def test_cnn_full_forward_backward_update_walk(page, server):
    pg, watch = page
    pg.goto(server + "/learn/cnn?preset=digits-cnn")
    pg.wait_for_selector("#view[data-ready]")
    count = pg.locator(".progress .seg").count()
    assert count == 20
    phases = []
    for i in range(count):
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function(f"document.querySelector('#view').dataset.step === '{i}'")
        phases.append(pg.locator(".frame-label").text_content().split()[3])
    assert phases[0] == "forward" and "loss" in phases and phases[-1] == "update"
    screenshot(pg, "cnn-update")
    assert pg.locator(".tensor[data-tensor='dense1.w.after']").count() == 1
    watch.assert_clean()


def test_cnn_delta_cell_explanation_sums_to_its_value(page, server):
    pg, watch = page
    pg.goto(server + "/learn/cnn?preset=digits-cnn&step=16")  # backward through conv1
    pg.wait_for_function("document.querySelector('#view').dataset.step === '16'")
    dx = pg.locator(".tensor[data-tensor='conv1.dx'] .heatmap-overlay").first
    dx.click(position={"x": 30, "y": 30})
    pg.wait_for_selector(".explain .total")
    total, value = _explained(pg)
    assert total == pytest.approx(value, rel=1e-4, abs=1e-6)
    assert pg.locator(".explain .terms li").count() >= 1
    screenshot(pg, "cnn-delta-explained")
    watch.assert_clean()


def test_drawing_a_digit_changes_the_prediction(page, server):
    pg, watch = page
    pg.goto(server + "/learn/cnn?preset=digits-cnn")
    pg.wait_for_selector("#view[data-ready]")
    before = pg.get_attribute(".prediction", "data-predicted")
    box = pg.locator("canvas.pad").bounding_box()
    x0, y0 = box["x"], box["y"]
    pg.mouse.move(x0 + 100, y0 + 30)
    pg.mouse.down()
    for y in range(30, 175, 10):  # a vertical stroke: a "1"
        pg.mouse.move(x0 + 100, y0 + y)
    pg.mouse.up()
    pg.get_by_role("button", name=re.compile("Use drawing")).click()
    pg.wait_for_function(
        f"document.querySelector('.prediction').dataset.predicted !== '{before}'", timeout=10_000
    )
    assert pg.get_attribute(".prediction", "data-predicted") == "1"
    screenshot(pg, "cnn-drawn-one")
    watch.assert_clean()


def test_zh_cn_switch_changes_the_captions(page, server):
    pg, watch = page
    pg.goto(server + "/learn/cnn?step=0")
    pg.wait_for_function("document.querySelector('#view').dataset.step === '0'")
    assert "kernel" in pg.locator(".caption").text_content()
    pg.locator("a[hreflang='zh-CN']").click()
    pg.wait_for_function("document.querySelector('#view').dataset.step === '0'")
    assert "卷积核" in pg.locator(".caption").text_content()
    assert pg.get_attribute("html", "lang") == "zh-CN"
    watch.assert_clean()


def test_the_url_reopens_the_same_state(page, server):
    pg, watch = page
    pg.goto(server + "/learn/cnn?preset=shapes-cnn&sample=4")
    pg.wait_for_selector("#view[data-ready]")
    for _ in range(3):
        pg.keyboard.press("ArrowRight")
    pg.wait_for_function("document.querySelector('#view').dataset.step === '2'")
    url = pg.url
    assert "preset=shapes-cnn" in url and "sample=4" in url and "step=2" in url
    caption = pg.locator(".caption").text_content()
    pg.goto(url)
    pg.wait_for_function("document.querySelector('#view').dataset.step === '2'")
    assert pg.locator(".caption").text_content() == caption
    assert pg.input_value("input.sample") == "4"
    watch.assert_clean()


def test_the_page_shows_what_the_api_computed(page, server):
    pg, watch = page
    pg.goto(server + "/learn/cnn?preset=digits-cnn&step=0")
    pg.wait_for_function("document.querySelector('#view').dataset.step === '0'")
    # The tooltip value of a conv1.out cell equals the API's number for the same cell.
    body = {"preset": "digits-cnn"}
    with httpx.Client(base_url=server) as api:
        sid = api.post("/api/sessions", json=body).json()["id"]
        api.post(f"/api/sessions/{sid}/steps", json={})
        out = api.get(f"/api/sessions/{sid}/tensors/conv1.out").json()["data"]
    pg.locator(".tensor[data-tensor='conv1.out'] .heatmap-overlay").first.hover(
        position={"x": 5, "y": 5}
    )
    text = pg.locator(".tooltip").text_content()
    shown = float(text.split("=")[-1])
    assert shown == pytest.approx(out[0][0][0][0], rel=1e-6)
    watch.assert_clean()


@pytest.mark.parametrize("query", ["", "?mode=true", "?k=2&p=1&s=2"])
def test_convolution_player_steps_through_every_position_matching_the_api(page, server, query):
    pg, watch = page
    pg.goto(server + "/learn/convolution" + query)
    pg.wait_for_selector("#view[data-ready]")
    sid = pg.get_attribute("#view", "data-session-id")
    out = httpx.get(f"{server}/api/sessions/{sid}/tensors/conv1.out").json()
    rows, cols = out["shape"][2], out["shape"][3]
    assert pg.locator(".progress .seg").count() == rows * cols
    for i in range(rows * cols):
        if i:
            pg.keyboard.press("ArrowRight")
        pg.wait_for_function(f"document.querySelector('#view').dataset.frame === '{i}'")
        total = float(pg.get_attribute(".products .total", "data-total"))
        assert total == pytest.approx(out["data"][0][0][i // cols][i % cols], rel=1e-5, abs=1e-6)
    screenshot(pg, "convolution-last-position" + query.replace("?", "-").replace("&", "-"))
    watch.assert_clean()


def test_convolution_edits_and_a_combination_that_does_not_fit(page, server):
    pg, watch = page
    pg.goto(server + "/learn/convolution")
    pg.wait_for_selector("#view[data-ready]")
    before = pg.get_attribute("#view", "data-session-id")
    pg.locator(".conv-cell[data-tensor='conv1.w'] .heatmap-overlay").click(
        position={"x": 10, "y": 10}
    )
    pg.fill(".cell-editor input", "5")
    pg.keyboard.press("Enter")
    pg.wait_for_function(f"document.querySelector('#view').dataset.sessionId !== '{before}'")
    pg.wait_for_function("document.querySelector('#view').dataset.frame === '0'")
    total = float(pg.get_attribute(".products .total", "data-total"))
    assert total == pytest.approx(8.0)  # was 4: the top-left input pixel (1) now weighs 5
    pg.fill("input[data-key='k']", "6")
    pg.dispatch_event("input[data-key='k']", "change")
    pg.wait_for_selector(".size-formula.nofit")
    assert "larger than the padded input" in pg.locator(".size-formula").text_content()


def test_a_delta_cell_can_be_explained_from_the_keyboard(page, server):
    pg, watch = page
    pg.goto(server + "/learn/cnn?preset=digits-cnn&step=16")
    pg.wait_for_function("document.querySelector('#view').dataset.step === '16'")
    dx = pg.locator(".tensor[data-tensor='conv1.dx'] .heatmap-overlay").first
    dx.focus()
    for key in ["ArrowRight", "ArrowRight", "ArrowDown", "Enter"]:
        pg.keyboard.press(key)
    pg.wait_for_selector(".explain .total")
    assert "conv1.dx[0,0,1,2]" in pg.locator(".explain h3").text_content()
    assert pg.get_attribute("#view", "data-step") == "16"  # the arrows moved the cursor only
    total, value = _explained(pg)
    assert total == pytest.approx(value, rel=1e-4, abs=1e-6)
    watch.assert_clean()


def test_a_dense_delta_cell_explains_the_cell_clicked(page, server):
    pg, watch = page
    pg.goto(server + "/learn/cnn?preset=digits-cnn&step=9")  # backward through dense1
    pg.wait_for_function("document.querySelector('#view').dataset.step === '9'")
    vec = pg.locator(".tensor[data-tensor='dense1.dx'] .heatmap-overlay").first
    box = vec.bounding_box()
    vec.click(position={"x": box["width"] * 0.55, "y": box["height"] / 2})
    pg.wait_for_selector(".explain .total")
    label = pg.locator(".explain h3").text_content()
    assert "dense1.dx[0," in label and "dense1.dx[0,0]" not in label
    watch.assert_clean()
