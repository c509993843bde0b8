"""Request schemas of the BP (fully connected) network routes: the network on a
dataset, a session of it, and several learning rates side by side."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from app.schemas.base import NonNegativeInt, Seed, Strict, _integral

MAX_BOUNDARY_RESOLUTION = 100

# The choices, in the order the BP page offers them (GET /api/rules reads them here).
# Hidden layers, neurons, epochs, batch size and compared rates are bounded by the
# settings (limits max_bp_layers, max_bp_neurons, max_epochs, max_batch,
# max_compare_runs), checked by app.sessions.bp(_compare) and documented in OpenAPI.
Dataset = Literal["moons", "circles", "xor", "spiral", "blobs", "digits"]
Activation = Literal["tanh", "relu", "leaky_relu", "sigmoid"]
BPLoss = Literal["softmax_cross_entropy", "mse"]
BPOptimizer = Literal["sgd", "momentum", "adam"]
Neurons = Annotated[int, Field(ge=1), BeforeValidator(_integral)]
LR_MAX = 100.0  # a learning rate is in (0, LR_MAX]
LearningRate = Annotated[float, Field(gt=0, le=LR_MAX)]


class BPNetwork(Strict):
    """A fully connected network on a dataset: input = features, output = classes."""

    dataset: Dataset = "moons"
    noise: float = Field(0.1, ge=0, le=1, description="toy sets: noise (standard deviation)")
    hidden: list[Neurons] = Field(default_factory=lambda: [8], description="neurons per layer")
    activation: Activation = "tanh"
    loss: BPLoss = Field(
        "softmax_cross_entropy",
        description="softmax_cross_entropy: softmax over the output logits, -log p(class); "
        "mse: sigmoid output neurons, mean squared error against one-hot targets",
    )
    optimizer: BPOptimizer = "sgd"
    seed: Seed = 0


class BPSessionCreate(BPNetwork):
    lr: LearningRate = 0.1
    sample: NonNegativeInt = Field(0, description="the training sample the first pass runs on")


class BPCompare(BPNetwork):
    lrs: list[LearningRate] = Field(min_length=1, description="one run per learning rate")
    epochs: Annotated[int, Field(ge=1), BeforeValidator(_integral)] = 20
    batch_size: Annotated[int, Field(ge=1), BeforeValidator(_integral)] = 32
