"""RecurrentNet: the stepped pass (plan, trace names, captions) gives exactly the
numbers of train_batch; spec, weights files, clipping, generation, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest

from engine.captions import LANGS
from engine.functional import explain_lstm_cell, explain_lstm_gate
from engine.layers import LSTM, DenseLast
from engine.models import model_from_spec
from engine.network import Sequential
from engine.optim import SGD, Adam
from engine.recurrent import RecurrentNet
from engine.stepper import Pass
from engine.trace import ROLES
from engine.weights import load_network, save_network

CELLS = ("rnn", "lstm", "bilstm")
HEADS = ("many-to-one", "many-to-many")


def _net(cell="lstm", head="many-to-one", loss="softmax_cross_entropy", t=4, clip=None, **kw):
    return RecurrentNet(cell, 3, 4, 2, head, loss, seq_len=t, clip=clip, seed=1, **kw)


def _data(net, n=2, seed=0):
    rng = np.random.default_rng(seed)
    t, d = net.input_shape
    x = rng.standard_normal((n, t, d)).astype(np.float32)
    shape = (n,) if net.head == "many-to-one" else (n, t)
    if net.loss_kind == "mse":
        return x, rng.standard_normal((*shape, 2)).astype(np.float32)
    return x, rng.integers(0, 2, size=shape)


# ----------------------------------------------------------------- the plan


def test_lstm_plan_is_per_time_step_then_head_loss_backward_in_reverse_then_update():
    net = _net(t=3, clip=1.0)
    got = [(s.phase, s.layer, s.op, s.t) for s in net.plan("sgd")]
    assert got == [
        ("forward", "lstm1", "lstm_step", 0), ("forward", "lstm1", "lstm_step", 1),
        ("forward", "lstm1", "lstm_step", 2), ("forward", "head", "dense_last", None),
        ("loss", "loss", "softmax_cross_entropy", None),
        ("backward", "head", "dense_last", None), ("backward", "lstm1", "lstm_step", 2),
        ("backward", "lstm1", "lstm_step", 1), ("backward", "lstm1", "lstm_step", 0),
        ("backward", "clip", "clip_grad_norm", None),
        ("update", "lstm1", "sgd", None), ("update", "head", "sgd", None),
    ]  # fmt: skip


def test_bilstm_plan_runs_each_direction_then_concatenates():
    net = _net("bilstm", "many-to-many", t=3)
    got = [(s.phase, s.op, s.t) for s in net.plan("adam") if s.layer == "bilstm1"]
    assert got == [
        ("forward", "lstm_fwd_step", 0), ("forward", "lstm_fwd_step", 1),
        ("forward", "lstm_fwd_step", 2), ("forward", "lstm_bwd_step", 2),
        ("forward", "lstm_bwd_step", 1), ("forward", "lstm_bwd_step", 0),
        ("forward", "bilstm_concat", None),
        ("backward", "lstm_fwd_step", 2), ("backward", "lstm_fwd_step", 1),
        ("backward", "lstm_fwd_step", 0), ("backward", "lstm_bwd_step", 0),
        ("backward", "lstm_bwd_step", 1), ("backward", "lstm_bwd_step", 2),
        ("update", "adam", None),
    ]  # fmt: skip


# ------------------------------------------------- stepped == fast, exactly


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "mse"])
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("cell", CELLS)
def test_stepped_pass_equals_train_batch_exactly(cell, head, loss):
    a, b = _net(cell, head, loss, clip=0.5), _net(cell, head, loss, clip=0.5)
    x, y = _data(a)
    p = Pass(a, x, y, Adam(0.01))
    p.run()
    assert p.loss == b.train_batch(x, y, Adam(0.01))
    for k, v in a.params().items():
        np.testing.assert_array_equal(v, b.params()[k], err_msg=k)
    assert a.last_clip == b.last_clip


def test_stepped_forward_records_the_same_outputs_as_predict():
    net = _net("lstm", "many-to-many", t=5)
    x, y = _data(net)
    p = Pass(net, x, y, SGD(0.1))
    p.run(until="forward")
    np.testing.assert_array_equal(p.trace["head.out"], net.predict(x))
    np.testing.assert_array_equal(p.trace["lstm1.out"][:, 3], p.trace["lstm1.t3.h"])


# ------------------------------------------------------------- trace names


def test_lstm_step_records_the_issues_names_with_valid_roles():
    net = _net(t=5)
    p = Pass(net, *_data(net), SGD(0.1))
    steps = p.run()
    names = set(p.trace.tensors)
    for what in ("x", "h_prev", "c_prev", "f", "i", "g", "o", "f_pre", "i_pre", "g_pre",
                 "o_pre", "fc", "ig", "c", "tanh_c", "h", "dh", "dh_out", "dh_next", "dc",
                 "dc_next", "df", "di", "dg", "do", "dh_norm", "dc_norm"):  # fmt: skip
        assert f"lstm1.t3.{what}" in names, what
    for name in ("lstm1.in", "lstm1.w_ih", "lstm1.h0", "lstm1.out", "lstm1.dout", "lstm1.dx",
                 "lstm1.dw_hh", "lstm1.dh0", "lstm1.dc0", "head.w", "head.dw", "loss.value",
                 "lstm1.w_ih.before", "lstm1.w_ih.after", "lstm1.lr"):  # fmt: skip
        assert name in names, name
    for rec in p.trace.tensors.values():
        rec.validate()
        assert rec.role in ROLES
    assert p.trace.tensors["lstm1.t3.f"].role == "gate"
    assert p.trace.tensors["lstm1.t3.c"].role == "state"
    assert p.trace.tensors["lstm1.t3.f_pre"].role == "preact"
    assert p.trace.tensors["lstm1.t3.fc"].role == "activation"  # c_t's terms, sent with the step
    assert p.trace.tensors["lstm1.t3.dh"].role == "delta"
    step3 = next(s for s in steps if s.phase == "forward" and s.t == 3)
    assert step3.layer == "lstm1" and "lstm1.t3.f" in step3.tensors
    assert p.trace["lstm1.t3.dh_norm"].shape == ()


def test_bilstm_names_both_directions_by_time_position():
    net = _net("bilstm", t=4)
    x, y = _data(net)
    p = Pass(net, x, y, SGD(0.1))
    p.run()
    assert "bilstm1.bwd.t3.h" in p.trace and "bilstm1.fwd.t3.h" in p.trace
    out = p.trace["bilstm1.out"]
    np.testing.assert_array_equal(out[:, 3, :4], p.trace["bilstm1.fwd.t3.h"])
    np.testing.assert_array_equal(out[:, 3, 4:], p.trace["bilstm1.bwd.t3.h"])
    # the backward LSTM reads x_3 first: its state at t = 3 starts from zero
    np.testing.assert_array_equal(p.trace["bilstm1.bwd.t3.h_prev"], 0)
    np.testing.assert_array_equal(p.trace["bilstm1.bwd.t2.h_prev"], p.trace["bilstm1.bwd.t3.h"])
    assert "bilstm1.w_ih_reverse" in p.trace and "bilstm1.dw_hh_reverse" in p.trace
    assert p.trace["bilstm1.dh0"].shape == (2, 2, 4)


def test_rnn_records_preactivation_and_hidden_state_per_step():
    net = _net("rnn", "many-to-many", t=3, nonlinearity="relu")
    p = Pass(net, *_data(net), SGD(0.1))
    p.run()
    np.testing.assert_array_equal(p.trace["rnn1.t1.h"], np.maximum(p.trace["rnn1.t1.pre"], 0))
    np.testing.assert_array_equal(p.trace["rnn1.t2.h_prev"], p.trace["rnn1.t1.h"])
    assert {"rnn1.t0.dh", "rnn1.t0.dz", "rnn1.t0.dh_norm"} <= set(p.trace.tensors)


def test_recorded_tensors_are_never_changed_by_later_steps():
    net = _net("bilstm", "many-to-many", t=3, clip=0.1)
    p = Pass(net, *_data(net), Adam(0.1))
    snapshots = {}
    while not p.done:
        for name in p.step().tensors:
            snapshots[name] = np.array(p.trace[name], copy=True)
    for name, value in snapshots.items():
        np.testing.assert_array_equal(p.trace[name], value, err_msg=name)


def test_dh_is_the_loss_part_plus_the_next_steps_part():
    net = _net(t=4)
    p = Pass(net, *_data(net), SGD(0.1))
    p.run()
    tr = p.trace
    np.testing.assert_array_equal(tr["lstm1.t1.dh"], tr["lstm1.t1.dh_out"] + tr["lstm1.t1.dh_next"])
    np.testing.assert_array_equal(tr["lstm1.t1.dh_out"], 0)  # many-to-one: loss only at the end
    assert float(tr["lstm1.t1.dh_norm"]) == pytest.approx(np.linalg.norm(tr["lstm1.t1.dh"]))


def test_explain_reads_the_recorded_step():
    net = _net(t=3)
    p = Pass(net, *_data(net), SGD(0.1))
    p.run(until="forward")
    tr, w = p.trace, net.params()
    weights = [w[f"lstm1.{k}"] for k in ("w_ih", "w_hh", "b_ih", "b_hh")]
    e = explain_lstm_gate(tr["lstm1.t2.x"], tr["lstm1.t2.h_prev"], *weights, "f", (1, 3))
    assert e.total == pytest.approx(float(tr["lstm1.t2.f"][1, 3]), abs=1e-6)
    c = explain_lstm_cell(tr["lstm1.t2.f"], tr["lstm1.t2.c_prev"], tr["lstm1.t2.i"],
                          tr["lstm1.t2.g"], (0, 0))  # fmt: skip
    assert c.total == pytest.approx(float(tr["lstm1.t2.c"][0, 0]), abs=1e-6)


# ---------------------------------------------------------------- captions


@pytest.mark.parametrize("cell", CELLS)
def test_every_step_has_captions_in_both_languages(cell):
    net = _net(cell, "many-to-many", t=3, clip=1.0)
    p = Pass(net, *_data(net), SGD(0.1))
    for step in p.run():
        assert set(step.caption) == set(LANGS) and step.formula
        assert step.caption["en"] != step.caption["zh-CN"]
        assert "{" not in step.caption["en"] + step.caption["zh-CN"]


def test_zh_captions_use_the_lectures_terms():
    text = ""
    for cell, clip in (("rnn", None), ("lstm", 1.0), ("bilstm", None)):
        net = _net(cell, t=2, clip=clip)
        text += " ".join(s.caption["zh-CN"] for s in Pass(net, *_data(net), SGD(0.1)).run())
    for term in ("遗忘门", "输入门", "细胞状态", "输出门", "隐藏状态", "时间步", "梯度消失",
                 "梯度爆炸", "双向LSTM", "梯度裁剪"):  # fmt: skip
        assert term in text, term


def test_backward_captions_carry_the_gradient_norms():
    net = _net(t=3)
    p = Pass(net, *_data(net), SGD(0.1))
    steps = p.run()
    back = [s for s in steps if s.phase == "backward" and s.t == 1][0]
    assert f"{float(p.trace['lstm1.t1.dh_norm']):.3g}" in back.caption["en"]


# ------------------------------------------------- spec, weights, clipping


@pytest.mark.parametrize("cell", CELLS)
def test_spec_and_weights_file_round_trip(cell):
    net = _net(cell, "many-to-many", clip=2.0)
    spec = net.spec()
    assert spec["model"] == "recurrent" and spec["cell"] == cell and spec["clip"] == 2.0
    again = model_from_spec(spec)
    assert isinstance(again, RecurrentNet) and again.spec() == spec
    buf = io.BytesIO()
    save_network(net, buf, preset="test")
    loaded, meta = load_network(buf.getvalue())
    assert isinstance(loaded, RecurrentNet) and meta["preset"] == "test"
    x, _ = _data(net)
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_parameter_names_follow_pytorch():
    assert set(_net("lstm").params()) == {"lstm1.w_ih", "lstm1.w_hh", "lstm1.b_ih",
                                          "lstm1.b_hh", "head.w", "head.b"}  # fmt: skip
    bi = _net("bilstm").params()
    assert bi["bilstm1.w_ih_reverse"].shape == (16, 3) and bi["head.w"].shape == (2, 8)
    assert _net("rnn").params()["rnn1.w_hh"].shape == (4, 4)
    bound = 1 / np.sqrt(4)
    assert all(np.abs(v).max() <= bound for k, v in bi.items() if k.startswith("bilstm1"))


def test_a_sequential_spec_still_builds_a_sequential():
    spec = {"input_shape": [3], "layers": [{"type": "dense", "in_features": 3,
                                            "out_features": 2}]}  # fmt: skip
    assert type(model_from_spec(spec)) is Sequential
    with pytest.raises(ValueError, match="unknown model"):
        model_from_spec({**spec, "model": "transformer"})


def test_clipping_records_the_norm_before_and_after():
    net = _net(t=3, clip=1e-3)
    p = Pass(net, *_data(net), SGD(0.1))
    step = [s for s in p.run() if s.op == "clip_grad_norm"][0]
    before, after = float(p.trace["clip.norm_before"]), float(p.trace["clip.norm_after"])
    assert before > 1e-3 and after == pytest.approx(1e-3, rel=1e-3)
    assert f"{before:.3g}" in step.caption["en"]


def test_recurrent_layers_work_inside_a_plain_sequential():
    seq = Sequential([LSTM(3, 4), DenseLast(4, 2)], (5, 3), seed=1)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    p = Pass(seq, x, np.array([0, 1]), SGD(0.1))
    assert [s.op for s in p.run()][:3] == ["lstm", "dense_last", "softmax_cross_entropy"]
    assert np.isfinite(p.loss)


def test_generate_feeds_outputs_back():
    net = _net("lstm", "many-to-many")
    seed = np.eye(3, dtype=np.float32)[[0, 1]][None]
    out = net.generate(seed, 5)
    assert out.shape == (1, 5, 3) and set(np.unique(out)) <= {0.0, 1.0}
    assert (out.sum(axis=2) == 1).all()
    with pytest.raises(ValueError, match="unidirectional many-to-many"):
        _net("bilstm", "many-to-many").generate(seed, 2)


def test_with_seq_len_keeps_the_weights():
    net = _net(t=4)
    short = net.with_seq_len(2)
    assert short.input_shape == (2, 3)
    for k, v in net.params().items():
        np.testing.assert_array_equal(short.params()[k], v)


# ---------------------------------------------------------------- bad input


def test_bad_settings_and_inputs_are_value_errors():
    with pytest.raises(ValueError, match="unknown cell 'gru'"):
        RecurrentNet("gru")
    with pytest.raises(ValueError, match="unknown head"):
        RecurrentNet("lstm", head="one-to-one")
    with pytest.raises(ValueError, match="clip must be a positive number"):
        RecurrentNet("lstm", clip=0)
    net = _net(t=4)
    with pytest.raises(ValueError, match=r"input must have shape \(N, 4, 3\)"):
        net.check_input(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="input contains NaN"):
        net.check_input(np.full((4, 3), np.nan))
    assert net.check_input(np.zeros((4, 3))).shape == (1, 4, 3)
    with pytest.raises(ValueError, match="labels must have shape"):
        net.loss(np.zeros((2, 2), np.float32), np.zeros((2, 4), int))
    with pytest.raises(ValueError, match="bad recurrent network spec"):
        RecurrentNet.from_spec({"model": "recurrent", "hidden_size": "x"})


@pytest.mark.parametrize("cell", CELLS)
def test_explain_step_adds_up_to_every_recorded_number(cell):
    from engine.explain.recurrent_rules import recurrent_rule

    net = _net(cell, "many-to-many", t=3)
    p = Pass(net, *_data(net), SGD(0.1))
    p.run(until="backward")
    dirs = [".fwd", ".bwd"] if cell == "bilstm" else [""]
    whats = ["h"] if cell == "rnn" else ["i", "f", "g", "o", "c", "h", "dc"]
    for d in dirs:
        for t in range(3):
            for what in whats:
                name = f"{net.recurrent.name}{d}.t{t}.{what}"
                exp, names = recurrent_rule(p.trace, net, name, (1, 2))
                assert exp.total == pytest.approx(float(p.trace[name][1, 2]), abs=1e-5), name
                assert all(v in p.trace for v in names.values())
    with pytest.raises(ValueError, match="not a recorded step tensor"):
        recurrent_rule(p.trace, net, "head.w", (0, 0))


def test_a_typed_prompt_without_targets_predicts_every_step_and_stops():
    """A character model's prompt has no next characters to score against: the pass
    records the probabilities at every time step and ends there (no old targets)."""
    from engine.presets import build_preset

    lesson = build_preset("chars-en")
    p = Pass(lesson.net, lesson.x, None, SGD(0.1))
    steps = p.run(until="update")
    assert p.done and p.loss is None and steps[-1].op == "softmax"
    assert {s.phase for s in steps} == {"forward", "loss"}
    q = Pass(lesson.net, lesson.x, lesson.target, SGD(0.1))
    q.run(until="loss")
    np.testing.assert_array_equal(p.trace["loss.probs"], q.trace["loss.probs"])
    assert p.trace.tensors["loss.probs"].axes == ("sample", "time", "out")
    assert "loss.target" not in p.trace
