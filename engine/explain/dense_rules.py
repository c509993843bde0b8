"""The rules of activations, dense layers and the recurrent heads: which arithmetic of
engine.functional.explain_dense answers a recorded tensor, with which recorded arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.explain.base import Answer, Names, Rule
from engine.functional import explain_dense as D
from engine.functional.explain_terms import Explanation, Factor, Term
from engine.layers import Dense, DenseEach, DenseLast, Layer
from engine.network import Sequential
from engine.trace import Trace

RowMap = Callable[[int, int], tuple[int, ...]]  # a row of the dense product -> x's index


def activation_rule(net: Sequential, layer: Layer, what: str, t: dict[str, str]) -> Rule | None:
    """The rule for an activation layer's `out` or `dx`, None for any other name."""
    if what == "out":
        lean = getattr(layer, "slope", 0.01)
        return lambda trace, idx: (
            D.explain_activation(layer.op, trace[t["in"]], idx, lean),
            {"z": t["in"]},
        )
    if what == "dx":
        return lambda trace, idx: _activation_dx(net, layer, trace, idx, t)
    return None


def _activation_dx(
    net: Sequential, layer: Layer, trace: Trace, idx: tuple[int, ...], t: dict[str, str]
) -> Answer:
    op, n = layer.op, layer.name
    lean = getattr(layer, "slope", 0.01)
    slope_name = f"{op}'({n}.in)"  # the factor is f'(z), not the input z itself
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


def dense_rule(layer: Layer, what: str, t: dict[str, str]) -> Rule | None:
    """Dense, and the recurrent heads: dense on the last hidden state (x = in[:, -1],
    or both directions' ends for a BiLSTM) or on every time step (rows n·T + t).
    The rule for `<layer>.<what>`, None if none answers."""
    fn = _DENSE.get(what)
    if fn is None:
        return None
    return lambda trace, idx: fn(layer, trace, idx, t)


def _dense_out(layer: Layer, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    x, w = trace[t["in"]], trace[t["w"]]
    flat_x, to_x = _dense_rows(layer, x)
    row, k = _row(layer, idx, x)
    exp = D.explain_dense_output(flat_x, w, trace[t["b"]], (row, k))
    return _renamed_rows(exp, to_x, idx, isinstance(layer, DenseEach)), _names(t)


def _dense_dx(layer: Layer, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    if isinstance(layer, DenseLast | DenseEach):
        return _head_dx(layer, trace, idx, t)
    return D.explain_dense_input_delta(trace[t["dout"]], trace[t["w"]], idx), _names(t)


def _dense_dw(layer: Layer, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    flat_x, to_x, dout = _product_rows(layer, trace, t)
    exp = D.explain_dense_weight_grad(flat_x, dout, idx)
    return _renamed_rows(exp, to_x, idx, isinstance(layer, DenseEach)), _names(t)


def _dense_db(layer: Layer, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    _, to_x, dout = _product_rows(layer, trace, t)
    exp = D.explain_bias_grad(dout, idx)
    return _renamed_rows(exp, to_x, idx, isinstance(layer, DenseEach)), _names(t)


def _names(t: dict[str, str]) -> Names:
    return {"x": t["in"], "w": t["w"], "b": t["b"], "dout": t["dout"]}


def _product_rows(
    layer: Layer, trace: Trace, t: dict[str, str]
) -> tuple[np.ndarray, RowMap | None, np.ndarray]:
    """The rows the dense product read, their map to x's index, and their deltas."""
    flat_x, to_x = _dense_rows(layer, trace[t["in"]])
    return flat_x, to_x, trace[t["dout"]].reshape(-1, trace[t["w"]].shape[0])


DenseFn = Callable[[Layer, Trace, tuple[int, ...], dict[str, str]], Answer]
_DENSE: dict[str, DenseFn] = {"out": _dense_out, "dx": _dense_dx, "dw": _dense_dw,
                              "db": _dense_db}  # fmt: skip


def _dense_rows(layer: Layer, x: np.ndarray) -> tuple[np.ndarray, RowMap | None]:
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


def _last_index(layer: DenseLast, x: np.ndarray) -> RowMap:
    steps, h = x.shape[1], x.shape[2] // 2
    if getattr(layer, "bidirectional", False):  # the backward direction ends at t = 0
        return lambda r, j: (r, steps - 1 if j < h else 0, j)
    return lambda r, j: (r, steps - 1, j)


def _row(layer: Layer, idx: tuple[int, ...], x: np.ndarray) -> tuple[int, int]:
    if isinstance(layer, DenseEach):
        return idx[0] * x.shape[1] + idx[1], idx[2]
    return idx[0], idx[1]


def _renamed_rows(
    exp: Explanation, to_x: RowMap | None, idx: tuple[int, ...], each: bool
) -> Explanation:
    """A head's explanation with its x factors (and, on every step, its delta rows)
    indexed like the recorded tensors, and the explained index as asked."""
    if to_x is None:
        return exp
    terms = []
    for term in exp.terms:
        factors = tuple(_factor_at(f, to_x, each) for f in term.factors)
        terms.append(Term(factors, term.product, term.expr))
    return Explanation(exp.kind, idx, tuple(terms), exp.formula, exp.constant, exp.scale)


def _factor_at(f: Factor, to_x: RowMap, each: bool) -> Factor:
    if f.index is None or len(f.index) != 2 or f.tensor not in ("x", "dout"):
        return f
    if f.tensor == "dout" and not each:
        return f
    r, j = f.index
    if f.tensor == "x":
        return Factor("x", to_x(r, j), f.value)
    return Factor("dout", to_x(r, j)[:-1] + (j,), f.value)


def _head_dx(
    layer: DenseLast | DenseEach, trace: Trace, idx: tuple[int, ...], t: dict[str, str]
) -> Answer:
    """A head's delta to the hidden state it read: Σ_k δ_k · w[k, j]; a hidden state the
    head did not read (every step but the last, many-to-one) gets 0 from it."""
    dout, w = trace[t["dout"]], trace[t["w"]]
    x = trace[t["in"]]
    names = {"dout": t["dout"], "w": t["w"]}
    if isinstance(layer, DenseEach):
        n, step, j = idx
        exp = D.explain_dense_input_delta(dout[:, step, :], w, (n, j))
        terms = tuple(
            Term(tuple(_at_step(f, n, step) for f in term.factors), term.product)
            for term in exp.terms
        )
        return Explanation(exp.kind, idx, terms, exp.formula), names
    n, step, j = idx
    feats, to_x = _last_features(layer, x), _last_index(layer, x)
    col = next((c for c in range(feats.shape[1]) if to_x(n, c) == idx), None)
    if col is None:  # no terms: nothing from the head reaches this hidden state
        formula = "dx = 0: y = head(h_last)"
        return Explanation("head.dx.unread", idx, (), formula), {}
    exp = D.explain_dense_input_delta(dout, w, (n, col))
    return Explanation(exp.kind, idx, exp.terms, exp.formula), names


def _at_step(f: Factor, n: int, step: int) -> Factor:
    """A delta factor of one step's rows, indexed like the recorded (n, t, k) dout."""
    if f.tensor != "dout" or f.index is None:
        return f
    return Factor("dout", (n, step, f.index[1]), f.value)
