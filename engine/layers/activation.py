"""Element-wise activation layers over engine.functional's activations."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import functional as F
from engine.functional.activations import relu_backward_kernel, relu_kernel
from engine.layers.base import Layer


class _Activation(Layer):
    """Keeps the axes of its input (images or feature vectors)."""

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        if x.ndim != len(self.in_axes):
            axes = ("sample", "feature") if x.ndim == 2 else ("sample", "channel", "row", "col")
            self.in_axes = self.out_axes = axes
        return self._apply(x)

    def _apply(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        raise NotImplementedError


class ReLU(_Activation):
    op, prefix = "relu", "relu"

    def _apply(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return relu_kernel(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return relu_backward_kernel(dout, cache)


class Sigmoid(_Activation):
    op, prefix = "sigmoid", "sigmoid"

    def _apply(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.sigmoid(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return F.sigmoid_backward(dout, cache)


class Tanh(_Activation):
    op, prefix = "tanh", "tanh"

    def _apply(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.tanh(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return F.tanh_backward(dout, cache)


class LeakyReLU(_Activation):
    op, prefix = "leaky_relu", "lrelu"

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = float(slope)

    def _apply(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return F.leaky_relu(x, self.slope)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return F.leaky_relu_backward(dout, cache)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "slope": self.slope}

    def describe(self) -> dict[str, Any]:
        return {"layer": self.name, "slope": self.slope}
