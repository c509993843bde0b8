"""Build any network from its spec: a Sequential, or a RecurrentNet when the spec
says `"model": "recurrent"` (Sequential is the default, so older specs and
weights files still load)."""

from __future__ import annotations

from typing import Any

from engine.network import Sequential
from engine.recurrent import RecurrentNet

MODELS: dict[str, type[Sequential]] = {"sequential": Sequential, "recurrent": RecurrentNet}


def model_from_spec(spec: dict[str, Any], seed: int = 0) -> Sequential:
    """The network a spec describes (`spec["model"]`: "sequential" (default) or "recurrent")."""
    kind = spec.get("model", "sequential")
    if kind not in MODELS:
        raise ValueError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")
    return MODELS[kind].from_spec(spec, seed=seed)
