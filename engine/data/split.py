"""Train/test split container and a seeded stratified splitter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DatasetSplit:
    """A fixed train/test split.

    Images are float32 (N, C, H, W) in [0, 1]; labels are int64 (N,) indexing ``classes``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    name: str


def stratified_indices(
    labels: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices of ``labels`` (N,) so each class sends ~``test_fraction`` to test.

    Returns sorted ``(train_idx, test_idx)`` int64 arrays. Every class with at least two
    samples gets at least one sample on each side.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    labels = np.asarray(labels)
    train_parts: list[np.ndarray] = []
    test_parts: list[np.ndarray] = []
    # Iterate classes in sorted order so the rng draws, and hence the split, are reproducible.
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_test = int(round(len(idx) * test_fraction))
        if len(idx) >= 2:
            n_test = min(max(n_test, 1), len(idx) - 1)
        test_parts.append(idx[:n_test])
        train_parts.append(idx[n_test:])
    train_idx = np.sort(np.concatenate(train_parts)).astype(np.int64)
    test_idx = np.sort(np.concatenate(test_parts)).astype(np.int64)
    return train_idx, test_idx
