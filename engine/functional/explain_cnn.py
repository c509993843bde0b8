"""The arithmetic behind one number of a convolution or a pooling layer, as data.

Each explain function returns an `Explanation` (explain_terms.py): terms, each a
product of named factors, that add up to the recorded value. Dense layers,
activations, losses and updates are in explain_dense.py; recurrent steps in
explain_recurrent.py and explain_recurrent_back.py. These are the pure arithmetic
(arrays in, terms out); which recorded arrays a tensor's rule reads is in
engine.explain.

These loop over one window or one pixel's neighbourhood: cheap for one number,
and written to mirror the lecture's sentences rather than to be fast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.functional._validate import pair
from engine.functional.explain_terms import Explanation, Factor, Index, Term, checked_index
from engine.functional.pool import PoolCache, window_argmax


def explain_conv_output(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    index: Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> Explanation:
    """out[n, f, i, j] = sum over (c, u, v) of window x kernel, plus b[f].

    Window positions in the zero padding appear with index None and value 0.
    """
    terms, (n, f, i, j) = _window_terms(x, w, index, stride, padding, None)
    return Explanation(
        "conv.out",
        (n, f, i, j),
        tuple(terms),
        "out = Σ_c Σ_u Σ_v x[c, i·s+u, j·s+v] · w[f, c, u, v] + b[f]",
        constant=Factor("b", (f,), float(b[f])),
    )


def explain_conv_partial(
    x: np.ndarray,
    w: np.ndarray,
    index: Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> Explanation:
    """partial[n, f, c, i, j] = Σ_(u, v) x[n, c, i·s+u, j·s+v] · w[f, c, u, v]: one input
    channel's 2-D cross-correlation with its kernel slice (the out map is the sum of
    these over c, plus the bias)."""
    n, f, c, i, j = (int(v) for v in index)
    if not 0 <= c < w.shape[1]:
        raise ValueError(f"index {tuple(index)}: channel {c} is outside 0..{w.shape[1] - 1}")
    terms, _ = _window_terms(x, w, (n, f, i, j), stride, padding, c)
    return Explanation(
        "conv.partial", (n, f, c, i, j), tuple(terms),
        "partial[f, c] = Σ_u Σ_v x[c, i·s+u, j·s+v] · w[f, c, u, v]",
    )  # fmt: skip


def _window_terms(
    x: np.ndarray,
    w: np.ndarray,
    index: Sequence[int],
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    channel: int | None,
) -> tuple[list[Term], Index]:
    """window x kernel products of output (n, f, i, j): every channel, or one."""
    from engine.functional.conv import conv_output_shape

    out_shape = conv_output_shape(x.shape, w.shape, stride, padding)
    n, f, i, j = checked_index(index, out_shape, "the conv output")
    (sh, sw), (ph, pw) = pair(stride, "stride", 1), pair(padding, "padding", 0)
    _, c_in, kh, kw = w.shape
    h, wd = x.shape[2:]
    terms = []
    for c in range(c_in) if channel is None else (channel,):
        for u in range(kh):
            for v in range(kw):
                r, q = i * sh + u - ph, j * sw + v - pw
                inside = 0 <= r < h and 0 <= q < wd
                xf = (
                    Factor("x", (n, c, r, q), float(x[n, c, r, q]))
                    if inside
                    else Factor("x", None, 0.0)
                )
                terms.append(Term.of(xf, Factor("w", (f, c, u, v), float(w[f, c, u, v]))))
    return terms, (n, f, i, j)


def explain_conv_weight_grad(
    x: np.ndarray,
    dout: np.ndarray,
    index: Sequence[int],
    kernel: Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> Explanation:
    """dw[f, c, u, v] = Σ_(n, i, j) dout[n, f, i, j] · x[n, c, i·s+u, j·s+v]: the kernel
    cell (u, v) met one input pixel at every position the kernel slid to; its gradient
    is each of those pixels times the delta of the output it made, summed. Padded
    positions (zeros) add nothing and are left out."""
    kh, kw = (int(k) for k in kernel)
    f, c, u, v = checked_index(index, (dout.shape[1], x.shape[1], kh, kw), "the kernel gradient")
    (sh, sw), (ph, pw) = pair(stride, "stride", 1), pair(padding, "padding", 0)
    h, wd = x.shape[2:]
    terms = []
    for n in range(dout.shape[0]):
        for i in range(dout.shape[2]):
            r = i * sh + u - ph
            if not 0 <= r < h:
                continue
            for j in range(dout.shape[3]):
                q = j * sw + v - pw
                if 0 <= q < wd:
                    terms.append(
                        Term.of(
                            Factor("dout", (n, f, i, j), float(dout[n, f, i, j])),
                            Factor("x", (n, c, r, q), float(x[n, c, r, q])),
                        )
                    )
    return Explanation(
        "conv.dw", (f, c, u, v), tuple(terms),
        "dw[f, c, u, v] = Σ_n Σ_i Σ_j δ[n, f, i, j] · x[n, c, i·s+u, j·s+v]",
    )  # fmt: skip


def explain_conv_input_delta(
    dout: np.ndarray,
    w: np.ndarray,
    index: Sequence[int],
    x_shape: Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> Explanation:
    """dx[n, c, y, x] = sum over every output (f, i, j) the pixel influenced of
    dout[n, f, i, j] * w[f, c, y - i*s, x - j*s] (the weight that linked them).

    A corner pixel (stride 1, no padding) touches one output per kernel; a middle
    pixel touches up to KH*KW of them.
    """
    n, c, y, xx = checked_index(index, x_shape, "the conv input")
    (sh, sw), (ph, pw) = pair(stride, "stride", 1), pair(padding, "padding", 0)
    f_count, _, kh, kw = w.shape
    oh, ow = dout.shape[2:]
    terms = []
    for f in range(f_count):
        for i in range(oh):
            u = y + ph - i * sh
            if not 0 <= u < kh:
                continue
            for j in range(ow):
                v = xx + pw - j * sw
                if 0 <= v < kw:
                    terms.append(
                        Term.of(
                            Factor("dout", (n, f, i, j), float(dout[n, f, i, j])),
                            Factor("w", (f, c, u, v), float(w[f, c, u, v])),
                        )
                    )
    return Explanation(
        "conv.dx",
        (n, c, y, xx),
        tuple(terms),
        "dx = Σ_(outputs ∋ pixel) δ_out · w",
    )


def _window_weights(cache: PoolCache, kind: str, n: int, c: int, i: int, j: int):  # noqa: ANN202
    """(row, col, weight) for each position of window (i, j): max -> 1 at the argmax
    and 0 elsewhere; avg -> 1 / area everywhere."""
    (kh, kw), (sh, sw) = cache.size, cache.stride
    for u in range(kh):
        for v in range(kw):
            if kind == "max":
                weight = 1.0 if window_argmax(cache, (n, c, i, j)) == u * kw + v else 0.0
            else:
                weight = 1.0 / (kh * kw)
            yield i * sh + u, j * sw + v, weight


def _pool_kind(cache: PoolCache) -> str:
    return cache.kind


def explain_pool_output(x: np.ndarray, cache: PoolCache, index: Sequence[int]) -> Explanation:
    """A pooled value as Σ weight * x over its window: weight 1 at the (first)
    maximum and 0 elsewhere for max pooling, 1/area everywhere for average."""
    kind = _pool_kind(cache)
    n, c, i, j = checked_index(index, cache.x_shape[:2] + cache.out_hw, "the pooled output")
    terms = tuple(
        Term.of(Factor("x", (n, c, r, q), float(x[n, c, r, q])), Factor("weight", None, wt))
        for r, q, wt in _window_weights(cache, kind, n, c, i, j)
    )
    formula = "out = max(window)" if kind == "max" else "out = Σ window / area"
    return Explanation(f"{kind}pool.out", (n, c, i, j), terms, formula)


def explain_pool_mask(cache: PoolCache, index: Sequence[int]) -> Explanation:
    """mask[n, c, y, x] = how many windows took this pixel as their (first) maximum:
    one term per window containing it, 1 if it was that window's maximum, else 0."""
    n, c, y, xx = checked_index(index, cache.x_shape, "the pooling mask")
    (kh, kw), (sh, sw), (oh, ow) = cache.size, cache.stride, cache.out_hw
    terms = []
    for i in range(oh):
        for j in range(ow):
            if i * sh <= y < i * sh + kh and j * sw <= xx < j * sw + kw:
                hit = window_argmax(cache, (n, c, i, j)) == (y - i * sh) * kw + (xx - j * sw)
                terms.append(Term.of(Factor("window", (n, c, i, j), 1.0 if hit else 0.0)))
    return Explanation(
        "maxpool.mask", (n, c, y, xx), tuple(terms),
        "mask = Σ_(windows ∋ pixel) 𝟙[pixel = argmax(window)]",
    )  # fmt: skip


def explain_max_pool(x: np.ndarray, cache: PoolCache, index: Sequence[int]) -> Explanation:
    """A max-pooled value: 1 x the maximum, 0 x the others."""
    return explain_pool_output(x, cache, index)


def explain_avg_pool(x: np.ndarray, cache: PoolCache, index: Sequence[int]) -> Explanation:
    """An average-pooled value: every window value x 1/area."""
    return explain_pool_output(x, cache, index)


def explain_pool_routing(dout: np.ndarray, cache: PoolCache, index: Sequence[int]) -> Explanation:
    """Where one pooled value's delta goes: each window position gets weight * delta
    (max: the whole delta to the max position, 0 elsewhere; avg: delta / area each).
    Each term's first factor is the pooled delta, the second the weight; the term's
    target pixel is the weight factor's index. The total is the delta handed back."""
    kind = _pool_kind(cache)
    n, c, i, j = checked_index(index, cache.x_shape[:2] + cache.out_hw, "the pooled output")
    d = Factor("dout", (n, c, i, j), float(dout[n, c, i, j]))
    terms = tuple(
        Term.of(d, Factor("weight", (n, c, r, q), wt))
        for r, q, wt in _window_weights(cache, kind, n, c, i, j)
    )
    return Explanation(f"{kind}pool.route", (n, c, i, j), terms, "dx[window] += weight · δ")


def explain_pool_input_delta(
    dout: np.ndarray, cache: PoolCache, index: Sequence[int]
) -> Explanation:
    """dx[n, c, y, x] = Σ over windows containing the pixel of weight * dout[window]."""
    kind = _pool_kind(cache)
    n, c, y, xx = checked_index(index, cache.x_shape, "the pooling input")
    (kh, kw), (sh, sw), (oh, ow) = cache.size, cache.stride, cache.out_hw
    terms = []
    for i in range(oh):
        for j in range(ow):
            if not (i * sh <= y < i * sh + kh and j * sw <= xx < j * sw + kw):
                continue
            for r, q, wt in _window_weights(cache, kind, n, c, i, j):
                if (r, q) == (y, xx):
                    terms.append(
                        Term.of(
                            Factor("dout", (n, c, i, j), float(dout[n, c, i, j])),
                            Factor("weight", None, wt),
                        )
                    )
    return Explanation(
        f"{kind}pool.dx", (n, c, y, xx), tuple(terms), "dx = Σ windows weight · δ_out"
    )
