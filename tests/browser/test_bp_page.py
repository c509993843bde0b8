"""The BP (fully connected) network page in a real browser: builder, a pass walked
step by step with deltas and updates that match the API, training, and learning
rates side by side with the divergent one flagged."""

import httpx
import pytest

from tests.browser.conftest import screenshot

BP = "/learn/bp"


def _ready(pg, builds=1):
    """Wait until the page has built its n-th network (session, pass, epoch 0)."""
    pg.wait_for_selector("#view[data-ready]")
    pg.wait_for_selector(f"#view[data-built='{builds}']")


def _tensor(server, sid, name):
    r = httpx.get(f"{server}/api/sessions/{sid}/tensors/{name}")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    return data[0] if isinstance(data[0], list) and len(r.json()["shape"]) == 2 else data


def _flat(data):
    return [v for row in data for v in row] if isinstance(data[0], list) else data


@pytest.mark.parametrize("query", ["", "?lang=zh-CN", "?dataset=digits&hidden=16-8"])
def test_bp_loads_with_no_errors_and_nothing_from_outside(page, server, query):
    pg, watch = page
    pg.goto(server + BP + query)
    _ready(pg)
    pg.wait_for_load_state("networkidle")
    assert pg.locator("svg.bp-net").count() == 1
    assert pg.locator(".bp-neuron").count() >= 5
    if "digits" in query:
        assert "64" in pg.text_content(".bp-sizes") and "10" in pg.text_content(".bp-sizes")
        assert pg.locator(".bp-boundary-box").is_hidden()
    else:
        assert pg.locator("canvas.bp-boundary").is_visible()
    screenshot(pg, "bp" + query.replace("?", "-").replace("=", "-").replace("&", "-"))
    watch.assert_clean()


def test_home_page_links_to_bp(page, server):
    pg, watch = page
    pg.goto(server + "/")
    pg.locator("a[data-topic-link='bp']").click()
    _ready(pg)
    watch.assert_clean()


def test_builder_sets_input_and_output_sizes(page, server):
    pg, watch = page
    pg.goto(server + BP + "?dataset=spiral&hidden=5")
    _ready(pg)
    pg.click("[data-act=add-layer]")
    pg.click(".bp-layer[data-layer='1'] [data-act=more]")
    pg.click("[data-act=build]")
    _ready(pg, builds=2)
    sid = pg.get_attribute("#view", "data-session")
    s = httpx.get(f"{server}/api/sessions/{sid}").json()
    dense = [la for la in s["network"]["layers"] if la["type"] == "dense"]
    assert [d["settings"]["out_features"] for d in dense] == [5, 5, 3]  # spiral: 3 classes
    assert dense[0]["settings"]["in_features"] == 2
    assert "hidden=5-5" in pg.url
    cols = pg.eval_on_selector_all(".bp-neuron", "ns => ns.map(n => n.dataset.col)")
    assert [cols.count(str(k)) for k in range(4)] == [2, 5, 5, 3]
    watch.assert_clean()


def test_walk_forward_backward_update_matches_the_api(page, server):
    pg, watch = page
    pg.goto(server + BP + "?hidden=4&lr=0.5")
    _ready(pg)
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
            assert values == pytest.approx(_tensor(server, sid, "tanh1.out"), abs=1e-5)
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
        assert shown == pytest.approx(_tensor(server, sid, name), abs=1e-6), name
    assert pg.get_attribute(".bp-neuron[data-col='1']", "data-shown") == "delta"
    # Hover an edge: w, dw and the update w - lr * dw, with the API's numbers.
    pg.hover(".bp-edge[data-layer='dense1'][data-from='1'][data-to='2']", force=True)
    tip = pg.locator(".bp-tip")
    w = _flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.w.before").json()["data"])
    dw = _flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.dw").json()["data"])
    after = _flat(httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.w.after").json()["data"])
    k = 2 * 2 + 1  # w[2, 1] of a (4, 2) weight
    assert float(tip.get_attribute("data-w")) == pytest.approx(w[k], abs=1e-6)
    assert float(tip.get_attribute("data-dw")) == pytest.approx(dw[k], abs=1e-6)
    assert float(tip.get_attribute("data-after")) == pytest.approx(after[k], abs=1e-6)
    assert after[k] == pytest.approx(w[k] - 0.5 * dw[k], abs=1e-6)
    assert "w − lr·dw" in tip.text_content() and "0.5" in tip.text_content()
    screenshot(pg, "bp-walk-update")
    watch.assert_clean()


def test_training_redraws_the_boundary_and_curves(page, server):
    pg, watch = page
    pg.goto(server + BP + "?dataset=blobs")
    _ready(pg)
    pg.fill("[data-field=epochs]", "3")
    pg.click("[data-act=train]")
    pg.wait_for_selector("#view[data-trained='1']")
    assert pg.get_attribute("#view", "data-epoch") == "3"
    assert float(pg.get_attribute("canvas.bp-boundary", "data-test-accuracy")) > 0.8
    assert pg.locator("canvas.line-chart").count() == 3
    screenshot(pg, "bp-trained")
    watch.assert_clean()


def test_compare_flags_the_diverging_rate(page, server):
    pg, watch = page
    pg.goto(server + BP + "?activation=relu&hidden=8")
    _ready(pg)
    pg.fill("[data-field=lrs]", "0.01, 0.3, 100")
    pg.fill("[data-field=compare-epochs]", "8")
    pg.click("[data-act=compare]")
    pg.wait_for_selector("#view[data-compared='1']")
    rows = pg.eval_on_selector_all(
        ".bp-run", "rs => rs.map(r => ({...r.dataset, text: r.textContent}))"
    )
    assert [r["lr"] for r in rows] == ["0.01", "0.3", "100"]
    assert [r["diverged"] for r in rows] == ["0", "0", "1"]
    assert rows[2]["finalLoss"] in ("NaN", "Infinity") and "diverged" in rows[2]["text"]
    assert pg.locator(".bp-run.diverged .bp-flag").count() == 1
    screenshot(pg, "bp-compare")
    watch.assert_clean()


def test_compare_in_chinese_uses_the_lecture_terms(page, server):
    pg, watch = page
    pg.goto(server + BP + "?lang=zh-CN")
    _ready(pg)
    pg.fill("[data-field=compare-epochs]", "5")
    pg.click("[data-act=compare]")
    pg.wait_for_selector("#view[data-compared='1']")
    assert "发散" in pg.text_content(".bp-run.diverged")
    assert "学习率" in pg.text_content(".bp-compare")
    watch.assert_clean()
