"""The arithmetic behind one number, as data.

Each explain function returns an `Explanation`: a list of terms, each a product
of named factors (tensor, index, value), an optional constant added (a bias) and
an optional factor multiplied afterwards (an activation's slope). Its `total`
is recomputed from the terms, so a test or a student can check that the terms
really add up to the recorded value. Factor tensor names are generic ("x", "w",
"b", "dout", "weight"); the caller maps them to trace names.

These loop over one window or one pixel's neighbourhood: cheap for one number,
and written to mirror the lecture's sentences rather than to be fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.functional._validate import pair
from engine.functional.pool import PoolCache, window_argmax

Index = tuple[int, ...]


@dataclass(frozen=True)
class Factor:
    tensor: str
    index: Index | None  # None: a padded zero outside the input
    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"tensor": self.tensor, "index": self.index, "value": self.value}


@dataclass(frozen=True)
class Term:
    factors: tuple[Factor, ...]
    product: float

    @classmethod
    def of(cls, *factors: Factor) -> Term:
        return cls(factors, float(np.prod([f.value for f in factors])))

    def to_dict(self) -> dict[str, Any]:
        return {"factors": [f.to_dict() for f in self.factors], "product": self.product}


@dataclass(frozen=True)
class Explanation:
    """total = (sum of term products + constant) * scale."""

    kind: str
    index: Index
    terms: tuple[Term, ...]
    formula: str
    constant: Factor | None = None
    scale: Factor | None = None
    total: float = field(init=False)

    def __post_init__(self) -> None:
        s = float(np.sum([t.product for t in self.terms])) if self.terms else 0.0
        if self.constant is not None:
            s += self.constant.value
        if self.scale is not None:
            s *= self.scale.value
        object.__setattr__(self, "total", s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "index": self.index,
            "formula": self.formula,
            "terms": [t.to_dict() for t in self.terms],
            "constant": self.constant.to_dict() if self.constant else None,
            "scale": self.scale.to_dict() if self.scale else None,
            "total": self.total,
        }


def _index(index: Sequence[int], shape: Sequence[int], what: str) -> Index:
    idx = tuple(int(i) for i in index)
    if len(idx) != len(shape) or any(not 0 <= i < s for i, s in zip(idx, shape, strict=True)):
        raise ValueError(f"index {idx} is outside {what} of shape {tuple(shape)}")
    return idx


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
    from engine.functional.conv import conv_output_shape

    out_shape = conv_output_shape(x.shape, w.shape, stride, padding)
    n, f, i, j = _index(index, out_shape, "the conv output")
    (sh, sw), (ph, pw) = pair(stride, "stride", 1), pair(padding, "padding", 0)
    _, c_in, kh, kw = w.shape
    h, wd = x.shape[2:]
    terms = []
    for c in range(c_in):
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
    return Explanation(
        "conv.out",
        (n, f, i, j),
        tuple(terms),
        "out = Σ_c Σ_u Σ_v x[c, i·s+u, j·s+v] · w[f, c, u, v] + b[f]",
        constant=Factor("b", (f,), float(b[f])),
    )


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
    n, c, y, xx = _index(index, x_shape, "the conv input")
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
        "dx = Σ over outputs this pixel touched of δ_out · w (the linking weight)",
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
    n, c, i, j = _index(index, cache.x_shape[:2] + cache.out_hw, "the pooled output")
    terms = tuple(
        Term.of(Factor("x", (n, c, r, q), float(x[n, c, r, q])), Factor("weight", None, wt))
        for r, q, wt in _window_weights(cache, kind, n, c, i, j)
    )
    formula = "out = max(window)" if kind == "max" else "out = Σ window / area"
    return Explanation(f"{kind}pool.out", (n, c, i, j), terms, formula)


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
    n, c, i, j = _index(index, cache.x_shape[:2] + cache.out_hw, "the pooled output")
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
    n, c, y, xx = _index(index, cache.x_shape, "the pooling input")
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


def explain_dense_input_delta(
    dout: np.ndarray,
    w: np.ndarray,
    index: Sequence[int],
    act_grad: np.ndarray | None = None,
) -> Explanation:
    """A dense layer input's delta: dx[n, j] = Σ_k dout[n, k] * w[k, j].

    With `act_grad` (the previous activation's slope f'(z), shape of x), the
    neuron's delta before its activation: (Σ_k dout[n, k] * w[k, j]) * f'(z[n, j]).
    """
    n, j = _index(index, (dout.shape[0], w.shape[1]), "the dense input")
    terms = tuple(
        Term.of(Factor("dout", (n, k), float(dout[n, k])), Factor("w", (k, j), float(w[k, j])))
        for k in range(w.shape[0])
    )
    scale = None if act_grad is None else Factor("act_grad", (n, j), float(act_grad[n, j]))
    formula = "δ_j = Σ_k δ_k · w[k, j]" + ("" if scale is None else " · f'(z_j)")
    return Explanation("dense.dx", (n, j), terms, formula, scale=scale)


def activation_slope(op: str, x: np.ndarray, out: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """f'(z) of an activation from its recorded input x and output out."""
    if op == "relu":
        return (x > 0).astype(x.dtype)
    if op == "leaky_relu":
        return np.where(x > 0, 1.0, slope).astype(x.dtype)
    if op == "sigmoid":
        return out * (1 - out)
    if op == "tanh":
        return 1 - out * out
    raise ValueError(f"{op} is not an activation with a slope")
