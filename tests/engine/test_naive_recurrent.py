"""The loop references of the RNN and the LSTM (engine.functional.naive_recurrent):
the reference against finite differences, then the fast versions against the
reference on random shapes with non-zero initial states, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from engine.functional import lstm, lstm_backward, rnn, rnn_backward
from engine.functional.naive_recurrent import (
    lstm_naive,
    lstm_naive_backward,
    rnn_naive,
    rnn_naive_backward,
)
from tests.engine.gradcheck import check_layer
from tests.engine.recurrent_cases import LSTM_KEYS, RNN_KEYS

# The fast and the loop versions add the same products in another order: only round-off apart.
RTOL, ATOL = 1e-12, 1e-13


def _arrays(seed: int, gates: int, states: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Random sizes (N, T, D, H) and float64 arrays, initial states non-zero."""
    rng = np.random.default_rng(seed)
    n, t, d, h = (int(v) for v in rng.integers(1, 6, size=4))
    out = {"x": rng.standard_normal((n, t, d))}
    for s in states:
        out[s] = rng.standard_normal((n, h)) * 0.5
    out["w_ih"] = rng.standard_normal((gates * h, d)) * 0.5
    out["w_hh"] = rng.standard_normal((gates * h, h)) * 0.5
    out["b_ih"] = rng.standard_normal(gates * h) * 0.3
    out["b_hh"] = rng.standard_normal(gates * h) * 0.3
    return out


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("seed", range(3))
def test_rnn_naive_backward_matches_finite_differences(seed, nonlinearity):
    check_layer(
        lambda **a: rnn_naive(**a, nonlinearity=nonlinearity),
        lambda dout, cache: tuple(rnn_naive_backward(dout, cache)[k] for k in RNN_KEYS),
        _arrays(seed, 1, ("h0",)),
    )


@pytest.mark.parametrize("seed", range(3))
def test_lstm_naive_backward_matches_finite_differences(seed):
    check_layer(
        lstm_naive,
        lambda dout, cache: tuple(lstm_naive_backward(dout, cache)[k] for k in LSTM_KEYS),
        _arrays(seed, 4, ("h0", "c0")),
    )


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("seed", range(10, 20))
def test_fast_rnn_equals_the_loop_reference_forward_and_backward(seed, nonlinearity):
    a = _arrays(seed, 1, ("h0",))
    hs, cache = rnn(**a, nonlinearity=nonlinearity)
    ref, ref_cache = rnn_naive(**a, nonlinearity=nonlinearity)
    np.testing.assert_allclose(hs, ref, rtol=RTOL, atol=ATOL)
    dhs = np.random.default_rng(seed + 100).standard_normal(hs.shape)
    got, want = rnn_backward(dhs, cache), rnn_naive_backward(dhs, ref_cache)
    for key in RNN_KEYS:
        np.testing.assert_allclose(got[key], want[key], rtol=RTOL, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("seed", range(10, 20))
def test_fast_lstm_equals_the_loop_reference_forward_and_backward(seed):
    a = _arrays(seed, 4, ("h0", "c0"))
    hs, cache = lstm(**a)
    ref, ref_cache = lstm_naive(**a)
    np.testing.assert_allclose(hs, ref, rtol=RTOL, atol=ATOL)
    # the fast version's cell states (reordered gate buffers) against the reference's
    np.testing.assert_allclose(
        cache.c[1:].transpose(2, 0, 1), np.stack([s["c"] for s in ref_cache.steps], axis=1),
        rtol=RTOL, atol=ATOL,
    )  # fmt: skip
    dhs = np.random.default_rng(seed + 100).standard_normal(hs.shape)
    got, want = lstm_backward(dhs, cache), lstm_naive_backward(dhs, ref_cache)
    for key in LSTM_KEYS:
        np.testing.assert_allclose(got[key], want[key], rtol=RTOL, atol=ATOL, err_msg=key)


def test_lstm_naive_names_its_gates_in_the_lecture_order_i_f_g_o():
    """With only the forget gate's bias large and the rest zero, f is ~1 and the others
    sit at σ(0) = 0.5 / tanh(0) = 0: the reference reads the rows i, f, g, o."""
    h = 2
    b_ih = np.zeros(4 * h)
    b_ih[h : 2 * h] = 30.0  # PyTorch's second block: the forget gate
    zeros = np.zeros((4 * h, 1)), np.zeros((4 * h, h))
    _, cache = lstm_naive(np.ones((1, 1, 1)), None, None, *zeros, b_ih, np.zeros(4 * h))
    step = cache.steps[0]
    np.testing.assert_allclose(step["f"], 1.0)
    np.testing.assert_allclose(step["i"], 0.5)
    np.testing.assert_allclose(step["o"], 0.5)
    np.testing.assert_allclose(step["g"], 0.0)
