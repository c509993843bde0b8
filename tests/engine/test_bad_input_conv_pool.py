"""Bad input to engine.functional's convolution and pooling raises ValueError (never
another exception type) with a message naming the problem; NaN passes when
check_finite=False."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.functional import (
    avg_pool2d,
    avg_pool2d_backward,
    conv2d,
    conv2d_backward,
    conv2d_true,
    max_pool2d,
    max_pool2d_backward,
)
from tests.engine.bad_input import random_x as _x
from tests.engine.bad_input import value_error


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
