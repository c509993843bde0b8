"""Change a network description: kernel count/size, stride, padding, pooling kind,
activation; channel counts and the first dense layer's inputs follow.

Works on the JSON-ready spec of `Sequential.spec()`, so the result can be built
with `Sequential.from_spec` and checked for fit by building it.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from engine.layers import LAYER_TYPES

POOL_KINDS = {"max": "max_pool2d", "avg": "avg_pool2d"}
ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")
CONV_KEYS = ("out_channels", "kernel", "stride", "padding", "flip")


def apply_overrides(spec: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A new spec with `overrides` applied:

    {"conv": {"conv1": {"out_channels": 4, "kernel": 5, "stride": 1, "padding": 2}},
     "pooling": "max" | "avg", "activation": "relu" | "leaky_relu" | "sigmoid" | "tanh"}

    Afterwards every conv layer's in_channels is the channel count arriving at it
    and the first dense layer after a flatten takes the flattened size. ValueError
    names an unknown layer or a setting that does not fit.
    """
    spec = copy.deepcopy(spec)
    layers = spec["layers"]
    names = {layer.get("name") for layer in layers}
    for name, changes in (overrides.get("conv") or {}).items():
        if name not in names:
            raise ValueError(
                f"no layer {name!r} to override; layers: {sorted(n for n in names if n)}"
            )
        layer = next(lay for lay in layers if lay.get("name") == name)
        if layer["type"] != "conv2d":
            raise ValueError(f"{name} is a {layer['type']} layer, not a convolution")
        for key, value in changes.items():
            if key not in CONV_KEYS:
                raise ValueError(f"unknown conv setting {key!r}; settable: {', '.join(CONV_KEYS)}")
            if key == "flip" and not value:
                layer.pop("flip", None)
            elif key in ("kernel", "stride", "padding") and value is not None:
                layer[key] = list(value) if isinstance(value, list | tuple) else [value, value]
            elif value is not None:
                layer[key] = value
    if overrides.get("pooling"):
        kind = overrides["pooling"]
        if kind not in POOL_KINDS:
            raise ValueError(f"pooling must be one of {sorted(POOL_KINDS)}; got {kind!r}")
        for layer in layers:
            if layer["type"] in POOL_KINDS.values():
                layer["type"] = POOL_KINDS[kind]
    if overrides.get("activation"):
        act = overrides["activation"]
        if act not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {act!r}")
        for layer in layers:
            if layer["type"] in ACTIVATIONS:
                layer.clear()
                layer.update({"type": act, "name": ""})
    _renumber_activations(layers)
    _propagate_shapes(spec)
    return spec


def _renumber_activations(layers: list[dict[str, Any]]) -> None:
    """Activation names follow their kind (relu1 -> tanh1); empty names get one."""
    counts: dict[str, int] = {}
    for layer in layers:
        prefix = LAYER_TYPES[layer["type"]].prefix
        counts[prefix] = counts.get(prefix, 0) + 1
        if not layer.get("name") or layer["type"] in ACTIVATIONS:
            layer["name"] = f"{prefix}{counts[prefix]}"


def _propagate_shapes(spec: dict[str, Any]) -> None:
    """Fix in_channels / in_features so each layer takes what the one before gives."""
    from engine.network import Sequential

    shape = tuple(spec["input_shape"])
    flattened = False
    for layer in spec["layers"]:
        if layer["type"] == "conv2d":
            layer["in_channels"] = shape[0]
        elif layer["type"] == "dense" and len(shape) == 1 and flattened:
            layer["in_features"] = shape[0]
            flattened = False
        one = Sequential.from_spec({**spec, "layers": [layer], "input_shape": list(shape)})
        out = one.shapes()[-1][1:]
        if layer["type"] == "flatten":
            flattened = True
            out = (math.prod(out),)
        shape = out
