"""What an RNN and an LSTM cell do at one time step, as the shared stepping in
engine.layers.recurrent calls them: each cell's functions (a CellKernel over
engine.functional), the roles of a step's tensors, how a step records them, and the
norm of a delta (the gradient chart's ||dL/dh_t||)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.functional import (
    lstm_backward,
    lstm_backward_finish,
    lstm_backward_start,
    lstm_backward_step,
    lstm_backward_view,
    lstm_outputs,
    lstm_step,
    lstm_view,
    rnn_backward,
    rnn_backward_finish,
    rnn_backward_start,
    rnn_backward_step,
    rnn_backward_view,
    rnn_outputs,
    rnn_step,
    rnn_view,
)
from engine.trace import Trace

SEQ_IN = ("sample", "time", "feature")
SEQ_OUT = ("sample", "time", "unit")
STATE = ("sample", "unit")
WEIGHTS = ("w_ih", "w_hh", "b_ih", "b_hh")
# Roles of a step's tensors (engine.trace.ROLES); the candidate g is signed, not a gate in
# [0, 1]; c_t's two terms, fc = f c_(t-1) and ig = i g, are signed values computed on the way
# to c (not "partial": that role's maps are left out of a step's response).
STEP_ROLES = {
    "x": "input", "h_prev": "state", "c_prev": "state", "pre": "preact",
    "i": "gate", "f": "gate", "g": "activation", "o": "gate",
    "i_pre": "preact", "f_pre": "preact", "g_pre": "preact", "o_pre": "preact",
    "fc": "activation", "ig": "activation",
    "c": "state", "tanh_c": "activation", "h": "state",
}  # fmt: skip
# The per-time-step scalars a backward pass records (<layer>.t<t>.dh_norm, ...): the
# gradient chart's series, ||dL/dh_t|| and, for an LSTM, ||dL/dc_t||.
STEP_SERIES = ("dh_norm", "dc_norm")
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


@dataclass(frozen=True)
class CellKernel:
    """A cell's functions (engine.functional), what the shared stepping calls: one
    time step forward on the cache, its tensors as (N, ...) views, every h after the
    last step; backward: the buffers, one step in reverse, its deltas, the weight
    gradients; the whole-sequence backward; the caption values of a forward step;
    the deltas whose norms a backward step records."""

    step: Callable[[Any, int], None]
    view: Callable[[Any, int], dict[str, np.ndarray]]
    outputs: Callable[[Any], np.ndarray]
    back_start: Callable[[np.ndarray, Any], Any]
    back_step: Callable[[Any, Any, int], None]
    back_view: Callable[[Any, int], dict[str, np.ndarray]]
    back_finish: Callable[[Any, Any], dict[str, np.ndarray]]
    backward: Callable[[np.ndarray, Any], dict[str, np.ndarray]]
    summary: Callable[[dict[str, np.ndarray]], dict[str, float]]
    delta_norms: tuple[str, ...]


def h_mean(view: dict[str, np.ndarray]) -> dict[str, float]:
    """The mean |h_t| over the batch and units (an RNN step's caption value)."""
    return {"h_mean": float(np.abs(view["h"]).mean())}


def gate_means(view: dict[str, np.ndarray]) -> dict[str, float]:
    """The mean of each gate over the batch and units (an LSTM step's caption values)."""
    return {f"{k}_mean": float(view[k].mean()) for k in ("i", "f", "o")}


RNN_KERNEL = CellKernel(
    rnn_step, rnn_view, rnn_outputs, rnn_backward_start, rnn_backward_step,
    rnn_backward_view, rnn_backward_finish, rnn_backward, h_mean, ("dh",),
)  # fmt: skip
LSTM_KERNEL = CellKernel(
    lstm_step, lstm_view, lstm_outputs, lstm_backward_start, lstm_backward_step,
    lstm_backward_view, lstm_backward_finish, lstm_backward, gate_means, ("dh", "dc"),
)  # fmt: skip
