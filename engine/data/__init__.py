"""Datasets for the engine: the bundled 8x8 digits and synthetic shapes."""

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
    "make_shapes",
    "stratified_indices",
]
