"""The RNN page's later panels in a real browser: accuracy vs sequence length (a
sweep of trainings streamed over SSE), typed number sequences for the sine models,
and the BiLSTM's two directions and their concatenation stepped by the player."""

import json
import math

import httpx
import numpy as np
import pytest

from tests.browser.conftest import screenshot
from tests.browser.rnn_helpers import at_step, open_rnn


def _api_dh_norms(server, body, t_len):
    """||dL/dh_t|| of a new session's backward pass, straight from the API."""
    with httpx.Client(base_url=server, timeout=30) as http:
        made = http.post("/api/sessions", json=body).json()
        http.post(f"/api/sessions/{made['id']}/steps", json={"until": "backward"},
                  params={"tensors": False})  # fmt: skip
        prefix = made["network"]["layers"][0]["name"]
        norms = [http.get(f"/api/sessions/{made['id']}/tensors/{prefix}.t{t}.dh_norm").json()
                 for t in range(t_len)]  # fmt: skip
        http.delete(f"/api/sessions/{made['id']}")
    return [float(np.asarray(n["data"]).ravel()[0]) for n in norms]


def test_the_gradient_chart_compares_models_over_the_same_number_of_steps(page, server):
    pg, _ = page
    open_rnn(pg, server, "?scale=0.5")
    rnn = json.loads(pg.get_attribute(".grad-chart", "data-norms"))
    lstm = json.loads(pg.get_attribute(".grad-chart", "data-lstm-norms"))
    cell = json.loads(pg.get_attribute(".grad-chart", "data-lstm-cell-norms"))
    assert len(rnn) == len(lstm) == len(cell) == 40
    # the lines are the engine's numbers: the LSTM trained on 40-step sequences at
    # its own length, the RNN over as many steps
    want = _api_dh_norms(server, {"preset": "memory-lstm-40"}, 40)
    assert lstm == pytest.approx(want, rel=1e-5)
    body = {"preset": "vanishing-rnn", "overrides": {"scale": 0.5, "nonlinearity": "tanh",
                                                     "seq_len": 40}}  # fmt: skip
    assert rnn == pytest.approx(_api_dh_norms(server, body, 40), rel=1e-5)
    # what the chart teaches (measured: LSTM dh_0 / dh_39 = 1.58, its lowest dh_t
    # 0.025 of dh_39; the RNN at scale 0.5: 9.9e-14)
    lstm_ratio = float(pg.get_attribute(".grad-chart", "data-lstm-ratio"))
    assert lstm_ratio == pytest.approx(lstm[0] / lstm[-1], rel=1e-4)
    assert 0.3 < lstm_ratio < 10 and min(lstm) / lstm[-1] > 1e-2
    assert float(pg.get_attribute(".grad-chart", "data-ratio")) < 1e-10
    assert rnn[0] < lstm[0]  # at t = 0 the vanished RNN's line is below the LSTM's
    info = pg.locator(".grad-info").inner_text()
    assert "RNN: ||dL/dh_0|| / ||dL/dh_39||" in info and "LSTM: ||dL/dh_0|| / ||dL/dh_39||" in info
    assert "memory-lstm-40" in pg.locator(".rnn-gradients").inner_text()
    assert "20-step" in pg.locator(".grad-note").inner_text()


def test_the_relu_gradient_chart_is_not_flat_and_its_ratio_is_a_number_at_both_slider_ends(
    page, server
):
    """Before: relu at scale >= 1.8 drew a flat line of zeros and the ratio read NaN."""
    pg, _ = page
    open_rnn(pg, server, "?nl=relu")
    slider = pg.locator("[data-control=scale]")
    with httpx.Client(base_url=server, timeout=30) as http:
        stated = http.get("/api/presets/vanishing-rnn").json()["meta"]["scale_range"]
    lo, hi = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    assert (lo, hi) == (stated["min"], stated["max"])  # the slider's range is the server's
    for end in (lo, hi):
        before = pg.get_attribute(".grad-chart", "data-ratio")
        slider.fill(str(end))
        pg.wait_for_function(
            f"() => document.querySelector('.grad-chart').dataset.ratio !== '{before}'"
        )
        norms = json.loads(pg.get_attribute(".grad-chart", "data-norms"))
        ratio = float(pg.get_attribute(".grad-chart", "data-ratio"))
        assert len(norms) == 40 and all(math.isfinite(v) and v > 0 for v in norms)
        assert max(norms) / min(norms) > 1e10  # not flat (measured: 3e23 and 4e18)
        assert math.isfinite(ratio) and ratio == pytest.approx(norms[0] / norms[-1], rel=1e-4)
        assert ratio < 1e-10 if end == lo else ratio > 1e10
        assert "= NaN" not in pg.locator(".grad-info").inner_text()
    assert "mean squared error" in pg.locator(".grad-loss").inner_text()
    screenshot(pg, "learn-rnn-gradients-relu-max")


def test_the_sweep_trains_every_seed_at_every_length_and_shows_the_mean_and_spread(page, server):
    pg, _ = page
    open_rnn(pg, server)
    pg.wait_for_selector(".rnn-sweep[data-ready]")
    with httpx.Client(base_url=server, timeout=30) as http:
        sweep = http.get("/api/presets/memory-rnn").json()["meta"]["sweep"]
    live, ts, ref = sweep["live_runs"], [str(t) for t in sweep["ts"]], sweep["reference"]
    runs = 2 * len(ts) * live
    # before any run, the page says how many seeds and how much a reference run varied
    assert int(pg.get_attribute(".rnn-sweep", "data-seeds")) == live
    said = pg.locator(".sweep-seeds").inner_text()
    assert f"trained {live} times" in said and f"from the reference's {len(sweep['seeds'])}" in said
    assert f"over {len(ref['seeds'])} seeds" in pg.locator(".sweep-reference").inner_text()
    for cell in pg.locator(".sweep-table td.reference").all():
        model, t = cell.get_attribute("data-model"), cell.get_attribute("data-t")
        assert json.loads(cell.get_attribute("data-accuracies")) == ref["accuracy"][model][t]
    # every change of the chart's points, as the page makes them
    pg.evaluate("""() => {
        window.__counts = [];
        const box = document.querySelector('.rnn-sweep');
        new MutationObserver(() => {
            const p = JSON.parse(box.dataset.points || '{}');
            window.__counts.push(Object.values(p).reduce(
                (n, m) => n + Object.values(m).reduce((k, a) => k + a.length, 0), 0));
        }).observe(box, {attributes: true, attributeFilter: ['data-points']});
    }""")
    pg.locator("[data-control=sweep]").click()
    pg.wait_for_function(
        "() => document.querySelector('.rnn-sweep[data-done]') || document.querySelector('.error')",
        timeout=600_000,
    )
    assert not pg.locator(".error").count(), pg.locator(".error").inner_text()
    seeds = json.loads(pg.get_attribute(".rnn-sweep", "data-live-seeds"))
    assert len(set(seeds)) == live and set(seeds) <= set(sweep["seeds"])
    assert ", ".join(map(str, seeds)) in pg.locator(".sweep-drawn").inner_text()
    points = json.loads(pg.get_attribute(".rnn-sweep", "data-points"))
    assert set(points) == {"rnn", "lstm"}
    for model in ("rnn", "lstm"):
        assert sorted(points[model], key=int) == ts
        for t, accs in points[model].items():
            assert len(accs) == len(seeds) and all(0 <= acc <= 1 for acc in accs)
            # the drawn seeds are the reference's: the same runs, the same numbers
            want = [ref["accuracy"][model][t][ref["seeds"].index(s)] for s in seeds]
            assert sorted(accs) == pytest.approx(sorted(want), abs=0.02), (model, t)
    # the points came one run at a time: 0 (reset), then 1, 2, ... every run
    counts = pg.evaluate("window.__counts")
    assert counts[-1] == runs and sorted(set(counts)) == list(range(runs + 1))
    assert float(pg.get_attribute(".rnn-sweep", "data-chance")) == 0.25
    # each live cell: the mean and the spread of its runs, and how many ran
    for cell in pg.locator(".sweep-table td:not(.reference)").all():
        accs = points[cell.get_attribute("data-model")][cell.get_attribute("data-t")]
        assert json.loads(cell.get_attribute("data-accuracies")) == accs
        text = cell.inner_text()
        assert text.endswith(f"· {len(seeds)}/{len(seeds)}") and "–" in text
    seconds = float(pg.get_attribute(".rnn-sweep", "data-seconds"))
    print(f"sweep of {runs} trainings took {seconds:.1f} s in the browser")
    assert str(runs) in pg.locator(".sweep-status").inner_text()
    screenshot(pg, "learn-rnn-sweep")


def test_the_sweep_and_number_panels_speak_chinese(page, server):
    pg, _ = page
    open_rnn(pg, server, "?lang=zh-CN&preset=sine-lstm")
    assert "序列长度" in pg.locator(".rnn-sweep h2").inner_text()
    assert "在每个长度上训练" in pg.locator("[data-control=sweep]").inner_text()
    pg.wait_for_selector(".rnn-sweep[data-ready]")
    seeds = pg.get_attribute(".rnn-sweep", "data-seeds")
    assert f"训练 {seeds} 次" in pg.locator(".sweep-seeds").inner_text()
    assert "参考" in pg.locator(".sweep-reference").inner_text()
    assert "均方误差" in pg.locator(".grad-loss").inner_text()
    assert "数字序列" in pg.locator(".rnn-numbers h2").inner_text()
    assert "预测" in pg.locator(".rnn-numbers .chart-key").inner_text()
    screenshot(pg, "learn-rnn-numbers-zh-CN")


def test_a_typed_number_sequence_runs_and_steps_with_its_predictions(page, server):
    pg, _ = page
    open_rnn(pg, server, "?preset=sine-lstm")
    assert pg.locator(".rnn-numbers").is_visible()
    typed = "0, 0.31 0.59,0.81 0.95  1, 0.95 0.81"
    pg.locator("[data-control=numbers]").fill(typed)
    pg.locator("[data-control=run-numbers]").click()
    pg.wait_for_selector('.rnn-numbers[data-source="sequence"]')
    values = json.loads(pg.get_attribute(".rnn-numbers", "data-values"))
    numbers = [0, 0.31, 0.59, 0.81, 0.95, 1, 0.95, 0.81]
    assert values["x"] == pytest.approx(numbers[:-1], abs=1e-6)
    assert values["target"] == pytest.approx(numbers[1:], abs=1e-6)
    assert len(values["pred"]) == 7 and all(-2 < v < 2 for v in values["pred"])
    # the unrolled network reads the 7 numbers, a prediction at each step
    assert pg.locator(".unroll-step").count() == 7
    assert pg.locator(".unroll-y:not(.empty)").count() == 7
    # stepped like any sequence: the player walks the 7 time steps
    for k in range(3):
        pg.keyboard.press("ArrowRight")
        at_step(pg, k)
    assert pg.locator('.rnn-vector[data-tensor="lstm1.t2.h"]').count() == 1
    assert "numbers=" in pg.url
    screenshot(pg, "learn-rnn-numbers")
    # the link reopens the same sequence, at the same step
    pg.goto(pg.url)
    pg.wait_for_selector('.rnn-numbers[data-source="sequence"]')
    at_step(pg, 2)
    assert json.loads(pg.get_attribute(".rnn-numbers", "data-values"))["x"] == values["x"]
    assert pg.locator("[data-control=numbers]").input_value() == typed


@pytest.mark.console_errors_expected("status of 422")
def test_a_bad_number_sequence_shows_the_servers_message(page, server):
    pg, watch = page
    open_rnn(pg, server, "?preset=sine-rnn")
    pg.locator("[data-control=numbers]").fill("0 1 zwei 3")
    pg.locator("[data-control=run-numbers]").click()
    pg.wait_for_selector(".error")
    # the server's plain words (app/plain_errors.py): which number, not the field's name
    shown = pg.locator(".error").inner_text()
    assert "“zwei”" in shown and "input.sequence" not in shown, shown
    pg.locator("[data-control=numbers]").fill(" ".join(["0.5"] * 102))
    pg.locator("[data-control=run-numbers]").click()
    longest = httpx.get(server + "/api/rules").json()["limits"]["max_seq_len"]
    pg.wait_for_function(  # the limit's number, not its variable
        "(n) => document.querySelector('.error').textContent.includes(`at most ${n} time steps`)",
        arg=longest,
    )
    assert "max_seq_len" not in pg.locator(".error").inner_text()
    # the page still shows the dataset's sine wave
    assert pg.get_attribute(".rnn-numbers", "data-source") == "sample"
    # the browser logs the two refused requests (the fixture lets only those through)
    refused = [e for e in watch.errors if "status of 422" in e]
    assert len(refused) == 2


def test_bilstm_concatenation_forms_one_time_step_per_frame(page, server):
    pg, _ = page
    open_rnn(pg, server, "?preset=bilstm-memory")
    assert pg.locator(".rnn-bilstm").is_visible()
    labels = pg.locator(".player .progress .seg").evaluate_all("s => s.map(b => b.title)")
    # names.js: "forward · BiLSTM layer 1 (joining both directions) · t = k"
    concat = [k for k, label in enumerate(labels) if "joining both directions" in label]
    assert len(concat) == 20 and concat == list(range(40, 60))

    def formed(row):
        text = pg.get_attribute(f'.bilstm-row[data-row="{row}"]', "data-formed")
        return [int(k) for k in text.split(",")] if text else []

    # the forward direction: t = 0 up
    for k in range(2):
        pg.keyboard.press("ArrowRight")
        at_step(pg, k)
    assert formed("fwd") == [0, 1] and formed("bwd") == [] and formed("cat") == []
    # the backward direction: from t = 19 down
    pg.locator(".player .progress .seg").nth(21).click()
    at_step(pg, 21)
    assert pg.get_attribute(".rnn-bilstm", "data-row") == "bwd"
    assert formed("fwd") == list(range(20)) and formed("bwd") == [18, 19]
    # the concatenation, one time step per frame, by keyboard
    pg.locator(".player .progress .seg").nth(40).click()
    at_step(pg, 40)
    for k in range(41, 43):
        pg.keyboard.press("ArrowRight")
        at_step(pg, k)
    assert formed("cat") == [0, 1, 2] and pg.get_attribute(".rnn-bilstm", "data-t") == "2"
    fwd = pg.get_attribute('.bilstm-vec[data-part="fwd"]', "data-values").split()
    bwd = pg.get_attribute('.bilstm-vec[data-part="bwd"]', "data-values").split()
    cat = pg.get_attribute('.bilstm-vec[data-part="cat"]', "data-values").split()
    assert len(fwd) == len(bwd) == 16 and cat == fwd + bwd  # [h_fwd_t ; h_bwd_t]
    # the vectors are redrawn frame to frame; their labels follow the time step
    aria = '.bilstm-vec[data-part="{}"] canvas[aria-label]'
    assert pg.get_attribute(aria.format("fwd"), "aria-label") == "bilstm1.fwd.t2.h"
    assert pg.get_attribute(aria.format("cat"), "aria-label") == "bilstm1.out[t=2]"
    assert "step=42" in pg.url
    screenshot(pg, "learn-rnn-bilstm-concat")
    # the link reopens the same frame
    pg.goto(pg.url)
    pg.wait_for_selector("#view[data-ready]")
    at_step(pg, 42)
    assert formed("cat") == [0, 1, 2]
    pg.keyboard.press("ArrowLeft")
    at_step(pg, 41)
    assert formed("cat") == [0, 1]


def test_bilstm_panel_speaks_chinese(page, server):
    pg, _ = page
    open_rnn(pg, server, "?lang=zh-CN&preset=bilstm-memory&step=45")
    at_step(pg, 45)
    assert "双向LSTM" in pg.locator(".rnn-bilstm h2").inner_text()
    assert "拼接" in pg.locator(".bilstm-now").inner_text()
    screenshot(pg, "learn-rnn-bilstm-zh-CN")
