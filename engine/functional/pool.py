"""Max and average pooling, forward and backward.

Windows of size (KH, KW) every (SH, SW) pixels (stride defaults to the size, so
windows do not overlap), no padding; output (N, C, OH, OW) with
OH = floor((H - KH) / SH) + 1.

Max pooling keeps each window's maximum and records where it was: the delta
of a pooled value goes back to that one position (its weight is 1) and every
other position of the window gets 0. Tie rule: the first maximum in row-major
order wins, as in PyTorch. Average pooling gives every position delta / area.

Fast path: the window positions compared pairwise (a strict `>` keeps the first
maximum), which measured 3-4x faster than reshape + argmax: for the common 2x2
window over four contiguous planes (one copy of x), for any other window over
the KH*KW strided slices of x. Each window's choice is kept per window position
(`chosen`), so the backward pass is one multiply into x's windows seen as
(KH, KW, N, C, OH, OW) when they tile it (stride = size), else KH*KW strided writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.functional._validate import as_float, check_finite, out_size, pair, sum_is_finite


@dataclass(slots=True)
class PoolCache:
    """Window geometry, and for max pooling which window position held each
    window's maximum: chosen[k, n, c, i, j] for k = u * KW + v (one True per window).
    `taps[k]` indexes x (N, C, H, W) at window position k of every window at once."""

    x_shape: tuple[int, int, int, int]
    size: tuple[int, int]
    stride: tuple[int, int]
    out_hw: tuple[int, int]
    dtype: np.dtype
    taps: tuple[tuple[slice, ...], ...] = ()
    overlapping: bool = False  # windows share pixels (stride smaller than the window)
    covers: bool = False  # the windows cover every pixel (no gaps, no dropped edge)
    kind: str = ""  # "max" or "avg", set by the forward pass
    chosen: np.ndarray | None = None

    def fresh(self) -> PoolCache:
        """The same geometry, no recorded maxima (one per forward pass)."""
        return PoolCache(
            self.x_shape, self.size, self.stride, self.out_hw, self.dtype, self.taps,
            self.overlapping, self.covers,
        )  # fmt: skip


def pool_output_shape(
    x_shape: Sequence[int], size: int | Sequence[int], stride: int | Sequence[int] | None = None
) -> tuple[int, int, int, int]:
    """(N, C, OH, OW) for pooling x (N, C, H, W); checks the window fits."""
    if len(x_shape) != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W); got shape {tuple(x_shape)}")
    n, c, h, w = x_shape
    kh, kw = pair(size, "pool size", 1)
    sh, sw = pair(size if stride is None else stride, "stride", 1)
    if kh > h or kw > w:
        raise ValueError(f"pool window {kh}x{kw} is larger than the input {h}x{w}")
    return n, c, out_size(h, kh, sh, 0), out_size(w, kw, sw, 0)


def pool_cache(
    x_shape: tuple[int, ...],
    size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    dtype: np.dtype,
) -> PoolCache:
    """Checked geometry for pooling an input of x_shape."""
    _, _, oh, ow = pool_output_shape(x_shape, size, stride)  # checks x_shape is 4-D
    n, c, h, w = x_shape
    k = pair(size, "pool size", 1)
    s = pair(size if stride is None else stride, "stride", 1)
    (kh, kw), (sh, sw) = k, s
    taps = tuple(
        (
            slice(None),
            slice(None),
            slice(u, u + sh * (oh - 1) + 1, sh),
            slice(v, v + sw * (ow - 1) + 1, sw),
        )
        for u in range(kh)
        for v in range(kw)
    )
    overlapping = sh < kh or sw < kw
    covers = (oh - 1) * sh + kh == h and (ow - 1) * sw + kw == w
    covers = covers and sh <= kh and sw <= kw
    return PoolCache((n, c, h, w), k, s, (oh, ow), np.dtype(dtype), taps, overlapping, covers)


def _prepare(
    x: object, size: int | Sequence[int], stride: int | Sequence[int] | None, finite: bool
) -> tuple[np.ndarray, PoolCache]:
    x = as_float(x, "x", 4, "(N, C, H, W)")
    cache = pool_cache(x.shape, size, stride, x.dtype)
    if finite:
        check_finite(x, "x")
    return x, cache


def max_pool2d(
    x: np.ndarray,
    size: int | Sequence[int] = 2,
    stride: int | Sequence[int] | None = None,
    *,
    check_finite: bool = True,
) -> tuple[np.ndarray, PoolCache]:
    """Each window's maximum: out (N, C, OH, OW); the cache records where it was."""
    x, cache = _prepare(x, size, stride, check_finite)
    return max_pool2d_forward(x, cache), cache


def max_pool2d_forward(x: np.ndarray, cache: PoolCache) -> np.ndarray:
    """The unchecked kernel behind max_pool2d (geometry already validated in cache)."""
    cache.kind = "max"
    if cache.size == cache.stride == (2, 2):
        out, cache.chosen = _max_pool_2x2(x, cache.out_hw)
        if sum_is_finite(out):
            return out
        # NaN or Inf somewhere: the scan below routes NaN windows like PyTorch.
    taps = [x[t] for t in cache.taps]
    out, cache.chosen = _max_pool_scan(taps)
    if not sum_is_finite(out):
        _route_nan(taps, out, cache.chosen)
    return out


def _max_pool_2x2(x: np.ndarray, out_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The common 2x2 window (a b / c d) as a tournament: half the operations of the
    scan. Strict `>` at both rounds keeps the first maximum in row-major order.

    One copy first lays a, b, c and d of every window out as four contiguous
    planes: each comparison then runs over plain memory, 3-4x faster per call
    than over the strided views of x."""
    n, c = x.shape[:2]
    oh, ow = out_hw
    windows = x[:, :, : 2 * oh, : 2 * ow].reshape(n, c, oh, 2, ow, 2)  # an odd edge is dropped
    a, b, cc, d = windows.transpose(3, 5, 0, 1, 2, 4).reshape(4, n * c * oh * ow)
    top, bottom = np.maximum(a, b), np.maximum(cc, d)
    b_wins, d_wins, lower = np.greater(b, a), np.greater(d, cc), np.greater(bottom, top)
    chosen = np.empty((4, a.size), dtype=bool)
    upper = np.logical_not(lower, out=chosen[2])  # chosen[2] is written last
    np.logical_and(upper, b_wins, out=chosen[1])
    np.greater(upper, b_wins, out=chosen[0])
    np.logical_and(lower, d_wins, out=chosen[3])
    np.greater(lower, d_wins, out=chosen[2])
    out = np.maximum(top, bottom, out=top)
    return out.reshape(n, c, oh, ow), chosen.reshape(4, n, c, oh, ow)


def _max_pool_scan(taps: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Any window: running maximum, then each position's first-maximum flag."""
    out = taps[0].copy()
    for v in taps[1:]:
        np.maximum(out, v, out=out)
    # chosen[k]: window position k holds the window's first maximum (row-major).
    chosen = np.empty((len(taps), *out.shape), dtype=bool)
    taken = np.equal(taps[0], out, out=chosen[0]).copy()
    for k, v in enumerate(taps[1:], start=1):
        np.equal(v, out, out=chosen[k])
        np.greater(chosen[k], taken, out=chosen[k])  # equal and no earlier maximum
        taken |= chosen[k]
    return out, chosen


def _route_nan(taps: list[np.ndarray], out: np.ndarray, chosen: np.ndarray) -> None:
    """A window holding NaN pools to NaN; like PyTorch, its delta goes to the last
    NaN position (a diverged network is shown as it is, not refused)."""
    has_nan = np.isnan(out)
    seen = np.zeros(out.shape, dtype=bool)
    for k in reversed(range(len(taps))):
        isnan = np.isnan(taps[k])
        chosen[k] = np.where(has_nan, isnan & ~seen, chosen[k])
        seen |= isnan


def max_pool2d_backward(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """dx (N, C, H, W): each pooled delta goes to its window's max position, 0 elsewhere."""
    return max_pool2d_backward_kernel(_check_dout(dout, cache), cache)


def max_pool2d_backward_kernel(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """The unchecked kernel behind max_pool2d_backward."""
    chosen = _need_max(cache)
    tiled = cache.size == cache.stride
    dx = (np.empty if tiled and cache.covers else np.zeros)(cache.x_shape, dtype=cache.dtype)
    if cache.overlapping:
        for k, t in enumerate(cache.taps):
            dx[t] += np.where(chosen[k], dout, 0)
        return dx
    # Deltas times the 0/1 masks; for a diverged (NaN/Inf) delta, masked copies
    # instead, so the other positions get exactly 0 as in PyTorch (Inf * 0 is NaN).
    # The masked copy is exact but 1.3-4x slower, so only then.
    finite = sum_is_finite(dout)
    if tiled:  # every window position of every window at once
        view, mask = _tiles(dx, cache), chosen.reshape(*cache.size, *chosen.shape[1:])
        if finite:
            np.multiply(mask, dout, out=view)
        else:
            view[...] = 0
            np.copyto(view, dout, where=mask)
        return dx
    put = _times_mask if finite else _copy_where
    for k, t in enumerate(cache.taps):
        put(dx[t], dout, chosen[k])
    return dx


def _tiles(dx: np.ndarray, cache: PoolCache) -> np.ndarray:
    """dx (N, C, H, W) seen as (KH, KW, N, C, OH, OW) when windows tile it (stride =
    size): [u, v, n, c, i, j] is window (i, j)'s position (u, v)."""
    n, c, h, w = cache.x_shape
    (kh, kw), (oh, ow), it = cache.size, cache.out_hw, dx.itemsize
    strides = (w * it, it, c * h * w * it, h * w * it, kh * w * it, kw * it)
    return np.ndarray((kh, kw, n, c, oh, ow), dx.dtype, dx, 0, strides)


def _times_mask(dst: np.ndarray, src: np.ndarray, mask: np.ndarray) -> None:
    np.multiply(src, mask, out=dst)


def _copy_where(dst: np.ndarray, src: np.ndarray, mask: np.ndarray) -> None:
    np.copyto(dst, src, where=mask)


def max_pool2d_mask(cache: PoolCache) -> np.ndarray:
    """(N, C, H, W): how many windows took each position as their maximum (0 or 1
    when windows do not overlap) - the mask the backward pass routes deltas through."""
    chosen = _need_max(cache)
    mask = np.zeros(cache.x_shape, dtype=cache.dtype)
    for k, t in enumerate(cache.taps):
        mask[t] += chosen[k]
    return mask


def window_argmax(cache: PoolCache, index: Sequence[int]) -> int:
    """The window position u * KW + v that window (n, c, i, j) took as its maximum."""
    chosen = _need_max(cache)
    n, c, i, j = index
    return int(np.argmax(chosen[:, n, c, i, j]))


def avg_pool2d(
    x: np.ndarray,
    size: int | Sequence[int] = 2,
    stride: int | Sequence[int] | None = None,
    *,
    check_finite: bool = True,
) -> tuple[np.ndarray, PoolCache]:
    """Each window's mean: out (N, C, OH, OW)."""
    x, cache = _prepare(x, size, stride, check_finite)
    return avg_pool2d_forward(x, cache), cache


def avg_pool2d_forward(x: np.ndarray, cache: PoolCache) -> np.ndarray:
    """The unchecked kernel behind avg_pool2d."""
    cache.kind = "avg"
    first, *rest = cache.taps
    out = x[first].copy()
    for t in rest:
        out += x[t]
    out *= cache.dtype.type(1 / (cache.size[0] * cache.size[1]))
    return out


def avg_pool2d_backward(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """dx (N, C, H, W): every position of a window gets delta / window area."""
    return avg_pool2d_backward_kernel(_check_dout(dout, cache), cache)


def avg_pool2d_backward_kernel(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """The unchecked kernel behind avg_pool2d_backward."""
    share = dout * cache.dtype.type(1 / (cache.size[0] * cache.size[1]))
    dx = np.zeros(cache.x_shape, dtype=cache.dtype)
    for t in cache.taps:
        dx[t] += share
    return dx


def _need_max(cache: PoolCache) -> np.ndarray:
    if cache.kind != "max" or cache.chosen is None:
        raise ValueError("this needs the cache of max_pool2d (an avg_pool2d cache was given)")
    return cache.chosen


def _check_dout(dout: object, cache: PoolCache) -> np.ndarray:
    dout = as_float(dout, "dout", 4, "(N, C, OH, OW)").astype(cache.dtype, copy=False)
    expected = cache.x_shape[:2] + cache.out_hw
    if dout.shape != expected:
        raise ValueError(f"dout must have shape {expected}; got {dout.shape}")
    return dout
