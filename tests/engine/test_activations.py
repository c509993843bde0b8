"""Tests for engine.functional.activations: gradients, dtypes and the limits of
sigmoid and tanh."""

from __future__ import annotations

import numpy as np
import pytest

from engine.functional import (
    leaky_relu,
    leaky_relu_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    tanh,
    tanh_backward,
)
from tests.engine.gradcheck import check_layer, rel_error

# Overflow, 0/0 and division by zero raise; underflow of e^-|x| to 0 is how the
# exact limits 0 and 1 are reached, so it stays silent (numpy's default).
STRICT = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}


def _away_from_zero(shape, seed=0):
    """float64 values with |x| in [0.1, 2]: relu's kink at 0 is out of eps's reach."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4, 4)])
def test_relu_backward_matches_finite_differences(shape):
    check_layer(relu, relu_backward, {"x": _away_from_zero(shape)})


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.5])
def test_leaky_relu_backward_matches_finite_differences(slope):
    check_layer(
        lambda x: leaky_relu(x, slope), leaky_relu_backward, {"x": _away_from_zero((4, 6), 1)}
    )


def test_leaky_relu_default_slope_is_0_01():
    out, cache = leaky_relu(np.array([-2.0, 3.0]))
    np.testing.assert_array_equal(out, [-0.02, 3.0])
    np.testing.assert_array_equal(leaky_relu_backward(np.ones(2), cache), [0.01, 1.0])


@pytest.mark.parametrize("shape", [(9,), (3, 5), (2, 2, 3, 3)])
def test_sigmoid_backward_matches_finite_differences(shape):
    x = np.random.default_rng(2).uniform(-6, 6, shape)
    check_layer(sigmoid, sigmoid_backward, {"x": x})


@pytest.mark.parametrize("shape", [(9,), (3, 5), (2, 2, 3, 3)])
def test_tanh_backward_matches_finite_differences(shape):
    x = np.random.default_rng(3).uniform(-3, 3, shape)
    check_layer(tanh, tanh_backward, {"x": x})


def test_relu_gradient_at_exactly_zero_is_zero():
    out, cache = relu(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(out, [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(relu_backward(np.full(3, 7.0), cache), [0.0, 0.0, 7.0])


def test_sigmoid_and_tanh_match_their_formulas():
    x = np.linspace(-8, 8, 41)
    assert rel_error(sigmoid(x)[0], 1 / (1 + np.exp(-x))) < 1e-15
    assert rel_error(tanh(x)[0], np.tanh(x)) == 0.0


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_of_plus_minus_1000_is_exactly_0_and_1_without_warnings(dtype):
    x = np.array([-1000.0, -200.0, 0.0, 200.0, 1000.0], dtype=dtype)
    with np.errstate(**STRICT):
        out, cache = sigmoid(x)
        dx = sigmoid_backward(np.ones_like(x), cache)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    assert out[0] == 0.0 and out[-1] == 1.0 and out[2] == 0.5
    assert dx[0] == 0.0 and dx[-1] == 0.0 and dx[2] == 0.25


@pytest.mark.filterwarnings("error")
def test_tanh_of_plus_minus_1000_is_exactly_minus_1_and_1_without_warnings():
    with np.errstate(**STRICT):
        out, cache = tanh(np.array([-1000.0, 1000.0]))
        dx = tanh_backward(np.ones(2), cache)
    np.testing.assert_array_equal(out, [-1.0, 1.0])
    np.testing.assert_array_equal(dx, [0.0, 0.0])


ACTIVATIONS = [
    (relu, relu_backward),
    (leaky_relu, leaky_relu_backward),
    (sigmoid, sigmoid_backward),
    (tanh, tanh_backward),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("forward", "backward"), ACTIVATIONS, ids=lambda f: f.__name__)
def test_activation_keeps_the_input_dtype_forward_and_backward(forward, backward, dtype):
    x = _away_from_zero((3, 4), 4).astype(dtype)
    out, cache = forward(x)
    assert out.dtype == dtype and out.shape == x.shape
    dx = backward(np.ones(x.shape, dtype=dtype), cache)
    assert dx.dtype == dtype and dx.shape == x.shape


@pytest.mark.parametrize("forward", [f for f, _ in ACTIVATIONS], ids=lambda f: f.__name__)
def test_activation_of_integers_is_float32(forward):
    out, _ = forward(np.array([-2, 0, 3]))
    assert out.dtype == np.float32
