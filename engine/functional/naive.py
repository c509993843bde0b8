"""Loop versions of convolution and pooling: the reference for the fast ones and
the teaching mode for tiny inputs. They say the math one multiply at a time and
are 100-5000x slower; never use them for anything but small tensors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.functional._validate import as_float, out_size, pair
from engine.functional.conv import conv_output_shape
from engine.functional.pool import pool_output_shape

NaiveConvCache = tuple[np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]]


def conv2d_naive(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> tuple[np.ndarray, NaiveConvCache]:
    """Cross-correlation by loops: out[n,f,i,j] = b[f] + sum window * kernel."""
    x, w, b = as_float(x, "x", 4), as_float(w, "w", 4), as_float(b, "b", 1)
    n, f, oh, ow = conv_output_shape(x.shape, w.shape, stride, padding)
    (sh, sw), (ph, pw) = pair(stride, "stride", 1), pair(padding, "padding", 0)
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((n, f, oh, ow), dtype=np.result_type(x, w, b))
    for s in range(n):
        for k in range(f):
            for i in range(oh):
                for j in range(ow):
                    window = xp[s, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    out[s, k, i, j] = np.sum(window * w[k]) + b[k]
    return out, (x, w, (sh, sw), (ph, pw))


def conv2d_backward_naive(
    dout: np.ndarray, cache: NaiveConvCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every output hands its delta back through the weights that made it."""
    x, w, (sh, sw), (ph, pw) = cache
    n, f, oh, ow = dout.shape
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp, dtype=np.result_type(x, w))
    dw = np.zeros_like(w)
    for s in range(n):
        for k in range(f):
            for i in range(oh):
                for j in range(ow):
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    dxp[s, :, rows, cols] += dout[s, k, i, j] * w[k]
                    dw[k] += dout[s, k, i, j] * xp[s, :, rows, cols]
    dx = dxp[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def _pool_geometry(
    x: np.ndarray, size: int | Sequence[int], stride: int | Sequence[int] | None
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int, int, int]]:
    k = pair(size, "pool size", 1)
    s = pair(size if stride is None else stride, "stride", 1)
    return k, s, pool_output_shape(x.shape, size, stride)


def max_pool2d_naive(
    x: np.ndarray, size: int | Sequence[int] = 2, stride: int | Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(out, argmax): each window's max, and argmax (N, C, OH, OW, 2), the (row, column)
    in x of each window's first maximum (what max_pool2d_backward_naive routes to)."""
    x = as_float(x, "x", 4)
    (kh, kw), (sh, sw), (n, c, oh, ow) = _pool_geometry(x, size, stride)
    out = np.zeros((n, c, oh, ow), dtype=x.dtype)
    argmax = np.zeros((n, c, oh, ow, 2), dtype=np.int64)
    for s in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    window = x[s, ch, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    u, v = np.unravel_index(np.argmax(window), window.shape)  # first max
                    out[s, ch, i, j] = window[u, v]
                    argmax[s, ch, i, j] = (i * sh + u, j * sw + v)
    return out, argmax


def max_pool2d_backward_naive(
    dout: np.ndarray, argmax: np.ndarray, x_shape: tuple[int, ...]
) -> np.ndarray:
    """The delta goes to the recorded max position with weight 1; others get 0."""
    dx = np.zeros(x_shape, dtype=dout.dtype)
    n, c, oh, ow = dout.shape
    for s in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    r, q = argmax[s, ch, i, j]
                    dx[s, ch, r, q] += dout[s, ch, i, j]
    return dx


def avg_pool2d_naive(
    x: np.ndarray, size: int | Sequence[int] = 2, stride: int | Sequence[int] | None = None
) -> np.ndarray:
    """Each window's mean."""
    x = as_float(x, "x", 4)
    (kh, kw), (sh, sw), (n, c, oh, ow) = _pool_geometry(x, size, stride)
    out = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw].mean(axis=(2, 3))
    return out


def avg_pool2d_backward_naive(
    dout: np.ndarray,
    x_shape: tuple[int, ...],
    size: int | Sequence[int] = 2,
    stride: int | Sequence[int] | None = None,
) -> np.ndarray:
    """Every position of a window gets delta / area."""
    (kh, kw) = pair(size, "pool size", 1)
    sh, sw = pair(size if stride is None else stride, "stride", 1)
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += dout[:, :, i, j, None, None] / (
                kh * kw
            )
    return dx


__all__ = [
    "avg_pool2d_backward_naive",
    "avg_pool2d_naive",
    "conv2d_backward_naive",
    "conv2d_naive",
    "max_pool2d_backward_naive",
    "max_pool2d_naive",
    "out_size",
]
