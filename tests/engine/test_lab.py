"""The learning-rate lab: surfaces and their gradients, descent paths and the
lecture's outcomes (slow, oscillating, diverged, local minimum, saddle point)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.lab import (
    BOUND,
    OPTIMIZERS,
    OUTCOME_TEXT,
    OUTCOMES,
    SURFACES,
    adam_update,
    compare,
    descend,
    grid,
    list_surfaces,
    momentum_update,
    sgd_update,
)
from engine.optim import SGD, Adam, Momentum, make_optimizer
from tests.engine.gradcheck import check_grad

pytestmark = pytest.mark.filterwarnings("error")  # no RuntimeWarning may escape

NAMES = list(SURFACES)
BOWL_START = (-4.5, 2.0)


def _grad(surface, p):
    return np.array(surface.gradient(p[0], p[1]), dtype=np.float64)


def _hessian(surface, p, h=1e-5):
    """Centred differences of the analytic gradient, symmetrised."""
    cols = [(_grad(surface, p + h * e) - _grad(surface, p - h * e)) / (2 * h) for e in np.eye(2)]
    hess = np.stack(cols, axis=1)
    return (hess + hess.T) / 2


# ------------------------------------------------------------------ surfaces


@pytest.mark.parametrize("name", NAMES)
def test_analytic_gradient_matches_centred_differences(name):
    surface = SURFACES[name]
    rng = np.random.default_rng(7)
    for _ in range(20):
        p = np.array([rng.uniform(*surface.x_range), rng.uniform(*surface.y_range)])
        check_grad(lambda p=p: float(surface.f(p[0], p[1])), {"p": p}, {"p": _grad(surface, p)})


@pytest.mark.parametrize("name", NAMES)
def test_minima_have_zero_gradient_and_positive_curvature(name):
    surface = SURFACES[name]
    for m in surface.minima:
        p = np.array(m)
        assert np.linalg.norm(_grad(surface, p)) < 1e-9
        assert np.all(np.linalg.eigvalsh(_hessian(surface, p)) > 0.1)
    if surface.minima:
        assert len(surface.global_minima) == 1


@pytest.mark.parametrize("name", [n for n in NAMES if SURFACES[n].saddles])
def test_saddle_points_are_saddles(name):
    surface = SURFACES[name]
    for s in surface.saddles:
        p = np.array(s)
        assert np.linalg.norm(_grad(surface, p)) < 1e-9
        ev = np.linalg.eigvalsh(_hessian(surface, p))
        if name == "monkey-saddle":
            # Degenerate: the Hessian is zero, so look at f itself. On a small
            # circle f = r³ cos 3θ changes sign six times (three valleys, three ridges).
            assert np.all(np.abs(ev) < 1e-6)
            theta = np.linspace(0, 2 * np.pi, 360, endpoint=False) + 0.01
            ring = surface.f(1e-2 * np.cos(theta), 1e-2 * np.sin(theta))
            assert np.sum(np.sign(ring) != np.sign(np.roll(ring, 1))) == 6
        else:
            assert ev.min() < -0.1 and ev.max() > 0.1, ev


def test_local_minima_surface_critical_points_found_numerically():
    """Newton's method from a 21 x 21 grid finds exactly the listed points:
    minima (global first) (1.8738, 0.9369) f=-2.531, (-1.8478, -1.3858) f=-1.022,
    (-1.3728, 1.8402) f=-0.630; saddles (-0.4505, -0.3898), (-0.4028, 1.2828);
    no maximum (3 minima - 2 saddles + 0 maxima = 1, as on a plane)."""
    surface = SURFACES["local-minima"]
    found: list[np.ndarray] = []
    for x0 in np.linspace(-4, 4, 21):
        for y0 in np.linspace(-4, 4, 21):
            p = np.array([x0, y0])
            for _ in range(50):
                step = np.linalg.lstsq(_hessian(surface, p), _grad(surface, p), rcond=None)[0]
                p = p - step
                if not np.all(np.abs(p) < 10) or np.linalg.norm(step) < 1e-13:
                    break
            ok = np.all(np.abs(p) < 10) and np.linalg.norm(_grad(surface, p)) < 1e-10
            if ok and not any(np.linalg.norm(p - q) < 1e-6 for q in found):
                found.append(p)
    kinds = {"min": [], "saddle": [], "max": []}
    for p in found:
        ev = np.linalg.eigvalsh(_hessian(surface, p))
        kinds["min" if ev.min() > 0 else "max" if ev.max() < 0 else "saddle"].append(p)
    for kind, listed in (("min", surface.minima), ("saddle", surface.saddles)):
        assert len(kinds[kind]) == len(listed)
        for q in listed:
            assert min(np.linalg.norm(p - q) for p in kinds[kind]) < 1e-8
    assert kinds["max"] == []
    assert surface.global_minima == (surface.minima[0],)


def test_list_surfaces_is_bilingual_and_uses_the_lecture_terms():
    infos = list_surfaces()
    assert [i["name"] for i in infos] == [
        "bowl",
        "rosenbrock",
        "local-minima",
        "saddle",
        "monkey-saddle",
    ]
    for info in infos:
        assert set(info["title"]) == set(info["description"]) == {"en", "zh-CN"}
        lo, hi = info["x_range"]
        assert lo < hi and lo <= info["start"][0] <= hi
    zh = "".join(i["description"]["zh-CN"] for i in infos)
    for term in ("学习率", "局部最小值", "鞍点", "梯度下降", "震荡", "发散"):
        assert term in zh, term


def test_grid_layout_and_dtype():
    g = grid("bowl", resolution=9)
    assert g["xs"].shape == g["ys"].shape == (9,)
    assert g["values"].shape == (9, 9) and g["values"].dtype == np.float64
    assert g["xs"][0] == -5.0 and g["xs"][-1] == 5.0
    assert g["values"][2, 5] == SURFACES["bowl"].f(g["xs"][5], g["ys"][2])  # rows follow y
    assert g["min"] == g["values"].min() and g["max"] == g["values"].max()
    assert grid("rosenbrock")["values"].shape == (64, 64)


@pytest.mark.parametrize("bad", [7, 257, 64.0, True, "64"])
def test_grid_rejects_bad_resolution(bad):
    with pytest.raises(ValueError, match="resolution must be"):
        grid("bowl", resolution=bad)


# --------------------------------------------------------- update formulas


def test_updates_follow_engine_optim_formulas():
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((5, 2))
    sgd, mom, adam = SGD(0.1), Momentum(0.1, 0.8), Adam(0.1, 0.8, 0.9, 1e-8)
    p = ref_sgd = ref_mom = ref_adam = rng.standard_normal(2)
    p_sgd, p_mom, p_adam = p, p, p
    v, m, s = np.zeros(2), np.zeros(2), np.zeros(2)
    for t, g in enumerate(grads, start=1):
        ref_sgd, ref_mom = sgd.step("p", ref_sgd, g), mom.step("p", ref_mom, g)
        ref_adam = adam.step("p", ref_adam, g)
        p_sgd = sgd_update(p_sgd, g, 0.1)
        p_mom, v = momentum_update(p_mom, g, v, 0.1, 0.8)
        p_adam, m, s = adam_update(p_adam, g, m, s, t, 0.1, 0.8, 0.9, 1e-8)
        for ours, ref in ((p_sgd, ref_sgd), (p_mom, ref_mom), (p_adam, ref_adam)):
            np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "run",
    [{"optimizer": "sgd", "lr": 0.05}, {"optimizer": "momentum", "lr": 0.02, "momentum": 0.8},
     {"optimizer": "adam", "lr": 0.1, "beta1": 0.8, "beta2": 0.9, "eps": 1e-8}],
    ids=lambda run: run["optimizer"],
)  # fmt: skip
def test_a_lab_path_is_engine_optims_optimizer_stepped_on_the_surfaces_gradients(run):
    """The lab and the networks' optimizers share one set of update functions: stepping
    engine.optim's optimizer from the path's start on the surface's gradient gives every
    point of the lab's path, exactly."""
    path = descend("local-minima", (-3.5, 3.5), steps=30, **run)
    assert path.steps_run == 30
    opt = make_optimizer(
        {"type": run["optimizer"], **{k: v for k, v in run.items() if k != "optimizer"}}
    )
    surface = SURFACES["local-minima"]
    p = path.points[0]
    for k in range(1, 31):
        p = opt.step("p", p, np.array(surface.df(p[0], p[1]), dtype=np.float64))
        np.testing.assert_array_equal(p, path.points[k], err_msg=f"step {k}")


# ------------------------------------------------------------------- paths


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_path_arrays_are_consistent(optimizer):
    path = descend("local-minima", (-3.5, 3.5), optimizer, 0.05, 40)
    surface = SURFACES["local-minima"]
    n = path.steps_run + 1
    assert path.points.shape == (n, 2) and path.points.dtype == np.float64
    assert path.losses.shape == path.grad_norms.shape == (n,)
    assert tuple(path.points[0]) == (-3.5, 3.5)
    np.testing.assert_allclose(path.losses, surface.f(path.points[:, 0], path.points[:, 1]))
    grads = np.array(surface.gradient(path.points[:, 0], path.points[:, 1]))
    np.testing.assert_allclose(path.grad_norms, np.hypot(*grads))
    assert path.outcome in OUTCOMES and path.text == OUTCOME_TEXT[path.outcome]
    assert path.hyper["lr"] == 0.05


# On the bowl SGD multiplies x by (1 - lr) and y by (1 - 20 lr) each step.
@pytest.mark.parametrize(
    ("lr", "steps", "outcome"),
    [
        (0.001, 100, "slow"),  # x shrinks by 0.999 a step: still at x ≈ -4.07
        (0.05, 100, "converged"),  # y reaches 0 in one step, x ≈ -0.027
        (0.04, 200, "converged"),
        (0.099, 100, "oscillating"),  # y flips sign each step, |y| shrinks by only 0.98
        (0.1, 300, "oscillating"),  # y = ±2 forever: neither converges nor diverges
    ],
)
def test_bowl_learning_rates(lr, steps, outcome):
    path = descend("bowl", BOWL_START, "sgd", lr, steps)
    assert path.outcome == outcome
    assert not path.diverged and path.stopped_reason == "steps"
    assert path.steps_run == steps


def test_bowl_oscillation_alternates_sides_of_the_valley():
    ys = descend("bowl", BOWL_START, "sgd", 0.099, 100).points[:, 1]
    assert np.all(np.sign(ys[1:]) == -np.sign(ys[:-1]))


def test_bowl_too_large_rate_diverges_and_keeps_the_finite_points():
    path = descend("bowl", BOWL_START, "sgd", 0.11, 200)  # |1 - 20 lr| = 1.2 > 1
    assert path.outcome == "diverged" and path.diverged and path.stopped_reason == "diverged"
    assert path.diverged_at == len(path.points) == 72  # 2 * 1.2^72 > 1e6
    assert np.all(np.isfinite(path.points)) and np.abs(path.points).max() <= BOUND
    assert np.all(np.diff(path.losses) > 0)


def test_huge_rate_overflows_without_warnings():
    path = descend("rosenbrock", (-1.5, 2.0), "sgd", 1e300, 10)
    assert path.diverged and path.diverged_at == 1 and path.points.shape == (1, 2)


def test_saddle_stalls_on_its_stable_manifold_and_escapes_off_it():
    # On y = 0 the gradient (2x, -2y) has no y part, so SGD only shrinks x.
    stuck = descend("saddle", (1.0, 0.0), "sgd", 0.1, 300)
    assert stuck.outcome == "saddle" and stuck.ended_near == (0.0, 0.0)
    assert stuck.stopped_reason == "converged" and stuck.steps_run < 300
    assert stuck.grad_norms[-1] < 1e-8 and np.all(stuck.points[:, 1] == 0)
    # A tiny offset grows by 1 + 2 lr = 1.2 a step: 1e-3 * 1.2^100 ≈ 8e4.
    away = descend("saddle", (1.0, 1e-3), "sgd", 0.1, 100)
    assert away.outcome == "escaped" and abs(away.points[-1, 1]) > 2
    assert away.losses[-1] < 0 < away.losses[0]


def test_saddle_escape_that_reaches_the_bound_is_escaped_not_diverged():
    path = descend("saddle", (1.0, 1e-3), "sgd", 0.1, 300)
    assert path.diverged and path.diverged_at == 114 and path.outcome == "escaped"


def test_monkey_saddle_creeps_along_a_ridge_and_runs_down_a_valley():
    # f(x, 0) = x³: dx = -3 lr x², so x ≈ 1 / (3 lr t), ever more slowly.
    ridge = descend("monkey-saddle", (1.0, 0.0), "sgd", 0.1, 500)
    assert ridge.outcome == "saddle" and 0 < ridge.points[-1, 0] < 0.01
    # From (-1, 0) it goes downhill away from the saddle point: never near it.
    valley = descend("monkey-saddle", (-1.0, 0.0), "sgd", 0.1, 500)
    assert valley.outcome == "runaway" and valley.case == "unbounded"
    assert np.all(np.diff(valley.points[:, 0]) < 0)
    # Momentum from the ridge runs past the saddle point and on downhill.
    past = descend("monkey-saddle", (1.0, 0.0), "momentum", 0.05, 200)
    assert past.outcome == "escaped" and past.points[:, 0].min() < 0


def test_local_minimum_and_how_optimizers_differ():
    surface = SURFACES["local-minima"]
    start = surface.start  # (-3.5, 3.5), uphill of the shallowest well
    sgd = descend("local-minima", start, "sgd", 0.1, 500)
    assert sgd.outcome == "local-minimum" and sgd.ended_near == surface.minima[2]
    # Momentum's velocity carries the path over the saddle at (-0.40, 1.28)
    # into the deepest well.
    mom = descend("local-minima", start, "momentum", 0.05, 500)
    assert mom.outcome == "converged" and mom.ended_near == surface.minima[0]
    # Adam is not magic: at lr 0.1 its steps are small near the well and it
    # stays in the local minimum like SGD; at lr 0.5 its (normalised) steps of
    # about lr jump the barrier.
    assert descend("local-minima", start, "adam", 0.1, 500).outcome == "local-minimum"
    assert descend("local-minima", start, "adam", 0.5, 500).outcome == "converged"


def test_rosenbrock_adam_reaches_the_minimum_and_sgd_is_slow():
    adam = descend("rosenbrock", (-1.5, 2.0), "adam", 0.02, 3000)
    assert adam.outcome == "converged"
    assert np.linalg.norm(adam.points[-1] - [1.0, 1.0]) < 1e-3
    assert descend("rosenbrock", (-1.5, 2.0), "sgd", 0.001, 3000).outcome == "slow"
    # Across the valley the curvature is about 1900 at the start: 0.003 > 2 / 1900.
    assert descend("rosenbrock", (-1.5, 2.0), "sgd", 0.003, 3000).outcome == "diverged"


def test_start_on_the_minimum_comes_to_rest_at_once():
    path = descend("bowl", (0.0, 0.0), "adam", 0.1, 50)
    assert path.outcome == "converged" and path.stopped_reason == "converged"
    assert path.steps_run == 1


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_extreme_settings_never_warn_or_raise(name, optimizer):
    for lr in (1e-300, 1.0, 1e300):
        for start in ((BOUND, -BOUND), (0.0, 0.0), (1.0, 1.0)):
            path = descend(name, start, optimizer, lr, 30)
            assert path.outcome in OUTCOMES
            assert np.all(np.isfinite(path.points))


def test_compare_runs_each_config_from_the_same_start():
    runs = [
        {"optimizer": "sgd", "lr": 0.1},
        {"optimizer": "momentum", "lr": 0.05, "momentum": 0.9},
        {"optimizer": "adam", "lr": 0.5, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    ]
    paths = compare("local-minima", (-3.5, 3.5), runs, 500)
    assert [p.optimizer for p in paths] == ["sgd", "momentum", "adam"]
    assert all(tuple(p.points[0]) == (-3.5, 3.5) for p in paths)
    assert [p.outcome for p in paths] == ["local-minimum", "converged", "converged"]
    assert paths[1].hyper == {"lr": 0.05, "momentum": 0.9}


# --------------------------------------------------------------- bad input


def _raises(match, fn, *args, **kwargs):
    with pytest.raises(ValueError, match=match) as info:
        fn(*args, **kwargs)
    assert info.type is ValueError


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"surface_name": "cliff"},
            r"unknown surface 'cliff'; choose one of bowl, rosenbrock, "
            r"local-minima, saddle, monkey-saddle",
        ),
        (
            {"optimizer": "rmsprop"},
            r"unknown optimizer 'rmsprop'; choose one of sgd, momentum, adam",
        ),
        ({"lr": 0.0}, r"learning rate must be positive; got 0.0"),
        ({"lr": -0.1}, r"learning rate must be positive"),
        ({"lr": float("nan")}, r"learning rate must be finite"),
        ({"lr": float("inf")}, r"learning rate must be finite"),
        ({"lr": "0.1"}, r"learning rate must be a number"),
        ({"steps": 0}, r"steps must be between 1 and 100000; got 0"),
        ({"steps": 100_001}, r"steps must be between 1 and 100000"),
        ({"steps": 10.0}, r"steps must be an integer"),
        ({"start": (float("nan"), 0.0)}, r"start x must be finite"),
        ({"start": (0.0, float("-inf"))}, r"start y must be finite"),
        ({"start": (1.0,)}, r"start must be a pair"),
        ({"start": (2e6, 0.0)}, r"start must lie within"),
        ({"optimizer": "momentum", "momentum": 1.0}, r"momentum must be in \[0, 1\)"),
        ({"optimizer": "adam", "beta2": 1.0}, r"beta1 and beta2 must be in \[0, 1\)"),
        ({"optimizer": "adam", "eps": 0.0}, r"eps must be positive"),
    ],
)
def test_descend_rejects_bad_input(kwargs, match):
    args = {"surface_name": "bowl", "start": (1.0, 1.0), "optimizer": "sgd", "lr": 0.1, "steps": 5}
    _raises(match, descend, **{**args, **kwargs})


def test_compare_and_grid_reject_bad_input():
    _raises(r"unknown surface", grid, "cliff")
    _raises(r"runs must be a list of 1 to 16", compare, "bowl", (1.0, 1.0), [], 5)
    _raises(
        r"run 0: unknown setting\(s\) steps",
        compare,
        "bowl",
        (1.0, 1.0),
        [{"optimizer": "sgd", "lr": 0.1, "steps": 3}],
        5,
    )
    _raises(
        r"run 1: missing lr",
        compare,
        "bowl",
        (1.0, 1.0),
        [{"optimizer": "sgd", "lr": 0.1}, {"optimizer": "sgd"}],
        5,
    )
