"""The classroom limits (app.settings.Limits), checked with messages that name
the limit, its value and what was asked. The API turns LimitExceeded into 422.
The OpenAPI schema documents each limit on the request fields it bounds."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.settings import Limits
from engine.cost import Cost, spec_cost


class LimitExceeded(ValueError):
    def __init__(self, field: str, limit: str, allowed: int, given: Any) -> None:
        self.field, self.limit, self.allowed, self.given = field, limit, allowed, given
        env = f"GLASSBOX_LIMIT_{limit.upper()}"
        super().__init__(f"{field} = {given} exceeds the limit {limit} = {allowed} (set by {env})")


def at_most(field: str, given: int, limits: Limits, limit: str) -> None:
    allowed = getattr(limits, limit)
    if given > allowed:
        raise LimitExceeded(field, limit, allowed, given)


def _ints(v: Any) -> list[int]:
    if v is None:
        return []
    return [int(u) for u in (v if isinstance(v, list | tuple) else [v])]


def check_network(spec: dict[str, Any], limits: Limits) -> None:
    """Input size, kernel count and size, stride, padding, layer count, features."""
    shape = list(spec["input_shape"])
    at_most("network.layers", len(spec["layers"]), limits, "max_layers")
    if len(shape) == 3:
        at_most("network.input_shape[0] (channels)", shape[0], limits, "max_input_channels")
        for side in shape[1:]:
            at_most("network.input_shape (height/width)", side, limits, "max_input_side")
    for layer in spec["layers"]:
        name = layer.get("name") or layer["type"]
        for key, limit in (("out_channels", "max_kernels"), ("in_channels", "max_kernels")):
            if layer.get(key) is not None:
                at_most(f"{name}.{key}", int(layer[key]), limits, limit)
        for key, limit in (("kernel", "max_kernel_size"), ("size", "max_kernel_size"),
                           ("stride", "max_stride"), ("padding", "max_padding")):  # fmt: skip
            for v in _ints(layer.get(key)):
                at_most(f"{name}.{key}", v, limits, limit)
        for key in ("in_features", "out_features"):
            if layer.get(key) is not None:
                at_most(f"{name}.{key}", int(layer[key]), limits, "max_features")


def check_cost(
    spec: dict[str, Any], limits: Limits, batch: int = 1, optimizer: str = "sgd"
) -> Cost:
    """A network's cost from its spec alone (engine.cost), before it is built: its
    parameters, the memory and JSON of one stepped pass, and a recurrent network's
    sequence length and hidden size. Field limits first (check_network)."""
    try:
        check_network(spec, limits)
        cost = spec_cost(spec, batch, optimizer)
    except LimitExceeded:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"network spec does not describe a network: {exc!r}") from None
    if cost.seq_len:
        at_most("network seq_len", cost.seq_len, limits, "max_seq_len")
        at_most("network hidden_size", cost.hidden, limits, "max_hidden")
    at_most("network parameters", cost.params, limits, "max_params")
    at_most("network pass memory (bytes)", cost.pass_bytes, limits, "max_pass_bytes")
    at_most("response of a full pass (bytes)", cost.response_bytes, limits, "max_response_bytes")
    return cost


def check_training(cost: Cost, iterations: int, batch: int, limits: Limits) -> None:
    """A training request's multiply-adds: per sample x batch x iterations."""
    total = cost.train_flops(iterations, batch)
    at_most(f"training multiply-adds ({iterations} iterations x batch {batch})", total,
            limits, "max_train_flops")  # fmt: skip


def check_input(x: np.ndarray, limits: Limits) -> None:
    """Batch size and image size of an input array."""
    if x.ndim >= 1:
        at_most("input batch", x.shape[0], limits, "max_batch")
    if x.ndim == 4:
        at_most("input channels", x.shape[1], limits, "max_input_channels")
        for side in x.shape[2:]:
            at_most("input height/width", side, limits, "max_input_side")


# (schema component, property, limit) for each request field a limit bounds: an
# integer (or each integer of a list) at most the limit, or a list of objects at
# most that long.
DOCUMENTED = (
    ("StepRequest", "count", "max_steps_per_request"),
    ("TrainRequest", "epochs", "max_epochs"),
    ("TrainRequest", "iterations", "max_iterations"),
    ("TrainRequest", "batch_size", "max_batch"),
    ("DescentRequest", "steps", "max_lab_steps"),
    ("DescentRequest", "runs", "max_lab_runs"),
    ("LabRun", "steps", "max_lab_steps"),  # a live class's choice question (app/routers/classes.py)
    ("BPCompare", "epochs", "max_epochs"),
    ("BPCompare", "batch_size", "max_batch"),
    ("BPCompare", "lrs", "max_compare_runs"),
    ("NetworkSpec", "layers", "max_layers"),
    ("LayerSpec", "in_channels", "max_kernels"),
    ("LayerSpec", "out_channels", "max_kernels"),
    ("LayerSpec", "kernel", "max_kernel_size"),
    ("LayerSpec", "size", "max_kernel_size"),
    ("LayerSpec", "stride", "max_stride"),
    ("LayerSpec", "padding", "max_padding"),
    ("LayerSpec", "in_features", "max_features"),
    ("LayerSpec", "out_features", "max_features"),
    ("ConvOverride", "out_channels", "max_kernels"),
    ("ConvOverride", "kernel", "max_kernel_size"),
    ("ConvOverride", "stride", "max_stride"),
    ("ConvOverride", "padding", "max_padding"),
    ("Overrides", "seq_len", "max_seq_len"),
    ("BPSessionCreate", "hidden", "max_bp_neurons"),
    ("BPCompare", "hidden", "max_bp_neurons"),
)
# (schema component, property, limit) for a list of integers at most that long.
DOCUMENTED_LENGTH = (
    ("BPSessionCreate", "hidden", "max_bp_layers"),
    ("BPCompare", "hidden", "max_bp_layers"),
)


def document_limits(openapi: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Write the configured limits into an OpenAPI schema (in place) as maximums,
    so a client (or a fuzzer) knows what is allowed before asking."""
    schemas = openapi.get("components", {}).get("schemas", {})
    for component, prop, limit in DOCUMENTED:
        node = schemas.get(component, {}).get("properties", {}).get(prop)
        if node is None:
            continue
        allowed = getattr(limits, limit)
        _bound(node, allowed)
        note = f"at most {allowed} (limit {limit}, set by GLASSBOX_LIMIT_{limit.upper()})"
        node["description"] = f"{node['description']}; {note}" if "description" in node else note
    for component, prop, limit in DOCUMENTED_LENGTH:
        node = schemas.get(component, {}).get("properties", {}).get(prop)
        if node is not None:
            node["maxItems"] = getattr(limits, limit)
    return openapi


def _bound(node: dict[str, Any], allowed: int) -> None:
    for branch in node.get("anyOf", ()):
        _bound(branch, allowed)
    if node.get("type") == "integer":
        node["maximum"] = allowed
    elif node.get("type") == "array":
        if node.get("items", {}).get("type") == "integer":
            _bound(node["items"], allowed)
        else:
            node["maxItems"] = allowed
