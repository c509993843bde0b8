"""The loss's rules: which arithmetic of engine.functional.explain_dense answers
`loss.in`, `loss.probs`, `loss.value` and `loss.dx`, and which names are given."""

from __future__ import annotations

from collections.abc import Callable

from engine.explain.base import Answer, Rule
from engine.functional import explain_dense as D
from engine.functional.explain_terms import copy_of, given
from engine.network import Sequential
from engine.trace import Trace


def loss_rule(net: Sequential, name: str) -> Rule | None:
    """The rule for `loss.<...>`, None for a name the loss does not record."""
    fn = _LOSS.get(name)
    if fn is None:
        return None
    return lambda trace, idx: fn(net, trace, name, idx)


def _input(net: Sequential, trace: Trace, name: str, idx: tuple[int, ...]) -> Answer:
    src = f"{net.layers[-1].name}.out"
    exp = copy_of("src", idx, float(trace[src][idx]), idx, f"the loss reads {src}")
    return exp, {"src": src}


def _target(net: Sequential, trace: Trace, name: str, idx: tuple[int, ...]) -> Answer:
    note = "the target: the sample's label (or the values the output should have)"
    return given("target", name, idx, float(trace[name][idx]), note), {}


def _probs(net: Sequential, trace: Trace, name: str, idx: tuple[int, ...]) -> Answer:
    # also recorded without a target (a prediction only)
    return D.explain_softmax(trace["loss.in"], idx), {"z": "loss.in"}


def _value_or_delta(net: Sequential, trace: Trace, name: str, idx: tuple[int, ...]) -> Answer:
    """loss.value and loss.dx, by the network's loss."""
    out, target = trace["loss.in"], trace["loss.target"]
    if net.loss_kind == "softmax_cross_entropy":
        probs = trace["loss.probs"]
        names = {"probs": "loss.probs", "target": "loss.target", "z": "loss.in"}
        if name == "loss.value":
            return D.explain_cross_entropy(probs, target), names
        return D.explain_cross_entropy_delta(probs, target, idx), names
    # mse, or mse_onehot: loss.target holds the one-hot rows
    target = target.reshape(out.shape)
    names = {"out": "loss.in", "target": "loss.target"}
    if name == "loss.value":
        return D.explain_squared_error(out, target), names
    return D.explain_squared_error_delta(out, target, idx), names


LossFn = Callable[[Sequential, Trace, str, tuple[int, ...]], Answer]
_LOSS: dict[str, LossFn] = {
    "loss.in": _input, "loss.target": _target, "loss.labels": _target, "loss.probs": _probs,
    "loss.value": _value_or_delta, "loss.dx": _value_or_delta,
}  # fmt: skip
