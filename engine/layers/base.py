"""The layer base: a thin wrapper that holds parameters, calls the pure
functions and records named tensors into a trace."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

import numpy as np

from engine.trace import Trace


class Layer:
    """One layer. `forward` keeps one cache (the latest); `backward` needs it."""

    op: ClassVar[str] = ""
    prefix: ClassVar[str] = ""
    in_axes: ClassVar[tuple[str, ...]] = ("sample", "channel", "row", "col")
    out_axes: ClassVar[tuple[str, ...]] = ("sample", "channel", "row", "col")
    out_role: ClassVar[str] = "activation"

    def __init__(self) -> None:
        self.name = ""
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._cache: Any = None
        self._in_shape: tuple[int, ...] | None = None
        self._out_shape: tuple[int, ...] | None = None

    # --- to be provided by each layer -------------------------------------
    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        raise NotImplementedError

    # Layers whose input delta can be left for later (see backward) set this and
    # provide the two halves of _backward.
    lazy_input_delta: ClassVar[bool] = False

    def _backward_params(self, dout: np.ndarray, cache: Any) -> None:
        raise NotImplementedError

    def _input_delta(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """The layer's type and hyper-parameters (JSON-ready), enough to rebuild it."""
        return {"type": type(self).op, "name": self.name}

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Output shape for an input shape (checks it fits)."""
        return in_shape

    def describe(self) -> dict[str, Any]:
        """Values for the step captions (after a forward pass)."""
        return {"layer": self.name}

    def caption_values(self) -> dict[str, Any]:
        """describe(), made once per input shape (what it depends on); read-only."""
        cached = self.__dict__.get("_caption_values")
        if cached is None or cached[0] != self._in_shape:
            cached = self.__dict__["_caption_values"] = (self._in_shape, self.describe())
        return cached[1]

    def _record_forward(self, trace: Trace, cache: Any) -> None:
        """Extra tensors a layer records (masks, partial maps)."""

    # --- shared ------------------------------------------------------------
    def forward(self, x: np.ndarray, trace: Trace | None = None) -> np.ndarray:
        out, cache = self._forward(x)
        self._cache, self._in_shape, self._out_shape = cache, x.shape, out.shape
        if trace is not None:
            name = self.name
            trace.record(f"{name}.in", "input", x, self.in_axes)
            for key, p in self.params.items():
                trace.record(f"{name}.{key}", "param", p, self.param_axes(key))
            if type(self)._record_forward is not Layer._record_forward:
                self._record_forward(trace, cache)
            trace.record(f"{name}.out", self.out_role, out, self.out_axes)
        return out

    def backward(
        self, dout: np.ndarray, trace: Trace | None = None, need_dx: bool = True
    ) -> np.ndarray | None:
        """Gradients of the parameters into self.grads; returns dx. With need_dx
        False (the first layer: nothing below needs its delta) a layer that can
        skips dx, returns None and the trace computes `<name>.dx` when first read."""
        cache = self._cache
        if cache is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        if need_dx or not self.lazy_input_delta:
            dx = self._backward(dout, cache)
        else:
            self._backward_params(dout, cache)
            dx = None
        if trace is not None:
            name = self.name
            trace.record(f"{name}.dout", "delta", dout, self.out_axes)
            if dx is None:
                make = partial(self._input_delta, dout, cache)
                trace.record_lazy(f"{name}.dx", "delta", make, self.in_axes)
            else:
                trace.record(f"{name}.dx", "delta", dx, self.in_axes)
            for key, g in self.grads.items():
                trace.record(f"{name}.d{key}", "grad", g, self.param_axes(key))
        return dx

    def param_axes(self, key: str) -> tuple[str, ...]:
        return ("index",) * self.params[key].ndim

    def init_params(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        """Draw parameters (layers with none do nothing)."""

    def astype(self, dtype: np.dtype) -> None:
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}


def uniform_fan_in(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, dtype: np.dtype
) -> np.ndarray:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for conv and linear layers."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)
