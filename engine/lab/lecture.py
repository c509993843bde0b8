"""The lecture's learning-rate cases, as runs on each surface.

The lecture (学习率的重要性) lists four: 1) a learning rate too small takes too
long to converge; 2) one too large oscillates near the minimum without
converging (or diverges); 3) descent converges in a local minimum and misses the
best solution; 4) it stops at a saddle point, unable to go on down the other
dimension. Each surface's runs, from its suggested start, show some of them;
`shows` is the outcome each run must get (the tests run them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LectureRun:
    """One run of a surface's lecture cases and the outcome it shows."""

    optimizer: str
    lr: float
    shows: str  # an outcome of engine.lab.outcomes
    momentum: float | None = None  # only for "momentum"

    def settings(self) -> dict[str, Any]:
        """The run as `descend` keyword arguments."""
        run: dict[str, Any] = {"optimizer": self.optimizer, "lr": self.lr}
        if self.momentum is not None:
            run["momentum"] = self.momentum
        return run


@dataclass(frozen=True)
class Lecture:
    """A surface's lecture cases: these runs for this many steps from its start."""

    steps: int
    runs: tuple[LectureRun, ...]

    def info(self, start: tuple[float, float]) -> dict[str, Any]:
        """Plain-Python setup for the page: start, steps, runs and what each shows."""
        runs = [{**r.settings(), "shows": r.shows} for r in self.runs]
        return {"start": start, "steps": self.steps, "runs": runs}


LECTURE: dict[str, Lecture] = {
    # y is multiplied by 1 - 20 lr each step: too small, good, |.| < 1 but flipping,
    # |.| > 1 (see engine.lab.surfaces).
    "bowl": Lecture(
        100,
        (
            LectureRun("sgd", 0.001, "slow"),
            LectureRun("sgd", 0.05, "converged"),
            LectureRun("sgd", 0.099, "oscillating"),
            LectureRun("sgd", 0.11, "diverged"),
        ),
    ),
    "rosenbrock": Lecture(
        1000,
        (
            LectureRun("sgd", 0.001, "slow"),
            LectureRun("sgd", 0.003, "diverged"),
            LectureRun("momentum", 0.001, "converged", momentum=0.9),
            LectureRun("adam", 0.1, "converged"),
        ),
    ),
    "local-minima": Lecture(
        200,
        (
            LectureRun("sgd", 0.1, "local-minimum"),
            LectureRun("momentum", 0.1, "converged", momentum=0.9),
            LectureRun("adam", 0.1, "local-minimum"),
        ),
    ),
    "saddle": Lecture(
        100,
        (
            LectureRun("sgd", 0.1, "saddle"),
            LectureRun("momentum", 0.1, "saddle", momentum=0.9),
            LectureRun("adam", 0.1, "saddle"),
        ),
    ),
    "monkey-saddle": Lecture(
        200,
        (
            LectureRun("sgd", 0.05, "toward-saddle"),
            LectureRun("momentum", 0.05, "escaped", momentum=0.9),
            LectureRun("adam", 0.05, "escaped"),
        ),
    ),
}
