"""Which engine explain function answers "where does this number come from?"
for a recorded tensor, and with which trace tensors."""

from __future__ import annotations

import re
from typing import Any

from app.encoding import explanation_payload
from app.sessions.state import Live
from engine.functional import explain as E
from engine.layers import Conv2D, Dense, Layer
from engine.layers.pool import _Pool
from engine.recurrent import RecurrentNet
from engine.recurrent_explain import EXPLAINABLE as RECURRENT_EXPLAINABLE
from engine.recurrent_explain import STEP_NAME, explain_step

ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")
EXPLAINABLE = "; ".join(
    (
        "<conv>.out (window x kernel + bias)",
        "<conv>.dx (the outputs a pixel influenced x their weights)",
        "<pool>.out (the window's maximum or mean)",
        "<pool>.dout (where a pooled delta goes)",
        "<pool>.dx (the pooled deltas a pixel received)",
        "<dense>.dx (output deltas x weights)",
        "<activation>.dx before a dense layer (a neuron's delta: sum x slope)",
        f"recurrent: {RECURRENT_EXPLAINABLE}",
    )
)


class NotExplainable(ValueError):
    pass


def explain(live: Live, name: str, index: tuple[int, ...]) -> dict[str, Any]:
    trace, net = live.run.trace, live.net
    if name not in trace:
        raise KeyError(name)
    if isinstance(net, RecurrentNet) and STEP_NAME.match(name):
        return _recurrent(live, name, index)
    layer_name, _, what = name.partition(".")
    try:
        layer = net.layer(layer_name)
    except KeyError:
        raise NotExplainable(f"{name} is not a layer tensor; explainable: {EXPLAINABLE}") from None
    exp, names = _dispatch(live, layer, what, index)
    value = float(trace[name][index])
    return explanation_payload(exp, names, value)


def _recurrent(live: Live, name: str, index: tuple[int, ...]) -> dict[str, Any]:
    """A recurrent step's number: a gate (terms of its pre-activation, then the
    activation), a cell value (f * c_prev + i * g), h, or a cell delta."""
    trace = live.run.trace
    try:
        exp, names = explain_step(trace, live.net, name, index)
    except ValueError as exc:
        raise NotExplainable(str(exc)) from None
    value = float(trace[name][index])
    if not hasattr(exp, "preact"):
        return explanation_payload(exp, names, value)
    out = explanation_payload(exp.preact, names, value)
    z = out["total"]
    out.update(
        kind=exp.kind,
        index=list(exp.index),
        formula=f"{exp.preact.formula}; {exp.formula}",
        total=explanation_payload(exp.preact, {}, exp.value)["value"],
        activation={"fn": exp.fn, "z": z, "value": out["value"], "formula": exp.formula},
    )
    out["activation"]["value"] = out["total"]
    return out


def _dispatch(live: Live, layer: Layer, what: str, index: tuple[int, ...]) -> tuple[Any, dict]:
    tr, n = live.run.trace, layer.name
    t = {k: f"{n}.{k}" for k in ("in", "w", "b", "dout", "out")}
    if isinstance(layer, Conv2D) and what == "out":
        w = tr[t["w"]][:, :, ::-1, ::-1] if layer.flip else tr[t["w"]]
        exp = E.explain_conv_output(tr[t["in"]], w, tr[t["b"]], index, layer.stride, layer.padding)
        if layer.flip:  # name the stored kernel's cells, so the rotation shows
            exp = _unflip(exp, layer.kernel)
        return exp, {"x": t["in"], "w": t["w"], "b": t["b"]}
    if isinstance(layer, Conv2D) and what == "dx":
        if layer.flip:
            raise NotExplainable(f"{n}.dx is explained for cross-correlation only")
        shape = tr[t["in"]].shape
        exp = E.explain_conv_input_delta(
            tr[t["dout"]], tr[t["w"]], index, shape, layer.stride, layer.padding
        )
        return exp, {"dout": t["dout"], "w": t["w"]}
    if isinstance(layer, _Pool) and what in ("out", "dout", "dx"):
        cache = layer._cache
        if what == "out":
            return E.explain_pool_output(tr[t["in"]], cache, index), {"x": t["in"]}
        if what == "dout":
            return E.explain_pool_routing(tr[t["dout"]], cache, index), {"dout": t["dout"]}
        return E.explain_pool_input_delta(tr[t["dout"]], cache, index), {"dout": t["dout"]}
    if isinstance(layer, Dense) and what == "dx":
        exp = E.explain_dense_input_delta(tr[t["dout"]], tr[t["w"]], index)
        return exp, {"dout": t["dout"], "w": t["w"]}
    if layer.op in ACTIVATIONS and what == "dx":
        nxt = _next_layer(live, layer)
        if isinstance(nxt, Dense) and f"{nxt.name}.dout" in tr:
            x, out = tr[t["in"]], tr[t["out"]]
            slope = E.activation_slope(layer.op, x, out, getattr(layer, "slope", 0.01))
            exp = E.explain_dense_input_delta(
                tr[f"{nxt.name}.dout"], tr[f"{nxt.name}.w"], index, act_grad=slope
            )
            names = {"dout": f"{nxt.name}.dout", "w": f"{nxt.name}.w", "act_grad": f"{n}.in"}
            return exp, names
    raise NotExplainable(f"{n}.{what} has no explanation; explainable: {EXPLAINABLE}")


def _unflip(exp: Any, kernel: tuple[int, int]) -> Any:
    """The same terms with each kernel factor's index rotated back by 180 degrees."""
    kh, kw = kernel
    terms = []
    for term in exp.terms:
        factors = tuple(
            E.Factor(f.tensor, (f.index[0], f.index[1], kh - 1 - f.index[2], kw - 1 - f.index[3]),
                     f.value) if f.tensor == "w" and f.index else f
            for f in term.factors
        )  # fmt: skip
        terms.append(E.Term(factors, term.product))
    return E.Explanation(exp.kind, exp.index, tuple(terms), exp.formula, exp.constant, exp.scale)


def _next_layer(live: Live, layer: Layer) -> Layer | None:
    layers = live.net.layers
    i = layers.index(layer)
    return layers[i + 1] if i + 1 < len(layers) else None


# Comma-separated non-negative integers ("" for a scalar); documented on the route.
INDEX_PATTERN = r"^ *([0-9]+ *(, *[0-9]+ *)*)?$"


def parse_index(text: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """'0,0,2,3' -> (0, 0, 2, 3), checked against the tensor's shape."""
    if not re.fullmatch(INDEX_PATTERN, text):
        raise ValueError(f"index must be comma-separated integers like 0,0,2,3; got {text!r}")
    idx = tuple(int(p) for p in text.split(",")) if text.strip() else ()
    if len(idx) != len(shape):
        raise ValueError(
            f"index has {len(idx)} number(s); the tensor has {len(shape)} axes {shape}"
        )
    for i, (v, s) in enumerate(zip(idx, shape, strict=True)):
        if not 0 <= v < s:
            raise ValueError(f"index[{i}] = {v} is outside 0..{s - 1}")
    return idx


__all__ = ["INDEX_PATTERN", "NotExplainable", "explain", "parse_index"]
