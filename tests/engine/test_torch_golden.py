"""The engine against PyTorch's golden outputs (tests/engine/golden/functional.npz),
without torch: float64 within rel 1e-10, float32 (inputs cast) within rel 1e-5.

Regenerate the file with `.venv/bin/python -m tests.engine.golden.make_golden`.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.golden.make_golden import GOLDEN
from tests.engine.gradcheck import rel_error
from tests.engine.torch_cases import (
    COUNTS,
    KINDS,
    OUTPUTS,
    SEEDS,
    engine_results,
    from_arrays,
    make_cases,
)

TOL = {np.float64: 1e-10, np.float32: 1e-5}
CASES = [(kind, i) for kind in KINDS for i in range(COUNTS[kind])]


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as data:
        yield {k: data[k] for k in data.files}


def test_golden_file_records_torch_version_cases_and_seeds(golden):
    assert str(golden["meta/torch_version"]).startswith("2.13.0")
    assert tuple(golden["meta/kinds"]) == KINDS
    assert list(golden["meta/counts"]) == [COUNTS[k] for k in KINDS]
    assert list(golden["meta/seeds"]) == [SEEDS[k] for k in KINDS]
    assert COUNTS["conv"] >= 200 and COUNTS["pool"] >= 200
    assert GOLDEN.stat().st_size < 6_000_000


@pytest.mark.parametrize("kind", KINDS)
def test_golden_inputs_are_the_generated_cases(golden, kind):
    """A changed generator without a regenerated golden file fails here."""
    for i, case in enumerate(make_cases(kind)):
        stored = from_arrays(kind, i, golden)
        assert stored.keys() == case.keys()
        for name, value in case.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(stored[name], value, err_msg=f"{kind} {i} {name}")
            else:
                assert stored[name] == value, f"{kind} {i} {name}"


def test_golden_cases_cover_the_required_ranges(golden):
    convs = [from_arrays("conv", i, golden) for i in range(COUNTS["conv"])]
    assert {c["x"].shape[0] for c in convs} == {1, 2, 3, 4}
    assert {c["x"].shape[1] for c in convs} == {1, 2, 3, 4}
    assert {c["w"].shape[2] for c in convs} == {1, 2, 3, 4, 5}
    assert {c["stride"][0] for c in convs} == {1, 2, 3}
    assert {c["padding"][1] for c in convs} == {0, 1, 2}
    assert any(c["w"].shape[2] != c["w"].shape[3] for c in convs)
    assert any(c["stride"][0] != c["stride"][1] for c in convs)
    pools = [from_arrays("pool", i, golden) for i in range(COUNTS["pool"])]
    assert {p["size"][0] for p in pools} == {1, 2, 3, 4, 5}
    assert {p["stride"][0] for p in pools if not p["default_stride"]} == {1, 2, 3}
    assert any(p["default_stride"] for p in pools)
    assert any(p["stride"][0] < p["size"][0] for p in pools)  # overlapping windows
    ties = [p for p in pools if p["ties"]]
    assert len(ties) >= 60
    assert all(np.array_equal(p["x"], np.round(p["x"])) for p in ties)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(("kind", "index"), CASES, ids=[f"{k}-{i:03d}" for k, i in CASES])
def test_engine_matches_torch_golden(golden, kind, index, dtype):
    case = from_arrays(kind, index, golden)
    got = engine_results(kind, case, dtype)
    assert tuple(got) == OUTPUTS[kind]
    for name, value in got.items():
        want = golden[f"{kind}/{index:03d}/{name}"]
        assert value.shape == want.shape, f"{name}: shape {value.shape} vs torch {want.shape}"
        if value.ndim:
            assert value.dtype == dtype, f"{name}: dtype {value.dtype}"
        err = rel_error(value, want)
        assert err <= TOL[dtype], f"{name}: rel error {err:.2e} > {TOL[dtype]:.0e}"
