"""Loss surfaces for the learning-rate lab: f(x, y), its analytic gradient, a
plotting window and the known minima and saddle points.

Every `f` and `df` works elementwise on NumPy arrays (or scalars), so the same
function draws the contour grid and drives gradient descent. The critical
points of `local-minima` were found numerically (Newton's method from a 41 x 41
grid of starts, |gradient| < 1e-15 at the listed digits); the tests check them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from engine.lab.lecture import LECTURE

Point = tuple[float, float]
Fn = Callable[[Any, Any], Any]
Grad = Callable[[Any, Any], tuple[Any, Any]]

# A path "ends at" a critical point when it finishes this close to it, as a
# fraction of the larger side of the plotting window: 1/200 of the window is
# about one pixel on a classroom projector, so the student sees it on the point.
NEAR_FRACTION = 0.005


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface with what a student needs to read a descent path on it."""

    name: str
    formula: str
    title: dict[str, str]
    description: dict[str, str]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    minima: tuple[Point, ...]
    saddles: tuple[Point, ...]
    start: Point  # a suggested start that shows the surface's lesson
    bounded_below: bool
    f: Fn = field(repr=False, compare=False)
    df: Grad = field(repr=False, compare=False)

    def value(self, x: Any, y: Any) -> Any:
        """f(x, y), elementwise."""
        return self.f(x, y)

    def gradient(self, x: Any, y: Any) -> tuple[Any, Any]:
        """(df/dx, df/dy), elementwise."""
        return self.df(x, y)

    @property
    def global_minima(self) -> tuple[Point, ...]:
        """The minima whose value is the lowest (up to 1e-9)."""
        if not self.minima:
            return ()
        values = [float(self.f(*m)) for m in self.minima]
        best = min(values)
        return tuple(m for m, v in zip(self.minima, values, strict=True) if v <= best + 1e-9)

    @property
    def span(self) -> float:
        """The larger side of the plotting window."""
        return max(self.x_range[1] - self.x_range[0], self.y_range[1] - self.y_range[0])

    @property
    def tol(self) -> float:
        """Distance under which a point counts as on a minimum or saddle point."""
        return NEAR_FRACTION * self.span

    @property
    def critical_points(self) -> tuple[Point, ...]:
        """Every listed minimum and saddle point (the surfaces have no maximum)."""
        return self.minima + self.saddles

    @property
    def level(self) -> float:
        """The loss a path is measured from: the global minimum's value, or on a
        surface without minima the lowest saddle point's value."""
        return min(float(self.f(*c)) for c in (self.global_minima or self.saddles))

    @property
    def window_height(self) -> float:
        """The highest loss in the plotting window, measured from `level` (on a 65 x 65
        grid): a path whose loss rises above it has left the window's range of losses,
        which a bounded oscillation never does."""
        return _window_height(self.name)

    @property
    def pixel_loss(self) -> float:
        """The largest change of f within `tol` of a critical point: losses closer
        than this to a critical value cannot be told apart on the plot."""
        theta = np.linspace(0.0, 2 * np.pi, 64, endpoint=False)
        ring = self.tol * np.stack([np.cos(theta), np.sin(theta)])
        return max(
            float(np.max(np.abs(self.f(c[0] + ring[0], c[1] + ring[1]) - self.f(*c))))
            for c in self.critical_points
        )

    def info(self) -> dict[str, Any]:
        """Plain-Python summary (no arrays) for listings."""
        return {
            "name": self.name,
            "formula": self.formula,
            "title": dict(self.title),
            "description": dict(self.description),
            "x_range": self.x_range,
            "y_range": self.y_range,
            "minima": [
                {"point": m, "value": float(self.f(*m)), "global": m in self.global_minima}
                for m in self.minima
            ],
            "saddles": [{"point": s, "value": float(self.f(*s))} for s in self.saddles],
            "start": self.start,
            "bounded_below": self.bounded_below,
            "tol": self.tol,
            "lecture": LECTURE[self.name].info(self.start),
        }


# ----------------------------------------------------------------------- bowl
# f = ½ (x² + 20 y²): Hessian diag(1, 20), condition number 20. SGD multiplies
# x by (1 − lr) and y by (1 − 20 lr) each step, so y oscillates for
# lr > 1/20 and diverges for lr > 2/20.
BOWL_CURVATURE = 20.0


def _bowl(x: Any, y: Any) -> Any:
    return 0.5 * (x * x + BOWL_CURVATURE * y * y)


def _bowl_grad(x: Any, y: Any) -> tuple[Any, Any]:
    return x, BOWL_CURVATURE * y


# ----------------------------------------------------------------- rosenbrock
# f = (1 − x)² + 100 (y − x²)², unscaled (the classic). The Hessian at (1, 1)
# has eigenvalues ≈ 1001.6 and 0.4, so SGD is only stable there for
# lr < 2 / 1001.6 ≈ 0.002.


def _rosenbrock(x: Any, y: Any) -> Any:
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _rosenbrock_grad(x: Any, y: Any) -> tuple[Any, Any]:
    r = y - x * x
    return -2 * (1 - x) - 400 * x * r, 200 * r


# -------------------------------------------------------------- local minima
# f = q (x² + y²) − Σ a exp(−((x − cx)² + (y − cy)²) / (2 s²)): a shallow bowl
# (so f is bounded below and paths come back) with three Gaussian wells.
BOWL_Q = 0.1
WELLS: tuple[tuple[float, float, float, float], ...] = (
    # (cx, cy, depth a, width s)
    (2.0, 1.0, 3.0, 1.0),  # deepest: the global minimum
    (-2.0, -1.5, 1.6, 0.8),
    (-1.5, 2.0, 1.2, 0.7),
)


def _wells(x: Any, y: Any) -> Any:
    out = BOWL_Q * (x * x + y * y)
    for cx, cy, a, s in WELLS:
        out = out - a * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s))
    return out


def _wells_grad(x: Any, y: Any) -> tuple[Any, Any]:
    gx, gy = 2 * BOWL_Q * x, 2 * BOWL_Q * y
    for cx, cy, a, s in WELLS:
        e = a * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s)) / (s * s)
        gx = gx + e * (x - cx)
        gy = gy + e * (y - cy)
    return gx, gy


# --------------------------------------------------------------------- saddles


def _saddle(x: Any, y: Any) -> Any:
    return x * x - y * y


def _saddle_grad(x: Any, y: Any) -> tuple[Any, Any]:
    return 2 * x, -2 * y


def _monkey(x: Any, y: Any) -> Any:
    return x**3 - 3 * x * y * y


def _monkey_grad(x: Any, y: Any) -> tuple[Any, Any]:
    return 3 * x * x - 3 * y * y, -6 * x * y


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface(
            name="bowl",
            formula="f = ½ (x² + 20 y²)",
            title={"en": "Ill-conditioned bowl", "zh-CN": "病态二次碗（条件数 20）"},
            description={
                "en": "A quadratic valley 20 times steeper across (y) than along (x): gradient "
                "descent oscillates across it for a learning rate above 1/20, diverges above "
                "2/20, and a rate safe for y is slow along x.",
                "zh-CN": "一个 y 方向比 x 方向陡 20 倍的二次山谷：学习率大于 1/20 时梯度下降在"
                "山谷两侧震荡，大于 2/20 时发散，而对 y 安全的小学习率在 x 方向上收敛很慢。",
            },
            x_range=(-5.0, 5.0),
            y_range=(-2.5, 2.5),
            minima=((0.0, 0.0),),
            saddles=(),
            start=(-4.5, 2.0),
            bounded_below=True,
            f=_bowl,
            df=_bowl_grad,
        ),
        Surface(
            name="rosenbrock",
            formula="f = (1 − x)² + 100 (y − x²)²",
            title={"en": "Rosenbrock's banana valley", "zh-CN": "Rosenbrock 香蕉形山谷"},
            description={
                "en": "A narrow curved valley with its global minimum at (1, 1): the gradient "
                "points across the valley rather than along it, so plain gradient descent "
                "needs a learning rate below about 0.002 and many steps, while Adam follows "
                "the floor.",
                "zh-CN": "一条弯曲狭窄的山谷，全局最小值在 (1, 1)：梯度指向山谷两侧而不是沿着"
                "谷底，普通梯度下降需要约 0.002 以下的学习率和很多步，Adam 则能沿谷底前进。",
            },
            x_range=(-2.0, 2.0),
            y_range=(-1.0, 3.0),
            minima=((1.0, 1.0),),
            saddles=(),
            start=(-1.5, 2.0),
            bounded_below=True,
            f=_rosenbrock,
            df=_rosenbrock_grad,
        ),
        Surface(
            name="local-minima",
            formula="f = 0.1 (x² + y²) − Σ aᵢ exp(−|p − cᵢ|² / (2 sᵢ²))",
            title={"en": "Three wells: local minima", "zh-CN": "三个山谷：局部最小值"},
            description={
                "en": "A shallow bowl with three wells of different depths, so three minima "
                "(one global, two local) and two saddle points between them: where gradient "
                "descent ends depends on the start, the learning rate and the optimizer.",
                "zh-CN": "浅碗形曲面上有三个深浅不同的山谷，因此有三个极小值（一个全局最小值、"
                "两个局部最小值）和它们之间的两个鞍点：梯度下降停在哪里取决于起点、学习率和"
                "优化器。",
            },
            x_range=(-4.0, 4.0),
            y_range=(-4.0, 4.0),
            minima=(
                (1.8738211935785463, 0.9369166202795317),  # global, f ≈ −2.5314
                (-1.8477663661987545, -1.3858235861027373),  # local, f ≈ −1.0220
                (-1.3728335228617174, 1.8401990289134376),  # local, f ≈ −0.6302
            ),
            saddles=(
                (-0.4505240797610756, -0.38978532962626283),
                (-0.4028410382551726, 1.2828030137608748),
            ),
            start=(-3.5, 3.5),
            bounded_below=True,
            f=_wells,
            df=_wells_grad,
        ),
        Surface(
            name="saddle",
            formula="f = x² − y²",
            title={"en": "Saddle point", "zh-CN": "鞍点"},
            description={
                "en": "x² − y² curves up along x and down along y: started on y = 0, gradient "
                "descent stops at the saddle point (0, 0) where the gradient vanishes, while the "
                "smallest offset in y escapes downhill without bound.",
                "zh-CN": "x² − y² 沿 x 向上弯、沿 y 向下弯：从 y = 0 出发，梯度下降停在梯度为零"
                "的鞍点 (0, 0)，不能在另一维度继续下降；y 方向只要有一点偏移就会沿下坡逃离"
                "（曲面没有下界）。",
            },
            x_range=(-2.0, 2.0),
            y_range=(-2.0, 2.0),
            minima=(),
            saddles=((0.0, 0.0),),
            start=(1.0, 0.0),
            bounded_below=False,
            f=_saddle,
            df=_saddle_grad,
        ),
        Surface(
            name="monkey-saddle",
            formula="f = x³ − 3 x y²",
            title={"en": "Monkey saddle", "zh-CN": "猴鞍"},
            description={
                "en": "Three valleys and three ridges meet at (0, 0), a flat saddle point whose "
                "gradient and Hessian are both zero: gradient descent along a ridge creeps "
                "towards it ever more slowly, and off the ridge it slides down a valley.",
                "zh-CN": "三条山谷和三条山脊交汇于 (0, 0)，这个鞍点处梯度和二阶导数（Hessian）都"
                "为零：沿山脊的梯度下降越走越慢地爬向它，偏离山脊则沿山谷一直下降。",
            },
            x_range=(-1.5, 1.5),
            y_range=(-1.5, 1.5),
            minima=(),
            saddles=((0.0, 0.0),),
            start=(1.0, 0.0),
            bounded_below=False,
            f=_monkey,
            df=_monkey_grad,
        ),
    )
}


def get_surface(name: str) -> Surface:
    """The surface called `name`; ValueError listing the valid names otherwise."""
    if not isinstance(name, str) or name not in SURFACES:
        raise ValueError(f"unknown surface {name!r}; choose one of {', '.join(SURFACES)}")
    return SURFACES[name]


def list_surfaces() -> list[dict[str, Any]]:
    """Every surface's summary (`Surface.info()`), in registry order."""
    return [s.info() for s in SURFACES.values()]


MIN_RESOLUTION, MAX_RESOLUTION = 8, 256


def grid(surface_name: str, resolution: int = 64) -> dict[str, Any]:
    """f on a resolution x resolution grid over the surface's window, for contours.

    xs = linspace(x0, x1, R), ys = linspace(y0, y1, R) and
    values[i, j] = f(xs[j], ys[i]) (rows follow y, as in an image or
    matplotlib's `contour(xs, ys, values)`); all float64.
    """
    surface = get_surface(surface_name)
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise ValueError(f"resolution must be an integer; got {resolution!r}")
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise ValueError(
            f"resolution must be between {MIN_RESOLUTION} and {MAX_RESOLUTION}; got {resolution}"
        )
    xs = np.linspace(*surface.x_range, int(resolution), dtype=np.float64)
    ys = np.linspace(*surface.y_range, int(resolution), dtype=np.float64)
    gx, gy = np.meshgrid(xs, ys)
    values = np.asarray(surface.f(gx, gy), dtype=np.float64)
    return {
        "surface": surface.name,
        "xs": xs,
        "ys": ys,
        "values": values,
        "x_range": surface.x_range,
        "y_range": surface.y_range,
        "min": float(values.min()),
        "max": float(values.max()),
    }


@cache
def _window_height(name: str) -> float:
    surface = get_surface(name)
    xs = np.linspace(*surface.x_range, 65)
    ys = np.linspace(*surface.y_range, 65)
    gx, gy = np.meshgrid(xs, ys)
    return float(np.max(surface.f(gx, gy))) - surface.level
