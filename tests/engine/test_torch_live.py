"""The engine against live PyTorch (torch==2.13.0, CPU), float32 and float64, on
the golden cases and on fresh ones; and the golden file against torch.

Marked `torch`, so deselected by default: run with `.venv/bin/pytest -m torch`.
torch is imported inside the tests (never at collection), and a missing torch
fails them loudly rather than skipping.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.golden.make_golden import GOLDEN, torch_results
from tests.engine.gradcheck import rel_error
from tests.engine.torch_cases import (
    COUNTS,
    FRESH_SEED,
    KINDS,
    OUTPUTS,
    engine_results,
    from_arrays,
    make_cases,
)

pytestmark = pytest.mark.torch

TOL = {"float64": 1e-10, "float32": 1e-5}
DTYPES = {"float64": np.float64, "float32": np.float32}
FRESH_COUNTS = {"conv": 120, "pool": 120, "dense": 20, "act": 20, "ce": 20, "mse": 20,
                "mse_onehot": 20}  # fmt: skip


def _compare(kind, cases, dtype):
    """Engine vs live torch on every case, both computed in dtype; the worst error."""
    worst = 0.0
    for i, case in enumerate(cases):
        want = torch_results(kind, case, dtype)
        got = engine_results(kind, case, DTYPES[dtype])
        assert tuple(got) == tuple(want) == OUTPUTS[kind]
        for name in want:
            assert got[name].shape == want[name].shape, f"{kind} case {i} {name}: shape"
            err = rel_error(got[name], want[name])
            assert err <= TOL[dtype], f"{kind} case {i} {name}: rel error {err:.2e}"
            worst = max(worst, err)
    return worst


def test_torch_is_the_pinned_version():
    import torch

    assert torch.__version__.startswith("2.13.0")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_engine_matches_live_torch_on_the_golden_cases(kind, dtype):
    _compare(kind, make_cases(kind), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_engine_matches_live_torch_on_fresh_cases(kind, dtype):
    seed = FRESH_SEED + KINDS.index(kind)
    _compare(kind, make_cases(kind, seed=seed, count=FRESH_COUNTS[kind]), dtype)


@pytest.mark.parametrize("kind", KINDS)
def test_golden_file_still_matches_torch(kind):
    with np.load(GOLDEN) as data:
        golden = {k: data[k] for k in data.files if k.startswith(f"{kind}/")}
    for i in range(COUNTS[kind]):
        want = torch_results(kind, from_arrays(kind, i, golden))
        for name, value in want.items():
            stored = golden[f"{kind}/{i:03d}/{name}"]
            assert rel_error(value, stored) <= 1e-13, f"{kind} case {i} {name}"


def test_max_pool_ties_route_to_the_same_position_as_torch():
    import torch
    import torch.nn.functional as F  # noqa: N812

    from engine.functional import max_pool2d, max_pool2d_backward

    torch.set_num_threads(1)
    rng = np.random.default_rng(FRESH_SEED)
    for _ in range(25):
        x = rng.integers(0, 2, size=(2, 3, 7, 7)).astype(np.float64)  # 0/1: ties everywhere
        for size, stride in ((2, 2), (3, 1), (3, 2), (2, 3)):
            xt = torch.tensor(x, requires_grad=True)
            out = F.max_pool2d(xt, size, stride)
            dout = rng.standard_normal(tuple(out.shape))
            (out * torch.tensor(dout)).sum().backward()
            e_out, cache = max_pool2d(x, size, stride)
            np.testing.assert_array_equal(e_out, out.detach().numpy())
            # overlapping windows add deltas in another order: equal up to round-off,
            # while a delta routed to a different tie would be off by O(1)
            assert rel_error(max_pool2d_backward(dout, cache), xt.grad.numpy()) <= 1e-14
