"""Where any number of a stepped pass comes from: one entry point for every tensor.

    exp, names = explain_tensor(net, trace, optimizer, "conv1.dw", (3, 0, 1, 2))

Every name a pass records answers: with the arithmetic that made it (terms that add
up to the recorded value), as a copy of another tensor's number (a layer's input is
the previous layer's output), or as `given` (an input, a parameter, a target: nothing
in the pass computes it). Recurrent steps go to engine.recurrent_explain. `names`
maps each factor's generic tensor ("x", "w", "dout", ...) to the trace name (or, for
a derived factor such as an activation's slope, a name that says what it is).

The rules of each kind of layer are in engine.explain_layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.explain_layers import (
    NotExplainable,
    activation_rule,
    conv_rule,
    dense_rule,
    explain_pool_routing,
    pool_rule,
)
from engine.functional import explain as C
from engine.functional import explain_dense as D
from engine.functional.explain_terms import Explanation, copy_of, given
from engine.layers import Conv2D, Dense, DenseEach, DenseLast, Flatten, Layer, MaxPool2D
from engine.layers.pool import AvgPool2D
from engine.network import Sequential
from engine.optim import Optimizer
from engine.trace import Trace

Names = dict[str, str]


def explain_tensor(
    net: Sequential, trace: Trace, optimizer: Optimizer, name: str, index: Sequence[int]
) -> tuple[Explanation, Names]:
    """(explanation, factor name -> trace name) for trace[name][index]; KeyError if
    the pass has not recorded `name`, ValueError for an index outside it."""
    if name not in trace:
        raise KeyError(name)
    idx = tuple(int(i) for i in index)
    if name.startswith("loss."):
        return _loss(net, trace, name, idx)
    layer_name, _, what = name.partition(".")
    rec = getattr(net, "recurrent", None)
    owned = rec is not None and (layer_name == "clip" or layer_name == rec.name)
    if owned and not (what in rec.params or _is_update(rec, what)):
        from engine.recurrent_explain import explain_recurrent  # the recurrent layer's own names

        return explain_recurrent(trace, net, name, idx)  # type: ignore[arg-type]
    try:
        layer = net.layer(layer_name)
    except KeyError:
        raise NotExplainable(f"{name}: no layer {layer_name!r} in this network") from None
    if what in layer.params:
        return given("param", name, idx, _value(trace, name, idx), _PARAM_NOTE), {}
    if _is_update(layer, what):
        return _update(layer, trace, optimizer, what, idx)
    return _layer(net, layer, trace, what, idx)


_PARAM_NOTE = "a parameter: set by the preset or by training; the update step changes it"


def _value(trace: Trace, name: str, idx: tuple[int, ...]) -> float:
    return float(trace[name][idx])


def _is_update(layer: Layer, what: str) -> bool:
    key, _, rest = what.partition(".")
    return what == "lr" or (key in layer.params and rest != "")


# --- forward and backward through a layer --------------------------------------------


def _layer(
    net: Sequential, layer: Layer, trace: Trace, what: str, idx: tuple[int, ...]
) -> tuple[Explanation, Names]:
    n = layer.name
    t = {k: f"{n}.{k}" for k in ("in", "w", "b", "dout", "out", "dx")}
    if what == "in":
        return _layer_input(net, layer, trace, idx)
    if what == "dout":
        return _layer_dout(net, layer, trace, idx)
    if isinstance(layer, Conv2D):
        return conv_rule(layer, trace, what, idx, t)
    if isinstance(layer, MaxPool2D | AvgPool2D):
        return pool_rule(layer, trace, what, idx, t)
    if layer.op in D.ACTIVATION_FORMULA:  # the activations explain_dense can explain
        return activation_rule(net, layer, trace, what, idx, t)
    if isinstance(layer, Flatten) and what in ("out", "dx"):
        src = t["in"] if what == "out" else t["dout"]
        shape = trace[t["in"]].shape
        src_idx = (
            (idx[0], *np.unravel_index(idx[1], shape[1:]))
            if what == "out"
            else (idx[0], int(np.ravel_multi_index(idx[1:], shape[1:])))
        )
        formula = "flatten only renumbers: out[n, k] = in[n, c, y, x], k = (c·H + y)·W + x"
        exp = copy_of("src", src_idx, _value(trace, src, src_idx), idx, formula)
        return exp, {"src": src}
    if isinstance(layer, Dense | DenseLast | DenseEach):
        return dense_rule(layer, trace, what, idx, t)
    raise NotExplainable(f"{n}.{what}: no rule for a {layer.op} layer's {what!r}")


def _layer_input(
    net: Sequential, layer: Layer, trace: Trace, idx: tuple[int, ...]
) -> tuple[Explanation, Names]:
    name = f"{layer.name}.in"
    i = net.layers.index(layer)
    if i == 0:
        note = "the network's input: the sample (a dataset image, a drawing, typed numbers)"
        return given("input", name, idx, _value(trace, name, idx), note), {}
    src = f"{net.layers[i - 1].name}.out"
    if src not in trace:  # a recurrent layer hands up its hidden states, one per step
        src, sidx = _hidden_source(net.layers[i - 1], trace, idx)
        exp = copy_of("src", sidx, _value(trace, src, sidx), idx, f"the hidden state {src}")
        return exp, {"src": src}
    exp = copy_of("src", idx, _value(trace, src, idx), idx, f"this layer's input is {src}")
    return exp, {"src": src}


def _hidden_source(rec: Layer, trace: Trace, idx: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    """Which step's h a head input (n, t, j) is: a BiLSTM's features are the forward
    direction's h then the backward one's."""
    n, step, j = idx
    h = getattr(rec, "hidden_size", trace[f"{rec.name}.in"].shape[-1])
    if getattr(rec, "directions", 1) == 2:
        side = "fwd" if j < h else "bwd"
        return f"{rec.name}.{side}.t{step}.h", (n, j % h)
    return f"{rec.name}.t{step}.h", (n, j)


def _layer_dout(
    net: Sequential, layer: Layer, trace: Trace, idx: tuple[int, ...]
) -> tuple[Explanation, Names]:
    i = net.layers.index(layer)
    src = "loss.dx" if i == len(net.layers) - 1 else f"{net.layers[i + 1].name}.dx"
    exp = copy_of("src", idx, _value(trace, src, idx), idx, f"the delta from above is {src}")
    return exp, {"src": src}


# --- the loss ---------------------------------------------------------------------------


def _loss(
    net: Sequential, trace: Trace, name: str, idx: tuple[int, ...]
) -> tuple[Explanation, Names]:
    kind = net.loss_kind
    out = trace["loss.in"]
    if name == "loss.in":
        src = f"{net.layers[-1].name}.out"
        exp = copy_of("src", idx, _value(trace, src, idx), idx, f"the loss reads {src}")
        return exp, {"src": src}
    if name in ("loss.target", "loss.labels"):
        note = "the target: the sample's label (or the values the output should have)"
        return given("target", name, idx, _value(trace, name, idx), note), {}
    if name == "loss.probs":  # also recorded without a target (a prediction only)
        return D.explain_softmax(out, idx), {"z": "loss.in"}
    target = trace["loss.target"]
    if kind == "softmax_cross_entropy":
        probs = trace["loss.probs"]
        names = {"probs": "loss.probs", "target": "loss.target", "z": "loss.in"}
        if name == "loss.value":
            return D.explain_cross_entropy(probs, target), names
        if name == "loss.dx":
            return D.explain_cross_entropy_delta(probs, target, idx), names
    else:  # mse, or mse_onehot: loss.target holds the one-hot rows
        target = target.reshape(out.shape)
        names = {"out": "loss.in", "target": "loss.target"}
        if name == "loss.value":
            return D.explain_squared_error(out, target), names
        if name == "loss.dx":
            return D.explain_squared_error_delta(out, target, idx), names
    raise NotExplainable(f"{name}: no rule for the {kind} loss's {name!r}")


# --- the update -------------------------------------------------------------------------


def _update(
    layer: Layer, trace: Trace, optimizer: Optimizer, what: str, idx: tuple[int, ...]
) -> tuple[Explanation, Names]:
    n = layer.name
    name = f"{n}.{what}"
    if what == "lr":
        return given("hyper", name, idx, _value(trace, name, idx), "the learning rate"), {}
    key, _, rest = what.partition(".")
    p = f"{n}.{key}"
    g = f"{n}.d{key}"  # dw for w, db_ih for b_ih
    if rest == "before":
        exp = copy_of("src", idx, _value(trace, name, idx), idx, f"{p} as the pass used it")
        return exp, {"src": p}
    if rest == "change":
        after, before = trace[f"{p}.after"], trace[f"{p}.before"]
        terms = (
            C.Term.of(C.Factor("after", idx, float(after[idx]))),
            C.Term.of(C.Factor("before", idx, float(before[idx])), C.Factor("−1", None, -1.0)),
        )
        exp = Explanation("update.change", idx, terms, "change = w_after − w_before")
        return exp, {"after": f"{p}.after", "before": f"{p}.before"}
    if rest == "t":
        note = "Adam's step count: how many updates this parameter has had"
        return given("hyper", name, idx, _value(trace, name, idx), note), {}
    hyper = optimizer.hyper()
    lr = float(trace[f"{n}.lr"])
    w, grad = trace[f"{p}.before"], trace[g]
    names = {"w": f"{p}.before", "dw": g, "v": f"{p}.v", "m": f"{p}.m",
             "v_prev": f"{p}.v.before", "m_prev": f"{p}.m.before"}  # fmt: skip
    if "clip.scale" in trace:  # clipping scaled every gradient before the update used it
        grad = grad * trace["clip.scale"]
        names["dw"] = f"{g} × clip.scale"
    if rest in ("v.before", "m.before"):
        note = "the optimizer's state from the previous update (zero before the first)"
        return given("state", name, idx, _value(trace, name, idx), note), {}
    kind = optimizer.kind
    if rest == "after" and kind == "sgd":
        return D.explain_sgd(w, grad, lr, idx), names
    if kind == "momentum" and rest in ("after", "v"):
        if rest == "v":
            prev = trace[f"{p}.v.before"]
            exp = D.explain_momentum_velocity(prev, grad, hyper["momentum"], idx)
            return exp, names
        return D.explain_momentum(w, trace[f"{p}.v"], lr, idx), names
    if kind == "adam" and rest in ("after", "m", "v"):
        if rest == "after":
            steps = int(trace[f"{p}.t"])
            exp = D.explain_adam(
                w, trace[f"{p}.m"], trace[f"{p}.v"], idx, lr,
                hyper["beta1"], hyper["beta2"], hyper["eps"], steps,
            )  # fmt: skip
            return exp, names
        beta = hyper["beta1"] if rest == "m" else hyper["beta2"]
        prev = trace[f"{p}.{rest}.before"]
        return D.explain_adam_moment(prev, grad, beta, idx, squared=rest == "v"), names
    raise NotExplainable(f"{name}: no rule for {kind}'s {rest!r}")


__all__ = ["NotExplainable", "explain_pool_routing", "explain_tensor"]
