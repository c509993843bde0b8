"""Layer classes: thin wrappers over engine.functional that record the trace."""

from engine.layers.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from engine.layers.base import Layer
from engine.layers.bilstm import BiLSTM
from engine.layers.conv import Conv2D
from engine.layers.dense import Dense, Flatten
from engine.layers.heads import DenseEach, DenseLast
from engine.layers.pool import AvgPool2D, MaxPool2D
from engine.layers.recurrent import LSTM, RNN, RecurrentLayer

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.op: cls
    for cls in (Conv2D, MaxPool2D, AvgPool2D, ReLU, LeakyReLU, Sigmoid, Tanh, Flatten, Dense)
    + (RNN, LSTM, BiLSTM, DenseLast, DenseEach)
}

__all__ = [
    "LAYER_TYPES",
    "LSTM",
    "RNN",
    "AvgPool2D",
    "BiLSTM",
    "Conv2D",
    "Dense",
    "DenseEach",
    "DenseLast",
    "Flatten",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "ReLU",
    "RecurrentLayer",
    "Sigmoid",
    "Tanh",
]
