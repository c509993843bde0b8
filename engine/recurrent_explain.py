"""Where a recurrent step's number comes from, read from a stepped pass's trace.

    exp, names = explain_step(trace, net, "lstm1.t3.f", (0, 2))

Explainable: a gate `<layer>.t<t>.i|f|g|o` (its pre-activation as the terms
W_ih x_t + W_hh h_(t-1) + b, then σ or tanh), the cell `...c` (f · c_(t-1) + i · g),
the hidden state `...h` (LSTM: o · tanh(c_t); RNN: tanh of its terms), the cell
delta `...dc` (dh_t · o · (1 - tanh² c_t) + dc_(t+1) · f_(t+1)); for a BiLSTM
with `.fwd` / `.bwd` after the layer. `names` maps each factor's tensor
("x", "w_ih", ...) to the trace name its value came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from engine.functional import (
    explain_lstm_cell,
    explain_lstm_cell_delta,
    explain_lstm_gate,
    explain_lstm_hidden,
    explain_rnn_hidden,
)
from engine.recurrent import RecurrentNet
from engine.trace import Trace

STEP_NAME = re.compile(r"^(?P<layer>[^.]+)(?:\.(?P<dir>fwd|bwd))?\.t(?P<t>\d+)\.(?P<what>\w+)$")
EXPLAINABLE = "<layer>[.fwd|.bwd].t<t>.i|f|g|o|c|h|dc (h and c of an LSTM; h of an RNN)"


def explain_step(
    trace: Trace, net: RecurrentNet, name: str, index: Sequence[int]
) -> tuple[Any, dict[str, str]]:
    """(explanation, factor name -> trace name) for one number of a recorded step."""
    exp, names = _explain(trace, net, name, index)
    return exp, {k: v for k, v in names.items() if v in trace}


def _explain(
    trace: Trace, net: RecurrentNet, name: str, index: Sequence[int]
) -> tuple[Any, dict[str, str]]:
    m = STEP_NAME.match(name)
    if m is None or name not in trace:
        raise ValueError(f"{name} is not a recorded step tensor; explainable: {EXPLAINABLE}")
    layer, direction, t, what = m["layer"], m["dir"], int(m["t"]), m["what"]
    rec = net.recurrent
    if layer != rec.name:
        raise ValueError(f"no recurrent layer {layer!r}; this network's is {rec.name!r}")
    prefix = f"{layer}.{direction}.t{t}" if direction else f"{layer}.t{t}"
    suffix = "_reverse" if direction == "bwd" else ""
    names = {k: f"{prefix}.{k}" for k in ("x", "h_prev", "c_prev", "f", "i", "g", "o")}
    names.update({k: f"{prefix}.{k}" for k in ("tanh_c", "dh")})
    weights = {k: f"{layer}.{k}{suffix}" for k in ("w_ih", "w_hh", "b_ih", "b_hh")}
    w = [trace[v] for v in weights.values()]
    names.update(weights)

    def tr(key: str) -> Any:
        return trace[names[key]]

    if rec.op == "rnn" and what == "h":
        nl = rec.nonlinearity  # type: ignore[attr-defined]
        return explain_rnn_hidden(tr("x"), tr("h_prev"), *w, index, nl), names
    if rec.op == "rnn":
        raise ValueError(f"{name}: an RNN step explains its h; explainable: {EXPLAINABLE}")
    if what in ("i", "f", "g", "o"):
        return explain_lstm_gate(tr("x"), tr("h_prev"), *w, what, index), names
    if what == "c":
        return explain_lstm_cell(tr("f"), tr("c_prev"), tr("i"), tr("g"), index), names
    if what == "h":
        return explain_lstm_hidden(tr("o"), tr("tanh_c"), index), names
    if what == "dc":
        nxt = t - 1 if direction == "bwd" else t + 1  # the step read after this one
        nprefix = f"{layer}.{direction}.t{nxt}" if direction else f"{layer}.t{nxt}"
        last = f"{nprefix}.dc" not in trace
        dc_next = tr("dh") * 0 if last else trace[f"{nprefix}.dc"]
        f_next = None if last else trace[f"{nprefix}.f"]
        if not last:
            names.update(dc_next=f"{nprefix}.dc", f_next=f"{nprefix}.f")
        exp = explain_lstm_cell_delta(tr("dh"), tr("o"), tr("tanh_c"), dc_next, f_next, index)
        return exp, names
    raise ValueError(f"{name} has no explanation; explainable: {EXPLAINABLE}")
