"""The learning-rate lab's descent runs, and the rules the page reads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
)

from app.schemas.base import Number, PositiveInt, Strict
from app.settings import Limits
from engine.lab import BOUND, CASE_OF, CASES, OPTIMIZERS, OUTCOMES
from engine.lab.surfaces import SURFACES

LR_MAX = 1000.0  # the learning rate is in (0, LR_MAX]
MOMENTUM_DEFAULT = 0.9  # μ is in [0, 1)
DEFAULT_SURFACE = "bowl"  # the surface the lab page opens on (the lecture's first case)


class DescentRun(Strict):
    optimizer: Literal["sgd", "momentum", "adam"] = "sgd"
    lr: Number = Field(gt=0, le=LR_MAX)
    momentum: Number = Field(MOMENTUM_DEFAULT, ge=0, lt=1)


class DescentRequest(Strict):
    surface: str = Field(examples=[DEFAULT_SURFACE], json_schema_extra={"enum": list(SURFACES)})
    start: list[Annotated[Number, Field(ge=-BOUND, le=BOUND)]] = Field(
        min_length=2, max_length=2, examples=[[-1.5, 1.0]]
    )
    runs: list[DescentRun] = Field(min_length=1)
    steps: PositiveInt = 100


def lab_rules(limits: Limits) -> dict[str, Any]:
    """What a descent request may ask for (the bounds above and the configured
    limits) and how outcomes are named: each outcome's lecture case."""
    return {
        "optimizers": list(OPTIMIZERS),
        "default_optimizer": DescentRun.model_fields["optimizer"].default,
        "default_surface": DEFAULT_SURFACE,
        "lr": {"gt": 0.0, "le": LR_MAX},
        "momentum": {"ge": 0.0, "lt": 1.0, "default": MOMENTUM_DEFAULT},
        "start": {"ge": -BOUND, "le": BOUND},
        "steps": {"ge": 1, "le": limits.max_lab_steps},
        "runs": {"ge": 1, "le": limits.max_lab_runs},
        "outcomes": list(OUTCOMES),
        "cases": list(CASES),
        "case_of": dict(CASE_OF),
    }
