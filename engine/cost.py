"""What a network costs, from its spec alone: nothing is built or allocated.

`spec_cost(spec, batch, optimizer)` walks the shapes of a Sequential or RecurrentNet
spec (the dicts `Sequential.spec` / `RecurrentNet.spec` write) with integer
arithmetic and estimates:

- `params`: the parameter count (exact);
- `pass_bytes`: the bytes of the tensors one stepped pass records in its trace
  (forward, loss, backward and update of a batch: each layer's input, output, deltas,
  parameters, gradients, the update's before/after/change and optimizer state);
- `response_bytes`: a full pass sent as JSON lists, about 9 bytes per number plus
  about 250 bytes of name, role, shape, axes and facts per tensor;
- `blob_bytes`: what the store keeps (parameters, optimizer state, input, target);
- `flops`: multiply-adds of one sample's forward, backward and update (training
  costs `flops * batch * iterations`).

The constants are calibrated against measured passes (tests/engine/test_cost.py
checks every preset within a factor of 2), so they cannot silently drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.network import network_dtype

JSON_PER_NUMBER = 9  # "-0.123456," as a JSON list item
JSON_PER_TENSOR = 250  # name, role, shape, axes, min, max, finite, explainable
SLOTS = {"sgd": 0, "momentum": 1, "adam": 2}  # optimizer state arrays per parameter
# Numbers one time step records per sample and direction, forward and backward
# (an LSTM's gates, pre-activations, c's two terms, cell and hidden states and their
# deltas; an RNN's pre-activation and state), per hidden unit and per input feature.
STEP_PER_HIDDEN = {"lstm": 33, "bilstm": 33, "rnn": 16}
STEP_PER_INPUT = {"lstm": 2, "bilstm": 2, "rnn": 2}
STEP_TENSORS = {"lstm": 30, "bilstm": 30, "rnn": 10}
GATES = {"lstm": 4, "bilstm": 4, "rnn": 1}


@dataclass(frozen=True)
class Cost:
    params: int
    pass_bytes: int
    response_bytes: int
    blob_bytes: int
    flops: int  # one sample: forward + backward + update
    seq_len: int = 0
    hidden: int = 0

    def train_flops(self, iterations: int, batch: int) -> int:
        return self.flops * batch * iterations


def _pair(v: Any, default: int) -> tuple[int, int]:
    if v is None:
        return default, default
    if isinstance(v, list | tuple):
        return (int(v[0]), int(v[-1]))
    return int(v), int(v)


class _Tally:
    def __init__(self) -> None:
        self.params = self.numbers = self.tensors = self.flops = 0

    def layer(self, n: int, n_in: int, n_out: int, params: int, flops: int,
              extra: int = 0, slots: int = 0) -> None:  # fmt: skip
        """A layer recording in, out, their deltas, its parameters and gradients and
        (with parameters) the update's before, after, change and optimizer state."""
        self.params += params
        self.numbers += 2 * n * (n_in + n_out) + extra
        self.tensors += 4
        if params:
            self.numbers += params * (5 + 2 * slots)
            self.tensors += 2 * 6 + 4 * slots
        self.flops += 3 * flops + params * (2 + slots)


def spec_cost(spec: dict[str, Any], batch: int = 1, optimizer: str = "sgd") -> Cost:
    """The cost of one stepped pass of `batch` samples (ValueError for a spec whose
    shapes do not fit; the engine then says more when it builds it)."""
    slots = SLOTS.get(optimizer, 2)
    n = max(int(batch), 1)
    t = _Tally()
    seq_len = hidden = 0
    if spec.get("model") == "recurrent":
        seq_len, hidden, out = _recurrent(spec, n, t, slots)
    else:
        out = _sequential(spec, n, t, slots)
    t.numbers += 4 * n * out + 1  # loss.in, probs or target, dx, value
    t.tensors += 5
    in_size = 1
    for s in spec.get("input_shape", []):
        in_size *= int(s)
    item = network_dtype(spec.get("dtype", "float32")).itemsize  # float32 or float64
    pass_bytes = item * t.numbers
    response = JSON_PER_NUMBER * t.numbers + JSON_PER_TENSOR * t.tensors
    blob = item * (t.params * (1 + slots) + n * in_size + n * out)
    return Cost(t.params, pass_bytes, response, blob, t.flops, seq_len, hidden)


ELEMENTWISE = ("relu", "leaky_relu", "sigmoid", "tanh")  # activations: no weights, same shape


def _sequential(spec: dict[str, Any], n: int, t: _Tally, slots: int) -> int:
    shape = [int(s) for s in spec["input_shape"]]
    for layer in spec["layers"]:
        kind = layer.get("type")
        size_in = _prod(shape)
        if kind == "conv2d":
            if len(shape) != 3:
                raise ValueError(f"conv2d needs (C, H, W) input; got {shape}")
            c, h, w = shape
            f = int(layer["out_channels"])
            kh, kw = _pair(layer.get("kernel"), 1)
            sh, sw = _pair(layer.get("stride"), 1)
            ph, pw = _pair(layer.get("padding"), 0)
            oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
            if oh < 1 or ow < 1:
                raise ValueError(f"conv2d kernel {kh}x{kw} does not fit input {h}x{w}")
            shape = [f, oh, ow]
            weights = f * c * kh * kw
            # the partials (sample, kernel, channel, row, col) a page may ask for
            t.layer(n, size_in, _prod(shape), weights + f, weights * oh * ow,
                    extra=n * weights, slots=slots)  # fmt: skip
        elif kind in ("max_pool2d", "avg_pool2d"):
            c, h, w = shape
            kh, kw = _pair(layer.get("size"), 2)
            sh, sw = _pair(layer.get("stride") or layer.get("size"), 2)
            shape = [c, max((h - kh) // sh + 1, 0), max((w - kw) // sw + 1, 0)]
            t.layer(n, size_in, _prod(shape), 0, size_in, extra=n * size_in)
        elif kind == "flatten":
            shape = [size_in]
            t.layer(n, size_in, size_in, 0, 0)
        elif kind == "dense":
            d, m = int(layer["in_features"]), int(layer["out_features"])
            shape = [m]
            t.layer(n, d, m, d * m + m, d * m, slots=slots)
        elif kind in ELEMENTWISE:  # an activation: same shape
            t.layer(n, size_in, size_in, 0, size_in)
        else:  # a layer this model does not price must not pass as a free one
            raise ValueError(
                f"layer type {kind!r} cannot be priced in a sequential network (known: "
                f"conv2d, max_pool2d, avg_pool2d, flatten, dense, {', '.join(ELEMENTWISE)}); "
                'recurrent layers come as a "recurrent" model'
            )
    return _prod(shape)


def _recurrent(spec: dict[str, Any], n: int, t: _Tally, slots: int) -> tuple[int, int, int]:
    # the defaults of RecurrentNet's constructor
    cell = spec.get("cell", "lstm")
    steps, d = int(spec.get("seq_len", 10)), int(spec.get("input_size", 1))
    h, k = int(spec.get("hidden_size", 8)), int(spec.get("output_size", 1))
    dirs = 2 if cell == "bilstm" else 1
    gates = GATES.get(cell, 4)
    cell_params = dirs * gates * h * (d + h + 2)
    t.params += cell_params
    per_step = STEP_PER_HIDDEN.get(cell, 31) * h + STEP_PER_INPUT.get(cell, 2) * d
    t.numbers += n * steps * dirs * per_step + n * steps * (2 * d + 2 * dirs * h)
    t.numbers += cell_params * (5 + 2 * slots)
    t.tensors += steps * dirs * STEP_TENSORS.get(cell, 28) + 12 + 6 * slots
    t.flops += 3 * steps * cell_params + cell_params * (2 + slots)
    feats = dirs * h
    many = spec.get("head") == "many-to-many"
    rows = steps if many else 1
    t.layer(n * rows, feats, k, feats * k + k, rows * feats * k, slots=slots)
    return steps, h, rows * k


def _prod(shape: list[int]) -> int:
    out = 1
    for s in shape:
        out *= int(s)
    return out
