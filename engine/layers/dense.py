"""Dense (fully connected) and Flatten layers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.functional import flatten, flatten_backward
from engine.layers.base import Layer, uniform_fan_in

FEATURES: tuple[str, ...] = ("sample", "feature")


class Dense(Layer):
    """out = x @ w.T + b, w (out_features, in_features) as in PyTorch's nn.Linear."""

    op, prefix = "dense", "dense"
    in_axes = out_axes = FEATURES
    out_role = "preact"

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        if self.in_features < 1 or self.out_features < 1:
            raise ValueError("in_features and out_features must be >= 1")

    def init_params(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        d, m = self.in_features, self.out_features
        self.params = {
            "w": uniform_fan_in(rng, (m, d), d, dtype),
            "b": uniform_fan_in(rng, (m,), d, dtype),
        }

    def param_axes(self, key: str) -> tuple[str, ...]:
        return ("out", "in") if key == "w" else ("out",)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        w = self.params["w"]
        return x.dot(w.T) + self.params["b"], (x, w)  # 2-D dot: less overhead than @

    lazy_input_delta = True

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        self._backward_params(dout, cache)
        return self._input_delta(dout, cache)

    def _backward_params(self, dout: np.ndarray, cache: Any) -> None:
        x, _ = cache
        self.grads = {"w": dout.T.dot(x), "b": np.add.reduce(dout, axis=0)}

    def _input_delta(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return dout.dot(cache[1])

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(in_shape) != 2 or in_shape[1] != self.in_features:
            raise ValueError(
                f"{self.name or 'dense'} expects (N, {self.in_features}) input; got {in_shape}"
            )
        return (in_shape[0], self.out_features)

    def spec(self) -> dict[str, Any]:
        return {
            **super().spec(),
            "in_features": self.in_features,
            "out_features": self.out_features,
        }

    def describe(self) -> dict[str, Any]:
        return {"layer": self.name, "d": self.in_features, "m": self.out_features}


class Flatten(Layer):
    op, prefix = "flatten", "flatten"
    out_axes = FEATURES

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return flatten(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return flatten_backward(dout, cache)

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (in_shape[0], int(np.prod(in_shape[1:])))

    def describe(self) -> dict[str, Any]:
        dims = (self._in_shape or (0, 0))[1:]
        return {"layer": self.name, "shape": "x".join(map(str, dims)), "size": math.prod(dims)}
