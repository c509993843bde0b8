"""The layer base: a thin wrapper that holds parameters, calls the pure
functions and records named tensors into a trace."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from engine.trace import Lazy, Trace


class Layer:
    """One layer. `forward` keeps one cache (the latest); `backward` needs it."""

    # Class defaults that a layer may set for itself: an activation takes the axes of
    # whatever it is given, a Conv2D doing true convolution has its own op.
    op: str = ""
    prefix: ClassVar[str] = ""
    in_axes: tuple[str, ...] = ("sample", "channel", "row", "col")
    out_axes: tuple[str, ...] = ("sample", "channel", "row", "col")
    out_role: ClassVar[str] = "activation"

    def __init__(self) -> None:
        self.name = ""
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._cache: Any = None
        self._in_shape: tuple[int, ...] | None = None
        self._out_shape: tuple[int, ...] | None = None
        self._spec: TraceSpec | None = None
        self._captions: tuple[tuple[int, ...] | None, dict[str, Any]] | None = None

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
        cached = self._captions
        if cached is None or cached[0] != self._in_shape:
            cached = self._captions = (self._in_shape, self.describe())
        return cached[1]

    # Tensors a forward pass records besides its input, parameters and output, as
    # (what, role, axes; None: the input's axes), and the Lazy values that make
    # them on first read (a conv's partial maps, a pooling mask).
    extra_records: ClassVar[tuple[tuple[str, str, tuple[str, ...] | None], ...]] = ()

    def _extras(self, cache: Any) -> tuple[Lazy, ...]:
        return ()

    # --- shared ------------------------------------------------------------
    def forward(self, x: np.ndarray, trace: Trace | None = None) -> np.ndarray:
        out, cache = self._forward(x)
        self._cache, self._in_shape, self._out_shape = cache, x.shape, out.shape
        if trace is not None:
            spec = self._spec
            if spec is None or spec.name is not self.name or spec.in_axes is not self.in_axes:
                spec = self._trace_spec()
            if spec.plain:
                values: tuple[Any, ...] = (x, out)
            else:
                values = (x, *self.params.values(), *self._extras(cache), out)
            trace.record_all(spec.forward_names, spec.forward_metas, values)
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
            spec = self._spec
            if spec is None or spec.name is not self.name or spec.in_axes is not self.in_axes:
                spec = self._trace_spec()
            delta = Lazy(self._input_delta, dout, cache) if dx is None else dx
            if spec.plain:
                values: tuple[Any, ...] = (dout, delta)
            else:
                values = (dout, delta, *map(self.grads.__getitem__, spec.param_keys))
            trace.record_all(spec.backward_names, spec.backward_metas, values)
        return dx

    def _trace_spec(self) -> TraceSpec:
        """The names, roles and axes this layer records: made again (forward and
        backward check, inline) only when its name or its input's axes change (an
        activation follows its input's rank)."""
        spec = self._spec = TraceSpec(self)
        return spec

    def param_axes(self, key: str) -> tuple[str, ...]:
        return ("index",) * self.params[key].ndim

    def init_params(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        """Draw parameters (layers with none do nothing)."""

    def astype(self, dtype: np.dtype) -> None:
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}


class TraceSpec:
    """What a layer records, in order: forward `<name>.in`, each parameter, the
    extras, `<name>.out`; backward `<name>.dout`, `<name>.dx`, `<name>.d<param>`."""

    __slots__ = (
        "backward_metas", "backward_names", "forward_metas", "forward_names", "in_axes",
        "name", "param_keys", "plain",
    )  # fmt: skip

    def __init__(self, layer: Layer) -> None:
        self.name, self.in_axes, name = layer.name, layer.in_axes, layer.name
        self.param_keys = tuple(layer.params)
        self.plain = not self.param_keys and not layer.extra_records  # records in and out only
        forward = [("in", "input", layer.in_axes)]
        forward += [(k, "param", layer.param_axes(k)) for k in self.param_keys]
        forward += [(w, r, layer.in_axes if a is None else a) for w, r, a in layer.extra_records]
        forward.append(("out", layer.out_role, layer.out_axes))
        backward = [("dout", "delta", layer.out_axes), ("dx", "delta", layer.in_axes)]
        backward += [(f"d{k}", "grad", layer.param_axes(k)) for k in self.param_keys]
        self.forward_names = tuple(f"{name}.{what}" for what, _, _ in forward)
        self.forward_metas = tuple((role, axes) for _, role, axes in forward)
        self.backward_names = tuple(f"{name}.{what}" for what, _, _ in backward)
        self.backward_metas = tuple((role, axes) for _, role, axes in backward)


def uniform_fan_in(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, dtype: np.dtype
) -> np.ndarray:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for conv and linear layers."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)
