"""Every number explains itself in the browser (issue 12, item 6): the CNN overview's
maps, a scalar loss, an input, the pooling page's outputs and deltas, and a BP neuron
or weight answer a click with the server's explanation."""

import pytest

from tests.browser.bp_helpers import BP, ready
from tests.browser.conftest import screenshot
from tests.browser.rnn_helpers import at_step, open_rnn


def _explained(pg, box=".explain"):
    total = float(pg.get_attribute(f"{box} .total", "data-total"))
    value = float(pg.get_attribute(f"{box} .total", "data-value"))
    return total, value


def test_cnn_overview_feature_map_cell_explains_itself(page, server):
    pg, _ = page
    pg.goto(server + "/learn/cnn?preset=digits-cnn")
    pg.wait_for_selector("#view[data-ready]")
    grid = pg.locator(".overview .channel-grid[data-tensor='relu1.out'] .heatmap-overlay")
    grid.first.click(position={"x": 4, "y": 4})
    # a click on an overview map opens its layer's detail (the step under the player)
    pg.wait_for_selector(".stage-box .explain[data-kind='relu'] .total")
    total, value = _explained(pg, ".stage-box .explain")
    assert total == pytest.approx(value, abs=1e-5)
    assert "relu" in pg.locator(".stage-box .explain .activation").text_content()


def test_cnn_loss_scalar_and_input_answer_a_click(page, server):
    pg, _ = page
    pg.goto(server + "/learn/cnn?preset=digits-cnn&step=8")  # the loss step
    pg.wait_for_selector("#view[data-ready]")
    pg.wait_for_selector(".stage .tensor[data-tensor='loss.value'] button.scalar")
    pg.click(".stage .tensor[data-tensor='loss.value'] button.scalar")
    pg.wait_for_selector(".explain[data-kind='loss.ce'] .total")
    box = pg.locator(".explain[data-kind='loss.ce']")
    total = float(box.locator(".total").get_attribute("data-total"))
    value = float(box.locator(".total").get_attribute("data-value"))
    assert total == pytest.approx(value, rel=1e-4)
    assert "−log(" in box.locator(".terms li").first.text_content()
    # the input: nothing computes it, and the panel says so in the page's language
    pg.goto(server + "/learn/cnn?preset=digits-cnn&step=0&lang=zh-CN")
    pg.wait_for_selector("#view[data-ready]")
    pg.locator(".stage .tensor[data-tensor='conv1.in'] .heatmap-overlay").first.click(
        position={"x": 5, "y": 5}
    )
    pg.wait_for_selector(".explain .given[data-given='input']")
    assert "输入" in pg.locator(".explain .given").text_content()
    screenshot(pg, "cnn-explain-input-zh")


def test_pooling_output_and_delta_cells_explain_themselves(page, server):
    pg, _ = page
    pg.goto(server + "/learn/pooling")
    pg.wait_for_selector("#view[data-ready]")
    pg.locator(".pool-cell[data-tensor='pool1.out'] .heatmap-overlay").click(
        position={"x": 10, "y": 10}
    )
    pg.wait_for_selector(".explain[data-kind='maxpool.out'] .total")
    total, value = _explained(pg)
    assert total == pytest.approx(value, abs=1e-6)
    assert pg.locator(".explain .terms li").count() == 4  # a 2x2 window


def test_bp_neuron_and_weight_click_show_the_servers_explanation(page, server):
    pg, _ = page
    pg.goto(server + BP + "?hidden=3&lr=0.5&step=8")  # after the last update
    ready(pg)
    pg.wait_for_selector("#view[data-frame='8']")
    pg.click(".bp-neuron[data-col='1'][data-i='2']")
    pg.wait_for_selector(".explain[data-kind='dense.dx'] .total")  # the neuron's delta
    total, value = _explained(pg)
    assert total == pytest.approx(value, rel=1e-4, abs=1e-7)
    assert "tanh'(tanh1.in)" in pg.locator(".explain .total").text_content()
    pg.focus(".bp-edges line[data-layer='dense2']")
    pg.keyboard.press("Enter")
    pg.wait_for_selector(".explain[data-kind='update.sgd'] .total")
    total, value = _explained(pg)
    assert total == pytest.approx(value, abs=1e-6)
    assert pg.get_attribute("#view", "data-frame") == "8"  # Enter explained; it did not step
    screenshot(pg, "bp-explain-weight")


def test_rnn_backward_delta_and_norm_explain_themselves(page, server):
    """memory-lstm step 23 is backward through t = 19: its dh vector and its dh_norm
    (a number, shown as a button) answer a click, and their terms add up."""
    pg, _ = page
    open_rnn(pg, server, "?step=23")
    at_step(pg, 23)
    pg.locator('.rnn-vector[data-tensor="lstm1.t19.dh"] .heatmap-overlay').click(
        position={"x": 17 + 34 * 3, "y": 17}
    )
    pg.wait_for_selector(".explain[data-kind] .total")
    total, value = _explained(pg)
    assert total == pytest.approx(value, rel=1e-4, abs=1e-7)
    assert pg.locator(".explain .terms li").count() >= 1
    pg.click('.scalar[data-tensor="lstm1.t19.dh_norm"] button')
    pg.wait_for_function(
        "() => document.querySelector('.explain h3').textContent.includes('dh_norm')"
    )
    total, value = _explained(pg)
    assert total == pytest.approx(value, rel=1e-4)
