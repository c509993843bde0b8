"""2-D toy classification sets for BP (fully connected) networks: xor, circles,
moons, spiral and Gaussian blobs, seeded, with noise and a train/test split.

Points are float32 (N, 2), roughly inside [-1.5, 1.5]; labels int64 (N,).
A split's name says how to make it again: "toy-<kind>" with the default noise
and seed, or "toy-<kind>:<noise>:<seed>"; `load_split` rebuilds it from the name.
"""

from __future__ import annotations

import numpy as np

from engine.data.split import DatasetSplit

TOY_KINDS = ("xor", "circles", "moons", "spiral", "blobs")
TOY_CLASSES = {"xor": 2, "circles": 2, "moons": 2, "spiral": 3, "blobs": 3}
DEFAULT_NOISE = 0.1
DEFAULT_SEED = 0
N_TRAIN, N_TEST = 200, 100
MAX_POINTS = 5000


def make_toy(
    name: str, n: int, noise: float = DEFAULT_NOISE, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`n` points of the toy set `name` with Gaussian `noise` (standard deviation,
    in data units); the classes take turns, so every class has n // classes or one more."""
    if name not in TOY_KINDS:
        raise ValueError(f"unknown toy set {name!r}; choose one of {', '.join(TOY_KINDS)}")
    if not 1 <= n <= MAX_POINTS:
        raise ValueError(f"n must be in 1..{MAX_POINTS}, got {n}")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise}")
    rng = np.random.default_rng(seed)
    k = TOY_CLASSES[name]
    y = np.arange(n, dtype=np.int64) % k
    if name == "xor":
        pts = rng.uniform(0.1, 1.0, size=(n, 2)) * rng.choice([-1.0, 1.0], size=(n, 2))
        y = (np.sign(pts[:, 0]) != np.sign(pts[:, 1])).astype(np.int64)
    elif name == "circles":
        t = rng.uniform(0, 2 * np.pi, n)
        r = np.where(y == 0, 1.0, 0.45)
        pts = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    elif name == "moons":
        t = rng.uniform(0, np.pi, n)
        upper = np.stack([np.cos(t), np.sin(t)], axis=1)
        lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
        pts = np.where((y == 0)[:, None], upper, lower) - np.array([0.5, 0.25])
        pts = pts * np.array([1.0, 1.5])
    elif name == "spiral":
        t = rng.uniform(0.0, 1.0, n)
        angle = t * 1.75 * np.pi + y * (2 * np.pi / k)
        r = 0.15 + 1.1 * t
        pts = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    else:  # blobs
        centres = np.array([[-0.8, -0.6], [0.8, -0.6], [0.0, 0.8]])
        pts = centres[y] + rng.normal(0.0, 0.25, size=(n, 2))
    pts = pts + rng.normal(0.0, noise, size=pts.shape)
    return pts.astype(np.float32), y


def toy_name(kind: str, noise: float = DEFAULT_NOISE, seed: int = DEFAULT_SEED) -> str:
    """The split name that `load_split` turns back into this toy split."""
    if noise == DEFAULT_NOISE and seed == DEFAULT_SEED:
        return f"toy-{kind}"
    return f"toy-{kind}:{float(noise):g}:{int(seed)}"


def parse_toy_name(name: str) -> tuple[str, float, int]:
    """(kind, noise, seed) from "toy-<kind>" or "toy-<kind>:<noise>:<seed>"."""
    if not name.startswith("toy-"):
        raise ValueError(f"not a toy set name: {name!r}")
    parts = name[4:].split(":")
    if len(parts) == 1:
        return parts[0], DEFAULT_NOISE, DEFAULT_SEED
    if len(parts) != 3:
        raise ValueError(f"a toy set name is toy-<kind> or toy-<kind>:<noise>:<seed>, got {name!r}")
    try:
        return parts[0], float(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"bad noise or seed in {name!r}") from None


def load_toy_split(
    name: str, n_train: int = N_TRAIN, n_test: int = N_TEST, noise: float = DEFAULT_NOISE,
    seed: int = DEFAULT_SEED,
) -> DatasetSplit:  # fmt: skip
    """A train/test split of the toy set `name` ("moons" or "toy-moons"); train and
    test are drawn together from one seeded sample, so they never overlap."""
    kind = name[4:] if name.startswith("toy-") else name
    x, y = make_toy(kind, n_train + n_test, noise, seed)
    order = np.random.default_rng(seed + 1).permutation(len(y))
    tr, te = order[:n_train], order[n_train:]
    classes = tuple(f"class {i}" for i in range(TOY_CLASSES[kind]))
    return DatasetSplit(x[tr], y[tr], x[te], y[te], classes, toy_name(kind, noise, seed))


def load_toy_by_name(name: str) -> DatasetSplit:
    kind, noise, seed = parse_toy_name(name)
    return load_toy_split(kind, noise=noise, seed=seed)
