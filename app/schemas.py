"""Request and response models of the REST API.

Requests are strict (no `false` read as 0.0, no "3" read as 3; but 3.0 is the
integer 3, as JSON Schema has it) and forbid unknown fields. Ranges here are
sanity bounds; the configurable classroom limits (app.settings.Limits) are
checked by app.limits with a message naming the limit, and documented in the
OpenAPI schema by app.limits.document_limits. Responses that carry tensors
are pre-encoded (app.encoding); their models here document the shape for OpenAPI.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    model_validator,
)

from engine.lab.descent import BOUND
from engine.lab.surfaces import SURFACES

Phase = Literal["forward", "loss", "backward", "update"]
Number = float


def _integral(v: Any) -> Any:
    """JSON Schema counts 3.0 as an integer, so requests may too (not 3.5, "3" or true)."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


# Integers with their bounds inside (a bound on the field would not reach the schema).
Int = Annotated[int, BeforeValidator(_integral)]
PositiveInt = Annotated[int, Field(ge=1), BeforeValidator(_integral)]
NonNegativeInt = Annotated[int, Field(ge=0), BeforeValidator(_integral)]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1), BeforeValidator(_integral)]
Sizes = PositiveInt | list[PositiveInt]  # kernel, stride, pool size: n or [h, w]
Paddings = NonNegativeInt | list[NonNegativeInt]


def _numbers(rank: int) -> dict[str, Any]:
    """JSON Schema of an array of numbers of the given rank ([[1, 2], [3, 4]]: rank 2)."""
    schema: dict[str, Any] = {"type": "number"}
    for _ in range(rank):
        schema = {"type": "array", "items": schema}
    return schema


# An array of rank 1 to 4 as nested lists of numbers. Checked by app.sessions.inputs
# (a message naming the place of a non-number, or that rows differ in length).
NestedNumbers = Annotated[
    list[Any], WithJsonSchema({"anyOf": [_numbers(rank) for rank in range(1, 5)]})
]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


def _given(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def exactly_one(*names: str) -> dict[str, Any]:
    """JSON Schema for "exactly one of these fields is given (not null)", so the
    OpenAPI schema says what the model validator checks."""
    return {"oneOf": [_given(n) for n in names]}


def at_most_one(*names: str) -> dict[str, Any]:
    """JSON Schema for "not more than one of these fields is given (not null)"."""
    return {"not": {"allOf": [_given(n) for n in names]}}


# --- presets --------------------------------------------------------------------


class PresetSummary(BaseModel):
    name: str
    topic: str
    title: dict[str, str]
    summary: dict[str, str]
    trained: bool


class LayerInfo(BaseModel):
    name: str
    type: str
    output_shape: list[int]
    params: dict[str, list[int]] = Field(description="parameter name -> shape")
    settings: dict[str, Any]


class NetworkInfo(BaseModel):
    input_shape: list[int]
    loss: str
    layers: list[LayerInfo]
    parameter_count: int


class PresetDetail(PresetSummary):
    network: NetworkInfo
    optimizer: dict[str, Any]
    dataset: dict[str, Any] | None = Field(None, description="name, classes, sizes")
    meta: dict[str, Any] = Field(default_factory=dict, description="training facts")


# --- sessions ----------------------------------------------------------------------


class ConvOverride(Strict):
    out_channels: PositiveInt | None = Field(None, description="kernel count")
    kernel: Sizes | None = Field(None, description="kernel size (int or [h, w])")
    stride: Sizes | None = None
    padding: Paddings | None = None
    flip: bool | None = Field(None, description="true convolution (kernel rotated 180 degrees)")


class SGDSpec(Strict):
    type: Literal["sgd"] = "sgd"
    lr: Number = Field(0.01, gt=0, le=100)


class MomentumSpec(Strict):
    type: Literal["momentum"]
    lr: Number = Field(0.01, gt=0, le=100)
    momentum: Number | None = Field(None, ge=0, lt=1)


class AdamSpec(Strict):
    type: Literal["adam"]
    lr: Number = Field(0.01, gt=0, le=100)
    beta1: Number | None = Field(None, ge=0, lt=1)
    beta2: Number | None = Field(None, ge=0, lt=1)


def _optimizer_type(v: Any) -> Any:
    return v.get("type", "sgd") if isinstance(v, dict) else getattr(v, "type", None)


# Each optimizer with only the settings it has (momentum's beta2 is an error, not ignored).
OptimizerSpec = Annotated[
    Annotated[SGDSpec, Tag("sgd")] | Annotated[MomentumSpec, Tag("momentum")]
    | Annotated[AdamSpec, Tag("adam")],
    Discriminator(_optimizer_type),
]  # fmt: skip


class Overrides(Strict):
    conv: dict[str, ConvOverride] | None = Field(
        None, description='per conv layer, e.g. {"conv1": {"out_channels": 4, "kernel": 5}}'
    )
    pooling: Literal["max", "avg"] | None = None
    activation: Literal["relu", "leaky_relu", "sigmoid", "tanh"] | None = None
    lr: Number | None = Field(None, gt=0, le=100, description="learning rate")
    optimizer: OptimizerSpec | None = None
    scale: Number | None = Field(
        None, gt=0, le=10, description="vanishing-rnn: spectral radius of the recurrent weights"
    )
    nonlinearity: Literal["tanh", "relu"] | None = Field(
        None, description="an RNN preset's nonlinearity"
    )
    clip: Number | None = Field(
        None, gt=0, le=1000, description="recurrent presets: clip gradients to this global norm"
    )
    reinit: bool | None = Field(
        None, description="recurrent presets: start from seeded random weights (to train)"
    )
    seq_len: PositiveInt | None = Field(
        None, description="sine and memory presets: sequences of this many time steps"
    )


class SampleInput(Strict):
    split: Literal["train", "test"] = "test"
    index: NonNegativeInt = 0


class ImageInput(Strict):
    png: str = Field(description="base64 PNG (a data: URL prefix is accepted)")
    invert: bool = Field(False, description="dark strokes on light paper -> ink as high values")


class InputSpec(Strict):
    """Exactly one of sample (a dataset image), array (raw numbers), image (PNG) or
    sequence (typed numbers)."""

    model_config = ConfigDict(json_schema_extra=exactly_one("sample", "array", "image", "sequence"))

    sample: SampleInput | None = None
    array: NestedNumbers | None = Field(
        None, description="nested list of numbers, (C, H, W) or (N, C, H, W)"
    )
    image: ImageInput | None = None
    sequence: str | None = Field(
        None, max_length=4000, examples=["0, 0.3, 0.6, 0.8, 0.95, 1"],
        description="numbers separated by commas or spaces, for a one-feature sequence model "
        "(sine presets): it reads all but the last; each step's target is the number after it",
    )  # fmt: skip
    target: NestedNumbers | Int | None = Field(
        None, description="labels (classification) or an array (regression) for this input"
    )

    @model_validator(mode="after")
    def _one_source(self) -> InputSpec:
        sources = ("sample", "array", "image", "sequence")
        given = [k for k in sources if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(sources)}; got {given or 'none'}")
        return self


class LayerSpec(Strict):
    type: Literal[
        "conv2d", "max_pool2d", "avg_pool2d", "relu", "leaky_relu", "sigmoid", "tanh",
        "flatten", "dense",
    ]  # fmt: skip
    name: str = Field("", max_length=32, pattern=r"^[a-z][a-z0-9_]*$|^$")
    in_channels: PositiveInt | None = None
    out_channels: PositiveInt | None = None
    kernel: Sizes | None = None
    stride: Sizes | None = None
    padding: Paddings | None = None
    size: Sizes | None = None
    slope: Number | None = None
    in_features: PositiveInt | None = None
    out_features: PositiveInt | None = None


class NetworkSpec(Strict):
    input_shape: list[PositiveInt] = Field(min_length=1, max_length=3)
    loss: Literal["softmax_cross_entropy", "mse", "mse_onehot"] = Field(
        "softmax_cross_entropy",
        description="softmax_cross_entropy and mse_onehot take class labels as targets; "
        "mse an array shaped like the output",
    )
    layers: list[LayerSpec] = Field(min_length=1)


class SessionCreate(Strict):
    """From a preset (with overrides), or a network spec, or an .npz weights file."""

    model_config = ConfigDict(json_schema_extra=exactly_one("preset", "network", "weights_npz"))

    preset: str | None = Field(None, examples=["digits-cnn"])
    network: NetworkSpec | None = None
    weights_npz: str | None = Field(None, description="base64 .npz written by save_network")
    overrides: Overrides | None = None
    seed: Seed = 0
    input: InputSpec | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SessionCreate:
        given = [k for k in ("preset", "network", "weights_npz") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of preset, network, weights_npz; got {given or 'none'}"
            )
        return self


class PlannedStepOut(BaseModel):
    index: int
    phase: Phase
    layer: str
    op: str


class SessionOut(BaseModel):
    id: str
    version: int
    preset: str | None
    network: NetworkInfo
    optimizer: dict[str, Any]
    plan: list[PlannedStepOut]
    cursor: int = Field(description="steps run in the current pass")
    passes: int = Field(
        description="passes started before the current one (the count goes up when a step "
        "after a finished pass starts the next)"
    )
    loss: float | str | None
    input: dict[str, Any]
    trained: bool


class StepRequest(Strict):
    """Run `count` steps, or up to the end of phase `until`; by default one step.
    After the last step of a pass, the next request starts a new pass."""

    model_config = ConfigDict(json_schema_extra=at_most_one("count", "until"))

    count: PositiveInt | None = None
    until: Phase | None = None

    @model_validator(mode="after")
    def _not_both(self) -> StepRequest:
        if self.count is not None and self.until is not None:
            raise ValueError("give count or until, not both")
        return self


class TensorOut(BaseModel):
    name: str
    role: str
    shape: list[int]
    axes: list[str]
    dtype: Literal["float32", "int"]
    min: float | None
    max: float | None
    finite: bool
    nonfinite: dict[str, int] | None = None
    encoding: Literal["list", "b64"]
    data: Any


class TensorRef(BaseModel):
    """A tensor that is the same array as one sent earlier in this response."""

    name: str
    role: str
    axes: list[str]
    same_as: str


class StepOut(BaseModel):
    index: int
    phase: Phase
    layer: str
    op: str
    t: int | None
    caption: dict[str, str]
    formula: str
    tensor_names: list[str]
    tensors: list[TensorOut | TensorRef] | None = None


class StepsOut(BaseModel):
    session: str
    version: int
    cursor: int
    passes: int
    loss: float | str | None
    steps: list[StepOut]


class FactorOut(BaseModel):
    tensor: str
    index: list[int] | None
    value: float | str = Field(description='a number, or "NaN", "Infinity", "-Infinity"')


class TermOut(BaseModel):
    factors: list[FactorOut]
    product: float | str


class ActivationOut(BaseModel):
    fn: str = Field(description="sigmoid | tanh | relu, applied to the terms' sum")
    z: float | str = Field(description="the pre-activation: the sum of the terms")
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
        None, description="a recurrent gate or hidden value: total = fn(sum of the terms)"
    )


class TrainRequest(Strict):
    """Train for `epochs` or for `iterations` (exactly one)."""

    model_config = ConfigDict(json_schema_extra=exactly_one("epochs", "iterations"))

    epochs: PositiveInt | None = None
    iterations: PositiveInt | None = None
    batch_size: PositiveInt = 32
    optimizer: OptimizerSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> TrainRequest:
        if (self.epochs is None) == (self.iterations is None):
            raise ValueError("give exactly one of epochs, iterations")
        return self


# --- lab -------------------------------------------------------------------------------


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


class ErrorOut(BaseModel):
    detail: Any
