"""The explanation of any recorded number, as the API returns it.

Which arithmetic explains a tensor is the engine's business (engine.explain): every
tensor a pass records answers, with terms that add up to its value, as a copy of
another tensor's number, or as `given` (an input, a parameter, a target); a pooling
layer's `dout` answers with where that pooled delta goes. This module maps the
engine's answer to JSON and parses the index.
"""

from __future__ import annotations

import re
from typing import Any

from app.encoding import explanation_payload
from app.sessions.state import Live
from engine.explain import NotExplainable, explain_tensor


def explain(live: Live, name: str, index: tuple[int, ...]) -> dict[str, Any]:
    """trace[name][index] of the session's pass, explained; KeyError if not recorded."""
    trace = live.run.trace
    exp, names = explain_tensor(live.net, trace, live.run.optimizer, name, index)
    return explanation_payload(exp, names, float(trace[name][index]))


# Comma-separated non-negative integers ("" for a scalar); documented on the route.
INDEX_PATTERN = r"^ *([0-9]+ *(, *[0-9]+ *)*)?$"


def parse_index(text: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """'0,0,2,3' -> (0, 0, 2, 3), checked against the tensor's shape."""
    if not re.fullmatch(INDEX_PATTERN, text):
        raise ValueError(f"index must be comma-separated integers like 0,0,2,3; got {text!r}")
    idx = tuple(int(p) for p in text.split(",")) if text.strip() else ()
    if len(idx) != len(shape):
        raise ValueError(
            f"index has {len(idx)} number(s); the tensor has {len(shape)} axes {shape}"
        )
    for i, (v, s) in enumerate(zip(idx, shape, strict=True)):
        if not 0 <= v < s:
            raise ValueError(f"index[{i}] = {v} is outside 0..{s - 1}")
    return idx


__all__ = ["INDEX_PATTERN", "NotExplainable", "explain", "parse_index"]
