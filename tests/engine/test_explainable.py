"""engine.explain.explainable says, from a tensor's name alone, whether explain_tensor
answers for it: the two agree on every tensor of a pass, and on names no rule
answers (explain_tensor raises NotExplainable exactly where explainable says no)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.explain import NotExplainable, explain_tensor, explainable
from engine.layers import Dense, Sigmoid
from engine.network import Sequential
from engine.optim import make_optimizer
from engine.presets import build_preset
from engine.stepper import Pass


def agrees(p: Pass, name: str) -> bool:
    """explainable's answer for `name`, checked against explain_tensor at its first cell."""
    flag = explainable(p.net, p.optimizer, name)
    first = (0,) * p.trace[name].ndim
    if flag:
        explain_tensor(p.net, p.trace, p.optimizer, name, first)  # answers: no raise
    else:
        with pytest.raises(NotExplainable):
            explain_tensor(p.net, p.trace, p.optimizer, name, first)
    return flag


def preset_pass(name: str, opt: dict | None = None) -> Pass:
    lesson = build_preset(name)
    p = Pass(lesson.net, lesson.x, lesson.target, make_optimizer(opt or lesson.optimizer))
    p.run()
    return p


@pytest.mark.parametrize(
    ("preset", "opt"),
    [("digits-cnn", None), ("pooling", None), ("bilstm-memory", None), ("memory-rnn", None),
     ("memory-lstm", {"type": "momentum", "lr": 0.1, "momentum": 0.9})],
)  # fmt: skip
def test_explainable_agrees_with_explain_tensor_on_every_tensor_of_a_pass(preset, opt):
    p = preset_pass(preset, opt)
    names = [n for s in p.trace.steps for n in s.tensors]
    flags = [agrees(p, n) for n in names]
    assert len(names) > 8 and all(flags)  # every tensor a pass records answers


def test_explainable_agrees_with_explain_tensor_on_a_bp_pass_under_adam():
    net = Sequential([Dense(2, 4), Sigmoid(), Dense(4, 3)], (2,), seed=1)
    x, y = np.array([[0.5, -1.0], [1.5, 0.2]], np.float32), np.array([2, 0])
    p = Pass(net, x, y, make_optimizer({"type": "adam", "lr": 0.01}))
    p.run()
    names = [n for s in p.trace.steps for n in s.tensors]
    assert any(n.endswith(".m") for n in names)
    assert all(agrees(p, n) for n in names)


@pytest.mark.parametrize(
    ("preset", "name"),
    [("digits-cnn", "conv1.foo"), ("digits-cnn", "pool1.partial"), ("digits-cnn", "nope.out"),
     ("digits-cnn", "loss.other"), ("digits-cnn", "conv1.w.v"),  # SGD keeps no velocity
     ("bilstm-memory", "bilstm1.t2.h"), ("bilstm-memory", "bilstm1.fwd.t2.foo"),
     ("bilstm-memory", "bilstm1.foo"), ("bilstm-memory", "clip.other")],
)  # fmt: skip
def test_a_name_no_rule_answers_is_not_explainable_and_explain_says_so(preset, name):
    """A recorded tensor with an unknown suffix (or a direction a BiLSTM lacks, or an
    optimizer state SGD does not keep): explainable says no, explain_tensor raises
    NotExplainable (not a KeyError, not a crash inside a rule)."""
    p = preset_pass(preset)
    like = p.trace[next(iter(p.trace.tensors))]
    axes = tuple(f"a{i}" for i in range(like.ndim))
    p.trace.record(name, "activation", np.zeros_like(like), axes)
    assert agrees(p, name) is False


def test_explainable_reads_only_the_name_not_the_trace():
    """It needs no pass at all: a network and an optimizer answer for any name."""
    lesson = build_preset("memory-lstm")
    opt = make_optimizer(lesson.optimizer)
    assert explainable(lesson.net, opt, "lstm1.t3.f")
    assert explainable(lesson.net, opt, "head.dw")
    assert not explainable(lesson.net, opt, "lstm1.t3.q")
