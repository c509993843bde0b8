"""The recurrent core against live PyTorch (torch==2.13.0, CPU): torch.nn.RNN,
torch.nn.LSTM and torch.nn.LSTM(bidirectional=True), float32 and float64, on the
golden cases and on fresh ones; and the golden file against torch.

Marked `torch` (run with `.venv/bin/pytest -m torch`); torch is imported inside
the tests.

In float32 the reference is torch's float64 result (the exact answer to float32
precision): the engine's float32 output and gradients must be within rel 1e-5
of it. Against torch's own float32 result they must be within 1e-5 plus torch's
float32 error: a bias gradient that is a sum with cancellation came out 1.6e-5
off in torch's float32 (and 3.5e-6 in the engine's), so engine-f32 vs torch-f32
alone would measure torch's rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.golden.make_golden_recurrent import GOLDEN, torch_results
from tests.engine.gradcheck import rel_error
from tests.engine.recurrent_cases import (
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


def _compare(kind, cases, dtype):
    worst = 0.0
    for i, case in enumerate(cases):
        exact = torch_results(kind, case, "float64")
        same = exact if dtype == "float64" else torch_results(kind, case, dtype)
        got = engine_results(kind, case, DTYPES[dtype])
        assert tuple(got) == tuple(exact) == tuple(same) == OUTPUTS[kind]
        for name in exact:
            assert got[name].shape == exact[name].shape, f"{kind} case {i} {name}: shape"
            err = rel_error(got[name], exact[name])
            assert err <= TOL[dtype], f"{kind} case {i} {name}: rel error {err:.2e}"
            torch_err = rel_error(same[name], exact[name])
            vs_torch = rel_error(got[name], same[name])
            assert vs_torch <= TOL[dtype] + torch_err, f"{kind} {i} {name}: {vs_torch:.2e}"
            worst = max(worst, err)
    print(f"{kind} {dtype}: worst rel error {worst:.2e} over {len(cases)} cases")
    return worst


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_engine_matches_live_torch_on_the_golden_cases(kind, dtype):
    _compare(kind, make_cases(kind), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_engine_matches_live_torch_on_fresh_cases(kind, dtype):
    seed = FRESH_SEED + KINDS.index(kind)
    _compare(kind, make_cases(kind, seed=seed, count=100), dtype)


@pytest.mark.parametrize("kind", KINDS)
def test_golden_file_still_matches_torch(kind):
    with np.load(GOLDEN) as data:
        golden = {k: data[k] for k in data.files if k.startswith(f"{kind}/")}
    for i in range(COUNTS[kind]):
        want = torch_results(kind, from_arrays(kind, i, golden))
        for name, value in want.items():
            assert rel_error(value, golden[f"{kind}/{i:03d}/{name}"]) <= 1e-13, f"{kind} {i} {name}"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "bilstm"])
def test_weights_move_both_ways_between_recurrent_net_and_torch(cell):
    """Engine weights loaded into torch.nn.RNN/LSTM + nn.Linear give the same outputs
    and gradients; torch's own initial weights loaded into the engine give torch's."""
    import torch

    from engine.recurrent import RecurrentNet, from_torch_names, torch_names

    torch.set_num_threads(1)
    net = RecurrentNet(cell, 3, 5, 4, "many-to-many", seq_len=6, seed=3, dtype=np.float64)
    module_cls = torch.nn.RNN if cell == "rnn" else torch.nn.LSTM
    tcell = module_cls(3, 5, batch_first=True, bidirectional=cell == "bilstm").double()
    thead = torch.nn.Linear(5 * (2 if cell == "bilstm" else 1), 4).double()
    modules = {"cell": tcell, "head": thead}

    def torch_state():
        return {f"{m}.{k}": v for m, mod in modules.items() for k, v in mod.state_dict().items()}

    with torch.no_grad():  # engine -> torch
        for name, value in torch_names(net.params()).items():
            m, key = name.split(".", 1)
            modules[m].state_dict()[key].copy_(torch.from_numpy(value))
    x = np.random.default_rng(0).standard_normal((2, 6, 3))
    labels = np.random.default_rng(1).integers(0, 4, (2, 6))
    tx = torch.from_numpy(x)
    out = thead(tcell(tx)[0])
    loss = torch.nn.functional.cross_entropy(
        out.reshape(-1, 4), torch.from_numpy(labels).reshape(-1)
    )
    loss.backward()
    assert rel_error(net.predict(x), out.detach().numpy()) < 1e-12
    value, dout = net.loss(net.forward(x), labels)
    net.backward(dout)
    assert value == pytest.approx(loss.item(), rel=1e-12)
    grads = torch_names({f"{lay.name}.{k}": g for lay in net.layers for k, g in lay.grads.items()})
    for name, g in grads.items():
        m, key = name.split(".", 1)
        want = dict(modules[m].named_parameters())[key].grad.numpy()
        assert rel_error(g, want) < 1e-10, name
    fresh = module_cls(3, 5, batch_first=True, bidirectional=cell == "bilstm").double()
    modules["cell"] = fresh  # torch -> engine
    net.set_params(from_torch_names(net, {k: v.numpy() for k, v in torch_state().items()}))
    want = thead(fresh(tx)[0]).detach().numpy()
    assert rel_error(net.predict(x), want) < 1e-12
