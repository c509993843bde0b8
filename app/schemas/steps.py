"""Steps of a pass, the tensors they record and the arithmetic behind a number."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from app.schemas.base import NonNegativeInt, Phase, PositiveInt, Strict, at_most_one


class StepRequest(Strict):
    """Run `count` steps, or up to the end of phase `until`; by default one step.
    After the last step of a pass, the next request starts a new pass.
    `to`: step k of the current pass, run up to it if it has not run yet; the
    response holds that step alone (a player's frame in one request)."""

    model_config = ConfigDict(json_schema_extra=at_most_one("count", "until", "to"))

    count: PositiveInt | None = None
    until: Phase | None = None
    to: NonNegativeInt | None = Field(None, description="the index of a step of this pass")

    @model_validator(mode="after")
    def _not_both(self) -> StepRequest:
        given = [k for k in ("count", "until", "to") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of count, until or to, not {' and '.join(given)}")
        return self


EXPLAINABLE = (
    "whether GET .../explain answers for this tensor's cells (the page makes them clickable)"
)
CELL = (
    "what one cell is called: a key of the UI catalog (app/locales: cell.activation, "
    "cell.part.f = the forget gate, ...), in en and zh-CN"
)


class TensorOut(BaseModel):
    name: str
    role: str
    shape: list[int]
    axes: list[str]
    dtype: Literal["float32", "float64", "int"] = Field(
        description="float64 only for a tensor with finite numbers beyond float32's range"
    )
    min: float | None
    max: float | None
    finite: bool
    nonfinite: dict[str, int] | None = None
    encoding: Literal["list", "b64"]
    data: Any
    explainable: bool | None = Field(None, description=EXPLAINABLE)
    cell: str | None = Field(None, description=CELL)


class TensorRef(BaseModel):
    """A tensor that is the same array as one sent earlier in this response."""

    name: str
    role: str
    axes: list[str]
    same_as: str
    explainable: bool | None = Field(None, description=EXPLAINABLE)
    cell: str | None = Field(None, description=CELL)


# A step's place in time, as fields (a page reads them, never parses op or tensor names).
T_STEP = "the time step of a recurrent layer's step; null for any other step"
DIRECTION = (
    "a BiLSTM's direction: fwd (t = 0 .. T-1) or bwd (t = T-1 .. 0); null for any other "
    "step (a unidirectional layer's, the concatenation of both directions, the head, ...)"
)
Direction = Literal["fwd", "bwd"]


class StepOut(BaseModel):
    index: int
    phase: Phase
    layer: str
    op: str
    t: int | None = Field(description=T_STEP)
    direction: Direction | None = Field(description=DIRECTION)
    caption: dict[str, str]
    formula: str
    tensor_names: list[str]
    tensors: list[TensorOut | TensorRef] | None = None


class SeriesOut(BaseModel):
    quantity: str
    layers: dict[str, list[float | str | None]] = Field(
        description="each layer's values by time step t (null: not recorded yet; "
        '"NaN", "Infinity", "-Infinity" as strings)'
    )


class StepsOut(BaseModel):
    session: str
    version: int
    cursor: int
    passes: int
    loss: float | str | None
    needs_target: bool = Field(
        description="the input has no target: the pass ended with the prediction (no loss, "
        "backward or update); `note` says how to give one"
    )
    note: str | None = None
    steps: list[StepOut]
    series: dict[str, SeriesOut] | None = Field(
        None, description="with ?series=: each quantity's per-time-step scalars"
    )


class FactorOut(BaseModel):
    tensor: str
    index: list[int] | None
    value: float | str = Field(description='a number, or "NaN", "Infinity", "-Infinity"')


class TermOut(BaseModel):
    factors: list[FactorOut]
    product: float | str
    expr: str | None = Field(
        None, description="the term's arithmetic with its numbers when it is not the "
        "factors' product (e^(z − max), −log p, (y − t)²)",
    )  # fmt: skip


class ActivationOut(BaseModel):
    fn: str = Field(
        description="the last step applied to the terms' sum: an activation (sigmoid, "
        "tanh, relu, leaky_relu), softmax's division, or sqrt (a norm)"
    )
    z: float | str = Field(description="the sum of the terms (a pre-activation)")
    value: float | str = Field(description="fn(z)")
    formula: str


class ExplanationOut(BaseModel):
    kind: str
    index: list[int]
    formula: str
    terms: list[TermOut]
    constant: FactorOut | None
    scale: FactorOut | None
    total: float | str
    value: float | str
    activation: ActivationOut | None = Field(
        None, description="an activation, a gate, softmax: total = fn(sum of the terms)"
    )
    given: str | None = Field(
        None, description="input | param | target | state | hyper: nothing in the pass "
        "computes this number (the one term is the number itself)",
    )  # fmt: skip
