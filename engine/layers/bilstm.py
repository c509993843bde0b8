"""The bidirectional LSTM layer, made of two LSTMs: a forward LSTM over x_0 .. x_{T-1}
and a backward LSTM over the same sequence reversed in time, their outputs
concatenated, (N, T, 2H) (as engine.functional.bilstm).

Parameter names follow PyTorch: the forward LSTM's w_ih, w_hh, b_ih, b_hh and the
backward LSTM's w_ih_reverse, ... (torch's weight_ih_l0_reverse). The layer keeps
them under these names (what updates, weights files and torch read and write) and
hands each LSTM its four when a pass starts.
Trace names per direction: `bilstm1.fwd.t3.h`, `bilstm1.bwd.t3.h`, where t is
the time position: the backward LSTM reads x_{T-1} first, so its steps run
t = T-1 down to 0 (and, in backpropagation, 0 up to T-1).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from engine.functional import bilstm_merge
from engine.functional.bilstm import DIRECTIONS
from engine.layers.recurrent import LSTM, RecurrentLayer, StepRunner, TimeStep
from engine.layers.recurrent_cells import SEQ_OUT, WEIGHTS
from engine.trace import Trace

REVERSE = tuple(f"{w}_reverse" for w in WEIGHTS)
CONCAT_OP = "bilstm_concat"
STEP_OPS = {"fwd": "lstm_fwd_step", "bwd": "lstm_bwd_step"}


class BiLSTM(RecurrentLayer):
    """A forward and a backward LSTM of hidden size H each; out (N, T, 2H)."""

    op, prefix = "bilstm", "bilstm"
    gates = 4
    directions = 2

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 0.0) -> None:
        super().__init__(input_size, hidden_size)
        self.forget_bias = float(forget_bias)
        self.fwd = LSTM(input_size, hidden_size, forget_bias)
        self.bwd = LSTM(input_size, hidden_size, forget_bias)
        self.cells = {"fwd": self.fwd, "bwd": self.bwd}

    def param_names(self) -> tuple[str, ...]:
        return WEIGHTS + REVERSE

    def init_params(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        """Each LSTM draws its own (the forward one first), as torch does."""
        self.fwd.init_params(rng, dtype)
        self.bwd.init_params(rng, dtype)
        self.params = {**self.fwd.params, **_reversed_names(self.bwd.params)}

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "forget_bias": self.forget_bias}

    def _give_weights(self) -> None:
        """Each LSTM gets its four current parameters (updates replace the arrays)."""
        params = self.params
        self.fwd.params = {k: params[k] for k in WEIGHTS}
        self.bwd.params = {k: params[r] for k, r in zip(WEIGHTS, REVERSE, strict=True)}

    # --- the whole sequence -------------------------------------------------------
    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        self._give_weights()
        hf, cache_f = self.fwd._forward(x)
        hb, cache_b = self.bwd._forward(x[:, ::-1])
        return np.concatenate([hf, hb[:, ::-1]], axis=2), (cache_f, cache_b)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        hid, (cache_f, cache_b) = self.hidden_size, cache
        fwd = self.fwd.kernel.backward(dout[:, :, :hid], cache_f)
        bwd = self.bwd.kernel.backward(dout[:, ::-1, hid:], cache_b)
        return self._set_grads(bilstm_merge(fwd, bwd))

    # --- the planned steps: each direction in its own order, then the concatenation
    def forward_plan(self, seq_len: int) -> list[TimeStep]:
        steps = range(seq_len)
        return [
            *((STEP_OPS["fwd"], t, "fwd") for t in steps),
            *((STEP_OPS["bwd"], t, "bwd") for t in reversed(steps)),
            (CONCAT_OP, None, None),
        ]

    def backward_plan(self, seq_len: int) -> list[TimeStep]:
        steps = range(seq_len)
        return [
            *((STEP_OPS["fwd"], t, "fwd") for t in reversed(steps)),
            *((STEP_OPS["bwd"], t, "bwd") for t in steps),
        ]

    def forward_runner(self, t: int | None, direction: str | None) -> StepRunner:
        """A direction's step at time t; the step with neither (after both directions'
        steps) concatenates their states."""
        if t is None and direction is None:
            return self.concat_step
        assert t is not None and direction in DIRECTIONS, (t, direction)
        return partial(self.forward_step, direction, t)

    def backward_runner(self, t: int | None, direction: str | None) -> StepRunner:
        assert t is not None and direction in DIRECTIONS, (t, direction)
        return partial(self.backward_step, direction, t)

    def forward_step(
        self, direction: str, t: int, x: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Direction "fwd" at time t (0 first), then "bwd" at time t (T-1 first); the
        layer's output comes from the concatenation (`concat_step`), so None, and the
        caption values."""
        t_len = x.shape[1]
        if direction == "fwd" and t == 0:
            self._begin(x, trace)
        cell = self.cells[direction]
        s = t if direction == "fwd" else t_len - 1 - t  # the LSTM's own step order
        values = cell.run_step(s, trace, f"{self.name}.{direction}.t{t}")
        if s == t_len - 1:
            out = cell.outputs()
            out = out if direction == "fwd" else out[:, ::-1]
            trace.record(f"{self.name}.{direction}.out", "state", out, SEQ_OUT)
        return None, {**self.describe(), "t": t, **values}

    def _begin(self, x: np.ndarray, trace: Trace) -> None:
        """Start both LSTMs (the backward one on x reversed in time); record the input,
        the parameters and the zero initial states (2, N, H)."""
        self._give_weights()
        self.fwd.begin(x)
        self.bwd.begin(x[:, ::-1])
        # The LSTMs hold the pass; the layer's cache only says one was started.
        self._cache, self._in_shape, self._back = (self.fwd, self.bwd), x.shape, None
        states = np.zeros((2, x.shape[0], self.hidden_size), x.dtype)
        # One zero array for both (the payload sends c0 as the same array as h0).
        self._record_start(trace, x, {"h0": states, "c0": states})

    def concat_step(self, x: np.ndarray, trace: Trace) -> tuple[np.ndarray, dict[str, Any]]:
        """Both directions' states side by side: out (N, T, 2H)."""
        out = np.concatenate([self.fwd.outputs(), self.bwd.outputs()[:, ::-1]], axis=2)
        trace.record(f"{self.name}.out", "state", out, SEQ_OUT)
        return out, self.describe()

    def backward_step(
        self, direction: str, t: int, dhs: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Direction "fwd" at time t (T-1 first), then "bwd" at time t (0 first), given
        dL/dh of every step (N, T, 2H); returns (dx after the very last step, else None)
        and the caption values."""
        if self._cache is None or self._in_shape is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        t_len, hid = self._in_shape[1], self.hidden_size
        if direction == "fwd" and t == t_len - 1:
            self.fwd.begin_backward(dhs[:, :, :hid])
            self.bwd.begin_backward(dhs[:, ::-1, hid:])
            trace.record(f"{self.name}.dout", "delta", dhs, SEQ_OUT)
        cell = self.cells[direction]
        s = t if direction == "fwd" else t_len - 1 - t
        values = cell.run_back_step(s, trace, f"{self.name}.{direction}.t{t}")
        dx = None
        if direction == "bwd" and s == 0:  # the last step of both
            grads = bilstm_merge(self.fwd.finish_backward(), self.bwd.finish_backward())
            dx = self._set_grads(grads)
            self._record_grads(trace, grads)
        return dx, {**self.describe(), "t": t, **values}


def _reversed_names(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The backward LSTM's parameters under torch's `_reverse` names."""
    return {f"{k}_reverse": v for k, v in params.items()}
