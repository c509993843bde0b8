"""Losses: softmax cross-entropy for classes, mean squared error for values."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from engine.functional._validate import as_float


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K); the row maximum is subtracted first so e^x never overflows."""
    logits = as_float(logits, "logits", 2, "(N, K)")
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def check_labels(labels: object, n: int, k: int) -> np.ndarray:
    """Integer class labels (N,) in [0, K-1], or ValueError saying what is wrong."""
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},), one per sample; got {y.shape}")
    if y.dtype.kind not in "iu":
        whole = (
            y.dtype.kind == "f" and bool(np.isfinite(y).all()) and bool(np.all(np.mod(y, 1) == 0))
        )
        if y.size and not whole:
            raise ValueError(f"labels must be integer class indices; got dtype {y.dtype}")
        if y.size and (y.min() < 0 or y.max() >= k):  # before the cast: 1e300 would wrap
            raise ValueError(
                f"labels must be in [0, {k - 1}] for {k} classes; got {y.min()}, {y.max()}"
            )
        y = y.astype(np.int64)
    lo, hi = _min_max(y) if y.size else (0, 0)
    if lo < 0 or hi >= k:
        bad = y[(y < 0) | (y >= k)][0]
        raise ValueError(f"labels must be in [0, {k - 1}] for {k} classes; got {bad}")
    return y.astype(np.intp, copy=False)  # in range, so exact for any integer type (uint64)


def _min_max(y: np.ndarray) -> tuple[int, int]:
    """A small batch's labels through Python's min and max: a fifth of NumPy's reductions' cost."""
    if y.size <= 64:
        v = y.tolist()
        return min(v), max(v)
    return int(y.min()), int(y.max())


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over the batch of -log softmax(logits)[label]; returns (loss, dlogits).

    Computed as logsumexp(z - max z) - (z[label] - max z), stable for logits of 1e4.
    dlogits = (softmax(z) - onehot(label)) / N.
    """
    z = as_float(logits, "logits", 2, "(N, K)")
    loss, _, dlogits = softmax_cross_entropy_kernel(z, check_labels(labels, *z.shape))
    return loss, dlogits


def softmax_cross_entropy_kernel(
    z: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """(loss, probabilities, dlogits) for checked logits (N, K) and labels (N,)."""
    # ufunc.reduce rather than .max()/.sum(), flat indices (take/put) rather than
    # (rows, y) pairs, Python's exact fsum for the N log-probabilities: same result, a
    # fraction of the call overhead, which dominates at classroom sizes.
    n, k = z.shape
    shifted = z - np.maximum.reduce(z, axis=1, keepdims=True)
    e = np.exp(shifted)
    total = np.add.reduce(e, axis=1, keepdims=True)
    probs = e / total
    at_label = _row_starts(n, k) + y  # flat index of each row's label
    dlogits = probs.copy()
    flat = dlogits.ravel()  # a view (a fresh copy is contiguous); take/put: cheaper than [...]
    flat.put(at_label, flat.take(at_label) - 1)
    if n > 1:
        dlogits /= n
    logp = shifted.ravel().take(at_label) - np.log(total.ravel())
    return -math.fsum(logp.tolist()) / n, probs, dlogits


@lru_cache(maxsize=64)
def _row_starts(n: int, k: int) -> np.ndarray:
    """0, K, 2K, ...: the flat index where each of N rows of K starts (read-only)."""
    starts = np.arange(0, n * k, k)
    starts.flags.writeable = False
    return starts


def mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over every element of (pred - target)^2.

    Returns (loss, dpred) with dpred = 2 (pred - target) / size.
    """
    p = as_float(pred, "pred")
    t = as_float(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"target must have the prediction's shape {p.shape}; got {t.shape}")
    diff = p - t.astype(p.dtype, copy=False)
    # A diverged run's outputs (~1e21) square past float32: the loss is then Inf, which the
    # trace flags (finite: false, nonfinite counts) and training reports as diverged.
    with np.errstate(over="ignore"):
        return float(np.mean(diff * diff)), diff * (2 / diff.size)


def one_hot(labels: np.ndarray, k: int, dtype: type | np.dtype = np.float64) -> np.ndarray:
    """(N, K) rows of zeros with a 1 at each label's column; labels (N,) in [0, K-1]."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must have shape (N,), one per sample; got {y.shape}")
    y = check_labels(y, y.shape[0], k)
    out = np.zeros((y.shape[0], k), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out


def mse_onehot(pred: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error of outputs (N, K) against one-hot class targets: the classic
    BP network's loss, each output neuron pushed towards 1 for its class and 0 otherwise.

    L = mean over all N x K elements of (pred - onehot(labels))^2, as
    torch.nn.functional.mse_loss(pred, one_hot(labels).float()); returns (loss, dpred)
    with dpred = 2 (pred - onehot) / (N K).
    """
    p = as_float(pred, "pred", 2, "(N, K)")
    loss, _, dpred = mse_onehot_kernel(p, check_labels(labels, *p.shape))
    return loss, dpred


def mse_onehot_kernel(p: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(loss, one-hot targets, dpred) for checked outputs (N, K) and labels (N,)."""
    target = one_hot(y, p.shape[1], p.dtype)
    loss, dpred = mse(p, target)
    return loss, target, dpred
