"""The 8x8 handwritten digits (UCI) bundled with scikit-learn, read without importing it."""

from __future__ import annotations

import gzip
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.data.split import DatasetSplit, stratified_indices

DIGIT_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))

_SKLEARN_MISSING = "scikit-learn is needed for the bundled digits data (pip install scikit-learn)"


def _digits_path() -> Path:
    # find_spec locates the package without executing sklearn, keeping engine/ NumPy-only.
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(_SKLEARN_MISSING)
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        raise RuntimeError(f"{_SKLEARN_MISSING}; file not found: {path}")
    return path


@lru_cache(maxsize=1)
def _raw_digits() -> np.ndarray:
    # Parsing the CSV takes a noticeable fraction of a second, so do it once per process.
    with gzip.open(_digits_path(), "rt") as fh:
        raw = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != 65:
        raise RuntimeError(f"unexpected digits.csv.gz layout: shape {raw.shape}")
    raw.setflags(write=False)
    return raw


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits: images float32 (1797, 1, 8, 8) in [0, 1], labels int64 (1797,)."""
    raw = _raw_digits()
    x = (raw[:, :64] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = raw[:, 64].astype(np.int64)
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
