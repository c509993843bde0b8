"""The recurrent layers' stepping protocol: planned steps carry their time step and
direction as fields, what runs a step is made from those fields alone, and a BiLSTM
is two LSTMs (the backward one on the sequence reversed in time)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.functional import bilstm, bilstm_backward, lstm
from engine.layers import LSTM, BiLSTM
from engine.optim import SGD
from engine.recurrent import RecurrentNet
from engine.stepper import Pass, PassState
from engine.trace import Trace

WEIGHTS = ("w_ih", "w_hh", "b_ih", "b_hh")


def _net(cell: str, clip: float | None = None, seed: int = 1) -> RecurrentNet:
    return RecurrentNet(cell, 3, 4, 2, "many-to-many", seq_len=4, clip=clip, seed=seed)


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, 4, 3)).astype(np.float32), rng.integers(0, 2, size=(2, 4))


def test_bilstm_steps_name_their_direction_and_time_as_fields():
    plan = _net("bilstm").plan("sgd")
    ops = {"lstm_fwd_step": "fwd", "lstm_bwd_step": "bwd"}
    for step in (s for s in plan if s.layer == "bilstm1" and s.phase != "update"):
        if step.op == "bilstm_concat":
            assert (step.phase, step.t, step.direction) == ("forward", None, None)
        else:
            assert step.direction == ops[step.op] and step.t is not None, step
    others = [s for s in plan if s.layer != "bilstm1" or s.phase == "update"]
    assert all(s.direction is None for s in others)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_one_way_cells_plan_time_steps_without_a_direction(cell):
    steps = [s for s in _net(cell).plan("sgd") if s.t is not None]
    assert len(steps) == 8 and all(s.direction is None for s in steps)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "bilstm"])
def test_steps_planned_by_one_net_run_on_a_fresh_twin_with_the_same_numbers(cell):
    """A runner is made from its planned step alone: the twin never plans."""
    x, y = _data()
    net = _net(cell, clip=0.5)
    p = Pass(net, x, y, SGD(0.1))
    p.run()
    twin = _net(cell, clip=0.5)
    state, trace, opt = PassState(twin.check_input(x), y), Trace(), SGD(0.1)
    for step in p.plan:
        twin.runner(step)(state, trace, opt)
    assert state.loss == p.loss
    assert list(trace.tensors) == list(p.trace.tensors)
    for name in p.trace.tensors:
        np.testing.assert_array_equal(trace[name], p.trace[name], err_msg=name)


def test_bilstm_is_a_forward_lstm_and_a_backward_lstm_on_the_reversed_sequence():
    layer = _net("bilstm").recurrent
    assert isinstance(layer, BiLSTM)
    assert isinstance(layer.fwd, LSTM) and isinstance(layer.bwd, LSTM)
    x, _ = _data(3)
    out = layer.forward(x)
    p = layer.params
    hf, _ = lstm(x, None, None, *(p[k] for k in WEIGHTS))
    hb, _ = lstm(x[:, ::-1], None, None, *(p[f"{k}_reverse"] for k in WEIGHTS))
    np.testing.assert_array_equal(out[:, :, :4], hf)
    np.testing.assert_array_equal(out[:, :, 4:], hb[:, ::-1])


def test_bilstm_layer_equals_the_functional_bilstm_forward_and_backward_exactly():
    layer = _net("bilstm").recurrent
    x, _ = _data(4)
    dout = np.random.default_rng(5).standard_normal((2, 4, 8)).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(dout)
    want, cache = bilstm(x, None, None, *layer.weights())
    grads = bilstm_backward(dout, cache)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(dx, grads["dx"])
    assert list(layer.grads) == list(layer.param_names())
    for key, g in layer.grads.items():
        np.testing.assert_array_equal(g, grads[f"d{key}"], err_msg=key)


def test_bilstm_lstms_run_on_the_layers_current_parameters():
    """The layer holds the parameters under torch's names (what updates and weights
    files write); set or updated, they are what both LSTMs run with next."""
    net = _net("bilstm")
    x, y = _data(6)
    rng = np.random.default_rng(7)
    net.set_params({k: rng.standard_normal(v.shape) for k, v in net.params().items()})
    layer = net.recurrent
    np.testing.assert_array_equal(layer.forward(x), bilstm(x, None, None, *layer.weights())[0])
    Pass(net, x, y, SGD(0.5)).run()  # an update replaces the arrays
    np.testing.assert_array_equal(layer.forward(x), bilstm(x, None, None, *layer.weights())[0])
