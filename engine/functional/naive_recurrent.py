"""Loop versions of the RNN and the LSTM, forward and backward: the reference for the
fast ones (engine.functional.recurrent, recurrent_lstm) and a reading of the lecture's
equations one time step at a time. No stacked weights, no reordered gates, no
halved sigmoid rows, no shared buffers: each step computes its values from the
step before and keeps them in a list. Slow (one small GEMM per weight per step);
use them for small tensors and tests only.

Shapes as the fast versions: x (N, T, D), h0 and c0 (N, H), every hidden state
hs (N, T, H), weights in PyTorch's layout (the LSTM's rows stacked i, f, g, o):

    RNN   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)    (or relu)
    LSTM  i = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)    input gate
          f = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)    forget gate
          g = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg) candidate
          o = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)    output gate
          c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.functional.recurrent import GATES

Grads = dict[str, np.ndarray]


def _zeros_if_none(state: np.ndarray | None, n: int, hid: int, dtype: np.dtype) -> np.ndarray:
    return np.zeros((n, hid), dtype) if state is None else np.asarray(state, dtype)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# ------------------------------------------------------------------------- RNN


@dataclass
class NaiveRNNCache:
    """What the backward pass reads: the inputs, the weights, every h_t (hs[0] = h0)."""

    x: np.ndarray
    hs: list[np.ndarray]
    w_ih: np.ndarray
    w_hh: np.ndarray
    nonlinearity: str


def rnn_naive(
    x: np.ndarray,
    h0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, NaiveRNNCache]:
    """hs (N, T, H): h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), t = 0 .. T-1."""
    n, t_len, _ = x.shape
    hid = w_hh.shape[1]
    h_prev = _zeros_if_none(h0, n, hid, x.dtype)
    hs = [h_prev]
    for t in range(t_len):
        z = x[:, t] @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh
        h_prev = np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0)
        hs.append(h_prev)
    return np.stack(hs[1:], axis=1), NaiveRNNCache(x, hs, w_ih, w_hh, nonlinearity)


def rnn_naive_backward(dhs: np.ndarray, cache: NaiveRNNCache) -> Grads:
    """BPTT, t = T-1 down to 0: dh_t = dhs_t + dh_next; dz_t = dh_t f'(z_t);
    dW_ih += dz_t^T x_t, dW_hh += dz_t^T h_{t-1}, db += Σ_n dz_t; dh_next = dz_t W_hh.
    Returns {dx, dh0, dw_ih, dw_hh, db_ih, db_hh}."""
    x, hs, w_ih, w_hh = cache.x, cache.hs, cache.w_ih, cache.w_hh
    dx = np.zeros_like(x)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db = np.zeros(w_hh.shape[0], x.dtype)
    dh_next = np.zeros_like(hs[0])
    for t in reversed(range(x.shape[1])):
        h, h_prev = hs[t + 1], hs[t]
        dh = dhs[:, t] + dh_next
        # tanh' = 1 - h²; relu' = 1 where z > 0 (z = 0 gets 0, as in PyTorch), i.e. h > 0
        slope = 1 - h * h if cache.nonlinearity == "tanh" else (h > 0).astype(x.dtype)
        dz = dh * slope
        dw_ih += dz.T @ x[:, t]
        dw_hh += dz.T @ h_prev
        db += dz.sum(axis=0)
        dx[:, t] = dz @ w_ih
        dh_next = dz @ w_hh
    return {"dx": dx, "dh0": dh_next, "dw_ih": dw_ih, "dw_hh": dw_hh,
            "db_ih": db, "db_hh": db.copy()}  # fmt: skip


# ------------------------------------------------------------------------ LSTM


@dataclass
class NaiveLSTMCache:
    """The inputs, the weights, and each step's values by name: steps[t] holds
    h_prev, c_prev, i, f, g, o, c, tanh_c, h of time step t."""

    x: np.ndarray
    steps: list[dict[str, np.ndarray]]
    w_ih: np.ndarray
    w_hh: np.ndarray


def _gate_blocks(a: np.ndarray, hid: int) -> dict[str, np.ndarray]:
    """A (..., 4H) array's blocks by gate name, in PyTorch's order i, f, g, o."""
    return {gate: a[..., k * hid : (k + 1) * hid] for k, gate in enumerate(GATES)}


def lstm_naive(
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, NaiveLSTMCache]:
    """hs (N, T, H) of the LSTM, one time step at a time (the module's equations)."""
    n, t_len, _ = x.shape
    hid = w_hh.shape[1]
    h_prev = _zeros_if_none(h0, n, hid, x.dtype)
    c_prev = _zeros_if_none(c0, n, hid, x.dtype)
    w_x, w_h = _gate_blocks(w_ih.T, hid), _gate_blocks(w_hh.T, hid)
    b_x, b_h = _gate_blocks(b_ih, hid), _gate_blocks(b_hh, hid)
    steps = []
    for t in range(t_len):
        pre = {k: x[:, t] @ w_x[k] + b_x[k] + h_prev @ w_h[k] + b_h[k] for k in GATES}
        i, f, o = _sigmoid(pre["i"]), _sigmoid(pre["f"]), _sigmoid(pre["o"])
        g = np.tanh(pre["g"])
        c = f * c_prev + i * g
        tanh_c = np.tanh(c)
        h = o * tanh_c
        steps.append({"h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o,
                      "c": c, "tanh_c": tanh_c, "h": h})  # fmt: skip
        h_prev, c_prev = h, c
    hs = np.stack([s["h"] for s in steps], axis=1) if steps else np.zeros((n, 0, hid), x.dtype)
    return hs, NaiveLSTMCache(x, steps, w_ih, w_hh)


def lstm_naive_backward(dhs: np.ndarray, cache: NaiveLSTMCache) -> Grads:
    """BPTT, t = T-1 down to 0, each gate on its own:

        dh = dhs_t + dh_next;   dc = dh o (1 - tanh² c_t) + dc_next
        di = dc g i (1 - i),    df = dc c_{t-1} f (1 - f)
        dg = dc i (1 - g²),     do = dh tanh(c_t) o (1 - o)
        dc_next = dc f;         dh_next = W_hh^T [di; df; dg; do]

    (di .. do are dL/dz of each gate). Returns {dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh}
    with the gate rows in PyTorch's order i, f, g, o."""
    x, w_ih, w_hh = cache.x, cache.w_ih, cache.w_hh
    n, t_len, _ = x.shape
    hid = w_hh.shape[1]
    dx = np.zeros_like(x)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db = np.zeros(4 * hid, x.dtype)
    dh_next = np.zeros((n, hid), x.dtype)
    dc_next = np.zeros((n, hid), x.dtype)
    for t in reversed(range(t_len)):
        s = cache.steps[t]
        i, f, g, o, tanh_c = s["i"], s["f"], s["g"], s["o"], s["tanh_c"]
        dh = dhs[:, t] + dh_next
        dc = dh * o * (1 - tanh_c * tanh_c) + dc_next
        di = dc * g * i * (1 - i)
        df = dc * s["c_prev"] * f * (1 - f)
        dg = dc * i * (1 - g * g)
        do = dh * tanh_c * o * (1 - o)
        dz = np.concatenate([di, df, dg, do], axis=1)  # (N, 4H), rows i, f, g, o
        dw_ih += dz.T @ x[:, t]
        dw_hh += dz.T @ s["h_prev"]
        db += dz.sum(axis=0)
        dx[:, t] = dz @ w_ih
        dh_next = dz @ w_hh
        dc_next = dc * f
    return {"dx": dx, "dh0": dh_next, "dc0": dc_next, "dw_ih": dw_ih, "dw_hh": dw_hh,
            "db_ih": db, "db_hh": db.copy()}  # fmt: skip
