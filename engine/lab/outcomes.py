"""What became of a descent path, in the lecture's terms.

The lecture names four things the learning rate (学习率) does to gradient descent:
too small, it takes too long to converge; too large, it oscillates (震荡) near the
minimum without converging, or diverges (发散); descent can settle in a local
minimum (局部最小值) and miss the best solution; and it can stop at a saddle point
(鞍点), unable to go on down the other dimension. Surfaces without a lower bound
add what truly happens there: the path heads for the saddle point, or escapes it
and goes downhill for ever.

Every outcome is decided from facts of the path alone (where it ends, how far
that is from the surface's listed minima and saddle points, how the loss changed)
so the label the page shows is true of the path the page draws.
"""

from __future__ import annotations

import math

import numpy as np

from engine.lab.surfaces import Point, Surface

OUTCOMES = (
    "converged",
    "slow",
    "oscillating",
    "diverged",
    "local-minimum",
    "saddle",
    "toward-saddle",
    "escaped",
    "runaway",
    "downhill",
    "unsettled",
)
# The lecture's case each outcome shows; "good", "unbounded" and "other" are
# not among the lecture's four but must still be named truthfully.
CASES = ("too-small", "too-large", "local-minimum", "saddle", "good", "unbounded", "other")
CASE_OF: dict[str, str] = {
    "converged": "good",
    "slow": "too-small",
    "oscillating": "too-large",
    "diverged": "too-large",
    "local-minimum": "local-minimum",
    "saddle": "saddle",
    "toward-saddle": "saddle",
    "escaped": "unbounded",
    "runaway": "unbounded",
    "downhill": "unbounded",
    "unsettled": "other",
}
OUTCOME_TEXT: dict[str, dict[str, str]] = {
    "converged": {"en": "Converged to the global minimum.", "zh-CN": "收敛到全局最小值。"},
    "slow": {
        "en": "Still going downhill in short steps, not yet at a minimum after all steps: the "
        "learning rate is too small, so it takes too long to converge.",
        "zh-CN": "走完所有步数仍在小步下坡，还没有到达极小值：学习率太小，"
        "需要花费过多的时间来收敛。",
    },
    "oscillating": {
        "en": "Oscillates back and forth without converging: the steps are too large, the "
        "learning rate is too large (with momentum, a μ near 1 enlarges the step too).",
        "zh-CN": "来回震荡，无法收敛：步长太大，学习率偏大（动量法中 μ 接近 1 也会放大步长）。",
    },
    "diverged": {
        "en": "Diverges: instead of falling, the loss grows by orders of magnitude (or "
        "overflows); the steps overshoot the valley. The learning rate is far too large.",
        "zh-CN": "发散：损失不降反升，增大了几个数量级（或溢出）；步子越过了谷底。学习率太大。",
    },
    "local-minimum": {
        "en": "Converged in a local minimum, not the global one: it did not find the best "
        "solution.",
        "zh-CN": "进入局部最小值就收敛了，没有真正找到最优解（全局最小值）。",
    },
    "saddle": {
        "en": "Stopped at a saddle point: the gradient is (nearly) zero there, yet it is not a "
        "minimum; descent cannot go on down the other dimension.",
        "zh-CN": "停在鞍点：这里梯度（几乎）为零，却不是极小值，不能够在另一维度继续下降。",
    },
    "toward-saddle": {
        "en": "Creeps towards the saddle point ever more slowly: the gradient fades near it, "
        "although it is not a minimum.",
        "zh-CN": "越来越慢地爬向鞍点：越靠近鞍点梯度越小，但鞍点并不是极小值。",
    },
    "escaped": {
        "en": "Came near the saddle point, then left it and goes downhill without end: this "
        "surface has no lower bound.",
        "zh-CN": "接近鞍点后又离开了它，沿下坡一直下降：这个曲面没有下界。",
    },
    "runaway": {
        "en": "Goes downhill without end: this surface has no lower bound, so there is no "
        "minimum to reach.",
        "zh-CN": "沿下坡一直下降：这个曲面没有下界，没有极小值可以到达。",
    },
    "downhill": {
        "en": "Still going downhill after all steps: this surface has no minimum, only a "
        "saddle point, so the descent has nowhere to converge.",
        "zh-CN": "走完所有步数仍在下坡：这个曲面没有极小值，只有鞍点，梯度下降无处收敛。",
    },
    "unsettled": {
        "en": "Not settled after all steps: it is not resting on a minimum, and its steps are "
        "not simply too small (it needs more steps, or another learning rate).",
        "zh-CN": "走完所有步数仍未稳定：没有停在极小值处，也不只是步长太小（需要更多步数，"
        "或换一个学习率）。",
    },
}

GROWTH = 100.0  # the loss above the surface's level grew 100-fold: diverged
SIGN_FLIPS = 0.3  # share of consecutive steps reversing along one axis ...
LOSS_RISES = 0.2  # ... or of steps raising the loss, over the second half: oscillating
TOWARD = 0.9  # cosine between a step and the way to a saddle point: heading for it
NEAR_START = 0.5  # a path came near a saddle: within half its start's distance ...
NEAR_TOLS = 5.0  # ... or within this many `tol`
TOO_SMALL = 0.9  # the last step gave this share of its straight-line fall: too short


def classify(
    surface: Surface,
    points: np.ndarray,
    losses: np.ndarray,
    blew_up: bool,
    blowup_loss: float | None = None,
    next_step: float | None = None,
) -> tuple[str, Point | None]:
    """(outcome, the minimum or saddle point it ended on, or None).

    points, losses: the finite path (n + 1 rows); blew_up: the next step was
    non-finite or beyond the bound, and blowup_loss its loss (may be inf or nan);
    next_step: how far the optimizer would move next (its state included; the
    last step's length if not given). Checked in this order:

    diverged       blew up going uphill;
    converged /    ends within tol of a minimum and its next step is under tol
    local-minimum  (it stays there);
    saddle         the same at a saddle point;
    diverged       the loss above `surface.level` grew GROWTH-fold (from the
                   start's, or from `pixel_loss` if that is less) and above every
                   loss in the plotting window (`window_height`);
    escaped /      blew up or ended going downhill below every critical value on a
    runaway        surface without lower bound, after passing near a saddle or not;
    toward-saddle  ends nearer a saddle point than any other critical point and than
                   the start (however far: a small rate creeps), and over
                   the second half every step heads for it (cosine >= TOWARD), the
                   steps get shorter and the loss does not rise;
    oscillating    over the second half, >= SIGN_FLIPS of consecutive steps reverse
                   along x or y, or >= LOSS_RISES of steps raise the loss;
    downhill       no lower bound, the loss lower than at the start, not rising;
    slow           the same on a surface with minima, not near one, and the last
                   step too short for the curvature to matter: the loss fell by at
                   least TOO_SMALL of what the gradient's straight line promised
                   (a longer step would have gone further);
    unsettled      none of these.
    """
    with np.errstate(all="ignore"):
        return _classify(surface, points, losses, blew_up, blowup_loss, next_step)


def _classify(
    surface: Surface,
    points: np.ndarray,
    losses: np.ndarray,
    blew_up: bool,
    blowup_loss: float | None,
    next_step: float | None,
) -> tuple[str, Point | None]:
    end, tol, n = points[-1], surface.tol, len(points) - 1
    if blew_up:
        falling = _falls(losses[-1], blowup_loss)
        if not surface.bounded_below and falling:
            return _downhill_for_ever(surface, points), None
        return "diverged", None
    if next_step is None:
        next_step = _dist(points[-1], points[-2]) if n >= 1 else 0.0
    if next_step <= tol:
        for m in surface.minima:
            if _dist(end, m) <= tol:
                return ("converged" if m in surface.global_minima else "local-minimum"), m
        for s in surface.saddles:
            if _dist(end, s) <= tol:
                return "saddle", s
    if _grew(surface, losses):
        return "diverged", None
    if n == 0:
        return "unsettled", None
    falling = losses[-1] < losses[-2]
    critical = [float(surface.f(*c)) for c in surface.critical_points]
    if not surface.bounded_below and falling and losses[-1] < min(critical):
        return _downhill_for_ever(surface, points), None
    for s in surface.saddles:
        if _toward(surface, points, losses, s):
            return "toward-saddle", None
    if _oscillating(points, losses):
        return "oscillating", None
    if losses[-1] <= losses[0] and losses[-1] <= losses[-2]:
        if not surface.minima:
            return "downhill", None
        near = any(_dist(end, m) <= tol for m in surface.minima)
        if not near and _linear_share(surface, points, losses) >= TOO_SMALL:
            return "slow", None
    return "unsettled", None


def _dist(p: np.ndarray, q: Point | np.ndarray) -> float:
    return math.hypot(float(p[0]) - q[0], float(p[1]) - q[1])


def _falls(last: float, blowup_loss: float | None) -> bool:
    """Was the step that blew up going downhill? (-inf is; +inf and nan are not.)"""
    if blowup_loss is None or math.isnan(blowup_loss):
        return False
    return blowup_loss < last


def _grew(surface: Surface, losses: np.ndarray) -> bool:
    """The loss, measured from the surface's level, grew by orders of magnitude and
    above every loss in the plotting window. (A start a hair from the minimum has
    almost no height to grow from: a bounded oscillation around it is not divergence.)"""
    h0, h = losses[0] - surface.level, losses[-1] - surface.level
    return bool(h > max(GROWTH * max(abs(h0), surface.pixel_loss), surface.window_height))


def _downhill_for_ever(surface: Surface, points: np.ndarray) -> str:
    """escaped if the path came near a saddle point on its way, runaway if not."""
    for s in surface.saddles:
        d = np.hypot(points[:, 0] - s[0], points[:, 1] - s[1])
        if d.min() <= max(NEAR_START * d[0], NEAR_TOLS * surface.tol) and d[-1] > d.min():
            return "escaped"
    return "runaway"


def _toward(surface: Surface, points: np.ndarray, losses: np.ndarray, s: Point) -> bool:
    """The path ends nearer s than any other critical point and than where it
    started (however far yet: a small rate creeps towards it), and over
    the second half (at least two steps) every step heads for s, the steps get
    shorter and the loss does not rise."""
    n, end = len(points) - 1, points[-1]
    d_end = _dist(end, s)
    if n < 4 or d_end >= _dist(points[0], s):
        return False
    if any(_dist(end, c) < d_end for c in surface.critical_points):
        return False
    k = n // 2
    steps = np.diff(points[k:], axis=0)
    to_s = np.asarray(s) - points[k:-1]
    lengths = np.hypot(steps[:, 0], steps[:, 1])
    dists = np.hypot(to_s[:, 0], to_s[:, 1])
    if np.any(lengths == 0) or np.any(dists == 0):
        return False
    cos = np.sum(steps * to_s, axis=1) / (lengths * dists)
    return bool(
        np.all(cos >= TOWARD) and lengths[-1] < lengths[0] and np.all(np.diff(losses[k:]) <= 0)
    )


def _linear_share(surface: Surface, points: np.ndarray, losses: np.ndarray) -> float:
    """The last step's fall in loss over the fall the gradient at its start
    promised along it (-g · step). On a quadratic, SGD gives 1 - lr λ / 2: near 1
    the step is far below the curvature's limit 2 / λ, so the rate is too small.
    A step whose promise is lost in rounding is too small as well."""
    p, q = points[-2], points[-1]
    gx, gy = surface.gradient(p[0], p[1])
    promised = -(float(gx) * (q[0] - p[0]) + float(gy) * (q[1] - p[1]))
    if abs(promised) <= 1e-12 * (1 + abs(float(losses[-2]))):
        return 1.0
    if promised < 0:
        return -math.inf  # it went against the gradient: not a small step
    return float(losses[-2] - losses[-1]) / promised


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
