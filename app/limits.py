"""The classroom limits (app.settings.Limits), checked with messages that name
the limit, its value and what was asked. The API turns LimitExceeded into 422."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.settings import Limits


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


def check_input(x: np.ndarray, limits: Limits) -> None:
    """Batch size and image size of an input array."""
    if x.ndim >= 1:
        at_most("input batch", x.shape[0], limits, "max_batch")
    if x.ndim == 4:
        at_most("input channels", x.shape[1], limits, "max_input_channels")
        for side in x.shape[2:]:
            at_most("input height/width", side, limits, "max_input_side")
