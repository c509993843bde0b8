"""The learning-rate lab: gradient descent on 2-D loss surfaces.

What the lecture says about the learning rate (学习率), shown on paths:
too small is slow, too large oscillates (震荡) or diverges (发散), and descent
can stop in a local minimum (局部最小值) or at a saddle point (鞍点).
Stateless: every function takes its inputs and returns new arrays.

    from engine.lab import descend
    path = descend("bowl", (-4.5, 2.0), "sgd", lr=0.099, steps=100)
    path.outcome, path.case  # ("oscillating", "too-large")
"""

from engine.functional.optim import adam_update, momentum_update, sgd_update
from engine.lab.descent import BOUND, MAX_RUNS, MAX_STEPS, OPTIMIZERS, Path, compare, descend
from engine.lab.lecture import LECTURE, Lecture, LectureRun
from engine.lab.outcomes import CASE_OF, CASES, OUTCOME_TEXT, OUTCOMES, classify
from engine.lab.surfaces import (
    MAX_RESOLUTION,
    MIN_RESOLUTION,
    SURFACES,
    Surface,
    get_surface,
    grid,
    list_surfaces,
)

__all__ = [
    "BOUND",
    "CASES",
    "CASE_OF",
    "MAX_RESOLUTION",
    "MAX_RUNS",
    "MAX_STEPS",
    "MIN_RESOLUTION",
    "OPTIMIZERS",
    "OUTCOMES",
    "OUTCOME_TEXT",
    "SURFACES",
    "Path",
    "LECTURE",
    "Lecture",
    "LectureRun",
    "Surface",
    "adam_update",
    "classify",
    "compare",
    "descend",
    "get_surface",
    "grid",
    "list_surfaces",
    "momentum_update",
    "sgd_update",
]
