"""Gradient descent on a 2-D surface, and what became of the path.

Gradient descent = a direction (the gradient g) and a step (the learning rate):

    SGD       p <- p - lr * g
    momentum  v <- mu * v + g;  p <- p - lr * v              (PyTorch, v0 = 0)
    Adam      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g²;
              p <- p - lr * m̂ / (sqrt(v̂) + eps),  m̂ = m / (1 - b1^t), v̂ = v / (1 - b2^t)

The same formulas as `engine.optim`, written out on the 2-vector so this module
stands alone. Everything here is a pure function: no state outlives a call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.lab.surfaces import Surface, get_surface

OPTIMIZERS = ("sgd", "momentum", "adam")
OUTCOMES = ("converged", "slow", "oscillating", "diverged", "local-minimum", "saddle", "escaped")
OUTCOME_TEXT: dict[str, dict[str, str]] = {
    "converged": {"en": "Converged to the global minimum.", "zh-CN": "收敛到全局最小值。"},
    "slow": {
        "en": "Still far from a minimum after all steps: the learning rate is too small.",
        "zh-CN": "走完所有步数仍离最小值很远：学习率太小，收敛太慢。",
    },
    "oscillating": {
        "en": "Oscillates across the valley without converging: the learning rate is too large.",
        "zh-CN": "在最小值附近来回震荡，无法收敛：学习率偏大。",
    },
    "diverged": {
        "en": "Diverged: every step overshoots further, the learning rate is far too large.",
        "zh-CN": "发散：每一步都越跳越远，学习率太大。",
    },
    "local-minimum": {
        "en": "Stuck in a local minimum, not the global one.",
        "zh-CN": "进入局部最小值就收敛了，没有找到真正的最优解。",
    },
    "saddle": {
        "en": "Stopped at a saddle point: the gradient is zero but it is not a minimum.",
        "zh-CN": "停在鞍点：梯度为零却不是极小值，不能在另一维度继续下降。",
    },
    "escaped": {
        "en": "Slid off downhill without end: this surface has no lower bound.",
        "zh-CN": "沿下坡一直滑走：这个曲面没有下界。",
    },
}

MAX_STEPS = 100_000
MAX_RUNS = 16
BOUND = 1e6  # |x| or |y| beyond this counts as diverged
REST_STEP = 1e-12  # a step shorter than this * (1 + |p|) ...
REST_GRAD = 1e-8  # ... with |g| below this: the path has come to rest
STATIONARY_GRAD = 1e-6  # |g| this small away from every listed point: an unlisted saddle
SIGN_FLIPS = 0.3  # share of consecutive steps reversing along one axis
LOSS_RISES = 0.2  # share of steps raising the loss


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
    outcome: str  # one of OUTCOMES
    ended_near: tuple[float, float] | None = None  # the minimum or saddle point it ended on
    text: dict[str, str] = field(default_factory=dict)  # OUTCOME_TEXT[outcome]

    @property
    def steps_run(self) -> int:
        return len(self.points) - 1


# ------------------------------------------------------------------- updates


def sgd_update(p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
    """p - lr * g."""
    return p - lr * g


def momentum_update(
    p: np.ndarray, g: np.ndarray, v: np.ndarray, lr: float, mu: float
) -> tuple[np.ndarray, np.ndarray]:
    """v' = mu * v + g; p' = p - lr * v'. Returns (p', v')."""
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
    """Adam step t (from 1). Returns (p', m', v') with

    m' = b1 m + (1 - b1) g,  v' = b2 v + (1 - b2) g²,
    p' = p - lr * (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps).
    """
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


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
    diverged_at, stopped = None, "steps"
    n = 0
    with np.errstate(all="ignore"):
        g = np.array(surface.df(p[0], p[1]), dtype=np.float64)
        points[0], losses[0], grad_norms[0] = p, surface.f(p[0], p[1]), math.hypot(*g)
        for t in range(1, steps + 1):
            if optimizer == "sgd":
                p_new = sgd_update(p, g, hyper["lr"])
            elif optimizer == "momentum":
                p_new, v = momentum_update(p, g, v, hyper["lr"], hyper["momentum"])
            else:
                p_new, m, v = adam_update(
                    p, g, m, v, t, hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["eps"]
                )
            loss = float(surface.f(p_new[0], p_new[1]))
            g = np.array(surface.df(p_new[0], p_new[1]), dtype=np.float64)
            if not (
                np.all(np.isfinite(p_new))
                and np.max(np.abs(p_new)) <= BOUND
                and math.isfinite(loss)
                and np.all(np.isfinite(g))
            ):
                diverged_at, stopped = t, "diverged"
                break
            n = t
            gn = math.hypot(*g)
            points[t], losses[t], grad_norms[t] = p_new, loss, gn
            rest = math.hypot(*(p_new - p)) <= REST_STEP * (1 + math.hypot(*p_new))
            p = p_new
            if rest and gn < REST_GRAD:
                stopped = "converged"
                break

    points, losses, grad_norms = points[: n + 1], losses[: n + 1], grad_norms[: n + 1]
    outcome, near = classify(surface, points, losses, grad_norms, diverged_at is not None)
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


# ------------------------------------------------------------ classification


def classify(
    surface: Surface,
    points: np.ndarray,
    losses: np.ndarray,
    grad_norms: np.ndarray,
    diverged: bool,
) -> tuple[str, tuple[float, float] | None]:
    """(outcome, the critical point it ended on or None), checked in this order:

    diverged       blew up, the loss rising (escaped if it was falling on a
                   surface without lower bound: that is not the rate's fault);
    converged /    ends within surface.tol of a minimum, the last step shorter
    local-minimum  than tol (not just flying through), global or not;
    saddle         ends within tol of a saddle point, or |g| < STATIONARY_GRAD;
    escaped        no lower bound, loss still falling and below every critical value;
    oscillating    over the second half of the path, >= SIGN_FLIPS of consecutive
                   steps reverse along x or y, or >= LOSS_RISES of steps raise the loss;
    slow           otherwise: still going downhill, far from any minimum.
    """
    end, tol = points[-1], surface.tol
    falling = len(losses) > 1 and losses[-1] < losses[-2]
    critical = [float(surface.f(*c)) for c in surface.minima + surface.saddles]
    below_all = not critical or losses[-1] < min(critical)
    if diverged:
        escaped = not surface.bounded_below and falling and below_all
        return ("escaped" if escaped else "diverged"), None

    last_step = math.hypot(*(points[-1] - points[-2])) if len(points) > 1 else 0.0
    for m in surface.minima:
        if math.hypot(end[0] - m[0], end[1] - m[1]) <= tol and last_step <= tol:
            return ("converged" if m in surface.global_minima else "local-minimum"), m
    for s in surface.saddles:
        if math.hypot(end[0] - s[0], end[1] - s[1]) <= tol:
            return "saddle", s
    if not surface.bounded_below and falling and below_all:
        return "escaped", None
    if grad_norms[-1] < STATIONARY_GRAD:
        return "saddle", None
    if _oscillating(points, losses):
        return "oscillating", None
    return "slow", None


def _oscillating(points: np.ndarray, losses: np.ndarray) -> bool:
    n = len(points) - 1
    if n < 4:
        return False
    d = np.diff(points[n // 2 :], axis=0)
    tiny = 1e-12 * (1 + float(np.max(np.abs(points))))
    for axis in (0, 1):
        a, b = d[:-1, axis], d[1:, axis]
        both = (np.abs(a) > tiny) & (np.abs(b) > tiny)
        if both.sum() >= 2 and np.mean(a[both] * b[both] < 0) >= SIGN_FLIPS:
            return True
    tail = losses[n // 2 :]
    rises = np.diff(tail) > 1e-12 * (1 + float(np.max(np.abs(tail))))
    return bool(np.mean(rises) >= LOSS_RISES)
