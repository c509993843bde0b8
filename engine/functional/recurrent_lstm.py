"""The LSTM over whole sequences, forward beside backward (see recurrent.py for the
layout and why it is fast).

    z = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh    (4H values, gates stacked i, f, g, o)
    i = σ(z_i) input gate,  f = σ(z_f) forget gate,  g = tanh(z_g) candidate,
    o = σ(z_o) output gate;  c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t).

The four gates go through one tanh, since σ(x) = (tanh(x/2) + 1) / 2: the
sigmoid gates' rows of W are halved once (exact in floating point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.functional._seq_checks import check_cell, check_dhs
from engine.functional.recurrent import (
    GATES,
    batch_major,
    stack_inputs,
    stacked_weights,
    weight_grads,
)


@dataclass
class LSTMCache:
    """An LSTM's forward pass (buffers (T, features, N); c[0] = c0).

    zs holds the pre-activations with the sigmoid gates' halved (the argument of
    the one tanh); `lstm_view` gives the true ones.
    """

    hx: np.ndarray  # (T + 1, H + D + 1, N)
    zs: np.ndarray  # (T, 4H, N)
    a: np.ndarray  # (T, 4H, N) gate values i, f, g, o
    c: np.ndarray  # (T + 1, H, N)
    tc: np.ndarray  # (T, H, N) tanh(c_t)
    w: np.ndarray  # (4H, H + D + 1) = scale * [W_hh | W_ih | b_ih + b_hh]
    w_ih: np.ndarray
    w_hh: np.ndarray
    scale: np.ndarray  # (4H, N): 1/2 on the rows of i, f, o; 1 on g's
    shift: np.ndarray  # (4H, N): 1/2 on i, f, o; 0 on g
    tmp: np.ndarray  # (H, N) scratch
    a4: np.ndarray  # (T, 4, H, N): a by gate
    h: np.ndarray  # (T + 1, H, N): the hidden-state rows of hx


@dataclass
class LSTMBackward:
    """BPTT buffers (T, ., N): dh[t], dc[t] the total dL/dh_t, dL/dc_t; da[t] = dL/dz_t
    of the four gates; dh_prev[t], dc_prev[t]: what step t hands to step t-1."""

    dhs: np.ndarray
    dh: np.ndarray
    dc: np.ndarray
    da: np.ndarray  # (T, 4H, N)
    dh_prev: np.ndarray  # (T + 1, H, N)
    dc_prev: np.ndarray
    p: np.ndarray  # (T, 3, H, N): g σ'(z_i), c_{t-1} σ'(z_f), i tanh'(z_g)
    q: np.ndarray  # (T, H, N): tanh(c_t) σ'(z_o)
    od: np.ndarray  # (T, H, N): o (1 - tanh² c_t)
    w_hh_t: np.ndarray  # (H, 4H)
    da4: np.ndarray  # (T, 4, H, N): da by gate


def lstm_start(
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    *,
    check_finite: bool = True,
) -> LSTMCache:
    """Check the inputs and lay out the buffers; no step is run yet."""
    x, st, w_ih, w_hh, b_ih, b_hh = check_cell(
        x, {"h0": h0, "c0": c0}, w_ih, w_hh, b_ih, b_hh, 4, check_finite
    )
    return lstm_start_checked(x, st["h0"], st["c0"], w_ih, w_hh, b_ih, b_hh)


def lstm_start_checked(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> LSTMCache:
    """`lstm_start` for inputs already checked and of one dtype (BiLSTM's directions)."""
    n, t_len, _ = x.shape
    hid, dt = w_hh.shape[1], x.dtype
    rows = np.full((4 * hid, 1), 0.5, dt)
    rows[2 * hid : 3 * hid] = 1
    scale = np.ascontiguousarray(np.broadcast_to(rows, (4 * hid, n)))
    shift = np.where(scale == 1, 0, 0.5).astype(dt)
    c = np.empty((t_len + 1, hid, n), dt)
    c[0] = c0.T
    hx, a = stack_inputs(x, h0), np.empty((t_len, 4 * hid, n), dt)
    return LSTMCache(
        hx, np.empty((t_len, 4 * hid, n), dt), a, c, np.empty((t_len, hid, n), dt),
        stacked_weights(w_ih, w_hh, b_ih, b_hh) * rows, w_ih, w_hh, scale, shift,
        np.empty((hid, n), dt), a.reshape(t_len, 4, hid, n), hx[:, :hid],
    )  # fmt: skip


def lstm_step(cache: LSTMCache, t: int) -> None:
    """Time step t: the four gates, then c_t = f c_{t-1} + i g and h_t = o tanh(c_t)."""
    # Positional `out` arguments and np.dot: at these sizes the call overhead is
    # most of the cost (keyword `out` and np.matmul each add ~0.1-0.4 us per call).
    zs, a, (i, f, g, o) = cache.zs[t], cache.a[t], cache.a4[t]
    c, tc, tmp = cache.c[t + 1], cache.tc[t], cache.tmp
    np.dot(cache.w, cache.hx[t], zs)
    np.tanh(zs, a)  # tanh(z/2) on i, f, o; tanh(z) on g
    np.multiply(a, cache.scale, a)  # σ(z) = tanh(z/2) / 2 + 1/2
    np.add(a, cache.shift, a)
    np.multiply(f, cache.c[t], c)
    np.multiply(i, g, tmp)
    np.add(c, tmp, c)
    np.tanh(c, tc)
    np.multiply(o, tc, cache.h[t + 1])


def lstm_view(cache: LSTMCache, t: int) -> dict[str, np.ndarray]:
    """Step t's tensors as (N, ...) views: x, h_prev, c_prev, i, f, g, o, c, tanh_c, h;
    and the gates' pre-activations i_pre, f_pre, g_pre, o_pre (new arrays)."""
    hid = cache.tmp.shape[0]
    a, pre = cache.a[t], cache.zs[t] / cache.scale
    out = {"x": cache.hx[t, hid:-1].T, "h_prev": cache.hx[t, :hid].T, "c_prev": cache.c[t].T}
    for k, gate in enumerate(GATES):
        out[f"{gate}_pre"] = pre[k * hid : (k + 1) * hid].T
        out[gate] = a[k * hid : (k + 1) * hid].T
    out.update(c=cache.c[t + 1].T, tanh_c=cache.tc[t].T, h=cache.hx[t + 1, :hid].T)
    return out


def lstm_outputs(cache: LSTMCache) -> np.ndarray:
    """hs (N, T, H) after every step ran."""
    return batch_major(cache.hx[1:, : cache.tmp.shape[0]])


def lstm(
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    *,
    check_finite: bool = True,
) -> tuple[np.ndarray, LSTMCache]:
    """Every hidden state hs (N, T, H), as torch.nn.LSTM(batch_first=True).

    x (N, T, D); h0, c0 (N, H) or None; w_ih (4H, D), w_hh (4H, H), b_ih, b_hh
    (4H,), the gates stacked in the order i, f, g, o.
    """
    cache = lstm_start(x, h0, c0, w_ih, w_hh, b_ih, b_hh, check_finite=check_finite)
    for t in range(cache.zs.shape[0]):
        lstm_step(cache, t)
    return lstm_outputs(cache), cache


def lstm_backward_start(dhs: np.ndarray, cache: LSTMCache) -> LSTMBackward:
    """Check dhs (N, T, H); buffers and the gates' local derivatives for every step."""
    t_len, hid, n = cache.tc.shape
    dt = cache.a.dtype
    dhs = np.ascontiguousarray(check_dhs(dhs, (n, t_len, hid), dt).transpose(1, 2, 0))
    # One gate-major copy first: element-wise ops on contiguous (T, H, N) arrays are
    # ~3x faster than on the per-step blocks a[:, k*H:(k+1)*H].
    i, f, g, o = np.ascontiguousarray(cache.a.reshape(t_len, 4, hid, n).transpose(1, 0, 2, 3))
    tc, h = cache.tc, np.ascontiguousarray(cache.h[1:])
    p = np.empty((t_len, 3, hid, n), dt)  # per step contiguous: the loop reads p[t]
    ds = 1 - i  # σ' = σ (1 - σ)
    ds *= i
    np.multiply(g, ds, out=p[:, 0])
    np.subtract(1, f, out=ds)
    ds *= f
    np.multiply(cache.c[:-1], ds, out=p[:, 1])
    np.multiply(g, g, out=ds)
    np.subtract(1, ds, out=ds)
    np.multiply(i, ds, out=p[:, 2])
    q = 1 - o  # h = o tanh(c_t), so: q = (1 - o) h and o (1 - tanh²c) = o - h tanh(c)
    q *= h
    od = h * tc
    np.subtract(o, od, out=od)
    shape = (t_len + 1, hid, n)
    dh_prev, dc_prev = np.empty(shape, dt), np.empty(shape, dt)
    dh_prev[t_len] = 0
    dc_prev[t_len] = 0
    da = np.empty_like(cache.a)
    return LSTMBackward(
        dhs, np.empty_like(dhs), np.empty_like(dhs), da, dh_prev, dc_prev, p, q, od,
        np.ascontiguousarray(cache.w_hh.T), da.reshape(cache.a4.shape),
    )  # fmt: skip


def lstm_backward_step(cache: LSTMCache, back: LSTMBackward, t: int) -> None:
    """Step t in reverse.

    dh_t = dhs_t + (through step t+1);  dc_t = dh_t o (1 - tanh² c_t) + (through t+1);
    dz_i = dc_t g σ'(z_i), dz_f = dc_t c_{t-1} σ'(z_f), dz_g = dc_t i tanh'(z_g),
    dz_o = dh_t tanh(c_t) σ'(z_o);  to step t-1: dc_t f and W_hh^T dz_t.
    """
    dh, dc, da4 = back.dh[t], back.dc[t], back.da4[t]
    np.add(back.dhs[t], back.dh_prev[t + 1], dh)
    np.multiply(dh, back.od[t], dc)
    np.add(dc, back.dc_prev[t + 1], dc)
    np.multiply(dc, back.p[t], da4[:3])
    np.multiply(dh, back.q[t], da4[3])
    np.multiply(dc, cache.a4[t, 1], back.dc_prev[t])
    np.dot(back.w_hh_t, back.da[t], back.dh_prev[t])


def lstm_backward_view(back: LSTMBackward, t: int) -> dict[str, np.ndarray]:
    """Step t's deltas as (N, H) views: dh_out (from the loss at t), dh_next, dc_next
    (from step t+1), dh, dc (the totals), di, df, dg, do (dL/dz of each gate),
    dh_prev, dc_prev (handed to step t-1)."""
    hid = back.dh.shape[1]
    out = {
        "dh_out": back.dhs[t].T,
        "dh_next": back.dh_prev[t + 1].T,
        "dc_next": back.dc_prev[t + 1].T,
        "dh": back.dh[t].T,
        "dc": back.dc[t].T,
    }
    for k, gate in enumerate(GATES):
        out[f"d{gate}"] = back.da[t, k * hid : (k + 1) * hid].T
    out.update(dh_prev=back.dh_prev[t].T, dc_prev=back.dc_prev[t].T)
    return out


def lstm_backward_finish(cache: LSTMCache, back: LSTMBackward) -> dict[str, np.ndarray]:
    """The weight gradients (GEMMs over every step), dx, dh0, dc0, and dh, dc (N, T, H)."""
    hid = back.dh.shape[1]
    grads = weight_grads(back.da, cache.hx, cache.w_ih, hid, cache.w_ih.shape[1])
    grads["dh0"] = np.ascontiguousarray(back.dh_prev[0].T)
    grads["dc0"] = np.ascontiguousarray(back.dc_prev[0].T)
    grads["dh"] = back.dh.transpose(2, 0, 1)
    grads["dc"] = back.dc.transpose(2, 0, 1)
    return grads


def lstm_backward(dhs: np.ndarray, cache: LSTMCache) -> dict[str, np.ndarray]:
    """BPTT for `lstm`: {dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh} and dh, dc (N, T, H),
    the total dL/dh_t and dL/dc_t of every step."""
    back = lstm_backward_start(dhs, cache)
    for t in reversed(range(back.dh.shape[0])):
        lstm_backward_step(cache, back, t)
    return lstm_backward_finish(cache, back)
