"""Tests for engine.functional.losses: softmax cross-entropy and mean squared error."""

from __future__ import annotations

import numpy as np
import pytest

from engine.functional import mse, mse_onehot, one_hot, softmax, softmax_cross_entropy
from tests.engine.gradcheck import check_grad, rel_error

STRICT = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}


def _logsumexp_reference(z, y):
    """Mean over rows of logsumexp(z) - z[label], in float64 by hand."""
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=1)
    lse = m + np.log(np.sum(np.exp(z - m[:, None]), axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


@pytest.mark.parametrize(
    ("n", "k", "scale"), [(1, 2, 1.0), (4, 3, 1.0), (6, 10, 3.0), (5, 4, 20.0)]
)
def test_softmax_cross_entropy_gradient_matches_finite_differences(n, k, scale):
    rng = np.random.default_rng(n * k)
    z = rng.standard_normal((n, k)) * scale
    y = rng.integers(0, k, size=n)
    _, dz = softmax_cross_entropy(z, y)
    check_grad(lambda: softmax_cross_entropy(z, y)[0], {"logits": z}, {"logits": dz})


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2, 2)])
def test_mse_gradient_matches_finite_differences(shape):
    rng = np.random.default_rng(len(shape))
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    _, dpred = mse(pred, target)
    check_grad(lambda: mse(pred, target)[0], {"pred": pred}, {"pred": dpred})


@pytest.mark.parametrize(("n", "k"), [(1, 2), (4, 3), (7, 10)])
def test_mse_onehot_gradient_matches_finite_differences(n, k):
    rng = np.random.default_rng(10 * n + k)
    pred, y = rng.random((n, k)), rng.integers(0, k, size=n)
    _, dpred = mse_onehot(pred, y)
    check_grad(lambda: mse_onehot(pred, y)[0], {"pred": pred}, {"pred": dpred})


def test_mse_onehot_is_mse_against_one_hot_rows_over_all_n_times_k():
    pred = np.array([[0.9, 0.2, 0.1], [0.3, 0.6, 0.5]])
    y = np.array([0, 2])
    t = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(one_hot(y, 3), t)
    loss, dpred = mse_onehot(pred, y)
    # (0.01 + 0.04 + 0.01 + 0.09 + 0.36 + 0.25) / 6
    assert loss == pytest.approx(0.76 / 6, abs=1e-15)
    np.testing.assert_allclose(dpred, 2 * (pred - t) / 6, atol=1e-15)
    assert mse_onehot(pred, y)[0] == mse(pred, t)[0]


@pytest.mark.parametrize(
    ("pred", "labels", "text"),
    [
        (np.zeros((2, 3)), np.array([0, 3]), r"labels must be in \[0, 2\]"),
        (np.zeros((2, 3)), np.array([0]), r"shape \(2,\)"),
        (np.zeros((2, 3)), np.array([0.5, 1]), "integer class indices"),
        (np.zeros(3), np.array([0]), "2-D"),
    ],
)
def test_mse_onehot_refuses_bad_labels_or_outputs(pred, labels, text):
    with pytest.raises(ValueError, match=text):
        mse_onehot(pred, labels)


def test_one_hot_refuses_labels_that_are_not_a_vector():
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        one_hot(np.zeros((2, 2), dtype=int), 3)


def test_softmax_cross_entropy_matches_minus_log_softmax_for_ordinary_logits():
    rng = np.random.default_rng(7)
    z = rng.standard_normal((8, 5)) * 2
    y = rng.integers(0, 5, size=8)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss, dz = softmax_cross_entropy(z, y)
    assert abs(loss - float(np.mean(-np.log(p[np.arange(8), y])))) < 1e-14
    onehot = np.eye(5)[y]
    assert rel_error(dz, (p - onehot) / 8) < 1e-14
    assert rel_error(softmax(z), p) < 1e-14


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_is_stable_for_logits_of_1e4(dtype):
    z = np.array([[1e4, 0.0, -1e4], [1e4, 1e4 - 1.0, 5e3], [-1e4, 1e4, 1e4]], dtype=dtype)
    y = np.array([1, 0, 2])
    with np.errstate(**STRICT):
        loss, dz = softmax_cross_entropy(z, y)
    want = _logsumexp_reference(z, y)  # (1e4 + 0 + log(1 + e^-1) + log 2) / 3
    assert np.isfinite(loss) and np.all(np.isfinite(dz))
    tol = 1e-6 if dtype == np.float32 else 1e-12  # the loss is computed in the logits' dtype
    assert abs(loss - want) <= tol * abs(want)
    assert abs(want - (1e4 + np.log1p(np.exp(-1.0)) + np.log(2.0)) / 3) < 1e-9
    np.testing.assert_allclose(dz.sum(axis=1), 0.0, atol=1e-6)


def test_softmax_cross_entropy_of_a_confident_right_answer_is_zero():
    loss, dz = softmax_cross_entropy(np.array([[1e4, 0.0]]), np.array([0]))
    assert loss == 0.0
    np.testing.assert_array_equal(dz, [[0.0, 0.0]])


def test_softmax_cross_entropy_accepts_integer_valued_float_labels():
    z = np.random.default_rng(8).standard_normal((3, 4))
    a, _ = softmax_cross_entropy(z, np.array([0, 3, 1]))
    b, _ = softmax_cross_entropy(z, np.array([0.0, 3.0, 1.0]))
    assert a == b


def test_mse_is_the_mean_over_every_element():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    target = np.array([[1.0, 0.0], [0.0, 4.0]])
    loss, dpred = mse(pred, target)
    assert loss == (0 + 4 + 9 + 0) / 4
    np.testing.assert_array_equal(dpred, [[0.0, 1.0], [1.5, 0.0]])


def test_mse_of_a_diverged_output_is_inf_and_says_so_without_a_warning():
    # ~1e21 is where a diverged run's outputs end up: the square passes float32's range.
    pred = np.full((1, 3), 1e21, np.float32)
    with np.errstate(over="raise"):  # the loss itself opts out of the overflow warning
        loss, dpred = mse(pred, np.zeros_like(pred))
    assert loss == float("inf")
    assert np.isfinite(dpred).all() and dpred.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_keep_the_input_dtype(dtype):
    z = np.random.default_rng(9).standard_normal((4, 3)).astype(dtype)
    loss, dz = softmax_cross_entropy(z, np.array([0, 1, 2, 0]))
    assert isinstance(loss, float) and dz.dtype == dtype
    loss, dpred = mse(z, np.zeros((4, 3), dtype=dtype))
    assert isinstance(loss, float) and dpred.dtype == dtype
    assert softmax(z).dtype == dtype


@pytest.mark.parametrize("dtype", [np.uint8, np.uint64, np.int32, np.int64])
def test_cross_entropy_takes_labels_of_any_integer_type(dtype):
    z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], np.float32)
    want = softmax_cross_entropy(z, np.array([1, 2]))
    got = softmax_cross_entropy(z, np.array([1, 2], dtype=dtype))
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])
