"""The BP (fully connected) network page in a real browser: builder, a pass walked
step by step with values, deltas and updates that match the API (softmax
cross-entropy and MSE), neuron and edge hovers, the URL round trip, zh-CN."""

import httpx
import pytest

from tests.browser.bp_helpers import BP, column, flat, ready, tensor
from tests.browser.conftest import screenshot


@pytest.mark.parametrize("query", ["", "?lang=zh-CN", "?dataset=digits&hidden=16-8"])
def test_bp_loads_with_no_errors_and_nothing_from_outside(page, server, query):
    pg, _ = page
    pg.goto(server + BP + query)
    ready(pg)
    pg.wait_for_load_state("networkidle")
    assert pg.locator("svg.bp-net").count() == 1
    assert pg.locator(".bp-neuron").count() >= 5
    if "digits" in query:
        assert "64" in pg.text_content(".bp-sizes") and "10" in pg.text_content(".bp-sizes")
        assert pg.locator(".bp-boundary-box").is_hidden()
    else:
        assert pg.locator("canvas.bp-boundary").is_visible()
    screenshot(pg, "bp" + query.replace("?", "-").replace("=", "-").replace("&", "-"))


def test_home_page_links_to_bp(page, server):
    pg, _ = page
    pg.goto(server + "/")
    pg.locator("a[data-topic-link='bp']").click()
    ready(pg)


def test_builder_sets_input_and_output_sizes(page, server):
    pg, _ = page
    pg.goto(server + BP + "?dataset=spiral&hidden=5")
    ready(pg)
    pg.click("[data-act=add-layer]")
    pg.click(".bp-layer[data-layer='1'] [data-act=more]")
    pg.click("[data-act=build]")
    ready(pg, builds=2)
    sid = pg.get_attribute("#view", "data-session")
    s = httpx.get(f"{server}/api/sessions/{sid}").json()
    dense = [la for la in s["network"]["layers"] if la["type"] == "dense"]
    assert [d["settings"]["out_features"] for d in dense] == [5, 5, 3]  # spiral: 3 classes
    assert dense[0]["settings"]["in_features"] == 2
    assert "hidden=5-5" in pg.url
    cols = pg.eval_on_selector_all(".bp-neuron", "ns => ns.map(n => n.dataset.col)")
    assert [cols.count(str(k)) for k in range(4)] == [2, 5, 5, 3]


def test_walk_forward_backward_update_matches_the_api(page, server):
    pg, _ = page
    pg.goto(server + BP + "?hidden=4&lr=0.5")
    ready(pg)
    sid = pg.get_attribute("#view", "data-session")
    plan = httpx.get(f"{server}/api/sessions/{sid}").json()["plan"]
    phases = [st["phase"] for st in plan]
    assert phases == ["forward"] * 3 + ["loss"] + ["backward"] * 3 + ["update"] * 2
    seen = []
    for k in range(len(plan)):
        pg.wait_for_selector(f"#view[data-frame='{k}']")
        seen.append(pg.get_attribute("#view", "data-phase"))
        if k == 1:  # after tanh1: the hidden values are shown, no deltas yet
            values = pg.eval_on_selector_all(
                ".bp-neuron[data-col='1']", "ns => ns.map(n => +n.dataset.value)"
            )
            assert values == pytest.approx(tensor(server, sid, "tanh1.out"), abs=1e-5)
            assert pg.eval_on_selector_all(
                ".bp-neuron", "ns => ns.every(n => n.dataset.delta === '')"
            )
        if k < len(plan) - 1:
            pg.keyboard.press("ArrowRight")
    assert seen == phases
    # At the end of the pass: every column's deltas are the API's tensors.
    for col, name in [(0, "dense1.dx"), (1, "dense1.dout"), (2, "dense2.dout")]:
        shown = pg.eval_on_selector_all(
            f".bp-neuron[data-col='{col}']", "ns => ns.map(n => +n.dataset.delta)"
        )
        assert shown == pytest.approx(tensor(server, sid, name), abs=1e-6), name
    assert pg.get_attribute(".bp-neuron[data-col='1']", "data-shown") == "delta"
    # Hover an edge: w, dw and the update w - lr * dw, with the API's numbers.
    pg.hover(".bp-edge[data-layer='dense1'][data-from='1'][data-to='2']", force=True)
    tip = pg.locator(".bp-tip")
    w = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.w.before").json()["data"])
    dw = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.dw").json()["data"])
    after = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.w.after").json()["data"])
    k = 2 * 2 + 1  # w[2, 1] of a (4, 2) weight
    assert float(tip.get_attribute("data-w")) == pytest.approx(w[k], abs=1e-6)
    assert float(tip.get_attribute("data-dw")) == pytest.approx(dw[k], abs=1e-6)
    assert float(tip.get_attribute("data-after")) == pytest.approx(after[k], abs=1e-6)
    assert after[k] == pytest.approx(w[k] - 0.5 * dw[k], abs=1e-6)
    assert "w − lr·dw" in tip.text_content() and "0.5" in tip.text_content()
    screenshot(pg, "bp-walk-update")


def test_mse_walk_shows_the_loss_and_output_deltas_of_the_api(page, server):
    pg, _ = page
    pg.goto(server + BP + "?dataset=spiral&hidden=4&loss=mse&lr=2")
    ready(pg)
    assert pg.input_value("[data-field=loss]") == "mse"
    sid = pg.get_attribute("#view", "data-session")
    s = httpx.get(f"{server}/api/sessions/{sid}").json()
    assert s["network"]["loss"] == "mse_onehot"
    phases = [st["phase"] for st in s["plan"]]
    assert phases == ["forward"] * 4 + ["loss"] + ["backward"] * 4 + ["update"] * 2
    table = ".bp-output-table"
    for k in range(1, 6):  # to the loss (4), then the output sigmoid's backward step (5)
        pg.keyboard.press("ArrowRight")
        pg.wait_for_selector(f"#view[data-frame='{k}']")
        if k == 4:
            y, t = tensor(server, sid, "loss.in"), tensor(server, sid, "loss.target")
            assert column(pg, table, "y") == pytest.approx(y, abs=1e-6)
            assert column(pg, table, "t") == t and sorted(t) == [0, 0, 1]
            assert column(pg, table, "dy") == pytest.approx(tensor(server, sid, "loss.dx"))
            assert column(pg, table, "delta") == [None, None, None]
            assert "one-hot" in pg.text_content(".caption")
            assert "2 (y − t) / 3" in pg.text_content(".caption-box .formula")
            loss = httpx.get(f"{server}/api/sessions/{sid}/tensors/loss.value").json()["data"]
            assert f"{loss:.3g}"[:4] in pg.text_content(".bp-loss")
    delta = tensor(server, sid, "dense2.dout")
    assert column(pg, table, "delta") == pytest.approx(delta, abs=1e-7)
    # the output column's neurons show that delta, the sigmoid's outputs as their values
    out = pg.eval_on_selector_all(
        ".bp-neuron[data-col='2']", "ns => ns.map(n => [+n.dataset.value, +n.dataset.delta])"
    )
    assert [v for v, _ in out] == pytest.approx(tensor(server, sid, "sigmoid1.out"), abs=1e-6)
    assert [d for _, d in out] == pytest.approx(delta, abs=1e-7)
    assert "sigmoid" in pg.text_content("svg.bp-net")
    for k in range(6, len(phases)):
        pg.keyboard.press("ArrowRight")
        pg.wait_for_selector(f"#view[data-frame='{k}']")
    hidden = pg.eval_on_selector_all(
        ".bp-neuron[data-col='1']", "ns => ns.map(n => +n.dataset.delta)"
    )
    assert hidden == pytest.approx(tensor(server, sid, "dense1.dout"), abs=1e-7)
    pg.hover(".bp-edge[data-layer='dense2'][data-from='3'][data-to='1']", force=True)
    tip = pg.locator(".bp-tip")
    w = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense2.w.before").json()["data"])
    dw = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense2.dw").json()["data"])
    k = 1 * 4 + 3  # w[1, 3] of a (3, 4) weight
    assert float(tip.get_attribute("data-w")) == pytest.approx(w[k], abs=1e-6)
    assert float(tip.get_attribute("data-after")) == pytest.approx(w[k] - 2 * dw[k], abs=1e-6)
    screenshot(pg, "bp-mse-walk")


def test_choosing_mse_in_the_builder_and_the_url_round_trip(page, server):
    pg, _ = page
    pg.goto(server + BP)
    ready(pg)
    assert pg.locator(".bp-output-table caption").text_content().endswith("(softmax cross-entropy)")
    pg.select_option("[data-field=loss]", "mse")
    pg.fill("[data-field=noise]", "0.25")
    pg.press("[data-field=noise]", "Enter")
    pg.select_option("[data-field=dataset]", "circles")
    pg.click("[data-act=build]")
    ready(pg, builds=2)
    assert "loss=mse" in pg.url and "noise=0.25" in pg.url and "dataset=circles" in pg.url
    sid = pg.get_attribute("#view", "data-session")
    s = httpx.get(f"{server}/api/sessions/{sid}").json()
    assert s["network"]["loss"] == "mse_onehot"
    assert s["network"]["layers"][-1]["type"] == "sigmoid"
    assert "(mean squared error)" in pg.text_content(".bp-output-table caption")
    # A link with the whole setup reproduces it: builder, step and compared rates.
    link = "?dataset=circles&noise=0.25&hidden=5-3&activation=relu&loss=mse&lr=1.5&step=6"
    pg.goto(server + BP + link + "&lrs=0.1_1_100&cmpEpochs=4&epochs=7")
    ready(pg)
    pg.wait_for_selector("#view[data-frame='6']")
    assert pg.input_value("[data-field=loss]") == "mse"
    assert pg.input_value("[data-field=activation]") == "relu"
    assert float(pg.input_value("[data-field=noise]")) == 0.25
    assert float(pg.input_value("[data-field=lr]")) == 1.5
    assert pg.input_value("[data-field=lrs]") == "0.1, 1, 100"
    assert pg.input_value("[data-field=compare-epochs]") == "4"
    assert pg.input_value("[data-field=epochs]") == "7"
    sid = pg.get_attribute("#view", "data-session")
    s = httpx.get(f"{server}/api/sessions/{sid}").json()
    dense = [
        la["settings"]["out_features"] for la in s["network"]["layers"] if la["type"] == "dense"
    ]
    assert dense == [5, 3, 2] and s["optimizer"]["lr"] == 1.5
    x = tensor(server, sid, "dense1.in")
    pts = httpx.get(f"{server}/api/sessions/{sid}/boundary?resolution=2").json()["train"]["x"]
    assert x == pytest.approx(pts[0], abs=1e-6)  # sample 0 of circles with noise 0.25
    assert pg.get_attribute("#view", "data-phase") == s["plan"][6]["phase"]


def test_mse_in_chinese(page, server):
    pg, _ = page
    pg.goto(server + BP + "?lang=zh-CN&loss=mse&step=4")
    ready(pg)
    pg.wait_for_selector("#view[data-frame='4']")
    assert "均方误差" in pg.text_content("[data-field=loss] option[value=mse]")
    assert "均方误差" in pg.text_content(".bp-output-table caption")
    assert "均方误差" in pg.text_content(".caption") and "one-hot" in pg.text_content(".caption")
    assert "目标 t" in pg.text_content(".bp-output-table thead")
    screenshot(pg, "bp-mse-lang-zh-CN")


def test_hover_or_focus_a_neuron_for_its_value_delta_and_bias_update(page, server):
    pg, _ = page
    pg.goto(server + BP + "?hidden=3&lr=0.5&step=8")  # the last step: dense2's update
    ready(pg)
    pg.wait_for_selector("#view[data-frame='8']")
    sid = pg.get_attribute("#view", "data-session")
    pg.hover(".bp-neuron[data-col='1'][data-i='2']")
    tip = pg.locator(".bp-tip")
    assert tip.get_attribute("data-kind") == "neuron"
    z = tensor(server, sid, "dense1.out")[2]
    assert float(tip.get_attribute("data-z")) == pytest.approx(z, abs=1e-6)
    assert float(tip.get_attribute("data-value")) == pytest.approx(
        tensor(server, sid, "tanh1.out")[2], abs=1e-6
    )
    assert float(tip.get_attribute("data-delta")) == pytest.approx(
        tensor(server, sid, "dense1.dout")[2], abs=1e-7
    )
    b = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.b.before").json()["data"])
    db = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.db").json()["data"])
    after = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.b.after").json()["data"])
    assert float(tip.get_attribute("data-b")) == pytest.approx(b[2], abs=1e-6)
    assert float(tip.get_attribute("data-db")) == pytest.approx(db[2], abs=1e-7)
    assert float(tip.get_attribute("data-after")) == pytest.approx(after[2], abs=1e-6)
    assert after[2] == pytest.approx(b[2] - 0.5 * db[2], abs=1e-6)
    assert "b − lr·db" in tip.text_content() and "tanh(z)" in tip.text_content()
    # the keyboard reaches the same numbers: focus moves the tip to the output neuron
    pg.focus(".bp-neuron[data-col='2'][data-i='0']")
    assert tip.get_attribute("data-kind") == "neuron" and tip.get_attribute("data-col") == "2"
    logits = tensor(server, sid, "dense2.out")
    assert float(tip.get_attribute("data-z")) == pytest.approx(logits[0], abs=1e-6)
    pg.keyboard.press("ArrowDown")  # the next neuron (the diagram is one tab stop)
    assert (tip.get_attribute("data-col"), tip.get_attribute("data-i")) == ("2", "1")
    assert float(tip.get_attribute("data-z")) == pytest.approx(logits[1], abs=1e-6)
    # stepping back to the forward pass: the pinned tip follows the frame (no delta yet)
    for k in range(7, 1, -1):
        pg.evaluate("document.activeElement.blur()")
        pg.keyboard.press("ArrowLeft")
        pg.wait_for_selector(f"#view[data-frame='{k}']")
    assert tip.get_attribute("data-delta") == ""
    screenshot(pg, "bp-neuron-tip")


def test_adam_from_the_builder_hovers_show_the_change_not_sgds_rule(page, server):
    """Momentum and Adam step with their own state: the update hover gives the value
    after and the change the engine recorded, not w - lr * dw with false numbers."""
    pg, _ = page
    pg.goto(server + BP + "?hidden=3&lr=0.05")
    ready(pg)
    pg.select_option("select[data-field='optimizer']", "adam")
    pg.click("button[data-act='build']")
    ready(pg, builds=2)
    sid = pg.get_attribute("#view", "data-session")
    assert httpx.get(f"{server}/api/sessions/{sid}").json()["optimizer"]["type"] == "adam"
    pg.wait_for_function("() => location.search.includes('optimizer=adam')")
    pg.goto(server + BP + "?hidden=3&lr=0.05&optimizer=adam&step=8")  # the link reproduces it
    ready(pg)
    assert pg.input_value("select[data-field='optimizer']") == "adam"
    pg.wait_for_selector("#view[data-frame='8']")
    sid = pg.get_attribute("#view", "data-session")
    pg.hover(".bp-edge[data-layer='dense1'][data-from='1'][data-to='2']", force=True)
    tip = pg.locator(".bp-tip")
    w = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.w.before").json()["data"])
    dw = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.dw").json()["data"])
    after = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.w.after").json()["data"])
    change = flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.w.change").json()["data"])
    k = 2 * 2 + 1  # w[2, 1] of a (3, 2) weight
    assert float(tip.get_attribute("data-after")) == pytest.approx(after[k], abs=1e-6)
    assert after[k] != pytest.approx(w[k] - 0.05 * dw[k], abs=1e-6)  # not SGD's step
    text = tip.text_content()
    assert "w − lr·dw" not in text and "Adam" in text
    assert f"{change[k]:.3g}"[:4] in text.replace("−", "-")
    pg.hover(".bp-neuron[data-col='1'][data-i='2']")
    assert "b − lr·db" not in tip.text_content() and "Adam" in tip.text_content()
    screenshot(pg, "bp-adam-update-tip")
    # before the update step: what the update will do, in the optimizer's terms, not SGD's
    pg.goto(server + BP + "?hidden=3&lr=0.05&optimizer=momentum&step=6&lang=zh-CN")
    ready(pg)
    pg.wait_for_selector("#view[data-frame='6']")
    pg.hover(".bp-edge[data-layer='dense1'][data-from='1'][data-to='2']", force=True)
    text = tip.text_content()
    assert "dw = " in text and "lr·dw" not in text and "动量法" in text and "momentum" not in text
