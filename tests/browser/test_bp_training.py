"""The BP page's training in a real browser: the decision boundary and curves
redrawn per epoch (cross-entropy and MSE), divergence shown, and learning rates
side by side with the divergent one flagged."""

import httpx

from tests.browser.bp_helpers import BP, ready
from tests.browser.conftest import screenshot


def test_training_redraws_the_boundary_and_curves(page, server):
    pg, _ = page
    pg.goto(server + BP + "?dataset=blobs")
    ready(pg)
    pg.fill("[data-field=epochs]", "3")
    pg.click("[data-act=train]")
    pg.wait_for_selector("#view[data-trained='1']")
    assert pg.get_attribute("#view", "data-epoch") == "3"
    assert float(pg.get_attribute("canvas.bp-boundary", "data-test-accuracy")) > 0.8
    assert pg.locator("canvas.line-chart").count() == 3
    screenshot(pg, "bp-trained")


def test_compare_flags_the_diverging_rate(page, server):
    pg, _ = page
    pg.goto(server + BP + "?activation=relu&hidden=8")
    ready(pg)
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


def test_compare_in_chinese_uses_the_lecture_terms(page, server):
    pg, _ = page
    pg.goto(server + BP + "?lang=zh-CN")
    ready(pg)
    pg.fill("[data-field=compare-epochs]", "5")
    pg.click("[data-act=compare]")
    pg.wait_for_selector("#view[data-compared='1']")
    assert "发散" in pg.text_content(".bp-run.diverged")
    assert "学习率" in pg.text_content(".bp-compare")


def test_training_with_mse_runs_to_completion_and_reports_accuracy(page, server):
    pg, _ = page
    pg.goto(server + BP + "?dataset=blobs&loss=mse&lr=3&epochs=3")
    ready(pg)
    pg.click("[data-act=train]")
    pg.wait_for_selector("#view[data-trained='1']")
    assert pg.get_attribute("#view", "data-epoch") == "3"
    sid = pg.get_attribute("#view", "data-session")
    m = httpx.get(f"{server}/api/sessions/{sid}/metrics").json()
    assert m["test_accuracy"] > 0.8
    assert float(pg.get_attribute("canvas.bp-boundary", "data-test-accuracy")) == m["test_accuracy"]
    status = pg.text_content(".bp-status")
    assert "Epoch 3" in status and f"{m['test_accuracy']:.3g}"[:3] in status
    # one redraw (boundary, curves, status) per epoch, each timed
    times = pg.get_attribute("#view", "data-train-render-log").split()
    assert len(times) == 3 and all(float(v) > 0 for v in times)
    screenshot(pg, "bp-mse-trained")


def test_compare_with_mse_flags_the_saturating_rate(page, server):
    pg, _ = page
    pg.goto(server + BP + "?dataset=xor&activation=relu&hidden=8&loss=mse")
    ready(pg)
    pg.fill("[data-field=lrs]", "0.01, 3, 100")
    pg.click("[data-act=compare]")
    pg.wait_for_selector("#view[data-compared='1']")
    rows = pg.eval_on_selector_all(".bp-run", "rs => rs.map(r => ({...r.dataset}))")
    assert [r["diverged"] for r in rows] == ["0", "0", "1"]
    assert "lrs=0.01_3_100" in pg.url
    assert float(pg.get_attribute("#view", "data-compare-render-ms")) > 0


def test_training_that_diverges_shows_nan_and_says_so(page, server):
    pg, _ = page
    pg.goto(server + BP + "?activation=leaky_relu&hidden=8-8&lr=100&epochs=10")
    ready(pg)
    pg.click("[data-act=train]")
    pg.wait_for_selector("#view[data-trained='1']")
    status = pg.text_content(".bp-status")
    assert "no longer a number" in status and ("NaN" in status or "Infinity" in status)
    epoch = int(pg.get_attribute("#view", "data-epoch"))
    assert 1 <= epoch < 10  # training stopped at the epoch it diverged
    sid = pg.get_attribute("#view", "data-session")
    m = httpx.get(f"{server}/api/sessions/{sid}/metrics").json()
    assert m["train_loss"] in ("NaN", "Infinity")
    screenshot(pg, "bp-train-diverged")
