"""Synthetic shape images (bars, cross, square, circle) at any size from 8 to 64."""

from __future__ import annotations

import numpy as np

from engine.data.split import DatasetSplit

SHAPE_CLASSES: tuple[str, ...] = ("vertical bar", "horizontal bar", "cross", "square", "circle")
SHAPE_CLASSES_ZH: tuple[str, ...] = ("竖条", "横条", "十字", "方框", "圆")

MIN_SIZE = 8
MAX_SIZE = 64
# Largest shift of a shape from the centre, as a fraction of the image size.
MAX_SHIFT = 0.2


def _extent(rng: np.random.Generator, size: int, lo: float, hi: float, minimum: int) -> int:
    """Random shape extent in pixels, a fraction in [lo, hi] of ``size``, clamped to fit."""
    length = int(round(rng.uniform(lo, hi) * size))
    return min(max(length, minimum), size)


def _start(rng: np.random.Generator, size: int, extent: int) -> int:
    """Random start index for a span of ``extent`` pixels: centred, jittered, always inside."""
    # Bounded jitter rather than anywhere-in-image keeps class means distinct while still
    # forcing position invariance.
    centre = (size - extent) / 2.0
    jitter = max(1.0, MAX_SHIFT * size)
    lo = max(0, int(np.ceil(centre - jitter)))
    hi = min(size - extent, int(np.floor(centre + jitter)))
    return int(rng.integers(lo, hi + 1))


def _draw(label: int, size: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """One noiseless (size, size) mask in {0, 1} for class ``label``."""
    img = np.zeros((size, size), dtype=np.float32)
    if label in (0, 1):
        # Bars span most of the image so they read as lines, not blobs.
        length = _extent(rng, size, 0.6, 0.95, 3)
        across = _start(rng, size, width)
        along = _start(rng, size, length)
        if label == 0:
            img[along : along + length, across : across + width] = 1.0
        else:
            img[across : across + width, along : along + length] = 1.0
    elif label == 2:
        length = _extent(rng, size, 0.5, 0.9, width + 2)
        y0 = _start(rng, size, length)
        x0 = _start(rng, size, length)
        mid = (length - width) // 2
        img[y0 : y0 + length, x0 + mid : x0 + mid + width] = 1.0
        img[y0 + mid : y0 + mid + width, x0 : x0 + length] = 1.0
    elif label == 3:
        # Leave a hole of at least 2 pixels so the outline never fills in.
        side = _extent(rng, size, 0.45, 0.9, 2 * width + 2)
        y0 = _start(rng, size, side)
        x0 = _start(rng, size, side)
        img[y0 : y0 + side, x0 : x0 + side] = 1.0
        img[y0 + width : y0 + side - width, x0 + width : x0 + side - width] = 0.0
    else:
        diameter = _extent(rng, size, 0.5, 0.95, 2 * width + 3)
        y0 = _start(rng, size, diameter)
        x0 = _start(rng, size, diameter)
        radius = diameter / 2.0
        # Hard threshold on distance from pixel centres keeps the ring's edges crisp.
        coords = np.arange(size, dtype=np.float64) + 0.5
        dist = np.hypot(coords[:, None] - (y0 + radius), coords[None, :] - (x0 + radius))
        img[(dist <= radius) & (dist > radius - width)] = 1.0
    return img


def make_shapes(
    n: int,
    size: int = 16,
    noise: float = 0.1,
    seed: int = 0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` shape images.

    Returns images float32 (n, 1, size, size) clipped to [0, 1] and int64 labels (n,)
    indexing ``SHAPE_CLASSES``; classes are balanced. ``rng`` overrides ``seed``.
    """
    if isinstance(size, bool) or not isinstance(size, int | np.integer):
        raise ValueError(f"size must be an integer, got {size!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if noise < 0:
        raise ValueError(f"noise must be non-negative, got {noise}")
    size = int(size)
    if rng is None:
        rng = np.random.default_rng(seed)

    labels = rng.permutation(np.arange(n, dtype=np.int64) % len(SHAPE_CLASSES))
    width = max(1, round(size / 8))
    images = np.empty((n, 1, size, size), dtype=np.float32)
    for i, label in enumerate(labels):
        # Vary brightness a little so the network cannot key on exact intensity.
        images[i, 0] = _draw(int(label), size, width, rng) * rng.uniform(0.75, 1.0)
    if noise > 0:
        images += rng.normal(0.0, noise, size=images.shape).astype(np.float32)
    np.clip(images, 0.0, 1.0, out=images)
    return images, labels


def load_shapes_split(
    size: int = 16,
    n_train: int = 2000,
    n_test: int = 500,
    noise: float = 0.1,
    seed: int = 0,
) -> DatasetSplit:
    """Deterministic shapes split; images (N, 1, size, size) float32, labels int64 0..4."""
    # Independent child streams keep test images from repeating train images.
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    x_train, y_train = make_shapes(n_train, size, noise, rng=np.random.default_rng(train_seq))
    x_test, y_test = make_shapes(n_test, size, noise, rng=np.random.default_rng(test_seq))
    return DatasetSplit(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        classes=SHAPE_CLASSES,
        name=f"shapes{size}",
    )
