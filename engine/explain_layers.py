"""The rules of each kind of layer for engine.explain_pass: which explain function
answers a convolution's, a pooling layer's, an activation's or a dense layer's (and a
recurrent head's) tensors, with which recorded arrays.

Pooling windows are rebuilt from the recorded input (same tie rule), never read from
a layer's cache, which belongs to whatever ran last (a training batch, another pass).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.functional import explain as C
from engine.functional import explain_dense as D
from engine.functional.explain_terms import Explanation
from engine.functional.pool import PoolCache, max_pool2d_forward, pool_cache
from engine.layers import Conv2D, Dense, DenseEach, DenseLast, Layer, MaxPool2D
from engine.layers.pool import AvgPool2D
from engine.network import Sequential
from engine.trace import Trace

Names = dict[str, str]


class NotExplainable(ValueError):
    """The name is recorded but no rule explains it (a bug to report)."""


def conv_rule(
    layer: Conv2D, trace: Trace, what: str, idx: tuple[int, ...], t: dict[str, str]
) -> tuple[Explanation, Names]:
    x, w = trace[t["in"]], trace[t["w"]]
    used = w[:, :, ::-1, ::-1] if layer.flip else w  # true convolution slides the rotation
    s, p = layer.stride, layer.padding
    if what == "out":
        exp = C.explain_conv_output(x, used, trace[t["b"]], idx, s, p)
        return _unflip(exp, layer), {"x": t["in"], "w": t["w"], "b": t["b"]}
    if what == "partial":
        exp = C.explain_conv_partial(x, used, idx, s, p)
        return _unflip(exp, layer), {"x": t["in"], "w": t["w"]}
    if what == "dx":
        exp = C.explain_conv_input_delta(trace[t["dout"]], used, idx, x.shape, s, p)
        return _unflip(exp, layer), {"dout": t["dout"], "w": t["w"]}
    if what == "dw":
        kh, kw = layer.kernel
        f, c, u, v = idx
        at = (f, c, kh - 1 - u, kw - 1 - v) if layer.flip else idx
        exp = C.explain_conv_weight_grad(x, trace[t["dout"]], at, layer.kernel, s, p)
        if layer.flip:  # the stored kernel's cell: the gradient of the rotation, rotated back
            exp = _reindex(exp, idx, "dw[f, c, u, v] = (Σ δ · x at the rotated cell)")
        return exp, {"dout": t["dout"], "x": t["in"]}
    if what == "db":
        return D.explain_bias_grad(trace[t["dout"]], idx), {"dout": t["dout"]}
    raise NotExplainable(f"{layer.name}.{what}: no rule for a convolution's {what!r}")


def _unflip(exp: Explanation, layer: Conv2D) -> Explanation:
    """The same terms with each kernel factor's index rotated back by 180 degrees, so a
    true convolution's explanation names the stored kernel's cells."""
    if not layer.flip:
        return exp
    kh, kw = layer.kernel
    terms = []
    for term in exp.terms:
        factors = tuple(
            C.Factor(f.tensor, (*f.index[:2], kh - 1 - f.index[2], kw - 1 - f.index[3]),
                     f.value) if f.tensor == "w" and f.index else f
            for f in term.factors
        )  # fmt: skip
        terms.append(C.Term(factors, term.product, term.expr))
    return Explanation(exp.kind, exp.index, tuple(terms), exp.formula, exp.constant, exp.scale)


def _reindex(exp: Explanation, idx: tuple[int, ...], formula: str) -> Explanation:
    return Explanation(exp.kind, idx, exp.terms, formula, exp.constant, exp.scale)


def pool_rule(
    layer: MaxPool2D | AvgPool2D, trace: Trace, what: str, idx: tuple[int, ...], t: dict[str, str]
) -> tuple[Explanation, Names]:
    x = trace[t["in"]]
    cache = _windows(layer, x)
    if what == "out":
        return C.explain_pool_output(x, cache, idx), {"x": t["in"]}
    if what == "mask":
        # the factor is "did this window choose this pixel" (0 or 1), not a pooled value
        return C.explain_pool_mask(cache, idx), {"window": f"{layer.name} window chose it"}
    if what == "dx":
        return C.explain_pool_input_delta(trace[t["dout"]], cache, idx), {"dout": t["dout"]}
    raise NotExplainable(f"{layer.name}.{what}: no rule for pooling's {what!r}")


def explain_pool_routing(
    net: Sequential, trace: Trace, layer_name: str, index: Sequence[int]
) -> tuple[Explanation, Names]:
    """Where one pooled delta goes (`<pool>.dout` seen from above: each window position
    gets weight × δ). The pooling page asks this of a pooled delta it shows."""
    layer = net.layer(layer_name)
    if not isinstance(layer, MaxPool2D | AvgPool2D):
        raise NotExplainable(f"{layer_name} is not a pooling layer")
    cache = _windows(layer, trace[f"{layer_name}.in"])
    dout = trace[f"{layer_name}.dout"]
    return C.explain_pool_routing(dout, cache, index), {"dout": f"{layer_name}.dout"}


def _windows(layer: MaxPool2D | AvgPool2D, x: np.ndarray) -> PoolCache:
    """The layer's windows over its recorded input, and for max pooling which position
    won each (the forward's own tie rule), never the layer's cache of its last run."""
    cache = pool_cache(x.shape, layer.size, layer.stride, x.dtype)
    if isinstance(layer, MaxPool2D):
        max_pool2d_forward(x, cache)
    else:
        cache.kind = "avg"
    return cache


def activation_rule(
    net: Sequential, layer: Layer, trace: Trace, what: str, idx: tuple[int, ...],
    t: dict[str, str],
) -> tuple[Explanation, Names]:  # fmt: skip
    op, n = layer.op, layer.name
    lean = getattr(layer, "slope", 0.01)
    slope_name = f"{op}'({n}.in)"  # the factor is f'(z), not the input z itself
    if what == "out":
        return D.explain_activation(op, trace[t["in"]], idx, lean), {"z": t["in"]}
    if what != "dx":
        raise NotExplainable(f"{n}.{what}: no rule for an activation's {what!r}")
    x, out = trace[t["in"]], trace[t["out"]]
    i = net.layers.index(layer)
    nxt = net.layers[i + 1] if i + 1 < len(net.layers) else None
    if isinstance(nxt, Dense) and f"{nxt.name}.dout" in trace and len(idx) == 2:
        # A neuron's delta, as the lecture writes it: Σ_k δ_k · w[k, j], times f'(z_j).
        slope = D.activation_slope(op, x, out, lean)
        exp = D.explain_dense_input_delta(
            trace[f"{nxt.name}.dout"], trace[f"{nxt.name}.w"], idx, act_grad=slope
        )
        return exp, {"dout": f"{nxt.name}.dout", "w": f"{nxt.name}.w", "slope": slope_name}
    exp = D.explain_activation_delta(op, x, out, trace[t["dout"]], idx, lean)
    return exp, {"dout": t["dout"], "slope": slope_name}


def dense_rule(
    layer: Layer, trace: Trace, what: str, idx: tuple[int, ...], t: dict[str, str]
) -> tuple[Explanation, Names]:
    """Dense, and the recurrent heads: dense on the last hidden state (x = in[:, -1],
    or both directions' ends for a BiLSTM) or on every time step (rows n·T + t)."""
    x, w = trace[t["in"]], trace[t["w"]]
    flat_x, to_x = _dense_rows(layer, x)
    each = isinstance(layer, DenseEach)
    names = {"x": t["in"], "w": t["w"], "b": t["b"], "dout": t["dout"]}
    if what == "out":
        row, k = _row(layer, idx, x)
        exp = D.explain_dense_output(flat_x, w, trace[t["b"]], (row, k))
        return _renamed_rows(exp, to_x, idx, each), names
    if what == "dx":
        if isinstance(layer, DenseLast | DenseEach):
            return _head_dx(layer, trace, idx, t)
        return D.explain_dense_input_delta(trace[t["dout"]], w, idx), names
    dout = trace[t["dout"]].reshape(-1, w.shape[0])
    if what == "dw":
        return _renamed_rows(D.explain_dense_weight_grad(flat_x, dout, idx), to_x, idx, each), names
    if what == "db":
        exp = D.explain_bias_grad(dout, idx)
        return _renamed_rows(exp, to_x, idx, each), names
    raise NotExplainable(f"{layer.name}.{what}: no rule for a dense layer's {what!r}")


def _dense_rows(layer: Layer, x: np.ndarray) -> tuple[np.ndarray, Any]:
    """The (rows, features) the dense product reads, and a map from a row to x's index."""
    if isinstance(layer, DenseEach):
        n, steps, d = x.shape
        return x.reshape(n * steps, d), lambda r, j: (r // steps, r % steps, j)
    if isinstance(layer, DenseLast):
        feats = _last_features(layer, x)
        return feats, _last_index(layer, x)
    return x, None


def _last_features(layer: DenseLast, x: np.ndarray) -> np.ndarray:
    if getattr(layer, "bidirectional", False):
        h = x.shape[2] // 2
        return np.concatenate([x[:, -1, :h], x[:, 0, h:]], axis=1)
    return x[:, -1, :]


def _last_index(layer: DenseLast, x: np.ndarray) -> Any:
    steps, h = x.shape[1], x.shape[2] // 2
    if getattr(layer, "bidirectional", False):  # the backward direction ends at t = 0
        return lambda r, j: (r, steps - 1 if j < h else 0, j)
    return lambda r, j: (r, steps - 1, j)


def _row(layer: Layer, idx: tuple[int, ...], x: np.ndarray) -> tuple[int, int]:
    if isinstance(layer, DenseEach):
        return idx[0] * x.shape[1] + idx[1], idx[2]
    return idx[0], idx[1]


def _renamed_rows(exp: Explanation, to_x: Any, idx: tuple[int, ...], each: bool) -> Explanation:
    """A head's explanation with its x factors (and, on every step, its delta rows)
    indexed like the recorded tensors, and the explained index as asked."""
    if to_x is None:
        return exp
    terms = []
    for term in exp.terms:
        factors = tuple(_factor_at(f, to_x, each) for f in term.factors)
        terms.append(C.Term(factors, term.product, term.expr))
    return Explanation(exp.kind, idx, tuple(terms), exp.formula, exp.constant, exp.scale)


def _factor_at(f: C.Factor, to_x: Any, each: bool) -> C.Factor:
    if f.index is None or len(f.index) != 2 or f.tensor not in ("x", "dout"):
        return f
    if f.tensor == "dout" and not each:
        return f
    r, j = f.index
    if f.tensor == "x":
        return C.Factor("x", to_x(r, j), f.value)
    return C.Factor("dout", to_x(r, j)[:-1] + (j,), f.value)


def _head_dx(
    layer: Layer, trace: Trace, idx: tuple[int, ...], t: dict[str, str]
) -> tuple[Explanation, Names]:
    """A head's delta to the hidden state it read: Σ_k δ_k · w[k, j]; a hidden state the
    head did not read (every step but the last, many-to-one) gets 0 from it."""
    dout, w = trace[t["dout"]], trace[t["w"]]
    x = trace[t["in"]]
    names = {"dout": t["dout"], "w": t["w"]}
    if isinstance(layer, DenseEach):
        n, step, j = idx
        exp = D.explain_dense_input_delta(dout[:, step, :], w, (n, j))
        terms = tuple(
            C.Term(tuple(C.Factor(f.tensor, (n, step, f.index[1]), f.value) if f.tensor == "dout"
                         else f for f in term.factors), term.product)
            for term in exp.terms
        )  # fmt: skip
        return Explanation(exp.kind, idx, terms, exp.formula), names
    n, step, j = idx
    feats = _last_features(layer, x)  # type: ignore[arg-type]
    to_x = _last_index(layer, x)  # type: ignore[arg-type]
    col = next((c for c in range(feats.shape[1]) if to_x(n, c) == idx), None)
    if col is None:  # no terms: nothing from the head reaches this hidden state
        formula = "0: the head reads only the last hidden state, not this one"
        return Explanation("head.dx.unread", idx, (), formula), {}
    exp = D.explain_dense_input_delta(dout, w, (n, col))
    return Explanation(exp.kind, idx, exp.terms, exp.formula), names


__all__ = [
    "NotExplainable",
    "activation_rule",
    "conv_rule",
    "dense_rule",
    "explain_pool_routing",
    "pool_rule",
]
