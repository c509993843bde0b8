"""The recurrent core against PyTorch's golden outputs (tests/engine/golden/recurrent.npz)
without torch: torch.nn.RNN (tanh and relu), torch.nn.LSTM and the bidirectional
LSTM on 340 random cases (N 1-4, T 1-12, D 1-6, H 1-8, non-zero h0 and c0); the
output and every gradient within rel 1e-10 in float64 and 1e-5 in float32.

Regenerate with `.venv/bin/python -m tests.engine.golden.make_golden_recurrent`.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.golden.make_golden_recurrent import GOLDEN
from tests.engine.gradcheck import rel_error
from tests.engine.recurrent_cases import (
    COUNTS,
    KINDS,
    OUTPUTS,
    SEEDS,
    engine_results,
    from_arrays,
    make_cases,
)

TOL = {np.float64: 1e-10, np.float32: 1e-5}


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as data:
        yield {k: data[k] for k in data.files}


def test_golden_file_records_torch_version_cases_and_seeds(golden):
    assert str(golden["meta/torch_version"]).startswith("2.13.0")
    assert tuple(golden["meta/kinds"]) == KINDS
    assert list(golden["meta/counts"]) == [COUNTS[k] for k in KINDS]
    assert list(golden["meta/seeds"]) == [SEEDS[k] for k in KINDS]
    assert all(COUNTS[k] >= 100 for k in KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_golden_inputs_are_the_generated_cases(golden, kind):
    for i, case in enumerate(make_cases(kind)):
        stored = from_arrays(kind, i, golden)
        assert stored.keys() == case.keys()
        for name, value in case.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(stored[name], value, err_msg=f"{kind} {i} {name}")
            else:
                assert stored[name] == value


@pytest.mark.parametrize("kind", KINDS)
def test_golden_cases_cover_the_required_ranges(kind):
    cases = make_cases(kind)
    n, t, d = zip(*(c["x"].shape for c in cases), strict=True)
    h = [c["w_hh"].shape[1] for c in cases]
    assert set(n) == {1, 2, 3, 4} and set(d) == set(range(1, 7)) and set(h) == set(range(1, 9))
    assert set(t) == set(range(1, 13))
    assert all(np.abs(c["h0"]).max() > 0 for c in cases)
    if kind == "rnn":
        assert {c["nonlinearity"] for c in cases} == {"tanh", "relu"}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_engine_matches_torch_golden(golden, kind, dtype):
    worst = {}
    for i in range(COUNTS[kind]):
        got = engine_results(kind, from_arrays(kind, i, golden), dtype)
        assert tuple(got) == OUTPUTS[kind]
        for name, value in got.items():
            want = golden[f"{kind}/{i:03d}/{name}"]
            assert value.shape == want.shape, f"case {i} {name}: {value.shape} vs {want.shape}"
            assert value.dtype == dtype, f"case {i} {name}: dtype {value.dtype}"
            err = rel_error(value, want)
            assert err <= TOL[dtype], f"case {i} {name}: rel error {err:.2e}"
            worst[name] = max(worst.get(name, 0.0), err)
    print(f"{kind} {np.dtype(dtype).name} worst rel error: {max(worst.values()):.2e}")
