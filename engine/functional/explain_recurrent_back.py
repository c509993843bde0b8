"""The arithmetic behind one number of a recurrent step's backward pass (BPTT), as
data (see explain_terms.py); the forward step's numbers are in explain_recurrent.py.

- the hidden delta: dh_t = dh_out (from the loss at t, through the head) + dh_next
  (from step t+1, through W_hh);
- the cell delta: dc_t = dh_t · o · (1 − tanh² c_t) + dc_(t+1) · f_(t+1);
- a gate's delta, dL/dz of its pre-activation:
  di = dc · g · σ'(z_i), df = dc · c_(t-1) · σ'(z_f), dg = dc · i · tanh'(z_g),
  do = dh · tanh(c_t) · σ'(z_o), with σ' = σ (1 − σ) and tanh' = 1 − tanh²;
- an RNN's dz = dh · f'(z) (tanh' = 1 − h², relu' = 1 if z > 0 else 0);
- a norm ||a|| = √(Σ a²): the squares, then the square root.

Arguments are one step's arrays, (N, H); the index is (sample, unit). Factor
tensor names are generic ("dh", "dc", "g", ...); the caller maps them to trace
names. A slope computed here (σ'(z_i), ...) keeps a name that says what it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from engine.functional.explain_recurrent import num
from engine.functional.explain_terms import Explanation, Factor, Term, Then, checked_index


def _at(a: np.ndarray, idx: tuple[int, ...]) -> float:
    return float(a[idx])


def explain_hidden_delta(
    dh_out: np.ndarray, dh_next: np.ndarray, index: Sequence[int]
) -> Explanation:
    """dh_t = dh_out + dh_next: what the loss sends to h_t through the head, plus what
    the next step sends back through W_hh."""
    idx = checked_index(index, dh_out.shape, "the hidden delta")
    terms = (
        Term.of(Factor("dh_out", idx, _at(dh_out, idx))),
        Term.of(Factor("dh_next", idx, _at(dh_next, idx))),
    )
    return Explanation("recurrent.dh", idx, terms, "dh_t = dh_out + dh_next")


def explain_lstm_cell_delta(
    dh: np.ndarray,
    o: np.ndarray,
    tanh_c: np.ndarray,
    dc_next: np.ndarray,
    f_next: np.ndarray | None,
    index: Sequence[int],
) -> Explanation:
    """dc_t[n, j] = dh_t · o · (1 - tanh² c_t) + dc_{t+1} · f_{t+1}: through h_t, and
    through the cell state of the next step. dh is the total dL/dh_t, dc_next the
    total dL/dc of step t+1, f_next its forget gate (None at the last step)."""
    n, j = checked_index(index, dh.shape, "the cell delta")
    tc = float(tanh_c[n, j])
    terms = [
        Term.of(
            Factor("dh", (n, j), float(dh[n, j])),
            Factor("o", (n, j), float(o[n, j])),
            Factor("tanh'(c_t)", (n, j), 1 - tc * tc),
        )
    ]
    if f_next is not None:
        terms.append(
            Term.of(
                Factor("dc_next", (n, j), float(dc_next[n, j])),
                Factor("f_next", (n, j), float(f_next[n, j])),
            )
        )
    formula = "dc_t = dh_t · o · tanh'(c_t) + dc_(t+1) · f_(t+1),  tanh'(c_t) = 1 − tanh² c_t"
    return Explanation("lstm.dc", (n, j), tuple(terms), formula)


GATE_DELTA = {
    "i": ("dc", "g", "di = dc · g · σ'(z_i),  σ'(z_i) = i · (1 − i)"),
    "f": ("dc", "c_prev", "df = dc · c_(t-1) · σ'(z_f),  σ'(z_f) = f · (1 − f)"),
    "g": ("dc", "i", "dg = dc · i · tanh'(z_g),  tanh'(z_g) = 1 − g²"),
    "o": ("dh", "tanh_c", "do = dh · tanh(c_t) · σ'(z_o),  σ'(z_o) = o · (1 − o)"),
}


def explain_lstm_gate_delta(
    gate: str, step: dict[str, np.ndarray], index: Sequence[int]
) -> Explanation:
    """dL/dz of gate `gate` at (n, j): the delta that reaches the gate's value (dc for
    i, f, g, through c_t = f · c_(t-1) + i · g; dh for o, through h_t = o · tanh(c_t)),
    times what the gate's value was multiplied by, times the gate's slope.

    `step` holds the step's arrays by their generic names: dh, dc, i, f, g, o,
    c_prev, tanh_c."""
    if gate not in GATE_DELTA:
        raise ValueError(f"gate must be one of i, f, g, o; got {gate!r}")
    delta, other, formula = GATE_DELTA[gate]
    idx = checked_index(index, step[delta].shape, f"the {gate} gate's delta")
    a = _at(step[gate], idx)
    slope, slope_name = (1 - a * a, "tanh'(z_g)") if gate == "g" else (a * (1 - a), f"σ'(z_{gate})")
    term = Term.of(
        Factor(delta, idx, _at(step[delta], idx)),
        Factor(other, idx, _at(step[other], idx)),
        Factor(slope_name, idx, slope),
    )
    return Explanation(f"lstm.d{gate}", idx, (term,), formula)


def explain_rnn_dz(
    dh: np.ndarray, h: np.ndarray, pre: np.ndarray, index: Sequence[int],
    nonlinearity: str = "tanh",
) -> Explanation:  # fmt: skip
    """dz[n, j] = dh · f'(z): the hidden delta through the nonlinearity's slope
    (tanh' = 1 − h², relu' = 1 if z > 0 else 0: the kink at 0 gets 0, as in PyTorch)."""
    idx = checked_index(index, dh.shape, "the pre-activation delta")
    if nonlinearity == "tanh":
        v = _at(h, idx)
        slope, formula = 1 - v * v, "dz = dh · tanh'(z),  tanh'(z) = 1 − h²"
    elif nonlinearity == "relu":
        slope = 1.0 if _at(pre, idx) > 0 else 0.0
        formula = "dz = dh · relu'(z),  relu'(z) = 1 if z > 0 else 0"
    else:
        raise ValueError(f"nonlinearity must be tanh or relu; got {nonlinearity!r}")
    term = Term.of(Factor("dh", idx, _at(dh, idx)), Factor(f"{nonlinearity}'(z)", idx, slope))
    return Explanation("rnn.dz", idx, (term,), formula)


def explain_norm(a: np.ndarray, kind: str, what: str) -> Explanation:
    """||a|| = √(Σ a²) over every number of `a` (all samples and units): one square per
    number (a · a, computed in float64), then the square root.

    The root is taken as the layer takes it, scaled by the largest |a|: a float64
    gradient of 1e-200 has squares that underflow even in float64, and its norm is
    still 1e-200, not 0."""
    terms = tuple(
        Term.of(Factor("a", pos, _at(a, pos)), Factor("a", pos, _at(a, pos)))
        for pos in np.ndindex(a.shape)
    )
    total = float(math.fsum(t.product for t in terms))
    v = np.abs(np.asarray(a, dtype=np.float64).reshape(-1))
    top = float(v.max(initial=0.0))
    value = top * math.sqrt(float(np.dot(v / top, v / top))) if 0 < top < math.inf else top
    shown = f"||{what}|| = √{num(total)} = {num(value)}"
    if total == 0 < value:
        shown = (
            f"||{what}|| = max|{what}| · √(Σ ({what} / max|{what}|)²) = {num(value)} "
            "(the squares are too small even for float64)"
        )
    then = Then("sqrt", shown, value)
    return Explanation(kind, (), terms, f"||{what}|| = √(Σ {what}²)", then=then)
