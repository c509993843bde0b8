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
  + b_ih + b_hh), the gates i, f, g, o (the same terms, then σ or tanh), `c`
  (f · c_(t-1) + i · g), `tanh_c`, `h`;
- a step's backward and the layer's gradients: engine.explain.recurrent_back_rules.

A BiLSTM's directions are `<layer>.fwd.t<t>...` and `<layer>.bwd.t<t>...` (t the time
position; the backward direction reads t = T-1 first). `names` maps each factor's
generic tensor ("x", "w_ih", ...) to the trace name its value came from; factors
built here from several steps carry their trace names themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.explain.base import Answer
from engine.explain.recurrent_back_rules import (
    BACKWARD_STEP,
    BACKWARD_TENSORS,
    backward_step_rule,
    clip_rule,
    gradient_rule,
)
from engine.explain.recurrent_layout import Layout
from engine.functional.explain_recurrent import (
    explain_lstm_cell,
    explain_lstm_gate,
    explain_lstm_hidden,
    explain_preact,
    explain_rnn_hidden,
    explain_tanh_c,
)
from engine.functional.explain_terms import checked_index, copy_of, given
from engine.recurrent import RecurrentNet
from engine.trace import Trace

STEP_NAME = re.compile(r"^(?P<layer>[^.]+)(?:\.(?P<dir>fwd|bwd))?\.t(?P<t>\d+)\.(?P<what>\w+)$")
FORWARD_STEP = ("x", "h_prev", "c_prev", "pre", "i_pre", "f_pre", "g_pre", "o_pre",
                "i", "f", "g", "o", "c", "tanh_c", "h")  # fmt: skip
EXPLAINABLE = (
    "<layer>.in|h0|c0|out|dout|dx|dh0|dc0|dw_ih|dw_hh|db_ih|db_hh (a BiLSTM's _reverse "
    "too, and fwd.out, bwd.out); <layer>[.fwd|.bwd].t<t>."
    + "|".join(FORWARD_STEP + BACKWARD_STEP)
    + "; clip.norm_before|norm_after|scale"
)


def recurrent_rule(trace: Trace, net: RecurrentNet, name: str, index: Sequence[int]) -> Answer:
    """(explanation, factor name -> trace name) for trace[name][index], a number the
    recurrent layer (or the gradient clipping) recorded; ValueError for a name it did
    not record or an index outside the tensor."""
    rec = net.recurrent
    if name not in trace:
        raise ValueError(f"{name} is not recorded in this pass (yet); explainable: {EXPLAINABLE}")
    idx = checked_index(index, trace[name].shape, name)
    lay = Layout.of(trace, net)
    if name.startswith("clip."):
        exp, names = clip_rule(lay, name, idx)
    elif m := STEP_NAME.match(name):
        if m["layer"] != rec.name:
            raise ValueError(f"no recurrent layer {m['layer']!r}; this network's is {rec.name!r}")
        d, t, what = m["dir"] or "", int(m["t"]), m["what"]
        if d not in lay.dirs or not 0 <= t < lay.steps:
            raise ValueError(f"{name}: no such step in this {rec.op} of {lay.steps} steps")
        if what in FORWARD_STEP:
            exp, names = _forward_step(lay, d, t, what, idx)
        elif what in BACKWARD_STEP:
            exp, names = backward_step_rule(lay, d, t, what, idx)
        else:
            raise ValueError(f"{name} has no explanation; explainable: {EXPLAINABLE}")
    else:
        layer, _, what = name.partition(".")
        if layer != rec.name:
            raise ValueError(
                f"{name} is not a recorded step tensor of {rec.name}; explainable: {EXPLAINABLE}"
            )
        exp, names = _layer_tensor(lay, what, idx)
    return exp, {k: v for k, v in names.items() if v in trace}


def _layer_tensor(lay: Layout, what: str, idx: tuple[int, ...]) -> Answer:
    name = f"{lay.name}.{what}"
    value = float(lay.trace[name][idx])
    if what == "in":
        note = "the input sequence: the sample's x_t, one per time step (nothing computes it)"
        return given("input", name, idx, value, note), {}
    if what in ("h0", "c0"):
        state = "hidden" if what == "h0" else "cell"
        note = f"the initial {state} state: zeros (nothing came before the first step)"
        return given("state", name, idx, value, note), {}
    if what in ("out", "fwd.out", "bwd.out"):
        n, t, j = idx
        if what == "out" and lay.bidir:  # the two directions side by side
            d, j = ("fwd", j) if j < lay.hid else ("bwd", j - lay.hid)
        else:
            d = what.partition(".")[0] if what != "out" else ""
        src = f"{lay.prefix(d, t)}.h"
        formula = f"the hidden state h_t of step t = {t}" + (f" ({d} direction)" if d else "")
        return copy_of("src", (n, j), float(lay.trace[src][n, j]), idx, formula), {"src": src}
    if what == "dout":
        formula = "the delta the head sends down to every hidden state (head.dx)"
        value = float(lay.trace["head.dx"][idx])
        return copy_of("src", idx, value, idx, formula), {"src": "head.dx"}
    if what in BACKWARD_TENSORS or what.removesuffix("_reverse") in BACKWARD_TENSORS:
        return gradient_rule(lay, what, idx)
    raise ValueError(f"{name} has no explanation; explainable: {EXPLAINABLE}")


def _forward_step(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    """One number of forward step t (direction d: "" or "fwd" / "bwd")."""
    tr, p = lay.trace, lay.prefix(d, t)
    names = {k: f"{p}.{k}" for k in ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "tanh_c")}
    weights = {k: lay.weight(d, k) for k in ("w_ih", "w_hh", "b_ih", "b_hh")}
    names.update(weights)
    w_ih, w_hh, b_ih, b_hh = (tr[v] for v in weights.values())
    x, h_prev = tr[names["x"]], tr[names["h_prev"]]
    n = idx[0]
    if what == "x":
        src = (n, t, idx[1])
        formula = f"x_t is the input at time t = {t}: {lay.name}.in[n, {t}, d]"
        value = float(tr[f"{lay.name}.in"][src])
        return copy_of("in", src, value, idx, formula), {"in": f"{lay.name}.in"}
    if what in ("h_prev", "c_prev"):
        return _previous_state(lay, d, t, what[0], idx)
    if what == "pre":
        return explain_preact(x, h_prev, w_ih, w_hh, b_ih, b_hh, idx), names
    if what.endswith("_pre"):
        gate = what[0]
        return explain_preact(x, h_prev, w_ih, w_hh, b_ih, b_hh, idx, gate), names
    if what in ("i", "f", "g", "o"):
        return explain_lstm_gate(x, h_prev, w_ih, w_hh, b_ih, b_hh, what, idx), names
    if what == "h" and lay.op == "rnn":
        nl = lay.nonlinearity
        return explain_rnn_hidden(x, h_prev, w_ih, w_hh, b_ih, b_hh, idx, nl), names
    if what == "h":
        return explain_lstm_hidden(tr[names["o"]], tr[names["tanh_c"]], idx), names
    if what == "c":
        f, c_prev, i, g = (tr[names[k]] for k in ("f", "c_prev", "i", "g"))
        return explain_lstm_cell(f, c_prev, i, g, idx), names
    return explain_tanh_c(tr[names["c"]], idx), names  # what == "tanh_c"


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
        formula = f"{key}_(t-1) is {key} of the step read before this one (t = {prev})"
    value = float(lay.trace[src][src_idx])
    return copy_of("src", src_idx, value, idx, formula), {"src": src}
