"""Bad input to engine.functional's dense layers, activations and losses raises
ValueError (never another exception type) with a message naming the problem; NaN
passes when check_finite=False. Convolution and pooling: test_bad_input_conv_pool."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.functional import (
    avg_pool2d,
    conv2d,
    conv2d_true,
    dense,
    dense_backward,
    flatten,
    flatten_backward,
    leaky_relu,
    leaky_relu_backward,
    max_pool2d,
    mse,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax_cross_entropy,
    tanh,
    tanh_backward,
)
from tests.engine.bad_input import random_x as _x
from tests.engine.bad_input import value_error

# ------------------------------------------------------------------ dense


def test_dense_feature_mismatch():
    with value_error(r"feature mismatch: x has 3 features but w expects 4"):
        dense(np.ones((2, 3)), np.ones((5, 4)), np.zeros(5))


@pytest.mark.parametrize(
    ("x", "w", "b", "text"),
    [
        (np.ones((2, 3, 1)), np.ones((5, 3)), np.zeros(5), r"x must be 2-D \(N, D\)"),
        (np.ones(3), np.ones((5, 3)), np.zeros(5), r"x must be 2-D \(N, D\)"),
        (np.ones((2, 3)), np.ones(3), np.zeros(5), r"w must be 2-D \(M, D\)"),
        (np.ones((2, 3)), np.ones((5, 3)), np.zeros((5, 1)), r"b must be 1-D \(M,\)"),
    ],
)
def test_dense_wrong_ndim(x, w, b, text):
    with value_error(text):
        dense(x, w, b)


def test_dense_bias_of_wrong_length():
    with value_error(re.escape("b must have shape (5,); got (4,)")):
        dense(np.ones((2, 3)), np.ones((5, 3)), np.zeros(4))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("name", ["x", "w", "b"])
def test_dense_nan_or_inf_in_an_input(name, bad):
    args = {"x": np.ones((2, 3)), "w": np.ones((5, 3)), "b": np.zeros(5)}
    args[name].flat[0] = bad
    with value_error(f"{name} contains NaN or Inf"):
        dense(**args)


@pytest.mark.parametrize(
    ("dout_shape", "text"),
    [
        ((2, 4), re.escape("dout must have shape (2, 5); got (2, 4)")),
        ((5, 2), re.escape("dout must have shape (2, 5); got (5, 2)")),
        ((10,), r"dout must be 2-D \(N, M\)"),
    ],
)
def test_dense_backward_dout_of_wrong_shape(dout_shape, text):
    _, cache = dense(np.ones((2, 3)), np.ones((5, 3)), np.zeros(5))
    with value_error(text):
        dense_backward(np.ones(dout_shape), cache)


def test_flatten_needs_a_batch_axis_and_one_more():
    with value_error("x must have a batch axis and at least one more"):
        flatten(np.ones(4))


# ------------------------------------------------------------------ losses


@pytest.mark.parametrize(
    ("labels", "text"),
    [
        ([0, 3, 1], re.escape("labels must be in [0, 2] for 3 classes; got 3")),
        ([0, 1, 7], re.escape("labels must be in [0, 2] for 3 classes; got 7")),
        ([0, -1, 1], re.escape("labels must be in [0, 2] for 3 classes; got -1")),
        ([0, 1], re.escape("labels must have shape (3,), one per sample; got (2,)")),
        ([0, 1, 2, 0], re.escape("labels must have shape (3,), one per sample; got (4,)")),
        ([[0], [1], [2]], re.escape("labels must have shape (3,), one per sample; got (3, 1)")),
        (np.array([0.0, 1.5, 2.0]), "labels must be integer class indices; got dtype float64"),
        (np.array([0.0, np.nan, 2.0]), "labels must be integer class indices"),
        (["0", "1", "2"], "labels must be integer class indices; got dtype <U1"),
        ([True, False, True], "labels must be integer class indices; got dtype bool"),
    ],
)
def test_softmax_cross_entropy_bad_labels(labels, text):
    with value_error(text):
        softmax_cross_entropy(np.zeros((3, 3)), labels)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e300, -1e300])
def test_softmax_cross_entropy_huge_label_is_a_value_error_without_warnings(bad):
    with np.errstate(all="raise"), value_error("labels must be"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([bad, 0.0]))


def test_softmax_cross_entropy_logits_not_2d():
    with value_error(r"logits must be 2-D \(N, K\); got shape \(3,\)"):
        softmax_cross_entropy(np.zeros(3), [0])


@pytest.mark.parametrize(("pred", "target"), [((2, 3), (3, 2)), ((2, 3), (1, 3)), ((4,), (4, 1))])
def test_mse_shape_mismatch(pred, target):
    with value_error(re.escape(f"target must have the prediction's shape {pred}; got {target}")):
        mse(np.ones(pred), np.ones(target))


# ------------------------------------------------------------------ non-numeric x

STRINGS = np.array([[[["a", "b"], ["c", "d"]]]])

FORWARDS = {
    "conv2d": lambda x: conv2d(x, np.ones((1, 1, 1, 1)), np.zeros(1)),
    "conv2d_true": lambda x: conv2d_true(x, np.ones((1, 1, 1, 1)), np.zeros(1)),
    "max_pool2d": lambda x: max_pool2d(x, 2),
    "avg_pool2d": lambda x: avg_pool2d(x, 2),
    "dense": lambda x: dense(x.reshape(1, 4), np.ones((2, 4)), np.zeros(2)),
    "flatten": flatten,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "mse": lambda x: mse(x, np.zeros(x.shape)),
    "softmax_cross_entropy": lambda x: softmax_cross_entropy(x.reshape(2, 2), [0, 1]),
}


@pytest.mark.parametrize("name", list(FORWARDS))
def test_string_array_as_x(name):
    x_name = {"mse": "pred", "softmax_cross_entropy": "logits"}.get(name, "x")
    with value_error(f"{x_name} must be numeric; got dtype <U1"):
        FORWARDS[name](STRINGS)


@pytest.mark.parametrize("name", ["conv2d", "max_pool2d", "relu", "sigmoid"])
def test_object_or_ragged_x(name):
    with value_error("x must be numeric|x is not a numeric array"):
        FORWARDS[name](np.array([[[[None, 1.0], [2.0, 3.0]]]], dtype=object))
    with value_error("x is not a numeric array"):
        FORWARDS[name]([[[[1.0, 2.0], [3.0]]]])


def test_complex_x():
    with value_error("x must be real; got dtype complex128"):
        conv2d(np.ones((1, 1, 2, 2), dtype=complex), np.ones((1, 1, 1, 1)), np.zeros(1))


# ------------------------------------------- activations and flatten: dout shape

ELEMENTWISE = [
    (relu, relu_backward),
    (leaky_relu, leaky_relu_backward),
    (sigmoid, sigmoid_backward),
    (tanh, tanh_backward),
    (flatten, flatten_backward),
]


@pytest.mark.parametrize(("forward", "backward"), ELEMENTWISE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dout_shape", [(1, 6), (6, 2), (3, 4)])
def test_elementwise_backward_dout_of_wrong_shape(forward, backward, dout_shape):
    _, cache = forward(_x((2, 6)))
    with value_error(r"dout must have shape \(2, 6\)"):
        backward(np.ones(dout_shape), cache)


# ------------------------------------------------ check_finite=False lets NaN through


@pytest.mark.filterwarnings("error")
def test_dense_without_check_finite_passes_nan_through():
    x = np.ones((2, 3))
    x[1, 0] = np.nan
    out, _ = dense(x, np.ones((4, 3)), np.zeros(4), check_finite=False)
    assert np.isnan(out[1]).all() and np.isfinite(out[0]).all()
    w = np.full((4, 3), np.nan)
    assert np.isnan(dense(np.ones((2, 3)), w, np.zeros(4), check_finite=False)[0]).all()
