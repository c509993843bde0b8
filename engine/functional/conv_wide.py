"""Stride-1 convolution in the "wide" layout (engine.functional.conv's fast path).

Lay the padded input out flat per channel, (C, N*HP*WP), and give every position
of it a column, whether or not a window starting there fits. Kernel tap (u, v)
then sees the same flat rows shifted by u*WP + v, so the windows are one strided
view whose rows are contiguous runs (a fast copy), and the backward pass shifts
each tap's contribution back by the same offset (see `input_delta`). Columns
whose window does not fit (row >= OH or col >= OW) are computed and dropped: for
the small maps a student steps through, fewer and simpler NumPy calls beat
computing only what is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided

from engine.functional._validate import sum_is_finite


@dataclass(frozen=True, slots=True)
class Wide:
    """The wide layout's geometry for one input shape, kernel shape, padding and
    item size (made once: see `wide_geometry`). Positions: M = N*HP*WP in the flat
    layout; MV of them get a column (up to the last valid window's position, so
    reads stay in bounds); OMAX = (KH-1)*WP + KW-1 is the largest tap shift. The
    views' byte strides are for `itemsize`: `at` gives the geometry for another."""

    x_shape: tuple[int, int, int, int]
    kh: int
    kw: int
    padding: tuple[int, int]
    itemsize: int
    hp: int
    wp: int
    m: int
    mv: int
    omax: int
    cols_view: tuple[tuple[int, ...], tuple[int, ...]]  # (C, KH, KW, MV) over the flat layout
    crop: tuple[tuple[int, ...], tuple[int, ...]]  # rows x MV seen as (N, rows, OH, OW)
    dx_view: tuple[tuple[int, ...], tuple[int, ...], int]  # (C, M) seen as x's (N, C, H, W)
    direct: bool  # one sample, no padding: the flat layout is x itself

    def at(self, itemsize: int) -> Wide:
        """This geometry for arrays of another item size (a float64 delta on float32 x)."""
        if itemsize == self.itemsize:
            return self
        return wide_geometry(self.x_shape, self.kh, self.kw, self.padding, itemsize)


@lru_cache(maxsize=256)
def wide_geometry(
    x_shape: tuple[int, int, int, int], kh: int, kw: int, padding: tuple[int, int], itemsize: int
) -> Wide:
    n, c, h, w = x_shape
    (ph, pw), it = padding, itemsize
    hp, wp = h + 2 * ph, w + 2 * pw
    m = n * hp * wp
    mv = m - (kh - 1) * wp - kw + 1
    oh, ow = hp - kh + 1, wp - kw + 1
    return Wide(
        x_shape, kh, kw, padding, itemsize, hp, wp, m, mv, (kh - 1) * wp + kw - 1,
        ((c, kh, kw, mv), (m * it, wp * it, it, it)),
        ((n, -1, oh, ow), (hp * wp * it, -1, wp * it, it)),
        ((n, c, h, w), (hp * wp * it, m * it, wp * it, it), (ph * wp + pw) * it),
        n == 1 and not (ph or pw),
    )  # fmt: skip


def cols(x: np.ndarray, g: Wide) -> np.ndarray:
    """(C*KH*KW, MV): row (c, u, v), column p = padded channel c at flat position p + u*WP + v."""
    n, c, h, w = x.shape
    g = g.at(x.itemsize)
    if g.direct and x.flags.c_contiguous:
        flat = x  # already (C, H*W) in memory
    else:
        (ph, pw) = g.padding
        flat = np.zeros((c, n, g.hp, g.wp), dtype=x.dtype)
        flat[:, :, ph : ph + h, pw : pw + w] = x.transpose(1, 0, 2, 3)
    shape, strides = g.cols_view
    return np.ndarray(shape, x.dtype, flat, 0, strides).reshape(c * g.kh * g.kw, g.mv)


def crop(a: np.ndarray, g: Wide) -> np.ndarray:
    """View rows x MV as (N, rows, OH, OW): the positions whose window fits."""
    (n, _, oh, ow), (sn, _, si, sj) = g.at(a.itemsize).crop
    row, col = a.strides
    if col == a.itemsize and a.flags.c_contiguous:  # the usual case: the cheap constructor
        return np.ndarray((n, a.shape[0], oh, ow), a.dtype, a, 0, (sn, row, si, sj))
    # e.g. the columns of one channel and a one-column kernel: a view of x itself
    k = col // a.itemsize
    strides = (sn * k, row, si * k, sj * k)
    return as_strided(a, (n, a.shape[0], oh, ow), strides, writeable=False)


def laid_out(dout: np.ndarray, g: Wide, f: int) -> np.ndarray:
    """dout (N, F, OH, OW) laid out wide, after OMAX zeros (room for the largest tap
    shift): (F, OMAX + M), zeros where no window fits."""
    n, oh, ow, it = g.x_shape[0], g.hp - g.kh + 1, g.wp - g.kw + 1, dout.itemsize
    if dout.shape != (n, f, oh, ow):
        raise ValueError(f"dout must have shape {(n, f, oh, ow)}; got {dout.shape}")
    buf = np.zeros((f, g.omax + g.m), dtype=dout.dtype)
    strides = (g.hp * g.wp * it, buf.shape[1] * it, g.wp * it, it)
    np.copyto(np.ndarray(dout.shape, dout.dtype, buf, g.omax * it, strides), dout)
    return buf


def weight_grad(
    dout: np.ndarray, buf: np.ndarray, w: np.ndarray, cols_: np.ndarray, g: Wide
) -> np.ndarray:
    """dw from the laid-out delta `buf` and the forward's columns: dropped columns
    meet a zero delta and add nothing."""
    dw = buf[:, g.omax : g.omax + g.mv].dot(cols_.T)
    if not sum_is_finite(dw):
        # With Inf in the input (a diverged network) a dropped column's 0 * Inf is
        # NaN where the true sum may be finite: sum over the kept columns only.
        rows = cols_.shape[0]
        kept = crop(cols_, g).transpose(1, 0, 2, 3).reshape(rows, -1)
        dw = dout.transpose(1, 0, 2, 3).reshape(dout.shape[1], -1) @ kept.T
    return dw.reshape(w.shape)


def row_sums(buf: np.ndarray) -> np.ndarray:
    """Each row's sum (db from the laid-out delta): a BLAS product with ones, 3-4x
    faster at these sizes than np.add.reduce along the rows."""
    return buf.dot(_ones(buf.shape[1], buf.dtype))


@lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


SMALL_DX = 100_000  # F*KH*KW*N*HP*WP below which dx is one GEMM over shifted deltas


def input_delta(buf: np.ndarray, w: np.ndarray, g: Wide) -> np.ndarray:
    """dx from the laid-out delta `buf`, each pixel's delta from the outputs it fed.
    Small layers: one GEMM of the kernels with the wide delta seen at every tap's
    shift (a strided view with negative strides into the zeros before it, copied
    once). Large ones: one GEMM to column gradients, then each tap's shifted back
    by u*WP + v in one 1-D add (a copy as large as F*KH*KW times the map costs
    more than the adds there)."""
    f, c, kh, kw = w.shape
    it, m, omax = buf.itemsize, g.m, g.omax
    if f * kh * kw * m <= SMALL_DX:
        # shifted[f, u, v, p] = dout_wide[f, p - u*WP - v] (0 before the start)
        strides = (buf.shape[1] * it, -g.wp * it, -it, it)
        shifted = np.ndarray((f, kh, kw, m), buf.dtype, buf, omax * it, strides)
        w2 = w.transpose(1, 0, 2, 3).reshape(c, f * kh * kw)
        dxp = w2.dot(shifted.reshape(f * kh * kw, m))
    else:
        wt = w.transpose(2, 3, 1, 0).reshape(kh * kw * c, f)
        dcols = (wt @ buf[:, omax:]).reshape(kh * kw, c * m)
        flat = np.zeros(c * m + omax + 1, dtype=buf.dtype)
        for t in range(kh * kw):
            o = (t // kw) * g.wp + t % kw
            flat[o : o + c * m] += dcols[t]
        dxp = flat
    shape, dx_strides, offset = g.at(dxp.itemsize).dx_view  # padded (C, N, HP, WP), cropped
    dx = np.ndarray(shape, dxp.dtype, dxp, offset, dx_strides)
    return dx if g.direct else dx.copy()  # one sample, no padding: already x's layout
