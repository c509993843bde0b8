"""The recurrent-network walkthrough in a real browser (Chromium through Playwright)."""

import json
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import screenshot
from tests.browser.rnn_helpers import at_step, open_rnn


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_rnn_page_loads_clean_with_sequence_maps_and_the_gradient_chart(page, server, lang):
    pg, _ = page
    open_rnn(pg, server, f"?lang={lang}")
    for part in ("i", "f", "g", "o", "c", "h"):
        assert pg.locator(f'.seq-map[data-tensor="lstm1.{part}"]').count() == 1
    assert len(json.loads(pg.get_attribute(".grad-chart", "data-norms"))) == 40
    grads = pg.locator(".rnn-gradients").inner_text()
    assert "memory-lstm-40" in grads
    if lang == "zh-CN":
        assert "循环神经网络" in pg.locator("h1").inner_text()
        assert "遗忘门" in pg.locator(".learn-head").inner_text()
        assert "细胞状态" in grads and "未训练" in grads and "在 20 步序列上训练" in grads
    else:
        assert "untrained" in grads and "trained on 20-step sequences" in grads
    pg.wait_for_load_state("networkidle")
    screenshot(pg, f"learn-rnn-{lang}")


def test_a_full_forward_and_backward_walk_over_the_sequence(page, server):
    pg, _ = page
    open_rnn(pg, server)
    count = pg.locator(".player .progress .seg").count()
    phases = []
    k = -1
    while True:
        pg.keyboard.press("ArrowRight")
        k += 1
        at_step(pg, k)
        phase = pg.get_attribute("#view", "data-phase")
        phases.append(phase)
        if phase == "update" or k == count - 1:
            break
        if phase == "backward" and pg.locator('.rnn-vector[data-tensor$=".dc"]').count():
            screenshot(pg, "learn-rnn-backward-step")
    assert phases[0] == "forward" and "loss" in phases and "backward" in phases
    assert phases.count("forward") >= 20 and phases.count("backward") >= 20
    # the backward steps showed dh_t and dc_t
    pg.keyboard.press("ArrowLeft")
    # step back into the backward pass, to a time step with dh and dc
    while (
        pg.get_attribute("#view", "data-phase") != "backward"
        or not pg.locator('.rnn-vector[data-tensor$=".dc"]').count()
    ):
        k = int(pg.get_attribute("#view", "data-step"))
        pg.keyboard.press("ArrowLeft")
        at_step(pg, k - 1)
    assert pg.locator('.rnn-vector[data-tensor$=".dh"]').count() >= 1


def test_a_gate_value_explanation_sums_to_the_shown_value(page, server):
    pg, _ = page
    open_rnn(pg, server, "?step=3")
    at_step(pg, 3)
    gate = pg.locator('.rnn-vector[data-tensor="lstm1.t3.f"] .heatmap-overlay')
    gate.click(position={"x": 17 + 34 * 2, "y": 17})
    pg.wait_for_selector(".explain .activation")
    total = float(pg.get_attribute(".explain .total", "data-total"))
    value = float(pg.get_attribute(".explain .total", "data-value"))
    assert total == pytest.approx(value, abs=1e-5)
    assert 0 < total < 1
    assert pg.locator(".explain .terms li").count() == 4 + 16 + 2
    cell = pg.locator('.rnn-vector[data-tensor="lstm1.t3.c"] .heatmap-overlay')
    cell.click(position={"x": 17, "y": 17})
    pg.wait_for_function("() => !document.querySelector('.explain .activation')")
    assert pg.locator(".explain .terms li").count() == 2
    total = float(pg.get_attribute(".explain .total", "data-total"))
    value = float(pg.get_attribute(".explain .total", "data-value"))
    assert total == pytest.approx(value, abs=1e-5)
    screenshot(pg, "learn-rnn-explain-gate")


def test_the_weight_scale_slider_and_nonlinearity_change_the_gradient_chart(page, server):
    pg, _ = page
    open_rnn(pg, server)
    before = float(pg.get_attribute(".grad-chart", "data-ratio"))
    pg.locator("[data-control=scale]").fill("0.5")
    pg.wait_for_function(
        f"() => Number(document.querySelector('.grad-chart').dataset.ratio) !== {before}"
    )
    small = float(pg.get_attribute(".grad-chart", "data-ratio"))
    assert small < before and small < 1e-6  # vanishing
    pg.locator("[data-control=scale]").fill("2")
    pg.wait_for_function(
        f"() => Number(document.querySelector('.grad-chart').dataset.ratio) !== {small}"
    )
    large = float(pg.get_attribute(".grad-chart", "data-ratio"))
    assert large > 1  # exploding
    pg.locator("[data-control=nl]").select_option("relu")
    pg.wait_for_function(
        f"() => Number(document.querySelector('.grad-chart').dataset.ratio) !== {large}"
    )
    pg.locator("[data-control=clip]").check()
    pg.wait_for_function("() => document.querySelector('.grad-info').textContent.includes('→')")
    screenshot(pg, "learn-rnn-gradients")
    q = parse_qs(urlparse(pg.url).query)
    assert q["scale"] == ["2"] and q["nl"] == ["relu"] and q["clip"] == ["1"]


def test_url_round_trip(page, server):
    pg, _ = page
    open_rnn(pg, server, "?preset=memory-rnn&step=5&scale=0.5&nl=relu&clip=1")
    at_step(pg, 5)
    assert pg.locator("[data-control=preset]").input_value() == "memory-rnn"
    assert pg.locator("[data-control=scale]").input_value() == "0.5"
    assert pg.locator("[data-control=nl]").input_value() == "relu"
    assert pg.locator("[data-control=clip]").is_checked()
    assert pg.locator('.seq-map[data-tensor="rnn1.h"]').count() == 1
    assert pg.locator('.rnn-vector[data-tensor="rnn1.t5.h"]').count() == 1
    pg.keyboard.press("ArrowRight")
    at_step(pg, 6)
    assert "step=6" in pg.url and "preset=memory-rnn" in pg.url


def test_training_streams_progress_to_completion(page, server):
    pg, _ = page
    open_rnn(pg, server, "?epochs=1")
    assert pg.locator("[data-control=epochs]").input_value() == "1"
    pg.locator("[data-control=train]").click()
    pg.wait_for_selector(".rnn-train[data-done]", timeout=120_000)
    for model in ("rnn", "lstm"):
        assert pg.get_attribute(f'.train-status[data-model="{model}"]', "data-status") == "done"
        bar = pg.locator(f'progress[data-model="{model}"]')
        assert float(bar.get_attribute("value") or 0) == pytest.approx(
            float(bar.evaluate("b => b.max"))
        )
    screenshot(pg, "learn-rnn-training")


def test_the_sequence_problem_type_changes_the_diagram_and_the_task(page, server):
    pg, _ = page
    open_rnn(pg, server)
    outputs = {}
    for problem in ("one-to-many", "many-to-one", "many-to-many"):
        pg.locator("[data-control=problem]").select_option(problem)
        pg.wait_for_selector(f'.rnn-unrolled[data-preset="seq-{problem}"]')
        outputs[problem] = pg.locator(".unroll-y:not(.empty)").count()
        steps = pg.locator(".unroll-step").count()
        if problem == "many-to-one":
            assert outputs[problem] == 1
        else:
            assert outputs[problem] == steps
        screenshot(pg, f"learn-rnn-{problem}")
    # one-to-many: only the first step has an input
    pg.locator("[data-control=problem]").select_option("one-to-many")
    pg.wait_for_selector('.rnn-unrolled[data-preset="seq-one-to-many"]')
    assert "preset=seq-one-to-many" in pg.url
    xs = pg.locator(".unroll-x").all_inner_texts()
    assert "·" not in xs[0] and all(x.endswith("·") for x in xs[1:])


def test_bilstm_shows_both_directions_stepped_in_their_own_order(page, server):
    pg, _ = page
    open_rnn(pg, server, "?preset=bilstm-memory")
    assert pg.locator('.seq-map[data-tensor="bilstm1.fwd.h"]').count() == 1
    assert pg.locator('.seq-map[data-tensor="bilstm1.bwd.h"]').count() == 1
    labels = pg.locator(".player .progress .seg").evaluate_all("s => s.map(b => b.title)")
    # names.js labels: "forward · BiLSTM layer 1, forward direction · t = 0", ...
    forward = [k for k, label in enumerate(labels) if label.startswith("forward · BiLSTM layer 1")]
    assert len(forward) >= 40  # 20 forward-direction steps, then 20 backward-direction ones
    pg.locator(".player .progress .seg").nth(forward[20]).click()
    at_step(pg, forward[20])
    assert pg.locator('.rnn-vector[data-tensor="bilstm1.bwd.t19.h"]').count() == 1
    screenshot(pg, "learn-rnn-bilstm")


@pytest.mark.parametrize(("preset", "prompt", "best"), [("chars-en", "hell", "o")])
def test_the_character_model_reads_a_prompt_and_gives_next_character_probabilities(
    page, server, preset, prompt, best
):
    pg, _ = page
    open_rnn(pg, server, f"?preset={preset}")
    assert pg.locator(".next-chars li").count() == 5
    # the prompt opens on the text the network reads, in the session's own characters
    assert pg.input_value("[data-control=prompt]") == "hell"
    assert pg.locator(".unroll-x").all_inner_texts()[:2] == ["x0 h", "x1 e"]
    pg.locator("[data-control=prompt]").fill("el")
    pg.locator("[data-control=read]").click()
    pg.wait_for_selector('.rnn-prompt[data-read="el"]')
    pg.locator("[data-control=prompt]").fill(prompt)
    pg.locator("[data-control=read]").click()
    pg.wait_for_selector(f'.rnn-prompt[data-read="{prompt}"]')
    assert pg.get_attribute(".rnn-prompt", "data-best") == best
    probs = [float(p) for p in pg.locator(".next-chars .p").all_inner_texts()]
    assert probs == sorted(probs, reverse=True) and 0 < probs[0] <= 1
    assert pg.locator('.seq-map[data-tensor$=".h"]').count() >= 1
    screenshot(pg, f"learn-rnn-{preset}-prompt")


def test_a_typed_prompt_has_no_targets_so_its_walk_ends_with_the_prediction(page, server):
    """A prompt is a new input without the next characters to score against (the old
    sample's were used): its pass has no backward steps, and the player says so."""
    pg, _ = page
    open_rnn(pg, server, "?preset=chars-en")
    segs = pg.locator(".player .progress .seg")
    assert "backward" in segs.evaluate_all("s => s.map(b => b.className).join(' ')")
    pg.locator("[data-control=prompt]").fill("hel")
    pg.locator("[data-control=read]").click()
    pg.wait_for_selector('.rnn-prompt[data-read="hel"]')
    classes = segs.evaluate_all("s => s.map(b => b.className)")
    assert not any("backward" in c or "update" in c for c in classes)
    assert "loss" in classes[-1]
    segs.nth(len(classes) - 1).click()  # the last step: the prediction, not a loss
    at_step(pg, len(classes) - 1)
    assert "no label" in pg.locator(".caption").text_content()
