"""Write tests/engine/golden/functional.npz: PyTorch's float64 outputs and
gradients for every case of tests/engine/torch_cases.py.

    .venv/bin/python -m tests.engine.golden.make_golden

Needs torch==2.13.0 (CPU). torch is imported inside the functions, so the live
test can import `torch_results` without the default run ever importing torch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tests.engine.torch_cases import COUNTS, KINDS, OUTPUTS, SEEDS, make_cases, to_arrays

GOLDEN = Path(__file__).with_name("functional.npz")


def torch_results(kind: str, case: dict, dtype: str = "float64") -> dict[str, np.ndarray]:
    """PyTorch's outputs and gradients for a case, computed in dtype ("float64"/"float32").

    Gradients come from autograd on L = sum(out * dout) (losses: the loss itself).
    """
    import torch
    import torch.nn.functional as F  # noqa: N812

    torch.set_num_threads(1)
    tdt = getattr(torch, dtype)

    def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
        return torch.tensor(np.asarray(a), dtype=tdt, requires_grad=grad)

    def n(a: torch.Tensor) -> np.ndarray:
        return a.detach().numpy().astype(np.float64)

    if kind == "conv":
        x, w, b = t(case["x"], True), t(case["w"], True), t(case["b"], True)
        out = F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"])
        (out * t(case["dout"])).sum().backward()
        return {"out": n(out), "dx": n(x.grad), "dw": n(w.grad), "db": n(b.grad)}
    if kind == "pool":
        res = {}
        for name, pool in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
            x = t(case["x"], True)
            out = pool(x, kernel_size=case["size"], stride=case["stride"])
            (out * t(case["dout"])).sum().backward()
            res[f"{name}_out"], res[f"{name}_dx"] = n(out), n(x.grad)
        return res
    if kind == "dense":
        x, w, b = t(case["x"], True), t(case["w"], True), t(case["b"], True)
        out = F.linear(x, w, b)
        (out * t(case["dout"])).sum().backward()
        return {"out": n(out), "dx": n(x.grad), "dw": n(w.grad), "db": n(b.grad)}
    if kind == "act":
        x = t(case["x"], True)
        fn = {
            "relu": F.relu,
            "leaky_relu": lambda v: F.leaky_relu(v, case["slope"]),
            "sigmoid": torch.sigmoid,
            "tanh": torch.tanh,
        }[case["name"]]
        out = fn(x)
        (out * t(case["dout"])).sum().backward()
        return {"out": n(out), "dx": n(x.grad)}
    if kind == "ce":
        z = t(case["logits"], True)
        loss = F.cross_entropy(z, torch.tensor(case["labels"], dtype=torch.int64))
        loss.backward()
        return {"loss": n(loss), "dlogits": n(z.grad)}
    if kind == "mse":
        p = t(case["pred"], True)
        loss = F.mse_loss(p, t(case["target"]))
        loss.backward()
        return {"loss": n(loss), "dpred": n(p.grad)}
    if kind == "mse_onehot":
        p = t(case["pred"], True)
        labels = torch.tensor(case["labels"], dtype=torch.int64)
        loss = F.mse_loss(p, F.one_hot(labels, p.shape[1]).to(tdt))
        loss.backward()
        return {"loss": n(loss), "dpred": n(p.grad)}
    raise KeyError(kind)


def torch_version() -> str:
    import torch

    return torch.__version__


def main() -> None:
    arrays: dict[str, np.ndarray] = {
        "meta/torch_version": np.asarray(torch_version()),
        "meta/numpy_version": np.asarray(np.__version__),
        "meta/kinds": np.asarray(KINDS),
        "meta/counts": np.asarray([COUNTS[k] for k in KINDS]),
        "meta/seeds": np.asarray([SEEDS[k] for k in KINDS]),
    }
    for kind in KINDS:
        for i, case in enumerate(make_cases(kind)):
            arrays.update(to_arrays(kind, i, case))
            ref = torch_results(kind, case)
            assert tuple(ref) == OUTPUTS[kind]
            for name, value in ref.items():
                arrays[f"{kind}/{i:03d}/{name}"] = value
    np.savez_compressed(GOLDEN, **arrays)
    size = GOLDEN.stat().st_size
    counts = ", ".join(f"{k} {COUNTS[k]}" for k in KINDS)
    print(f"wrote {GOLDEN} ({size / 1e6:.2f} MB; torch {torch_version()}; {counts})")
    if size > 6_000_000:
        sys.exit("golden file over 6 MB: lower COUNTS or the case sizes in torch_cases.py")


if __name__ == "__main__":
    main()
