"""2-D convolution as deep learning means it: cross-correlation.

The kernel slides over the (zero-padded) image; at each position the window and
the kernel are multiplied element-wise and summed, plus the kernel's bias. No
kernel flip: that is what signal processing calls cross-correlation, and what
every deep-learning library calls convolution. `conv2d_true` flips the kernel
for the comparison with true convolution.

Shapes: x (N, C, H, W), w (F, C, KH, KW), b (F,), out (N, F, OH, OW) with
    OH = floor((H + 2 * ph - KH) / sh) + 1,   OW likewise,
which for stride 1 and no padding is the lecture's (m - f + 1) x (n - f + 1).

One output channel per kernel = the sum over input channels of a 2-D
cross-correlation, plus bias: F x C 2-D convolutions in all (`conv2d_partials`).

Fast paths: for stride 1 the "wide" layout of `conv_wide` (one strided copy of
the padded input, one GEMM); for other strides channels-first im2col
(C*KH*KW, N*OH*OW) built from KH*KW strided slices, then one GEMM, the backward
pass scattering the column gradient back with col2im (KH*KW strided adds), which
measured 3-4x faster than a full correlation with the flipped kernel. The loop
versions in `naive.py` are the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from engine.functional import conv_wide as wide
from engine.functional._validate import (
    as_float,
    check_finite,
    common_dtype,
    out_size,
    pair,
    sum_is_finite,
)
from engine.functional.conv_wide import Wide


@dataclass(slots=True)
class ConvCache:
    """What the backward pass needs from the forward one.

    `cols` holds the input's windows, one row per (channel, kernel row, kernel col):
    one column per output position (N*OH*OW), or, for stride 1 (`wide`), one per
    position of the padded input (see engine.functional.conv_wide)."""

    x_shape: tuple[int, int, int, int]
    w: np.ndarray
    cols: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int]
    out_hw: tuple[int, int]
    wide: Wide | None = None  # stride 1: the wide layout's geometry (engine.functional.conv_wide)


def conv_output_shape(
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> tuple[int, int, int, int]:
    """(N, F, OH, OW) for input (N, C, H, W) and kernels (F, C, KH, KW); checks they fit."""
    if len(x_shape) != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W); got shape {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ValueError(f"w must be 4-D (F, C, KH, KW); got shape {tuple(w_shape)}")
    n, c, h, wd = x_shape
    f, cw, kh, kw = w_shape
    sh, sw = pair(stride, "stride", 1)
    ph, pw = pair(padding, "padding", 0)
    if c != cw:
        raise ValueError(
            f"channel mismatch: x has {c} channel(s) but each kernel has {cw} "
            f"(x shape {tuple(x_shape)}, w shape {tuple(w_shape)})"
        )
    if min(n, c, h, wd, f, kh, kw) < 1:
        raise ValueError(f"empty dimension in x {tuple(x_shape)} or w {tuple(w_shape)}")
    if kh > h + 2 * ph or kw > wd + 2 * pw:
        raise ValueError(
            f"kernel {kh}x{kw} is larger than the padded input "
            f"{h + 2 * ph}x{wd + 2 * pw} (H + 2*padding x W + 2*padding)"
        )
    return n, f, out_size(h, kh, sh, ph), out_size(wd, kw, sw, pw)


def _check(
    x: object,
    w: object,
    b: object,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    finite: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]]:
    x = as_float(x, "x", 4, "(N, C, H, W)")
    w = as_float(w, "w", 4, "(F, C, KH, KW)")
    b = as_float(b, "b", 1, "(F,)")
    if b.shape[0] != w.shape[0]:
        raise ValueError(f"b must have one bias per kernel: shape ({w.shape[0]},); got {b.shape}")
    conv_output_shape(x.shape, w.shape, stride, padding)
    if finite:
        check_finite(x, "x")
        check_finite(w, "w")
        check_finite(b, "b")
    dt = common_dtype(x, w, b)
    return (
        x.astype(dt, copy=False),
        w.astype(dt, copy=False),
        b.astype(dt, copy=False),
        pair(stride, "stride", 1),
        pair(padding, "padding", 0),
    )


def _windows(h: int, w: int, kh: int, kw: int, sh: int, sw: int, oh: int, ow: int):  # noqa: ANN202
    """(i, j, rows, cols): the strided slice of the padded input each kernel tap sees."""
    for i in range(kh):
        for j in range(kw):
            yield i, j, slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw)


SMALL_OUTPUT = 4096  # output positions (N*OH*OW) below which im2col uses one strided copy


def im2col(
    x: np.ndarray, kh: int, kw: int, stride: tuple[int, int], padding: tuple[int, int]
) -> tuple[np.ndarray, tuple[int, int]]:
    """Channels-first columns (C*KH*KW, N*OH*OW) of x (N, C, H, W), and (OH, OW)."""
    n, c, h, w = x.shape
    (sh, sw), (ph, pw) = stride, padding
    oh, ow = out_size(h, kh, sh, ph), out_size(w, kw, sw, pw)
    xc = x.transpose(1, 0, 2, 3)
    if ph or pw:
        xp = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
        xp[:, :, ph : ph + h, pw : pw + w] = xc
    else:
        xp = xc
    if n * oh * ow <= SMALL_OUTPUT:
        # Small maps: one strided view and one copy beat KH*KW slice copies, whose
        # per-call cost dominates; large maps copy faster slice by slice.
        s0, s1, s2, s3 = xp.strides
        view = as_strided(xp, (c, kh, kw, n, oh, ow), (s0, s2, s3, s1, s2 * sh, s3 * sw))
        return view.reshape(c * kh * kw, n * oh * ow), (oh, ow)
    cols = np.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)
    for i, j, rows, cs in _windows(h, w, kh, kw, sh, sw, oh, ow):
        cols[:, i, j] = xp[:, :, rows, cs]
    return cols.reshape(c * kh * kw, n * oh * ow), (oh, ow)


def col2im(
    dcols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kh: int,
    kw: int,
    stride: tuple[int, int],
    padding: tuple[int, int],
    out_hw: tuple[int, int],
) -> np.ndarray:
    """Scatter-add column gradients (C*KH*KW, N*OH*OW) back to dx (N, C, H, W)."""
    n, c, h, w = x_shape
    (sh, sw), (ph, pw), (oh, ow) = stride, padding, out_hw
    d6 = dcols.reshape(c, kh, kw, n, oh, ow)
    dxp = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=dcols.dtype)
    for i, j, rows, cs in _windows(h, w, kh, kw, sh, sw, oh, ow):
        dxp[:, :, rows, cs] += d6[:, i, j]
    return np.ascontiguousarray(dxp[:, :, ph : ph + h, pw : pw + w].transpose(1, 0, 2, 3))


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    *,
    check_finite: bool = True,
) -> tuple[np.ndarray, ConvCache]:
    """Cross-correlate x (N, C, H, W) with F kernels w (F, C, KH, KW), add b (F,).

    out[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xpad[n, c, i*sh + u, j*sw + v]
    out shape (N, F, OH, OW), OH = floor((H + 2*ph - KH) / sh) + 1 (W likewise).
    Zero padding; stride and padding are an int or an (h, w) pair.
    `check_finite=False` lets a diverged network's NaN flow through (it is shown, not refused).
    """
    return conv2d_forward(*_check(x, w, b, stride, padding, check_finite))


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: tuple[int, int], padding: tuple[int, int]
) -> tuple[np.ndarray, ConvCache]:
    """The unchecked kernel behind conv2d: same dtypes, pairs, shapes known to fit."""
    n, f, kh, kw = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    if stride == (1, 1):
        g = wide.wide_geometry(x.shape, kh, kw, padding, x.itemsize)
        cols = wide.cols(x, g)
        flat = w.reshape(f, -1).dot(cols)  # 2-D dot: less overhead than @
        flat += b[:, None]
        out = wide.crop(flat, g).copy()
        return out, ConvCache(x.shape, w, cols, stride, padding, out.shape[2:], g)
    cols, (oh, ow) = im2col(x, kh, kw, stride, padding)
    out = w.reshape(f, -1).dot(cols)
    out += b[:, None]
    out = np.ascontiguousarray(out.reshape(f, n, oh, ow).transpose(1, 0, 2, 3))
    return out, ConvCache(x.shape, w, cols, stride, padding, (oh, ow))


def conv2d_backward(
    dout: np.ndarray, cache: ConvCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv2d from dout (N, F, OH, OW).

    dx[n, c, y, x] = sum over every output (f, i, j) that window touched of
    dout[n, f, i, j] * w[f, c, y - i*sh, x - j*sw]: each pixel's delta is the sum of
    the deltas it influenced times the weights that linked them (the lecture's
    "A touches C with weight B"). dw = dout (x) windows, db = sum of dout.
    """
    f = cache.w.shape[0]
    expected = (cache.x_shape[0], f, *cache.out_hw)
    dout = as_float(dout, "dout", 4, "(N, F, OH, OW)").astype(cache.w.dtype, copy=False)
    if dout.shape != expected:
        raise ValueError(f"dout must have shape {expected}; got {dout.shape}")
    return conv2d_backward_kernel(dout, cache)


def conv2d_backward_kernel(
    dout: np.ndarray, cache: ConvCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The unchecked kernel behind conv2d_backward."""
    g, w = cache.wide, cache.w
    if g:
        buf = wide.laid_out(dout, g, w.shape[0])
        dx = wide.input_delta(buf, w, g) if sum_is_finite(w) else _dx_cols(dout, cache)
        return dx, wide.weight_grad(dout, buf, w, cache.cols, g), wide.row_sums(buf)
    dw, db = conv2d_backward_params(dout, cache)
    return _dx_cols(dout, cache), dw, db


def conv2d_backward_params(dout: np.ndarray, cache: ConvCache) -> tuple[np.ndarray, np.ndarray]:
    """(dw, db) alone: all a first layer needs (nothing below it wants its dx)."""
    g, w = cache.wide, cache.w
    if g:
        buf = wide.laid_out(dout, g, w.shape[0])
        return wide.weight_grad(dout, buf, w, cache.cols, g), wide.row_sums(buf)
    f = cache.w.shape[0]
    d2 = dout.transpose(1, 0, 2, 3).reshape(f, -1)
    return (d2 @ cache.cols.T).reshape(cache.w.shape), np.add.reduce(d2, axis=1)


def conv2d_backward_input(dout: np.ndarray, cache: ConvCache) -> np.ndarray:
    """dx alone: each input pixel's delta from the outputs it influenced."""
    g, w = cache.wide, cache.w
    if g and sum_is_finite(w):
        return wide.input_delta(wide.laid_out(dout, g, w.shape[0]), w, g)
    return _dx_cols(dout, cache)


def _dx_cols(dout: np.ndarray, cache: ConvCache) -> np.ndarray:
    """dx as column gradients scattered back with col2im (any stride; only kept windows)."""
    f, _, kh, kw = cache.w.shape
    dcols = cache.w.reshape(f, -1).T @ dout.transpose(1, 0, 2, 3).reshape(f, -1)
    return col2im(dcols, cache.x_shape, kh, kw, cache.stride, cache.padding, cache.out_hw)


def conv2d_partials(cache: ConvCache) -> np.ndarray:
    """The F x C partial 2-D maps (N, F, C, OH, OW) of the latest forward pass.

    partial[n, f, c] is channel c of the input cross-correlated with channel c of
    kernel f; summing over c and adding b[f] gives out[n, f].
    """
    n, c = cache.x_shape[:2]
    f, _, kh, kw = cache.w.shape
    oh, ow = cache.out_hw
    cols = cache.cols.reshape(c, kh * kw, -1)
    per_channel = np.matmul(cache.w.reshape(f, c, kh * kw).transpose(1, 0, 2), cols)
    if cache.wide:  # (C, F, MV) -> (N, C*F, OH, OW) over the kept positions
        kept = wide.crop(per_channel.reshape(c * f, -1), cache.wide).reshape(n, c, f, oh, ow)
        return np.ascontiguousarray(kept.transpose(0, 2, 1, 3, 4))
    return np.ascontiguousarray(per_channel.reshape(c, f, n, oh, ow).transpose(2, 1, 0, 3, 4))


def conv2d_true(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> tuple[np.ndarray, ConvCache]:
    """True (signal-processing) convolution: the kernel flipped in both spatial axes.

    Identical to conv2d with w[:, :, ::-1, ::-1]; shown beside cross-correlation to
    make the difference visible (they agree only for symmetric kernels).
    """
    w = as_float(w, "w", 4, "(F, C, KH, KW)")
    return conv2d(x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), b, stride, padding)


def conv2d_true_backward(
    dout: np.ndarray, cache: ConvCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db) of conv2d_true, with dw for the kernel as given (flipped back)."""
    dx, dw_flipped, db = conv2d_backward(dout, cache)
    return dx, np.ascontiguousarray(dw_flipped[:, :, ::-1, ::-1]), db
