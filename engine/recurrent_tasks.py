"""The recurrent tasks: training recipes, the memory-task table and the gradient-norm
figures (RNN vs LSTM).

    python -m engine.recurrent_tasks memory      # test accuracy, RNN vs LSTM, T = 5..40
    python -m engine.recurrent_tasks gradients   # ||dL/dh_t|| over t, T = 40
    python -m engine.recurrent_tasks report      # both

Everything is seeded; the numbers in the README come from `report`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.data import DatasetSplit
from engine.data.sequences import MEMORY_ALPHABET, memory_split
from engine.optim import SGD, Adam
from engine.recurrent import RecurrentNet
from engine.stepper import Pass

MEMORY_T = (5, 10, 20, 40)
MEMORY_HIDDEN = 16
GRADIENT_SCALES = (0.5, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class Recipe:
    """How a sequence model is trained: Adam(lr), mini-batches, clipping in the net."""

    epochs: int
    lr: float = 3e-3
    batch: int = 32


def evaluate(net: RecurrentNet, data: DatasetSplit) -> dict[str, float]:
    """Test accuracy for a classifier, test mean squared error for a regression."""
    if net.loss_kind == "mse":
        return {"test_mse": float(np.mean((net.predict(data.x_test) - data.y_test) ** 2))}
    return {"test_accuracy": net.accuracy(data.x_test, data.y_test)}


def train_sequence_model(
    net: RecurrentNet,
    data: DatasetSplit,
    recipe: Recipe,
    seed: int = 0,
    log: Callable[[str], None] = print,
    every: int = 10,
) -> dict[str, float]:
    """Adam on shuffled mini-batches (the fast path, net.train_batch); returns
    `evaluate` after the last epoch."""
    rng = np.random.default_rng(seed)
    opt = Adam(recipe.lr)
    n = len(data.x_train)
    for epoch in range(1, recipe.epochs + 1):
        order = rng.permutation(n)
        losses = [
            net.train_batch(data.x_train[idx], data.y_train[idx], opt)
            for idx in np.array_split(order, max(1, n // recipe.batch))
        ]
        if epoch == recipe.epochs or epoch % every == 0:
            scores = ", ".join(f"{k} {v:.4f}" for k, v in evaluate(net, data).items())
            log(f"  epoch {epoch:3d}  loss {np.mean(losses):.4f}  {scores}")
    return evaluate(net, data)


# ----------------------------------------------------------------- memory task

MEMORY_RECIPE = Recipe(epochs=100, lr=3e-3)


def memory_net(cell: str, seq_len: int, seed: int = 0, hidden: int = MEMORY_HIDDEN) -> RecurrentNet:
    """The memory task's model: one-hot tokens -> `hidden` units -> the first token's class.
    LSTMs start with forget-gate bias 1; both clip gradients at norm 1."""
    a = len(MEMORY_ALPHABET)
    fb = 1.0 if cell != "rnn" else 0.0
    return RecurrentNet(cell, a, hidden, a, "many-to-one", seq_len=seq_len, clip=1.0,
                        forget_bias=fb, seed=seed)  # fmt: skip


def memory_table(
    ts: Sequence[int] = MEMORY_T,
    seeds: Sequence[int] = (0, 1, 2),
    cells: Sequence[str] = ("rnn", "lstm"),
    recipe: Recipe = MEMORY_RECIPE,
    log: Callable[[str], None] = print,
) -> dict[int, dict[str, list[float]]]:
    """{T: {cell: [test accuracy per seed]}} on memory_split(T) (2000 train, 500 test)."""
    table: dict[int, dict[str, list[float]]] = {}
    for t_len in ts:
        table[t_len] = {}
        for cell in cells:
            accs = []
            for seed in seeds:
                data = memory_split(t_len, seed=seed)
                net = memory_net(cell, t_len, seed)
                score = train_sequence_model(net, data, recipe, seed, log=lambda _: None)
                accs.append(score["test_accuracy"])
            table[t_len][cell] = accs
            log(f"T={t_len:3d} {cell:5s} " + " ".join(f"{a:.3f}" for a in accs))
    return table


def format_memory_table(table: dict[int, dict[str, list[float]]]) -> str:
    """Markdown: mean (min-max over seeds) per T and cell."""
    cells = list(next(iter(table.values())))
    head = "| T | " + " | ".join(f"{c.upper()} test accuracy" for c in cells) + " |"
    rows = [head, "|---" * (len(cells) + 1) + "|"]
    for t_len, by_cell in table.items():
        parts = [f"{np.mean(a):.3f} ({min(a):.2f}-{max(a):.2f})" for a in by_cell.values()]
        rows.append(f"| {t_len} | " + " | ".join(parts) + " |")
    return "\n".join(rows)


# -------------------------------------------------------- vanishing / exploding


def recurrent_weights(
    rng: np.random.Generator, hidden: int, radius: float, dtype: type = np.float64
) -> np.ndarray:
    """A random (H, H) matrix scaled to spectral radius `radius` (largest |eigenvalue|)."""
    w = rng.standard_normal((hidden, hidden))
    return (w * (radius / np.max(np.abs(np.linalg.eigvals(w))))).astype(dtype)


def step_norms(net: RecurrentNet, x: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """||dL/dh_t|| (and ||dL/dc_t|| for an LSTM) of every step, read from the trace of a
    stepped pass run to the end of its backward phase (`<layer>.t<t>.dh_norm`)."""
    p = Pass(net, x, labels, SGD(0.1))
    p.run(until="backward")
    name, t_len = net.recurrent.name, net.seq_len
    out = {"dh": np.array([float(p.trace[f"{name}.t{t}.dh_norm"]) for t in range(t_len)])}
    if net.cell == "lstm":
        out["dc"] = np.array([float(p.trace[f"{name}.t{t}.dc_norm"]) for t in range(t_len)])
    return out


def gradient_norms(
    seq_len: int = 40,
    scales: Sequence[float] = GRADIENT_SCALES,
    nonlinearity: str = "tanh",
    hidden: int = 32,
    batch: int = 32,
    seed: int = 0,
    trained: dict[str, RecurrentNet] | None = None,
) -> dict[str, np.ndarray]:
    """||dL/dh_t|| for t = 1..T (index 0..T-1) of a many-to-one loss at the last step
    (softmax CE on h_T) on a batch of memory sequences, float64:
    - "rnn <scale>": an RNN whose W_hh is scaled to each spectral radius (the rest
      drawn as PyTorch does);
    - "lstm init": an LSTM of the same size as PyTorch initialises it; "lstm init fb1"
      with forget-gate bias 1; "<name> dc": ||dL/dc_t|| too;
    - `trained`: more models (e.g. the memory task's, at this T), by name."""
    data = memory_split(seq_len, n_train=batch, n_test=1, seed=seed)
    x, labels = data.x_train.astype(np.float64), data.y_train
    k = len(MEMORY_ALPHABET)
    result: dict[str, np.ndarray] = {}
    for scale in scales:
        net = RecurrentNet("rnn", k, hidden, k, seq_len=seq_len, nonlinearity=nonlinearity,
                           seed=seed, dtype=np.float64)  # fmt: skip
        w_hh = recurrent_weights(np.random.default_rng(seed + 1), hidden, scale)
        net.set_params({"rnn1.w_hh": w_hh})
        result[f"rnn {scale:g}"] = step_norms(net, x, labels)["dh"]
    models = {
        f"lstm init{' fb1' if fb else ''}": RecurrentNet(
            "lstm", k, hidden, k, seq_len=seq_len, forget_bias=fb, seed=seed, dtype=np.float64
        )
        for fb in (0.0, 1.0)
    }
    for name, net in {**models, **(trained or {})}.items():
        norms = step_norms(net.with_seq_len(seq_len), x.astype(net.dtype), labels)
        result[name] = norms["dh"]
        if "dc" in norms:
            result[f"{name} dc"] = norms["dc"]
    return result


def format_gradient_norms(
    norms: dict[str, np.ndarray], marks: Sequence[int] = (1, 10, 20, 30, 40)
) -> str:
    """Markdown: ||dL/dh_t|| at a few t (1-based) and the ratio ||dL/dh_1|| / ||dL/dh_T||."""
    t_len = len(next(iter(norms.values())))
    marks = [m for m in marks if m <= t_len]
    rows = ["| model | " + " | ".join(f"t={m}" for m in marks) + " | dh_1 / dh_T |",
            "|---" * (len(marks) + 2) + "|"]  # fmt: skip
    for name, v in norms.items():
        cells = " | ".join(f"{v[m - 1]:.2e}" for m in marks)
        rows.append(f"| {name} | {cells} | {v[0] / v[-1]:.2e} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="RNN vs LSTM: the memory task and gradient norms.")
    parser.add_argument("what", choices=("memory", "gradients", "report"))
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if args.what in ("memory", "report"):
        t0 = time.perf_counter()
        print(f"Memory task: label = first token of {len(MEMORY_ALPHABET)}, then noise tokens; "
              f"hidden {MEMORY_HIDDEN}, Adam {MEMORY_RECIPE.lr}, {MEMORY_RECIPE.epochs} epochs, "
              f"clip 1, {args.seeds} seeds; chance = {1 / len(MEMORY_ALPHABET):.2f}")  # fmt: skip
        table = memory_table(seeds=range(args.seeds))
        print(format_memory_table(table))
        print(f"({time.perf_counter() - t0:.0f} s)")
    if args.what in ("gradients", "report"):
        t0 = time.perf_counter()
        trained = {}
        for cell in ("rnn", "lstm"):  # the memory task's models at T = 40, seed 0
            net = memory_net(cell, 40, 0)
            train_sequence_model(net, memory_split(40, seed=0), MEMORY_RECIPE, 0, lambda _: None)
            trained[f"{cell} trained (memory T=40)"] = net
        for nl in ("tanh", "relu"):
            print(
                f"\nGradient norms ||dL/dh_t||, loss at the last step T = 40, hidden 32 "
                f"(trained: {MEMORY_HIDDEN}), batch 32: RNN ({nl}) with W_hh of spectral "
                "radius 0.5 / 1 / 1.5 / 2 / 3, LSTM at init (forget bias 0 and 1), trained models:"
            )
            print(format_gradient_norms(gradient_norms(nonlinearity=nl, trained=trained)))
        print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
