"""Sessions: creating one (a preset with overrides, a network spec or weights), its input,
what a session says about itself, and training it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    model_validator,
)

from app.schemas.base import (
    Int,
    NestedNumbers,
    NonNegativeInt,
    Number,
    Paddings,
    Phase,
    PositiveInt,
    Seed,
    Sizes,
    Strict,
    _given,
    exactly_one,
)
from app.schemas.presets import NetworkInfo
from app.schemas.steps import DIRECTION, T_STEP, Direction
from engine.presets import DEFAULT_SEED, get_preset, list_presets


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
        None,
        description="start from seeded random weights of the same layers instead of the "
        "trained ones (to train from scratch); the session is then not trained",
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


class TargetSpec(Strict):
    """The target of the session's current input (e.g. the class of a drawn digit)."""

    target: NestedNumbers | Int = Field(
        examples=[7],
        description="a class index (classification; labels per time step for a sequence "
        "model), or an array shaped like the output (regression)",
    )


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


def _known_preset(name: str) -> str:
    try:
        get_preset(name)
    except KeyError as e:  # its message names the presets on offer
        raise ValueError(e.args[0]) from None
    return name


# A preset's name: the schema lists the engine's presets (a client or fuzzer sees the
# choices); an unknown name is a 422 naming them.
PresetName = Annotated[
    str,
    AfterValidator(_known_preset),
    WithJsonSchema({"type": "string", "enum": [p.name for p in list_presets()]}),
]


SOURCES = ("preset", "network", "weights_npz", "copy_of")
NOT_WITH_COPY = ("overrides", "seed", "input")  # a copy is the session as it is
# JSON Schema for "with copy_of given, none of NOT_WITH_COPY is (not null)".
ALONE: dict[str, Any] = {
    "not": {"allOf": [_given("copy_of"), {"anyOf": [_given(k) for k in NOT_WITH_COPY]}]}
}


class SessionCreate(Strict):
    """From a preset (with overrides), or a network spec, or an .npz weights file, or a
    copy of another session."""

    model_config = ConfigDict(json_schema_extra={**exactly_one(*SOURCES), **ALONE})

    preset: PresetName | None = Field(None, examples=["digits-cnn"])
    network: NetworkSpec | None = None
    weights_npz: str | None = Field(None, description="base64 .npz written by save_network")
    copy_of: str | None = Field(
        None, min_length=1, max_length=64, examples=["3f9c0a..."],
        description="another session's id: a new session with its network, weights, "
        "optimizer, input and step (a shared link opens a copy, so the original stays as "
        "it was); nothing else may be given with it",
    )  # fmt: skip
    overrides: Overrides | None = None
    seed: Seed = Field(DEFAULT_SEED, description="the same default as engine build_preset")
    input: InputSpec | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SessionCreate:
        given = [k for k in SOURCES if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(SOURCES)}; got {given or 'none'}")
        set_ = self.model_fields_set
        extra = [k for k in NOT_WITH_COPY if k in set_ and getattr(self, k) is not None]
        if self.copy_of is not None and extra:
            raise ValueError(f"copy_of takes no {', '.join(extra)} (a copy is the session as is)")
        return self


class PlannedStepOut(BaseModel):
    index: int
    phase: Phase
    layer: str
    op: str
    t: int | None = Field(description=T_STEP)
    direction: Direction | None = Field(description=DIRECTION)


class SessionOut(BaseModel):
    id: str
    version: int
    preset: str | None
    page: str = Field(
        description="the walkthrough page that shows this session (/learn/<page>?session=<id> "
        "opens a copy of it there): its preset's, else rnn for a recurrent network, cnn for "
        "one with a convolution, bp for the rest",
        examples=["cnn"],
    )
    network: NetworkInfo
    optimizer: dict[str, Any]
    plan: list[PlannedStepOut]
    cursor: int = Field(description="steps run in the current pass")
    passes: int = Field(
        description="passes started before the current one (the count goes up when a step "
        "after a finished pass starts the next)"
    )
    loss: float | str | None
    input: dict[str, Any] = Field(
        description="the current input: its source, where its target came from (target_from: "
        "request, sample, sequence, lesson, or null when it has none) and, for classification, "
        "its label (null while it has none)"
    )
    dataset: dict[str, Any] | None = Field(
        None,
        description="the session's dataset: name, classes (by class index: what a label, an "
        "output row or a one-hot input stands for), features per sample, train and test "
        "sizes; null for a lesson without one",
    )
    needs_target: bool = Field(
        description="the input has no target (a drawing nobody has labelled): its pass ends "
        "with the prediction, without loss, backward or update, until one is given "
        "(PUT /api/sessions/{id}/target)"
    )
    trained: bool
    added_samples: int = Field(
        0, description="samples added to its training data (POST /api/sessions/{id}/samples)"
    )


class TrainRequest(Strict):
    """Train for `epochs` or for `iterations` (exactly one)."""

    model_config = ConfigDict(json_schema_extra=exactly_one("epochs", "iterations"))

    epochs: PositiveInt | None = None
    iterations: PositiveInt | None = None
    batch_size: PositiveInt = 32
    optimizer: OptimizerSpec | None = None
    watch: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, max_length=4, examples=[["conv1.w"]],
        description="parameters (names as network.parameters lists them) whose values "
        "progress events carry in `watch` as {name: {shape, data}}. A run that watches "
        "reports on a batch clock: a progress event with them every `watch_every` "
        "batches (more apart if that would be over 250 events), and with the last",
    )  # fmt: skip
    watch_every: PositiveInt = Field(
        5, le=10_000, description="batches between two progress events of a run that watches"
    )

    @model_validator(mode="after")
    def _one(self) -> TrainRequest:
        if (self.epochs is None) == (self.iterations is None):
            raise ValueError("give exactly one of epochs, iterations")
        return self


class SampleAdd(Strict):
    """A labelled sample added to the session's training data (a drawing and what it is)."""

    model_config = ConfigDict(json_schema_extra=exactly_one("image", "array"))

    image: ImageInput | None = None
    array: NestedNumbers | None = Field(None, description="nested list of numbers, (C, H, W)")
    label: NonNegativeInt = Field(examples=[7], description="its class index")

    @model_validator(mode="after")
    def _one(self) -> SampleAdd:
        if (self.image is None) == (self.array is None):
            raise ValueError("give exactly one of image, array")
        return self


class SamplesOut(BaseModel):
    added: int = Field(description="samples added to this session's training data so far")
    limit: int = Field(description="the most a session may hold (limit max_extra_samples)")
    labels: list[int] = Field(description="their labels, in the order they were added")


class WeightsSpec(Strict):
    """Another network's weights for a session: its input, target and dataset stay."""

    weights_npz: str = Field(
        min_length=1, description="base64 .npz written by save_network (PyTorch layout; GET "
        "/api/sessions/{sid}/weights.npz gives one)",
    )  # fmt: skip
