"""Session edits: set a parameter by hand; explain many numbers in one request."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import Field

from app.deps import ServiceDep
from app.encoding import json_response
from app.errors import BODY_ERRORS, Responses
from app.pools import PooledRoute
from app.schemas import ErrorOut, ExplanationOut, NonNegativeInt, SessionOut, Strict
from app.sessions.editing import explain_many, set_param
from app.views import session_payload

router = APIRouter(route_class=PooledRoute, prefix="/api/sessions", tags=["sessions"])
ERRORS: Responses = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut},
          **BODY_ERRORS}  # fmt: skip
SessionId = Annotated[str, Path(min_length=1, max_length=64, description="the session id")]


class ParamUpdate(Strict):
    array: list[Any] = Field(description="nested list of numbers, the parameter's exact shape")


class ExplainRequest(Strict):
    tensor: str = Field(max_length=128, examples=["conv1.out"])
    indices: list[list[NonNegativeInt]] = Field(
        min_length=1, examples=[[[0, 0, 0, 0], [0, 0, 0, 1]]]
    )


class ExplanationsOut(Strict):
    explanations: list[ExplanationOut]


@router.put("/{sid}/params/{name}", response_model=SessionOut, responses=ERRORS)
def put_param(
    service: ServiceDep,
    sid: SessionId,
    name: Annotated[str, Path(max_length=64, examples=["conv1.w"])],
    update: ParamUpdate,
) -> Response:
    """Set one parameter (e.g. a kernel typed in by hand); starts a fresh pass."""
    return json_response(session_payload(set_param(service, sid, name, update.array)))


@router.post("/{sid}/explain", response_model=ExplanationsOut, responses=ERRORS)
def post_explain(service: ServiceDep, sid: SessionId, req: ExplainRequest) -> Response:
    """The arithmetic behind many numbers of one tensor (e.g. every output position)."""
    return json_response({"explanations": explain_many(service, sid, req.tensor, req.indices)})
