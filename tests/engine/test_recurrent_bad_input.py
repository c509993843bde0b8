"""Bad input to the recurrent functions raises ValueError (never another type)
with a message naming the problem: wrong weight shapes, T = 0, NaN, bad dhs."""

from __future__ import annotations

import re
from contextlib import contextmanager

import numpy as np
import pytest

from engine.functional import (
    bilstm,
    clip_grad_norm,
    head_many_to_many,
    head_many_to_one,
    lstm,
    lstm_backward,
    rnn,
    rnn_backward,
    sequence_loss,
)


@contextmanager
def value_error(match):
    with pytest.raises(ValueError, match=match) as info:
        yield info
    assert info.type is ValueError, f"raised {info.type.__name__}, not ValueError"


def _lstm_args(n=2, t=3, d=4, h=5):
    rng = np.random.default_rng(0)
    return {
        "x": rng.standard_normal((n, t, d)),
        "h0": np.zeros((n, h)),
        "c0": np.zeros((n, h)),
        "w_ih": rng.standard_normal((4 * h, d)),
        "w_hh": rng.standard_normal((4 * h, h)),
        "b_ih": np.zeros(4 * h),
        "b_hh": np.zeros(4 * h),
    }


def _rnn_args(n=2, t=3, d=4, h=5):
    a = _lstm_args(n, t, d, h)
    del a["c0"]
    a.update(w_ih=a["w_ih"][:h], w_hh=a["w_hh"][:h], b_ih=a["b_ih"][:h], b_hh=a["b_hh"][:h])
    return a


@pytest.mark.parametrize("fn", [rnn, lstm], ids=["rnn", "lstm"])
def test_zero_time_steps(fn):
    a = _rnn_args() if fn is rnn else _lstm_args()
    a["x"] = np.zeros((2, 0, 4))
    with value_error(
        r"x has T = 0 time steps \(shape \(2, 0, 4\)\); a sequence needs at least one"
    ):
        fn(**a)


@pytest.mark.parametrize(
    ("key", "shape", "text"),
    [
        ("w_ih", (20, 3), "feature mismatch: x has D = 4 features per step but w_ih expects 3"),
        ("w_ih", (15, 4), "w_ih must have 20 rows (4*H for the gates i, f, g, o, H = 5 from w_hh)"),
        ("w_hh", (20, 4), "w_hh must have shape (4*H, H) = (16, 4) for the gates i, f, g, o"),
        ("w_hh", (5, 5), "w_hh must have shape (4*H, H) = (20, 5)"),
        ("b_ih", (5,), "b_ih must have shape (20,) (4*H); got (5,)"),
        ("b_hh", (20, 1), "b_hh must be 1-D (20,)"),
        ("h0", (3, 5), "h0 must have shape (2, 5) (N, H); got (3, 5)"),
        ("c0", (2, 4), "c0 must have shape (2, 5) (N, H); got (2, 4)"),
        ("x", (2, 3), "x must be 3-D (N, T, D)"),
    ],
)
def test_lstm_wrong_shapes(key, shape, text):
    a = _lstm_args()
    a[key] = np.zeros(shape)
    with value_error(re.escape(text)):
        lstm(**a)


def test_rnn_weights_of_an_lstm_are_refused():
    a = _rnn_args()
    a["w_ih"] = np.zeros((20, 4))
    with value_error(re.escape("w_ih must have 5 rows (1*H for the hidden state, H = 5")):
        rnn(**a)


@pytest.mark.parametrize("key", ["x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_an_input(key, bad):
    a = _rnn_args()
    a[key] = a[key].copy()
    a[key].flat[0] = bad
    with value_error(f"{key} contains NaN or Inf"):
        rnn(**a)


def test_nan_passes_without_check_finite():
    a = _lstm_args()
    a["x"][0, 0, 0] = np.nan
    hs, _ = lstm(**a, check_finite=False)
    assert np.isnan(hs[0]).all() and np.isfinite(hs[1]).all()


def test_unknown_nonlinearity():
    with value_error("nonlinearity must be one of"):
        rnn(**_rnn_args(), nonlinearity="sigmoid")


@pytest.mark.parametrize("backward", [rnn_backward, lstm_backward])
def test_dhs_of_wrong_shape(backward):
    fwd, a = (rnn, _rnn_args()) if backward is rnn_backward else (lstm, _lstm_args())
    hs, cache = fwd(**a)
    with value_error(re.escape("dhs must have the outputs' shape (2, 3, 5) (N, T, H); got (2, 5)")):
        backward(np.zeros((2, 5)), cache)


def test_bilstm_needs_states_per_direction_and_matching_reverse_weights():
    a = _lstm_args()
    w = [a[k] for k in ("w_ih", "w_hh", "b_ih", "b_hh")]
    with value_error(re.escape("h0 must have shape (2, 2, 5) (directions, N, H); got (2, 5)")):
        bilstm(a["x"], a["h0"], None, *w, *w)
    with value_error(re.escape("backward direction (the *_reverse weights): feature mismatch")):
        bilstm(a["x"], None, None, *w, np.zeros((20, 3)), *w[1:])
    with value_error("backward direction"):
        bilstm(a["x"], None, None, *w, w[0], w[1], w[2], np.zeros(16))


def test_heads_and_losses_name_the_misfit():
    hs = np.zeros((2, 3, 4))
    with value_error(re.escape("feature mismatch: hidden states have F = 4 but w expects 5")):
        head_many_to_one(hs, np.zeros((2, 5)), np.zeros(2))
    with value_error(re.escape("b must have shape (2,)")):
        head_many_to_many(hs, np.zeros((2, 4)), np.zeros(3))
    with value_error("an even size 2H"):
        head_many_to_one(np.zeros((2, 3, 5)), np.zeros((2, 5)), np.zeros(2), bidirectional=True)
    with value_error(re.escape("labels must have shape (2, 3), one per output; got (2,)")):
        sequence_loss(np.zeros((2, 3, 4)), np.zeros(2, dtype=int), "softmax_cross_entropy")
    with value_error(re.escape("labels must be in [0, 3]")):
        sequence_loss(np.zeros((2, 4)), np.array([0, 7]), "softmax_cross_entropy")
    with value_error("unknown loss"):
        sequence_loss(np.zeros((2, 4)), np.zeros((2, 4)), "hinge")


@pytest.mark.parametrize("max_norm", [0, -1.0, float("nan"), "1"])
def test_clip_max_norm_must_be_positive(max_norm):
    with value_error("max_norm must be a positive number"):
        clip_grad_norm({"w": np.ones(2)}, max_norm)
