"""The lecture's worked examples (lecture-cnn-rnn-lstm.zh.txt) as tests: output
sizes, the 5x5 binary image, pooling deltas, "A touches C with weight B", and the
explain functions that break one number into its terms."""

from __future__ import annotations

import numpy as np
import pytest

from engine.functional import (
    avg_pool2d,
    avg_pool2d_backward,
    conv2d,
    conv2d_backward,
    conv_output_shape,
    dense,
    dense_backward,
    explain_avg_pool,
    explain_conv_input_delta,
    explain_conv_output,
    explain_dense_input_delta,
    explain_max_pool,
    explain_pool_input_delta,
    explain_pool_output,
    explain_pool_routing,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_mask,
    sigmoid,
    sigmoid_backward,
)

IMAGE = np.array(
    [
        [1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0],
    ],
    dtype=np.float64,
)
KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)

# The lecture's max-pooling figure: 2x2 windows, the top-left one pools to 6.
SIX = np.array(
    [
        [1, 1, 2, 4],
        [5, 6, 7, 8],
        [3, 2, 1, 0],
        [1, 2, 3, 4],
    ],
    dtype=np.float64,
)


def _rng_conv(x_shape, w_shape, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal(x_shape),
        rng.standard_normal(w_shape),
        rng.standard_normal(w_shape[0]),
    )


# ------------------------------------------------------------------ output sizes


@pytest.mark.parametrize(("m", "n", "f"), [(5, 5, 3), (28, 28, 5), (7, 4, 2), (6, 9, 6), (3, 8, 1)])
def test_valid_convolution_output_is_m_minus_f_plus_1_by_n_minus_f_plus_1(m, n, f):
    x, w, b = _rng_conv((1, 1, m, n), (1, 1, f, f))
    out, _ = conv2d(x, w, b)
    assert out.shape[2:] == (m - f + 1, n - f + 1)


@pytest.mark.parametrize(
    ("m", "f", "p", "s"),
    [
        (5, 3, 1, 1),
        (7, 3, 0, 2),
        (8, 3, 1, 2),
        (32, 5, 2, 1),
        (10, 4, 2, 3),
        (6, 5, 0, 3),
        (3, 5, 1, 1),
    ],
)
def test_padded_strided_output_is_floor_of_m_plus_2p_minus_f_over_s_plus_1(m, f, p, s):
    want = (m + 2 * p - f) // s + 1
    assert conv_output_shape((1, 1, m, m), (1, 1, f, f), s, p)[2:] == (want, want)
    x, w, b = _rng_conv((1, 1, m, m), (1, 1, f, f))
    assert conv2d(x, w, b, s, p)[0].shape == (1, 1, want, want)


def test_each_kernel_gives_one_output_channel():
    x, w, b = _rng_conv((2, 3, 6, 6), (5, 3, 3, 3))
    assert conv2d(x, w, b)[0].shape == (2, 5, 4, 4)


# ------------------------------------------------------------ the 5x5 binary image


def test_binary_image_cross_correlated_with_the_x_kernel():
    out, _ = conv2d(IMAGE[None, None], KERNEL[None, None], np.zeros(1))
    np.testing.assert_array_equal(out[0, 0], [[4, 3, 4], [2, 4, 3], [2, 3, 4]])


def test_binary_image_output_value_explained_as_window_times_kernel():
    e = explain_conv_output(IMAGE[None, None], KERNEL[None, None], np.zeros(1), (0, 0, 1, 0))
    assert e.total == 2.0
    assert len(e.terms) == 9
    # window rows 1-3, cols 0-2 = [[0,1,1],[0,0,1],[0,0,1]]: the two right corners hit
    assert [t.product for t in e.terms] == [0, 0, 1, 0, 0, 0, 0, 0, 1]
    for t in e.terms:
        (xf, wf) = t.factors
        assert t.product == xf.value * wf.value
        assert xf.value == IMAGE[xf.index[2], xf.index[3]]
        assert wf.value == KERNEL[wf.index[2], wf.index[3]]


# ------------------------------------------------------------------ pooling deltas


def test_max_pool_of_the_six_example():
    out, cache = max_pool2d(SIX[None, None], 2)
    np.testing.assert_array_equal(out[0, 0], [[6, 8], [3, 4]])
    mask = max_pool2d_mask(cache)[0, 0]
    np.testing.assert_array_equal(mask, [[0, 0, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]])


def test_max_pool_delta_x_goes_to_the_six_and_zero_to_its_three_neighbours():
    _, cache = max_pool2d(SIX[None, None], 2)
    x = 0.37
    dout = np.zeros((1, 1, 2, 2))
    dout[0, 0, 0, 0] = x  # the delta of the pooled 6
    dx = max_pool2d_backward(dout, cache)[0, 0]
    np.testing.assert_array_equal(dx[:2, :2], [[0, 0], [0, x]])
    assert np.count_nonzero(dx) == 1


def test_max_pool_every_window_sends_its_delta_to_its_own_maximum():
    _, cache = max_pool2d(SIX[None, None], 2)
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = max_pool2d_backward(dout, cache)[0, 0]
    np.testing.assert_array_equal(dx, [[0, 0, 0, 0], [0, 1, 0, 2], [3, 0, 0, 0], [0, 0, 0, 4]])


@pytest.mark.parametrize(("size", "area"), [(2, 4), (3, 9), ((2, 3), 6)])
def test_average_pool_delta_is_x_over_the_area_at_every_position(size, area):
    x_in = np.random.default_rng(1).standard_normal((1, 1, 6, 6))
    out, cache = avg_pool2d(x_in, size)
    x = 0.9
    dx = avg_pool2d_backward(np.full(out.shape, x), cache)
    kh, kw = (size, size) if isinstance(size, int) else size
    covered = dx[0, 0, : out.shape[2] * kh, : out.shape[3] * kw]
    np.testing.assert_allclose(covered, x / area, rtol=1e-15)
    assert np.all(dx[0, 0, out.shape[2] * kh :, :] == 0)  # rows no window reaches


# ----------------------------------------------- convolution deltas: A touches C with B


def test_corner_pixel_delta_has_one_term_per_kernel():
    x, w, b = _rng_conv((1, 2, 5, 5), (3, 2, 3, 3))
    out, cache = conv2d(x, w, b)
    dout = np.random.default_rng(2).standard_normal(out.shape)
    dx, _, _ = conv2d_backward(dout, cache)
    e = explain_conv_input_delta(dout, w, (0, 1, 0, 0), x.shape)
    assert len(e.terms) == 3  # one output per kernel: the top-left one
    assert [t.factors[0].index for t in e.terms] == [(0, f, 0, 0) for f in range(3)]
    assert [t.factors[1].index for t in e.terms] == [(f, 1, 0, 0) for f in range(3)]
    assert e.total == pytest.approx(dx[0, 1, 0, 0], rel=1e-13)


def test_corner_pixel_delta_is_the_corner_output_delta_times_the_corner_weight():
    x, w, b = _rng_conv((1, 1, 5, 5), (1, 1, 3, 3), seed=3)
    out, cache = conv2d(x, w, b)
    dout = np.random.default_rng(4).standard_normal(out.shape)
    dx, _, _ = conv2d_backward(dout, cache)
    top_left = explain_conv_input_delta(dout, w, (0, 0, 0, 0), x.shape)
    assert len(top_left.terms) == 1
    assert top_left.total == dout[0, 0, 0, 0] * w[0, 0, 0, 0] == dx[0, 0, 0, 0]
    bottom_right = explain_conv_input_delta(dout, w, (0, 0, 4, 4), x.shape)
    assert len(bottom_right.terms) == 1
    assert bottom_right.total == dout[0, 0, 2, 2] * w[0, 0, 2, 2] == dx[0, 0, 4, 4]


def test_pixel_beside_the_corner_touches_two_outputs_with_two_weights():
    # The lecture's second figure: A affects D with weight C and E with weight B.
    x, w, b = _rng_conv((1, 1, 3, 3), (1, 1, 2, 2), seed=5)
    out, cache = conv2d(x, w, b)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    e = explain_conv_input_delta(dout, w, (0, 0, 0, 1), x.shape)
    pairs = {(t.factors[0].index, t.factors[1].index) for t in e.terms}
    assert pairs == {((0, 0, 0, 0), (0, 0, 0, 1)), ((0, 0, 0, 1), (0, 0, 0, 0))}
    want = dout[0, 0, 0, 0] * w[0, 0, 0, 1] + dout[0, 0, 0, 1] * w[0, 0, 0, 0]
    assert e.total == pytest.approx(want, rel=1e-15)
    assert e.total == pytest.approx(conv2d_backward(dout, cache)[0][0, 0, 0, 1], rel=1e-13)


def test_centre_pixel_delta_sums_the_nine_outputs_it_touched():
    x, w, b = _rng_conv((1, 1, 5, 5), (1, 1, 3, 3), seed=7)
    out, cache = conv2d(x, w, b)
    dout = np.random.default_rng(8).standard_normal(out.shape)
    e = explain_conv_input_delta(dout, w, (0, 0, 2, 2), x.shape)
    assert len(e.terms) == 9
    for t in e.terms:
        (_, _, i, j), (_, _, u, v) = t.factors[0].index, t.factors[1].index
        assert (i + u, j + v) == (2, 2)  # output (i, j) saw the pixel through weight (u, v)
        assert t.product == t.factors[0].value * t.factors[1].value
    want = sum(dout[0, 0, i, j] * w[0, 0, 2 - i, 2 - j] for i in range(3) for j in range(3))
    assert e.total == pytest.approx(want, rel=1e-14)
    assert e.total == pytest.approx(conv2d_backward(dout, cache)[0][0, 0, 2, 2], rel=1e-13)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride", "padding"),
    [
        ((1, 1, 5, 5), (1, 1, 3, 3), 1, 0),
        ((2, 2, 6, 5), (3, 2, 3, 2), 1, 1),
        ((1, 2, 7, 7), (2, 2, 3, 3), 2, 1),
        ((1, 1, 8, 7), (2, 1, 2, 3), (3, 2), (2, 0)),
    ],
)
def test_every_pixel_delta_explanation_totals_conv2d_backward_dx(x_shape, w_shape, stride, padding):
    x, w, b = _rng_conv(x_shape, w_shape, seed=9)
    out, cache = conv2d(x, w, b, stride, padding)
    dout = np.random.default_rng(10).standard_normal(out.shape)
    dx, _, _ = conv2d_backward(dout, cache)
    totals = np.zeros_like(dx)
    for idx in np.ndindex(*x_shape):
        totals[idx] = explain_conv_input_delta(dout, w, idx, x_shape, stride, padding).total
    np.testing.assert_allclose(totals, dx, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------- explain: conv outputs


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 1), (2, 2), ((2, 1), (1, 0))])
def test_conv_output_explanation_totals_the_output_value(stride, padding):
    x, w, b = _rng_conv((2, 2, 6, 5), (3, 2, 3, 3), seed=11)
    out, _ = conv2d(x, w, b, stride, padding)
    for idx in np.ndindex(*out.shape):
        e = explain_conv_output(x, w, b, idx, stride, padding)
        assert len(e.terms) == 2 * 3 * 3
        assert e.constant is not None and e.constant.value == b[idx[1]]
        assert e.total == pytest.approx(out[idx], rel=1e-12, abs=1e-12)


def test_conv_output_explanation_shows_padding_as_index_none_and_value_zero():
    x, w, b = _rng_conv((1, 1, 4, 4), (1, 1, 3, 3), seed=12)
    out, _ = conv2d(x, w, b, 1, 1)
    e = explain_conv_output(x, w, b, (0, 0, 0, 0), 1, 1)
    padded = [t for t in e.terms if t.factors[0].index is None]
    assert len(padded) == 5  # the top row and left column of the 3x3 window
    assert all(t.factors[0].value == 0.0 and t.product == 0.0 for t in padded)
    inside = [t.factors[0].index for t in e.terms if t.factors[0].index is not None]
    assert sorted(inside) == [(0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 0), (0, 0, 1, 1)]
    assert e.total == pytest.approx(out[0, 0, 0, 0], rel=1e-13)


# ---------------------------------------------------------- explain: pooling


POOLS = [(2, None), (3, 1), ((2, 3), (1, 2)), (3, 2)]


@pytest.mark.parametrize(("size", "stride"), POOLS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_explanations_total_the_forward_value_and_backward_dx(kind, size, stride):
    rng = np.random.default_rng(13)
    x = rng.permutation(2 * 2 * 7 * 7).reshape(2, 2, 7, 7) * 0.1
    forward, backward = (
        (max_pool2d, max_pool2d_backward)
        if kind == "max"
        else (
            avg_pool2d,
            avg_pool2d_backward,
        )
    )
    out, cache = forward(x, size, stride)
    dout = rng.standard_normal(out.shape)
    dx = backward(dout, cache)
    routed = np.zeros_like(dx)
    for idx in np.ndindex(*out.shape):
        e = explain_pool_output(x, cache, idx)
        assert e.total == pytest.approx(out[idx], rel=1e-13)
        weights = [t.factors[1].value for t in e.terms]
        if kind == "max":
            assert sorted(weights)[-1] == 1.0 and sum(weights) == 1.0
        else:
            assert weights == pytest.approx([1.0 / len(weights)] * len(weights))
        route = explain_pool_routing(dout, cache, idx)
        assert route.total == pytest.approx(dout[idx], rel=1e-13)
        for t in route.terms:
            routed[t.factors[1].index] += t.product
    np.testing.assert_allclose(routed, dx, rtol=1e-13, atol=1e-15)
    for idx in np.ndindex(*x.shape):
        e = explain_pool_input_delta(dout, cache, idx)
        assert e.total == pytest.approx(dx[idx], rel=1e-13, abs=1e-15)


def test_max_pool_explanation_of_the_six_weights_only_the_six():
    out, cache = max_pool2d(SIX[None, None], 2)
    e = explain_max_pool(SIX[None, None], cache, (0, 0, 0, 0))
    assert e.total == 6.0
    assert [(t.factors[0].value, t.factors[1].value) for t in e.terms] == [
        (1.0, 0.0),
        (1.0, 0.0),
        (5.0, 0.0),
        (6.0, 1.0),
    ]
    dout = np.zeros(out.shape)
    dout[0, 0, 0, 0] = 0.37
    route = explain_pool_routing(dout, cache, (0, 0, 0, 0))
    assert [t.product for t in route.terms] == [0.0, 0.0, 0.0, 0.37]
    assert [t.factors[1].index for t in route.terms] == [
        (0, 0, 0, 0),
        (0, 0, 0, 1),
        (0, 0, 1, 0),
        (0, 0, 1, 1),
    ]


def test_avg_pool_explanation_weights_every_value_by_one_over_the_area():
    out, cache = avg_pool2d(SIX[None, None], 2)
    e = explain_avg_pool(SIX[None, None], cache, (0, 0, 0, 0))
    assert [t.factors[1].value for t in e.terms] == [0.25] * 4
    assert e.total == out[0, 0, 0, 0] == (1 + 1 + 5 + 6) / 4


# ---------------------------------------------------------- explain: dense deltas


def test_dense_input_delta_explanation_totals_dense_backward_dx():
    rng = np.random.default_rng(14)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    out, cache = dense(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, _, _ = dense_backward(dout, cache)
    for n, j in np.ndindex(3, 4):
        e = explain_dense_input_delta(dout, w, (n, j))
        assert len(e.terms) == 5  # one per output neuron it feeds
        assert e.total == pytest.approx(dx[n, j], rel=1e-13)


def test_dense_input_delta_with_act_grad_is_the_delta_times_the_slope():
    rng = np.random.default_rng(15)
    z = rng.standard_normal((2, 3))
    a, s_cache = sigmoid(z)
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
    out, cache = dense(a, w, b)
    dout = rng.standard_normal(out.shape)
    da, _, _ = dense_backward(dout, cache)
    dz = sigmoid_backward(da, s_cache)
    slope = a * (1 - a)
    for n, j in np.ndindex(2, 3):
        e = explain_dense_input_delta(dout, w, (n, j), act_grad=slope)
        assert e.scale is not None and e.scale.value == slope[n, j]
        assert e.total == pytest.approx(da[n, j] * slope[n, j], rel=1e-13)
        assert e.total == pytest.approx(dz[n, j], rel=1e-13)
