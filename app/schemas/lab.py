"""The learning-rate lab's descent runs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
)

from app.schemas.base import Number, PositiveInt, Strict
from engine.lab.descent import BOUND
from engine.lab.surfaces import SURFACES


class DescentRun(Strict):
    optimizer: Literal["sgd", "momentum", "adam"] = "sgd"
    lr: Number = Field(gt=0, le=1000)
    momentum: Number = Field(0.9, ge=0, lt=1)


class DescentRequest(Strict):
    surface: str = Field(examples=["bowl"], json_schema_extra={"enum": list(SURFACES)})
    start: list[Annotated[Number, Field(ge=-BOUND, le=BOUND)]] = Field(
        min_length=2, max_length=2, examples=[[-1.5, 1.0]]
    )
    runs: list[DescentRun] = Field(min_length=1)
    steps: PositiveInt = 100
