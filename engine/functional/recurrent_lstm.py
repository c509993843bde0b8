"""The LSTM over whole sequences, forward beside backward (see recurrent.py for the
layout and why it is fast).

    z = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh    (4H values, gates stacked i, f, g, o)
    i = σ(z_i) input gate,  f = σ(z_f) forget gate,  g = tanh(z_g) candidate,
    o = σ(z_o) output gate;  c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t).

The four gates go through one tanh, since σ(x) = (tanh(x/2) + 1) / 2: the
sigmoid gates' rows of W are halved once (exact in floating point).

Inside, the gates are stacked o, i, f, g (PyTorch's order is i, f, g, o; weights
and gradients are reordered on the way in and out) and each step's block keeps
c_{t-1} after g: the sigmoid gates are then one block, (i, f) and (g, c_{t-1}) are
two blocks whose product is (i g, f c_{t-1}) in one call, and the backward pass
gets (dz_i, dz_f, dz_g, dc_t f) from dc_t in one call. At these sizes the number
of NumPy calls per step is the cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.functional._seq_checks import check_cell, check_dhs
from engine.functional.recurrent import (
    GATES,
    batch_major,
    stack_inputs,
    stacked_weights,
    weight_grads,
)

ORDER = ("o", "i", "f", "g")  # the gates' order inside (see the module's docstring)
_BLOCK = {gate: ORDER.index(gate) for gate in GATES}


@lru_cache(maxsize=64)
def _to_inner(hid: int) -> np.ndarray:
    """Row indices taking PyTorch's gate order (i, f, g, o) to ORDER (read-only)."""
    rows = np.concatenate([np.arange(hid) + hid * GATES.index(g) for g in ORDER])
    rows.flags.writeable = False
    return rows


@lru_cache(maxsize=64)
def _to_torch(hid: int) -> np.ndarray:
    """Row indices taking ORDER back to PyTorch's (read-only)."""
    rows = np.argsort(_to_inner(hid))
    rows.flags.writeable = False
    return rows


@dataclass
class LSTMCache:
    """An LSTM's forward pass (buffers (T, features, N); c[0] = c0).

    `ac[t]` is step t's block: gate values o, i, f, g, then c_{t-1} (so c[t] is a view
    into it); zs holds the pre-activations in that order with the sigmoid gates'
    halved (the argument of the one tanh); `lstm_view` gives the true ones.
    """

    hx: np.ndarray  # (T + 1, H + D + 1, N)
    zs: np.ndarray  # (T, 4H, N)
    ac: np.ndarray  # (T + 1, 5H, N)
    tc: np.ndarray  # (T, H, N) tanh(c_t)
    w: np.ndarray  # (4H, H + D + 1) = [W_hh | W_ih | b_ih + b_hh] in ORDER, σ rows halved
    w_ih: np.ndarray  # as given (PyTorch's order)
    w_hh: np.ndarray

    def __post_init__(self) -> None:
        hid = self.tc.shape[1]
        # σ(z) = tanh(z/2) * half + half, half a full (3H, N) block: against a scalar
        # NumPy's per-call setup costs ~0.3 us more, twice per step.
        self.half = np.full((3 * hid, self.tc.shape[2]), 0.5, self.tc.dtype)
        t_len = self.tc.shape[0]
        self.a = self.ac[:t_len, : 4 * hid]  # (T, 4H, N) gate values in ORDER
        self.a4 = self.a.reshape(t_len, 4, hid, self.tc.shape[2])  # (T, 4, H, N)
        self.c = self.ac[:, 4 * hid :]  # (T + 1, H, N)
        self.h = self.hx[:, :hid]  # (T + 1, H, N)
        self.sig = self.ac[:t_len, : 3 * hid]  # o, i, f
        n = self.tc.shape[2]
        self.i_f = self.ac[:t_len, hid : 3 * hid].reshape(t_len, 2, hid, n)
        self.g_c = self.ac[:t_len, 3 * hid :].reshape(t_len, 2, hid, n)  # g, c_{t-1}
        self.prod = np.empty((2, hid, self.tc.shape[2]), self.tc.dtype)  # (i g, f c_{t-1})
        # Step t's arrays are these at [t] (lstm_cell's arguments, in its order).
        self.steps = (
            self.hx[:t_len], self.zs, self.a, self.sig, self.i_f, self.g_c, self.c[1:],
            self.tc, self.a4[:, 0], self.h[1:],
        )  # fmt: skip


@dataclass
class LSTMBackward:
    """BPTT buffers (T, ., N): dh[t], dc[t] the total dL/dh_t, dL/dc_t; dab[t] holds
    dL/dz_t of the four gates (in ORDER) then dc_prev[t]; dh_prev[t], dc_prev[t]: what
    step t hands to step t-1."""

    dhs: np.ndarray
    dh: np.ndarray
    dc: np.ndarray
    dab: np.ndarray  # (T + 1, 5H, N)
    dh_prev: np.ndarray  # (T + 1, H, N)
    p: np.ndarray  # (T, 4, H, N): g σ'(z_i), c_{t-1} σ'(z_f), i tanh'(z_g), f
    q: np.ndarray  # (T, H, N): tanh(c_t) σ'(z_o)
    od: np.ndarray  # (T, H, N): o (1 - tanh² c_t)
    w_hh_t: np.ndarray  # (H, 4H), columns in ORDER

    def __post_init__(self) -> None:
        t_len, hid, n = self.dh.shape
        self.da = self.dab[:t_len, : 4 * hid]  # (T, 4H, N)
        self.da4 = self.da.reshape(t_len, 4, hid, n)
        self.do = self.dab[:t_len, :hid]
        self.dz_c = self.dab[:t_len, hid:].reshape(t_len, 4, hid, n)  # dz_i, dz_f, dz_g, dc f
        self.dc_prev = self.dab[:, 4 * hid :]  # (T + 1, H, N)
        # Step t's arrays are these at [t] (lstm_cell_backward's arguments, in its order).
        self.steps = (
            self.dhs, self.dh_prev[1:], self.dh, self.od, self.dc, self.dc_prev[1:], self.p,
            self.dz_c, self.q, self.do, self.da, self.dh_prev[:-1],
        )  # fmt: skip


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
    w = stacked_weights(w_ih, w_hh, b_ih, b_hh)[_to_inner(hid)]
    w[: 3 * hid] *= dt.type(0.5)  # the sigmoid gates o, i, f: tanh(z / 2)
    ac = np.empty((t_len + 1, 5 * hid, n), dt)
    ac[0, 4 * hid :] = c0.T
    return LSTMCache(
        stack_inputs(x, h0), np.empty((t_len, 4 * hid, n), dt), ac,
        np.empty((t_len, hid, n), dt), w, w_ih, w_hh,
    )  # fmt: skip


def lstm_step(cache: LSTMCache, t: int) -> None:
    """Time step t: the four gates, then c_t = f c_{t-1} + i g and h_t = o tanh(c_t)."""
    lstm_cell(cache.w, cache.half, cache.prod, *(a[t] for a in cache.steps))


def lstm_steps(cache: LSTMCache) -> None:
    """Every time step, in order (a whole-sequence call: each step's arrays come from
    iterating the buffers, cheaper than indexing them)."""
    w, half, prod = cache.w, cache.half, cache.prod
    for arrays in zip(*cache.steps, strict=True):
        lstm_cell(w, half, prod, *arrays)


def lstm_cell(
    w: np.ndarray, half: np.ndarray, prod: np.ndarray, hx: np.ndarray, zs: np.ndarray,
    a: np.ndarray, sig: np.ndarray, i_f: np.ndarray, g_c: np.ndarray, c: np.ndarray,
    tc: np.ndarray, o: np.ndarray, h: np.ndarray,
) -> None:  # fmt: skip
    """One step on its arrays (LSTMCache.steps at [t]): zs = W [h_{t-1}; x_t; 1], the
    gates a = (o, i, f, g), c = f c_{t-1} + i g, tc = tanh(c), h = o tc."""
    # Positional `out` arguments and np.dot: at these sizes the call overhead is
    # most of the cost (keyword `out` and np.matmul each add ~0.1-0.4 us per call).
    np.dot(w, hx, zs)
    np.tanh(zs, a)  # tanh(z/2) on o, i, f; tanh(z) on g
    np.multiply(sig, half, sig)  # σ(z) = tanh(z/2) / 2 + 1/2
    np.add(sig, half, sig)
    np.multiply(i_f, g_c, prod)  # (i g, f c_{t-1})
    np.add(prod[0], prod[1], c)
    np.tanh(c, tc)
    np.multiply(o, tc, h)


def lstm_view(cache: LSTMCache, t: int) -> dict[str, np.ndarray]:
    """Step t's tensors as (N, ...) views: x, h_prev, c_prev, i, f, g, o, c, tanh_c, h;
    and (new arrays) the gates' pre-activations i_pre, f_pre, g_pre, o_pre and the two
    terms of c_t, fc = f c_{t-1} (what survives of the cell state) and ig = i g (what is
    written in): the step's own products, recomputed from its blocks in one call (the
    step's `prod` buffer is the next step's), so c_t = fc + ig exactly."""
    hid = cache.tc.shape[1]
    pre = cache.zs[t].reshape(4, hid, -1).copy()
    pre[:3] *= 2  # the halved sigmoid rows (o, i, f come first), back to z; g untouched
    out = {"x": cache.hx[t, hid:-1].T, "h_prev": cache.hx[t, :hid].T, "c_prev": cache.c[t].T}
    for gate in GATES:
        out[f"{gate}_pre"] = pre[_BLOCK[gate]].T
        out[gate] = cache.a4[t, _BLOCK[gate]].T
    ig, fc = np.multiply(cache.i_f[t], cache.g_c[t])  # (i g, f c_{t-1}), as lstm_cell
    out.update(fc=fc.T, ig=ig.T)
    out.update(c=cache.c[t + 1].T, tanh_c=cache.tc[t].T, h=cache.hx[t + 1, :hid].T)
    return out


def lstm_outputs(cache: LSTMCache) -> np.ndarray:
    """hs (N, T, H) after every step ran."""
    return batch_major(cache.hx[1:, : cache.tc.shape[1]])


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
    lstm_steps(cache)
    return lstm_outputs(cache), cache


def lstm_backward_start(dhs: np.ndarray, cache: LSTMCache) -> LSTMBackward:
    """Check dhs (N, T, H); buffers and the gates' local derivatives for every step."""
    t_len, hid, n = cache.tc.shape
    dt = cache.tc.dtype
    dhs = np.ascontiguousarray(check_dhs(dhs, (n, t_len, hid), dt).transpose(1, 2, 0))
    # One gate-major copy first: element-wise ops on contiguous (T, H, N) arrays are
    # ~3x faster than on the per-step blocks.
    o, i, f, g = np.ascontiguousarray(cache.a4.transpose(1, 0, 2, 3))
    tc, h = cache.tc, np.ascontiguousarray(cache.h[1:])
    p = np.empty((t_len, 4, hid, n), dt)  # per step contiguous: the loop reads p[t]
    ds = 1 - i  # σ' = σ (1 - σ)
    ds *= i
    np.multiply(g, ds, out=p[:, 0])
    np.subtract(1, f, out=ds)
    ds *= f
    np.multiply(cache.c[:-1], ds, out=p[:, 1])
    np.multiply(g, g, out=ds)
    np.subtract(1, ds, out=ds)
    np.multiply(i, ds, out=p[:, 2])
    p[:, 3] = f  # dc_t f: what the cell hands to step t-1
    q = 1 - o  # h = o tanh(c_t), so: q = (1 - o) h and o (1 - tanh²c) = o - h tanh(c)
    q *= h
    od = h * tc
    np.subtract(o, od, out=od)
    dab = np.empty((t_len + 1, 5 * hid, n), dt)
    dab[t_len, 4 * hid :] = 0
    dh_prev = np.empty((t_len + 1, hid, n), dt)
    dh_prev[t_len] = 0
    return LSTMBackward(
        dhs, np.empty_like(dhs), np.empty_like(dhs), dab, dh_prev, p, q, od,
        np.ascontiguousarray(cache.w_hh[_to_inner(hid)].T),
    )  # fmt: skip


def lstm_backward_step(cache: LSTMCache, back: LSTMBackward, t: int) -> None:
    """Step t in reverse.

    dh_t = dhs_t + (through step t+1);  dc_t = dh_t o (1 - tanh² c_t) + (through t+1);
    dz_i = dc_t g σ'(z_i), dz_f = dc_t c_{t-1} σ'(z_f), dz_g = dc_t i tanh'(z_g),
    dz_o = dh_t tanh(c_t) σ'(z_o);  to step t-1: dc_t f and W_hh^T dz_t.
    """
    lstm_cell_backward(back.w_hh_t, *(a[t] for a in back.steps))


def lstm_cell_backward(
    w_hh_t: np.ndarray, dhs: np.ndarray, dh_next: np.ndarray, dh: np.ndarray,
    od: np.ndarray, dc: np.ndarray, dc_next: np.ndarray, p: np.ndarray, dz_c: np.ndarray,
    q: np.ndarray, do: np.ndarray, da: np.ndarray, dh_prev: np.ndarray,
) -> None:  # fmt: skip
    """One step in reverse on its arrays (LSTMBackward.steps at [t])."""
    np.add(dhs, dh_next, dh)
    np.multiply(dh, od, dc)
    np.add(dc, dc_next, dc)
    np.multiply(dc, p, dz_c)  # dz_i, dz_f, dz_g and dc_t f at once
    np.multiply(dh, q, do)
    np.dot(w_hh_t, da, dh_prev)


def lstm_backward_view(back: LSTMBackward, t: int) -> dict[str, np.ndarray]:
    """Step t's deltas as (N, H) views: dh_out (from the loss at t), dh_next, dc_next
    (from step t+1), dh, dc (the totals), di, df, dg, do (dL/dz of each gate),
    dh_prev, dc_prev (handed to step t-1)."""
    out = {
        "dh_out": back.dhs[t].T,
        "dh_next": back.dh_prev[t + 1].T,
        "dc_next": back.dc_prev[t + 1].T,
        "dh": back.dh[t].T,
        "dc": back.dc[t].T,
    }
    for gate in GATES:
        out[f"d{gate}"] = back.da4[t, _BLOCK[gate]].T
    out.update(dh_prev=back.dh_prev[t].T, dc_prev=back.dc_prev[t].T)
    return out


def lstm_backward_finish(cache: LSTMCache, back: LSTMBackward) -> dict[str, np.ndarray]:
    """The weight gradients (GEMMs over every step), dx, dh0, dc0, and dh, dc (N, T, H)."""
    hid = back.dh.shape[1]
    grads = weight_grads(back.da, cache.hx, cache.w_ih[_to_inner(hid)], hid, cache.w_ih.shape[1])
    for key in ("dw_ih", "dw_hh", "db_ih", "db_hh"):  # the gate rows in PyTorch's order again
        grads[key] = grads[key][_to_torch(hid)]
    grads["dh0"] = np.ascontiguousarray(back.dh_prev[0].T)
    grads["dc0"] = np.ascontiguousarray(back.dc_prev[0].T)
    grads["dh"] = back.dh.transpose(2, 0, 1)
    grads["dc"] = back.dc.transpose(2, 0, 1)
    return grads


def lstm_backward(dhs: np.ndarray, cache: LSTMCache) -> dict[str, np.ndarray]:
    """BPTT for `lstm`: {dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh} and dh, dc (N, T, H),
    the total dL/dh_t and dL/dc_t of every step."""
    back = lstm_backward_start(dhs, cache)
    w_hh_t = back.w_hh_t
    for arrays in zip(*(a[::-1] for a in back.steps), strict=True):  # t = T-1 first
        lstm_cell_backward(w_hh_t, *arrays)
    return lstm_backward_finish(cache, back)
