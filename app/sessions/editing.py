"""Editing a session by hand: set one parameter (a kernel a student typed in),
explain many numbers of one tensor at once (every position of a conv output)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.limits import at_most
from app.sessions.explain import explain
from app.sessions.inputs import raw_array
from app.sessions.service import SessionService
from app.sessions.state import Live, start_new_pass

MAX_EXPLAIN = 1024


def set_param(service: SessionService, sid: str, name: str, value: list[Any]) -> Live:
    """Replace parameter `name` (same shape, finite numbers); starts a fresh pass."""
    with service.session(sid, write=True) as live:
        params = live.net.params()
        if name not in params:
            raise LookupError(f"no parameter {name!r}; parameters: {', '.join(params)}")
        arr = raw_array(value)
        if arr.shape != params[name].shape:
            raise ValueError(f"{name} has shape {params[name].shape}; got {arr.shape}")
        with np.errstate(over="ignore"):  # 1e300 becomes inf in float32: refused below
            arr = arr.astype(params[name].dtype)
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must hold finite numbers within {arr.dtype} range")
        live.net.set_params({name: arr})
        start_new_pass(live)
        return live


def explain_many(
    service: SessionService, sid: str, tensor: str, indices: list[list[int]]
) -> list[dict[str, Any]]:
    """The explanation of each listed number of one recorded tensor."""
    at_most("indices", len(indices), service.limits, "max_explain_indices")
    with service.session(sid) as live:
        trace = live.run.trace
        if tensor not in trace:
            # 422, not 404: the route exists; the body names a tensor this pass lacks
            raise ValueError(f"no tensor {tensor!r} in this pass (run the step that makes it)")
        shape = trace[tensor].shape
        out = []
        for i, index in enumerate(indices):
            if len(index) != len(shape) or any(
                not 0 <= v < s for v, s in zip(index, shape, strict=False)
            ):
                raise ValueError(f"indices[{i}] = {index} is outside {tensor} of shape {shape}")
            out.append(explain(live, tensor, tuple(index)))
        return out
