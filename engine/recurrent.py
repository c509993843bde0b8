"""Recurrent networks: one recurrent layer (RNN, LSTM or BiLSTM), a head and a loss,
stepped one time step at a time.

    net = RecurrentNet("lstm", input_size=4, hidden_size=16, output_size=4,
                       head="many-to-one", seq_len=20)

A RecurrentNet is a Sequential of two layers, [cell, head], named `lstm1` (or
`rnn1`, `bilstm1`) and `head`, so everything that handles a Sequential handles
it (params, update, weights files, predict). What it adds:
- the stepped pass (`plan` / `runner`, walked by engine.stepper.Pass): forward
  one time step at a time (per direction for a BiLSTM, then their concatenation),
  the head, the loss, the head backward, backward one time step at a time in
  reverse, optional gradient clipping, then one update per layer. Each step runs
  the same functions as `train_batch`, so their numbers are identical;
- sequence losses: labels (N,) for many-to-one, (N, T) for many-to-many;
- gradient clipping by global norm (`clip`), with the norms recorded;
- `generate`: feed the model's own outputs back (one-to-many, from a seed).

Parameter names (PyTorch's): `lstm1.w_ih`, `lstm1.w_hh`, `lstm1.b_ih`,
`lstm1.b_hh`, `head.w`, `head.b`; a BiLSTM's backward direction uses torch's
`_reverse` suffix (`bilstm1.w_ih_reverse`, ...). `torch_names` / `from_torch_names`
rename them to and from the state_dict keys of a torch.nn.RNN / LSTM (as
`cell.weight_ih_l0`, `cell.weight_ih_l0_reverse`, ...) and an nn.Linear
(`head.weight`, `head.bias`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from engine.functional import (
    clip_grad_norm,
    head_many_to_many,
    lstm,
    rnn,
    sequence_loss,
)
from engine.functional._validate import as_float, check_finite
from engine.layers import LSTM, RNN, BiLSTM, Dense, DenseEach, DenseLast, RecurrentLayer
from engine.layers.recurrent import StepRunner
from engine.network import LOSSES, Sequential
from engine.optim import Optimizer
from engine.stepper import PassState, PlannedStep, Runner
from engine.trace import Trace

CELLS = {"rnn": RNN, "lstm": LSTM, "bilstm": BiLSTM}
HEADS = ("many-to-one", "many-to-many")
TORCH_NAMES = {"w_ih": "weight_ih_l0", "w_hh": "weight_hh_l0", "b_ih": "bias_ih_l0",
               "b_hh": "bias_hh_l0", "w": "weight", "b": "bias"}  # fmt: skip


def torch_name(key: str) -> str:
    """A RecurrentNet parameter's torch name: `lstm1.w_ih_reverse` -> `cell.weight_ih_l0_reverse`,
    `head.w` -> `head.weight`."""
    layer, name = key.split(".", 1)
    base = name.removesuffix("_reverse")
    prefix = "head" if layer == "head" else "cell"
    return f"{prefix}.{TORCH_NAMES[base]}{name[len(base) :]}"


def torch_names(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A RecurrentNet's parameters under torch's names: `cell.weight_ih_l0[_reverse]`,
    ..., `head.weight`, `head.bias` (arrays shared, not copied)."""
    return {torch_name(key): value for key, value in params.items()}


def from_torch_names(net: RecurrentNet, state: dict[str, Any]) -> dict[str, np.ndarray]:
    """The inverse of `torch_names` for `net` (values as float arrays), ready for
    net.set_params."""
    back = {torch_name(k): k for k in net.params()}
    missing = sorted(set(back) - set(state))
    if missing:
        raise ValueError(f"state lacks {', '.join(missing)}")
    return {back[k]: np.asarray(state[k], dtype=net.dtype) for k in back}


class RecurrentNet(Sequential):
    """A recurrent layer of `hidden_size` units over sequences (N, seq_len, input_size),
    then a dense head to `output_size` outputs: on the last hidden state
    ("many-to-one", out (N, K)) or on every one ("many-to-many", out (N, T, K)).
    `clip`: gradient clipping by global norm in every update; `nonlinearity`:
    the RNN's tanh or relu; `forget_bias`: added to an LSTM's forget-gate bias
    at initialisation."""

    def __init__(
        self,
        cell: str = "lstm",
        input_size: int = 1,
        hidden_size: int = 8,
        output_size: int = 1,
        head: str = "many-to-one",
        loss: str = "softmax_cross_entropy",
        seq_len: int = 10,
        clip: float | None = None,
        nonlinearity: str = "tanh",
        forget_bias: float = 0.0,
        seed: int = 0,
        dtype: type | np.dtype = np.float32,
    ) -> None:
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        if head not in HEADS:
            raise ValueError(f"unknown head {head!r}; choose one of {', '.join(HEADS)}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if int(seq_len) < 1:
            raise ValueError(f"seq_len must be >= 1; got {seq_len}")
        if clip is not None and not (np.isfinite(clip) and clip > 0):
            raise ValueError(f"clip must be a positive number or None; got {clip!r}")
        if cell == "rnn":
            layer: RecurrentLayer = RNN(input_size, hidden_size, nonlinearity)
        else:
            layer = CELLS[cell](input_size, hidden_size, forget_bias)
        feats = layer.directions * layer.hidden_size
        top = (
            DenseLast(feats, output_size, bidirectional=cell == "bilstm")
            if head == "many-to-one"
            else DenseEach(feats, output_size)
        )
        top.name = "head"
        self.cell, self.head = cell, head
        self.seq_len, self.clip = int(seq_len), (None if clip is None else float(clip))
        self.last_clip: dict[str, float] | None = None  # norms of the latest clipping
        super().__init__([layer, top], (self.seq_len, layer.input_size), loss, seed, dtype)

    # --- description -----------------------------------------------------------
    @property
    def recurrent(self) -> RecurrentLayer:
        layer = self.layers[0]
        assert isinstance(layer, RecurrentLayer)  # as __init__ built it
        return layer

    @property
    def sizes(self) -> dict[str, int]:
        rec, top = self.recurrent, self.layers[1]
        assert isinstance(top, Dense)  # the head: DenseLast or DenseEach
        return {"input_size": rec.input_size, "hidden_size": rec.hidden_size,
                "output_size": top.out_features}  # fmt: skip

    def spec(self) -> dict[str, Any]:
        """JSON-ready; `model: recurrent` tells it from a Sequential's spec. `layers` is
        the derived [cell, head] description (what a Sequential would build)."""
        return {
            "model": "recurrent",
            "cell": self.cell,
            **self.sizes,
            "head": self.head,
            "loss": self.loss_kind,
            "seq_len": self.seq_len,
            "clip": self.clip,
            "nonlinearity": getattr(self.recurrent, "nonlinearity", "tanh"),
            "forget_bias": getattr(self.recurrent, "forget_bias", 0.0),
            "dtype": self.dtype.name,
            "input_shape": list(self.input_shape),
            "layers": [layer.spec() for layer in self.layers],
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any], seed: int = 0) -> RecurrentNet:
        keys = ("cell", "input_size", "hidden_size", "output_size", "head", "loss", "seq_len",
                "clip", "nonlinearity", "forget_bias")  # fmt: skip
        try:
            kwargs = {k: spec[k] for k in keys if k in spec}
            return cls(**kwargs, seed=seed, dtype=spec.get("dtype", "float32"))
        except (TypeError, KeyError, ValueError) as exc:
            raise ValueError(f"bad recurrent network spec: {exc}") from None

    def with_seq_len(self, seq_len: int) -> RecurrentNet:
        """The same network (same weights) for sequences of another length."""
        net = RecurrentNet.from_spec({**self.spec(), "seq_len": seq_len}, self.seed)
        net.set_params(self.params())
        return net

    # --- the passes --------------------------------------------------------------
    def check_input(self, x: object) -> np.ndarray:
        """x as (N, seq_len, input_size) of the network's dtype, finite; a single
        sequence (seq_len, input_size) gets a batch axis."""
        arr = as_float(x, "x")
        if arr.ndim == 2:
            arr = arr[None]
        t_len, d = self.input_shape
        if arr.ndim != 3 or arr.shape[1:] != (t_len, d):
            raise ValueError(
                f"input must have shape (N, {t_len}, {d}): N sequences of {t_len} time steps "
                f"with {d} features each; got {arr.shape}"
            )
        # Checked after the cast: 1e300 is finite in float64 but inf in float32.
        arr = arr.astype(self.dtype, copy=False)
        check_finite(arr, "input")
        return arr

    def loss(
        self, out: np.ndarray, target: np.ndarray, trace: Trace | None = None
    ) -> tuple[float, np.ndarray]:
        """(loss value, delta at the head's output)."""
        if self.loss_kind == "mse_onehot":  # labels against one-hot rows, as a BP network's
            return super().loss(out, target, trace)
        value, dout, probs = sequence_loss(out, target, self.loss_kind)
        if trace is not None:
            axes = ("sample", "out") if out.ndim == 2 else ("sample", "time", "out")
            trace.record("loss.in", "output", out, axes)
            if probs is not None:
                trace.record("loss.probs", "activation", probs, axes)
                labels = np.asarray(target).astype(np.int64)
                trace.record("loss.target", "target", labels, axes[:-1])
            else:
                target = as_float(target, "target").reshape(out.shape)
                trace.record("loss.target", "target", target, axes)
            trace.record("loss.value", "loss", np.array(value, dtype=out.dtype), ())
            trace.record("loss.dx", "delta", dout, axes)
        return value, dout

    def _output_axes(self, ndim: int) -> tuple[str, ...]:
        """The head's output axes, as the loss step records them."""
        return ("sample", "out") if ndim == 2 else ("sample", "time", "out")

    def clip_grads(self, trace: Trace | None = None) -> dict[str, float]:
        """Scale every layer's gradients so their global norm is at most `clip`."""
        assert self.clip is not None
        grads = {f"{lay.name}.{k}": g for lay in self.layers for k, g in lay.grads.items()}
        clipped, info = clip_grad_norm(grads, self.clip)
        for key, g in clipped.items():
            lname, pname = key.rsplit(".", 1)
            self.layer(lname).grads[pname] = g
        self.last_clip = {"max_norm": self.clip, "norm_before": info.norm_before,
                          "norm_after": info.norm_after, "scale": info.scale}  # fmt: skip
        if trace is not None:
            for name in ("norm_before", "norm_after", "scale"):
                trace.record(f"clip.{name}", "grad", np.array(self.last_clip[name]), ())
        return self.last_clip

    def _train_batch(self, x: np.ndarray, target: np.ndarray, opt: Optimizer) -> float:
        """One forward, backward, clipping (if set) and update; returns the loss."""
        value, dout = self.loss(self.forward(x), target)
        self.backward(dout)
        if self.clip is not None:
            self.clip_grads()
        self.update(opt)
        return value

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Share of correct labels (per sequence, or per time step for many-to-many)."""
        return float(np.mean(self.predict(x).argmax(axis=-1) == np.asarray(labels)))

    # --- stepping (engine.stepper.Pass) -----------------------------------------
    def plan(self, optimizer_kind: str) -> list[PlannedStep]:
        """Forward per time step (per direction, then their concatenation, for a BiLSTM:
        the layer plans its own), the head, the loss, the head backward, backward per
        time step in reverse, clipping, one update per layer."""
        rec, top, t_len = self.recurrent, self.layers[1], self.seq_len
        items: list[tuple[str, str, str, int | None, str | None]] = [
            ("forward", rec.name, op, t, d) for op, t, d in rec.forward_plan(t_len)
        ]
        items += [("forward", top.name, top.op, None, None),
                  ("loss", "loss", self.loss_kind, None, None),
                  ("backward", top.name, top.op, None, None)]  # fmt: skip
        items += [("backward", rec.name, op, t, d) for op, t, d in rec.backward_plan(t_len)]
        if self.clip is not None:
            items.append(("backward", "clip", "clip_grad_norm", None, None))
        items += [("update", lay.name, optimizer_kind, None, None) for lay in self.layers]
        return [PlannedStep(i, *item) for i, item in enumerate(items)]

    def runner(self, step: PlannedStep) -> Runner:
        """What runs `step`, from its fields alone: the recurrent layer's time steps
        (the layer makes them from t and direction), clipping, and otherwise what a
        Sequential runs (the head, the loss, the updates)."""
        rec = self.recurrent
        if step.layer == rec.name and step.phase == "forward":
            return partial(_forward_in_time, rec.forward_runner(step.t, step.direction))
        if step.layer == rec.name and step.phase == "backward":
            return partial(_backward_in_time, rec.backward_runner(step.t, step.direction))
        if step.phase == "backward" and step.layer == "clip":
            return self._clip_step
        return super().runner(step)

    def _clip_step(self, _: PassState, trace: Trace, __: Optimizer) -> dict[str, Any]:
        return self.clip_grads(trace)

    # --- one-to-many --------------------------------------------------------------
    def generate(self, x_seed: np.ndarray, steps: int) -> np.ndarray:
        """Feed the model's own outputs back as its next inputs, `steps` times, after
        reading a seed (N, T0, D) (T0 >= 1, any length). Classification: the next
        input is the one-hot of the most likely class (greedy); regression: the
        output itself (output_size must equal input_size). Returns (N, steps, D).
        Needs a unidirectional many-to-many model."""
        if self.cell == "bilstm" or self.head != "many-to-many":
            raise ValueError("generate needs a unidirectional many-to-many model")
        x = as_float(x_seed, "x_seed")
        x = (x[None] if x.ndim == 2 else x).astype(self.dtype, copy=False)
        sizes = self.sizes
        if x.ndim != 3 or x.shape[2] != sizes["input_size"] or x.shape[1] < 1:
            raise ValueError(f"x_seed must be (N, T0, {sizes['input_size']}); got {x.shape}")
        if self.loss_kind == "mse" and sizes["output_size"] != sizes["input_size"]:
            raise ValueError("feeding values back needs output_size == input_size")
        rec, top = self.recurrent, self.layers[1]
        w, b = top.params["w"], top.params["b"]
        p = rec.params
        weights = (p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"])
        h: np.ndarray | None = None
        c: np.ndarray | None = None
        out_steps = []
        for _ in range(int(steps)):
            if isinstance(rec, RNN):
                hs, rnn_cache = rnn(x, h, *weights, rec.nonlinearity)
                h = rnn_cache.hx[-1, : rec.hidden_size].T
            else:
                hs, lstm_cache = lstm(x, h, c, *weights)
                h, c = lstm_cache.h[-1].T, lstm_cache.c[-1].T
            out, _ = head_many_to_many(hs[:, -1:], w, b)
            if self.loss_kind == "mse":
                x = out
            else:
                x = np.eye(sizes["input_size"], dtype=self.dtype)[out[:, 0].argmax(axis=1)][:, None]
            out_steps.append(x[:, 0])
        return np.stack(out_steps, axis=1)


def _forward_in_time(
    run: StepRunner, state: PassState, trace: Trace, _: Optimizer
) -> dict[str, Any]:
    """A recurrent layer's forward step: the one that completes the layer's output (every
    h, N x T x H) hands it on to the head."""
    out, values = run(state.x, trace)
    if out is not None:
        state.act = out
    return values


def _backward_in_time(
    run: StepRunner, state: PassState, trace: Trace, _: Optimizer
) -> dict[str, Any]:
    """A recurrent layer's backward step, given dL/dh of every step (the head's delta);
    the last one hands dx on."""
    assert state.delta is not None
    dx, values = run(state.delta, trace)
    if dx is not None:
        state.delta = dx
    return values
