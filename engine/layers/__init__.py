"""Layer classes: thin wrappers over engine.functional that record the trace."""

from engine.layers.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from engine.layers.base import Layer
from engine.layers.conv import Conv2D
from engine.layers.dense import Dense, Flatten
from engine.layers.pool import AvgPool2D, MaxPool2D

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.op: cls
    for cls in (Conv2D, MaxPool2D, AvgPool2D, ReLU, LeakyReLU, Sigmoid, Tanh, Flatten, Dense)
}

__all__ = [
    "LAYER_TYPES",
    "AvgPool2D",
    "Conv2D",
    "Dense",
    "Flatten",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "ReLU",
    "Sigmoid",
    "Tanh",
]
