"""The loss's rules: which arithmetic of engine.functional.explain_dense answers
`loss.in`, `loss.probs`, `loss.value` and `loss.dx`, and which names are given."""

from __future__ import annotations

from engine.explain.base import Answer, NotExplainable
from engine.functional import explain_dense as D
from engine.functional.explain_terms import copy_of, given
from engine.network import Sequential
from engine.trace import Trace


def loss_rule(net: Sequential, trace: Trace, name: str, idx: tuple[int, ...]) -> Answer:
    kind = net.loss_kind
    out = trace["loss.in"]
    if name == "loss.in":
        src = f"{net.layers[-1].name}.out"
        exp = copy_of("src", idx, float(trace[src][idx]), idx, f"the loss reads {src}")
        return exp, {"src": src}
    if name in ("loss.target", "loss.labels"):
        note = "the target: the sample's label (or the values the output should have)"
        return given("target", name, idx, float(trace[name][idx]), note), {}
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
