"""Fully connected (dense) layers and flattening.

Weights in PyTorch's nn.Linear layout, w (M, D) for D inputs and M outputs, so
they can be exchanged with PyTorch: out = x @ w.T + b.
"""

from __future__ import annotations

import math

import numpy as np

from engine.functional._validate import as_float, check_same_shape, common_dtype
from engine.functional._validate import check_finite as _finite


def dense(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, *, check_finite: bool = True
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """out (N, M) = x (N, D) @ w.T (D, M) + b (M,)."""
    x = as_float(x, "x", 2, "(N, D)")
    w = as_float(w, "w", 2, "(M, D)")
    b = as_float(b, "b", 1, "(M,)")
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"feature mismatch: x has {x.shape[1]} features but w expects {w.shape[1]} "
            f"(w shape (M, D) = {w.shape})"
        )
    if b.shape[0] != w.shape[0]:
        raise ValueError(f"b must have shape ({w.shape[0]},); got {b.shape}")
    if check_finite:
        for name, a in (("x", x), ("w", w), ("b", b)):
            _finite(a, name)
    dt = common_dtype(x, w, b)
    x, w, b = (a.astype(dt, copy=False) for a in (x, w, b))
    return x @ w.T + b, (x, w)


def dense_backward(
    dout: np.ndarray, cache: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db): dx = dout @ w, dw = dout.T @ x, db = sum of dout over the batch."""
    x, w = cache
    dout = as_float(dout, "dout", 2, "(N, M)").astype(w.dtype, copy=False)
    if dout.shape != (x.shape[0], w.shape[0]):
        raise ValueError(f"dout must have shape {(x.shape[0], w.shape[0])}; got {dout.shape}")
    return dout @ w, dout.T @ x, dout.sum(axis=0)


def flatten(x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """(N, ...) -> (N, prod(...)), row-major (C, H, W order, as torch.flatten(x, 1))."""
    x = as_float(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and at least one more; got shape {x.shape}")
    return x.reshape(x.shape[0], -1), x.shape


def flatten_backward(dout: np.ndarray, cache: tuple[int, ...]) -> np.ndarray:
    """dout (N, D) back to the input's shape."""
    return check_same_shape(dout, (cache[0], math.prod(cache[1:]))).reshape(cache)
