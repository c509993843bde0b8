"""The gradient chart on /learn/rnn (the vanishing-rnn preset): over the whole range of
the page's scale slider, for tanh and relu, every ||dL/dh_t|| is a finite, non-zero
number; it vanishes going back in time below spectral radius 1 and explodes above it.
And the norms themselves: float32 gradients whose squares underflow or overflow."""

import numpy as np
import pytest

from engine.data.sequences import memory_split
from engine.layers.recurrent_cells import norm
from engine.optim import SGD
from engine.presets import build_preset
from engine.presets.recurrent_builders import SCALE_RANGE
from engine.recurrent import RecurrentNet
from engine.recurrent_tasks import recurrent_weights, step_norms
from engine.stepper import Pass

T = 40  # the chart's length (the LSTM it is drawn beside was trained on 40 steps)


def slider_scales() -> list[float]:
    """Every value the page's slider offers: the range the preset states."""
    lo, hi, step = SCALE_RANGE["min"], SCALE_RANGE["max"], SCALE_RANGE["step"]
    return [round(lo + k * step, 10) for k in range(round((hi - lo) / step) + 1)]


def chart_norms(scale: float, nonlinearity: str) -> np.ndarray:
    """||dL/dh_t||, t = 0..T-1, of the preset's session as the chart makes it."""
    lesson = build_preset("vanishing-rnn", scale=scale, nonlinearity=nonlinearity, seq_len=T)
    return step_norms(lesson.net, lesson.x, lesson.target)["dh"]


def test_the_slider_range_is_stated_by_the_preset():
    meta = build_preset("vanishing-rnn").meta
    assert meta["scale_range"] == SCALE_RANGE
    scales = slider_scales()
    assert scales[0] < 1 < scales[-1] and 1.0 in scales
    assert scales[-1] == SCALE_RANGE["max"]


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_over_the_whole_slider_every_norm_is_finite_nonzero_vanishing_below_1_exploding_above(
    nonlinearity,
):
    for scale in slider_scales():
        dh = chart_norms(scale, nonlinearity)
        assert dh.shape == (T,)
        assert np.all(np.isfinite(dh)) and np.all(dh > 0), (scale, dh)
        ratio = dh[0] / dh[-1]
        # the trend over time: the slope of log ||dL/dh_t|| against t
        slope = np.polyfit(np.arange(T), np.log(dh), 1)[0]
        if scale < 1:  # vanishing: every step back shrinks it
            assert np.all(dh[:-1] < dh[1:]), scale
            assert ratio < 0.2, scale  # measured: at most 0.14, at 0.95
        elif scale > 1:  # exploding: it grows going back (measured: at least 4.7x, at 1.05)
            assert ratio > 2 and slope < 0, (scale, ratio)
        else:  # radius 1: about level (measured 0.92 for tanh, 1 for relu)
            assert 0.5 < ratio < 2


def test_relu_with_every_unit_on_scales_the_gradient_by_the_radius_at_every_step():
    for scale in (SCALE_RANGE["min"], 0.9, 1.05, SCALE_RANGE["max"]):
        dh = chart_norms(scale, "relu")
        assert dh[:-1] == pytest.approx(scale * dh[1:], rel=1e-9)


def test_the_chart_loss_cannot_vanish_at_the_last_step_where_cross_entropy_saturated():
    # Before: softmax cross-entropy; relu at scale >= 1.8 gave loss -0.0 and every
    # ||dL/dh_t|| 0. Mean squared error against the one-hot label instead.
    lesson = build_preset("vanishing-rnn", scale=SCALE_RANGE["max"], nonlinearity="relu")
    assert lesson.net.loss_kind == "mse_onehot" and lesson.meta["loss"] == "mse_onehot"
    p = Pass(lesson.net, lesson.x, lesson.target, SGD(0.05))
    p.run(until="update")
    assert float(p.trace["loss.value"]) > 0
    assert np.all(np.isfinite(p.trace["loss.dx"])) and np.any(p.trace["loss.dx"] != 0)
    for grad in ("rnn1.dw_hh", "rnn1.dw_ih", "head.dw"):
        assert np.all(np.isfinite(p.trace[grad]))


def test_a_float32_gradient_of_norm_1e_minus_25_has_that_norm_not_0():
    # Before: squares summed in float32 underflowed, so rnn1.t0.dh_norm was 0 although
    # rnn1.t0.dh had norm 1.2e-25 (tanh, scale 0.25, float32).
    # The preset as it was: PyTorch's weights, W_hh Gaussian of radius 0.25, float32.
    net = RecurrentNet("rnn", 4, 32, 4, seq_len=T, seed=0)
    net.set_params({"rnn1.w_hh": recurrent_weights(np.random.default_rng(1), 32, 0.25, np.float32)})
    data = memory_split(T, n_train=8, n_test=8, seed=0)
    p = Pass(net, data.x_test[:1], data.y_test[:1], SGD(0.1))
    p.run(until="backward")
    dh0 = p.trace["rnn1.t0.dh"]
    assert dh0.dtype == np.float32
    want = np.linalg.norm(dh0.astype(np.float64))
    assert 0 < want < 1e-20
    got = float(p.trace["rnn1.t0.dh_norm"])
    assert got > 0 and got == pytest.approx(want, rel=1e-6, abs=0)  # measured: 1.17e-25


def test_norm_scales_before_squaring_and_keeps_0_inf_and_nan():
    tiny = np.full(32, 2e-26, np.float32)
    assert float(norm(tiny)) == pytest.approx(2e-26 * np.sqrt(32), rel=1e-6, abs=0)
    huge = np.full(32, 1e20, np.float32)  # squares of 1e40 overflow float32
    assert float(norm(huge)) == pytest.approx(1e20 * np.sqrt(32), rel=1e-6)
    assert norm(huge).dtype == np.float32 and norm(huge.astype(np.float64)).dtype == np.float64
    assert float(norm(np.zeros(3, np.float32))) == 0
    assert np.isinf(norm(np.array([np.inf, 1.0])))
    assert np.isnan(norm(np.array([np.nan, 1.0], np.float32)))
