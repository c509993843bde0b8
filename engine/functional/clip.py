"""Gradient clipping by global norm: the remedy for exploding gradients.

    n = sqrt(Σ over every gradient array of Σ g²)     (the global norm)
    s = min(1, max_norm / (n + eps))                  (eps = 1e-6, as PyTorch)
    g <- s · g                                         for every array

as torch.nn.utils.clip_grad_norm_. The direction of the update is kept; only its
length is capped. The cache records the norm before and after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.functional._validate import as_float

EPS = 1e-6


@dataclass(frozen=True)
class ClipCache:
    grads: dict[str, np.ndarray]
    max_norm: float
    norm_before: float
    norm_after: float
    scale: float


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """sqrt of the sum of squares of every element of every array (in float64)."""
    total = 0.0
    for g in grads.values():
        v = np.asarray(g, dtype=np.float64).reshape(-1)
        total += float(v @ v)
    return float(np.sqrt(total))


def clip_grad_norm(
    grads: Mapping[str, np.ndarray], max_norm: float
) -> tuple[dict[str, np.ndarray], ClipCache]:
    """(clipped gradients, cache with norm_before, norm_after and the scale s)."""
    if not (isinstance(max_norm, int | float) and np.isfinite(max_norm) and max_norm > 0):
        raise ValueError(f"max_norm must be a positive number; got {max_norm!r}")
    checked = {k: as_float(g, f"gradient {k}") for k, g in grads.items()}
    before = global_norm(checked)
    scale = min(1.0, max_norm / (before + EPS)) if np.isfinite(before) else 1.0
    clipped = {
        k: g if scale == 1.0 else (g * g.dtype.type(scale)).astype(g.dtype, copy=False)
        for k, g in checked.items()
    }
    after = global_norm(clipped)
    return clipped, ClipCache(checked, float(max_norm), before, after, scale)


def clip_grad_norm_backward(
    dclipped: Mapping[str, np.ndarray], cache: ClipCache
) -> dict[str, np.ndarray]:
    """dL/dg given dL/d(clipped g): where clipping acted (s < 1),

        dg = s · dy - max_norm / (n + eps)² · (Σ dy·g) / n · g

    (the scale itself depends on every g through n); otherwise dg = dy.
    """
    missing = set(cache.grads) - set(dclipped)
    if missing:
        raise ValueError(f"dclipped lacks {sorted(missing)}")
    dy = {k: np.asarray(dclipped[k], dtype=cache.grads[k].dtype) for k in cache.grads}
    for k, g in cache.grads.items():
        if dy[k].shape != g.shape:
            raise ValueError(f"dclipped[{k!r}] must have shape {g.shape}; got {dy[k].shape}")
    if cache.scale == 1.0:
        return dy
    n = cache.norm_before
    dot = sum(float(np.sum(dy[k] * g)) for k, g in cache.grads.items())
    coef = cache.max_norm / (n + EPS) ** 2 * dot / n
    return {k: cache.scale * dy[k] - coef * g for k, g in cache.grads.items()}
