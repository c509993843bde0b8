"""Build each preset: its network (seeded or trained weights), sample and target.

The small lessons use the lecture's numbers; the trained CNNs load weights made
by `python -m engine.presets.train` and shipped beside this file. The recurrent
presets are built in engine.presets.recurrent_builders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from engine.data import DatasetSplit, load_split
from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from engine.network import Sequential
from engine.presets.recurrent_builders import RECURRENT_BUILDERS
from engine.weights import load_network

# The classic 5x5 binary image and 3x3 "X" kernel: valid output 3x3 = [[4,3,4],[2,4,3],[2,3,4]].
CONV_BASICS_IMAGE = [
    [1, 1, 1, 0, 0],
    [0, 1, 1, 1, 0],
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 0],
    [0, 1, 1, 0, 0],
]
CONV_BASICS_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
# The target is what a vertical-edge kernel makes of the same image, so gradient
# descent visibly turns the X kernel toward an edge detector.
EDGE_KERNEL = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
# The pooling lesson's 4x4 map: its top-left window's maximum is the lecture's 6.
POOLING_IMAGE = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]
# Its target: every pooled value of the image misses it, so every window hands a delta back.
POOLING_TARGET = [[4.0, 9.0], [2.5, 3.0]]


@dataclass
class Lesson:
    """A preset, built: the network, one sample and its target, how to train it."""

    name: str
    net: Sequential
    x: np.ndarray
    target: np.ndarray
    optimizer: dict[str, Any]
    data: DatasetSplit | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # After overrides change the network's shapes: readable weights for it, and a
    # target that fits its output (a regression target depends on the geometry).
    reweight: Callable[[Sequential], None] | None = None
    retarget: Callable[[Sequential, np.ndarray], np.ndarray] | None = None


def x_kernel(kh: int, kw: int) -> np.ndarray:
    """The lecture's "X" kernel at any size: 1 on both diagonals, 0 elsewhere."""
    i, j = np.indices((kh, kw))
    return ((i * (kw - 1) == j * (kh - 1)) | (i * (kw - 1) == (kw - 1 - j) * (kh - 1))).astype(
        np.float32
    )


def edge_kernel(kh: int, kw: int) -> np.ndarray:
    """A vertical-edge detector: +1 on the left columns, -1 on the right, 0 between."""
    cols = np.sign((kw - 1) / 2 - np.arange(kw))
    return np.tile(cols, (kh, 1)).astype(np.float32)


def _first_conv(net: Sequential) -> Conv2D:
    """The convolution a kernel lesson's network starts with."""
    conv = net.layers[0]
    if not isinstance(conv, Conv2D):
        raise TypeError(f"a kernel lesson's network starts with a convolution, not {conv.op}")
    return conv


def _set_x_kernel(net: Sequential) -> None:
    conv = _first_conv(net)
    w = x_kernel(*conv.kernel)[None, None].repeat(conv.out_channels, 0)
    net.set_params({"conv1.w": w, "conv1.b": np.zeros(conv.out_channels)})


def _edge_target(net: Sequential, x: np.ndarray) -> np.ndarray:
    """What an edge kernel of the same geometry makes of x: the regression target."""
    edge = Sequential.from_spec(net.spec())
    conv = _first_conv(edge)
    w = edge_kernel(*conv.kernel)[None, None].repeat(conv.out_channels, 0)
    edge.set_params({"conv1.w": w, "conv1.b": np.zeros(conv.out_channels)})
    return edge.forward(x)


def _conv_basics(seed: int | None) -> Lesson:
    net = Sequential([Conv2D(1, 1, 3)], (1, 5, 5), loss="mse", seed=seed or 0)
    x = np.array(CONV_BASICS_IMAGE, dtype=np.float32)[None, None]
    net.set_params({"conv1.w": np.array(CONV_BASICS_KERNEL)[None, None], "conv1.b": np.zeros(1)})
    return Lesson("conv-basics", net, x, _edge_target(net, x), {"type": "sgd", "lr": 0.01},
                  reweight=_set_x_kernel, retarget=_edge_target)  # fmt: skip


def _tensor_conv(seed: int | None) -> Lesson:
    seed = seed or 0
    rng = np.random.default_rng(seed)
    net = Sequential([Conv2D(3, 2, 3, stride=2, padding=1)], (3, 5, 5), loss="mse")
    net.set_params(
        {
            "conv1.w": rng.integers(-1, 2, (2, 3, 3, 3)),
            "conv1.b": np.array([1.0, 0.0]),
        }
    )
    x = rng.integers(0, 3, (1, 3, 5, 5)).astype(np.float32)
    target = rng.integers(-2, 3, (1, 2, 3, 3)).astype(np.float32)

    def retarget(other: Sequential, x: np.ndarray) -> np.ndarray:
        shape = other.shapes(len(x))[-1]
        return np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float32)

    return Lesson("tensor-conv", net, x, target, {"type": "sgd", "lr": 0.01}, retarget=retarget)


def _pooling(seed: int | None) -> Lesson:
    net = Sequential([MaxPool2D(2)], (1, 4, 4), loss="mse")
    x = np.array(POOLING_IMAGE, dtype=np.float32)[None, None]
    return Lesson("pooling", net, x, _pooling_target(net, x), {"type": "sgd", "lr": 0.1})


def _pooling_target(net: Sequential, x: np.ndarray) -> np.ndarray:
    """The lesson's target map, for every sample (it does not depend on the image)."""
    return np.tile(np.array(POOLING_TARGET, dtype=np.float32), (len(x), 1, 1, 1))


def digits_architecture(seed: int = 0) -> Sequential:
    """1x8x8 -> conv 12 k3 p1 -> ReLU -> maxpool 2 -> conv 24 k3 p1 -> ReLU -> maxpool 2
    -> dense 10."""
    layers = [Conv2D(1, 12, 3, padding=1), ReLU(), MaxPool2D(2)]
    layers += [Conv2D(12, 24, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Dense(96, 10)]
    return Sequential(layers, (1, 8, 8), seed=seed)


def shapes_architecture(seed: int = 0) -> Sequential:
    """1x16x16 -> conv 6 k5 -> ReLU -> maxpool 2 -> conv 12 k3 -> ReLU -> maxpool 2
    -> dense 5."""
    layers = [Conv2D(1, 6, 5), ReLU(), MaxPool2D(2), Conv2D(6, 12, 3), ReLU(), MaxPool2D(2)]
    return Sequential([*layers, Flatten(), Dense(48, 5)], (1, 16, 16), seed=seed)


def weights_path(name: str) -> Any:
    return resources.files("engine.presets") / "weights" / f"{name}.npz"


def _trained(name: str, data: DatasetSplit, seed: int | None) -> Lesson:
    """The shipped weights (seed only matters if the architecture is overridden
    and the network re-initialised) on their hardest test image (hardest_sample)."""
    with weights_path(name).open("rb") as fh:
        net, meta = load_network(fh.read())
    net.seed = seed or 0
    if name not in _HARDEST:  # the shipped weights and data are fixed: once per process
        _HARDEST[name] = hardest_sample(net, data)
    i = _HARDEST[name]
    x, y = data.x_test[i : i + 1], data.y_test[i : i + 1]
    return Lesson(name, net, x, y, {"type": "sgd", "lr": 0.05}, data, {**meta, "sample": i})


_HARDEST: dict[str, int] = {}


def hardest_sample(net: Sequential, data: DatasetSplit) -> int:
    """The held-out (test) image whose true class the network finds least likely
    (the first of equals).

    Why a trained CNN opens on it: on an image it gets right with p = 0.9997 (the
    digits CNN's first choice before) the loss's delta p - onehot(y) is 3e-4, conv1's
    delta map 1e-3 and the update moves weights of size 1 by 2e-5, so backward and
    update look empty. On the one it gets most wrong (a 5 it calls a 9, p(5) = 8e-4)
    they are 1, 8 and 0.13: the backward pass has something to show."""
    z = net.predict(data.x_test).astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # log-softmax: no ties at 0
    return int(np.argmin(log_p[np.arange(len(data.y_test)), data.y_test]))


# How a lesson whose target is its own rule (not a label of the sample) makes the target
# of any input: conv-basics scores a kernel against what an edge kernel makes of the
# same image; the pooling lesson's target map is fixed. Every other preset's input
# needs its own target (a dataset label, a typed sequence's next values, or one given).
INPUT_TARGETS: dict[str, Callable[[Sequential, np.ndarray], np.ndarray]] = {
    "conv-basics": _edge_target,
    "pooling": _pooling_target,
}


def input_target(preset: str | None, net: Sequential, x: np.ndarray) -> np.ndarray | None:
    """The target the lesson `preset` gives input x, or None if it has no such rule."""
    rule = INPUT_TARGETS.get(preset or "")
    return None if rule is None else rule(net, x)


BUILDERS: dict[str, Callable[[int | None], Lesson]] = {
    "conv-basics": _conv_basics,
    "tensor-conv": _tensor_conv,
    "pooling": _pooling,
    "digits-cnn": lambda seed: _trained("digits-cnn", load_split("digits"), seed),
    "shapes-cnn": lambda seed: _trained("shapes-cnn", load_split("shapes16"), seed),
    **RECURRENT_BUILDERS,
}
