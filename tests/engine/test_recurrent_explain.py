"""Every number a recurrent layer records explains itself: for every tensor of a full
pass (forward, loss, backward, clipping, update) that engine.explain.recurrent_rules owns,
the explanation's terms add up to the recorded value, and the terms are the ones
the lecture names (a weight gradient is a sum over time steps and samples)."""

import math
import re

import numpy as np
import pytest

from engine.explain.recurrent_rules import recurrent_rule
from engine.functional import explain_norm
from engine.optim import SGD, make_optimizer
from engine.presets import build_preset
from engine.recurrent import RecurrentNet
from engine.stepper import Pass

PRESETS = [
    ("sine-rnn", {}), ("sine-lstm", {}), ("memory-rnn", {}), ("memory-lstm", {}),
    ("memory-lstm-40", {}), ("bilstm-memory", {}), ("vanishing-rnn", {}),
    ("vanishing-rnn", {"nonlinearity": "relu"}),
    ("vanishing-rnn", {"nonlinearity": "relu", "scale": 2.0}),
    ("vanishing-rnn", {"scale": 0.25}), ("chars-en", {}), ("chars-zh", {}),
    ("seq-one-to-many", {}), ("seq-many-to-one", {}), ("seq-many-to-many", {}),
]  # fmt: skip
SLOPE = re.compile(r"'\(")  # a slope factor: σ'(z_i), tanh'(c_t), relu'(z), ...


def _owned(net: RecurrentNet, name: str) -> bool:
    """The names engine.explain.explain_tensor sends to recurrent_rule: the recurrent layer's
    (but its parameters and update tensors) and the clipping's."""
    rec = net.recurrent
    layer, _, what = name.partition(".")
    if layer == "clip":
        return True
    key, _, rest = what.partition(".")
    return layer == rec.name and not (
        what in rec.params or what == "lr" or (key in rec.params and rest)
    )


def _error_scale(exp) -> float:
    """How large the numbers summed were, before any cancellation: a float32 pass rounds
    each of them. A slope computed from a rounded value (1 − g² with g near ±1) is only
    known to float32's absolute precision, so it counts as 1 here."""
    scale = 0.0
    for term in exp.terms:
        if term.expr is not None:
            scale += abs(term.product)
        else:
            scale += math.prod(
                1.0 if SLOPE.search(f.tensor) else abs(f.value) for f in term.factors
            )
    return scale + (abs(exp.constant.value) if exp.constant else 0.0)


def _indices(shape: tuple[int, ...], rng: np.random.Generator) -> set[tuple[int, ...]]:
    first = tuple(0 for _ in shape)
    last = tuple(s - 1 for s in shape)
    return {first, last, tuple(int(rng.integers(s)) for s in shape)}


def _check_every_owned_tensor(net: RecurrentNet, trace) -> list[str]:
    rng = np.random.default_rng(0)
    checked = []
    for name in list(trace.tensors):
        if not _owned(net, name):
            continue
        arr = trace[name]
        for idx in _indices(arr.shape, rng):
            exp, names = recurrent_rule(trace, net, name, idx)
            value = float(arr[idx])
            assert np.isclose(exp.total, value, rtol=1e-4, atol=1e-6 * _error_scale(exp)), (
                name, idx, exp.total, value, exp.formula,
            )  # fmt: skip
            assert exp.index == idx
            assert all(v in trace for v in names.values()), (name, names)
        checked.append(name)
    return checked


def _full_pass(net, x, target, opt) -> Pass:
    p = Pass(net, x, target, opt)
    p.run()
    return p


@pytest.mark.parametrize(("preset", "options"), PRESETS)
def test_every_recorded_recurrent_number_of_a_preset_adds_up(preset, options):
    lesson = build_preset(preset, **options)
    net = lesson.net
    p = _full_pass(net, lesson.x, lesson.target, make_optimizer(lesson.optimizer))
    checked = _check_every_owned_tensor(net, p.trace)
    whats = {re.sub(r"^.*\.t\d+\.", "", n) for n in checked}
    # the forward, the backward and the gradients all answered
    common = {"x", "h_prev", "h", "dh_out", "dh_next", "dh", "dh_norm"}
    cell = {"i", "f", "g", "o", "fc", "ig", "c", "tanh_c", "i_pre", "dc", "di", "df", "dg",
            "do", "dc_next"}  # fmt: skip
    assert common <= whats
    assert (cell if net.recurrent.op != "rnn" else {"pre", "dz"}) <= whats
    rec = net.recurrent.name
    grads = {
        f"{rec}.{k}" for k in ("in", "out", "dout", "dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh")
    }
    assert grads <= set(checked)
    assert ({"clip.norm_before", "clip.scale", "clip.norm_after"} <= set(checked)) == (
        net.clip is not None
    )


def _data(net: RecurrentNet, n: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    t_len, d = net.input_shape
    x = rng.standard_normal((n, t_len, d))
    k = net.sizes["output_size"]
    if net.loss_kind == "mse":
        shape = (n, k) if net.head == "many-to-one" else (n, t_len, k)
        return x, rng.standard_normal(shape)
    return x, rng.integers(0, k, (n,) if net.head == "many-to-one" else (n, t_len))


BUILT = [
    dict(cell="rnn", nonlinearity="relu", head="many-to-many", clip=0.5),
    dict(cell="rnn", head="many-to-one"),
    dict(cell="lstm", head="many-to-many", loss="mse", clip=1.0),
    dict(cell="lstm", head="many-to-one", clip=100.0),  # a clip that does not clip
    dict(cell="bilstm", head="many-to-many", clip=0.5),
    dict(cell="bilstm", head="many-to-one"),
]


@pytest.mark.parametrize("spec", BUILT, ids=lambda s: "-".join(str(v) for v in s.values()))
def test_every_recorded_number_of_a_batch_of_two_adds_up(spec):
    loss = spec.pop("loss", "softmax_cross_entropy")
    sizes = dict(input_size=3, hidden_size=4, output_size=3, seq_len=5)
    net = RecurrentNet(**sizes, loss=loss, seed=2, **spec)
    p = _full_pass(net, *_data(net, 2), SGD(0.1))
    checked = _check_every_owned_tensor(net, p.trace)
    assert len(checked) > 5 * 8


@pytest.fixture(scope="module")
def lstm_pass():
    net = RecurrentNet("lstm", input_size=3, hidden_size=4, output_size=3, head="many-to-one",
                       seq_len=5, clip=0.5, seed=1)  # fmt: skip
    return net, _full_pass(net, *_data(net, 2), SGD(0.1)).trace


def test_a_weight_gradient_is_a_delta_times_an_input_per_step_and_sample(lstm_pass):
    net, tr = lstm_pass
    hid = 4
    exp, _ = recurrent_rule(tr, net, "lstm1.dw_ih", (hid + 2, 1))  # forget gate, unit 2
    assert len(exp.terms) == 5 * 2  # T steps x N samples
    first = exp.terms[0].factors
    assert [(f.tensor, f.index) for f in first] == [("lstm1.t0.df", (0, 2)), ("lstm1.t0.x", (0, 1))]
    assert {f.tensor for t in exp.terms for f in t.factors} == (
        {f"lstm1.t{t}.df" for t in range(5)} | {f"lstm1.t{t}.x" for t in range(5)}
    )
    hh, _ = recurrent_rule(tr, net, "lstm1.dw_hh", (3 * hid + 1, 3))  # output gate
    assert {f.tensor for f in hh.terms[-1].factors} == {"lstm1.t4.do", "lstm1.t4.h_prev"}
    db, _ = recurrent_rule(tr, net, "lstm1.db_hh", (0,))
    assert len(db.terms) == 10 and all(len(t.factors) == 1 for t in db.terms)


def test_a_deltas_terms_name_where_they_come_from(lstm_pass):
    net, tr = lstm_pass
    out, _ = recurrent_rule(tr, net, "lstm1.t1.dh_out", (1, 2))  # many-to-one
    assert out.total == 0 and "many-to-one" in out.formula
    nxt, _ = recurrent_rule(tr, net, "lstm1.t1.dh_next", (1, 2))
    assert len(nxt.terms) == 4 * 4  # every gate row of step 2, through W_hh
    assert {f.tensor for f in nxt.terms[0].factors} == {"lstm1.t2.di", "lstm1.w_hh"}
    last, _ = recurrent_rule(tr, net, "lstm1.t4.dh_next", (1, 2))
    assert last.given == "state" and last.total == 0
    dh, names = recurrent_rule(tr, net, "lstm1.t1.dh", (1, 2))
    assert [names[t.factors[0].tensor] for t in dh.terms] == ["lstm1.t1.dh_out", "lstm1.t1.dh_next"]
    di, names = recurrent_rule(tr, net, "lstm1.t3.di", (0, 1))
    assert [names.get(f.tensor, f.tensor) for f in di.terms[0].factors] == [
        "lstm1.t3.dc",
        "lstm1.t3.g",
        "σ'(z_i)",
    ]
    i = float(tr["lstm1.t3.i"][0, 1])
    assert di.terms[0].factors[2].value == pytest.approx(i * (1 - i))
    norm, _ = recurrent_rule(tr, net, "lstm1.t3.dh_norm", ())
    assert len(norm.terms) == 2 * 4 and norm.then.fn == "sqrt"
    dx, _ = recurrent_rule(tr, net, "lstm1.dx", (1, 3, 2))
    assert len(dx.terms) == 4 * 4
    assert {f.tensor for f in dx.terms[0].factors} == {"lstm1.t3.di", "lstm1.w_ih"}
    clip, _ = recurrent_rule(tr, net, "clip.norm_before", ())
    assert [t.factors[0].tensor for t in clip.terms] == [
        "lstm1.dw_ih",
        "lstm1.dw_hh",
        "lstm1.db_ih",
        "lstm1.db_hh",
        "head.dw",
        "head.db",
    ]


def test_a_step_reads_the_state_the_step_before_left(lstm_pass):
    net, tr = lstm_pass
    first, names = recurrent_rule(tr, net, "lstm1.t0.h_prev", (1, 3))
    assert names == {"src": "lstm1.h0"} and first.kind == "copy"
    later, names = recurrent_rule(tr, net, "lstm1.t3.c_prev", (1, 3))
    assert names == {"src": "lstm1.t2.c"} and later.total == float(tr["lstm1.t2.c"][1, 3])
    x, names = recurrent_rule(tr, net, "lstm1.t3.x", (1, 2))
    assert names == {"in": "lstm1.in"} and x.terms[0].factors[0].index == (1, 3, 2)
    # c's terms each explain as their one product, and c reads them: f · c_(t-1) + i · g
    fc, names = recurrent_rule(tr, net, "lstm1.t3.fc", (1, 3))
    assert [f.tensor for f in fc.terms[0].factors] == ["f", "c_prev"] and len(fc.terms) == 1
    assert names["f"] == "lstm1.t3.f" and names["c_prev"] == "lstm1.t3.c_prev"
    c, _ = recurrent_rule(tr, net, "lstm1.t3.c", (1, 3))
    assert [t.product for t in c.terms][0] == fc.total and c.formula == "c_t = f · c_(t-1) + i · g"
    ig, _ = recurrent_rule(tr, net, "lstm1.t3.ig", (1, 3))
    assert ig.total == c.terms[1].product  # in float64; the recorded float32 to its precision
    assert ig.total == pytest.approx(float(tr["lstm1.t3.ig"][1, 3]), rel=1e-6)
    tc, _ = recurrent_rule(tr, net, "lstm1.t3.tanh_c", (0, 0))
    assert tc.then.fn == "tanh" and tc.to_dict()["activation"]["z"] == float(tr["lstm1.t3.c"][0, 0])
    h0, _ = recurrent_rule(tr, net, "lstm1.h0", (0, 0))
    assert h0.given == "state"


def test_a_bilstm_runs_its_backward_direction_from_the_end():
    net = RecurrentNet("bilstm", input_size=2, hidden_size=3, output_size=2, seq_len=4, seed=5)
    tr = _full_pass(net, *_data(net, 2), SGD(0.1)).trace
    _, names = recurrent_rule(tr, net, "bilstm1.bwd.t3.h_prev", (0, 1))
    assert names == {"src": "bilstm1.h0"}
    first, _ = recurrent_rule(tr, net, "bilstm1.bwd.t3.h_prev", (0, 1))
    assert first.terms[0].factors[0].index == (1, 0, 1)  # h0 of the backward direction
    _, names = recurrent_rule(tr, net, "bilstm1.bwd.t1.h_prev", (0, 1))
    assert names == {"src": "bilstm1.bwd.t2.h"}
    out, names = recurrent_rule(tr, net, "bilstm1.out", (1, 2, 4))
    assert names == {"src": "bilstm1.bwd.t2.h"} and out.terms[0].factors[0].index == (1, 1)
    dx, _ = recurrent_rule(tr, net, "bilstm1.dx", (0, 1, 0))
    assert len(dx.terms) == 2 * 4 * 3  # both directions' gate rows
    rev, _ = recurrent_rule(tr, net, "bilstm1.dw_ih_reverse", (0, 0))
    assert {f.tensor for f in rev.terms[0].factors} == {"bilstm1.bwd.t0.di", "bilstm1.bwd.t0.x"}
    dh0, _ = recurrent_rule(tr, net, "bilstm1.dh0", (1, 0, 2))
    assert {f.tensor for f in dh0.terms[0].factors} == {"bilstm1.bwd.t3.di", "bilstm1.w_hh_reverse"}


def test_an_unknown_name_or_index_says_what_is_explainable(lstm_pass):
    net, tr = lstm_pass
    with pytest.raises(ValueError, match="explainable"):
        recurrent_rule(tr, net, "head.w", (0, 0))
    with pytest.raises(ValueError, match="not recorded"):
        recurrent_rule(tr, net, "lstm1.t9.h", (0, 0))
    with pytest.raises(ValueError, match="outside lstm1.t2.h"):
        recurrent_rule(tr, net, "lstm1.t2.h", (0, 4))


def test_a_norm_too_small_to_square_is_still_explained_as_itself():
    """A float64 gradient of 1e-200 (vanishing-rnn runs in float64): its squares
    underflow even in float64, the norm is still 5e-200 (as the layer records it)."""
    dh = np.array([[3e-200, 4e-200]])
    exp = explain_norm(dh, "rnn.dh_norm", "dh_t")
    assert exp.total == pytest.approx(5e-200, rel=1e-12)
    assert len(exp.terms) == 2 and "float64" in exp.then.formula
    small = explain_norm(np.array([[3.0, 4.0]], np.float32), "rnn.dh_norm", "dh_t")
    assert [t.product for t in small.terms] == [9.0, 16.0] and small.total == 5.0
