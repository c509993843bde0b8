"""Where any number of a stepped pass comes from: the one entry point for every tensor.

    exp, names = explain_tensor(net, trace, optimizer, "conv1.dw", (3, 0, 1, 2))

Every name a pass records answers: with the arithmetic that made it (terms that add
up to the recorded value), as a copy of another tensor's number (a layer's input is
the previous layer's output), or as `given` (an input, a parameter, a target: nothing
in the pass computes it). `names` maps each factor's generic tensor ("x", "w",
"dout", ...) to the trace name (or, for a derived factor such as an activation's
slope, a name that says what it is).

This module finds each name's rule (`rule_for`, by the name's form alone) and runs it;
`explainable` asks the same lookup whether there is one, so a flag "explainable" and
explain_tensor cannot disagree. The rules: cnn_rules (convolution,
pooling), dense_rules (activations, dense layers, recurrent heads), recurrent_rules
(a recurrent layer's own tensors and clipping), loss_rules and update_rules.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.explain.base import Answer, NotExplainable, Rule
from engine.explain.cnn_rules import conv_rule, pool_rule
from engine.explain.dense_rules import activation_rule, dense_rule
from engine.explain.loss_rules import loss_rule
from engine.explain.recurrent_rules import recurrent_rule_for
from engine.explain.update_rules import is_update, update_rule
from engine.functional import explain_dense as D
from engine.functional.explain_terms import copy_of, given
from engine.layers import AvgPool2D, Conv2D, Dense, Flatten, Layer, MaxPool2D
from engine.network import Sequential
from engine.optim import Optimizer
from engine.recurrent import RecurrentNet
from engine.trace import Trace

PARAM_NOTE = "a parameter: set by the preset or by training; the update step changes it"


def explain_tensor(
    net: Sequential, trace: Trace, optimizer: Optimizer, name: str, index: Sequence[int]
) -> Answer:
    """(explanation, factor name -> trace name) for trace[name][index]; KeyError if
    the pass has not recorded `name`, ValueError for an index outside it
    (NotExplainable, a ValueError, for a recorded name no rule answers)."""
    if name not in trace:
        raise KeyError(name)
    rule = rule_for(net, optimizer, name)
    if rule is None:
        raise NotExplainable(f"{name}: no rule explains it in this network")
    return rule(trace, tuple(int(i) for i in index))


def explainable(net: Sequential, optimizer: Optimizer, name: str) -> bool:
    """Whether explain_tensor answers for `name`, a tensor the pass records: the same
    lookup (rule_for), without reading or computing anything."""
    return rule_for(net, optimizer, name) is not None


def rule_for(net: Sequential, optimizer: Optimizer, name: str) -> Rule | None:
    """The rule that explains `name` in this network with this optimizer, found by the
    name's form alone (its layer, its kind, what it is); None where no rule answers."""
    if name.startswith("loss."):
        return loss_rule(net, name)
    layer_name, _, what = name.partition(".")
    if isinstance(net, RecurrentNet):
        rec = net.recurrent
        owned = layer_name == "clip" or layer_name == rec.name
        if owned and not (what in rec.params or is_update(rec, what)):
            return recurrent_rule_for(net, name)
    try:
        layer = net.layer(layer_name)
    except KeyError:
        return None  # no such layer in this network
    if what in layer.params:
        return lambda trace, idx: (
            given("param", name, idx, float(trace[name][idx]), PARAM_NOTE),
            {},
        )
    if is_update(layer, what):
        return update_rule(layer, optimizer, what)
    return _layer_rule(net, layer, what)


def _layer_rule(net: Sequential, layer: Layer, what: str) -> Rule | None:
    """Forward and backward through one layer."""
    n = layer.name
    t = {k: f"{n}.{k}" for k in ("in", "w", "b", "dout", "out", "dx")}
    if what == "in":
        return lambda trace, idx: _layer_input(net, layer, trace, idx)
    if isinstance(layer, MaxPool2D | AvgPool2D):  # its dout too: where the delta goes
        return pool_rule(layer, what, t)
    if what == "dout":
        return lambda trace, idx: _layer_dout(net, layer, trace, idx)
    if isinstance(layer, Conv2D):
        return conv_rule(layer, what, t)
    if layer.op in D.ACTIVATION_FORMULA:  # the activations explain_dense can explain
        return activation_rule(net, layer, what, t)
    if isinstance(layer, Flatten):
        return (lambda trace, idx: _flatten(trace, what, idx, t)) if what in ("out", "dx") else None
    if isinstance(layer, Dense):  # and the recurrent heads, which are dense layers
        return dense_rule(layer, what, t)
    return None


def _flatten(trace: Trace, what: str, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    src = t["in"] if what == "out" else t["dout"]
    shape = trace[t["in"]].shape
    src_idx = (
        (idx[0], *(int(i) for i in np.unravel_index(idx[1], shape[1:])))
        if what == "out"
        else (idx[0], int(np.ravel_multi_index(idx[1:], shape[1:])))
    )
    formula = "out[n, k] = in[n, c, y, x],  k = (c·H + y)·W + x"
    exp = copy_of("src", src_idx, float(trace[src][src_idx]), idx, formula)
    return exp, {"src": src}


def _layer_input(net: Sequential, layer: Layer, trace: Trace, idx: tuple[int, ...]) -> Answer:
    name = f"{layer.name}.in"
    i = net.layers.index(layer)
    if i == 0:
        note = "the network's input: the sample (a dataset image, a drawing, typed numbers)"
        return given("input", name, idx, float(trace[name][idx]), note), {}
    src = f"{net.layers[i - 1].name}.out"
    if src not in trace:  # a recurrent layer hands up its hidden states, one per step
        src, sidx = _hidden_source(net.layers[i - 1], trace, idx)
        exp = copy_of("src", sidx, float(trace[src][sidx]), idx, f"the hidden state {src}")
        return exp, {"src": src}
    exp = copy_of("src", idx, float(trace[src][idx]), idx, f"this layer's input is {src}")
    return exp, {"src": src}


def _hidden_source(rec: Layer, trace: Trace, idx: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    """Which step's h a head input (n, t, j) is: a BiLSTM's features are the forward
    direction's h then the backward one's."""
    n, step, j = idx
    h = int(getattr(rec, "hidden_size", None) or trace[f"{rec.name}.in"].shape[-1])
    if getattr(rec, "directions", 1) == 2:
        side = "fwd" if j < h else "bwd"
        return f"{rec.name}.{side}.t{step}.h", (n, j % h)
    return f"{rec.name}.t{step}.h", (n, j)


def _layer_dout(net: Sequential, layer: Layer, trace: Trace, idx: tuple[int, ...]) -> Answer:
    i = net.layers.index(layer)
    src = "loss.dx" if i == len(net.layers) - 1 else f"{net.layers[i + 1].name}.dx"
    exp = copy_of("src", idx, float(trace[src][idx]), idx, f"the delta from above is {src}")
    return exp, {"src": src}
