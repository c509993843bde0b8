"""The learning-rate lab: stateless gradient descent on 2-D loss surfaces."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response

from app.deps import SettingsDep
from app.encoding import json_response
from app.errors import BODY_ERRORS, Responses
from app.limits import at_most
from app.pools import PooledRoute, heavy
from app.schemas import DescentRequest, ErrorOut
from app.schemas.lab import lab_rules
from engine.lab import MAX_RESOLUTION, MIN_RESOLUTION, compare, get_surface, grid, list_surfaces

router = APIRouter(route_class=PooledRoute, prefix="/api/lab", tags=["lab"])
ERRORS: Responses = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
SurfaceName = Annotated[str, Path(max_length=64, examples=["bowl"])]


@router.get("/rules")
def rules(settings: SettingsDep) -> dict[str, Any]:
    """What a descent may ask for (learning rate, μ, start, steps, runs) and the
    lecture case (too-small, too-large, local-minimum, saddle, ...) of each outcome."""
    return lab_rules(settings.limits)


@router.get("/surfaces")
def surfaces() -> list[dict[str, Any]]:
    """Every surface: formula, title and description (en, zh-CN), window, minima,
    saddles and its lecture cases (start, steps, runs and the outcome each shows)."""
    return list_surfaces()


@router.get("/surfaces/{name}", responses=ERRORS)
@heavy
def surface_grid(
    name: SurfaceName,
    resolution: Annotated[int, Query(ge=MIN_RESOLUTION, le=MAX_RESOLUTION)] = 64,
) -> Response:
    """The surface sampled on a grid for contour plots: values[i, j] = f(xs[j], ys[i])."""
    try:
        surface = get_surface(name)
    except ValueError as exc:
        raise LookupError(str(exc)) from None  # an unknown name in the path is a 404
    return json_response({**surface.info(), "grid": grid(name, resolution)})


@router.post("/descent", responses={**ERRORS, **BODY_ERRORS})
@heavy
def descent(
    settings: SettingsDep,
    req: Annotated[
        DescentRequest,
        Body(
            openapi_examples={
                "bowl": {
                    "summary": "Too small, good, oscillating, diverging (the lecture cases)",
                    "value": {
                        "surface": "bowl",
                        "start": [-4.5, 2.0],
                        "steps": 100,
                        "runs": [{"lr": 0.001}, {"lr": 0.05}, {"lr": 0.099}, {"lr": 0.11}],
                    },
                },
                "saddle": {
                    "summary": "Stalling at a saddle point",
                    "value": {
                        "surface": "saddle",
                        "start": [1.0, 0.0],
                        "steps": 200,
                        "runs": [{"lr": 0.1}],
                    },
                },
            }
        ),
    ],  # fmt: skip
) -> Response:
    """Paths from one start for several optimizers and learning rates; each says how it
    ended (outcome: converged, slow, oscillating, diverged, local-minimum, saddle,
    toward-saddle, escaped, runaway, downhill, unsettled), the lecture case that is
    (case) and why (text, en and zh-CN)."""
    at_most("runs", len(req.runs), settings.limits, "max_lab_runs")
    at_most("steps", req.steps, settings.limits, "max_lab_steps")
    runs = [r.model_dump() for r in req.runs]
    for run in runs:
        if run["optimizer"] != "momentum":
            run.pop("momentum")
    start = (req.start[0], req.start[1])
    paths = compare(req.surface, start, runs, req.steps)
    return json_response({"surface": req.surface, "start": list(start),
                          "paths": [asdict(p) for p in paths]})  # fmt: skip
