"""The bidirectional LSTM layer: a forward LSTM and a backward LSTM over the same
sequence, outputs concatenated (N, T, 2H) (engine.functional.bilstm).

Parameter names follow PyTorch: the forward direction's w_ih, w_hh, b_ih, b_hh
and the backward direction's w_ih_reverse, ... (torch's weight_ih_l0_reverse).
Trace names per direction: `bilstm1.fwd.t3.h`, `bilstm1.bwd.t3.h`, where t is
the time position: the backward direction reads x_{T-1} first, so its steps run
t = T-1 down to 0 (and, in backpropagation, 0 up to T-1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.functional import (
    bilstm,
    bilstm_backward,
    bilstm_merge,
    bilstm_outputs,
    bilstm_split,
    bilstm_start,
    lstm_backward_finish,
    lstm_backward_start,
    lstm_backward_step,
    lstm_backward_view,
    lstm_outputs,
    lstm_step,
    lstm_view,
)
from engine.layers.recurrent import (
    LSTM,
    SEQ_OUT,
    STATE,
    WEIGHTS,
    gate_means,
    record_lstm_deltas,
    record_view,
)
from engine.trace import Trace

REVERSE = tuple(f"{w}_reverse" for w in WEIGHTS)


class BiLSTM(LSTM):
    """Forward and backward LSTMs of hidden size H each; out (N, T, 2H)."""

    op, prefix = "bilstm", "bilstm"
    directions = 2

    def param_names(self) -> tuple[str, ...]:
        return WEIGHTS + REVERSE

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return bilstm(x, None, None, *self.weights(), check_finite=False)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return self._set_grads(bilstm_backward(dout, cache))

    def _set_grads(self, grads: dict[str, np.ndarray]) -> np.ndarray:
        self.grads = {k: grads[f"d{k}"] for k in self.param_names()}
        return grads["dx"]

    def forward_step(
        self, direction: str, t: int, x: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Direction "fwd" at time t (0 first), then "bwd" at time t (T-1 first); returns
        (that direction's states, N x T x H, after its last step, else None) and the
        caption values."""
        t_len = x.shape[1]
        if direction == "fwd" and t == 0:
            self._cache = bilstm_start(x, None, None, *self.weights(), check_finite=False)
            self._in_shape = x.shape
            states = np.zeros((2, x.shape[0], self.hidden_size), x.dtype)
            trace.record(f"{self.name}.in", "input", x, self.in_axes)
            for key, p in self.params.items():
                trace.record(f"{self.name}.{key}", "param", p, self.param_axes(key))
            for key in ("h0", "c0"):
                trace.record(f"{self.name}.{key}", "state", states, ("direction", *STATE))
        cache = getattr(self._cache, direction)
        s = t if direction == "fwd" else t_len - 1 - t
        lstm_step(cache, s)
        view = lstm_view(cache, s)
        record_view(trace, f"{self.name}.{direction}.t{t}", view, back=False)
        out = None
        if s == t_len - 1:
            out = lstm_outputs(cache)
            out = out if direction == "fwd" else out[:, ::-1]
            trace.record(f"{self.name}.{direction}.out", "state", out, SEQ_OUT)
        return out, {**self.describe(), "t": t, **gate_means(view)}

    def concat_step(self, trace: Trace) -> tuple[np.ndarray, dict[str, Any]]:
        """Both directions' states side by side: out (N, T, 2H)."""
        out = bilstm_outputs(self._cache)
        trace.record(f"{self.name}.out", "state", out, SEQ_OUT)
        return out, self.describe()

    def backward_step(
        self, direction: str, t: int, dhs: np.ndarray, trace: Trace
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Direction "fwd" at time t (T-1 first), then "bwd" at time t (0 first), given
        dL/dh of every step (N, T, 2H); returns (dx after the very last step, else None)
        and the caption values."""
        if self._cache is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        t_len = self._cache.fwd.tc.shape[0]
        if direction == "fwd" and t == t_len - 1:
            split = bilstm_split(dhs, self._cache)
            self._back = {
                d: lstm_backward_start(part, getattr(self._cache, d))
                for d, part in zip(("fwd", "bwd"), split, strict=True)
            }
            self._back["grads"] = {}
            trace.record(f"{self.name}.dout", "delta", dhs, SEQ_OUT)
        cache, back = getattr(self._cache, direction), self._back[direction]
        s = t if direction == "fwd" else t_len - 1 - t
        lstm_backward_step(cache, back, s)
        prefix = f"{self.name}.{direction}.t{t}"
        values = record_lstm_deltas(trace, prefix, lstm_backward_view(back, s))
        dx = None
        if s == 0:
            self._back["grads"][direction] = lstm_backward_finish(cache, back)
            if direction == "bwd":
                grads = bilstm_merge(self._back["grads"]["fwd"], self._back["grads"]["bwd"])
                dx = self._set_grads(grads)
                self._record_grads(trace, grads)
        return dx, {**self.describe(), "t": t, **values}
