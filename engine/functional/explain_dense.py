"""The arithmetic behind one number of a fully connected layer, an activation, the
loss and the update, as data (see explain_terms.py).

- a dense output: out[n, k] = Σ_j x[n, j] · w[k, j] + b[k];
- a neuron's delta below a dense layer: Σ_k δ_k · w[k, j] (· f'(z_j) before an activation);
- a weight gradient: dw[k, j] = Σ_n δ[n, k] · x[n, j] (each input met each delta);
- a bias gradient: the sum of the deltas it met;
- an activation: f(z), and its delta δ_out · f'(z);
- softmax p_k = e^(z_k − max) / Σ_j e^(z_j − max); the losses and their deltas;
- the update: w − lr · dw (SGD), with momentum's velocity or Adam's moments.

Like explain.py these loop over the few numbers one value depends on: cheap for
one value, and written to read like the lecture rather than to be fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from engine.functional.explain_terms import Explanation, Factor, Term, Then, checked_index

ACTIVATION_FORMULA = {
    "relu": "relu(z) = max(0, z)",
    "leaky_relu": "leaky_relu(z) = z if z > 0 else slope · z",
    "sigmoid": "σ(z) = 1 / (1 + e^(−z))",
    "tanh": "tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z))",
}
SLOPE_FORMULA = {
    "relu": "relu'(z) = 1 if z > 0 else 0",
    "leaky_relu": "leaky_relu'(z) = 1 if z > 0 else slope",
    "sigmoid": "σ'(z) = σ(z) · (1 − σ(z))",
    "tanh": "tanh'(z) = 1 − tanh²(z)",
}


def _f(a: np.ndarray, idx: tuple[int, ...]) -> float:
    return float(a[idx])


def explain_dense_output(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, index: Sequence[int]
) -> Explanation:
    """out[n, k] = Σ_j x[n, j] · w[k, j] + b[k]: every input times its weight, plus the bias."""
    n, k = checked_index(index, (x.shape[0], w.shape[0]), "the dense output")
    terms = tuple(
        Term.of(Factor("x", (n, j), _f(x, (n, j))), Factor("w", (k, j), _f(w, (k, j))))
        for j in range(w.shape[1])
    )
    return Explanation(
        "dense.out", (n, k), terms, "out_k = Σ_j x_j · w[k, j] + b_k",
        constant=Factor("b", (k,), _f(b, (k,))),
    )  # fmt: skip


def explain_dense_input_delta(
    dout: np.ndarray,
    w: np.ndarray,
    index: Sequence[int],
    act_grad: np.ndarray | None = None,
) -> Explanation:
    """A dense layer input's delta: dx[n, j] = Σ_k dout[n, k] * w[k, j].

    With `act_grad` (the previous activation's slope f'(z), shape of x), the
    neuron's delta before its activation: (Σ_k dout[n, k] * w[k, j]) * f'(z[n, j]).
    The slope's factor is named "slope" (the caller names it f'(z) of its layer).
    """
    n, j = checked_index(index, (dout.shape[0], w.shape[1]), "the dense input")
    terms = tuple(
        Term.of(Factor("dout", (n, k), _f(dout, (n, k))), Factor("w", (k, j), _f(w, (k, j))))
        for k in range(w.shape[0])
    )
    scale = None if act_grad is None else Factor("slope", (n, j), _f(act_grad, (n, j)))
    formula = "δ_j = Σ_k δ_k · w[k, j]" + ("" if scale is None else " · f'(z_j)")
    return Explanation("dense.dx", (n, j), terms, formula, scale=scale)


def explain_dense_weight_grad(x: np.ndarray, dout: np.ndarray, index: Sequence[int]) -> Explanation:
    """dw[k, j] = Σ_n dout[n, k] · x[n, j]: the weight from input j to neuron k moves by
    what came in through it times the delta it met, summed over the batch."""
    k, j = checked_index(index, (dout.shape[1], x.shape[1]), "the dense weight gradient")
    terms = tuple(
        Term.of(Factor("dout", (n, k), _f(dout, (n, k))), Factor("x", (n, j), _f(x, (n, j))))
        for n in range(x.shape[0])
    )
    return Explanation("dense.dw", (k, j), terms, "dw[k, j] = Σ_n δ[n, k] · x[n, j]")


def explain_bias_grad(dout: np.ndarray, index: Sequence[int], axis: int = 1) -> Explanation:
    """db[k] = the sum of every delta the bias k was added to: dout[..., k, ...] over all
    axes but `axis` (samples for a dense layer; samples and positions for a conv)."""
    (k,) = checked_index(index, (dout.shape[axis],), "the bias gradient")
    plane = np.take(dout, k, axis=axis)
    terms = tuple(
        Term.of(Factor("dout", (*pos[:axis], k, *pos[axis:]), float(plane[pos])))
        for pos in np.ndindex(plane.shape)
    )
    where = "every sample" if dout.ndim == 2 else "every sample and position"
    return Explanation("bias.db", (k,), terms, f"db_k = Σ δ_k over {where}")


def activate(fn: str, z: float, slope: float = 0.01) -> float:
    """One activation of one number (float64, stable for large |z|)."""
    if fn == "sigmoid":
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
    if fn == "tanh":
        return math.tanh(z)
    if fn == "relu":
        return max(z, 0.0)
    if fn == "leaky_relu":
        return z if z > 0 else slope * z
    raise ValueError(f"unknown activation {fn!r}")


def activation_slope(op: str, x: np.ndarray, out: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """f'(z) of an activation from its recorded input x and output out."""
    if op == "relu":
        return (x > 0).astype(x.dtype)
    if op == "leaky_relu":
        return np.where(x > 0, 1.0, slope).astype(x.dtype)
    if op == "sigmoid":
        return out * (1 - out)
    if op == "tanh":
        return 1 - out * out
    raise ValueError(f"{op} is not an activation with a slope")


def explain_activation_delta(
    op: str, x: np.ndarray, out: np.ndarray, dout: np.ndarray, index: Sequence[int],
    slope: float = 0.01,
) -> Explanation:  # fmt: skip
    """dx = dout · f'(z): the delta from above times the activation's slope at its input."""
    idx = checked_index(index, x.shape, "the activation's input")
    s = _f(activation_slope(op, x[idx][None], out[idx][None], slope), (0,))
    term = Term.of(Factor("dout", idx, _f(dout, idx)), Factor("slope", idx, s))
    return Explanation(f"{op}.dx", idx, (term,), f"δ = δ_out · {SLOPE_FORMULA[op]}")


def explain_activation(
    op: str, x: np.ndarray, index: Sequence[int], slope: float = 0.01
) -> Explanation:
    """out = f(z): the one term is z (the layer's input), then the activation."""
    idx = checked_index(index, x.shape, "the activation")
    z = _f(x, idx)
    value = activate(op, z, slope)
    then = Then(op, f"{op}({_num(z)}) = {_num(value)}", value)
    return Explanation(op, idx, (Term.of(Factor("z", idx, z)),), ACTIVATION_FORMULA[op], then=then)


def explain_softmax(z: np.ndarray, index: Sequence[int]) -> Explanation:
    """p[n, k] = e^(z_k − m) / Σ_j e^(z_j − m), m = max_j z_j (subtracted so e^z never
    overflows; it cancels). The terms are the e^(z_j − m); then the division."""
    idx = checked_index(index, z.shape, "the probabilities")
    row = z[idx[:-1]].astype(np.float64)
    m = float(row.max())
    e = np.exp(row - m)
    terms = tuple(
        Term((Factor("z", (*idx[:-1], j), float(row[j])),), float(e[j]),
             f"e^({_num(row[j])} − {_num(m)})")
        for j in range(row.shape[0])
    )  # fmt: skip
    k, total = idx[-1], float(e.sum())
    p = float(e[idx[-1]] / total)
    then = Then("softmax", f"p = e^(z_k − max) / Σ = {_num(e[k])} / {_num(total)} = {_num(p)}", p)
    return Explanation("softmax", idx, terms, "p_k = e^(z_k − max) / Σ_j e^(z_j − max)", then=then)


def explain_cross_entropy(
    probs: np.ndarray, labels: np.ndarray, count: int | None = None
) -> Explanation:
    """L = −(1/N) Σ_n log p[n, y_n]: one −log term per sample (per time step for a
    sequence's outputs), averaged over `count` (all the terms by default)."""
    lead = probs.shape[:-1]
    terms = []
    for pos in np.ndindex(lead):
        y = int(labels[pos])
        p = _f(probs, (*pos, y))
        value = -math.log(p) if p > 0 else math.inf
        terms.append(Term((Factor("probs", (*pos, y), p),), value, f"−log({_num(p)})"))
    n = count or len(terms)
    return Explanation(
        "loss.ce", (), tuple(terms), "L = −(1/N) Σ_n log p[n, y_n]",
        scale=Factor("1/N", None, 1.0 / n),
    )  # fmt: skip


def explain_cross_entropy_delta(
    probs: np.ndarray, labels: np.ndarray, index: Sequence[int], count: int | None = None
) -> Explanation:
    """dL/dz[n, k] = (p[n, k] − onehot(y_n)[k]) / N."""
    idx = checked_index(index, probs.shape, "the output delta")
    y = int(labels[idx[:-1]])
    hit = idx[-1] == y
    terms = (
        Term.of(Factor("probs", idx, _f(probs, idx))),
        Term((Factor("target", idx[:-1], float(y)),), -1.0 if hit else 0.0,
             f"−onehot: {'−1 (the true class)' if hit else '0 (not the true class)'}"),
    )  # fmt: skip
    n = count or int(np.prod(probs.shape[:-1]))
    return Explanation(
        "loss.ce.dx", idx, terms, "δ = (p − onehot(y)) / N", scale=Factor("1/N", None, 1.0 / n)
    )


def explain_squared_error(out: np.ndarray, target: np.ndarray) -> Explanation:
    """L = (1/size) Σ (out − t)²: one squared difference per number."""
    terms = tuple(
        Term((Factor("out", pos, _f(out, pos)), Factor("target", pos, _f(target, pos))),
             (_f(out, pos) - _f(target, pos)) ** 2,
             f"({_num(_f(out, pos))} − {_num(_f(target, pos))})²")
        for pos in np.ndindex(out.shape)
    )  # fmt: skip
    return Explanation(
        "loss.mse",
        (),
        terms,
        "L = (1/size) Σ (out − t)²",
        scale=Factor("1/size", None, 1 / out.size),
    )


def explain_squared_error_delta(
    out: np.ndarray, target: np.ndarray, index: Sequence[int]
) -> Explanation:
    """dL/dout = 2 (out − t) / size."""
    idx = checked_index(index, out.shape, "the output delta")
    terms = (
        Term.of(Factor("out", idx, _f(out, idx))),
        Term((Factor("target", idx, _f(target, idx)),), -_f(target, idx), "−t"),
    )
    return Explanation(
        "loss.mse.dx", idx, terms, "δ = 2 (out − t) / size",
        scale=Factor("2/size", None, 2 / out.size),
    )  # fmt: skip


def explain_sgd(
    w: np.ndarray, dw: np.ndarray, lr: float, index: Sequence[int], by: str = "dw"
) -> Explanation:
    """w_new = w − lr · dw: a step against the gradient, as long as the learning rate
    (momentum steps the same way along its velocity: by="v")."""
    idx = checked_index(index, w.shape, "the parameter")
    terms = (
        Term.of(Factor("w", idx, _f(w, idx))),
        Term.of(Factor("−lr", None, -lr), Factor(by, idx, _f(dw, idx))),
    )
    if by == "dw":
        return Explanation("update.sgd", idx, terms, "w ← w − lr · dw")
    return Explanation("update.momentum", idx, terms, "v ← μ · v + dw;  w ← w − lr · v")


def explain_momentum_velocity(
    v_prev: np.ndarray, dw: np.ndarray, momentum: float, index: Sequence[int]
) -> Explanation:
    """v = μ · v_prev + dw: the velocity keeps μ of the last step's and adds the gradient."""
    idx = checked_index(index, dw.shape, "the velocity")
    terms = (
        Term.of(Factor("μ", None, momentum), Factor("v_prev", idx, _f(v_prev, idx))),
        Term.of(Factor("dw", idx, _f(dw, idx))),
    )
    return Explanation("update.momentum.v", idx, terms, "v ← μ · v + dw")


def explain_momentum(w: np.ndarray, v: np.ndarray, lr: float, index: Sequence[int]) -> Explanation:
    """w_new = w − lr · v (v the velocity just updated)."""
    return explain_sgd(w, v, lr, index, by="v")


def explain_adam_moment(
    prev: np.ndarray, dw: np.ndarray, beta: float, index: Sequence[int], squared: bool
) -> Explanation:
    """m = β1 · m_prev + (1 − β1) · dw, or v = β2 · v_prev + (1 − β2) · dw²."""
    idx = checked_index(index, dw.shape, "the moment")
    g = _f(dw, idx)
    name = "v" if squared else "m"
    grad = (
        Term((Factor("1 − β2", None, 1 - beta), Factor("dw", idx, g)), (1 - beta) * g * g,
             f"(1 − β2) · {_num(g)}²")
        if squared
        else Term.of(Factor("1 − β1", None, 1 - beta), Factor("dw", idx, g))
    )  # fmt: skip
    beta_name = "β2" if squared else "β1"
    terms = (
        Term.of(Factor(beta_name, None, beta), Factor(f"{name}_prev", idx, _f(prev, idx))),
        grad,
    )
    formula = "v ← β2 · v + (1 − β2) · dw²" if squared else "m ← β1 · m + (1 − β1) · dw"
    return Explanation(f"update.adam.{name}", idx, terms, formula)


def explain_adam(
    w: np.ndarray, m: np.ndarray, v: np.ndarray, index: Sequence[int],
    lr: float, beta1: float, beta2: float, eps: float, t: int,
) -> Explanation:  # fmt: skip
    """w_new = w − lr · m̂ / (√v̂ + ε), m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t)."""
    idx = checked_index(index, w.shape, "the parameter")
    m_hat = _f(m, idx) / (1 - beta1**t)
    v_hat = _f(v, idx) / (1 - beta2**t)
    step = m_hat / (math.sqrt(v_hat) + eps)
    terms = (
        Term.of(Factor("w", idx, _f(w, idx))),
        Term((Factor("−lr", None, -lr), Factor("m", idx, _f(m, idx)), Factor("v", idx, _f(v, idx))),
             -lr * step,
             f"−{_num(lr)} · m̂ / (√v̂ + ε), m̂ = {_num(m_hat)}, v̂ = {_num(v_hat)}, t = {t}"),
    )  # fmt: skip
    return Explanation(
        "update.adam", idx, terms,
        "m̂ = m / (1 − β1^t);  v̂ = v / (1 − β2^t);  w ← w − lr · m̂ / (√v̂ + ε)",
    )  # fmt: skip


def _num(v: float) -> str:
    """A number inside an expression, short: 4 significant digits."""
    return f"{float(v):.4g}"
