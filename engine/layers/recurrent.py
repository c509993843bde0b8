"""Recurrent layers: thin wrappers over engine.functional's RNN and LSTM.

Each layer runs in two ways with the same functions, so the numbers agree
exactly:
- whole sequence (`forward` / `backward`, as every Layer): what training and a
  Sequential use;
- one time step at a time (`forward_step` / `backward_step`): what the stepped
  pass of a RecurrentNet uses; each step records its tensors under
  `<layer>.t<t>.<what>` (e.g. `lstm1.t3.f`, `lstm1.t3.dh`).

Parameters in PyTorch's layout and names: w_ih, w_hh, b_ih, b_hh (LSTM gates
stacked i, f, g, o), drawn from U(-1/sqrt(H), 1/sqrt(H)) as PyTorch does.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from engine.functional import (
    lstm,
    lstm_backward,
    lstm_backward_finish,
    lstm_backward_start,
    lstm_backward_step,
    lstm_backward_view,
    lstm_outputs,
    lstm_start,
    lstm_step,
    lstm_view,
    rnn,
    rnn_backward,
    rnn_backward_finish,
    rnn_backward_start,
    rnn_backward_step,
    rnn_backward_view,
    rnn_outputs,
    rnn_start,
    rnn_step,
    rnn_view,
)
from engine.functional.recurrent import NONLINEARITIES
from engine.layers.base import Layer
from engine.trace import Trace

SEQ_IN = ("sample", "time", "feature")
SEQ_OUT = ("sample", "time", "unit")
STATE = ("sample", "unit")
WEIGHTS = ("w_ih", "w_hh", "b_ih", "b_hh")
# Roles of a step's tensors (engine.trace.ROLES); the candidate g is signed, not a gate in [0, 1].
STEP_ROLES = {
    "x": "input", "h_prev": "state", "c_prev": "state", "pre": "preact",
    "i": "gate", "f": "gate", "g": "activation", "o": "gate",
    "i_pre": "preact", "f_pre": "preact", "g_pre": "preact", "o_pre": "preact",
    "c": "state", "tanh_c": "activation", "h": "state",
}  # fmt: skip
SKIP_BACK = ("dh_prev", "dc_prev")  # recorded by the step before as its dh_next / dc_next


def record_view(trace: Trace, prefix: str, view: dict[str, np.ndarray], back: bool) -> None:
    """Record one step's tensors as `<prefix>.<key>`."""
    for key, arr in view.items():
        if back and key in SKIP_BACK:
            continue
        role = "delta" if back else STEP_ROLES[key]
        trace.record(f"{prefix}.{key}", role, arr, ("sample", "feature") if key == "x" else STATE)


def norm(a: np.ndarray) -> np.ndarray:
    """||a|| over the whole batch, as a 0-d array of a's dtype (0, inf or NaN as they are).

    Computed in float64 and scaled by the largest |a_i| before squaring: a float32
    gradient of norm 1e-25 has squares of 1e-50, which underflow to 0 (a norm of 0
    for a gradient that is not), and squares of 1e20 overflow float32."""
    v = np.abs(a.reshape(-1).astype(np.float64))
    top = v.max(initial=0.0)
    if top == 0 or not np.isfinite(top):
        return np.asarray(top, dtype=a.dtype)
    v /= top
    return np.asarray(top * np.sqrt(np.dot(v, v)), dtype=a.dtype)


class RecurrentLayer(Layer):
    """Shared by RNN, LSTM and BiLSTM: sizes, parameters, shapes, description."""

    in_axes: ClassVar[tuple[str, ...]] = SEQ_IN
    out_axes: ClassVar[tuple[str, ...]] = SEQ_OUT
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
            trace.record(f"{self.name}.{key}", "state", s, STATE)

    def _record_grads(self, trace: Trace, grads: dict[str, np.ndarray]) -> None:
        trace.record(f"{self.name}.dx", "delta", grads["dx"], SEQ_IN)
        for key in ("dh0", "dc0"):
            if key in grads:
                axes = STATE if grads[key].ndim == 2 else ("direction", *STATE)
                trace.record(f"{self.name}.{key}", "delta", grads[key], axes)
        for key, g in self.grads.items():
            trace.record(f"{self.name}.d{key}", "grad", g, self.param_axes(key))


class RNN(RecurrentLayer):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), h0 = 0; out (N, T, H)."""

    op, prefix = "rnn", "rnn"

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
        return rnn(x, None, *self.weights(), self.nonlinearity, check_finite=False)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        grads = rnn_backward(dout, cache)
        self.grads = {k: grads[f"d{k}"] for k in WEIGHTS}
        return grads["dx"]

    def forward_step(
        self, t: int, x: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Time step t (0 first); returns (every h, N x T x H, after the last step, else
        None) and the caption values."""
        if t == 0:
            self._cache = rnn_start(x, None, *self.weights(), self.nonlinearity, check_finite=False)
            self._in_shape = x.shape
            self._record_start(trace, x, {"h0": self._cache.hx[0, : self.hidden_size].T})
        rnn_step(self._cache, t)
        view = rnn_view(self._cache, t)
        record_view(trace, f"{self.name}.t{t}", view, back=False)
        out = None
        if t == x.shape[1] - 1:
            out = rnn_outputs(self._cache)
            trace.record(f"{self.name}.out", "state", out, SEQ_OUT)
        return out, {**self.describe(), "t": t, "h_mean": float(np.abs(view["h"]).mean())}

    def backward_step(
        self, t: int, dhs: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Time step t in reverse (T-1 first) given dL/dh of every step; returns (dx after
        step 0, else None) and the caption values."""
        if self._cache is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        if t == self._cache.z.shape[0] - 1:
            self._back = rnn_backward_start(dhs, self._cache)
            trace.record(f"{self.name}.dout", "delta", dhs, SEQ_OUT)
        rnn_backward_step(self._cache, self._back, t)
        view = rnn_backward_view(self._back, t)
        record_view(trace, f"{self.name}.t{t}", view, back=True)
        dh_norm = norm(view["dh"])
        trace.record(f"{self.name}.t{t}.dh_norm", "delta", dh_norm, ())
        dx = None
        if t == 0:
            grads = rnn_backward_finish(self._cache, self._back)
            self.grads = {k: grads[f"d{k}"] for k in WEIGHTS}
            self._record_grads(trace, grads)
            dx = grads["dx"]
        return dx, {**self.describe(), "t": t, "dh_norm": float(dh_norm)}


class LSTM(RecurrentLayer):
    """An LSTM (gates i, f, g, o), h0 = c0 = 0; out (N, T, H).

    `forget_bias` is added to the forget gate's b_ih at initialisation (1.0 is the
    usual choice: the forget gate starts mostly open, so the cell state, and its
    gradient, carry over many steps from the start)."""

    op, prefix = "lstm", "lstm"
    gates = 4

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

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        grads = lstm_backward(dout, cache)
        self.grads = {k: grads[f"d{k}"] for k in WEIGHTS}
        return grads["dx"]

    def forward_step(
        self, t: int, x: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Time step t (0 first); returns (every h after the last step, else None) and
        the caption values."""
        if t == 0:
            self._cache = lstm_start(x, None, None, *self.weights(), check_finite=False)
            self._in_shape = x.shape
            h0, c0 = self._cache.h[0].T, self._cache.c[0].T
            self._record_start(trace, x, {"h0": h0, "c0": c0})
        lstm_step(self._cache, t)
        view = lstm_view(self._cache, t)
        record_view(trace, f"{self.name}.t{t}", view, back=False)
        out = None
        if t == x.shape[1] - 1:
            out = lstm_outputs(self._cache)
            trace.record(f"{self.name}.out", "state", out, SEQ_OUT)
        return out, {**self.describe(), "t": t, **gate_means(view)}

    def backward_step(
        self, t: int, dhs: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Time step t in reverse (T-1 first) given dL/dh of every step; returns (dx after
        step 0, else None) and the caption values."""
        if self._cache is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        if t == self._cache.tc.shape[0] - 1:
            self._back = lstm_backward_start(dhs, self._cache)
            trace.record(f"{self.name}.dout", "delta", dhs, SEQ_OUT)
        lstm_backward_step(self._cache, self._back, t)
        values = record_lstm_deltas(trace, f"{self.name}.t{t}", lstm_backward_view(self._back, t))
        dx = None
        if t == 0:
            grads = lstm_backward_finish(self._cache, self._back)
            self.grads = {k: grads[f"d{k}"] for k in WEIGHTS}
            self._record_grads(trace, grads)
            dx = grads["dx"]
        return dx, {**self.describe(), "t": t, **values}


def gate_means(view: dict[str, np.ndarray]) -> dict[str, float]:
    """The mean of each gate over the batch and units (caption values)."""
    return {f"{k}_mean": float(view[k].mean()) for k in ("i", "f", "o")}


def record_lstm_deltas(trace: Trace, prefix: str, view: dict[str, np.ndarray]) -> dict[str, float]:
    """Record an LSTM step's deltas and the norms ||dL/dh_t||, ||dL/dc_t||."""
    record_view(trace, prefix, view, back=True)
    dh_norm, dc_norm = norm(view["dh"]), norm(view["dc"])
    trace.record(f"{prefix}.dh_norm", "delta", dh_norm, ())
    trace.record(f"{prefix}.dc_norm", "delta", dc_norm, ())
    return {"dh_norm": float(dh_norm), "dc_norm": float(dc_norm)}
