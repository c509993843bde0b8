"""Recurrent cells over whole sequences: the RNN here, the LSTM in recurrent_lstm.py,
each forward beside its backward (backpropagation through time, BPTT).

Shapes are batch-major, as in PyTorch's batch_first=True: x (N, T, D), every
hidden state hs (N, T, H), initial states h0, c0 (N, H) (None: zeros). Weights
in PyTorch's layout, so they move both ways with torch.nn.RNN / torch.nn.LSTM:

    RNN   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)    (or relu)
          w_ih (H, D), w_hh (H, H), b_ih (H,), b_hh (H,)
    LSTM  the gates stacked in PyTorch's order i, f, g, o:
          w_ih (4H, D), w_hh (4H, H), b_ih (4H,), b_hh (4H,);
          z = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh   (4H pre-activations)
          i = σ(z_i) input gate,  f = σ(z_f) forget gate,
          g = tanh(z_g) candidate, o = σ(z_o) output gate,
          c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t).

Each pass is split into start / one step / finish, so the stepped pass of the
trace runs exactly the code the fast path runs and gets identical numbers.
How it is fast:
- each step is one GEMM, W [h_{t-1}; x_t; 1] with W = [W_hh | W_ih | b_ih + b_hh]:
  input part, recurrence and biases at once;
- the LSTM's four gates go through one tanh, since σ(x) = (tanh(x/2) + 1) / 2:
  the sigmoid gates' rows of W are halved once (exact in floating point);
- backward, every weight gradient is one GEMM over all steps after the loop,
  and the gates' local derivatives are computed for all steps at once;
- buffers are time-major and feature-major, (T, features, N): a step's slice and
  each gate's block in it are contiguous (strided element-wise ops on small
  blocks cost 2-3x more), and each step writes its own slice, so what a step
  recorded is never overwritten.
The `*_view` helpers give a step's tensors as (N, ...) views in the API's layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.functional._seq_checks import check_cell, check_dhs

NONLINEARITIES = ("tanh", "relu")
GATES = ("i", "f", "g", "o")  # PyTorch's order of the LSTM's stacked gates


def stack_inputs(x: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """hx (T + 1, H + D + 1, N): hx[t] = [h_{t-1}; x_t; 1] column per sample.

    Step t writes h_t into hx[t + 1, :H]; hx[T] holds the last hidden state (its
    x rows are zero)."""
    n, t_len, d = x.shape
    hid = h0.shape[1]
    hx = np.empty((t_len + 1, hid + d + 1, n), x.dtype)
    hx[0, :hid] = h0.T
    hx[:t_len, hid : hid + d] = x.transpose(1, 2, 0)
    hx[t_len, hid : hid + d] = 0
    hx[:, hid + d] = 1
    return hx


def stacked_weights(
    w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray
) -> np.ndarray:
    """[W_hh | W_ih | b_ih + b_hh]: (G*H, H + D + 1)."""
    return np.concatenate([w_hh, w_ih, (b_ih + b_hh)[:, None]], axis=1)


def batch_major(a: np.ndarray) -> np.ndarray:
    """(T, F, N) -> (N, T, F), contiguous."""
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def weight_grads(
    dz: np.ndarray, hx: np.ndarray, w_ih: np.ndarray, hid: int, d: int
) -> dict[str, np.ndarray]:
    """dW, db and dx from dL/dz of every step, dz (T, G*H, N): one GEMM for
    [dW_hh | dW_ih | db], one for dx."""
    t_len, rows, n = dz.shape
    # Both laid out with (step, sample) pairs as the long axis: (T*N, G*H) and
    # (H+D+1, T*N). BLAS ran this GEMM, giving dW transposed, ~15% faster than the
    # other layouts, and the copies themselves are the cheapest pair (measured).
    dzt = dz.transpose(0, 2, 1).reshape(t_len * n, rows)
    hxt = hx[:t_len].transpose(1, 0, 2).reshape(hid + d + 1, t_len * n)
    dwt = hxt.dot(dzt)  # (H+D+1, G*H) = [dW_hh | dW_ih | db] transposed
    dx = dzt.dot(w_ih).reshape(t_len, n, d).transpose(1, 0, 2)
    db = np.ascontiguousarray(dwt[hid + d])
    return {
        "dx": np.ascontiguousarray(dx),
        "dw_ih": np.ascontiguousarray(dwt[hid : hid + d].T),
        "dw_hh": np.ascontiguousarray(dwt[:hid].T),
        "db_ih": db,
        "db_hh": db.copy(),
    }


# ------------------------------------------------------------------------- RNN


@dataclass
class RNNCache:
    """An RNN's forward pass. hx (T+1, H+D+1, N) as in `stack_inputs`; z (T, H, N)."""

    hx: np.ndarray
    z: np.ndarray
    w: np.ndarray  # (H, H + D + 1) = [W_hh | W_ih | b_ih + b_hh]
    w_ih: np.ndarray
    w_hh: np.ndarray
    nonlinearity: str


@dataclass
class RNNBackward:
    """BPTT buffers (T, H, N): dh[t] the total dL/dh_t, dz[t] = dL/dz_t; dh_prev[t]
    is the part of dL/dh_{t-1} through step t (dh_prev[T] = 0, dh_prev[0] = dL/dh0)."""

    dhs: np.ndarray
    dh: np.ndarray
    dz: np.ndarray
    dh_prev: np.ndarray  # (T + 1, H, N)
    slope: np.ndarray  # f'(z_t)
    w_hh_t: np.ndarray  # (H, H) = W_hh^T


def rnn_start(
    x: np.ndarray,
    h0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    nonlinearity: str = "tanh",
    *,
    check_finite: bool = True,
) -> RNNCache:
    """Check the inputs and lay out the buffers; no step is run yet."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}; got {nonlinearity!r}")
    x, st, w_ih, w_hh, b_ih, b_hh = check_cell(
        x, {"h0": h0}, w_ih, w_hh, b_ih, b_hh, 1, check_finite
    )
    hx = stack_inputs(x, st["h0"])
    z = np.empty((x.shape[1], w_hh.shape[0], x.shape[0]), x.dtype)
    return RNNCache(hx, z, stacked_weights(w_ih, w_hh, b_ih, b_hh), w_ih, w_hh, nonlinearity)


def rnn_step(cache: RNNCache, t: int) -> None:
    """Time step t: z_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh;  h_t = tanh(z_t) (or relu)."""
    z = cache.z[t]
    np.dot(cache.w, cache.hx[t], z)
    if cache.nonlinearity == "tanh":
        np.tanh(z, cache.hx[t + 1, : z.shape[0]])
    else:
        np.maximum(z, 0, out=cache.hx[t + 1, : z.shape[0]])


def rnn_view(cache: RNNCache, t: int) -> dict[str, np.ndarray]:
    """Step t's tensors as (N, ...) views: x, h_prev, pre (z_t), h."""
    hid = cache.z.shape[1]
    return {
        "x": cache.hx[t, hid:-1].T,
        "h_prev": cache.hx[t, :hid].T,
        "pre": cache.z[t].T,
        "h": cache.hx[t + 1, :hid].T,
    }


def rnn_outputs(cache: RNNCache) -> np.ndarray:
    """hs (N, T, H) after every step ran."""
    return batch_major(cache.hx[1:, : cache.z.shape[1]])


def rnn(
    x: np.ndarray,
    h0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    nonlinearity: str = "tanh",
    *,
    check_finite: bool = True,
) -> tuple[np.ndarray, RNNCache]:
    """Every hidden state hs (N, T, H) of an Elman RNN, as torch.nn.RNN(batch_first=True).

    x (N, T, D); h0 (N, H) or None; w_ih (H, D), w_hh (H, H), b_ih, b_hh (H,).
    """
    cache = rnn_start(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity, check_finite=check_finite)
    for t in range(cache.z.shape[0]):
        rnn_step(cache, t)
    return rnn_outputs(cache), cache


def rnn_backward_start(dhs: np.ndarray, cache: RNNCache) -> RNNBackward:
    """Check dhs (N, T, H); buffers and every step's slope f'(z_t)."""
    t_len, hid, n = cache.z.shape
    dt = cache.z.dtype
    dhs = np.ascontiguousarray(check_dhs(dhs, (n, t_len, hid), dt).transpose(1, 2, 0))
    if cache.nonlinearity == "tanh":
        hs = cache.hx[1:, :hid]
        slope = 1 - hs * hs
    else:
        slope = (cache.z > 0).astype(dt)  # the kink at 0 gets slope 0, as in PyTorch
    dh_prev = np.empty((t_len + 1, hid, n), dt)
    dh_prev[t_len] = 0
    return RNNBackward(
        dhs, np.empty_like(dhs), np.empty_like(dhs), dh_prev, slope,
        np.ascontiguousarray(cache.w_hh.T),
    )  # fmt: skip


def rnn_backward_step(cache: RNNCache, back: RNNBackward, t: int) -> None:
    """Step t in reverse: dh_t = dhs_t + (through step t+1); dz_t = dh_t f'(z_t);
    through this step to h_{t-1}: W_hh^T dz_t."""
    dh, dz = back.dh[t], back.dz[t]
    np.add(back.dhs[t], back.dh_prev[t + 1], dh)
    np.multiply(dh, back.slope[t], dz)
    np.dot(back.w_hh_t, dz, back.dh_prev[t])


def rnn_backward_view(back: RNNBackward, t: int) -> dict[str, np.ndarray]:
    """Step t's deltas as (N, H) views: dh_out (from the loss at t), dh_next (from
    step t+1), dh (their sum), dz, dh_prev (handed to step t-1)."""
    return {
        "dh_out": back.dhs[t].T,
        "dh_next": back.dh_prev[t + 1].T,
        "dh": back.dh[t].T,
        "dz": back.dz[t].T,
        "dh_prev": back.dh_prev[t].T,
    }


def rnn_backward_finish(cache: RNNCache, back: RNNBackward) -> dict[str, np.ndarray]:
    """The weight gradients (GEMMs over every step), dx, dh0, and dh (N, T, H)."""
    hid = back.dh.shape[1]
    grads = weight_grads(back.dz, cache.hx, cache.w_ih, hid, cache.w_ih.shape[1])
    grads["dh0"] = np.ascontiguousarray(back.dh_prev[0].T)
    grads["dh"] = back.dh.transpose(2, 0, 1)
    return grads


def rnn_backward(dhs: np.ndarray, cache: RNNCache) -> dict[str, np.ndarray]:
    """BPTT for `rnn`: {dx, dh0, dw_ih, dw_hh, db_ih, db_hh} and dh (N, T, H), the
    total dL/dh_t of every step (from the loss at t plus from step t+1)."""
    back = rnn_backward_start(dhs, cache)
    for t in reversed(range(back.dh.shape[0])):
        rnn_backward_step(cache, back, t)
    return rnn_backward_finish(cache, back)
