"""Bad input to engine.functional raises ValueError (never another exception
type) with a message naming the problem; NaN passes when check_finite=False."""

from __future__ import annotations

import re
from contextlib import contextmanager

import numpy as np
import pytest

from engine.functional import (
    avg_pool2d,
    avg_pool2d_backward,
    conv2d,
    conv2d_backward,
    conv2d_true,
    dense,
    dense_backward,
    flatten,
    flatten_backward,
    leaky_relu,
    leaky_relu_backward,
    max_pool2d,
    max_pool2d_backward,
    mse,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax_cross_entropy,
    tanh,
    tanh_backward,
)


@contextmanager
def value_error(match):
    """pytest.raises(ValueError, match=...) that also refuses ValueError subclasses."""
    with pytest.raises(ValueError, match=match) as info:
        yield info
    assert info.type is ValueError, f"raised {info.type.__name__}, not ValueError"


def _x(shape=(1, 2, 5, 5)):
    return np.random.default_rng(0).standard_normal(shape)


def _conv(x=None, w=None, b=None, **kw):
    x = _x() if x is None else x
    w = np.ones((3, 2, 3, 3)) if w is None else w
    b = np.zeros(w.shape[0] if np.ndim(w) else 1) if b is None else b
    return conv2d(x, w, b, **kw)


# ------------------------------------------------------------------ convolution


def test_conv2d_channel_mismatch():
    with value_error(r"channel mismatch: x has 2 channel\(s\) but each kernel has 3"):
        _conv(w=np.ones((4, 3, 3, 3)))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "padding", "text"),
    [
        ((1, 1, 4, 4), (1, 1, 5, 5), 0, "kernel 5x5 is larger than the padded input 4x4"),
        ((1, 1, 4, 6), (1, 1, 7, 3), 1, "kernel 7x3 is larger than the padded input 6x8"),
        ((1, 1, 2, 2), (1, 1, 2, 5), (0, 1), "kernel 2x5 is larger than the padded input 2x4"),
    ],
)
def test_conv2d_kernel_larger_than_the_padded_input(x_shape, w_shape, padding, text):
    with value_error(re.escape(text)):
        conv2d(_x(x_shape), np.ones(w_shape), np.zeros(w_shape[0]), padding=padding)


@pytest.mark.parametrize("stride", [0, -1, (1, 0), (-2, 1)])
def test_conv2d_stride_below_one(stride):
    with value_error("stride must be >= 1"):
        _conv(stride=stride)


@pytest.mark.parametrize("stride", [1.5, (1, 2, 3), None, "2"])
def test_conv2d_stride_not_an_int_or_pair(stride):
    with value_error("stride must be an int or a pair of ints"):
        _conv(stride=stride)


@pytest.mark.parametrize("stride", [(1.7, 1), "12"])
def test_conv2d_stride_pair_of_non_ints(stride):
    with value_error("stride must be an int or a pair of ints"):
        _conv(stride=stride)


@pytest.mark.parametrize("padding", [-1, (0, -1)])
def test_conv2d_negative_padding(padding):
    with value_error("padding must be >= 0"):
        _conv(padding=padding)


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"x": np.ones((2, 5, 5))}, r"x must be 4-D \(N, C, H, W\); got shape \(2, 5, 5\)"),
        ({"x": np.ones((1, 1, 2, 5, 5))}, "x must be 4-D"),
        ({"w": np.ones((2, 3, 3))}, r"w must be 4-D \(F, C, KH, KW\)"),
        ({"w": np.ones((3, 2, 3, 3)), "b": np.zeros((3, 1))}, r"b must be 1-D \(F,\)"),
    ],
)
def test_conv2d_wrong_ndim(kwargs, text):
    with value_error(text):
        _conv(**kwargs)


@pytest.mark.parametrize("n_bias", [2, 4])
def test_conv2d_bias_of_wrong_length(n_bias):
    with value_error(rf"b must have one bias per kernel: shape \(3,\); got \({n_bias},\)"):
        _conv(b=np.zeros(n_bias))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["x", "w", "b"])
def test_conv2d_nan_or_inf_in_an_input(name, bad):
    args = {"x": _x(), "w": np.ones((3, 2, 3, 3)), "b": np.zeros(3)}
    args[name].flat[1] = bad
    with value_error(rf"{name} contains NaN or Inf \(1 of {args[name].size} values\)"):
        conv2d(**args)


def test_conv2d_true_checks_its_input_too():
    with value_error("channel mismatch"):
        conv2d_true(_x(), np.ones((1, 3, 3, 3)), np.zeros(1))
    with value_error("x contains NaN or Inf"):
        conv2d_true(np.full((1, 1, 3, 3), np.nan), np.ones((1, 1, 3, 3)), np.zeros(1))


@pytest.mark.parametrize(
    ("dout_shape", "text"),
    [
        ((1, 3, 3, 4), re.escape("dout must have shape (1, 3, 3, 3); got (1, 3, 3, 4)")),
        ((2, 3, 3, 3), re.escape("dout must have shape (1, 3, 3, 3)")),
        ((3, 3, 3), r"dout must be 4-D \(N, F, OH, OW\)"),
    ],
)
def test_conv2d_backward_dout_of_wrong_shape(dout_shape, text):
    _, cache = _conv()
    with value_error(text):
        conv2d_backward(np.ones(dout_shape), cache)


# ------------------------------------------------------------------ pooling

POOLS = [max_pool2d, avg_pool2d]
POOL_IDS = ["max", "avg"]


@pytest.mark.parametrize("pool", POOLS, ids=POOL_IDS)
@pytest.mark.parametrize(
    ("size", "text"),
    [(6, "pool window 6x6 is larger than the input 5x5"), ((2, 7), "pool window 2x7")],
)
def test_pool_window_larger_than_the_input(pool, size, text):
    with value_error(re.escape(text)):
        pool(_x(), size)


@pytest.mark.parametrize("pool", POOLS, ids=POOL_IDS)
@pytest.mark.parametrize(
    ("size", "stride", "text"),
    [
        (0, None, "pool size must be >= 1"),
        (2, 0, "stride must be >= 1"),
        (2, -1, "stride must be >= 1"),
        (2, (1, 0), "stride must be >= 1"),
    ],
)
def test_pool_size_or_stride_below_one(pool, size, stride, text):
    with value_error(text):
        pool(_x(), size, stride)


@pytest.mark.parametrize("pool", POOLS, ids=POOL_IDS)
@pytest.mark.parametrize("shape", [(5, 5), (2, 5, 5), (1, 1, 1, 5, 5)])
def test_pool_wrong_ndim(pool, shape):
    with value_error(r"x must be 4-D \(N, C, H, W\)"):
        pool(np.ones(shape), 2)


@pytest.mark.parametrize("pool", POOLS, ids=POOL_IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_pool_nan_or_inf_in_x(pool, bad):
    x = _x()
    x[0, 1, 2, 3] = bad
    with value_error(r"x contains NaN or Inf \(1 of 50 values\)"):
        pool(x, 2)


@pytest.mark.parametrize(
    ("pool", "backward"),
    [(max_pool2d, max_pool2d_backward), (avg_pool2d, avg_pool2d_backward)],
    ids=POOL_IDS,
)
@pytest.mark.parametrize(
    ("dout_shape", "text"),
    [
        ((1, 2, 2, 3), re.escape("dout must have shape (1, 2, 2, 2); got (1, 2, 2, 3)")),
        ((1, 1, 2, 2), re.escape("dout must have shape (1, 2, 2, 2)")),
        ((2, 2, 2), r"dout must be 4-D \(N, C, OH, OW\)"),
    ],
)
def test_pool_backward_dout_of_wrong_shape(pool, backward, dout_shape, text):
    _, cache = pool(_x(), 2)
    with value_error(text):
        backward(np.ones(dout_shape), cache)


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
def test_conv2d_without_check_finite_passes_nan_through():
    x = _x((1, 1, 5, 5))
    x[0, 0, 0, 0] = np.nan
    out, cache = conv2d(x, np.ones((2, 1, 3, 3)), np.zeros(2), check_finite=False)
    assert np.isnan(out[:, :, 0, 0]).all()  # the windows containing the NaN
    assert np.isfinite(out[:, :, 1:, :]).all()  # the others
    dx, dw, db = conv2d_backward(np.ones(out.shape), cache)
    assert np.isnan(dw[:, 0, 0, 0]).all()  # only the top-left weight ever saw x[0, 0]
    assert np.isfinite(dw[:, 0, 1:]).all() and np.isfinite(dx).all() and np.isfinite(db).all()


@pytest.mark.filterwarnings("error")
def test_dense_without_check_finite_passes_nan_through():
    x = np.ones((2, 3))
    x[1, 0] = np.nan
    out, _ = dense(x, np.ones((4, 3)), np.zeros(4), check_finite=False)
    assert np.isnan(out[1]).all() and np.isfinite(out[0]).all()
    w = np.full((4, 3), np.nan)
    assert np.isnan(dense(np.ones((2, 3)), w, np.zeros(4), check_finite=False)[0]).all()


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("pool", POOLS, ids=POOL_IDS)
def test_pool_without_check_finite_passes_all_nan_windows_through(pool):
    x = _x((1, 1, 4, 4))
    x[0, 0, :2, :2] = np.nan
    out, cache = pool(x, 2, check_finite=False)
    assert np.isnan(out[0, 0, 0, 0]) and np.isfinite(out[0, 0, 1]).all()


@pytest.mark.filterwarnings("error")
def test_max_pool2d_without_check_finite_keeps_a_nan_in_the_first_position():
    x = _x((1, 1, 4, 4))
    x[0, 0, 0, 0] = np.nan
    out, _ = max_pool2d(x, 2, check_finite=False)
    assert np.isnan(out[0, 0, 0, 0])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("position", [(0, 1), (1, 0), (1, 1)])
def test_max_pool2d_without_check_finite_propagates_nan_anywhere_in_the_window(position):
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    x[(0, 0, *position)] = np.nan
    out, _ = max_pool2d(x, 2, check_finite=False)
    assert np.isnan(out[0, 0, 0, 0])


def test_avg_pool2d_without_check_finite_propagates_nan_anywhere_in_the_window():
    x = np.array([[[[1.0, 2.0], [3.0, np.nan]]]])
    out, _ = avg_pool2d(x, 2, check_finite=False)
    assert np.isnan(out[0, 0, 0, 0])
