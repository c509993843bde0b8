"""The rules the pages follow: limits, presets per page, choices."""

from typing import Any

from fastapi import APIRouter

from app.deps import SettingsDep
from app.pools import PooledRoute
from app.rules import rules

router = APIRouter(route_class=PooledRoute, prefix="/api", tags=["presets"])


@router.get("/rules")
def page_rules(settings: SettingsDep) -> dict[str, Any]:
    """The configured limits, the presets each page offers and the choices of the pages
    (datasets, activations, losses, optimizers); the pages read these, never copies."""
    return rules(settings)
