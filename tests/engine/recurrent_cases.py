"""Deterministic random cases for the recurrent PyTorch comparison (torch.nn.RNN,
torch.nn.LSTM, torch.nn.LSTM(bidirectional=True)): the golden file's generator
(tests/engine/golden/make_golden_recurrent.py), the golden test and the live
test share them, with the engine side of every comparison.

N 1-4, T 1-12, D 1-6, H 1-8, non-zero h0 (and c0), weights drawn as PyTorch
draws them (U(-1/sqrt(H), 1/sqrt(H))); an RNN is tanh or (a third of the cases)
relu. Values are exactly representable in float32 (see torch_cases.f32_exact).
No torch here.

Why not larger weights: deep in a tanh's saturation its slope 1 - h² has a
float32 relative error of eps / (1 - h²) (6e-4 at |z| = 5), so a gradient through
such a step cannot be within 1e-5 of the float64 one in either library (torch's
own float32 result was 9e-5 off on such a case). Saturation is checked in
float64, where it is well within 1e-10 (test_recurrent.py's gradient checks).
"""

from __future__ import annotations

import numpy as np

from engine.functional import bilstm, bilstm_backward, lstm, lstm_backward, rnn, rnn_backward
from tests.engine.torch_cases import f32_exact

KINDS = ("rnn", "lstm", "bilstm")
SEEDS = {"rnn": 7001, "lstm": 7002, "bilstm": 7003}
FRESH_SEED = 9090
COUNTS = {"rnn": 120, "lstm": 120, "bilstm": 100}
WEIGHTS = ("w_ih", "w_hh", "b_ih", "b_hh")
# The gradients an RNN's and an LSTM's backward return, in the order the checks compare them.
RNN_KEYS = ("dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh")
LSTM_KEYS = ("dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh")
REVERSE = tuple(f"{w}_reverse" for w in WEIGHTS)

ARRAYS = {
    "rnn": ("x", "h0", *WEIGHTS, "dout"),
    "lstm": ("x", "h0", "c0", *WEIGHTS, "dout"),
    "bilstm": ("x", "h0", "c0", *WEIGHTS, *REVERSE, "dout"),
}
PARAMS = {"rnn": ("nonlinearity",), "lstm": (), "bilstm": ()}
OUTPUTS = {
    "rnn": ("out", "dx", "dh0", *(f"d{w}" for w in WEIGHTS)),
    "lstm": ("out", "dx", "dh0", "dc0", *(f"d{w}" for w in WEIGHTS)),
    "bilstm": ("out", "dx", "dh0", "dc0", *(f"d{w}" for w in WEIGHTS + REVERSE)),
}


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], bound: float) -> np.ndarray:
    return f32_exact(rng.uniform(-bound, bound, size=shape))


def make_case(kind: str, rng: np.random.Generator) -> dict:
    n, t, d, h = (int(rng.integers(1, hi + 1)) for hi in (4, 12, 6, 8))
    gates = 1 if kind == "rnn" else 4
    dirs = 2 if kind == "bilstm" else 1
    bound = 1 / np.sqrt(h)
    lead = (dirs,) if kind == "bilstm" else ()
    case: dict = {"x": f32_exact(rng.standard_normal((n, t, d)))}
    case["h0"] = f32_exact(rng.standard_normal((*lead, n, h)) * 0.5)
    if kind != "rnn":
        case["c0"] = f32_exact(rng.standard_normal((*lead, n, h)) * 0.5)
    names = WEIGHTS + (REVERSE if kind == "bilstm" else ())
    for name in names:
        shape = {"w_ih": (gates * h, d), "w_hh": (gates * h, h)}.get(name[:4], (gates * h,))
        case[name] = _uniform(rng, shape, bound)
    case["dout"] = f32_exact(rng.standard_normal((n, t, dirs * h)))
    if kind == "rnn":
        case["nonlinearity"] = "relu" if rng.random() < 1 / 3 else "tanh"
    return case


def make_cases(kind: str, seed: int | None = None, count: int | None = None) -> list[dict]:
    rng = np.random.default_rng(SEEDS[kind] if seed is None else seed)
    return [make_case(kind, rng) for _ in range(COUNTS[kind] if count is None else count)]


def engine_results(kind: str, case: dict, dtype: type = np.float64) -> dict[str, np.ndarray]:
    """The engine's output and every gradient, computed in dtype."""
    c = {k: v.astype(dtype) if isinstance(v, np.ndarray) else v for k, v in case.items()}
    w = [c[k] for k in WEIGHTS]
    if kind == "rnn":
        out, cache = rnn(c["x"], c["h0"], *w, c["nonlinearity"])
        grads = rnn_backward(c["dout"], cache)
    elif kind == "lstm":
        out, cache = lstm(c["x"], c["h0"], c["c0"], *w)
        grads = lstm_backward(c["dout"], cache)
    else:
        out, cache = bilstm(c["x"], c["h0"], c["c0"], *w, *(c[k] for k in REVERSE))
        grads = bilstm_backward(c["dout"], cache)
    res = {"out": out, **grads}
    return {k: np.asarray(res[k]) for k in OUTPUTS[kind]}


def to_arrays(kind: str, index: int, case: dict) -> dict[str, np.ndarray]:
    """A case as named arrays for np.savez (float inputs as float32: lossless)."""
    out = {}
    for name in ARRAYS[kind] + PARAMS[kind]:
        v = case[name]
        if isinstance(v, np.ndarray):
            v = v.astype(np.float32)
        out[f"{kind}/{index:03d}/{name}"] = np.asarray(v)
    return out


def from_arrays(kind: str, index: int, data: object) -> dict:
    case = {}
    for name in ARRAYS[kind] + PARAMS[kind]:
        v = data[f"{kind}/{index:03d}/{name}"]  # type: ignore[index]
        case[name] = v.astype(np.float64) if v.dtype.kind == "f" else str(v)
    return case
