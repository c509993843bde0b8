"""Write tests/engine/golden/recurrent.npz: PyTorch's float64 outputs and gradients
of torch.nn.RNN, torch.nn.LSTM and torch.nn.LSTM(bidirectional=True) for every
case of tests/engine/recurrent_cases.py.

    .venv/bin/python -m tests.engine.golden.make_golden_recurrent

Needs torch==2.13.0 (CPU); torch is imported inside the functions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tests.engine.recurrent_cases import (
    COUNTS,
    KINDS,
    OUTPUTS,
    REVERSE,
    SEEDS,
    WEIGHTS,
    make_cases,
    to_arrays,
)

GOLDEN = Path(__file__).with_name("recurrent.npz")
TORCH_NAMES = {"w_ih": "weight_ih_l0", "w_hh": "weight_hh_l0", "b_ih": "bias_ih_l0",
               "b_hh": "bias_hh_l0"}  # fmt: skip


def torch_results(kind: str, case: dict, dtype: str = "float64") -> dict[str, np.ndarray]:
    """PyTorch's output and gradients (autograd on L = sum(out * dout)) in dtype."""
    import torch

    torch.set_num_threads(1)
    tdt = getattr(torch, dtype)
    n, t, d = case["x"].shape
    h = case["w_hh"].shape[1]
    if kind == "rnn":
        module = torch.nn.RNN(d, h, batch_first=True, nonlinearity=case["nonlinearity"])
    else:
        module = torch.nn.LSTM(d, h, batch_first=True, bidirectional=kind == "bilstm")
    module = module.to(tdt)
    names = {TORCH_NAMES[w]: w for w in WEIGHTS}
    if kind == "bilstm":
        names.update({f"{TORCH_NAMES[w[:4]]}_reverse": w for w in REVERSE})
    with torch.no_grad():
        for tname, p in module.named_parameters():
            p.copy_(torch.tensor(case[names[tname]], dtype=tdt))

    def leaf(a: np.ndarray) -> torch.Tensor:
        a = a if a.ndim == 3 else a[None]  # states as (layers * directions, N, H)
        return torch.tensor(a, dtype=tdt, requires_grad=True)

    x, h0 = leaf(case["x"]), leaf(case["h0"])
    if kind == "rnn":
        out, _ = module(x, h0)
        states = {"dh0": h0}
    else:
        c0 = leaf(case["c0"])
        out, _ = module(x, (h0, c0))
        states = {"dh0": h0, "dc0": c0}
    (out * torch.tensor(case["dout"], dtype=tdt)).sum().backward()

    def num(a: torch.Tensor) -> np.ndarray:
        return a.detach().numpy().astype(np.float64)

    res = {"out": num(out), "dx": num(x.grad)}
    for key, s in states.items():
        res[key] = num(s.grad) if kind == "bilstm" else num(s.grad)[0]
    for tname, p in module.named_parameters():
        res[f"d{names[tname]}"] = num(p.grad)
    return {k: res[k] for k in OUTPUTS[kind]}


def torch_version() -> str:
    import torch

    return torch.__version__


def main() -> None:
    arrays: dict[str, np.ndarray] = {
        "meta/torch_version": np.asarray(torch_version()),
        "meta/kinds": np.asarray(KINDS),
        "meta/counts": np.asarray([COUNTS[k] for k in KINDS]),
        "meta/seeds": np.asarray([SEEDS[k] for k in KINDS]),
    }
    for kind in KINDS:
        for i, case in enumerate(make_cases(kind)):
            arrays.update(to_arrays(kind, i, case))
            for name, value in torch_results(kind, case).items():
                arrays[f"{kind}/{i:03d}/{name}"] = value
    np.savez_compressed(GOLDEN, **arrays)
    size = GOLDEN.stat().st_size
    print(f"wrote {GOLDEN} ({size / 1e6:.2f} MB; torch {torch_version()}; {COUNTS})")
    if size > 4_000_000:
        sys.exit("golden file over 4 MB: lower COUNTS in recurrent_cases.py")


if __name__ == "__main__":
    main()
