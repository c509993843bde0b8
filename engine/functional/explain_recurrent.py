"""The arithmetic behind one number of a recurrent step's forward pass, as data (see
explain_terms.py); the backward step's numbers are in explain_recurrent_back.py.

- a pre-activation (an RNN's `pre`, an LSTM gate's `*_pre`): the terms
  W_ih[k, d] · x_t[d] (every input), W_hh[k, m] · h_{t-1}[m] (every hidden unit),
  b_ih[k] and b_hh[k], summed;
- a gate value (or an RNN's hidden value): the same terms, then σ, tanh or relu of
  their sum (`then`);
- a cell value: c_t = f · c_{t-1} + i · g, two products; each product (the step's
  `fc`, `ig`) alone;
- tanh(c_t): the cell value, then tanh;
- a hidden value of an LSTM: h_t = o · tanh(c_t).

Arguments are one step's arrays in the API's layout ((N, D) inputs, (N, H)
states, PyTorch-layout weights); the index is (sample, unit). Factor tensor
names are generic ("x", "h_prev", "w_ih", ...); the caller maps them to trace
names such as lstm1.t3.x.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.functional.explain_dense import activate
from engine.functional.explain_terms import Explanation, Factor, Term, Then, checked_index

GATE_ROWS = {"i": 0, "f": 1, "g": 2, "o": 3}  # PyTorch's order of the stacked gates
GATE_FN = {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"}
SYMBOL = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu"}


def num(v: float) -> str:
    """A number inside an expression, short: 4 significant digits."""
    return f"{float(v):.4g}"


def _preact_terms(
    x_t: np.ndarray, h_prev: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
    b_ih: np.ndarray, b_hh: np.ndarray, n: int, row: int,
) -> tuple[Term, ...]:  # fmt: skip
    """W_ih[row, d] x[n, d] for every d, W_hh[row, m] h_prev[n, m] for every m, and
    b_ih[row], b_hh[row]."""
    terms = [
        Term.of(Factor("w_ih", (row, d), float(w_ih[row, d])),
                Factor("x", (n, d), float(x_t[n, d])))
        for d in range(x_t.shape[1])
    ]  # fmt: skip
    terms += [
        Term.of(Factor("w_hh", (row, m), float(w_hh[row, m])),
                Factor("h_prev", (n, m), float(h_prev[n, m])))
        for m in range(h_prev.shape[1])
    ]  # fmt: skip
    terms += [
        Term.of(Factor("b_ih", (row,), float(b_ih[row]))),
        Term.of(Factor("b_hh", (row,), float(b_hh[row]))),
    ]
    return tuple(terms)


def _gate_row(gate: str | None, hid: int, j: int) -> tuple[int, str]:
    """The stacked weights' row of unit j of `gate` (None: an RNN, one block), and the
    formula of its pre-activation."""
    if gate is None:
        return j, "z = Σ_d W_ih[j, d] x_t[d] + Σ_m W_hh[j, m] h_(t-1)[m] + b_ih[j] + b_hh[j]"
    if gate not in GATE_ROWS:
        raise ValueError(f"gate must be one of i, f, g, o; got {gate!r}")
    return GATE_ROWS[gate] * hid + j, (
        f"z_{gate} = Σ_d W_ih[{gate}·H+j, d] x_t[d] + Σ_m W_hh[{gate}·H+j, m] h_(t-1)[m] "
        "+ b_ih + b_hh"
    )


def explain_preact(
    x_t: np.ndarray, h_prev: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
    b_ih: np.ndarray, b_hh: np.ndarray, index: Sequence[int], gate: str | None = None,
) -> Explanation:  # fmt: skip
    """A pre-activation z[n, j] = W_ih x_t + W_hh h_{t-1} + b_ih + b_hh: an RNN's (gate
    None) or an LSTM gate's (gate "i", "f", "g" or "o": row gate·H + j of the stacked
    weights). Every input and every hidden unit times its weight, and both biases."""
    hid = h_prev.shape[1]
    n, j = checked_index(index, (x_t.shape[0], hid), "the pre-activations")
    row, formula = _gate_row(gate, hid, j)
    terms = _preact_terms(x_t, h_prev, w_ih, w_hh, b_ih, b_hh, n, row)
    kind = "rnn.pre" if gate is None else f"lstm.{gate}_pre"
    return Explanation(kind, (n, j), terms, formula)


def _activated(pre: Explanation, kind: str, fn: str, name: str, z_name: str) -> Explanation:
    """`pre`'s terms, then fn of their sum."""
    z = pre.sum
    value = activate(fn, z)
    sym = SYMBOL[fn]
    then = Then(fn, f"{name} = {sym}({z_name}) = {sym}({num(z)}) = {num(value)}", value)
    formula = f"{pre.formula};  {name} = {sym}({z_name})"
    return Explanation(kind, pre.index, pre.terms, formula, then=then)


def explain_lstm_gate(
    x_t: np.ndarray, h_prev: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
    b_ih: np.ndarray, b_hh: np.ndarray, gate: str, index: Sequence[int],
) -> Explanation:  # fmt: skip
    """Gate `gate` ("i", "f", "g" or "o") of unit j for sample n, index (n, j): its
    pre-activation z = W_ih x_t + W_hh h_{t-1} + b_ih + b_hh as terms (row
    k·H + j of the stacked weights, k the gate's place in i, f, g, o), then σ(z)
    (tanh(z) for the candidate g)."""
    pre = explain_preact(x_t, h_prev, w_ih, w_hh, b_ih, b_hh, index, gate)
    return _activated(pre, f"lstm.{gate}", GATE_FN[gate], gate, f"z_{gate}")


def explain_rnn_hidden(
    x_t: np.ndarray, h_prev: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
    b_ih: np.ndarray, b_hh: np.ndarray, index: Sequence[int], nonlinearity: str = "tanh",
) -> Explanation:  # fmt: skip
    """An RNN's h_t[n, j] = tanh(W_ih x_t + W_hh h_{t-1} + b_ih + b_hh)[j] (or relu)."""
    pre = explain_preact(x_t, h_prev, w_ih, w_hh, b_ih, b_hh, index)
    return _activated(pre, "rnn.h", nonlinearity, "h_t", "z")


def explain_lstm_cell(
    f: np.ndarray, c_prev: np.ndarray, i: np.ndarray, g: np.ndarray, index: Sequence[int]
) -> Explanation:
    """c_t[n, j] = f · c_{t-1} + i · g: what the forget gate keeps of the old cell
    state plus what the input gate lets in of the candidate."""
    n, j = checked_index(index, f.shape, "the cell state")
    terms = (
        Term.of(Factor("f", (n, j), float(f[n, j])), Factor("c_prev", (n, j), float(c_prev[n, j]))),
        Term.of(Factor("i", (n, j), float(i[n, j])), Factor("g", (n, j), float(g[n, j]))),
    )
    return Explanation("lstm.c", (n, j), terms, "c_t = f · c_(t-1) + i · g")


# c_t's terms by their recorded names: (first factor, second factor, formula).
CELL_TERMS = {"fc": ("f", "c_prev", "f · c_(t-1)"), "ig": ("i", "g", "i · g")}


def explain_lstm_cell_term(
    what: str, a: np.ndarray, b: np.ndarray, index: Sequence[int]
) -> Explanation:
    """One of c_t's two terms (what "fc": f · c_{t-1}, what survives of the old cell
    state; "ig": i · g, what is written in), a and b its factors: one product."""
    first, second, formula = CELL_TERMS[what]
    n, j = checked_index(index, a.shape, "the cell state")
    term = Term.of(Factor(first, (n, j), float(a[n, j])), Factor(second, (n, j), float(b[n, j])))
    return Explanation(f"lstm.{what}", (n, j), (term,), f"{what} = {formula}")


def explain_tanh_c(c: np.ndarray, index: Sequence[int]) -> Explanation:
    """tanh(c_t)[n, j]: the cell value, then tanh (what the output gate then scales)."""
    n, j = checked_index(index, c.shape, "the cell state")
    z = float(c[n, j])
    value = activate("tanh", z)
    then = Then("tanh", f"tanh(c_t) = tanh({num(z)}) = {num(value)}", value)
    term = Term.of(Factor("c", (n, j), z))
    return Explanation("lstm.tanh_c", (n, j), (term,), "tanh(c_t)", then=then)


def explain_lstm_hidden(o: np.ndarray, tanh_c: np.ndarray, index: Sequence[int]) -> Explanation:
    """h_t[n, j] = o · tanh(c_t): the output gate decides how much of the cell shows."""
    n, j = checked_index(index, o.shape, "the hidden state")
    term = Term.of(
        Factor("o", (n, j), float(o[n, j])), Factor("tanh_c", (n, j), float(tanh_c[n, j]))
    )
    return Explanation("lstm.h", (n, j), (term,), "h_t = o · tanh(c_t)")
