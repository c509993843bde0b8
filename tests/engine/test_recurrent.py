"""engine.functional's recurrent core: RNN, LSTM, BiLSTM, heads and clipping.

Finite-difference gradient checks in float64, the equations written out by
hand for a small case, the stepped API against the whole-sequence one, and the
explain functions adding up to the recorded values.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.functional import (
    bilstm,
    bilstm_backward,
    clip_grad_norm,
    clip_grad_norm_backward,
    explain_lstm_cell,
    explain_lstm_cell_delta,
    explain_lstm_gate,
    explain_lstm_hidden,
    explain_rnn_hidden,
    global_norm,
    head_many_to_many,
    head_many_to_many_backward,
    head_many_to_one,
    head_many_to_one_backward,
    lstm,
    lstm_backward,
    lstm_backward_finish,
    lstm_backward_start,
    lstm_backward_step,
    lstm_backward_view,
    lstm_start,
    lstm_step,
    lstm_view,
    rnn,
    rnn_backward,
    rnn_backward_view,
    rnn_view,
    sequence_loss,
)
from tests.engine.gradcheck import check_grad, check_layer, rel_error
from tests.engine.recurrent_cases import LSTM_KEYS, RNN_KEYS

BI_WEIGHTS = ("w_ih", "w_hh", "b_ih", "b_hh")
BI_KEYS = ("dx", "dh0", "dc0", *(f"d{k}" for k in BI_WEIGHTS)) + tuple(
    f"d{k}_reverse" for k in BI_WEIGHTS
)


def _arrays(n, t, d, h, gates, seed=0, dtype=np.float64, states=("h0",)):
    rng = np.random.default_rng(seed)
    out = {"x": rng.standard_normal((n, t, d))}
    for s in states:
        out[s] = rng.standard_normal((n, h)) * 0.5
    out["w_ih"] = rng.standard_normal((gates * h, d)) * 0.5
    out["w_hh"] = rng.standard_normal((gates * h, h)) * 0.5
    out["b_ih"] = rng.standard_normal(gates * h) * 0.3
    out["b_hh"] = rng.standard_normal(gates * h) * 0.3
    return {k: v.astype(dtype) for k, v in out.items()}


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------ gradient checks


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize(("n", "t", "d", "h"), [(1, 1, 1, 1), (2, 4, 3, 3), (3, 6, 2, 4)])
def test_rnn_backward_matches_finite_differences(n, t, d, h, nonlinearity):
    arrays = _arrays(n, t, d, h, 1, seed=n + t)
    check_layer(
        lambda **a: rnn(**a, nonlinearity=nonlinearity),
        lambda dout, cache: tuple(rnn_backward(dout, cache)[k] for k in RNN_KEYS),
        arrays,
    )


@pytest.mark.parametrize(("n", "t", "d", "h"), [(1, 1, 1, 1), (2, 4, 3, 3), (3, 5, 2, 2)])
def test_lstm_backward_matches_finite_differences(n, t, d, h):
    arrays = _arrays(n, t, d, h, 4, seed=t, states=("h0", "c0"))
    check_layer(
        lstm, lambda dout, cache: tuple(lstm_backward(dout, cache)[k] for k in LSTM_KEYS), arrays
    )


@pytest.mark.parametrize(("n", "t", "d", "h"), [(1, 1, 2, 1), (2, 4, 2, 2)])
def test_bilstm_backward_matches_finite_differences(n, t, d, h):
    rng = np.random.default_rng(5)
    arrays = {"x": rng.standard_normal((n, t, d))}
    arrays["h0"] = rng.standard_normal((2, n, h)) * 0.5
    arrays["c0"] = rng.standard_normal((2, n, h)) * 0.5
    for suffix in ("", "_reverse"):
        arrays[f"w_ih{suffix}"] = rng.standard_normal((4 * h, d)) * 0.5
        arrays[f"w_hh{suffix}"] = rng.standard_normal((4 * h, h)) * 0.5
        arrays[f"b_ih{suffix}"] = rng.standard_normal(4 * h) * 0.3
        arrays[f"b_hh{suffix}"] = rng.standard_normal(4 * h) * 0.3
    check_layer(
        bilstm,
        lambda dout, cache: tuple(bilstm_backward(dout, cache)[k] for k in BI_KEYS),
        arrays,
    )


@pytest.mark.parametrize("bidirectional", [False, True])
def test_many_to_one_head_matches_finite_differences(bidirectional):
    rng = np.random.default_rng(3)
    arrays = {"hs": rng.standard_normal((3, 4, 6)), "w": rng.standard_normal((5, 6)),
              "b": rng.standard_normal(5)}  # fmt: skip
    check_layer(
        lambda **a: head_many_to_one(**a, bidirectional=bidirectional),
        head_many_to_one_backward,
        arrays,
    )


def test_many_to_many_head_matches_finite_differences():
    rng = np.random.default_rng(4)
    arrays = {"hs": rng.standard_normal((2, 5, 3)), "w": rng.standard_normal((4, 3)),
              "b": rng.standard_normal(4)}  # fmt: skip
    check_layer(head_many_to_many, head_many_to_many_backward, arrays)


@pytest.mark.parametrize(
    ("head", "loss"),
    [("one", "softmax_cross_entropy"), ("many", "softmax_cross_entropy"), ("many", "mse"),
     ("one", "mse")],
)  # fmt: skip
def test_head_with_its_loss_matches_finite_differences(head, loss):
    rng = np.random.default_rng(6)
    hs, w, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((2, 5)), rng.standard_normal(2)
    fwd, bwd = {
        "one": (head_many_to_one, head_many_to_one_backward),
        "many": (head_many_to_many, head_many_to_many_backward),
    }[head]
    shape = (3,) if head == "one" else (3, 4)
    if loss == "softmax_cross_entropy":
        target = rng.integers(0, 2, size=shape)
    else:
        target = rng.standard_normal((*shape, 2))

    def value():
        return sequence_loss(fwd(hs, w, b)[0], target, loss)[0]

    out, cache = fwd(hs, w, b)
    _, dout, _ = sequence_loss(out, target, loss)
    dhs, dw, db = bwd(dout, cache)
    check_grad(value, {"hs": hs, "w": w, "b": b}, {"hs": dhs, "w": dw, "b": db})


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clipping_backward_matches_finite_differences(max_norm):
    rng = np.random.default_rng(7)
    grads = {"a": rng.standard_normal((3, 2)), "b": rng.standard_normal(4)}
    r = {k: rng.standard_normal(g.shape) for k, g in grads.items()}

    def value():
        clipped, _ = clip_grad_norm(grads, max_norm)
        return sum(float(np.sum(clipped[k] * r[k])) for k in grads)

    _, cache = clip_grad_norm(grads, max_norm)
    check_grad(value, grads, clip_grad_norm_backward(r, cache))


def test_clipping_caps_the_global_norm_and_records_before_and_after():
    grads = {"w": np.array([[3.0, 0.0]]), "b": np.array([4.0])}  # global norm 5
    clipped, cache = clip_grad_norm(grads, 1.0)
    assert cache.norm_before == pytest.approx(5.0)
    assert cache.norm_after == pytest.approx(1.0, rel=1e-5)
    assert global_norm(clipped) == pytest.approx(cache.norm_after)
    np.testing.assert_allclose(clipped["w"], [[0.6, 0.0]], rtol=1e-5)  # direction kept
    same, info = clip_grad_norm(grads, 10.0)
    assert info.scale == 1.0 and info.norm_after == info.norm_before
    np.testing.assert_array_equal(same["b"], grads["b"])


# ------------------------------------------------------- the equations by hand


def test_lstm_is_the_lectures_equations_in_pytorchs_gate_order():
    a = _arrays(2, 3, 2, 2, 4, seed=9, states=("h0", "c0"))
    hs, _ = lstm(**a)
    h, c = a["h0"], a["c0"]
    for t in range(3):
        z = a["x"][:, t] @ a["w_ih"].T + a["b_ih"] + h @ a["w_hh"].T + a["b_hh"]
        i, f, g, o = (
            _sigmoid(z[:, 0:2]),
            _sigmoid(z[:, 2:4]),
            np.tanh(z[:, 4:6]),
            _sigmoid(z[:, 6:]),
        )
        c = f * c + i * g
        h = o * np.tanh(c)
        assert rel_error(hs[:, t], h) < 1e-14


def test_rnn_is_tanh_of_input_plus_recurrence():
    a = _arrays(2, 3, 2, 3, 1, seed=10)
    hs, _ = rnn(**a)
    h = a["h0"]
    for t in range(3):
        h = np.tanh(a["x"][:, t] @ a["w_ih"].T + a["b_ih"] + h @ a["w_hh"].T + a["b_hh"])
        assert rel_error(hs[:, t], h) < 1e-14


def test_bilstm_is_a_forward_and_a_reversed_lstm_concatenated():
    a = _arrays(2, 4, 3, 2, 4, seed=11)
    b = _arrays(2, 4, 3, 2, 4, seed=12)
    w = [a[k] for k in BI_WEIGHTS]
    wr = [b[k] for k in BI_WEIGHTS]
    hs, _ = bilstm(a["x"], None, None, *w, *wr)
    fwd, _ = lstm(a["x"], None, None, *w)
    bwd, _ = lstm(a["x"][:, ::-1], None, None, *wr)
    assert hs.shape == (2, 4, 4)
    np.testing.assert_array_equal(hs[:, :, :2], fwd)
    np.testing.assert_array_equal(hs[:, :, 2:], bwd[:, ::-1])


def test_float32_in_float32_out_and_dh_dc_per_step():
    a = _arrays(2, 5, 3, 4, 4, dtype=np.float32, states=("h0", "c0"))
    hs, cache = lstm(**a)
    grads = lstm_backward(np.ones_like(hs), cache)
    assert hs.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    assert grads["dh"].shape == grads["dc"].shape == (2, 5, 4)
    # the last step's dh is only the loss's: no step after it
    np.testing.assert_array_equal(grads["dh"][:, -1], np.ones((2, 4)))


def test_many_to_one_gradient_vanishes_in_a_small_weight_rnn():
    a = _arrays(1, 30, 2, 4, 1, seed=2)
    a["w_hh"] *= 0.2
    hs, cache = rnn(**a)
    dhs = np.zeros_like(hs)
    dhs[:, -1] = 1.0
    norms = np.linalg.norm(rnn_backward(dhs, cache)["dh"][0], axis=1)
    assert norms[0] < 1e-6 * norms[-1]


# ----------------------------------------------------- stepped == whole sequence


def test_stepped_lstm_gives_identical_numbers_and_views():
    a = _arrays(3, 6, 2, 5, 4, dtype=np.float32, states=("h0", "c0"))
    hs, full = lstm(**a)
    dhs = np.random.default_rng(1).standard_normal(hs.shape).astype(np.float32)
    want = lstm_backward(dhs, full)
    cache = lstm_start(**a)
    for t in range(6):
        lstm_step(cache, t)
        v = lstm_view(cache, t)
        np.testing.assert_array_equal(v["h"], hs[:, t])
        np.testing.assert_array_equal(v["c"], v["f"] * v["c_prev"] + v["i"] * v["g"])
        # c_t's two terms, recorded: the very products the step summed
        np.testing.assert_array_equal(v["fc"], v["f"] * v["c_prev"])
        np.testing.assert_array_equal(v["ig"], v["i"] * v["g"])
        np.testing.assert_array_equal(v["c"], v["fc"] + v["ig"])
        np.testing.assert_allclose(v["f"], _sigmoid(v["f_pre"]), rtol=1e-6, atol=1e-7)
    back = lstm_backward_start(dhs, cache)
    for t in reversed(range(6)):
        lstm_backward_step(cache, back, t)
        d = lstm_backward_view(back, t)
        np.testing.assert_array_equal(d["dh"], d["dh_out"] + d["dh_next"])
    got = lstm_backward_finish(cache, back)
    for k in LSTM_KEYS:
        np.testing.assert_array_equal(got[k], want[k])


def test_rnn_views_name_each_steps_tensors():
    a = _arrays(2, 3, 2, 3, 1, seed=3)
    hs, cache = rnn(**a)
    v = rnn_view(cache, 1)
    np.testing.assert_array_equal(v["h_prev"], hs[:, 0])
    np.testing.assert_array_equal(v["x"], a["x"][:, 1])
    np.testing.assert_array_equal(v["h"], np.tanh(v["pre"]))
    grads = rnn_backward(np.ones_like(hs), cache)
    assert set(RNN_KEYS) <= set(grads)


def test_rnn_backward_view_splits_dh_into_loss_and_next_step():
    a = _arrays(2, 3, 2, 3, 1, seed=4)
    from engine.functional import rnn_backward_finish, rnn_backward_start, rnn_backward_step

    hs, cache = rnn(**a)
    back = rnn_backward_start(np.ones_like(hs), cache)
    for t in reversed(range(3)):
        rnn_backward_step(cache, back, t)
    d = rnn_backward_view(back, 0)
    np.testing.assert_array_equal(d["dh"], d["dh_out"] + d["dh_next"])
    np.testing.assert_array_equal(rnn_backward_finish(cache, back)["dh0"], d["dh_prev"])


# ------------------------------------------------------------------- explain


def test_explain_gate_terms_add_up_to_the_recorded_gate():
    a = _arrays(2, 3, 3, 4, 4, seed=13, states=("h0", "c0"))
    _, cache = lstm(**a)
    v = lstm_view(cache, 2)
    for gate in "ifgo":
        e = explain_lstm_gate(v["x"], v["h_prev"], a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"],
                              gate, (1, 2))  # fmt: skip
        assert len(e.terms) == 3 + 4 + 2
        assert e.sum == pytest.approx(v[f"{gate}_pre"][1, 2], abs=1e-12)
        assert e.total == e.then.value == pytest.approx(v[gate][1, 2], abs=1e-12)
        d = e.to_dict()
        assert d["terms"][0]["factors"][0]["tensor"] == "w_ih"
        assert d["activation"]["fn"] == ("tanh" if gate == "g" else "sigmoid")
        assert d["activation"]["z"] == e.sum and d["total"] == e.total


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_huge_finite_pre_activation_is_shown_as_it_is():
    """A diverging float32 LSTM: z_g = 2e38 is finite and the view must say so (it is
    kept halved-free; only the sigmoid gates' rows are doubled back)."""
    w_ih = np.zeros((4, 1), np.float32)
    w_ih[2, 0] = 2e38  # the g row (PyTorch's order i, f, g, o)
    zero = np.zeros(4, np.float32)
    x = np.ones((1, 1, 1), np.float32)
    _, cache = lstm(x, None, None, w_ih, np.zeros((4, 1), np.float32), zero, zero,
                    check_finite=False)  # fmt: skip
    v = lstm_view(cache, 0)
    assert v["g_pre"][0, 0] == np.float32(2e38) and v["g"][0, 0] == 1
    assert v["i_pre"][0, 0] == 0 and v["i"][0, 0] == 0.5


def test_explain_cell_and_hidden_show_the_numbers():
    a = _arrays(1, 2, 2, 3, 4, seed=14, states=("h0", "c0"))
    _, cache = lstm(**a)
    v = lstm_view(cache, 1)
    e = explain_lstm_cell(v["f"], v["c_prev"], v["i"], v["g"], (0, 1))
    assert [len(t.factors) for t in e.terms] == [2, 2]
    assert e.total == pytest.approx(v["c"][0, 1], abs=1e-12)
    assert explain_lstm_hidden(v["o"], v["tanh_c"], (0, 1)).total == pytest.approx(v["h"][0, 1])


def test_explain_cell_delta_adds_up_to_dc():
    a = _arrays(2, 4, 2, 3, 4, seed=15, states=("h0", "c0"))
    hs, cache = lstm(**a)
    dhs = np.random.default_rng(0).standard_normal(hs.shape)
    back = lstm_backward_start(dhs, cache)
    for t in reversed(range(4)):
        lstm_backward_step(cache, back, t)
    for t in (1, 3):
        v, d = lstm_view(cache, t), lstm_backward_view(back, t)
        # dc of step t+1 (the total), and its forget gate
        dc_next = lstm_backward_view(back, t + 1)["dc"] if t < 3 else np.zeros_like(d["dc"])
        f_next = lstm_view(cache, t + 1)["f"] if t < 3 else None
        e = explain_lstm_cell_delta(d["dh"], v["o"], v["tanh_c"], dc_next, f_next, (1, 2))
        assert e.total == pytest.approx(d["dc"][1, 2], abs=1e-12)
        np.testing.assert_allclose(d["dc_next"], dc_next * f_next if t < 3 else 0.0)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_explain_rnn_hidden(nonlinearity):
    a = _arrays(2, 2, 2, 3, 1, seed=16)
    _, cache = rnn(**a, nonlinearity=nonlinearity)
    v = rnn_view(cache, 1)
    e = explain_rnn_hidden(v["x"], v["h_prev"], a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"],
                           (1, 0), nonlinearity)  # fmt: skip
    assert e.sum == pytest.approx(v["pre"][1, 0], abs=1e-12)
    assert e.total == pytest.approx(v["h"][1, 0], abs=1e-12)
    assert e.then.fn == nonlinearity
