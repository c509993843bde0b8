"""Heads on a recurrent layer's hidden states, and the sequence losses.

- many-to-one: a dense layer on the last hidden state -> (N, K), one output per
  sequence (a label for the whole sequence). For a bidirectional layer "the last
  state" is each direction's final one: [h_fwd at T-1 ; h_bwd at 0], what
  PyTorch returns as h_n.
- many-to-many: the same dense layer on every hidden state -> (N, T, K), one
  output per time step.
Weights as nn.Linear: w (K, F), b (K,), F the hidden state's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.functional._validate import as_float, check_finite, common_dtype
from engine.functional.losses import check_labels, mse, softmax_cross_entropy_kernel

HEADS = ("many-to-one", "many-to-many")


@dataclass
class HeadCache:
    hs_shape: tuple[int, int, int]
    feats: np.ndarray  # (N, F) last states, or (N*T, F) every state
    w: np.ndarray
    split: int | None  # bidirectional many-to-one: the forward direction's size H


def _check(hs: object, w: object, b: object, finite: bool) -> tuple[np.ndarray, ...]:
    hs = as_float(hs, "hs", 3, "(N, T, F): hidden states")
    w = as_float(w, "w", 2, "(K, F)")
    b = as_float(b, "b", 1, "(K,)")
    if min(hs.shape) == 0:
        raise ValueError(f"hs has an empty axis: shape {hs.shape} (N, T, F)")
    if w.shape[1] != hs.shape[2]:
        raise ValueError(
            f"feature mismatch: hidden states have F = {hs.shape[2]} but w expects "
            f"{w.shape[1]} (w shape (K, F) = {w.shape})"
        )
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},); got {b.shape}")
    if finite:
        for name, a in (("hs", hs), ("w", w), ("b", b)):
            check_finite(a, name)
    dt = common_dtype(hs, w, b)
    return tuple(a.astype(dt, copy=False) for a in (hs, w, b))


def last_states(hs: np.ndarray, bidirectional: bool = False) -> np.ndarray:
    """(N, F): hs[:, -1], or [hs[:, -1, :H] ; hs[:, 0, H:]] for a bidirectional layer."""
    if not bidirectional:
        return hs[:, -1]
    hid = hs.shape[2] // 2
    return np.concatenate([hs[:, -1, :hid], hs[:, 0, hid:]], axis=1)


def head_many_to_one(
    hs: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    *,
    bidirectional: bool = False,
    check_finite: bool = True,
) -> tuple[np.ndarray, HeadCache]:
    """out (N, K) = last_states(hs) @ w.T + b."""
    hs, w, b = _check(hs, w, b, check_finite)
    if bidirectional and hs.shape[2] % 2:
        raise ValueError(f"a bidirectional layer's states have an even size 2H; got {hs.shape}")
    feats = last_states(hs, bidirectional)
    split = hs.shape[2] // 2 if bidirectional else None
    return feats @ w.T + b, HeadCache(hs.shape, feats, w, split)


def head_many_to_one_backward(
    dout: np.ndarray, cache: HeadCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dhs, dw, db): dhs is zero except where the last states were taken."""
    n, t_len, f = cache.hs_shape
    dout = _check_dout(dout, (n, cache.w.shape[0]), cache.w.dtype)
    dfeat = dout @ cache.w
    dhs = np.zeros(cache.hs_shape, cache.w.dtype)
    if cache.split is None:
        dhs[:, -1] = dfeat
    else:
        dhs[:, -1, : cache.split] = dfeat[:, : cache.split]
        dhs[:, 0, cache.split :] = dfeat[:, cache.split :]
    return dhs, dout.T @ cache.feats, np.add.reduce(dout, axis=0)


def head_many_to_many(
    hs: np.ndarray, w: np.ndarray, b: np.ndarray, *, check_finite: bool = True
) -> tuple[np.ndarray, HeadCache]:
    """out (N, T, K): the dense layer on every hidden state."""
    hs, w, b = _check(hs, w, b, check_finite)
    n, t_len, f = hs.shape
    feats = hs.reshape(n * t_len, f)
    out = (feats @ w.T + b).reshape(n, t_len, w.shape[0])
    return out, HeadCache(hs.shape, feats, w, None)


def head_many_to_many_backward(
    dout: np.ndarray, cache: HeadCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dhs, dw, db) summed over every sample and time step."""
    n, t_len, f = cache.hs_shape
    k = cache.w.shape[0]
    d2 = _check_dout(dout, (n, t_len, k), cache.w.dtype).reshape(n * t_len, k)
    return (d2 @ cache.w).reshape(n, t_len, f), d2.T @ cache.feats, np.add.reduce(d2, axis=0)


def _check_dout(dout: object, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    d = as_float(dout, "dout")
    if d.shape != shape:
        raise ValueError(f"dout must have shape {shape}; got {d.shape}")
    return d.astype(dtype, copy=False)


def sequence_loss(
    out: np.ndarray, target: np.ndarray, loss: str
) -> tuple[float, np.ndarray, np.ndarray | None]:
    """(loss, dout, probabilities or None) for a head's output.

    "softmax_cross_entropy": out (N, K) with labels (N,), or out (N, T, K) with
    labels (N, T); the mean over every labelled position. "mse": the mean of
    (out - target)^2 over every element; a target of shape (N, T) fits an output
    (N, T, 1).
    """
    out = as_float(out, "out")
    if loss == "softmax_cross_entropy":
        if out.ndim not in (2, 3):
            raise ValueError(f"logits must be (N, K) or (N, T, K); got shape {out.shape}")
        k = out.shape[-1]
        flat = out.reshape(-1, k)
        t = np.asarray(target)
        want = out.shape[:-1]
        if t.shape != want:
            raise ValueError(f"labels must have shape {want}, one per output; got {t.shape}")
        y = check_labels(t.reshape(-1), flat.shape[0], k)
        value, probs, dflat = softmax_cross_entropy_kernel(flat, y)
        return value, dflat.reshape(out.shape), probs.reshape(out.shape)
    if loss == "mse":
        t = as_float(target, "target")
        if t.shape != out.shape and t.size == out.size and out.shape[-1] == 1:
            t = t.reshape(out.shape)
        value, dout = mse(out, t)
        return value, dout, None
    raise ValueError(f"unknown loss {loss!r}; choose softmax_cross_entropy or mse")
