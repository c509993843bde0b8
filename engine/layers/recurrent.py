"""Recurrent layers: thin wrappers over engine.functional's RNN and LSTM.

Each layer runs in two ways with the same functions, so the numbers agree
exactly:
- whole sequence (`forward` / `backward`, as every Layer): what training and a
  Sequential use;
- one time step at a time (`forward_step` / `backward_step`): what the stepped
  pass of a RecurrentNet uses; each step records its tensors under
  `<layer>.t<t>.<what>` (e.g. `lstm1.t3.f`, `lstm1.t3.dh`).

The stepping (the loop over time, what each step records, the norms of the
deltas) is written once, in RecurrentLayer and CellLayer; an RNN and an LSTM differ
only in their cell's functions (a CellKernel, engine.layers.recurrent_cells) and how
a pass starts. A layer plans its
own time steps (`forward_plan`, `backward_plan`) and gives what runs each one
from the planned step's fields (`forward_runner`, `backward_runner`).

Parameters in PyTorch's layout and names: w_ih, w_hh, b_ih, b_hh (LSTM gates
stacked i, f, g, o), drawn from U(-1/sqrt(H), 1/sqrt(H)) as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import numpy as np

from engine.functional import (
    lstm,
    lstm_start,
    rnn,
    rnn_start,
)
from engine.functional.recurrent import NONLINEARITIES
from engine.layers.base import Layer
from engine.layers.recurrent_cells import (
    LSTM_KERNEL,
    RNN_KERNEL,
    SEQ_IN,
    SEQ_OUT,
    STATE,
    WEIGHTS,
    CellKernel,
    norm,
    record_view,
)
from engine.trace import Trace

# A planned time step of a layer: (op, t, direction), as PlannedStep's fields.
TimeStep = tuple[str, int | None, str | None]
# What runs one planned step of a recurrent layer: (x or every dL/dh, trace) -> (the
# layer's output / dx when this step completes it, else None; the caption's values).
StepRunner = Callable[[np.ndarray, Trace], tuple[np.ndarray | None, dict[str, Any]]]


class RecurrentLayer(Layer):
    """Shared by RNN, LSTM and BiLSTM: sizes, parameters, shapes, description, and the
    protocol of a RecurrentNet's planned steps (`forward_plan`, `backward_plan`,
    `forward_runner`, `backward_runner`)."""

    in_axes = SEQ_IN
    out_axes = SEQ_OUT
    out_role: ClassVar[str] = "state"
    gates: ClassVar[int] = 1
    directions: ClassVar[int] = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        if self.input_size < 1 or self.hidden_size < 1:
            raise ValueError("input_size and hidden_size must be >= 1")
        self._back: Any = None

    def param_names(self) -> tuple[str, ...]:
        return WEIGHTS

    def init_params(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        rows, d, h = self.gates * self.hidden_size, self.input_size, self.hidden_size
        bound = 1.0 / np.sqrt(h)
        shapes = {"w_ih": (rows, d), "w_hh": (rows, h), "b_ih": (rows,), "b_hh": (rows,)}
        self.params = {
            k: rng.uniform(-bound, bound, shapes[k.removesuffix("_reverse")]).astype(dtype)
            for k in self.param_names()
        }

    def weights(self) -> list[np.ndarray]:
        return [self.params[k] for k in self.param_names()]

    def param_axes(self, key: str) -> tuple[str, ...]:
        base = key.removesuffix("_reverse")
        unit = "gate_unit" if self.gates > 1 else "unit"
        return {"w_ih": (unit, "feature"), "w_hh": (unit, "unit")}.get(base, (unit,))

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(in_shape) != 3 or in_shape[2] != self.input_size:
            raise ValueError(
                f"{self.name or self.op} expects (N, T, {self.input_size}) sequences; "
                f"got {in_shape}"
            )
        return (in_shape[0], in_shape[1], self.directions * self.hidden_size)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "input_size": self.input_size, "hidden_size": self.hidden_size}

    def describe(self) -> dict[str, Any]:
        steps = self._in_shape[1] if self._in_shape else 0
        return {"layer": self.name, "d": self.input_size, "h": self.hidden_size, "T": steps}

    def _record_start(self, trace: Trace, x: np.ndarray, states: dict[str, np.ndarray]) -> None:
        trace.record(f"{self.name}.in", "input", x, SEQ_IN)
        for key, p in self.params.items():
            trace.record(f"{self.name}.{key}", "param", p, self.param_axes(key))
        for key, s in states.items():
            axes = STATE if s.ndim == 2 else ("direction", *STATE)
            trace.record(f"{self.name}.{key}", "state", s, axes)

    def _record_grads(self, trace: Trace, grads: dict[str, np.ndarray]) -> None:
        trace.record(f"{self.name}.dx", "delta", grads["dx"], SEQ_IN)
        for key in ("dh0", "dc0"):
            if key in grads:
                axes = STATE if grads[key].ndim == 2 else ("direction", *STATE)
                trace.record(f"{self.name}.{key}", "delta", grads[key], axes)
        for key, g in self.grads.items():
            trace.record(f"{self.name}.d{key}", "grad", g, self.param_axes(key))

    def _set_grads(self, grads: dict[str, np.ndarray]) -> np.ndarray:
        self.grads = {k: grads[f"d{k}"] for k in self.param_names()}
        return grads["dx"]

    # --- the planned steps of a RecurrentNet (engine.stepper) --------------------
    def forward_plan(self, seq_len: int) -> list[TimeStep]:
        """The forward time steps (op, t, direction), in the order they run."""
        raise NotImplementedError

    def backward_plan(self, seq_len: int) -> list[TimeStep]:
        """The backward time steps (op, t, direction), in the order they run."""
        raise NotImplementedError

    def forward_runner(self, t: int | None, direction: str | None) -> StepRunner:
        """What runs the planned forward step (t, direction): x -> (the layer's output
        when this step completes it, else None; the caption values)."""
        raise NotImplementedError

    def backward_runner(self, t: int | None, direction: str | None) -> StepRunner:
        """What runs the planned backward step (t, direction): dL/dh of every step ->
        (dx when this step completes the layer's backward, else None; caption values)."""
        raise NotImplementedError


class CellLayer(RecurrentLayer):
    """A one-way recurrent layer, a cell stepped over time (RNN, LSTM): the stepping is
    written here once; a cell gives its functions (`kernel`), the op of its planned
    steps, how a pass starts (`_start`) and its initial states."""

    kernel: ClassVar[CellKernel]
    step_op: ClassVar[str]  # the op of a planned time step ("rnn_step", "lstm_step")

    def _start(self, x: np.ndarray) -> Any:
        """The cell's buffers for a pass over x (N, T, D), zero initial states."""
        raise NotImplementedError

    def _initial_states(self) -> dict[str, np.ndarray]:
        """h0 (and an LSTM's c0) of the started pass, (N, H)."""
        raise NotImplementedError

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return self._set_grads(self.kernel.backward(dout, cache))

    # --- one time step at a time (in the cell's own order s = 0 .. T-1) ----------
    def begin(self, x: np.ndarray) -> None:
        """Lay out a stepped pass over x (N, T, D); no step is run yet."""
        self._cache, self._in_shape, self._back = self._start(x), x.shape, None

    def run_step(self, s: int, trace: Trace, prefix: str) -> dict[str, float]:
        """Step s forward: compute, record `<prefix>.<what>`, return the caption values."""
        kernel = self.kernel
        kernel.step(self._cache, s)
        view = kernel.view(self._cache, s)
        record_view(trace, prefix, view, back=False)
        return kernel.summary(view)

    def outputs(self) -> np.ndarray:
        """Every h (N, T, H) once every step ran."""
        return self.kernel.outputs(self._cache)

    def begin_backward(self, dhs: np.ndarray) -> None:
        """The backward buffers, given dL/dh of every step (N, T, H)."""
        if self._cache is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        self._back = self.kernel.back_start(dhs, self._cache)

    def run_back_step(self, s: int, trace: Trace, prefix: str) -> dict[str, float]:
        """Step s in reverse: record its deltas and their norms ||dL/dh_t|| (and
        ||dL/dc_t||) under `prefix`; return the norms (the caption values)."""
        kernel = self.kernel
        kernel.back_step(self._cache, self._back, s)
        view = kernel.back_view(self._back, s)
        record_view(trace, prefix, view, back=True)
        values = {}
        for key in kernel.delta_norms:
            size = norm(view[key])
            trace.record(f"{prefix}.{key}_norm", "delta", size, ())
            values[f"{key}_norm"] = float(size)
        return values

    def finish_backward(self) -> dict[str, np.ndarray]:
        """The gradients once every step ran in reverse (self.grads set)."""
        grads = self.kernel.back_finish(self._cache, self._back)
        self._set_grads(grads)
        return grads

    # --- the planned steps: one per time step, no direction -----------------------
    def forward_plan(self, seq_len: int) -> list[TimeStep]:
        return [(self.step_op, t, None) for t in range(seq_len)]

    def backward_plan(self, seq_len: int) -> list[TimeStep]:
        return [(self.step_op, t, None) for t in reversed(range(seq_len))]

    def forward_runner(self, t: int | None, direction: str | None) -> StepRunner:
        assert t is not None and direction is None, (t, direction)
        return partial(self.forward_step, t)

    def backward_runner(self, t: int | None, direction: str | None) -> StepRunner:
        assert t is not None and direction is None, (t, direction)
        return partial(self.backward_step, t)

    def forward_step(
        self, t: int, x: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Time step t (0 first); returns (every h, N x T x H, after the last step, else
        None) and the caption values."""
        if t == 0:
            self.begin(x)
            self._record_start(trace, x, self._initial_states())
        values = self.run_step(t, trace, f"{self.name}.t{t}")
        out = None
        if t == x.shape[1] - 1:
            out = self.outputs()
            trace.record(f"{self.name}.out", "state", out, SEQ_OUT)
        return out, {**self.describe(), "t": t, **values}

    def backward_step(
        self, t: int, dhs: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Time step t in reverse (T-1 first) given dL/dh of every step; returns (dx after
        step 0, else None) and the caption values."""
        if self._cache is None or self._in_shape is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        if t == self._in_shape[1] - 1:
            self.begin_backward(dhs)
            trace.record(f"{self.name}.dout", "delta", dhs, SEQ_OUT)
        values = self.run_back_step(t, trace, f"{self.name}.t{t}")
        dx = None
        if t == 0:
            grads = self.finish_backward()
            self._record_grads(trace, grads)
            dx = grads["dx"]
        return dx, {**self.describe(), "t": t, **values}


class RNN(CellLayer):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), h0 = 0; out (N, T, H)."""

    op, prefix = "rnn", "rnn"
    kernel = RNN_KERNEL
    step_op = "rnn_step"

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh") -> None:
        super().__init__(input_size, hidden_size)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}; got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "nonlinearity": self.nonlinearity}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "nonlinearity": self.nonlinearity}

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        p = self.params
        return rnn(x, None, p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"], self.nonlinearity,
                   check_finite=False)  # fmt: skip

    def _start(self, x: np.ndarray) -> Any:
        p = self.params
        return rnn_start(x, None, p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"], self.nonlinearity,
                         check_finite=False)  # fmt: skip

    def _initial_states(self) -> dict[str, np.ndarray]:
        return {"h0": self._cache.hx[0, : self.hidden_size].T}


class LSTM(CellLayer):
    """An LSTM (gates i, f, g, o), h0 = c0 = 0; out (N, T, H).

    `forget_bias` is added to the forget gate's b_ih at initialisation (1.0 is the
    usual choice: the forget gate starts mostly open, so the cell state, and its
    gradient, carry over many steps from the start)."""

    op, prefix = "lstm", "lstm"
    gates = 4
    kernel = LSTM_KERNEL
    step_op = "lstm_step"

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 0.0) -> None:
        super().__init__(input_size, hidden_size)
        self.forget_bias = float(forget_bias)

    def init_params(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        super().init_params(rng, dtype)
        h = self.hidden_size
        for key in self.param_names():
            if key.startswith("b_ih"):
                self.params[key][h : 2 * h] += dtype.type(self.forget_bias)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "forget_bias": self.forget_bias}

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return lstm(x, None, None, *self.weights(), check_finite=False)

    def _start(self, x: np.ndarray) -> Any:
        return lstm_start(x, None, None, *self.weights(), check_finite=False)

    def _initial_states(self) -> dict[str, np.ndarray]:
        return {"h0": self._cache.h[0].T, "c0": self._cache.c[0].T}
