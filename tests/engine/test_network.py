"""Sequential networks, optimizers and the weights file."""

import io

import numpy as np
import pytest

from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from engine.network import Sequential
from engine.optim import SGD, Adam, Momentum, make_optimizer
from engine.weights import load_network, read_npz, save_network


def _net(seed=0):
    return Sequential(
        [Conv2D(1, 4, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Dense(16, 3)],
        (1, 4, 4),
        seed=seed,
    )


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = _net(1).params(), _net(1).params(), _net(2).params()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["conv1.w"], c["conv1.w"])


def test_default_init_matches_pytorch_bound():
    w = _net().params()["conv1.w"]
    assert np.abs(w).max() <= 1 / np.sqrt(9) and w.dtype == np.float32


def test_sgd_update_is_w_minus_lr_dw_and_never_in_place():
    opt = SGD(0.5)
    p = np.array([1.0, 2.0])
    new = opt.step("p", p, np.array([0.2, -0.4]))
    np.testing.assert_allclose(new, [0.9, 2.2])
    np.testing.assert_array_equal(p, [1.0, 2.0])


def test_momentum_accumulates_velocity():
    opt = Momentum(0.1, momentum=0.9)
    p = np.zeros(1)
    p = opt.step("p", p, np.ones(1))  # v = 1
    p = opt.step("p", p, np.ones(1))  # v = 1.9
    np.testing.assert_allclose(p, [-(0.1 + 0.19)])


def test_adam_first_step_moves_by_lr_times_sign():
    opt = Adam(0.01)
    new = opt.step("p", np.zeros(3), np.array([3.0, -0.5, 1e-3]))
    np.testing.assert_allclose(new, -0.01 * np.sign([3.0, -0.5, 1e-3]), rtol=1e-4)


def test_optimizer_state_round_trips_through_arrays():
    opt = Adam(0.01)
    for _ in range(3):
        opt.step("conv1.w", np.ones(2), np.ones(2))
    other = Adam(0.01)
    other.load_state_arrays(opt.state_arrays())
    assert other.steps == opt.steps
    np.testing.assert_array_equal(other.state["conv1.w"]["v"], opt.state["conv1.w"]["v"])


@pytest.mark.parametrize(
    ("spec", "text"),
    [({"type": "rmsprop", "lr": 1}, "unknown optimizer"), ({"type": "sgd", "lr": -1}, "positive"),
     ({"type": "sgd", "lr": 0.1, "beta": 2}, "bad settings"),
     ({"type": "momentum", "lr": 0.1, "momentum": 1.5}, "momentum must be")],
)  # fmt: skip
def test_bad_optimizer_settings_are_value_errors(spec, text):
    with pytest.raises(ValueError, match=text):
        make_optimizer(spec)


def test_training_lowers_the_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 1, 4, 4)).astype(np.float32)
    y = (x[:, 0, :2].sum(axis=(1, 2)) > 0).astype(int) + (x[:, 0, 2:].sum(axis=(1, 2)) > 1)
    net, opt = _net(), Adam(0.01)
    first = net.train_batch(x, y, opt)
    for _ in range(60):
        last = net.train_batch(x, y, opt)
    assert last < first * 0.5


def test_diverging_training_gives_nan_not_an_exception():
    # Linear regression with far too large a step: each update overshoots further.
    net = Sequential([Flatten(), Dense(16, 3)], (1, 4, 4), loss="mse")
    x = np.random.default_rng(0).standard_normal((4, 1, 4, 4)).astype(np.float32)
    target = np.ones((4, 3), dtype=np.float32)
    opt = SGD(50.0)
    with np.errstate(all="ignore"):
        losses = [net.train_batch(x, target, opt) for _ in range(60)]
        out = net.forward(x)
    assert losses[1] > losses[0]
    assert not np.isfinite(losses[-1])
    assert not np.isfinite(out).all()


def test_weights_round_trip_through_npz_without_pickle(tmp_path):
    net = _net(3)
    path = tmp_path / "w.npz"
    save_network(net, path, note="hello")
    loaded, meta = load_network(path)
    assert meta["note"] == "hello"
    assert loaded.spec() == net.spec()
    for k, v in net.params().items():
        np.testing.assert_array_equal(loaded.params()[k], v)
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    np.testing.assert_array_equal(loaded.forward(x), net.forward(x))
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"__spec__", "__meta__", *net.params()}


def test_bad_weights_files_are_value_errors():
    with pytest.raises(ValueError, match="not a readable .npz"):
        read_npz(b"definitely not a zip")
    buf = io.BytesIO()
    np.savez(buf, w=np.ones(2))
    with pytest.raises(ValueError, match="no __spec__"):
        read_npz(buf.getvalue())
    buf = io.BytesIO()
    net = _net()
    params = net.params()
    params.pop("dense1.b")
    np.savez(buf, __spec__=np.array(__import__("json").dumps(net.spec())), **params)
    with pytest.raises(ValueError, match="lacks parameters: dense1.b"):
        load_network(buf.getvalue())
    buf = io.BytesIO()
    np.savez(buf, __spec__=np.array('{"input_shape": [1], "layers": [{"type": "gru"}]}'))
    with pytest.raises(ValueError, match="unknown type 'gru'"):
        load_network(buf.getvalue())


def test_object_arrays_are_refused():
    buf = io.BytesIO()
    np.savez(buf, __spec__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        read_npz(buf.getvalue())


def test_input_of_wrong_shape_or_nan_is_refused():
    net = _net()
    with pytest.raises(ValueError, match=r"input must have shape \(N, 1, 4, 4\)"):
        net.forward(np.zeros((1, 1, 5, 5)))
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    with pytest.raises(ValueError, match="input contains NaN or Inf"):
        net.forward(x)
