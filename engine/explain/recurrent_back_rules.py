"""The recurrent layer's backward rules: where its BPTT numbers come from, read from
the trace (the arithmetic is engine.functional.explain_recurrent_back's).

A step's deltas (`<layer>[.fwd|.bwd].t<t>.*`):
- dh_out: the head's delta to h_t (head.dx at t; 0 where the head does not read h_t);
- dh_next: what the step read after this one sends back to h_t: Σ over its
  pre-activation deltas dz[k] · W_hh[k, j] (0 at the step read last);
- dc_next: dc of the step read after this one times its forget gate (0 at the last);
- dh = dh_out + dh_next; dc; the gate deltas di, df, dg, do; an RNN's dz;
- dh_norm, dc_norm: √(Σ squares) over the batch.

The layer's gradients, sums over the time steps (and samples) of a delta times what
it met: dx[n, t, d] = Σ_k dz_t[k] · W_ih[k, d]; dh0 (dz of the first step through
W_hh) and dc0; dW_ih[k, d] = Σ_t Σ_n dz_t[n, k] · x_t[n, d]; dW_hh[k, m] = Σ_t Σ_n
dz_t[n, k] · h_(t-1)[n, m]; db_ih[k] = db_hh[k] = Σ_t Σ_n dz_t[n, k]. A BiLSTM's
dx adds both directions; its `_reverse` gradients are the backward direction's.

Gradient clipping (`clip.*`): the global norm √(Σ over every gradient of its
squares), the scale min(1, max_norm / (norm + ε)), and the norm after scaling.
Factors read from several steps carry their trace names (names maps nothing).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine.explain.base import Answer
from engine.explain.recurrent_layout import Layout
from engine.functional.clip import EPS
from engine.functional.explain_recurrent import num
from engine.functional.explain_recurrent_back import (
    explain_hidden_delta,
    explain_lstm_cell_delta,
    explain_lstm_gate_delta,
    explain_norm,
    explain_rnn_dz,
)
from engine.functional.explain_terms import Explanation, Factor, Term, Then, copy_of, given

BACKWARD_TENSORS = ("dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh")


def _names(lay: Layout, d: str, t: int) -> dict[str, str]:
    p = lay.prefix(d, t)
    return {k: f"{p}.{k}" for k in ("dh", "dc", "dh_out", "dh_next", "h", "pre",
                                    "i", "f", "g", "o", "c_prev", "tanh_c")}  # fmt: skip


def _dh(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    tr, names = lay.trace, _names(lay, d, t)
    return explain_hidden_delta(tr[names["dh_out"]], tr[names["dh_next"]], idx), names


def _dz(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    names = _names(lay, d, t)
    dh, h, pre = (lay.trace[names[k]] for k in ("dh", "h", "pre"))
    return explain_rnn_dz(dh, h, pre, idx, lay.nonlinearity), names


def _gate_delta(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    names = _names(lay, d, t)
    keys = ("dh", "dc", "i", "f", "g", "o", "c_prev", "tanh_c")
    return explain_lstm_gate_delta(what[1], {k: lay.trace[names[k]] for k in keys}, idx), names


def _dc(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    tr, names = lay.trace, _names(lay, d, t)
    nxt = lay.after(d, t)
    dc_next, f_next = tr[names["dh"]] * 0, None
    if nxt is not None:
        q = lay.prefix(d, nxt)
        dc_next, f_next = tr[f"{q}.dc"], tr[f"{q}.f"]
        names.update(dc_next=f"{q}.dc", f_next=f"{q}.f")
    exp = explain_lstm_cell_delta(
        tr[names["dh"]], tr[names["o"]], tr[names["tanh_c"]], dc_next, f_next, idx
    )
    return exp, names


def _norm(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    """dh_norm, dc_norm: √(Σ squares) of dh_t or dc_t over the batch."""
    key = what.removesuffix("_norm")
    src = f"{lay.prefix(d, t)}.{key}"
    return explain_norm(lay.trace[src], f"recurrent.{what}", f"{key}_t"), {"a": src}


def _dh_out(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    """The head's delta to h_t: head.dx at (n, t, j) (a BiLSTM's backward half after H)."""
    n, j = idx
    src = (n, t, j + (lay.hid if d == "bwd" else 0))
    value = float(lay.trace["head.dx"][src])
    read = (0 if d == "bwd" else lay.steps - 1) if lay.net.head == "many-to-one" else t
    unread = "dh_out = 0 (many-to-one: y = head(h_last))"
    formula = unread if read != t else "dh_out = head.dx[t]"
    return copy_of("src", src, value, idx, formula), {"src": "head.dx"}


def _from_next_step(lay: Layout, d: str, t: int, what: str, idx: tuple[int, ...]) -> Answer:
    """dh_next / dc_next: what the step read after this one hands back."""
    nxt = lay.after(d, t)
    name = f"{lay.prefix(d, t)}.{what}"
    if nxt is None:
        note = "0: the step read last; no later step reads its h and c, so nothing comes back"
        return given("state", name, idx, 0.0, note), {}
    q = lay.prefix(d, nxt)
    n, j = idx
    if what == "dc_next":
        kept = (Term.of(lay.factor(f"{q}.dc", idx), lay.factor(f"{q}.f", idx)),)
        formula = f"dc_next = dc_(t={nxt}) · f_(t={nxt})"
        return Explanation("lstm.dc_next", idx, kept, formula), {}
    w = lay.weight(d, "w_hh")
    terms = tuple(Term.of(lay.dz(d, nxt, n, k), lay.factor(w, (k, j))) for k in range(lay.rows))
    formula = f"dh_next[j] = Σ_k dz_(t={nxt})[k] · W_hh[k, j]"
    return Explanation("recurrent.dh_next", idx, terms, formula), {}


StepFn = Callable[[Layout, str, int, str, tuple[int, ...]], Answer]  # (lay, d, t, what, idx)
# A backward step's numbers (`<layer>[.fwd|.bwd].t<t>.<what>`), by what.
BACKWARD_STEP_RULES: dict[str, StepFn] = {
    "dh_out": _dh_out, "dh_next": _from_next_step, "dc_next": _from_next_step, "dh": _dh,
    "dc": _dc, "di": _gate_delta, "df": _gate_delta, "dg": _gate_delta, "do": _gate_delta,
    "dz": _dz, "dh_norm": _norm, "dc_norm": _norm,
}  # fmt: skip
BACKWARD_STEP = tuple(BACKWARD_STEP_RULES)


def gradient_rule(lay: Layout, what: str, idx: tuple[int, ...]) -> Answer:
    """The layer's dx, dh0, dc0 and weight gradients: sums over steps of delta × what it met."""
    key = what.removesuffix("_reverse")
    if key == "dx":
        n, t, col = idx
        terms = tuple(
            Term.of(lay.dz(d, t, n, k), lay.factor(lay.weight(d, "w_ih"), (k, col)))
            for d in lay.dirs
            for k in range(lay.rows)
        )
        formula = "dx_t[d] = Σ_k dz_t[k] · W_ih[k, d]" + (" (both directions)" if lay.bidir else "")
        return Explanation("recurrent.dx", idx, terms, formula), {}
    if key in ("dh0", "dc0"):
        d = lay.dirs[idx[0]] if lay.bidir else ""
        n, j = idx[-2:]
        first = lay.first(d)
        q = lay.prefix(d, first)
        if key == "dc0":
            terms = (Term.of(lay.factor(f"{q}.dc", (n, j)), lay.factor(f"{q}.f", (n, j))),)
            formula = f"dc0 = dc_(t={first}) · f_(t={first})"
            return Explanation("lstm.dc0", idx, terms, formula), {}
        w = lay.weight(d, "w_hh")
        terms = tuple(
            Term.of(lay.dz(d, first, n, k), lay.factor(w, (k, j))) for k in range(lay.rows)
        )
        formula = f"dh0[j] = Σ_k dz_(t={first})[k] · W_hh[k, j]"
        return Explanation("recurrent.dh0", idx, terms, formula), {}
    d = "bwd" if what.endswith("_reverse") else lay.dirs[0]
    k = idx[0]
    ts = range(lay.steps)
    samples = range(lay.trace[f"{lay.name}.in"].shape[0])
    if key in ("db_ih", "db_hh"):
        terms = tuple(Term.of(lay.dz(d, t, n, k)) for t in ts for n in samples)
        formula = f"{key}[k] = Σ_t Σ_n dz_t[n, k]"
        return Explanation(f"recurrent.{key}", idx, terms, formula), {}
    col = idx[1]
    src = "x" if key == "dw_ih" else "h_prev"
    terms = tuple(
        Term.of(lay.dz(d, t, n, k), lay.factor(f"{lay.prefix(d, t)}.{src}", (n, col)))
        for t in ts
        for n in samples
    )
    inp = "x_t[n, d]" if key == "dw_ih" else "h_(t-1)[n, m]"
    formula = f"{key}[k, ·] = Σ_t Σ_n dz_t[n, k] · {inp}"
    return Explanation(f"recurrent.{key}", idx, terms, formula), {}


def _clip_norm_before(lay: Layout, idx: tuple[int, ...]) -> Answer:
    tr = lay.trace
    terms = []
    for layer in lay.net.layers:
        for key in layer.params:
            g = f"{layer.name}.{getattr(layer, 'grad_names', {}).get(key, f'd{key}')}"
            v = np.asarray(tr[g], dtype=np.float64).reshape(-1)
            ss = float(v @ v)
            terms.append(Term((Factor(g, None, ss),), ss, f"Σ {g}² ({v.size} numbers)"))
    total = math.fsum(t.product for t in terms)
    value = math.sqrt(total)
    then = Then("sqrt", f"||g|| = √{num(total)} = {num(value)}", value)
    formula = "||g|| = √(Σ_(gradients) Σ g²)"
    return Explanation("clip.norm", (), tuple(terms), formula, then=then), {}


def _clip_scale(lay: Layout, idx: tuple[int, ...]) -> Answer:
    n = float(lay.trace["clip.norm_before"])
    c = float(lay.net.clip) if lay.net.clip is not None else math.inf
    ratio = c / (n + EPS)
    s = min(1.0, ratio) if math.isfinite(n) else 1.0
    term = Term((Factor("max_norm", None, c), Factor("clip.norm_before", (), n)), ratio,
                f"{num(c)} / ({num(n)} + {EPS:g})")  # fmt: skip
    why = "within max_norm: nothing is clipped" if s == 1.0 else "shrunk to max_norm"
    then = Then("min", f"s = min(1, {num(ratio)}) = {num(s)} ({why})", s)
    formula = "s = min(1, max_norm / (||g|| + ε))"
    return Explanation("clip.scale", (), (term,), formula, then=then), {}


def _clip_norm_after(lay: Layout, idx: tuple[int, ...]) -> Answer:
    term = Term.of(lay.factor("clip.scale", ()), lay.factor("clip.norm_before", ()))
    formula = "||s · g|| = s · ||g||"
    return Explanation("clip.norm_after", (), (term,), formula), {}


# What gradient clipping records (scalars), by name.
CLIP_RULES: dict[str, Callable[[Layout, tuple[int, ...]], Answer]] = {
    "clip.norm_before": _clip_norm_before, "clip.scale": _clip_scale,
    "clip.norm_after": _clip_norm_after,
}  # fmt: skip
