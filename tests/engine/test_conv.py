"""Tests for engine.functional.conv: gradients, the loop reference, dtypes,
partial maps and true convolution."""

from __future__ import annotations

import numpy as np
import pytest

from engine.functional import (
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_naive,
    conv2d_partials,
    conv2d_true,
    conv_output_shape,
    conv_wide,
)
from tests.engine.gradcheck import check_grad, check_layer, projection, rel_error

# (x shape, w shape, stride, padding): strides 1-3, padding 0-2, non-square
# kernels, (h, w) pairs, and strides that do not divide the padded input.
GRAD_CASES = [
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 0),
    ((1, 2, 7, 5), (3, 2, 3, 2), 1, 1),
    ((2, 1, 8, 8), (2, 1, 3, 3), 2, 1),
    ((1, 2, 9, 7), (2, 2, 2, 4), 3, 2),
    ((2, 2, 7, 8), (3, 2, 4, 3), (2, 3), (1, 2)),
    ((1, 3, 5, 6), (2, 3, 5, 1), (1, 2), (0, 1)),
    ((1, 1, 4, 4), (1, 1, 4, 4), 1, 0),  # kernel covers the whole input
    ((1, 1, 3, 3), (2, 1, 5, 5), 1, 1),  # kernel only fits thanks to padding
    ((3, 1, 6, 5), (1, 1, 1, 1), 2, 2),  # 1x1 kernel, output mostly padding
    ((1, 2, 10, 9), (2, 2, 3, 5), 3, 0),  # stride leaves the last rows unused
]


def _conv_inputs(x_shape, w_shape, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, w, b


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "padding"), GRAD_CASES)
def test_conv2d_backward_matches_finite_differences(x_shape, w_shape, stride, padding):
    x, w, b = _conv_inputs(x_shape, w_shape)
    check_layer(
        lambda x, w, b: conv2d(x, w, b, stride, padding),
        conv2d_backward,
        {"x": x, "w": w, "b": b},
    )


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "padding"), GRAD_CASES[:5])
def test_conv2d_true_backward_gives_dw_for_the_flipped_kernel(x_shape, w_shape, stride, padding):
    # conv2d_true's cache holds the flipped kernel, so conv2d_backward's dw is the
    # gradient with respect to w[:, :, ::-1, ::-1]; flipped back it is dL/dw.
    x, w, b = _conv_inputs(x_shape, w_shape, seed=1)
    out, cache = conv2d_true(x, w, b, stride, padding)
    r = projection(out.shape)
    dx, dw_flipped, db = conv2d_backward(r, cache)
    check_grad(
        lambda: np.sum(conv2d_true(x, w, b, stride, padding)[0] * r),
        {"x": x, "w": w, "b": b},
        {"x": dx, "w": dw_flipped[:, :, ::-1, ::-1], "b": db},
    )


def _random_conv_case(rng):
    """A random conv whose kernel fits its padded input (drawn again until it does)."""
    while True:
        n, c, f = rng.integers(1, 4, size=3)
        h, wd = rng.integers(1, 10, size=2)
        kh, kw = rng.integers(1, 5, size=2)
        stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
        padding = tuple(int(p) for p in rng.integers(0, 3, size=2))
        if kh <= h + 2 * padding[0] and kw <= wd + 2 * padding[1]:
            return (n, c, h, wd), (f, c, kh, kw), stride, padding


@pytest.mark.parametrize("seed", range(30))
def test_conv2d_fast_matches_naive_forward_and_backward(seed):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, stride, padding = _random_conv_case(rng)
    x, w, b = _conv_inputs(x_shape, w_shape, seed=seed)
    out, cache = conv2d(x, w, b, stride, padding)
    ref, ncache = conv2d_naive(x, w, b, stride, padding)
    assert out.shape == ref.shape == conv_output_shape(x_shape, w_shape, stride, padding)
    assert rel_error(out, ref) < 1e-12
    dout = rng.standard_normal(out.shape)
    for got, want in zip(
        conv2d_backward(dout, cache), conv2d_backward_naive(dout, ncache), strict=True
    ):
        assert got.shape == want.shape
        assert rel_error(got, want) < 1e-12


@pytest.mark.parametrize("small_dx", [0, 10**9], ids=["shifted-adds", "one-gemm"])
@pytest.mark.parametrize("seed", range(12))
def test_conv2d_stride1_input_delta_both_ways_matches_naive(seed, small_dx, monkeypatch):
    """Stride 1 computes dx one of two ways by size (engine.functional.conv_wide.SMALL_DX)."""
    monkeypatch.setattr(conv_wide, "SMALL_DX", small_dx)
    rng = np.random.default_rng(100 + seed)
    x_shape, w_shape, _, padding = _random_conv_case(rng)
    x, w, b = _conv_inputs(x_shape, w_shape, seed=seed)
    out, cache = conv2d(x, w, b, 1, padding)
    _, ncache = conv2d_naive(x, w, b, 1, padding)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(
        conv2d_backward(dout, cache), conv2d_backward_naive(dout, ncache), strict=True
    ):
        assert rel_error(got, want) < 1e-12


# The dropped columns' 0 * Inf is computed (and warned about) before it is replaced.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "inf_at"),
    [
        ((1, 2, 6, 5), (3, 2, 3, 3), (0, 0, 1, 0)),  # read by row 0's dropped wrapped windows
        ((1, 1, 5, 5), (1, 1, 3, 1), (0, 0, 2, 0)),  # one channel, a one-column kernel
        ((2, 1, 5, 5), (1, 1, 3, 5), (1, 0, 2, 2)),  # a kernel as wide as the input
    ],
)
def test_conv2d_gradients_with_inf_in_the_input_match_the_loops(x_shape, w_shape, inf_at):
    """A diverged network's Inf reaches the columns the stride-1 layout computes and
    drops (a window wrapping past the row's end): they must not turn a finite
    gradient into NaN, whatever the layout of the columns."""
    x, w, b = _conv_inputs(x_shape, w_shape, seed=4)
    x[inf_at] = np.inf
    out, cache = conv2d(x, w, b, 1, 0, check_finite=False)
    ref, ncache = conv2d_naive(x, w, b, 1, 0)
    np.testing.assert_allclose(out, ref, rtol=1e-10)
    dout = np.random.default_rng(4).standard_normal(out.shape)
    for got, want in zip(
        conv2d_backward(dout, cache), conv2d_backward_naive(dout, ncache), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-10)  # Inf and NaN in the same places


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_keeps_the_input_dtype_forward_and_backward(dtype):
    x, w, b = _conv_inputs((2, 3, 7, 6), (4, 3, 3, 2), dtype=dtype)
    out, cache = conv2d(x, w, b, 2, 1)
    assert out.dtype == dtype
    dx, dw, db = conv2d_backward(np.ones(out.shape, dtype=dtype), cache)
    assert dx.dtype == dw.dtype == db.dtype == dtype
    assert conv2d_partials(cache).dtype == dtype
    assert conv2d_true(x, w, b)[0].dtype == dtype


def test_conv2d_float32_with_float64_weights_computes_in_float64():
    x, w, b = _conv_inputs((1, 2, 5, 5), (3, 2, 3, 3))
    out, _ = conv2d(x.astype(np.float32), w, b)
    assert out.dtype == np.float64


def test_conv2d_integer_input_becomes_float32():
    x = np.arange(25, dtype=np.int64).reshape(1, 1, 5, 5)
    out, _ = conv2d(x, np.ones((1, 1, 3, 3), dtype=np.float32), np.zeros(1, dtype=np.float32))
    assert out.dtype == np.float32
    assert out[0, 0, 0, 0] == 0 + 1 + 2 + 5 + 6 + 7 + 10 + 11 + 12


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), ((1, 3), (2, 0))])
def test_conv2d_partials_sum_over_channels_plus_bias_is_the_output(stride, padding):
    x, w, b = _conv_inputs((2, 3, 7, 8), (4, 3, 3, 2), seed=5)
    out, cache = conv2d(x, w, b, stride, padding)
    partials = conv2d_partials(cache)
    assert partials.shape == (2, 4, 3) + out.shape[2:]
    assert rel_error(partials.sum(axis=2) + b[None, :, None, None], out) < 1e-13


def test_conv2d_partial_is_the_single_channel_cross_correlation():
    x, w, b = _conv_inputs((1, 3, 6, 6), (2, 3, 3, 3), seed=6)
    _, cache = conv2d(x, w, b, 1, 1)
    partials = conv2d_partials(cache)
    for f in range(2):
        for c in range(3):
            one, _ = conv2d(x[:, c : c + 1], w[f : f + 1, c : c + 1], np.zeros(1), 1, 1)
            assert rel_error(partials[:, f, c], one[:, 0]) < 1e-13


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 2), ((2, 1), (0, 1))])
def test_conv2d_true_equals_conv2d_with_the_flipped_kernel(stride, padding):
    x, w, b = _conv_inputs((2, 2, 7, 6), (3, 2, 3, 4), seed=7)
    got, _ = conv2d_true(x, w, b, stride, padding)
    want, _ = conv2d(x, w[:, :, ::-1, ::-1], b, stride, padding)
    assert rel_error(got, want) < 1e-14


def test_conv2d_true_differs_from_cross_correlation_for_an_asymmetric_kernel():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 2.0], [0.0, 0.0]]]])  # not symmetric under a 180-degree turn
    b = np.zeros(1)
    cross, _ = conv2d(x, w, b)
    true, _ = conv2d_true(x, w, b)
    # cross-correlation: x[i, j] + 2 x[i, j+1]; convolution: 2 x[i+1, j] + ... flipped
    assert cross[0, 0, 0, 0] == 0 + 2 * 1
    assert true[0, 0, 0, 0] == 4 * 2 + 5 * 1  # flipped kernel [[0, 0], [2, 1]]
    assert not np.allclose(cross, true)


def test_conv2d_true_equals_cross_correlation_for_a_symmetric_kernel():
    x, _, b = _conv_inputs((1, 1, 5, 5), (1, 1, 3, 3), seed=8)
    w = np.array([[[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]]])
    assert rel_error(conv2d_true(x, w, b)[0], conv2d(x, w, b)[0]) < 1e-15


def test_conv2d_true_backward_gives_the_gradient_of_the_kernel_as_given():
    from engine.functional import conv2d_true, conv2d_true_backward

    rng = np.random.default_rng(9)
    arrays = {
        "x": rng.standard_normal((2, 2, 5, 4)),
        "w": rng.standard_normal((3, 2, 3, 2)),
        "b": rng.standard_normal(3),
    }
    check_layer(lambda x, w, b: conv2d_true(x, w, b, 1, 1), conv2d_true_backward, arrays)
