"""Request schemas of the BP (fully connected) network routes: the network on a
dataset, a session of it, and several learning rates side by side."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from app.schemas.base import NonNegativeInt, Seed, Strict, _integral

MAX_HIDDEN_LAYERS = 4
MAX_NEURONS = 64
MAX_COMPARE_RUNS = 6
MAX_COMPARE_EPOCHS = 50
MAX_BOUNDARY_RESOLUTION = 100

Dataset = Literal["xor", "circles", "moons", "spiral", "blobs", "digits"]
Neurons = Annotated[int, Field(ge=1, le=MAX_NEURONS), BeforeValidator(_integral)]
LearningRate = Annotated[float, Field(gt=0, le=100)]


class BPNetwork(Strict):
    """A fully connected network on a dataset: input = features, output = classes."""

    dataset: Dataset = "moons"
    noise: float = Field(0.1, ge=0, le=1, description="toy sets: noise (standard deviation)")
    hidden: list[Neurons] = Field(
        default_factory=lambda: [8], max_length=MAX_HIDDEN_LAYERS, description="neurons per layer"
    )
    activation: Literal["relu", "leaky_relu", "sigmoid", "tanh"] = "tanh"
    loss: Literal["softmax_cross_entropy", "mse"] = Field(
        "softmax_cross_entropy",
        description="softmax_cross_entropy: softmax over the output logits, -log p(class); "
        "mse: sigmoid output neurons, mean squared error against one-hot targets",
    )
    optimizer: Literal["sgd", "momentum", "adam"] = "sgd"
    seed: Seed = 0


class BPSessionCreate(BPNetwork):
    lr: LearningRate = 0.1
    sample: NonNegativeInt = Field(0, description="the training sample the first pass runs on")


class BPCompare(BPNetwork):
    lrs: list[LearningRate] = Field(min_length=1, max_length=MAX_COMPARE_RUNS)
    epochs: Annotated[int, Field(ge=1, le=MAX_COMPARE_EPOCHS), BeforeValidator(_integral)] = 20
    batch_size: Annotated[int, Field(ge=1, le=64), BeforeValidator(_integral)] = 32
