"""Every number of a pass explains itself: engine.explain.explain_tensor answers for every
recorded tensor, and its terms add up to the recorded value."""

from __future__ import annotations

import numpy as np
import pytest

from engine.explain import explain_tensor
from engine.layers import (
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
)
from engine.network import Sequential
from engine.optim import make_optimizer
from engine.presets import build_preset, list_presets
from engine.stepper import Pass

SEQUENTIAL = [
    p.name
    for p in list_presets()
    if p.topic in ("convolution", "tensor-convolution", "pooling", "cnn")
]
OPTIMIZERS = [{"type": "sgd", "lr": 0.1}, {"type": "momentum", "lr": 0.1, "momentum": 0.9},
              {"type": "adam", "lr": 0.01}]  # fmt: skip


def indices(shape: tuple[int, ...], rng: np.random.Generator) -> list[tuple[int, ...]]:
    """The first, the last and two random indices of a shape."""
    if shape == ():
        return [()]
    out = {tuple(0 for _ in shape), tuple(s - 1 for s in shape)}
    for _ in range(2):
        out.add(tuple(int(rng.integers(s)) for s in shape))
    return sorted(out)


def magnitude(term) -> float:
    """A term's size for the tolerance, a slope factor f'(z) counted as 1: where a
    tanh or sigmoid saturates, 1 − tanh² of a float32 value is rounding noise."""
    size = 1.0
    for f in term.factors:
        size *= 1.0 if "'" in f.tensor else abs(f.value)
    return max(size, abs(term.product))


def assert_every_tensor_explains_itself(p: Pass, names: list[str] | None = None) -> int:
    rng = np.random.default_rng(0)
    checked = 0
    for step in p.trace.steps:
        for name in step.tensors:
            if names is not None and name not in names:
                continue
            value = p.trace[name]
            for idx in indices(value.shape, rng):
                exp, _ = explain_tensor(p.net, p.trace, p.optimizer, name, idx)
                want = float(value[idx])
                scale = max([magnitude(t) for t in exp.terms] + [abs(want), 1e-30])
                assert np.isclose(exp.total, want, rtol=2e-4, atol=1e-6 * scale), (
                    f"{name}{list(idx)}: terms give {exp.total}, recorded {want} ({exp.kind})"
                )
                checked += 1
    return checked


def full_pass(net: Sequential, x: np.ndarray, target: np.ndarray, opt: dict) -> Pass:
    p = Pass(net, x, target, make_optimizer(opt))
    p.run()
    return p


@pytest.mark.parametrize("name", SEQUENTIAL)
def test_every_tensor_of_a_preset_pass_explains_itself(name):
    lesson = build_preset(name)
    p = full_pass(lesson.net, lesson.x, lesson.target, lesson.optimizer)
    assert assert_every_tensor_explains_itself(p) > 20


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: o["type"])
def test_every_tensor_of_a_batch_bp_network_explains_itself_under_each_optimizer(opt):
    """A BP network of every activation, a batch of 3, mse on one-hot labels; the
    second pass's update uses momentum's and Adam's state from the first."""
    rng = np.random.default_rng(1)
    layers = [Dense(2, 5), Sigmoid(), Dense(5, 4), Tanh(), Dense(4, 4), LeakyReLU(0.1),
              Dense(4, 3), Sigmoid()]  # fmt: skip
    net = Sequential(layers, (2,), loss="mse_onehot", seed=3)
    x, y = rng.normal(size=(3, 2)).astype(np.float32), np.array([0, 2, 1])
    optimizer = make_optimizer(opt)
    for _ in range(2):
        p = Pass(net, x, y, optimizer)
        p.run()
    assert assert_every_tensor_explains_itself(p) > 100
    if opt["type"] != "sgd":
        assert any(n.endswith(".v.before") for s in p.trace.steps for n in s.tensors)


def test_every_tensor_of_a_strided_padded_cnn_explains_itself():
    """Stride 2, padding 1, average and overlapping max pooling, a true (flipped)
    convolution, a batch of 2, cross-entropy."""
    rng = np.random.default_rng(2)
    layers = [Conv2D(2, 3, 3, stride=2, padding=1), ReLU(), MaxPool2D(3, 1),
              Conv2D(3, 2, 2, flip=True), AvgPool2D(1), Flatten(), Dense(8, 3)]  # fmt: skip
    net = Sequential(layers, (2, 9, 9), seed=4)
    p = full_pass(net, rng.normal(size=(2, 2, 9, 9)), np.array([1, 2]), OPTIMIZERS[1])
    assert assert_every_tensor_explains_itself(p) > 60


@pytest.mark.parametrize("name", ["memory-lstm", "bilstm-memory", "seq-many-to-many", "sine-rnn"])
def test_every_tensor_of_a_recurrent_pass_explains_itself(name):
    """The head, the loss and the update here; the recurrent layer's own tensors through
    engine.explain.recurrent_rules (tested name by name in test_recurrent_explain.py)."""
    lesson = build_preset(name)
    p = full_pass(lesson.net, lesson.x, lesson.target, lesson.optimizer)
    assert assert_every_tensor_explains_itself(p) > 200


def test_a_weight_gradient_lists_each_input_cell_and_the_delta_it_met():
    """dw[f, c, u, v] of a 3x3 kernel on 5x5 (stride 1): the kernel cell met 9 input
    pixels, each with the delta of the output it made."""
    lesson = build_preset("conv-basics")
    p = full_pass(lesson.net, lesson.x, lesson.target, lesson.optimizer)
    exp, names = explain_tensor(p.net, p.trace, p.optimizer, "conv1.dw", (0, 0, 1, 2))
    assert len(exp.terms) == 9
    x, dout = p.trace["conv1.in"], p.trace["conv1.dout"]
    for term in exp.terms:
        (d, xf) = term.factors
        (_, _, i, j), (_, _, r, q) = d.index, xf.index
        assert (r, q) == (i + 1, j + 2)
        assert d.value == dout[d.index] and xf.value == x[xf.index]
    assert names == {"dout": "conv1.dout", "x": "conv1.in"}


def test_a_neuron_delta_names_its_slope_factor_as_the_derivative_not_the_input():
    """Item 5 of issue 12: the slope factor of an activation's delta is f'(z), and its
    name says so (it was named tanh1.in, whose value is z, not f'(z))."""
    net = Sequential([Dense(2, 3), Tanh(), Dense(3, 2)], (2,), seed=0)
    p = full_pass(net, np.array([[0.5, -1.0]]), np.array([1]), OPTIMIZERS[0])
    exp, names = explain_tensor(p.net, p.trace, p.optimizer, "tanh1.dx", (0, 1))
    z, out = p.trace["tanh1.in"][0, 1], p.trace["tanh1.out"][0, 1]
    assert exp.scale is not None and exp.scale.tensor == "slope"
    assert np.isclose(exp.scale.value, 1 - out * out) and not np.isclose(exp.scale.value, z)
    assert names["slope"] == "tanh'(tanh1.in)"


def test_an_input_and_a_parameter_say_that_nothing_computes_them():
    lesson = build_preset("digits-cnn")
    p = full_pass(lesson.net, lesson.x, lesson.target, lesson.optimizer)
    inp, _ = explain_tensor(p.net, p.trace, p.optimizer, "conv1.in", (0, 0, 3, 3))
    par, _ = explain_tensor(p.net, p.trace, p.optimizer, "conv1.w", (0, 0, 0, 0))
    tgt, _ = explain_tensor(p.net, p.trace, p.optimizer, "loss.target", (0,))
    assert (inp.given, par.given, tgt.given) == ("input", "param", "target")
    relu_in, names = explain_tensor(p.net, p.trace, p.optimizer, "relu1.in", (0, 2, 1, 1))
    assert relu_in.kind == "copy" and names == {"src": "conv1.out"}


def test_softmax_terms_are_the_exponentials_and_the_division_gives_p():
    lesson = build_preset("digits-cnn")
    p = full_pass(lesson.net, lesson.x, lesson.target, lesson.optimizer)
    exp, _ = explain_tensor(p.net, p.trace, p.optimizer, "loss.probs", (0, 3))
    z = p.trace["loss.in"][0].astype(np.float64)
    e = np.exp(z - z.max())
    assert [t.product for t in exp.terms] == pytest.approx(list(e))
    assert exp.then is not None and exp.then.fn == "softmax"
    assert exp.total == pytest.approx(e[3] / e.sum())


def test_an_unknown_name_is_a_key_error_and_a_bad_index_a_value_error():
    lesson = build_preset("conv-basics")
    p = full_pass(lesson.net, lesson.x, lesson.target, lesson.optimizer)
    with pytest.raises(KeyError):
        explain_tensor(p.net, p.trace, p.optimizer, "conv9.out", (0, 0, 0, 0))
    with pytest.raises(ValueError, match="outside"):
        explain_tensor(p.net, p.trace, p.optimizer, "conv1.dw", (0, 0, 3, 0))


def test_a_pooling_layers_delta_from_above_is_explained_as_where_it_goes():
    """<pool>.dout answers with its routing (the whole δ to the max position, δ / area to
    each position of an average window), from the engine's one entry point: the app no
    longer decides this reading itself."""
    layers = [Conv2D(1, 2, 3), MaxPool2D(2), Conv2D(2, 2, 1), AvgPool2D(2), Flatten(),
              Dense(2, 3)]  # fmt: skip
    net = Sequential(layers, (1, 6, 6), seed=0)
    x = np.random.default_rng(5).normal(size=(1, 1, 6, 6))
    p = full_pass(net, x, np.array([2]), OPTIMIZERS[0])
    for name, kind, weights in [("pool1.dout", "maxpool.route", [0.0, 0.0, 0.0, 1.0]),
                                ("pool2.dout", "avgpool.route", [0.25] * 4)]:  # fmt: skip
        exp, names = explain_tensor(p.net, p.trace, p.optimizer, name, (0, 1, 0, 0))
        delta = float(p.trace[name][0, 1, 0, 0])
        assert exp.kind == kind and names == {"dout": name}
        assert sorted(t.factors[1].value for t in exp.terms) == weights
        assert all(t.factors[0].value == delta for t in exp.terms)
        assert exp.total == pytest.approx(delta)
