"""BP (fully connected) networks: a session on a dataset, its decision boundary,
and learning rates side by side."""

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, Response

from app.deps import ServiceDep, SettingsDep
from app.encoding import json_response
from app.errors import BODY_ERRORS, Responses
from app.fairshare import CREATE_429
from app.pools import PooledRoute, heavy, run_in
from app.schemas import ErrorOut, SessionOut
from app.schemas.bp import MAX_BOUNDARY_RESOLUTION, BPCompare, BPSessionCreate
from app.sessions import bp, bp_compare
from app.views import session_payload

router = APIRouter(route_class=PooledRoute, prefix="/api", tags=["bp"])
ERRORS: Responses = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}}
SessionId = Annotated[str, Path(min_length=1, max_length=64, description="the session id")]


@router.post(
    "/bp/sessions", status_code=201, response_model=SessionOut,
    responses={**ERRORS, **BODY_ERRORS, **CREATE_429},
)  # fmt: skip
@heavy
def create_bp_session(
    service: ServiceDep,
    req: Annotated[
        BPSessionCreate,
        Body(
            openapi_examples={
                "moons": {
                    "summary": "Two moons, one hidden layer of 8",
                    "value": {"dataset": "moons", "hidden": [8], "activation": "tanh", "lr": 0.1},
                },
                "mse": {
                    "summary": "Spiral, sigmoid outputs and mean squared error",
                    "value": {"dataset": "spiral", "hidden": [16, 8], "loss": "mse", "lr": 1},
                },
            }
        ),
    ],  # fmt: skip
) -> Response:
    """A session with a fully connected network on a dataset (input size = features,
    output size = classes); it steps on a training sample and trains on the train split."""
    live = bp.create_session(service, req)
    return json_response(session_payload(live), 201)


@router.get("/sessions/{sid}/boundary", responses=ERRORS)
@heavy
def decision_boundary(
    service: ServiceDep,
    sid: SessionId,
    resolution: Annotated[int, Query(ge=2, le=MAX_BOUNDARY_RESOLUTION)] = 40,
) -> Response:
    """Class probabilities and the predicted class on a grid over a 2-D dataset
    (probs[i][j] at (xs[j], ys[i])), with the train and test points."""
    return json_response(bp.boundary(service, sid, resolution))


@router.get("/sessions/{sid}/metrics", responses=ERRORS)
@heavy
def dataset_metrics(service: ServiceDep, sid: SessionId) -> Response:
    """Loss and accuracy of the session's network on its dataset (train and test)."""
    return json_response(bp.metrics(service, sid))


@router.post(
    "/bp/compare",
    responses={**ERRORS, **BODY_ERRORS, 429: {"model": ErrorOut, "description": "Too many "
               "heavy requests from this client (client_heavy_requests), or this worker's "
               "training queue is full (train_queue_max); Retry-After says when to try again"},
               503: {"model": ErrorOut, "description": "The training process failed"}},
)  # fmt: skip
async def compare_learning_rates(
    request: Request,
    settings: SettingsDep,
    req: Annotated[
        BPCompare,
        Body(
            openapi_examples={
                "moons": {
                    "summary": "Too small, good, too large, diverging",
                    "value": {
                        "dataset": "moons",
                        "hidden": [8],
                        "lrs": [0.001, 0.1, 3, 200],
                        "epochs": 20,
                    },
                }
            }
        ),
    ],  # fmt: skip
) -> Response:
    """The same network from the same initial weights trained with each learning rate;
    per epoch loss and accuracy (train and test); a diverged run is flagged and its
    non-finite numbers sent as "NaN" or "Infinity". It runs in a training process,
    waiting its turn in the worker's training queue; a client that leaves cancels it."""
    job, kind, iterations = await run_in("heavy", bp_compare.prepare, req, settings.limits)
    try:
        out = await bp_compare.compare(request.app.state.training, job, kind, iterations, request)
    except bp_compare.CompareFailed as exc:
        raise HTTPException(503, f"{exc}; try again", {"Retry-After": "5"}) from None
    if out is None:  # the client left: nobody reads this
        return Response(status_code=499)
    return json_response(out)
