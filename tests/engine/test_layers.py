"""Every layer class, gradient-checked through its own forward/backward, and
through a whole Sequential network (float64, centred differences)."""

import numpy as np
import pytest

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
from engine.trace import Trace
from tests.engine.gradcheck import check_grad, projection

RNG = np.random.default_rng(5)


def _image(shape):
    # Distinct values well away from 0 keep max pooling and ReLU differentiable.
    x = RNG.permutation(np.prod(shape)).reshape(shape).astype(np.float64)
    return (x - x.mean()) / x.size * 4 + np.sign(x - x.mean()) * 0.1


def _check_layer(layer, x, input_shape):
    net = Sequential([layer], input_shape, loss="mse", dtype=np.float64, seed=3)
    out = layer.forward(x)
    r = projection(out.shape)
    dx = layer.backward(r.copy())
    arrays = {"x": x, **layer.params}
    analytic = {"x": dx, **layer.grads}
    check_grad(lambda: float(np.sum(layer.forward(x) * r)), arrays, analytic)
    assert net.layers[0] is layer


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (Conv2D(2, 3, 3, stride=1, padding=1), (2, 2, 5, 5)),
        (Conv2D(2, 2, (2, 3), stride=(2, 1), padding=(0, 2)), (1, 2, 6, 5)),
        (MaxPool2D(2), (2, 2, 4, 6)),
        (MaxPool2D(3, stride=2), (1, 2, 7, 7)),
        (AvgPool2D(2), (2, 1, 4, 4)),
        (ReLU(), (2, 3, 3, 3)),
        (LeakyReLU(0.1), (2, 3, 3, 3)),
        (Sigmoid(), (2, 5)),
        (Tanh(), (2, 5)),
        (Flatten(), (2, 2, 3, 3)),
        (Dense(6, 4), (3, 6)),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, tuple) else str(v),
)
def test_layer_gradients_match_finite_differences(layer, shape):
    _check_layer(layer, _image(shape), shape[1:])


def test_backward_before_forward_raises():
    layer = Conv2D(1, 1, 3)
    Sequential([layer], (1, 5, 5), loss="mse")
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.zeros((1, 1, 3, 3)))


def _cnn(dtype=np.float64):
    layers = [Conv2D(1, 3, 3, padding=1), Tanh(), MaxPool2D(2), Conv2D(3, 4, 2), ReLU()]
    layers += [AvgPool2D(1), Flatten(), Dense(4, 3), Sigmoid(), Dense(3, 3)]
    return Sequential(layers, (1, 4, 4), dtype=dtype, seed=11)


def test_whole_network_gradients_match_finite_differences():
    net = _cnn()
    x = RNG.standard_normal((2, 1, 4, 4))
    y = np.array([0, 2])

    def loss():
        return net.loss(net.forward(x), y)[0]

    # Analytic gradients: one backward pass, through every layer, into the input.
    _, dout = net.loss(net.forward(x), y)
    dx = net.backward(dout)
    params = net.params()
    grads = {f"{lay.name}.{k}": g for lay in net.layers for k, g in lay.grads.items()}
    check_grad(loss, {"x": x, **params}, {"x": dx, **grads})


def test_mse_network_gradients_match_finite_differences():
    net = Sequential(
        [Conv2D(2, 2, 3, stride=2, padding=1)], (2, 5, 5), loss="mse", dtype=np.float64
    )
    x = RNG.standard_normal((1, 2, 5, 5))
    t = RNG.standard_normal((1, 2, 3, 3))
    _, dout = net.loss(net.forward(x), t)
    dx = net.backward(dout)
    layer = net.layers[0]
    check_grad(
        lambda: net.loss(net.forward(x), t)[0],
        {"x": x, **layer.params},
        {"x": dx, **layer.grads},
    )


def test_bp_network_with_sigmoid_outputs_and_mse_onehot_matches_finite_differences():
    """The BP builder's MSE network: dense, tanh, dense, sigmoid outputs, mean squared
    error against one-hot class targets; every parameter and the input."""
    net = Sequential(
        [Dense(3, 5), Tanh(), Dense(5, 4), Sigmoid()], (3,), loss="mse_onehot",
        dtype=np.float64, seed=5,
    )  # fmt: skip
    x = RNG.standard_normal((6, 3))
    y = np.array([0, 3, 1, 1, 2, 3])
    _, dout = net.loss(net.forward(x), y)
    dx = net.backward(dout)
    grads = {f"{lay.name}.{k}": g for lay in net.layers for k, g in lay.grads.items()}
    check_grad(lambda: net.loss(net.forward(x), y)[0], {"x": x, **net.params()}, {"x": dx, **grads})


def test_layer_names_follow_their_kind():
    net = _cnn()
    names = [lay.name for lay in net.layers]
    assert names == [
        "conv1", "tanh1", "pool1", "conv2", "relu1", "pool2", "flatten1", "dense1",
        "sigmoid1", "dense2",
    ]  # fmt: skip


def test_trace_records_every_layer_under_stable_names_with_roles_and_axes():
    net = _cnn()
    trace = Trace()
    out = net.forward(RNG.standard_normal((1, 1, 4, 4)), trace)
    _, dout = net.loss(out, np.array([1]), trace)
    net.backward(dout, trace)
    for name in ["conv1.in", "conv1.w", "conv1.b", "conv1.partial", "conv1.out", "pool1.mask",
                 "pool1.out", "loss.probs", "loss.value", "conv1.dx", "conv1.dw", "conv1.db",
                 "pool1.dx", "dense2.dw", "sigmoid1.dx"]:  # fmt: skip
        assert name in trace, name
    for rec in trace.tensors.values():
        rec.validate()
    assert trace.tensors["conv1.dx"].role == "delta"
    assert trace.tensors["conv1.dw"].role == "grad"
    assert trace.tensors["pool1.mask"].role == "mask"
    assert trace.tensors["conv1.partial"].axes == ("sample", "kernel", "channel", "row", "col")
    assert trace["conv1.partial"].shape == (1, 3, 1, 4, 4)
    np.testing.assert_allclose(
        trace["conv1.partial"].sum(axis=2) + trace["conv1.b"][None, :, None, None],
        trace["conv1.out"],
    )
    # The delta arriving at a layer is the one the layer above handed down.
    assert trace["pool1.dout"] is trace["conv2.dx"]


def test_shape_misfit_is_reported_with_the_layer_name():
    with pytest.raises(ValueError, match="conv2 does not fit input"):
        Sequential([Conv2D(1, 2, 3), Conv2D(2, 2, 5)], (1, 5, 5))
    with pytest.raises(ValueError, match="dense1 does not fit"):
        Sequential([Flatten(), Dense(10, 2)], (1, 3, 3))


def test_flipped_conv_layer_is_true_convolution_with_the_stored_kernel_gradient():
    from engine.functional import conv2d_true

    layer = Conv2D(2, 3, (2, 3), padding=1, flip=True)
    net = Sequential([layer], (2, 4, 5), loss="mse", dtype=np.float64, seed=4)
    x = _image((1, 2, 4, 5))
    want, _ = conv2d_true(x, layer.params["w"], layer.params["b"], 1, 1)
    np.testing.assert_allclose(layer.forward(x), want)
    _check_layer(layer, x, (2, 4, 5))
    assert net.spec()["layers"][0]["flip"] is True
    assert Sequential.from_spec(net.spec()).layers[0].flip


def test_the_first_layers_delta_is_left_for_later_and_equals_the_eager_one():
    net = _cnn()
    x = RNG.standard_normal((2, 1, 4, 4))
    y = np.array([0, 2])
    _, dout = net.loss(net.forward(x), y)
    eager = net.backward(dout)
    trace = Trace()
    _, dout = net.loss(net.forward(x, trace), y, trace)
    assert net.backward(dout, trace, need_dx=False) is None
    assert trace.tensors["conv1.dx"]._data is None  # not computed yet
    np.testing.assert_allclose(trace["conv1.dx"], eager)


@pytest.mark.parametrize("padding, n", [(0, 1), (1, 2)])
@pytest.mark.parametrize("x_dtype, w_dtype, d_dtype", [
    (np.float32, np.float64, np.float32), (np.float64, np.float32, np.float64),
    (np.float32, np.float32, np.float64),
])  # fmt: skip
def test_conv_layer_with_mixed_dtypes_matches_float64(padding, n, x_dtype, w_dtype, d_dtype):
    """The stride-1 layout's views are laid over arrays of each one's own item size
    (a float64 delta on a float32 layer once read float32 strides as float64)."""
    rng = np.random.default_rng(8)
    conv = Conv2D(2, 3, 3, padding=padding)
    conv.init_params(rng, np.dtype(w_dtype))
    ref = Conv2D(2, 3, 3, padding=padding)
    ref.params = {k: v.astype(np.float64) for k, v in conv.params.items()}
    x = rng.standard_normal((n, 2, 5, 5))
    dout = rng.standard_normal((n, 3, 5 - 2 + 2 * padding, 5 - 2 + 2 * padding))
    out, want = conv.forward(x.astype(x_dtype)), ref.forward(x)
    dx, want_dx = conv.backward(dout.astype(d_dtype)), ref.backward(dout)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(conv.grads["w"], ref.grads["w"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(2, 2, 5, 6), (1, 2, 5, 5), (2, 2, 4, 4), (2, 2, 1, 1)])
def test_conv_layer_refuses_a_delta_of_the_wrong_shape(shape):
    conv = Conv2D(1, 2, 3, padding=1)
    conv.init_params(np.random.default_rng(0), np.dtype(np.float32))
    conv.forward(np.ones((2, 1, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 2, 5, 5\)"):
        conv.backward(np.ones(shape, np.float32))


def test_flatten_layer_keeps_its_checks():
    layer = Flatten()
    with pytest.raises(ValueError, match="batch axis"):
        layer.forward(np.ones(4, np.float32))
    layer.forward(np.ones((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 6\)"):
        layer.backward(np.ones((3, 4), np.float32))
