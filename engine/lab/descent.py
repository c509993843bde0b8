"""Gradient descent on a 2-D surface; what became of the path is decided by
`engine.lab.outcomes` from the path's own facts.

Gradient descent = a direction (the gradient g) and a step (the learning rate):

    SGD       p <- p - lr * g
    momentum  v <- mu * v + g;  p <- p - lr * v              (PyTorch, v0 = 0)
    Adam      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g²;
              p <- p - lr * m̂ / (sqrt(v̂) + eps),  m̂ = m / (1 - b1^t), v̂ = v / (1 - b2^t)

The update functions are engine.functional.optim's, the very ones `engine.optim`'s
optimizers step a network with. Everything here is a pure function: no state outlives
a call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.functional.optim import adam_update, momentum_update, sgd_update
from engine.lab.outcomes import CASE_OF, OUTCOME_TEXT, classify
from engine.lab.surfaces import get_surface

OPTIMIZERS = ("sgd", "momentum", "adam")

MAX_STEPS = 100_000
MAX_RUNS = 16
BOUND = 1e6  # |x| or |y| beyond this counts as diverged
REST_STEP = 1e-12  # a step shorter than this * (1 + |p|) ...
REST_GRAD = 1e-8  # ... with |g| below this: the path has come to rest


@dataclass
class Path:
    """One descent: points[k] is p after k steps; losses and grad_norms match it.

    The arrays have n + 1 rows, n <= steps: fewer when the path came to rest
    (stopped_reason "converged") or blew up (diverged_at = k, the first step whose
    point was non-finite or beyond BOUND; only the finite points before it are kept).
    """

    surface: str
    optimizer: str
    hyper: dict[str, float]
    points: np.ndarray  # (n + 1, 2) float64
    losses: np.ndarray  # (n + 1,)
    grad_norms: np.ndarray  # (n + 1,)
    diverged: bool
    diverged_at: int | None
    stopped_reason: str  # "steps" | "diverged" | "converged"
    outcome: str  # one of engine.lab.outcomes.OUTCOMES
    ended_near: tuple[float, float] | None = None  # the minimum or saddle point it ended on
    text: dict[str, str] = field(default_factory=dict)  # OUTCOME_TEXT[outcome]
    case: str = "other"  # the lecture's case it shows: CASE_OF[outcome]
    next_step: float = 0.0  # how far the optimizer would move on: 0 when it blew up or rested

    @property
    def steps_run(self) -> int:
        return len(self.points) - 1


# ---------------------------------------------------------------- validation


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number; got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    return float(value)


def _hyper(optimizer: str, lr: Any, momentum: Any, beta1: Any, beta2: Any, eps: Any) -> dict:
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    lr = _number("learning rate", lr)
    if lr <= 0:
        raise ValueError(f"learning rate must be positive; got {lr}")
    if optimizer == "sgd":
        return {"lr": lr}
    if optimizer == "momentum":
        mu = _number("momentum", momentum)
        if not 0 <= mu < 1:
            raise ValueError(f"momentum must be in [0, 1); got {mu}")
        return {"lr": lr, "momentum": mu}
    b1, b2, e = _number("beta1", beta1), _number("beta2", beta2), _number("eps", eps)
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError(f"beta1 and beta2 must be in [0, 1); got {b1}, {b2}")
    if e <= 0:
        raise ValueError(f"eps must be positive; got {e}")
    return {"lr": lr, "beta1": b1, "beta2": b2, "eps": e}


def _start(start: Any) -> np.ndarray:
    if not isinstance(start, Sequence | np.ndarray) or len(start) != 2:
        raise ValueError(f"start must be a pair (x, y); got {start!r}")
    x, y = (_number(f"start {axis}", v) for axis, v in zip("xy", start, strict=True))
    if max(abs(x), abs(y)) > BOUND:
        raise ValueError(f"start must lie within |x|, |y| <= {BOUND:g}; got ({x}, {y})")
    return np.array([x, y], dtype=np.float64)


def _steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        raise ValueError(f"steps must be an integer; got {steps!r}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS}; got {steps}")
    return int(steps)


# ------------------------------------------------------------------- descent


def _update(
    optimizer: str, hyper: dict[str, float], p: np.ndarray, g: np.ndarray,
    v: np.ndarray, m: np.ndarray, t: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """One step of `optimizer` from p: (the new point, momentum's or Adam's v, Adam's m)."""
    if optimizer == "sgd":
        return sgd_update(p, g, hyper["lr"]), v, m
    if optimizer == "momentum":
        p_new, v = momentum_update(p, g, v, hyper["lr"], hyper["momentum"])
        return p_new, v, m
    p_new, m, v = adam_update(
        p, g, m, v, t, hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["eps"]
    )
    return p_new, v, m


def descend(
    surface_name: str,
    start: tuple[float, float],
    optimizer: str,
    lr: float,
    steps: int,
    momentum: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> Path:
    """Run `steps` updates of `optimizer` from `start` on the surface; see `Path`.

    Stops early when the path comes to rest (a step shorter than
    REST_STEP * (1 + |p|) with |g| < REST_GRAD) or blows up (a non-finite value or
    |x| or |y| > BOUND). Overflow never warns: the loop runs under np.errstate.
    """
    surface = get_surface(surface_name)
    hyper = _hyper(optimizer, lr, momentum, beta1, beta2, eps)
    p = _start(start)
    steps = _steps(steps)

    points = np.empty((steps + 1, 2))
    losses = np.empty(steps + 1)
    grad_norms = np.empty(steps + 1)
    v, m = np.zeros(2), np.zeros(2)
    diverged_at, stopped, blowup_loss = None, "steps", None
    n = 0
    with np.errstate(all="ignore"):
        g = np.array(surface.df(p[0], p[1]), dtype=np.float64)
        points[0], losses[0], grad_norms[0] = p, surface.f(p[0], p[1]), math.hypot(*g)
        for t in range(1, steps + 1):
            p_new, v, m = _update(optimizer, hyper, p, g, v, m, t)
            x, y = p_new
            loss = float(surface.f(x, y))
            g = np.array(surface.df(x, y), dtype=np.float64)
            # Plain floats and `math` here: NumPy reductions on 2-vectors cost more
            # than the step itself. nan fails every comparison, so `<= BOUND` is False.
            if not (abs(x) <= BOUND and abs(y) <= BOUND and math.isfinite(loss)):
                diverged_at, stopped, blowup_loss = t, "diverged", loss
                break
            gn = math.hypot(g[0], g[1])
            if not math.isfinite(gn):
                diverged_at, stopped, blowup_loss = t, "diverged", loss
                break
            n = t
            points[t], losses[t], grad_norms[t] = p_new, loss, gn
            moved = math.hypot(x - p[0], y - p[1])
            p = p_new
            if gn < REST_GRAD and moved <= REST_STEP * (1 + math.hypot(x, y)):
                stopped = "converged"
                break

    points, losses, grad_norms = points[: n + 1], losses[: n + 1], grad_norms[: n + 1]
    # The step the optimizer would take next (its velocity or moments included):
    # a path resting on a point must not be about to leave it.
    ahead = 0.0
    if diverged_at is None and stopped == "steps":
        with np.errstate(all="ignore"):
            q, _, _ = _update(optimizer, hyper, p, g, v, m, n + 1)
            ahead = math.hypot(q[0] - p[0], q[1] - p[1])
    outcome, near = classify(
        surface, points, losses, diverged_at is not None, blowup_loss, next_step=ahead
    )
    return Path(
        surface=surface.name,
        optimizer=optimizer,
        hyper=hyper,
        points=points,
        losses=losses,
        grad_norms=grad_norms,
        diverged=diverged_at is not None,
        diverged_at=diverged_at,
        stopped_reason=stopped,
        outcome=outcome,
        ended_near=near,
        text=dict(OUTCOME_TEXT[outcome]),
        case=CASE_OF[outcome],
        next_step=ahead,
    )


def compare(
    surface_name: str, start: tuple[float, float], runs: list[dict[str, Any]], steps: int
) -> list[Path]:
    """One `descend` per run from the same start, e.g.
    runs = [{"optimizer": "sgd", "lr": 0.1}, {"optimizer": "momentum", "lr": 0.05}].
    A run's keys are descend's keyword arguments: optimizer, lr (both required),
    momentum, beta1, beta2, eps.
    """
    get_surface(surface_name)
    if not isinstance(runs, list | tuple) or not 1 <= len(runs) <= MAX_RUNS:
        raise ValueError(f"runs must be a list of 1 to {MAX_RUNS} settings; got {runs!r}")
    allowed = {"optimizer", "lr", "momentum", "beta1", "beta2", "eps"}
    for i, run in enumerate(runs):
        if not isinstance(run, dict):
            raise ValueError(f"run {i} must be a dict of settings; got {run!r}")
        unknown = sorted(set(run) - allowed)
        if unknown:
            raise ValueError(
                f"run {i}: unknown setting(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        missing = sorted({"optimizer", "lr"} - set(run))
        if missing:
            raise ValueError(f"run {i}: missing {', '.join(missing)}")
    return [descend(surface_name, start, steps=steps, **run) for run in runs]
