"""The arithmetic behind one number of a recurrent step, as data (see explain.py).

- a gate value (or an RNN's hidden value): its pre-activation as the terms
  W_ih[k, d] · x_t[d] (every input), W_hh[k, m] · h_{t-1}[m] (every hidden
  unit), b_ih[k] and b_hh[k], summed; then the sigmoid or tanh of that sum;
- a cell value: c_t = f · c_{t-1} + i · g, two products;
- a hidden value of an LSTM: h_t = o · tanh(c_t);
- a cell delta: dc_t = dh_t · o · (1 - tanh² c_t) + dc_{t+1} · f_{t+1}.

Arguments are one step's arrays in the API's layout ((N, D) inputs, (N, H)
states, PyTorch-layout weights); the index is (sample, unit). Factor tensor
names are generic ("x", "h_prev", "w_ih", ...); the caller maps them to trace
names such as lstm1.t3.x.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.functional.explain import Explanation, Factor, Index, Term, _index

GATE_ROWS = {"i": 0, "f": 1, "g": 2, "o": 3}  # PyTorch's order of the stacked gates
GATE_FN = {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"}


@dataclass(frozen=True)
class ActivatedExplanation:
    """value = fn(preact.total): a pre-activation's terms, then the activation."""

    kind: str
    index: Index
    preact: Explanation
    fn: str  # "sigmoid" | "tanh" | "relu"
    value: float
    formula: str

    @property
    def total(self) -> float:
        return self.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "index": self.index,
            "formula": self.formula,
            "preact": self.preact.to_dict(),
            "fn": self.fn,
            "value": self.value,
            "total": self.value,
        }


def activate(fn: str, z: float) -> float:
    if fn == "sigmoid":
        return float(1 / (1 + np.exp(-z))) if z >= 0 else float(np.exp(z) / (1 + np.exp(z)))
    if fn == "tanh":
        return float(np.tanh(z))
    if fn == "relu":
        return max(z, 0.0)
    raise ValueError(f"unknown activation {fn!r}")


def _preact(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    n: int,
    row: int,
    kind: str,
    formula: str,
) -> Explanation:
    """Σ_d W_ih[row, d] x[n, d] + Σ_m W_hh[row, m] h_prev[n, m] + b_ih[row] + b_hh[row]."""
    terms = [
        Term.of(
            Factor("w_ih", (row, d), float(w_ih[row, d])), Factor("x", (n, d), float(x_t[n, d]))
        )
        for d in range(x_t.shape[1])
    ]
    terms += [
        Term.of(
            Factor("w_hh", (row, m), float(w_hh[row, m])),
            Factor("h_prev", (n, m), float(h_prev[n, m])),
        )
        for m in range(h_prev.shape[1])
    ]
    terms += [
        Term.of(Factor("b_ih", (row,), float(b_ih[row]))),
        Term.of(Factor("b_hh", (row,), float(b_hh[row]))),
    ]
    return Explanation(kind, (n, row), tuple(terms), formula)


def explain_lstm_gate(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    gate: str,
    index: Sequence[int],
) -> ActivatedExplanation:
    """Gate `gate` ("i", "f", "g" or "o") of unit j for sample n, index (n, j): its
    pre-activation z = W_ih x_t + W_hh h_{t-1} + b_ih + b_hh as terms (row
    k·H + j of the stacked weights, k the gate's place in i, f, g, o), then σ(z)
    (tanh(z) for the candidate g)."""
    if gate not in GATE_ROWS:
        raise ValueError(f"gate must be one of i, f, g, o; got {gate!r}")
    hid = h_prev.shape[1]
    n, j = _index(index, (x_t.shape[0], hid), "the gates")
    row = GATE_ROWS[gate] * hid + j
    fn = GATE_FN[gate]
    sym = "σ" if fn == "sigmoid" else "tanh"
    pre = _preact(
        x_t, h_prev, w_ih, w_hh, b_ih, b_hh, n, row, f"lstm.{gate}.pre",
        f"z_{gate} = Σ_d W_ih[{gate}·H+j, d] x_t[d] + Σ_m W_hh[{gate}·H+j, m] h_(t-1)[m] "
        "+ b_ih + b_hh",
    )  # fmt: skip
    return ActivatedExplanation(
        f"lstm.{gate}", (n, j), pre, fn, activate(fn, pre.total), f"{gate} = {sym}(z_{gate})"
    )


def explain_rnn_hidden(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    index: Sequence[int],
    nonlinearity: str = "tanh",
) -> ActivatedExplanation:
    """An RNN's h_t[n, j] = tanh(W_ih x_t + W_hh h_{t-1} + b_ih + b_hh)[j] (or relu)."""
    n, j = _index(index, (x_t.shape[0], h_prev.shape[1]), "the hidden state")
    pre = _preact(
        x_t, h_prev, w_ih, w_hh, b_ih, b_hh, n, j, "rnn.pre",
        "z = Σ_d W_ih[j, d] x_t[d] + Σ_m W_hh[j, m] h_(t-1)[m] + b_ih[j] + b_hh[j]",
    )  # fmt: skip
    value = activate(nonlinearity, pre.total)
    return ActivatedExplanation(
        "rnn.h", (n, j), pre, nonlinearity, value, f"h_t = {nonlinearity}(z)"
    )


def explain_lstm_cell(
    f: np.ndarray, c_prev: np.ndarray, i: np.ndarray, g: np.ndarray, index: Sequence[int]
) -> Explanation:
    """c_t[n, j] = f · c_{t-1} + i · g: what the forget gate keeps of the old cell
    state plus what the input gate lets in of the candidate."""
    n, j = _index(index, f.shape, "the cell state")
    terms = (
        Term.of(Factor("f", (n, j), float(f[n, j])), Factor("c_prev", (n, j), float(c_prev[n, j]))),
        Term.of(Factor("i", (n, j), float(i[n, j])), Factor("g", (n, j), float(g[n, j]))),
    )
    return Explanation("lstm.c", (n, j), terms, "c_t = f · c_(t-1) + i · g")


def explain_lstm_hidden(o: np.ndarray, tanh_c: np.ndarray, index: Sequence[int]) -> Explanation:
    """h_t[n, j] = o · tanh(c_t): the output gate decides how much of the cell shows."""
    n, j = _index(index, o.shape, "the hidden state")
    term = Term.of(
        Factor("o", (n, j), float(o[n, j])), Factor("tanh_c", (n, j), float(tanh_c[n, j]))
    )
    return Explanation("lstm.h", (n, j), (term,), "h_t = o · tanh(c_t)")


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
    n, j = _index(index, dh.shape, "the cell delta")
    tc = float(tanh_c[n, j])
    terms = [
        Term.of(
            Factor("dh", (n, j), float(dh[n, j])),
            Factor("o", (n, j), float(o[n, j])),
            Factor("1 - tanh_c^2", (n, j), 1 - tc * tc),
        )
    ]
    if f_next is not None:
        terms.append(
            Term.of(
                Factor("dc_next", (n, j), float(dc_next[n, j])),
                Factor("f_next", (n, j), float(f_next[n, j])),
            )
        )
    return Explanation(
        "lstm.dc", (n, j), tuple(terms), "dc_t = dh_t · o · (1 − tanh² c_t) + dc_(t+1) · f_(t+1)"
    )
