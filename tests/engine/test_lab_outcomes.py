"""The learning-rate lab names every path truly: each outcome is checked against
facts of the path itself (where it ends, its distance to the surface's minima
and saddle points, how much the loss grew, whether it stayed finite), over every
surface, optimizer and the whole range the server accepts for each setting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.schemas.lab import lab_rules
from app.settings import Limits
from engine.lab import CASE_OF, LECTURE, OUTCOME_TEXT, OUTCOMES, SURFACES, descend

pytestmark = pytest.mark.filterwarnings("error")

NAMES = list(SURFACES)


RULES = lab_rules(Limits())  # what the server accepts, as it tells the page
LR_LO, LR_HI = RULES["lr"]["gt"], RULES["lr"]["le"]  # (0, 1000]
MU_LO, MU_HI = RULES["momentum"]["ge"], RULES["momentum"]["lt"]  # [0, 1)
MAX_STEPS = RULES["steps"]["le"]
START_BOUND = RULES["start"]["le"]
# From just above the lowest learning rate to the highest, through the bowl's
# thresholds (1/20 oscillates, 0.1 keeps y = ±2, 0.105 diverges slowly).
LRS = [LR_LO + 1e-6, 1e-4, 1e-3, 0.01, 0.05, 0.099, 0.1, 0.105, 0.3, 1.0, 3.0, 30.0, LR_HI]
MUS = [MU_LO, 0.9, 0.99, round(MU_HI - 1e-3, 6)]
STEPS = [1, 6, 40, 250]


def _runs():
    for lr in LRS:
        yield "sgd", lr, 0.9
        yield "adam", lr, 0.9
        for mu in MUS:
            yield "momentum", lr, mu


def _starts(surface, every=True):
    """The suggested start and a point a third of a pixel from a critical point;
    with every: also the window's centre and two corners, and the farthest start
    the server allows."""
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    c = (surface.minima + surface.saddles)[0]
    out = [surface.start, (c[0] + 0.3 * surface.tol, c[1])]
    if every:
        out += [((x0 + x1) / 2, (y0 + y1) / 2), (x0, y0), (x1, y1), (START_BOUND, -START_BOUND)]
    return out


# ------------------------------------------------------------ path facts


def _dist(p, q):
    return math.hypot(p[0] - q[0], p[1] - q[1])


def _floor(surface):
    """The largest loss change within a 2-tol square of any critical point: a
    start that close to one has no meaningful loss to grow from."""
    u = np.linspace(-2 * surface.tol, 2 * surface.tol, 9)
    gx, gy = np.meshgrid(u, u)
    return max(
        float(np.max(np.abs(surface.f(c[0] + gx, c[1] + gy) - surface.f(*c))))
        for c in (surface.minima + surface.saddles)
    )


def _window_height(surface):
    """The highest loss in the plotting window above the reference (a finer grid than
    the engine's): a bounded path never rises above it."""
    xs = np.linspace(*surface.x_range, 101)
    ys = np.linspace(*surface.y_range, 101)
    gx, gy = np.meshgrid(xs, ys)
    return float(np.max(surface.f(gx, gy))) - _reference(surface)


def _reference(surface):
    """The lowest listed minimum's value, or on a surface without minima the
    lowest saddle point's value."""
    points = surface.minima or surface.saddles
    return min(float(surface.f(*c)) for c in points)


def _straight_line_share(surface, points, losses):
    """The last step's fall in loss over -g · step, g the gradient where it began."""
    p, q = points[-2], points[-1]
    g = np.array(surface.gradient(p[0], p[1]), dtype=np.float64)
    promised = -float(g @ (q - p))
    if abs(promised) <= 1e-12 * (1 + abs(losses[-2])):
        return 1.0  # a step too small to measure
    return (losses[-2] - losses[-1]) / promised if promised > 0 else -np.inf


def _facts(surface, path, next_point):
    """Facts of the path; next_point() runs it one step further (only asked for
    when the path ends on a critical point: does it stay there?)."""
    points, losses, grads = path.points, path.losses, path.grad_norms
    end, n = points[-1], len(points) - 1
    ref, floor = _reference(surface), _floor(surface)
    on = [c for c in (surface.minima + surface.saddles) if _dist(end, c) <= surface.tol]
    stays = bool(on) and not path.diverged and _dist(next_point(), end) <= surface.tol
    tail = np.diff(points[n // 2 :], axis=0)
    reversals = bool(np.any(tail[1:] * tail[:-1] < 0)) if len(tail) > 1 else False
    return {
        "finite": bool(np.all(np.isfinite(points)) and np.all(np.isfinite(losses))),
        "blew_up": path.diverged,
        "growth": (losses[-1] - ref) / max(abs(losses[0] - ref), floor),
        "above_window": losses[-1] - ref > _window_height(surface),
        "height": losses[-1] - ref,
        "loss_fell": losses[-1] <= losses[0],
        "below_ref": losses[-1] < ref,
        "at_min": [m for m in surface.minima if m in on and stays],
        "at_saddle": [s for s in surface.saddles if s in on and stays],
        "near_min": any(_dist(end, m) <= surface.tol for m in surface.minima),
        "closer_to_saddle": [
            s for s in surface.saddles if surface.tol < _dist(end, s) < _dist(points[0], s)
        ],
        "passed_saddle": any(
            min(_dist(p, s) for p in points) < _dist(points[0], s)
            or _dist(points[0], s) <= 5 * surface.tol
            for s in surface.saddles
        ),
        "grad_faded": grads[-1] < grads[0],
        "wobbles": reversals or bool(np.any(np.diff(losses[n // 2 :]) > 0)),
        "straight_line_share": _straight_line_share(surface, points, losses) if n else 0.0,
    }


def _check(surface, path, next_point):
    """Assert the outcome is true of the path, and that the facts that force an
    outcome (blowing up, resting on a point, a loss grown a thousand-fold) get it."""
    f, out = _facts(surface, path, next_point), path.outcome
    why = f"{out}: {f}"
    assert out in OUTCOMES and path.case == CASE_OF[out] and path.text == OUTCOME_TEXT[out]
    assert f["finite"], why
    # Facts that force an outcome.
    if f["blew_up"] and surface.bounded_below:
        assert out == "diverged", why
    if not f["blew_up"] and f["at_min"]:
        glob = f["at_min"][0] in surface.global_minima
        assert out == ("converged" if glob else "local-minimum"), why
    elif not f["blew_up"] and f["at_saddle"]:
        assert out == "saddle", why
    elif not f["blew_up"] and f["growth"] >= 1000 and f["above_window"]:
        assert out == "diverged", why
    if not surface.minima:
        assert out not in ("slow", "converged", "local-minimum"), why
    if surface.bounded_below:
        assert out not in ("escaped", "runaway", "downhill"), why
    # What each outcome claims.
    if out == "diverged":
        # grew, and out of the window's range of losses (the engine's coarser grid
        # may find a slightly lower top: 0.9 of this one's)
        assert f["blew_up"] or f["growth"] >= 10, why
        assert f["blew_up"] or f["height"] > 0.9 * _window_height(surface), why
    elif out in ("converged", "local-minimum"):
        assert path.ended_near in f["at_min"], why
        assert (path.ended_near in surface.global_minima) == (out == "converged"), why
    elif out == "saddle":
        assert path.ended_near in f["at_saddle"], why
    elif out == "toward-saddle":
        assert f["closer_to_saddle"] and f["grad_faded"] and f["loss_fell"], why
    elif out == "oscillating":
        assert not f["blew_up"] and f["wobbles"], why
        assert f["growth"] < 1000 or not f["above_window"], why
    elif out == "slow":
        assert surface.minima and f["loss_fell"] and not f["near_min"], why
        assert not f["blew_up"] and f["growth"] < 1, why
        # Too small: the last step fell (almost) as far as the gradient's straight
        # line promised, so the curvature did not yet limit it.
        assert f["straight_line_share"] >= 0.8, why
    elif out == "downhill":
        assert not surface.bounded_below and f["loss_fell"] and not f["blew_up"], why
    elif out in ("escaped", "runaway"):
        assert not surface.bounded_below and (f["blew_up"] or f["below_ref"]), why
        assert f["passed_saddle"] or out == "runaway", why
    else:
        assert out == "unsettled" and not f["at_min"] and not f["at_saddle"], why


def _run(name, start, optimizer, lr, steps, mu):
    """descend, and the check of its outcome (with one more step when asked)."""
    path = descend(name, start, optimizer, lr, steps, momentum=mu)
    _check(
        SURFACES[name],
        path,
        lambda: descend(name, start, optimizer, lr, steps + 1, momentum=mu).points[-1],
    )
    return path


# ------------------------------------------------------------------ tests


def test_monkey_saddle_path_creeping_to_the_saddle_is_not_called_too_small():
    """Issue 12 item 4: from (1, 0), SGD 0.05, 200 steps the path creeps along the
    ridge f(x, 0) = x³ towards the saddle point (x ≈ 0.032); there is no minimum."""
    path = descend("monkey-saddle", (1.0, 0.0), "sgd", 0.05, 200)
    assert path.outcome == "toward-saddle" and path.case == "saddle"
    assert "too small" not in path.text["en"] and "minimum to" not in path.text["en"]
    assert "鞍点" in path.text["zh-CN"] and "学习率太小" not in path.text["zh-CN"]
    x, y = path.points[-1]
    assert 0 < x < 0.04 and y == 0  # nearer the saddle (0, 0) than one pixel ...
    assert x > SURFACES["monkey-saddle"].tol  # ... but not on it yet
    assert np.all(np.diff(path.points[:, 0]) < 0)  # every step heads for it


def test_bowl_sgd_0_105_diverges_by_its_loss_growing_orders_of_magnitude():
    """Issue 12 item 4: y is multiplied by 1 - 20 * 0.105 = -1.1 each step, so the
    loss goes from 50 to 7.6e9 in 100 steps without passing the coordinate bound."""
    path = descend("bowl", (-4.5, 2.0), "sgd", 0.105, 100)
    assert not path.diverged and path.steps_run == 100  # no blow-up: all finite
    assert path.losses[0] == pytest.approx(50.125)
    assert path.losses[-1] / path.losses[0] > 1e8
    assert path.outcome == "diverged" and path.case == "too-large"
    assert "发散" in path.text["zh-CN"]


def test_on_a_minimum_means_staying_there_not_flying_through_it():
    """On the bowl, lr 1 takes x = 5 to 0 in one step. SGD stays there (the gradient
    is zero); momentum's velocity (v = 5) carries it on to x = -4.5."""
    sgd = descend("bowl", (5.0, 0.0), "sgd", 1.0, 1)
    assert tuple(sgd.points[-1]) == (0.0, 0.0) and sgd.next_step == 0.0
    assert sgd.outcome == "converged" and sgd.ended_near == (0.0, 0.0)
    mom = descend("bowl", (5.0, 0.0), "momentum", 1.0, 1, momentum=0.9)
    assert tuple(mom.points[-1]) == (0.0, 0.0) and mom.next_step == pytest.approx(4.5)
    assert mom.outcome not in ("converged", "slow") and mom.ended_near is None
    assert descend("bowl", (5.0, 0.0), "momentum", 1.0, 2).points[-1, 0] == pytest.approx(-4.5)


def test_the_lecture_cases_show_what_the_lecture_says():
    """Each surface's lecture runs get the outcome they are there to show; over
    all surfaces they show the lecture's four cases (too small, too large,
    local minimum, saddle point)."""
    cases = set()
    for name, lecture in LECTURE.items():
        surface = SURFACES[name]
        for run in lecture.runs:
            mu = 0.9 if run.momentum is None else run.momentum
            path = _run(name, surface.start, run.optimizer, run.lr, lecture.steps, mu)
            assert path.outcome == run.shows, (name, run)
            cases.add(path.case)
    assert {"too-small", "too-large", "local-minimum", "saddle"} <= cases
    bowl = [(r.lr, r.shows) for r in LECTURE["bowl"].runs]
    assert bowl == [
        (0.001, "slow"),
        (0.05, "converged"),
        (0.099, "oscillating"),
        (0.11, "diverged"),
    ]


@pytest.mark.parametrize("name", NAMES)
def test_every_outcome_is_true_of_its_path_over_the_whole_range(name):
    """Each surface x optimizer x learning rate (0, 1000] x momentum [0, 1) x a
    few step counts x starts over and beyond the window."""
    seen = set()
    for start in _starts(SURFACES[name]):
        for optimizer, lr, mu in _runs():
            for steps in STEPS:
                seen.add(_run(name, start, optimizer, lr, steps, mu).outcome)
    assert len(seen) >= 4, seen


@pytest.mark.parametrize("name", NAMES)
def test_every_outcome_is_true_at_the_most_steps_the_server_allows(name):
    for start in _starts(SURFACES[name], every=False):
        for optimizer, lr, mu in _runs():
            if optimizer == "momentum" and mu not in (MUS[0], MUS[1], MUS[-1]):
                continue
            _run(name, start, optimizer, lr, MAX_STEPS, mu)


def test_a_bounded_two_cycle_next_to_the_minimum_oscillates_it_does_not_diverge():
    """local-minima, SGD 0.7 from a hundredth off the minimum: the path settles into
    a 2-cycle inside the window (loss -2.531 -> -2.203). Measured from the minimum
    the start has almost no height, so '100-fold growth' alone called it diverged."""
    surface = SURFACES["local-minima"]
    m = surface.global_minima[0]
    for off in (0.01, 0.1):
        path = descend("local-minima", (m[0] + off, m[1]), "sgd", 0.7, 2000)
        assert not path.diverged and np.all(np.isfinite(path.losses))
        assert path.outcome == "oscillating", (off, path.outcome)


@pytest.mark.parametrize(("name", "lr"), [("saddle", 0.001), ("monkey-saddle", 0.003)])
def test_a_small_rate_on_the_ridge_creeps_toward_the_saddle_however_far_it_still_is(name, lr):
    """Every step heads for the saddle point, shorter each time: a small rate that has
    not come near it yet is creeping towards it, not running downhill for ever."""
    path = descend(name, SURFACES[name].start, "sgd", lr, 200)
    assert np.all(path.points[:, 1] == 0)  # on the ridge
    assert path.outcome == "toward-saddle"
