"""The cost model (engine/cost.py) against measured passes: every preset and a few
custom specs, within a factor of 2, so the estimates cannot silently drift."""

from __future__ import annotations

import pytest

from engine.cost import spec_cost
from engine.models import model_from_spec
from engine.optim import make_optimizer
from engine.presets import build_preset, list_presets
from engine.stepper import Pass

TOLERANCE = 2.0  # estimate / measured within [1/2, 2]

CUSTOM = [
    ({"input_shape": [3, 16, 16], "layers": [
        {"type": "conv2d", "in_channels": 3, "out_channels": 8, "kernel": 3, "padding": 1},
        {"type": "relu"}, {"type": "max_pool2d", "size": 2},
        {"type": "conv2d", "in_channels": 8, "out_channels": 4, "kernel": 3, "stride": 2},
        {"type": "flatten"}, {"type": "dense", "in_features": 36, "out_features": 5}]},
     4, "adam"),
    ({"input_shape": [20], "layers": [
        {"type": "dense", "in_features": 20, "out_features": 64}, {"type": "tanh"},
        {"type": "dense", "in_features": 64, "out_features": 3}]}, 8, "momentum"),
    ({"model": "recurrent", "cell": "bilstm", "input_size": 3, "hidden_size": 12,
      "output_size": 2, "head": "many-to-many", "loss": "mse", "seq_len": 15}, 2, "sgd"),
    ({"model": "recurrent", "cell": "rnn", "input_size": 5, "hidden_size": 24,
      "output_size": 3, "head": "many-to-one", "seq_len": 30}, 3, "adam"),
]  # fmt: skip


def measured_trace_bytes(net, x, target, optimizer: dict) -> int:  # type: ignore[no-untyped-def]
    run = Pass(net, x, target, make_optimizer(optimizer))
    run.run()
    return sum(rec.data.nbytes for rec in run.trace.tensors.values())


def within(estimate: int, real: int) -> bool:
    return real / TOLERANCE <= estimate <= real * TOLERANCE


@pytest.mark.parametrize("name", [p.name for p in list_presets()])
def test_presets_within_tolerance(name: str) -> None:
    lesson = build_preset(name)
    net, optimizer = lesson.net, lesson.optimizer
    cost = spec_cost(net.spec(), lesson.x.shape[0], optimizer["type"])
    assert cost.params == sum(p.size for p in net.params().values())
    if lesson.target is None:
        return  # params only: a pass without a target stops at the prediction
    real = measured_trace_bytes(net, lesson.x, lesson.target, optimizer)
    assert within(cost.pass_bytes, real), (cost.pass_bytes, real)


@pytest.mark.parametrize(("spec", "batch", "opt"), CUSTOM)
def test_custom_specs_within_tolerance(spec: dict, batch: int, opt: str) -> None:
    import numpy as np

    net = model_from_spec(spec, seed=1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *net.input_shape)).astype(np.float32)
    out = net.shapes(batch)[-1]
    if net.loss_kind == "mse":
        target = rng.standard_normal(out).astype(np.float32)
    else:
        target = rng.integers(0, out[-1], size=batch)
    real = measured_trace_bytes(net, x, target, {"type": opt, "lr": 0.01})
    cost = spec_cost(net.spec(), batch, opt)
    assert cost.params == sum(p.size for p in net.params().values())
    assert within(cost.pass_bytes, real), (cost.pass_bytes, real)


def test_the_attacks_cost_what_the_issue_measured() -> None:
    """The 4x4096 dense spec and 16000x16000 layer: parameters known without building."""
    dense = {"input_shape": [4096], "layers": [
        {"type": "dense", "in_features": 4096, "out_features": 4096}] * 4}  # fmt: skip
    assert spec_cost(dense).params == 4 * (4096 * 4096 + 4096)
    assert spec_cost(dense).pass_bytes > 1_000_000_000
    big = {"input_shape": [16000], "layers": [
        {"type": "dense", "in_features": 16000, "out_features": 16000}]}  # fmt: skip
    assert spec_cost(big).params == 16000 * 16001


def test_training_cost_scales_with_batch_and_iterations() -> None:
    cost = spec_cost(build_preset("digits-cnn").net.spec())
    assert cost.train_flops(10, 8) == 80 * cost.flops > 0


@pytest.mark.parametrize("kind", ["lstm", "rnn", "bilstm", "dense_last", "dense_each", "odd"])
def test_a_layer_the_model_cannot_price_is_refused_not_counted_as_free(kind):
    """A sequential spec may name any engine layer (an uploaded .npz has no schema):
    a recurrent one priced as an activation passed every budget at 0 parameters."""
    spec = {"input_shape": [20000, 4], "layers": [{"type": kind, "input_size": 4,
                                                   "hidden_size": 480}]}  # fmt: skip
    with pytest.raises(ValueError, match="cannot be priced"):
        spec_cost(spec, 1, "sgd")


def test_a_float64_network_takes_twice_the_bytes():
    spec = {"input_shape": [64], "layers": [{"type": "dense", "in_features": 64,
                                             "out_features": 10}]}  # fmt: skip
    single, double = spec_cost(spec), spec_cost({**spec, "dtype": "float64"})
    assert double.pass_bytes == 2 * single.pass_bytes and double.blob_bytes == 2 * single.blob_bytes
    assert double.params == single.params
