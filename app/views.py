"""Sessions and presets as response payloads (engine objects -> JSON-ready dicts)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.encoding import json_number
from app.rules import page_of
from app.sessions.state import Live
from engine.data import DatasetSplit
from engine.network import Sequential


def network_info(net: Sequential) -> dict[str, Any]:
    shapes = net.shapes()
    layers = []
    for layer, shape in zip(net.layers, shapes[1:], strict=True):
        settings = {k: v for k, v in layer.spec().items() if k not in ("type", "name")}
        params = {k: list(p.shape) for k, p in layer.params.items()}
        layers.append({"name": layer.name, "type": layer.op, "output_shape": list(shape[1:]),
                       "params": params, "settings": settings})  # fmt: skip
    count = int(sum(p.size for p in net.params().values()))
    return {"input_shape": list(net.input_shape), "loss": net.loss_kind, "layers": layers,
            "parameters": list(net.params()), "parameter_count": count}  # fmt: skip


def loss_value(v: float | None) -> float | str | None:
    """The pass's loss (None before the loss step), non-finite as encoding.json_number."""
    return None if v is None else json_number(v)


def dataset_info(data: DatasetSplit | None) -> dict[str, Any] | None:
    """A dataset's name, classes (by class index), features per sample and split sizes;
    None for a lesson without one."""
    if data is None:
        return None
    return {"name": data.name, "classes": list(data.classes),
            "features": int(np.prod(data.x_train.shape[1:])),
            "train": len(data.y_train), "test": len(data.y_test)}  # fmt: skip


def session_payload(live: Live) -> dict[str, Any]:
    plan = [{"index": s.index, "phase": s.phase, "layer": s.layer, "op": s.op, "t": s.t,
             "direction": s.direction} for s in live.run.plan]  # fmt: skip
    return {
        "id": live.id,
        "version": live.version,
        "preset": live.meta.get("preset"),
        "page": page_of(live.meta.get("preset"), live.net),
        "network": network_info(live.net),
        "optimizer": live.meta["optimizer"],
        "plan": plan,
        "cursor": live.run.cursor,
        "passes": live.meta["passes"],
        "loss": loss_value(live.run.loss),
        "input": live.meta["input"],
        "dataset": dataset_info(live.data),
        "needs_target": live.run.needs_target,
        "trained": bool(live.meta.get("trained")),
        "added_samples": len(live.added.get("y", ())),
    }
