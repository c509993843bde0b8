"""The update rules of gradient descent, as pure functions: SGD, SGD with momentum and
Adam (PyTorch's formulas). engine.optim's optimizers (the networks' updates) and
engine.lab's descent paths (2-D surfaces) both step with these.

    SGD       p <- p - lr * g
    momentum  v <- mu * v + g;  p <- p - lr * v              (PyTorch: v0 = 0, no dampening)
    Adam      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g²;
              p <- p - lr * m̂ / (sqrt(v̂) + eps),  m̂ = m / (1 - b1^t), v̂ = v / (1 - b2^t)

Each returns new arrays (never changes p, v or m in place) in the arrays' own
arithmetic: a Python float lr keeps float32 arrays float32.
"""

from __future__ import annotations

import numpy as np


def sgd_update(p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
    """p - lr * g."""
    return p - lr * g


def momentum_update(
    p: np.ndarray, g: np.ndarray, v: np.ndarray, lr: float, mu: float
) -> tuple[np.ndarray, np.ndarray]:
    """v' = mu * v + g; p' = p - lr * v'. Returns (p', v'); v is zeros before the first
    step (so v' = g then, as PyTorch's first buffer)."""
    v = mu * v + g
    return p - lr * v, v


def adam_update(
    p: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    t: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adam step t (from 1), m and v zeros before the first. Returns (p', m', v') with

    m' = b1 m + (1 - b1) g,  v' = b2 v + (1 - b2) g²,
    p' = p - lr * (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps).
    """
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
