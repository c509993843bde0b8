"""The update's rules: a parameter before and after the optimizer's step, the change,
the learning rate, and momentum's velocity or Adam's moments, each read from the
trace and answered by engine.functional.explain_dense's update arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.explain.base import Answer, Rule
from engine.functional import explain_dense as D
from engine.functional.explain_terms import Explanation, Factor, Term, copy_of, given
from engine.layers import Layer
from engine.optim import Optimizer
from engine.trace import Trace


def is_update(layer: Layer, what: str) -> bool:
    """Whether `<layer>.<what>` is a number the update step records (w.after, lr, ...)."""
    key, _, rest = what.partition(".")
    return what == "lr" or (key in layer.params and rest != "")


def update_rule(layer: Layer, optimizer: Optimizer, what: str) -> Rule | None:
    """The rule for an update name `<layer>.<what>` (is_update), None where `optimizer`
    records no such number (SGD has no velocity)."""
    key, _, rest = what.partition(".")
    u = _Update(layer.name, key, f"{layer.name}.{what}", optimizer)
    if what == "lr":
        return lambda trace, idx: _lr(u, trace, idx)
    fn = _ANY.get(rest) or _BY_OPTIMIZER.get(optimizer.kind, {}).get(rest)
    if fn is None:
        return None
    return lambda trace, idx: fn(u, trace, idx)


@dataclass(frozen=True)
class _Update:
    layer: str
    key: str  # the parameter: w, b, w_ih, ...
    name: str  # the explained tensor's name
    optimizer: Optimizer

    @property
    def param(self) -> str:
        return f"{self.layer}.{self.key}"

    @property
    def grad(self) -> str:
        return f"{self.layer}.d{self.key}"  # dw for w, db_ih for b_ih


def _lr(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    return given("hyper", u.name, idx, float(trace[u.name][idx]), "the learning rate"), {}


def _before(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    p = u.param
    exp = copy_of("src", idx, float(trace[u.name][idx]), idx, f"{p} as the pass used it")
    return exp, {"src": p}


def _change(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    p = u.param
    after, before = trace[f"{p}.after"], trace[f"{p}.before"]
    terms = (
        Term.of(Factor("after", idx, float(after[idx]))),
        Term.of(Factor("before", idx, float(before[idx])), Factor("−1", None, -1.0)),
    )
    exp = Explanation("update.change", idx, terms, "change = w_after − w_before")
    return exp, {"after": f"{p}.after", "before": f"{p}.before"}


def _steps(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    note = "Adam's step count: how many updates this parameter has had"
    return given("hyper", u.name, idx, float(trace[u.name][idx]), note), {}


def _previous(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    note = "the optimizer's state from the previous update (zero before the first)"
    return given("state", u.name, idx, float(trace[u.name][idx]), note), {}


def _inputs(u: _Update, trace: Trace) -> tuple[float, np.ndarray, np.ndarray, dict[str, str]]:
    """The learning rate, the weight before, the gradient the update used, and names."""
    p, g = u.param, u.grad
    names = {"w": f"{p}.before", "dw": g, "v": f"{p}.v", "m": f"{p}.m",
             "v_prev": f"{p}.v.before", "m_prev": f"{p}.m.before"}  # fmt: skip
    grad = trace[g]
    if "clip.scale" in trace:  # clipping scaled every gradient before the update used it
        grad = grad * trace["clip.scale"]
        names["dw"] = f"{g} × clip.scale"
    return float(trace[f"{u.layer}.lr"]), trace[f"{p}.before"], grad, names


def _sgd(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    lr, w, grad, names = _inputs(u, trace)
    return D.explain_sgd(w, grad, lr, idx), names


def _momentum_velocity(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    _, _, grad, names = _inputs(u, trace)
    prev = trace[f"{u.param}.v.before"]
    beta = u.optimizer.hyper()["momentum"]
    return D.explain_momentum_velocity(prev, grad, beta, idx), names


def _momentum(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    lr, w, _, names = _inputs(u, trace)
    return D.explain_momentum(w, trace[f"{u.param}.v"], lr, idx), names


def _adam(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    lr, w, _, names = _inputs(u, trace)
    p, hyper = u.param, u.optimizer.hyper()
    exp = D.explain_adam(
        w, trace[f"{p}.m"], trace[f"{p}.v"], idx, lr,
        hyper["beta1"], hyper["beta2"], hyper["eps"], int(trace[f"{p}.t"]),
    )  # fmt: skip
    return exp, names


def _adam_moment(u: _Update, trace: Trace, idx: tuple[int, ...]) -> Answer:
    _, _, grad, names = _inputs(u, trace)
    rest = u.name.rpartition(".")[2]  # m or v
    beta = u.optimizer.hyper()["beta1" if rest == "m" else "beta2"]
    prev = trace[f"{u.param}.{rest}.before"]
    return D.explain_adam_moment(prev, grad, beta, idx, squared=rest == "v"), names


UpdateFn = Callable[[_Update, Trace, tuple[int, ...]], Answer]
# `<layer>.<param>.<rest>`: what every optimizer records, then what each one adds
_ANY: dict[str, UpdateFn] = {"before": _before, "change": _change, "t": _steps,
                             "v.before": _previous, "m.before": _previous}  # fmt: skip
_BY_OPTIMIZER: dict[str, dict[str, UpdateFn]] = {
    "sgd": {"after": _sgd},
    "momentum": {"v": _momentum_velocity, "after": _momentum},
    "adam": {"after": _adam, "m": _adam_moment, "v": _adam_moment},
}
