"""The 2-D toy sets for BP networks: shapes, determinism, names, separability."""

import numpy as np
import pytest

from engine.data import load_split
from engine.data.toy import TOY_CLASSES, TOY_KINDS, load_toy_split, make_toy, toy_name


@pytest.mark.parametrize("kind", TOY_KINDS)
def test_shapes_and_types(kind: str) -> None:
    x, y = make_toy(kind, 90, noise=0.1, seed=1)
    assert x.shape == (90, 2) and x.dtype == np.float32
    assert y.shape == (90,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(TOY_CLASSES[kind]))
    assert np.all(np.abs(x) < 3)


def test_blobs_and_spiral_have_more_than_two_classes() -> None:
    assert TOY_CLASSES["blobs"] >= 3 and TOY_CLASSES["spiral"] >= 3


@pytest.mark.parametrize("kind", TOY_KINDS)
def test_deterministic(kind: str) -> None:
    a, b = make_toy(kind, 50, 0.2, seed=3), make_toy(kind, 50, 0.2, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    c = make_toy(kind, 50, 0.2, seed=4)
    assert not np.array_equal(a[0], c[0])


def test_split_rebuilds_from_its_name() -> None:
    split = load_toy_split("moons", noise=0.2, seed=5)
    assert split.name == "toy-moons:0.2:5" and split.x_train.shape == (200, 2)
    again = load_split(split.name)
    assert np.array_equal(split.x_train, again.x_train)
    assert np.array_equal(split.y_test, again.y_test)
    assert load_split("toy-xor").name == toy_name("xor") == "toy-xor"


def test_bad_names() -> None:
    with pytest.raises(ValueError, match="unknown toy set"):
        make_toy("donut", 10)
    with pytest.raises(ValueError):
        load_split("toy-moons:x:1")
    with pytest.raises(ValueError, match="noise"):
        make_toy("xor", 10, noise=5.0)


def _nearest_centroid_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    cents = np.stack([x[y == c].mean(axis=0) for c in np.unique(y)])
    pred = np.argmin(((x[:, None, :] - cents[None]) ** 2).sum(-1), axis=1)
    return float((pred == y).mean())


def test_separability_sanity() -> None:
    # blobs are linearly separable; circles separate by radius; xor by sign product.
    x, y = make_toy("blobs", 300, 0.05, seed=0)
    assert _nearest_centroid_accuracy(x, y) > 0.9
    x, y = make_toy("circles", 300, 0.05, seed=0)
    r = np.linalg.norm(x, axis=1)
    assert ((r > 0.72) == (y == 0)).mean() > 0.95
    x, y = make_toy("xor", 300, 0.0, seed=0)
    assert ((x[:, 0] * x[:, 1] < 0) == (y == 1)).all()
    # moons and circles are not linearly separable by the centroids alone
    x, y = make_toy("circles", 300, 0.05, seed=0)
    assert _nearest_centroid_accuracy(x, y) < 0.8
