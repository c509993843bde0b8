"""Tests for engine.functional.pool: gradients, the loop reference (ties
included), the tie rule, the mask and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from engine.functional import (
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_backward_naive,
    avg_pool2d_naive,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_backward_naive,
    max_pool2d_mask,
    max_pool2d_naive,
    pool_output_shape,
)
from tests.engine.gradcheck import check_layer, rel_error

# (x shape, size, stride): non-overlapping, overlapping (stride < size), gaps
# (stride > size), rectangular windows and (h, w) pairs.
GRAD_CASES = [
    ((2, 3, 6, 6), 2, None),
    ((1, 2, 7, 7), 3, 1),
    ((2, 1, 9, 8), 3, 2),
    ((1, 2, 6, 9), (2, 3), (1, 2)),
    ((1, 1, 8, 7), 2, 3),
    ((1, 2, 5, 5), 5, None),
    ((3, 1, 4, 6), (1, 2), None),
]


def _distinct(shape, seed=0):
    """float64 values at least 0.01 apart, so no window has a tie within eps."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))) * 0.01 - 1.0).reshape(shape)


@pytest.mark.parametrize(("x_shape", "size", "stride"), GRAD_CASES)
def test_max_pool2d_backward_matches_finite_differences(x_shape, size, stride):
    check_layer(
        lambda x: max_pool2d(x, size, stride), max_pool2d_backward, {"x": _distinct(x_shape)}
    )


@pytest.mark.parametrize(("x_shape", "size", "stride"), GRAD_CASES)
def test_avg_pool2d_backward_matches_finite_differences(x_shape, size, stride):
    x = np.random.default_rng(1).standard_normal(x_shape)
    check_layer(lambda x: avg_pool2d(x, size, stride), avg_pool2d_backward, {"x": x})


def _random_pool_case(rng):
    """A random pooling whose window fits the input (drawn again until it does)."""
    while True:
        n, c = (int(v) for v in rng.integers(1, 4, size=2))
        h, w = (int(v) for v in rng.integers(2, 10, size=2))
        size = tuple(int(v) for v in rng.integers(1, 5, size=2))
        stride = None if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 4, size=2))
        if size[0] <= h and size[1] <= w:
            return (n, c, h, w), size, stride


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("seed", range(20))
def test_max_pool2d_fast_matches_naive_forward_backward_and_mask(seed, ties):
    rng = np.random.default_rng(seed)
    shape, size, stride = _random_pool_case(rng)
    x = rng.integers(-2, 3, size=shape).astype(np.float64) if ties else rng.standard_normal(shape)
    out, cache = max_pool2d(x, size, stride)
    ref, argmax = max_pool2d_naive(x, size, stride)
    assert out.shape == ref.shape == pool_output_shape(shape, size, stride)
    np.testing.assert_array_equal(out, ref)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        max_pool2d_backward(dout, cache),
        max_pool2d_backward_naive(dout, argmax, shape),
        rtol=1e-14,
        atol=1e-14,
    )
    np.testing.assert_array_equal(
        max_pool2d_mask(cache), max_pool2d_backward_naive(np.ones(out.shape), argmax, shape)
    )


@pytest.mark.parametrize("integer_valued", [False, True], ids=["real", "integer"])
@pytest.mark.parametrize("seed", range(20))
def test_avg_pool2d_fast_matches_naive_forward_and_backward(seed, integer_valued):
    rng = np.random.default_rng(100 + seed)
    shape, size, stride = _random_pool_case(rng)
    if integer_valued:
        x = rng.integers(-2, 3, size=shape).astype(np.float64)
    else:
        x = rng.standard_normal(shape)
    out, cache = avg_pool2d(x, size, stride)
    assert rel_error(out, avg_pool2d_naive(x, size, stride)) < 1e-14
    dout = rng.standard_normal(out.shape)
    want = avg_pool2d_backward_naive(dout, shape, size, stride)
    assert rel_error(avg_pool2d_backward(dout, cache), want) < 1e-14


def test_max_pool2d_tie_goes_to_the_first_maximum_in_row_major_order():
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    out, cache = max_pool2d(x, 2)
    assert out[0, 0, 0, 0] == 3.0
    dx = max_pool2d_backward(np.full((1, 1, 1, 1), 5.0), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 5.0], [0.0, 0.0]])


def test_max_pool2d_all_equal_window_routes_to_the_top_left():
    out, cache = max_pool2d(np.zeros((1, 1, 3, 3)), 3)
    dx = max_pool2d_backward(np.ones((1, 1, 1, 1)), cache)
    assert dx[0, 0, 0, 0] == 1.0 and dx.sum() == 1.0


def test_max_pool2d_overlapping_windows_sum_deltas_at_a_shared_maximum():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 9.0  # the maximum of all four 2x2 windows (stride 1)
    out, cache = max_pool2d(x, 2, 1)
    np.testing.assert_array_equal(out[0, 0], [[9.0, 9.0], [9.0, 9.0]])
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = max_pool2d_backward(dout, cache)
    assert dx[0, 0, 1, 1] == 10.0 and dx.sum() == 10.0
    assert max_pool2d_mask(cache)[0, 0, 1, 1] == 4.0


@pytest.mark.parametrize(
    ("shape", "size", "stride"),
    [
        ((2, 2, 6, 6), 2, None),
        ((1, 2, 6, 9), (2, 3), (2, 3)),
        ((1, 1, 3, 3), 2, 1),  # overlapping windows
        ((1, 2, 7, 7), 3, 2),
        ((1, 1, 8, 7), 2, 3),  # gaps between windows
    ],
)
def test_max_pool2d_backward_is_unchanged_by_asking_for_the_mask_first(shape, size, stride):
    x = _distinct(shape, seed=6)
    out, cache = max_pool2d(x, size, stride)
    dout = np.random.default_rng(7).standard_normal(out.shape)
    want = max_pool2d_backward(dout, max_pool2d(x, size, stride)[1])
    mask = max_pool2d_mask(cache).copy()
    np.testing.assert_array_equal(max_pool2d_backward(dout, cache), want)
    np.testing.assert_array_equal(max_pool2d_mask(cache), mask)


def test_max_pool2d_mask_marks_one_position_per_window_without_overlap():
    x = _distinct((2, 3, 6, 8), seed=3)
    _, cache = max_pool2d(x, 2)
    mask = max_pool2d_mask(cache)
    assert set(np.unique(mask)) == {0.0, 1.0}
    windows = mask.reshape(2, 3, 3, 2, 4, 2).sum(axis=(3, 5))
    np.testing.assert_array_equal(windows, np.ones((2, 3, 3, 4)))


def test_pooling_defaults_stride_to_the_window_size():
    x = _distinct((1, 1, 6, 6), seed=4)
    np.testing.assert_array_equal(max_pool2d(x, 3)[0], max_pool2d(x, 3, 3)[0])
    np.testing.assert_array_equal(avg_pool2d(x, 3)[0], avg_pool2d(x, 3, 3)[0])
    assert max_pool2d(x)[0].shape == (1, 1, 3, 3)  # default size 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pooling_keeps_the_input_dtype_forward_and_backward(dtype):
    x = _distinct((2, 2, 6, 6), seed=5).astype(dtype)
    for forward, backward in ((max_pool2d, max_pool2d_backward), (avg_pool2d, avg_pool2d_backward)):
        out, cache = forward(x, 3, 2)
        assert out.dtype == dtype
        assert backward(np.ones(out.shape, dtype=dtype), cache).dtype == dtype
    assert max_pool2d_mask(max_pool2d(x, 2)[1]).dtype == dtype


def test_avg_pool2d_of_a_constant_is_the_constant():
    out, _ = avg_pool2d(np.full((1, 2, 6, 6), 2.5), (2, 3))
    np.testing.assert_array_equal(out, np.full((1, 2, 3, 2), 2.5))


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ([[1.0, np.nan], [3.0, 4.0]], [[0, 1], [0, 0]]),
        ([[np.nan, np.nan], [3.0, 4.0]], [[0, 1], [0, 0]]),
        ([[1.0, np.nan], [np.nan, 4.0]], [[0, 0], [1, 0]]),
    ],
)
def test_max_pool_nan_pools_to_nan_and_routes_its_delta_like_pytorch(window, expected):
    # PyTorch (checked with 2.13.0) sends the delta to the last NaN of the window.
    x = np.array(window)[None, None]
    out, cache = max_pool2d(x, 2, check_finite=False)
    assert np.isnan(out).all()
    np.testing.assert_array_equal(max_pool2d_backward(np.ones_like(out), cache)[0, 0], expected)


def test_max_pool_functions_refuse_an_avg_pool_cache():
    _, cache = avg_pool2d(np.ones((1, 1, 2, 2)), 2)
    with pytest.raises(ValueError, match="needs the cache of max_pool2d"):
        max_pool2d_backward(np.ones((1, 1, 1, 1)), cache)
    with pytest.raises(ValueError, match="needs the cache of max_pool2d"):
        max_pool2d_mask(cache)
