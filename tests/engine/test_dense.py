"""Tests for engine.functional.dense: the fully connected layer and flatten."""

from __future__ import annotations

import numpy as np
import pytest

from engine.functional import dense, dense_backward, flatten, flatten_backward
from tests.engine.gradcheck import check_layer, rel_error


def _dense_inputs(n, d, m, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((n, d)).astype(dtype),
        rng.standard_normal((m, d)).astype(dtype),  # PyTorch layout (M, D)
        rng.standard_normal(m).astype(dtype),
    )


@pytest.mark.parametrize(("n", "d", "m"), [(1, 1, 1), (4, 3, 5), (3, 7, 2), (8, 16, 10)])
def test_dense_backward_matches_finite_differences(n, d, m):
    x, w, b = _dense_inputs(n, d, m)
    check_layer(dense, dense_backward, {"x": x, "w": w, "b": b})


def test_dense_is_x_times_w_transposed_plus_b():
    x, w, b = _dense_inputs(3, 4, 2, seed=1)
    out, _ = dense(x, w, b)
    want = np.array(
        [[sum(x[i, k] * w[j, k] for k in range(4)) + b[j] for j in range(2)] for i in range(3)]
    )
    assert out.shape == (3, 2)
    assert rel_error(out, want) < 1e-15


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_keeps_the_input_dtype_forward_and_backward(dtype):
    x, w, b = _dense_inputs(3, 4, 5, dtype=dtype)
    out, cache = dense(x, w, b)
    assert out.dtype == dtype
    dx, dw, db = dense_backward(np.ones(out.shape, dtype=dtype), cache)
    assert dx.dtype == dw.dtype == db.dtype == dtype
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, b.shape)


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (3, 2, 3, 4)])
def test_flatten_backward_matches_finite_differences(shape):
    x = np.random.default_rng(2).standard_normal(shape)
    check_layer(flatten, flatten_backward, {"x": x})


def test_flatten_is_row_major_channel_then_height_then_width():
    x = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    out, cache = flatten(x)
    assert out.shape == (2, 12)
    np.testing.assert_array_equal(out[1], np.arange(12, 24))
    np.testing.assert_array_equal(flatten_backward(out, cache), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flatten_keeps_the_input_dtype_forward_and_backward(dtype):
    out, cache = flatten(np.zeros((2, 3, 4), dtype=dtype))
    assert out.dtype == dtype
    assert flatten_backward(np.ones((2, 12), dtype=dtype), cache).dtype == dtype
