"""Input checks for the recurrent functions (RNN, LSTM, BiLSTM).

Each raises ValueError naming the argument, the expected shape (in the
PyTorch layout) and what arrived.
"""

from __future__ import annotations

import numpy as np

from engine.functional._validate import as_float, check_finite, common_dtype

GATE_NAMES = {1: "the hidden state", 4: "the gates i, f, g, o"}


def check_sequence(x: object) -> np.ndarray:
    """x as a float array (N, T, D) with at least one sample, step and feature."""
    x = as_float(x, "x", 3, "(N, T, D): batch, time steps, features")
    n, t, d = x.shape
    if t == 0:
        raise ValueError(f"x has T = 0 time steps (shape {x.shape}); a sequence needs at least one")
    if n == 0 or d == 0:
        raise ValueError(f"x has an empty batch or feature axis: shape {x.shape} (N, T, D)")
    return x


def check_cell(
    x: object,
    states: dict[str, object],
    w_ih: object,
    w_hh: object,
    b_ih: object,
    b_hh: object,
    gates: int,
    finite: bool,
    lead: tuple[int, ...] = (),
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked (x, states, w_ih, w_hh, b_ih, b_hh), all of one dtype.

    `gates` is 1 for an RNN and 4 for an LSTM: w_ih (gates*H, D), w_hh (gates*H, H),
    biases (gates*H,). `states` maps a name ("h0", "c0") to an (N, H) array or None
    (zeros); `lead` is prepended to the state shape (BiLSTM: (2,) for the directions).
    """
    x = check_sequence(x)
    n, _, d = x.shape
    w_ih = as_float(w_ih, "w_ih", 2, "(gates*H, D)")
    w_hh = as_float(w_hh, "w_hh", 2, "(gates*H, H)")
    hidden = w_hh.shape[1]
    rows = gates * hidden
    what = GATE_NAMES[gates]
    if hidden == 0 or w_hh.shape[0] != rows:
        raise ValueError(
            f"w_hh must have shape ({gates}*H, H) = {(rows, hidden)} for {what}; got {w_hh.shape}"
        )
    if w_ih.shape[0] != rows:
        raise ValueError(
            f"w_ih must have {rows} rows ({gates}*H for {what}, H = {hidden} from w_hh); "
            f"got shape {w_ih.shape}"
        )
    if w_ih.shape[1] != d:
        raise ValueError(
            f"feature mismatch: x has D = {d} features per step but w_ih expects "
            f"{w_ih.shape[1]} (w_ih shape {w_ih.shape})"
        )
    b_ih = as_float(b_ih, "b_ih", 1, f"({rows},)")
    b_hh = as_float(b_hh, "b_hh", 1, f"({rows},)")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b.shape != (rows,):
            raise ValueError(f"{name} must have shape ({rows},) ({gates}*H); got {b.shape}")
    want = (*lead, n, hidden)
    checked: dict[str, np.ndarray] = {}
    for name, s in states.items():
        if s is None:
            continue
        s = as_float(s, name)
        if s.shape != want:
            axes = "(directions, N, H)" if lead else "(N, H)"
            raise ValueError(f"{name} must have shape {want} {axes}; got {s.shape}")
        checked[name] = s
    arrays = (x, w_ih, w_hh, b_ih, b_hh, *checked.values())
    if finite:
        names = ("x", "w_ih", "w_hh", "b_ih", "b_hh", *checked)
        for name, a in zip(names, arrays, strict=True):
            check_finite(a, name)
    dt = common_dtype(*arrays)
    full = {k: (np.zeros(want, dt) if k not in checked else checked[k]) for k in states}
    return (
        x.astype(dt, copy=False),
        {k: v.astype(dt, copy=False) for k, v in full.items()},
        w_ih.astype(dt, copy=False),
        w_hh.astype(dt, copy=False),
        b_ih.astype(dt, copy=False),
        b_hh.astype(dt, copy=False),
    )


def check_dhs(dhs: object, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The upstream gradient w.r.t. every hidden state, exactly `shape`."""
    dhs = as_float(dhs, "dhs")
    if dhs.shape != tuple(shape):
        raise ValueError(
            f"dhs must have the outputs' shape {tuple(shape)} (N, T, H); got {dhs.shape}"
        )
    return dhs.astype(dtype, copy=False)
