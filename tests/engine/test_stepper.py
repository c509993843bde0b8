"""A pass stepped one step at a time: the plan, the trace, captions, the update."""

import copy
import pickle

import numpy as np
import pytest

from engine.captions import LANGS, caption_keys
from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sigmoid, Tanh
from engine.network import Sequential
from engine.optim import SGD, Adam
from engine.stepper import Pass, PassState
from engine.trace import PHASES, Trace


def _pass(opt=None):
    net = Sequential(
        [Conv2D(1, 2, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(8, 3)], (1, 6, 6), seed=2
    )
    x = np.random.default_rng(1).standard_normal((1, 1, 6, 6)).astype(np.float32)
    return net, Pass(net, x, np.array([2]), opt or SGD(0.1))


def test_plan_is_forward_loss_backward_reversed_then_update():
    _, p = _pass()
    got = [(s.phase, s.layer) for s in p.plan]
    assert got == [
        ("forward", "conv1"), ("forward", "relu1"), ("forward", "pool1"),
        ("forward", "flatten1"), ("forward", "dense1"), ("loss", "loss"),
        ("backward", "dense1"), ("backward", "flatten1"), ("backward", "pool1"),
        ("backward", "relu1"), ("backward", "conv1"),
        ("update", "conv1"), ("update", "dense1"),
    ]  # fmt: skip
    assert [s.index for s in p.plan] == list(range(len(p.plan)))


def test_steps_run_in_order_and_name_their_tensors():
    _, p = _pass()
    first = p.step()
    assert (first.index, first.phase, first.layer) == (0, "forward", "conv1")
    assert first.tensors == ["conv1.in", "conv1.w", "conv1.b", "conv1.partial", "conv1.out"]
    rest = p.run(until="forward")
    assert [s.layer for s in rest] == ["relu1", "pool1", "flatten1", "dense1"]
    loss = p.run(count=1)[0]
    assert loss.phase == "loss" and "loss.value" in loss.tensors
    assert p.loss == pytest.approx(float(p.trace["loss.value"]))
    p.run()
    assert p.done
    with pytest.raises(IndexError, match="complete"):
        p.step()


def test_run_until_unknown_phase_is_a_value_error():
    _, p = _pass()
    with pytest.raises(ValueError, match="until must be one of"):
        p.run(until="sideways")


def test_update_step_records_before_after_change_and_lr():
    net, p = _pass(SGD(0.25))
    p.run(until="backward")
    dw = p.trace["conv1.dw"]
    before = net.params()["conv1.w"]
    step = p.step()
    assert step.phase == "update" and step.layer == "conv1"
    for name in ["conv1.w.before", "conv1.w.after", "conv1.w.change", "conv1.lr"]:
        assert name in step.tensors
    np.testing.assert_array_equal(p.trace["conv1.w.before"], before)
    np.testing.assert_allclose(p.trace["conv1.w.after"], before - 0.25 * dw, rtol=1e-6)
    np.testing.assert_array_equal(net.params()["conv1.w"], p.trace["conv1.w.after"])
    # The forward step's record of the weights is the pre-update array, untouched.
    np.testing.assert_array_equal(p.trace["conv1.w"], before)
    assert float(p.trace["conv1.lr"]) == 0.25


def test_a_full_pass_matches_train_batch():
    net_a, p = _pass(Adam(0.01))
    p.run()
    net_b, q = _pass(Adam(0.01))
    net_b.train_batch(q.x, q.target, q.optimizer)
    for k, v in net_a.params().items():
        np.testing.assert_allclose(v, net_b.params()[k], rtol=1e-6)


def test_mse_onehot_pass_records_the_one_hot_target_and_the_output_delta():
    net = Sequential([Dense(2, 3), Tanh(), Dense(3, 3), Sigmoid()], (2,), "mse_onehot", seed=4)
    x = np.array([[0.5, -1.0]], dtype=np.float32)
    p = Pass(net, x, np.array([1]), SGD(0.1))
    loss = p.run(until="loss")[-1]
    assert (loss.phase, loss.op) == ("loss", "mse_onehot")
    y, t = p.trace["loss.in"], p.trace["loss.target"]
    np.testing.assert_array_equal(y, p.trace["sigmoid1.out"])
    np.testing.assert_array_equal(t, [[0, 1, 0]])
    np.testing.assert_array_equal(p.trace["loss.labels"], [1])
    assert float(p.trace["loss.value"]) == pytest.approx(np.mean((y - t) ** 2), rel=1e-6)
    np.testing.assert_allclose(p.trace["loss.dx"], 2 * (y - t) / 3, rtol=1e-6)
    assert "one-hot" in loss.caption["en"] and "均方误差" in loss.caption["zh-CN"]
    assert "/ 3" in loss.caption["en"] and "/ 3" in loss.formula
    p.run(until="backward")
    # the output neurons' delta: dL/dy times the sigmoid's slope y (1 - y)
    delta = p.trace["loss.dx"] * y * (1 - y)
    np.testing.assert_allclose(p.trace["dense2.dout"], delta, rtol=1e-6)


def test_every_step_has_captions_in_both_languages_and_a_formula():
    _, p = _pass()
    for step in p.run():
        assert set(step.caption) == set(LANGS)
        assert step.caption["en"] and step.caption["zh-CN"] and step.formula
        assert step.caption["en"] != step.caption["zh-CN"]
        assert "{" not in step.caption["en"] + step.caption["zh-CN"]
        assert step.phase in PHASES


def test_zh_captions_use_the_lectures_terms():
    _, p = _pass()
    text = " ".join(s.caption["zh-CN"] for s in p.run())
    for term in ["卷积核", "池化", "最大值", "delta 误差", "全连接", "学习率", "梯度下降"]:
        assert term in text, term


def test_caption_catalog_covers_both_languages_for_every_entry():
    from engine.captions import caption

    values = {k: 1 for k in ["layer", "f", "c", "kh", "kw", "s", "p", "oh", "ow", "slope",
                             "shape", "size", "d", "m", "k", "n", "nk", "area", "lr",
                             "momentum",
                             # recurrent steps (engine.recurrent)
                             "t", "T", "h", "nonlinearity", "h_mean", "i_mean", "f_mean",
                             "o_mean", "dh_norm", "dc_norm", "max_norm", "norm_before",
                             "norm_after", "scale"]}  # fmt: skip
    for phase, op in caption_keys():
        text, formula = caption(phase, op, **values)
        assert text["en"] and text["zh-CN"] and formula


def test_a_copied_network_steps_its_own_layers():
    """What runs a step is bound to the layers; a deep copy (or a pickle) binds its own."""
    net = Sequential([Flatten(), Dense(4, 3)], (2, 2), seed=1)
    x, y = np.ones((1, 2, 2), np.float32), np.array([2])
    Pass(net, x, y, SGD(0.1)).run()  # plans and runners made
    before = net.layers[1].params["w"].copy()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        clone.layers[1].params["w"] = clone.layers[1].params["w"] * 2
        p = Pass(clone, x, y, SGD(0.1))
        p.run(until="forward")
        np.testing.assert_array_equal(p.trace["dense1.w"], before * 2)
        want = x.reshape(1, -1) @ (before * 2).T + clone.layers[1].params["b"]
        np.testing.assert_allclose(p.trace["dense1.out"], want, rtol=1e-6)
        p.run()  # backward and the update, on the clone's own layers
        assert not np.array_equal(clone.layers[1].params["w"], before * 2)
        np.testing.assert_array_equal(net.layers[1].params["w"], before)


def test_a_step_is_run_from_its_planned_fields_alone_with_no_earlier_call():
    """`runner` needs nothing prepared by `plan` (runners() used to raise KeyError on a
    network that had not planned yet): steps planned by one network run on a fresh
    twin, and give the pass's very numbers."""
    net, p = _pass()
    p.run()
    twin = Sequential(
        [Conv2D(1, 2, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(8, 3)], (1, 6, 6), seed=2
    )
    state = PassState(p.x, p.target)
    trace, opt = Trace(), SGD(0.1)
    for step in p.plan:  # never twin.plan(...)
        twin.runner(step)(state, trace, opt)
    assert state.loss == p.loss
    for name in ("conv1.out", "loss.dx", "conv1.dw", "dense1.w.after"):
        np.testing.assert_array_equal(trace[name], p.trace[name], err_msg=name)


def test_record_all_refuses_groups_of_unequal_lengths():
    trace = Trace()
    with pytest.raises(ValueError, match="2 names, 1 metas, 2 values"):
        trace.record_all(("a.x", "a.y"), (("input", ()),), (np.zeros(()), np.zeros(())))
    trace.record("a.z", "input", np.zeros(()), ())
    assert "a.z" in trace and "a.x" not in trace  # nothing half-recorded


def test_a_pass_without_a_target_ends_with_the_prediction_and_changes_no_weight():
    """A drawing nobody has labelled: forward steps, then a loss-phase step that gives
    softmax's probabilities (the very numbers a labelled pass records) and says the
    loss needs a label; no loss value, no delta, no backward and no update."""
    net, labelled = _pass()
    x = labelled.x
    before = {k: v.copy() for k, v in net.params().items()}
    p = Pass(net, x, None, SGD(0.1))
    assert p.needs_target and p.target is None
    assert [s.phase for s in p.plan] == ["forward"] * 5 + ["loss"]
    assert (p.plan[-1].layer, p.plan[-1].op) == ("loss", "softmax")
    steps = p.run(until="update")
    assert p.done and p.loss is None and len(steps) == 6
    last = steps[-1]
    assert last.tensors == ["loss.in", "loss.probs"]
    assert "no label" in last.caption["en"] and "没有标签" in last.caption["zh-CN"]
    for name in ("loss.value", "loss.target", "loss.dx", "dense1.dx", "conv1.w.after"):
        assert name not in p.trace
    for k, v in before.items():
        np.testing.assert_array_equal(net.params()[k], v)
    labelled.run(until="loss")
    np.testing.assert_array_equal(p.trace["loss.probs"], labelled.trace["loss.probs"])
    assert p.trace.tensors["loss.probs"].axes == labelled.trace.tensors["loss.probs"].axes


def test_a_regression_pass_without_a_target_records_its_output_and_stops():
    net = Sequential([Conv2D(1, 1, 3)], (1, 5, 5), loss="mse", seed=3)
    x = np.ones((1, 1, 5, 5), np.float32)
    p = Pass(net, x, None, SGD(0.1))
    steps = p.run()
    assert [(s.phase, s.op) for s in steps] == [("forward", "conv2d"), ("loss", "no_target")]
    np.testing.assert_array_equal(p.trace["loss.in"], p.trace["conv1.out"])
    assert "9 output values" in steps[-1].caption["en"] and p.loss is None


def test_a_labelled_pass_keeps_the_models_own_plan():
    """Only a pass without a target gets the short plan: a labelled one walks the very
    list the model planned (nothing is copied or checked per step)."""
    net, p = _pass()
    assert p.plan is net.plan("sgd") and not p.needs_target
