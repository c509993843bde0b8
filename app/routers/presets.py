"""The networks on offer."""

from typing import Any

from fastapi import APIRouter

from app.pools import PooledRoute
from app.schemas import PresetDetail, PresetSummary
from app.views import dataset_info, network_info
from engine.presets import build_preset, get_preset, list_presets

router = APIRouter(route_class=PooledRoute, prefix="/api/presets", tags=["presets"])


@router.get("", response_model=list[PresetSummary])
def presets() -> list[dict[str, Any]]:
    """Every preset: name, topic, title and summary in en and zh-CN."""
    return [vars(p) for p in list_presets()]


@router.get(
    "/{name}", response_model=PresetDetail, responses={404: {"description": "unknown preset"}}
)
def preset(name: str) -> dict[str, Any]:
    """One preset in full: layers with shapes and parameters, optimizer, dataset."""
    info = get_preset(name)
    lesson = build_preset(name)
    return {**vars(info), "network": network_info(lesson.net), "optimizer": lesson.optimizer,
            "dataset": dataset_info(lesson.data), "meta": lesson.meta}  # fmt: skip
