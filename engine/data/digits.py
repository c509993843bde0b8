"""The 8x8 handwritten digits (UCI), shipped with the engine as engine/data/digits.npz.

The same 1797 digits scikit-learn bundles (the test set of UCI's "Optical Recognition
of Handwritten Digits", CC BY 4.0): engine/data/DIGITS.md says where they come from.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

from engine.data.split import DatasetSplit, stratified_indices

DIGIT_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))


@lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    # Integer pixels 0..16 (uint8, N x 8 x 8) and labels 0..9 (uint8); read once per process.
    with (resources.files("engine.data") / "digits.npz").open("rb") as fh, np.load(fh) as z:
        images, labels = z["images"], z["labels"]
    if images.shape != (1797, 8, 8) or labels.shape != (1797,):
        raise RuntimeError(f"unexpected digits.npz layout: {images.shape}, {labels.shape}")
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits: images float32 (1797, 1, 8, 8) in [0, 1], labels int64 (1797,)."""
    images, labels = _raw_digits()
    # Through float64, as from the CSV it was read from before: the same float32 bits.
    x = (images.astype(np.float64) / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = labels.astype(np.int64)
    return x, y


def load_digits_split(test_fraction: float = 0.2, seed: int = 0) -> DatasetSplit:
    """Fixed stratified split of the digits; images (N, 1, 8, 8) float32, labels int64 0..9."""
    x, y = load_digits_arrays()
    train_idx, test_idx = stratified_indices(y, test_fraction, np.random.default_rng(seed))
    return DatasetSplit(
        x_train=x[train_idx],
        y_train=y[train_idx],
        x_test=x[test_idx],
        y_test=y[test_idx],
        classes=DIGIT_CLASSES,
        name="digits",
    )
