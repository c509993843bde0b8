"""The bidirectional LSTM: a forward LSTM over x_0 .. x_{T-1} and a backward LSTM
over x_{T-1} .. x_0, their hidden states concatenated at each time step:

    hs[:, t] = [h_fwd_t ; h_bwd_t]   (N, T, 2H)

where h_bwd_t is the backward LSTM's state after reading x_{T-1} .. x_t. This is
torch.nn.LSTM(bidirectional=True, batch_first=True): h0, c0 are (2, N, H)
(forward direction first), and the backward direction's weights are PyTorch's
`*_reverse` ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.functional._seq_checks import check_cell, check_dhs
from engine.functional._validate import common_dtype
from engine.functional.recurrent_lstm import (
    LSTMCache,
    lstm_backward,
    lstm_outputs,
    lstm_start_checked,
    lstm_steps,
)

DIRECTIONS = ("fwd", "bwd")


@dataclass
class BiLSTMCache:
    """The two directions' forward passes; `bwd` ran over x reversed in time, so its
    step s read x_{T-1-s}."""

    fwd: LSTMCache
    bwd: LSTMCache


def bilstm_start(
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    w_ih_reverse: np.ndarray,
    w_hh_reverse: np.ndarray,
    b_ih_reverse: np.ndarray,
    b_hh_reverse: np.ndarray,
    *,
    check_finite: bool = True,
) -> BiLSTMCache:
    """Check the inputs and lay out both directions' buffers; no step is run yet."""
    x, st, *fwd = check_cell(x, {"h0": h0, "c0": c0}, w_ih, w_hh, b_ih, b_hh, 4, check_finite, (2,))
    try:
        _, _, *rev = check_cell(
            x, {}, w_ih_reverse, w_hh_reverse, b_ih_reverse, b_hh_reverse, 4, check_finite
        )
    except ValueError as exc:
        raise ValueError(f"backward direction (the *_reverse weights): {exc}") from None
    for name, f, r in zip(("w_ih", "w_hh", "b_ih", "b_hh"), fwd, rev, strict=True):
        if r.shape != f.shape:
            raise ValueError(f"{name}_reverse must have {name}'s shape {f.shape}; got {r.shape}")
    dt = common_dtype(x, *fwd, *rev)
    x, *fwd = (a.astype(dt, copy=False) for a in (x, *fwd))
    rev = [a.astype(dt, copy=False) for a in rev]
    h, c = st["h0"].astype(dt, copy=False), st["c0"].astype(dt, copy=False)
    return BiLSTMCache(
        lstm_start_checked(x, h[0], c[0], *fwd),
        lstm_start_checked(x[:, ::-1], h[1], c[1], *rev),
    )


def bilstm_outputs(cache: BiLSTMCache) -> np.ndarray:
    """hs (N, T, 2H): at each t the forward state, then the backward one."""
    return np.concatenate([lstm_outputs(cache.fwd), lstm_outputs(cache.bwd)[:, ::-1]], axis=2)


def bilstm(
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    w_ih_reverse: np.ndarray,
    w_hh_reverse: np.ndarray,
    b_ih_reverse: np.ndarray,
    b_hh_reverse: np.ndarray,
    *,
    check_finite: bool = True,
) -> tuple[np.ndarray, BiLSTMCache]:
    """hs (N, T, 2H) of a bidirectional LSTM over x (N, T, D); h0, c0 (2, N, H) or None;
    each direction's weights as in `lstm` (w_ih (4H, D), w_hh (4H, H), biases (4H,))."""
    cache = bilstm_start(
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_ih_reverse, w_hh_reverse, b_ih_reverse,
        b_hh_reverse, check_finite=check_finite,
    )  # fmt: skip
    lstm_steps(cache.fwd)  # the directions are independent: one after the other
    lstm_steps(cache.bwd)
    return bilstm_outputs(cache), cache


def bilstm_split(dhs: np.ndarray, cache: BiLSTMCache) -> tuple[np.ndarray, np.ndarray]:
    """dhs (N, T, 2H) as each direction's upstream gradient in its own step order."""
    t_len, hid, n = cache.fwd.tc.shape
    dhs = check_dhs(dhs, (n, t_len, 2 * hid), cache.fwd.a.dtype)
    return dhs[:, :, :hid], dhs[:, ::-1, hid:]


def bilstm_merge(fwd: dict[str, np.ndarray], bwd: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Both directions' gradients as one mapping: dx summed (the backward one turned
    back into time order), dh0 and dc0 stacked (2, N, H), weights with `_reverse`,
    dh and dc concatenated (N, T, 2H) in time order."""
    out = {
        "dx": fwd["dx"] + bwd["dx"][:, ::-1],
        "dh0": np.stack([fwd["dh0"], bwd["dh0"]]),
        "dc0": np.stack([fwd["dc0"], bwd["dc0"]]),
        "dh": np.concatenate([fwd["dh"], bwd["dh"][:, ::-1]], axis=2),
        "dc": np.concatenate([fwd["dc"], bwd["dc"][:, ::-1]], axis=2),
    }
    for key in ("dw_ih", "dw_hh", "db_ih", "db_hh"):
        out[key], out[f"{key}_reverse"] = fwd[key], bwd[key]
    return out


def bilstm_backward(dhs: np.ndarray, cache: BiLSTMCache) -> dict[str, np.ndarray]:
    """BPTT through both directions: {dx, dh0, dc0 (2, N, H), dw_ih, dw_hh, db_ih,
    db_hh, dw_ih_reverse, dw_hh_reverse, db_ih_reverse, db_hh_reverse} and dh, dc
    (N, T, 2H)."""
    dhs_fwd, dhs_bwd = bilstm_split(dhs, cache)
    return bilstm_merge(lstm_backward(dhs_fwd, cache.fwd), lstm_backward(dhs_bwd, cache.bwd))
