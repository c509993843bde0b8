"""Sequential networks: layers in order, a loss, and the plumbing between them.

`forward`, `loss`, `backward` and `update` each take an optional Trace; with
one, every tensor is recorded under its stable name. Training without a trace
runs the same code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache, partial
from typing import Any

import numpy as np

from engine.functional import check_labels, mse
from engine.functional._validate import as_float, check_finite
from engine.functional.losses import mse_onehot_kernel, softmax, softmax_cross_entropy_kernel
from engine.layers import LAYER_TYPES, Layer
from engine.optim import Optimizer
from engine.stepper import PassState, PlannedStep, Runner
from engine.trace import Meta, Trace

LOSSES = ("softmax_cross_entropy", "mse", "mse_onehot")
# Losses whose targets are class labels (N,); "mse" compares with arrays shaped like the output.
LABEL_LOSSES = ("softmax_cross_entropy", "mse_onehot")
_PREPARED = ("_plans", "_by_name")  # made on first use; see Sequential.__getstate__
DTYPES = ("float32", "float64")  # what a network computes in (float16, ints, complex: no)


def network_dtype(value: object) -> np.dtype:
    """The dtype a network computes in, from a name or type: float32 or float64
    (native byte order); ValueError naming the allowed ones for anything else."""
    try:
        dtype = np.dtype(value) if isinstance(value, str | type | np.dtype) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.name not in DTYPES:
        shown = value if isinstance(value, str) and len(value) <= 40 else type(value).__name__
        raise ValueError(f"dtype {shown!r} is not supported; choose one of {', '.join(DTYPES)}")
    return np.dtype(dtype.name)


class Sequential:
    """Layers applied in order, then a loss. Layer names follow their kind:
    conv1, relu1, pool1, conv2, ..., dense1."""

    def __init__(
        self,
        layers: Sequence[Layer],
        input_shape: Sequence[int],
        loss: str = "softmax_cross_entropy",
        seed: int = 0,
        dtype: type | np.dtype = np.float32,
    ) -> None:
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if not layers:
            raise ValueError("a network needs at least one layer")
        self.layers = list(layers)
        self.input_shape = tuple(int(s) for s in input_shape)
        self.loss_kind = loss
        self.dtype = network_dtype(dtype)
        self.seed = seed
        counts: dict[str, int] = {}
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            counts[layer.prefix] = counts.get(layer.prefix, 0) + 1
            layer.name = layer.name or f"{layer.prefix}{counts[layer.prefix]}"
            layer.init_params(rng, self.dtype)
        _check_names([layer.name for layer in self.layers])
        self.output_shape = self.shapes()[-1][1:]

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles leave out what is prepared on use (the plans, the name
        lookup): a copy makes its own."""
        return {k: v for k, v in self.__dict__.items() if k not in _PREPARED}

    # --- shapes and description -------------------------------------------
    def shapes(self, batch: int = 1) -> list[tuple[int, ...]]:
        """The input shape then each layer's output shape; ValueError names the misfit."""
        shape: tuple[int, ...] = (batch, *self.input_shape)
        out = [shape]
        for layer in self.layers:
            try:
                shape = layer.output_shape(shape)
            except ValueError as exc:
                raise ValueError(f"{layer.name} does not fit input {shape}: {exc}") from None
            out.append(shape)
        return out

    def layer(self, name: str) -> Layer:
        by_name = self.__dict__.get("_by_name")
        if by_name is None or len(by_name) != len(self.layers):
            by_name = self.__dict__["_by_name"] = {lay.name: lay for lay in self.layers}
        try:
            return by_name[name]
        except KeyError:
            raise KeyError(f"no layer {name!r}; layers: {list(by_name)}") from None

    def spec(self) -> dict[str, Any]:
        """JSON-ready description, enough to rebuild the network (`from_spec`)."""
        return {
            "input_shape": list(self.input_shape),
            "loss": self.loss_kind,
            "dtype": self.dtype.name,
            "layers": [layer.spec() for layer in self.layers],
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any], seed: int = 0) -> Sequential:
        layers = []
        for i, item in enumerate(spec.get("layers", [])):
            item = dict(item)
            kind, name = item.pop("type", None), item.pop("name", "")
            if kind not in LAYER_TYPES:
                raise ValueError(f"layer {i}: unknown type {kind!r}; known: {sorted(LAYER_TYPES)}")
            try:
                layer = LAYER_TYPES[kind](**item)
            except TypeError as exc:
                raise ValueError(f"layer {i} ({kind}): bad settings: {exc}") from None
            layer.name = name
            layers.append(layer)
        return cls(
            layers,
            spec["input_shape"],
            spec.get("loss", LOSSES[0]),
            seed,
            network_dtype(spec.get("dtype", "float32")),
        )

    # --- parameters ----------------------------------------------------------
    def params(self) -> dict[str, np.ndarray]:
        """{"conv1.w": array, ...} in layer order."""
        return {f"{lay.name}.{k}": p for lay in self.layers for k, p in lay.params.items()}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """Replace parameters; each must exist and keep its shape."""
        current = self.params()
        for key, value in params.items():
            if key not in current:
                raise ValueError(f"unknown parameter {key!r}; expected {sorted(current)}")
            value = np.asarray(value)
            if value.shape != current[key].shape:
                raise ValueError(f"{key}: shape {value.shape}, expected {current[key].shape}")
        for key, value in params.items():
            lname, pname = key.rsplit(".", 1)
            self.layer(lname).params[pname] = np.asarray(value, dtype=self.dtype)

    # --- the passes ----------------------------------------------------------
    def check_input(self, x: object) -> np.ndarray:
        """x as (N, *input_shape) of the network's dtype, finite."""
        arr = as_float(x, "x")
        if arr.ndim == len(self.input_shape):
            arr = arr[None]
        if arr.shape[1:] != self.input_shape:
            raise ValueError(
                f"input must have shape (N, {', '.join(map(str, self.input_shape))}); "
                f"got {arr.shape}"
            )
        # Checked after the cast: 1e300 is finite in float64 but inf in float32; the cast's
        # overflow is not a warning here because check_finite refuses its Inf just below.
        with np.errstate(over="ignore"):
            arr = arr.astype(self.dtype, copy=False)
        check_finite(arr, "input")
        return arr

    def forward(self, x: np.ndarray, trace: Trace | None = None) -> np.ndarray:
        out = self.check_input(x)
        for layer in self.layers:
            out = layer.forward(out, trace)
        return out

    def loss(
        self, out: np.ndarray, target: np.ndarray, trace: Trace | None = None
    ) -> tuple[float, np.ndarray]:
        """(loss value, delta at the output)."""
        probs = labels = None
        if self.loss_kind in LABEL_LOSSES:
            if out.ndim != 2:
                raise ValueError(
                    f"{self.loss_kind} needs outputs (N, classes); this network's output "
                    f"has shape {out.shape[1:]} per sample (end with flatten + dense, or use mse)"
                )
            labels = check_labels(target, out.shape[0], out.shape[1])
            if self.loss_kind == "softmax_cross_entropy":
                value, probs, dout = softmax_cross_entropy_kernel(out, labels)
                target = labels
            else:  # mse_onehot: the outputs against one-hot rows of the labels
                value, target, dout = mse_onehot_kernel(out, labels)
        else:
            target = as_float(target, "target").astype(out.dtype, copy=False)
            value, dout = mse(out, target.reshape(out.shape) if target.size == out.size else target)
        if trace is not None:
            self._record_loss(trace, out, target, probs, labels, value, dout)
        return value, dout

    def _record_loss(
        self, trace: Trace, out: np.ndarray, target: np.ndarray, probs: np.ndarray | None,
        labels: np.ndarray | None, value: float, dout: np.ndarray,
    ) -> None:  # fmt: skip
        """loss.in, .probs (cross-entropy), .target (labels for cross-entropy, else shaped
        like the output: mse_onehot's one-hot rows), .labels (mse_onehot), .value, .dx."""
        names, metas = _loss_records(out.ndim, probs is not None, labels is not None)
        loss = np.array(value, dtype=out.dtype)
        if probs is not None:
            values: tuple[np.ndarray, ...] = (out, probs, target, loss, dout)
        elif labels is not None:
            values = (out, target.reshape(out.shape), labels, loss, dout)
        else:
            values = (out, target.reshape(out.shape), loss, dout)
        trace.record_all(names, metas, values)

    def backward(
        self, dout: np.ndarray, trace: Trace | None = None, need_dx: bool = True
    ) -> np.ndarray | None:
        """Deltas back through every layer; the input's delta (returned) only if
        need_dx (training does not need it; a trace then computes it on first read)."""
        delta: np.ndarray | None = dout
        for i in range(len(self.layers) - 1, -1, -1):
            assert delta is not None  # every layer but the first hands its delta on
            delta = self.layers[i].backward(delta, trace, need_dx=need_dx or i > 0)
        return delta

    def update_layer(self, layer: Layer, opt: Optimizer, trace: Trace | None = None) -> None:
        """Apply the optimizer to one layer's parameters (new arrays, old ones kept)."""
        for key, p in list(layer.params.items()):
            if key not in layer.grads:
                raise RuntimeError(f"{layer.name}: update before backward (no gradient for {key})")
            name = f"{layer.name}.{key}"
            # Momentum's velocity and Adam's moments before and after this step (the
            # optimizer replaces its arrays, never changes them), so the update explains itself.
            before = dict(opt.state.get(name, ())) if trace is not None else None
            new = opt.step(name, p, layer.grads[key])
            layer.params[key] = new
            if trace is not None:
                axes = layer.param_axes(key)
                trace.record(f"{name}.before", "param", p, axes)
                trace.record(f"{name}.after", "update", new, axes)
                trace.record(f"{name}.change", "update", new - p, axes)
                for slot, now in opt.state.get(name, {}).items():
                    prev = before.get(slot) if before else None
                    prev = np.zeros_like(now) if prev is None else prev
                    trace.record(f"{name}.{slot}.before", "state", prev, axes)
                    trace.record(f"{name}.{slot}", "state", now, axes)
                if opt.kind == "adam":  # its bias correction counts the updates
                    trace.record(f"{name}.t", "param", np.array(opt.steps[name]), ())
        if trace is not None:
            trace.record(f"{layer.name}.lr", "param", np.array(opt.lr, dtype=self.dtype), ())

    def update(self, opt: Optimizer, trace: Trace | None = None) -> None:
        for layer in self.layers:
            if layer.params:
                self.update_layer(layer, opt, trace)

    # --- stepping (engine.stepper.Pass) ---------------------------------------
    def plan(self, optimizer_kind: str) -> list[PlannedStep]:
        """Forward through each layer, the loss, backward in reverse, one update per
        layer with parameters. Made once per optimizer kind (the layers are fixed)."""
        plans = self.__dict__.setdefault("_plans", {})
        if optimizer_kind not in plans:
            plans[optimizer_kind] = self._make_plan(optimizer_kind)
        return plans[optimizer_kind]

    def _make_plan(self, optimizer_kind: str) -> list[PlannedStep]:
        items = [("forward", lay.name, lay.op) for lay in self.layers]
        items.append(("loss", "loss", self.loss_kind))
        items += [("backward", lay.name, lay.op) for lay in reversed(self.layers)]
        items += [("update", lay.name, optimizer_kind) for lay in self.layers if lay.params]
        return [PlannedStep(i, *item) for i, item in enumerate(items)]

    def runner(self, step: PlannedStep) -> Runner:
        """What runs `step` (engine.stepper.Pass), from its fields alone: its phase and
        its layer."""
        if step.phase == "loss":
            return self._loss_step
        layer = self.layer(step.layer)
        if step.phase == "forward":
            return _forward_runner(layer)
        if step.phase == "backward":
            return _backward_runner(layer, layer is self.layers[0])
        if step.phase == "update":
            return partial(self._update_step, layer)
        raise ValueError(f"no runner for a {step.phase!r} step")

    def _loss_step(self, state: PassState, trace: Trace, _: Optimizer) -> dict[str, Any]:
        assert state.act is not None and state.target is not None  # a labelled pass
        state.loss, state.delta = self.loss(state.act, state.target, trace)
        n, k = state.act.shape[0], state.act.shape[-1]
        return {"k": k, "n": n, "nk": state.act.size}

    def _update_step(
        self, layer: Layer, _: PassState, trace: Trace, optimizer: Optimizer
    ) -> dict[str, Any]:
        self.update_layer(layer, optimizer, trace)
        return {"layer": layer.name, **optimizer.hyper()}

    def predict_step(self, state: PassState, trace: Trace, _: Optimizer) -> dict[str, Any]:
        """The loss step of an input without a target (engine.stepper): loss.in and, for
        softmax cross-entropy, loss.probs (the same numbers the loss would record), but
        no loss value and no delta, so no backward pass and no update follow."""
        out = state.act
        assert out is not None
        axes = self._output_axes(out.ndim)
        trace.record("loss.in", "output", out, axes)
        if self.loss_kind != "softmax_cross_entropy":
            return {"k": out[0].size}  # the output values of a sample
        k = out.shape[-1]
        probs = softmax(out.reshape(-1, k)).reshape(out.shape)
        trace.record("loss.probs", "activation", probs, axes)
        return {"k": k}

    def _output_axes(self, ndim: int) -> tuple[str, ...]:
        """The axes of the output the loss reads (as the loss step records them)."""
        _, metas = _loss_records(ndim, False, False)
        return metas[0][1]  # loss.in's (role, axes)

    def train_batch(self, x: np.ndarray, target: np.ndarray, opt: Optimizer) -> float:
        """One forward, backward and update on a batch; returns the loss."""
        with np.errstate(all="ignore"):  # a diverging run is reported, not warned of (stepper.py)
            return self._train_batch(x, target, opt)

    def _train_batch(self, x: np.ndarray, target: np.ndarray, opt: Optimizer) -> float:
        value, dout = self.loss(self.forward(x), target)
        self.backward(dout, need_dx=False)
        self.update(opt)
        return value

    def predict(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        """Network outputs (logits for classification), batched."""
        x = self.check_input(x)
        return np.concatenate([self.forward(x[i : i + batch]) for i in range(0, len(x), batch)])

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        return float(np.mean(self.predict(x).argmax(axis=1) == np.asarray(labels)))


# Names the trace gives other tensors: a layer named so would overwrite them.
RESERVED_NAMES = ("loss", "clip")


def _check_names(names: list[str]) -> None:
    """Every layer's tensors live under its name: names must be unique and not reserved."""
    for i, name in enumerate(names):
        if name in RESERVED_NAMES:
            raise ValueError(f"layer {i + 1} is named {name!r}, which the loss's tensors use")
        if name in names[:i]:
            raise ValueError(
                f"layer {i + 1} is named {name!r} like layer {names.index(name) + 1}: "
                "layer names must be unique (unnamed layers are numbered by kind)"
            )


@lru_cache(maxsize=16)
def _loss_records(
    ndim: int, with_probs: bool, with_labels: bool
) -> tuple[tuple[str, ...], tuple[Meta, ...]]:
    """The loss step's names and (role, axes), in the order Sequential._record_loss gives
    their values: probabilities and class labels for cross-entropy, one-hot targets and
    the labels for mse_onehot, targets shaped like the output for mse."""
    axes = ("sample", "class") if ndim == 2 else ("sample",) + ("index",) * (ndim - 1)
    items: list[tuple[str, Meta]] = [("loss.in", ("output", axes))]
    if with_probs:
        items += [("loss.probs", ("activation", axes)), ("loss.target", ("target", ("sample",)))]
    else:
        items.append(("loss.target", ("target", axes)))
        if with_labels:
            items.append(("loss.labels", ("target", ("sample",))))
    items += [("loss.value", ("loss", ())), ("loss.dx", ("delta", axes))]
    return tuple(n for n, _ in items), tuple(m for _, m in items)


def _forward_runner(layer: Layer) -> Runner:
    def forward(state: PassState, trace: Trace, _: Optimizer) -> dict[str, Any]:
        act = state.act
        state.act = layer.forward(state.x if act is None else act, trace)
        return layer.caption_values()

    return forward


def _backward_runner(layer: Layer, first: bool) -> Runner:
    """The first layer skips its input delta (nothing below needs it: computed on read)."""

    def backward(state: PassState, trace: Trace, _: Optimizer) -> dict[str, Any]:
        assert state.delta is not None
        state.delta = layer.backward(state.delta, trace, not first)
        return layer.caption_values()

    return backward
