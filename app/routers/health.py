"""Liveness (is the app up) and readiness (can it serve sessions: is the store reachable)."""

from typing import Any

from fastapi import APIRouter

from app import __version__
from app.deps import ServiceDep
from app.schemas import ErrorOut
from app.store import StoreUnavailable
from engine.presets import list_presets

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, Any]:
    """Report that the app is up, its version and the preset names."""
    return {"status": "ok", "version": __version__, "presets": [p.name for p in list_presets()]}


@router.get(
    "/readyz",
    responses={503: {"model": ErrorOut, "description": "The session store is unreachable"}},
)
def readyz(service: ServiceDep) -> dict[str, Any]:
    """Report whether the app can serve sessions now: 503 while the session store is
    unreachable (with Retry-After), 200 again as soon as it is back."""
    store = service.store
    try:
        store.ping()
    except StoreUnavailable:
        raise
    except Exception as exc:  # readiness must answer "not ready", never a bare 500
        raise StoreUnavailable(store.backend, "ping", f"{type(exc).__name__}: {exc}") from exc
    return {"status": "ready", "store": store.backend}
