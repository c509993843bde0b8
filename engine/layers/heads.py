"""Heads on a recurrent layer: a dense layer on the last hidden state (many-to-one)
or on every hidden state (many-to-many); see engine.functional.heads."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.functional import (
    head_many_to_many,
    head_many_to_many_backward,
    head_many_to_one,
    head_many_to_one_backward,
)
from engine.layers.dense import Dense


class _Head(Dense):
    """A dense layer (its weights, initialisation and spec) applied to hidden states."""

    prefix = "head"
    in_axes = ("sample", "time", "unit")
    lazy_input_delta = False  # its own _backward; never a network's first layer

    def describe(self) -> dict[str, Any]:
        steps = self._in_shape[1] if self._in_shape else 0
        return {"layer": self.name, "d": self.in_features, "m": self.out_features, "T": steps}

    def _check_shape(self, in_shape: tuple[int, ...]) -> None:
        if len(in_shape) != 3 or in_shape[2] != self.in_features:
            raise ValueError(
                f"{self.name or self.op} expects (N, T, {self.in_features}) hidden states; "
                f"got {in_shape}"
            )


class DenseLast(_Head):
    """Many-to-one: out (N, K) = last hidden state @ w.T + b. `bidirectional`: the last
    state is [forward state at T-1 ; backward state at 0] (PyTorch's h_n)."""

    op = "dense_last"
    out_axes = ("sample", "out")

    def __init__(self, in_features: int, out_features: int, bidirectional: bool = False) -> None:
        super().__init__(in_features, out_features)
        self.bidirectional = bool(bidirectional)
        if self.bidirectional and self.in_features % 2:
            raise ValueError("a bidirectional head takes an even number of features (2H)")

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "bidirectional": self.bidirectional}

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        self._check_shape(in_shape)
        return (in_shape[0], self.out_features)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        w, b = self.params["w"], self.params["b"]
        return head_many_to_one(x, w, b, bidirectional=self.bidirectional, check_finite=False)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        dhs, dw, db = head_many_to_one_backward(dout, cache)
        self.grads = {"w": dw, "b": db}
        return dhs


class DenseEach(_Head):
    """Many-to-many: out (N, T, K), the same dense layer on every hidden state."""

    op = "dense_each"
    out_axes = ("sample", "time", "out")

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        self._check_shape(in_shape)
        return (in_shape[0], in_shape[1], self.out_features)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return head_many_to_many(x, self.params["w"], self.params["b"], check_finite=False)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        dhs, dw, db = head_many_to_many_backward(dout, cache)
        self.grads = {"w": dw, "b": db}
        return dhs
