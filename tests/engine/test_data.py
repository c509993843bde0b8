"""Tests for engine.data: bundled digits and synthetic shapes."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from engine.data import (
    SHAPE_CLASSES,
    SHAPE_CLASSES_ZH,
    DatasetSplit,
    load_digits_arrays,
    load_digits_split,
    load_shapes_split,
    make_shapes,
)

# ---------------------------------------------------------------- digits


def test_digits_arrays_shape_and_range():
    x, y = load_digits_arrays()
    assert x.shape == (1797, 1, 8, 8)
    assert x.dtype == np.float32
    assert y.shape == (1797,)
    assert y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.max() == 1.0  # raw 16 maps to exactly 1
    assert set(np.unique(y)) == set(range(10))


def test_digits_split_sizes_and_types():
    split = load_digits_split()
    assert isinstance(split, DatasetSplit)
    assert split.name == "digits"
    assert split.classes == tuple(str(d) for d in range(10))
    assert len(split.x_train) + len(split.x_test) == 1797
    assert 340 <= len(split.x_test) <= 380
    for x, y in ((split.x_train, split.y_train), (split.x_test, split.y_test)):
        assert x.shape[1:] == (1, 8, 8) and x.dtype == np.float32
        assert y.dtype == np.int64 and len(x) == len(y)
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert set(np.unique(y)) == set(range(10))


def test_digits_split_is_disjoint_and_covers_everything():
    x_all, _ = load_digits_arrays()
    split = load_digits_split()
    flat_all = x_all.reshape(len(x_all), -1)
    # Some digits images are exact duplicates, so compare multisets of rows, not sets.
    combined = np.concatenate([split.x_train, split.x_test]).reshape(len(x_all), -1)
    order_a = np.lexsort(flat_all.T)
    order_b = np.lexsort(combined.T)
    np.testing.assert_array_equal(flat_all[order_a], combined[order_b])


def test_digits_split_deterministic():
    a = load_digits_split(seed=3)
    b = load_digits_split(seed=3)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = load_digits_split(seed=4)
    assert not np.array_equal(a.y_test, c.y_test) or not np.array_equal(a.x_test, c.x_test)


@pytest.mark.parametrize("fraction", [0.2, 0.3])
def test_digits_split_stratified(fraction):
    split = load_digits_split(test_fraction=fraction)
    for cls in range(10):
        n_test = int((split.y_test == cls).sum())
        n_train = int((split.y_train == cls).sum())
        assert abs(n_test / (n_test + n_train) - fraction) < 0.03


def test_digits_bad_fraction():
    with pytest.raises(ValueError):
        load_digits_split(test_fraction=1.0)


# sha256 of the arrays as they were read from scikit-learn's digits.csv.gz before the
# data moved into engine/data/digits.npz: the presets' trained weights depend on them.
DIGITS_SHA256 = {
    "x": "9f578524b6cec1fc800cc52dfc87ebe56264983d490aa72a4bd928ba2570ec77",
    "y": "a3c91c262eddcf7ba8f0e37507c30284493c9b20412ffe4af30d536401f7ba21",
    "x_train": "c6c92b2fcab08dd9602b3f043d684239b58e966438c3c706afbe8e80597f4bdd",
    "y_train": "623f476e17fdfbd83fa261cb3fa9d9f911a880784baf9cbc5bd06580e6f356ca",
    "x_test": "ba1df66f2044f85a3917fc9b55b11f55a16eb16b7552c9cc3a40e6b798c5f593",
    "y_test": "bfc50f70029db07375ea5336e1c45ed2c06dfa90c6aabe1b5f13cbb20d29ee3b",
}


def _sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def test_digits_are_byte_identical_to_the_csv_they_came_from():
    x, y = load_digits_arrays()
    split = load_digits_split()
    got = {"x": _sha256(x), "y": _sha256(y)}
    got |= {f: _sha256(getattr(split, f)) for f in ("x_train", "y_train", "x_test", "y_test")}
    assert got == DIGITS_SHA256


def test_digits_load_with_numpy_alone():
    # engine/ imports only NumPy and the standard library: no scikit-learn, no SciPy.
    code = (
        "import sys, engine.data as d; d.load_digits_split(); "
        "assert not {'sklearn', 'scipy'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_split_is_frozen():
    split = load_digits_split()
    with pytest.raises(AttributeError):
        split.name = "other"


# ---------------------------------------------------------------- shapes


def test_shape_class_names():
    assert len(SHAPE_CLASSES) == len(SHAPE_CLASSES_ZH) == 5


def test_make_shapes_shapes_and_dtypes():
    x, y = make_shapes(50, size=16)
    assert x.shape == (50, 1, 16, 16) and x.dtype == np.float32
    assert y.shape == (50,) and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert y.min() >= 0 and y.max() < len(SHAPE_CLASSES)


def test_make_shapes_balanced():
    _, y = make_shapes(103, size=16)
    counts = np.bincount(y, minlength=5)
    assert counts.max() - counts.min() <= 1
    # Shuffled, not simply cycling 0,1,2,3,4.
    assert not np.array_equal(y, np.arange(103) % 5)


def test_make_shapes_deterministic_and_seed_dependent():
    a = make_shapes(40, seed=7)
    b = make_shapes(40, seed=7)
    c = make_shapes(40, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    d = make_shapes(40, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], d[0])


@pytest.mark.parametrize("size", [8, 16, 28, 64])
def test_make_shapes_sizes(size):
    x, y = make_shapes(20, size=size, noise=0.0)
    assert x.shape == (20, 1, size, size)
    # Without noise every image has a visible shape and a visible background.
    flat = x.reshape(20, -1)
    assert (flat.max(axis=1) > 0.5).all()
    assert ((flat == 0.0).mean(axis=1) > 0.2).all()
    assert np.bincount(y, minlength=5).min() == 4


@pytest.mark.parametrize("size", [0, 7, 65, 128])
def test_make_shapes_bad_size(size):
    with pytest.raises(ValueError, match="size"):
        make_shapes(10, size=size)


def test_make_shapes_bad_n():
    with pytest.raises(ValueError, match="n must"):
        make_shapes(0)


def test_load_shapes_split():
    split = load_shapes_split(size=16, n_train=100, n_test=30, seed=1)
    assert split.classes == SHAPE_CLASSES
    assert split.x_train.shape == (100, 1, 16, 16)
    assert split.x_test.shape == (30, 1, 16, 16)
    again = load_shapes_split(size=16, n_train=100, n_test=30, seed=1)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(split, field), getattr(again, field))
    # Train and test come from different streams.
    assert not np.array_equal(split.x_train[:30], split.x_test)
    other = load_shapes_split(size=16, n_train=100, n_test=30, seed=2)
    assert not np.array_equal(split.x_train, other.x_train)


def nearest_mean_accuracy(split: DatasetSplit) -> float:
    n_classes = len(split.classes)
    x_train = split.x_train.reshape(len(split.x_train), -1)
    x_test = split.x_test.reshape(len(split.x_test), -1)
    means = np.stack([x_train[split.y_train == c].mean(axis=0) for c in range(n_classes)])
    dists = ((x_test[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    return float((dists.argmin(axis=1) == split.y_test).mean())


def test_shapes_are_separable():
    accuracy = nearest_mean_accuracy(load_shapes_split(16))
    assert accuracy > 0.6, accuracy


def test_a_memory_split_of_its_own_size_and_seed_is_rebuilt_by_its_name():
    """Another worker (or a restart) rebuilds a session's data from its name alone:
    vanishing-rnn's 8 + 8 sequences must not come back as the default 2000 + 500."""
    from engine.data import load_split
    from engine.data.sequences import memory_split
    from engine.presets import build_preset

    small = memory_split(40, n_train=8, n_test=8, seed=3)
    again = load_split(small.name)
    assert small.name == "memory40-8-8-s3"
    assert np.array_equal(again.x_train, small.x_train)
    assert np.array_equal(again.y_test, small.y_test)
    assert load_split("memory20").x_train.shape == (2000, 20, 4)
    lesson = build_preset("vanishing-rnn", seed=2, seq_len=12)
    rebuilt = load_split(lesson.data.name)
    assert len(rebuilt.x_train) == len(lesson.data.x_train) == 8
    assert np.array_equal(rebuilt.x_test, lesson.data.x_test)
