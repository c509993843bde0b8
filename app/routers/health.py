"""Liveness: is the app up, which version, which presets it can offer."""

from typing import Any

from fastapi import APIRouter

from app import __version__
from engine.presets import list_presets

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, Any]:
    """Report that the app is up, its version and the preset names."""
    return {"status": "ok", "version": __version__, "presets": [p.name for p in list_presets()]}
