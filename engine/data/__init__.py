"""Datasets for the engine: the bundled 8x8 digits and synthetic shapes."""

import functools

from engine.data.digits import DIGIT_CLASSES, load_digits_arrays, load_digits_split
from engine.data.shapes import SHAPE_CLASSES, SHAPE_CLASSES_ZH, load_shapes_split, make_shapes
from engine.data.split import DatasetSplit, stratified_indices

__all__ = [
    "DIGIT_CLASSES",
    "SHAPE_CLASSES",
    "SHAPE_CLASSES_ZH",
    "DatasetSplit",
    "load_digits_arrays",
    "load_digits_split",
    "load_shapes_split",
    "load_split",
    "make_shapes",
    "stratified_indices",
]


@functools.lru_cache(maxsize=32)
def load_split(name: str) -> DatasetSplit:
    """A dataset split by its `DatasetSplit.name`: "digits", "shapes<size>" (e.g.
    "shapes16"), a toy 2-D set ("toy-moons", "toy-moons:0.2:3"), or a sequence set
    ("sine", "memory<T>", "chars-<lang>[-<T>]", "spell").

    Made once per process (generating shapes16 takes ~40 ms, and sessions,
    rebuilds and preset pages all ask for it); the arrays are read-only.
    """
    split = _make_split(name)
    for array in (split.x_train, split.y_train, split.x_test, split.y_test):
        array.flags.writeable = False
    return split


def _make_split(name: str) -> DatasetSplit:
    if name == "digits":
        return load_digits_split()
    if name.startswith("toy-"):
        from engine.data.toy import load_toy_by_name  # "toy-moons", "toy-moons:0.2:3"

        return load_toy_by_name(name)
    if name.startswith("shapes") and name[6:].isdigit():
        return load_shapes_split(int(name[6:]))
    from engine.data.sequences import load_sequence_split  # sine, memory<T>, chars-..., spell

    return load_sequence_split(name)
