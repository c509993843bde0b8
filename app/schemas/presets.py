"""Presets: what the engine ships."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    Field,
)


class PresetSummary(BaseModel):
    name: str
    topic: str
    title: dict[str, str]
    summary: dict[str, str]
    trained: bool
    reads_numbers: bool = Field(
        description="a one-feature sequence model: it can read a typed number sequence"
    )


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
    parameters: list[str] = Field(
        description="every parameter's name, in layer order, as PUT "
        "/api/sessions/{sid}/params/{name} takes it (a layer's name, a dot, its param's key)"
    )
    parameter_count: int


class PresetDetail(PresetSummary):
    network: NetworkInfo
    optimizer: dict[str, Any]
    dataset: dict[str, Any] | None = Field(None, description="name, classes, sizes")
    meta: dict[str, Any] = Field(default_factory=dict, description="training facts")
