"""The update's rules: a parameter before and after the optimizer's step, the change,
the learning rate, and momentum's velocity or Adam's moments, each read from the
trace and answered by engine.functional.explain_dense's update arithmetic."""

from __future__ import annotations

from engine.explain.base import Answer, NotExplainable
from engine.functional import explain_dense as D
from engine.functional.explain_terms import Explanation, Factor, Term, copy_of, given
from engine.layers import Layer
from engine.optim import Optimizer
from engine.trace import Trace


def is_update(layer: Layer, what: str) -> bool:
    """Whether `<layer>.<what>` is a number the update step records (w.after, lr, ...)."""
    key, _, rest = what.partition(".")
    return what == "lr" or (key in layer.params and rest != "")


def update_rule(
    layer: Layer, trace: Trace, optimizer: Optimizer, what: str, idx: tuple[int, ...]
) -> Answer:
    n = layer.name
    name = f"{n}.{what}"
    if what == "lr":
        return given("hyper", name, idx, float(trace[name][idx]), "the learning rate"), {}
    key, _, rest = what.partition(".")
    p = f"{n}.{key}"
    g = f"{n}.d{key}"  # dw for w, db_ih for b_ih
    if rest == "before":
        exp = copy_of("src", idx, float(trace[name][idx]), idx, f"{p} as the pass used it")
        return exp, {"src": p}
    if rest == "change":
        after, before = trace[f"{p}.after"], trace[f"{p}.before"]
        terms = (
            Term.of(Factor("after", idx, float(after[idx]))),
            Term.of(Factor("before", idx, float(before[idx])), Factor("−1", None, -1.0)),
        )
        exp = Explanation("update.change", idx, terms, "change = w_after − w_before")
        return exp, {"after": f"{p}.after", "before": f"{p}.before"}
    if rest == "t":
        note = "Adam's step count: how many updates this parameter has had"
        return given("hyper", name, idx, float(trace[name][idx]), note), {}
    if rest in ("v.before", "m.before"):
        note = "the optimizer's state from the previous update (zero before the first)"
        return given("state", name, idx, float(trace[name][idx]), note), {}
    hyper = optimizer.hyper()
    lr = float(trace[f"{n}.lr"])
    w, grad = trace[f"{p}.before"], trace[g]
    names = {"w": f"{p}.before", "dw": g, "v": f"{p}.v", "m": f"{p}.m",
             "v_prev": f"{p}.v.before", "m_prev": f"{p}.m.before"}  # fmt: skip
    if "clip.scale" in trace:  # clipping scaled every gradient before the update used it
        grad = grad * trace["clip.scale"]
        names["dw"] = f"{g} × clip.scale"
    kind = optimizer.kind
    if rest == "after" and kind == "sgd":
        return D.explain_sgd(w, grad, lr, idx), names
    if kind == "momentum" and rest == "v":
        prev = trace[f"{p}.v.before"]
        return D.explain_momentum_velocity(prev, grad, hyper["momentum"], idx), names
    if kind == "momentum" and rest == "after":
        return D.explain_momentum(w, trace[f"{p}.v"], lr, idx), names
    if kind == "adam" and rest == "after":
        steps = int(trace[f"{p}.t"])
        exp = D.explain_adam(
            w, trace[f"{p}.m"], trace[f"{p}.v"], idx, lr,
            hyper["beta1"], hyper["beta2"], hyper["eps"], steps,
        )  # fmt: skip
        return exp, names
    if kind == "adam" and rest in ("m", "v"):
        beta = hyper["beta1"] if rest == "m" else hyper["beta2"]
        prev = trace[f"{p}.{rest}.before"]
        return D.explain_adam_moment(prev, grad, beta, idx, squared=rest == "v"), names
    raise NotExplainable(f"{name}: no rule for {kind}'s {rest!r}")
