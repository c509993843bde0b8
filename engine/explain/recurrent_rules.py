"""The recurrent layer's rules: where its numbers come from, read from a stepped
pass's trace (the arithmetic is engine.functional.explain_recurrent's).

    exp, names = recurrent_rule(trace, net, "lstm1.t3.f", (0, 2))

Every tensor the recurrent layer records answers (engine.explain.explain_tensor sends
them here: every `<layer>.*` name but the parameters and the update's, and `clip.*`):

- given: the input sequence `<layer>.in`, the initial states `h0`, `c0` (zeros);
- copies: a step's `x` (the input at t), `h_prev` / `c_prev` (the step before's h / c,
  or h0 / c0), the outputs `out` (a BiLSTM's `fwd.out`, `bwd.out` and their
  concatenation), `dout` and a step's `dh_out` (the head's delta to h_t);
- a step's forward: the pre-activations `pre` / `i_pre` ... (W_ih x_t + W_hh h_(t-1)
  + b_ih + b_hh), the gates i, f, g, o (the same terms, then σ or tanh), c's terms
  `fc` (f · c_(t-1)) and `ig` (i · g), `c` (f · c_(t-1) + i · g), `tanh_c`, `h`;
- a step's backward and the layer's gradients: engine.explain.recurrent_back_rules.

A BiLSTM's directions are `<layer>.fwd.t<t>...` and `<layer>.bwd.t<t>...` (t the time
position; the backward direction reads t = T-1 first). `names` maps each factor's
generic tensor ("x", "w_ih", ...) to the trace name its value came from; factors
built here from several steps carry their trace names themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from engine.explain.base import Answer, NotExplainable, Rule
from engine.explain.recurrent_back_rules import (
    BACKWARD_STEP,
    BACKWARD_STEP_RULES,
    BACKWARD_TENSORS,
    CLIP_RULES,
    StepFn,
    gradient_rule,
)
from engine.explain.recurrent_layout import Layout
from engine.functional.explain_recurrent import (
    CELL_TERMS,
    explain_lstm_cell,
    explain_lstm_cell_term,
    explain_lstm_gate,
    explain_lstm_hidden,
    explain_preact,
    explain_rnn_hidden,
    explain_tanh_c,
)
from engine.functional.explain_terms import checked_index, copy_of, given
from engine.recurrent import RecurrentNet
from engine.trace import Trace

LayoutFn = Callable[[Layout, tuple[int, ...]], Answer]  # (this pass's layout, index) -> answer
STEP_NAME = re.compile(r"^(?P<layer>[^.]+)(?:\.(?P<dir>fwd|bwd))?\.t(?P<t>\d+)\.(?P<what>\w+)$")


def recurrent_rule(trace: Trace, net: RecurrentNet, name: str, index: Sequence[int]) -> Answer:
    """(explanation, factor name -> trace name) for trace[name][index], a number the
    recurrent layer (or the gradient clipping) recorded; ValueError for a name it did
    not record or an index outside the tensor (NotExplainable for a name it has no
    rule for)."""
    if name not in trace:
        raise ValueError(f"{name} is not recorded in this pass (yet); explainable: {EXPLAINABLE}")
    rule = recurrent_rule_for(net, name)
    if rule is None:
        raise NotExplainable(
            f"{name} is not a recorded step tensor of {net.recurrent.name} with a rule; "
            f"explainable: {EXPLAINABLE}"
        )
    return rule(trace, tuple(int(i) for i in index))


def recurrent_rule_for(net: RecurrentNet, name: str) -> Rule | None:
    """The rule for a name of the recurrent layer (or of clipping), found by the name's
    form alone; None for a name no rule answers."""
    rec = net.recurrent
    if name.startswith("clip."):
        clip = CLIP_RULES.get(name)
        return None if clip is None else _answered(net, name, lambda lay, idx: clip(lay, idx))
    if m := STEP_NAME.match(name):
        d, what = m["dir"] or "", m["what"]
        if m["layer"] != rec.name or d not in Layout.directions(rec.op):
            return None
        step = FORWARD_STEP_RULES.get(what) or BACKWARD_STEP_RULES.get(what)
        if step is None:
            return None
        t = int(m["t"])
        return _answered(net, name, lambda lay, idx: _at_step(lay, step, name, d, t, what, idx))
    layer, _, what = name.partition(".")
    if layer != rec.name:
        return None
    if what in _LAYER_RULES:
        fn = _LAYER_RULES[what]
        return _answered(net, name, lambda lay, idx: fn(lay, what, idx))
    if what.removesuffix("_reverse") in BACKWARD_TENSORS:
        return _answered(net, name, lambda lay, idx: gradient_rule(lay, what, idx))
    return None


def _answered(net: RecurrentNet, name: str, fn: LayoutFn) -> Rule:
    """A rule that checks the index against the recorded tensor, reads the layout of this
    pass, and keeps only the factor names the trace holds."""

    def rule(trace: Trace, index: tuple[int, ...]) -> Answer:
        idx = checked_index(index, trace[name].shape, name)
        exp, names = fn(Layout.of(trace, net), idx)
        return exp, {k: v for k, v in names.items() if v in trace}

    return rule


def _at_step(
    lay: Layout, fn: StepFn, name: str, d: str, t: int, what: str, idx: tuple[int, ...]
) -> Answer:
    if not 0 <= t < lay.steps:
        raise ValueError(f"{name}: no such step in this {lay.op} of {lay.steps} steps")
    return fn(lay, d, t, what, idx)


def _given(lay: Layout, what: str, idx: tuple[int, ...]) -> Answer:
    """The input sequence and the initial states: nothing in the pass computes them."""
    name = f"{lay.name}.{what}"
    value = float(lay.trace[name][idx])
    if what == "in":
        note = "the input sequence: the sample's x_t, one per time step (nothing computes it)"
        return given("input", name, idx, value, note), {}
    state = "hidden" if what == "h0" else "cell"
    note = f"the initial {state} state: zeros (nothing came before the first step)"
    return given("state", name, idx, value, note), {}


def _output(lay: Layout, what: str, idx: tuple[int, ...]) -> Answer:
    """out (a BiLSTM's fwd.out, bwd.out and their concatenation): copies of the h_t."""
    n, t, j = idx
    if what == "out" and lay.bidir:  # the two directions side by side
        d, j = ("fwd", j) if j < lay.hid else ("bwd", j - lay.hid)
    else:
        d = what.partition(".")[0] if what != "out" else ""
    src = f"{lay.prefix(d, t)}.h"
    formula = f"h_t (t = {t}, {d})" if d else f"h_t (t = {t})"
    return copy_of("src", (n, j), float(lay.trace[src][n, j]), idx, formula), {"src": src}


def _output_delta(lay: Layout, what: str, idx: tuple[int, ...]) -> Answer:
    formula = "the delta the head sends down to every hidden state (head.dx)"
    value = float(lay.trace["head.dx"][idx])
    return copy_of("src", idx, value, idx, formula), {"src": "head.dx"}


# `<layer>.<what>` beside the steps and the gradients (BACKWARD_TENSORS), by what.
_LAYER_RULES: dict[str, Callable[[Layout, str, tuple[int, ...]], Answer]] = {
    "in": _given, "h0": _given, "c0": _given,
    "out": _output, "fwd.out": _output, "bwd.out": _output, "dout": _output_delta,
}  # fmt: skip


def _step_inputs(lay: Layout, d: str, t: int) -> tuple[dict[str, str], list[np.ndarray]]:
    """A forward step's trace names, and x, h_prev, W_ih, W_hh, b_ih, b_hh."""
    tr, p = lay.trace, lay.prefix(d, t)
    names = {k: f"{p}.{k}" for k in ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "tanh_c")}
    weights = {k: lay.weight(d, k) for k in ("w_ih", "w_hh", "b_ih", "b_hh")}
    names.update(weights)
    arrays = [tr[names["x"]], tr[names["h_prev"]], *(tr[v] for v in weights.values())]
    return names, arrays


def _step_x(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    src = (idx[0], t, idx[1])
    formula = f"x_t = {lay.name}.in[n, {t}, d]"
    value = float(lay.trace[f"{lay.name}.in"][src])
    return copy_of("in", src, value, idx, formula), {"in": f"{lay.name}.in"}


def _preact(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    """pre (an RNN's) or a gate's i_pre ... o_pre: W_ih x_t + W_hh h_(t-1) + b_ih + b_hh."""
    names, (x, h_prev, w_ih, w_hh, b_ih, b_hh) = _step_inputs(lay, d, t)
    gate = None if what == "pre" else what[0]
    return explain_preact(x, h_prev, w_ih, w_hh, b_ih, b_hh, idx, gate), names


def _gate(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    names, (x, h_prev, w_ih, w_hh, b_ih, b_hh) = _step_inputs(lay, d, t)
    return explain_lstm_gate(x, h_prev, w_ih, w_hh, b_ih, b_hh, what, idx), names


def _hidden(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    names, (x, h_prev, w_ih, w_hh, b_ih, b_hh) = _step_inputs(lay, d, t)
    if lay.op == "rnn":
        nl = lay.nonlinearity
        return explain_rnn_hidden(x, h_prev, w_ih, w_hh, b_ih, b_hh, idx, nl), names
    tr = lay.trace
    return explain_lstm_hidden(tr[names["o"]], tr[names["tanh_c"]], idx), names


def _cell(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    names, _ = _step_inputs(lay, d, t)
    f, c_prev, i, g = (lay.trace[names[k]] for k in ("f", "c_prev", "i", "g"))
    return explain_lstm_cell(f, c_prev, i, g, idx), names


def _cell_term(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    """fc = f · c_(t-1) or ig = i · g: one of c's two terms."""
    names, _ = _step_inputs(lay, d, t)
    first, second, _ = CELL_TERMS[what]
    a, b = lay.trace[names[first]], lay.trace[names[second]]
    return explain_lstm_cell_term(what, a, b, idx), names


def _tanh_c(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    names, _ = _step_inputs(lay, d, t)
    return explain_tanh_c(lay.trace[names["c"]], idx), names


def _previous(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    return _previous_state(lay, d, t, what[0], idx)


# A forward step's numbers (`<layer>[.fwd|.bwd].t<t>.<what>`), by what.
FORWARD_STEP_RULES: dict[str, StepFn] = {
    "x": _step_x, "h_prev": _previous, "c_prev": _previous,
    "pre": _preact, "i_pre": _preact, "f_pre": _preact, "g_pre": _preact, "o_pre": _preact,
    "i": _gate, "f": _gate, "g": _gate, "o": _gate, "fc": _cell_term, "ig": _cell_term,
    "c": _cell, "tanh_c": _tanh_c, "h": _hidden,
}  # fmt: skip
FORWARD_STEP = tuple(FORWARD_STEP_RULES)
EXPLAINABLE = (
    "<layer>.in|h0|c0|out|dout|dx|dh0|dc0|dw_ih|dw_hh|db_ih|db_hh (a BiLSTM's _reverse "
    "too, and fwd.out, bwd.out); <layer>[.fwd|.bwd].t<t>."
    + "|".join(FORWARD_STEP + BACKWARD_STEP)
    + "; clip.norm_before|norm_after|scale"
)


def _previous_state(lay: Layout, d: str, t: int, key: str, idx: tuple[int, ...]) -> Answer:
    """h_prev / c_prev: the step before's h / c, or the initial state at the first step."""
    prev = lay.before(d, t)
    if prev is None:
        src = f"{lay.name}.{key}0"
        src_idx = (lay.dirs.index(d), *idx) if lay.bidir else idx
        first = "the first step of this direction" if d else "the first step"
        formula = f"{first} reads the initial state {key}0"
    else:
        src = f"{lay.prefix(d, prev)}.{key}"
        src_idx = idx
        formula = f"{key}_(t-1) = {key}_(t={prev})"
    value = float(lay.trace[src][src_idx])
    return copy_of("src", src_idx, value, idx, formula), {"src": src}
