"""Request and response models of the REST API, by what they describe (base,
presets, sessions, steps, lab, bp); imported from here.

Requests are strict (no `false` read as 0.0, no "3" read as 3; but 3.0 is the
integer 3, as JSON Schema has it) and forbid unknown fields. Ranges here are
sanity bounds; the configurable classroom limits (app.settings.Limits) are
checked by app.limits with a message naming the limit, and documented in the
OpenAPI schema by app.limits.document_limits. Responses that carry tensors
are pre-encoded (app.encoding); their models here document the shape for OpenAPI.
"""

from app.schemas.base import (
    ErrorOut,
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
    at_most_one,
    exactly_one,
)
from app.schemas.bp import (
    MAX_BOUNDARY_RESOLUTION,
    BPCompare,
    BPNetwork,
    BPSessionCreate,
    Dataset,
    LearningRate,
    Neurons,
)
from app.schemas.lab import (
    DescentRequest,
    DescentRun,
)
from app.schemas.presets import (
    LayerInfo,
    NetworkInfo,
    PresetDetail,
    PresetSummary,
)
from app.schemas.sessions import (
    AdamSpec,
    ConvOverride,
    ImageInput,
    InputSpec,
    LayerSpec,
    MomentumSpec,
    NetworkSpec,
    OptimizerSpec,
    Overrides,
    PlannedStepOut,
    SampleInput,
    SessionCreate,
    SessionOut,
    SGDSpec,
    TrainRequest,
)
from app.schemas.steps import (
    ActivationOut,
    ExplanationOut,
    FactorOut,
    SeriesOut,
    StepOut,
    StepRequest,
    StepsOut,
    TensorOut,
    TensorRef,
    TermOut,
)

__all__ = [
    "ActivationOut",
    "AdamSpec",
    "BPCompare",
    "BPNetwork",
    "BPSessionCreate",
    "ConvOverride",
    "Dataset",
    "DescentRequest",
    "DescentRun",
    "ErrorOut",
    "ExplanationOut",
    "FactorOut",
    "ImageInput",
    "InputSpec",
    "Int",
    "LayerInfo",
    "LayerSpec",
    "LearningRate",
    "MAX_BOUNDARY_RESOLUTION",
    "MomentumSpec",
    "NestedNumbers",
    "NetworkInfo",
    "NetworkSpec",
    "Neurons",
    "NonNegativeInt",
    "Number",
    "OptimizerSpec",
    "Overrides",
    "Paddings",
    "Phase",
    "PlannedStepOut",
    "PositiveInt",
    "PresetDetail",
    "PresetSummary",
    "SGDSpec",
    "SampleInput",
    "Seed",
    "SessionCreate",
    "SessionOut",
    "Sizes",
    "SeriesOut",
    "StepOut",
    "StepRequest",
    "StepsOut",
    "Strict",
    "TensorOut",
    "TensorRef",
    "TermOut",
    "TrainRequest",
    "at_most_one",
    "exactly_one",
]
