"""The RNN page's later panels in a real browser: accuracy vs sequence length (a
sweep of trainings streamed over SSE), typed number sequences for the sine models,
and the BiLSTM's two directions and their concatenation stepped by the player."""

import json

from tests.browser.conftest import screenshot


def _open(pg, server, query=""):
    pg.goto(server + "/learn/rnn" + query)
    pg.wait_for_selector("#view[data-ready]")
    pg.wait_for_selector(".rnn-gradients[data-ready]")


def _at_step(pg, k):
    pg.wait_for_function(f"document.querySelector('#view').dataset.step === '{k}'")


def test_the_gradient_chart_compares_models_over_the_same_number_of_steps(page, server):
    pg, watch = page
    _open(pg, server)
    rnn = json.loads(pg.get_attribute(".grad-chart", "data-norms"))
    lstm = json.loads(pg.get_attribute(".grad-chart", "data-lstm-norms"))
    assert len(rnn) == len(lstm) == 40
    assert all(v > 0 for v in lstm)
    watch.assert_clean()


def test_the_sweep_streams_every_run_and_fills_the_accuracy_chart_live(page, server):
    pg, watch = page
    _open(pg, server)
    # every change of the chart's points, as the page makes them
    pg.evaluate("""() => {
        window.__counts = [];
        const box = document.querySelector('.rnn-sweep');
        new MutationObserver(() => {
            const p = JSON.parse(box.dataset.points || '{}');
            window.__counts.push(Object.values(p).reduce((n, m) => n + Object.keys(m).length, 0));
        }).observe(box, {attributes: true, attributeFilter: ['data-points']});
    }""")
    pg.locator("[data-control=sweep]").click()
    pg.wait_for_selector(".rnn-sweep[data-done]", timeout=120_000)
    points = json.loads(pg.get_attribute(".rnn-sweep", "data-points"))
    assert set(points) == {"rnn", "lstm"}
    for model in ("rnn", "lstm"):
        assert sorted(int(t) for t in points[model]) == [5, 10, 20, 40]
        assert all(0 <= acc <= 1 for acc in points[model].values())
    # the points came one run at a time: 0 (reset), then 1, 2, ... 8
    counts = pg.evaluate("window.__counts")
    assert counts[-1] == 8 and sorted(set(counts)) == list(range(9))
    assert float(pg.get_attribute(".rnn-sweep", "data-chance")) == 0.25
    # each table cell shows the accuracy the server sent for its run
    for cell in pg.locator(".sweep-table td").all():
        acc = float(cell.get_attribute("data-accuracy"))
        assert acc == points[cell.get_attribute("data-model")][cell.get_attribute("data-t")]
    # the short lengths are learned by both (chance is 0.25)
    assert points["rnn"]["5"] > 0.9 and points["lstm"]["5"] > 0.9
    seconds = float(pg.get_attribute(".rnn-sweep", "data-seconds"))
    print(f"sweep of 8 trainings took {seconds:.1f} s in the browser")
    assert pg.locator(".sweep-status").inner_text()
    screenshot(pg, "learn-rnn-sweep")
    watch.assert_clean()


def test_the_sweep_panel_speaks_chinese(page, server):
    pg, watch = page
    _open(pg, server, "?lang=zh-CN")
    assert "序列长度" in pg.locator(".rnn-sweep h2").inner_text()
    assert "在每个长度上训练" in pg.locator("[data-control=sweep]").inner_text()
    watch.assert_clean()
