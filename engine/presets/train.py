"""Train the shipped presets and write their weights (seeded, reproducible).

    python -m engine.presets.train [digits-cnn] [shapes-cnn] [memory-lstm] ... [--out DIR]

Prints the loss and the test accuracy (test MSE for the sine regressions) as it
goes; the weights go to engine/presets/weights/<name>.npz with the final score
in the file's __meta__. The recurrent presets' recipes are in
engine.presets.recurrent_builders.TRAINED.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.data import DatasetSplit, load_digits_split, load_shapes_split
from engine.network import Sequential
from engine.optim import Adam
from engine.presets.builders import digits_architecture, shapes_architecture
from engine.presets.recurrent_builders import TRAINED
from engine.recurrent_tasks import train_sequence_model
from engine.weights import save_network

RECIPES: dict[str, tuple[Callable[[int], Sequential], Callable[[], DatasetSplit], int]] = {
    # name: (architecture, data, epochs)
    "digits-cnn": (digits_architecture, load_digits_split, 40),
    "shapes-cnn": (shapes_architecture, lambda: load_shapes_split(16), 15),
}


def train(
    net: Sequential,
    data: DatasetSplit,
    epochs: int,
    lr: float = 2e-3,
    batch: int = 32,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> float:
    """Adam on shuffled mini-batches; returns the test accuracy."""
    rng = np.random.default_rng(seed)
    opt = Adam(lr)
    n = len(data.y_train)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        losses = [
            net.train_batch(data.x_train[idx], data.y_train[idx], opt)
            for idx in np.array_split(order, max(1, n // batch))
        ]
        if epoch == epochs or epoch % 5 == 0:
            acc = net.accuracy(data.x_test, data.y_test)
            log(f"  epoch {epoch:3d}  loss {np.mean(losses):.4f}  test accuracy {acc:.4f}")
    return net.accuracy(data.x_test, data.y_test)


def main() -> None:
    names = [*RECIPES, *TRAINED]
    parser = argparse.ArgumentParser(description="Train the shipped presets.")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(names)}")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "weights")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    unknown = set(args.names) - set(names)
    if unknown:
        parser.error(f"unknown preset(s) {', '.join(sorted(unknown))}; choose from {names}")
    args.names = args.names or names
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        if name in TRAINED:
            train_recurrent(name, args.out, args.seed)
            continue
        make_net, load, epochs = RECIPES[name]
        t0 = time.perf_counter()
        data = load()
        net = make_net(args.seed)
        print(f"{name}: {len(data.y_train)} train / {len(data.y_test)} test, {epochs} epochs")
        acc = train(net, data, epochs, seed=args.seed)
        path = args.out / f"{name}.npz"
        save_network(net, path, preset=name, seed=args.seed, test_accuracy=round(acc, 4),
                     test_samples=len(data.y_test), epochs=epochs)  # fmt: skip
        took = time.perf_counter() - t0
        print(f"{name}: test accuracy {acc:.4f} ({took:.1f} s) -> {path}")


def train_recurrent(name: str, out: Path, seed: int) -> None:
    """Train one recurrent preset with its recipe and write its weights."""
    t0 = time.perf_counter()
    recipe = TRAINED[name]
    data, net = recipe.data(), recipe.build(seed)
    print(f"{name}: {len(data.x_train)} train / {len(data.x_test)} test sequences, "
          f"{recipe.recipe.epochs} epochs, Adam {recipe.recipe.lr}")  # fmt: skip
    scores = train_sequence_model(net, data, recipe.recipe, seed, every=20)
    path = out / f"{name}.npz"
    scores = {k: round(v, 5) for k, v in scores.items()}
    save_network(net, path, preset=name, seed=seed, epochs=recipe.recipe.epochs,
                 test_samples=len(data.x_test), **scores)  # fmt: skip
    took = time.perf_counter() - t0
    print(f"{name}: {scores} ({took:.1f} s) -> {path}")


if __name__ == "__main__":
    main()
