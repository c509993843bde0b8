"""Sessions: create, read, step, inspect tensors and explanations, change input, train."""

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.deps import EncodingQuery, ServiceDep
from app.encoding import dumps, json_response, step_payload, tensor_payload
from app.errors import BODY_ERRORS, Responses, coded
from app.fairshare import CREATE_429
from app.pools import PooledRoute, heavy, run_in
from app.schemas import (
    ErrorOut,
    ExplanationOut,
    InputSpec,
    SeriesOut,
    SessionCreate,
    SessionOut,
    StepOut,
    StepRequest,
    StepsOut,
    TensorOut,
    TrainRequest,
)
from app.schemas.base import BODY_REQUIRED, Empty
from app.schemas.sessions import SampleAdd, SamplesOut, TargetSpec, WeightsSpec
from app.selection import (
    NAMES_PATTERN,
    QUANTITY_PATTERN,
    SERIES_PATTERN,
    name_filter,
    series_list,
    series_payload,
)
from app.sessions.explain import INDEX_PATTERN
from app.sessions.samples import add_sample, clear_samples, samples_payload
from app.sessions.sharing import (
    BadWeights,
    TrainingBusy,
    copy_session,
    set_weights,
    weights_npz,
)
from app.sessions.training import CANCEL, prepare_training, start_training
from app.store import SessionNotFound
from app.views import loss_value, session_payload

router = APIRouter(route_class=PooledRoute, prefix="/api/sessions", tags=["sessions"])
NO_TARGET_NOTE = (
    "this input has no target, so its pass ends with the prediction: no loss, backward or "
    "update; give its target with PUT /api/sessions/{sid}/target (or PUT "
    "/api/sessions/{sid}/input with target) to run them"
)
SessionId = Annotated[str, Path(min_length=1, max_length=64, description="the session id")]
ERRORS: Responses = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}}
BODY: Responses = {**ERRORS, **BODY_ERRORS}
IncludeTensors = Annotated[bool, Query(description="include each step's tensors")]
UseRefs = Annotated[
    bool,
    Query(description="send a tensor that is the same array as one earlier in the response "
          "as {name, role, axes, same_as}"),
]  # fmt: skip
IncludePartials = Annotated[
    bool, Query(description="include conv partial maps (F x C 2-D maps; large)")
]
TensorNames = Annotated[
    str | None,
    Query(max_length=2000, json_schema_extra={"pattern": NAMES_PATTERN},
          examples=["conv1.out,pool1.*"],
          description="only these tensors: comma-separated names or globs (* ? [ ]); "
          "tensor_names still lists all"),
]  # fmt: skip
SeriesQuery = Annotated[
    str | None,
    Query(max_length=200, json_schema_extra={"pattern": SERIES_PATTERN},
          examples=["dh_norm,dc_norm"],
          description="also each layer's per-time-step scalars of the pass (as GET "
          ".../series/{quantity}), comma-separated quantities"),
]  # fmt: skip

CREATE_EXAMPLES = {
    "preset": {"summary": "A trained preset", "value": {"preset": "digits-cnn"}},
    "overrides": {
        "summary": "A preset with overrides",
        "value": {
            "preset": "digits-cnn",
            "seed": 1,
            "overrides": {
                "conv": {"conv1": {"out_channels": 4, "kernel": 5, "padding": 2}},
                "pooling": "avg",
                "activation": "tanh",
                "lr": 0.1,
            },
        },
    },  # fmt: skip
    "sample": {
        "summary": "Another test image",
        "value": {"preset": "shapes-cnn", "input": {"sample": {"split": "test", "index": 7}}},
    },  # fmt: skip
}


@router.post("", status_code=201, response_model=SessionOut, responses={**BODY, **CREATE_429})
@heavy
def create_session(
    service: ServiceDep, req: Annotated[SessionCreate, Body(openapi_examples=CREATE_EXAMPLES)]
) -> Response:
    """Create a session from a preset (with overrides), a network spec, .npz weights, or
    as a copy of another session (`copy_of`: 404 with code copy_gone if there is none)."""
    if req.copy_of is not None:
        try:
            live = copy_session(service, req.copy_of)
        except SessionNotFound:
            detail = f"no session {req.copy_of!r} to copy (it never existed, or expired)"
            return coded(404, "copy_gone", detail)
        return json_response(session_payload(live), 201)
    try:
        return json_response(session_payload(service.create(req)), 201)
    except BadWeights as exc:
        return coded(422, "bad_weights", str(exc))


@router.get(
    "/{sid}/weights.npz",
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}},
                               "description": "the .npz (engine.weights layout)"}},
)  # fmt: skip
@heavy
def get_weights(service: ServiceDep, sid: SessionId) -> Response:
    """The session's weights as they are now (after training and any update step run) as
    the .npz POST /api/sessions (weights_npz) and PUT .../weights read: `__spec__`,
    `__meta__` and one array per parameter in PyTorch's layout (dense1.w is (out, in))."""
    blob = weights_npz(service, sid)
    name = f'attachment; filename="glassbox-{sid[:12]}.npz"'
    return Response(blob, media_type="application/octet-stream",
                    headers={"Content-Disposition": name})  # fmt: skip


@router.put("/{sid}/weights", response_model=SessionOut, responses={**BODY, **CREATE_429})
@heavy
def put_weights(
    request: Request, service: ServiceDep, sid: SessionId, spec: WeightsSpec
) -> Response:
    """Another network for this session, from an .npz (PyTorch layout): its layers and
    weights on the session's input, target and dataset, with a fresh optimizer of the
    same kind; starts a fresh pass; `preset` and `overrides` become null, `trained` is the
    file's `__meta__.trained`. A file the server cannot read, or a network that does not
    fit the input, target or dataset: 422 with code bad_weights; in a BP session, beyond
    the BP page's limits (rules.bp): 422 naming the limit; while a training of the
    session runs or waits: 409 with code training_running."""
    busy = request.app.state.training.busy
    try:
        return json_response(session_payload(set_weights(service, sid, spec.weights_npz, busy)))
    except BadWeights as exc:
        return coded(422, "bad_weights", str(exc))
    except TrainingBusy as exc:
        return coded(409, "training_running", str(exc))


@router.get("/{sid}", response_model=SessionOut, responses=ERRORS)
def get_session(service: ServiceDep, sid: SessionId) -> Response:
    """The session: network, optimizer, step plan, cursor, loss, input."""
    return json_response(session_payload(service.get(sid)))


@router.delete("/{sid}", status_code=204, responses=ERRORS)
def delete_session(service: ServiceDep, sid: SessionId) -> Response:
    """Delete the session."""
    if not service.delete(sid):
        return json_response({"detail": "no such session"}, 404)
    return Response(status_code=204)


# The body is required as the schema says (every write is JSON, app/http_rules.py); the
# server also takes an empty one, with Content-Type: application/json, as {}.
STEPS_BODY = {"requestBody": {"required": True}}


@router.post("/{sid}/steps", response_model=StepsOut, responses=BODY, openapi_extra=STEPS_BODY)
def run_steps(
    service: ServiceDep,
    sid: SessionId,
    req: Annotated[
        StepRequest | None,
        Body(
            openapi_examples={
                "one": {"summary": "The next step", "value": {}},
                "three": {"summary": "Three steps", "value": {"count": 3}},
                "phase": {
                    "summary": "To the end of the forward pass",
                    "value": {"until": "forward"},
                },
                "to": {"summary": "Step 5 of this pass (run to it if needed)", "value": {"to": 5}},
            }
        ),
    ] = None,
    encoding: EncodingQuery = "list",
    tensors: IncludeTensors = True,
    partials: IncludePartials = False,
    refs: UseRefs = True,
    names: TensorNames = None,
    series: SeriesQuery = None,
) -> Response:
    """Run the next step, `count` steps, or until the end of a phase; returns them. With
    `to`: step k of this pass alone, run up to it if it has not run yet."""
    req = req or StepRequest()
    keep = name_filter(names)  # both checked before anything runs
    quantities = series_list(series)
    wanted = _wanted(tensors, keep)
    if req.to is not None:
        live, step, facts = service.step_to(sid, req.to, wanted)
        steps = [step]
    else:
        live, steps, facts = service.step(sid, req.count, req.until, wanted)
    recs = live.run.trace.tensors if tensors else None
    sent: dict[int, str] | None = {} if refs else None  # arrays already sent, by identity
    unlabelled = live.run.needs_target
    note = NO_TARGET_NOTE.format(sid=live.id) if unlabelled else None
    return json_response({
        "session": live.id, "version": live.version, "cursor": live.run.cursor,
        "passes": live.meta["passes"], "loss": loss_value(live.run.loss),
        "needs_target": unlabelled, "note": note,
        "steps": [step_payload(s, recs, encoding, partials, sent, facts, keep) for s in steps],
        **({"series": {q: series_payload(live.run.trace, q, missing_ok=True)
                       for q in quantities}} if quantities else {}),
    })  # fmt: skip


@router.get("/{sid}/steps/{k}", response_model=StepOut, responses=ERRORS)
def get_step(
    service: ServiceDep,
    sid: SessionId,
    k: Annotated[int, Path(ge=0, le=100_000)],
    encoding: EncodingQuery = "list",
    tensors: IncludeTensors = True,
    partials: IncludePartials = False,
    names: TensorNames = None,
) -> Response:
    """A step of the current pass that has run (for stepping back), with its tensors."""
    keep = name_filter(names)
    live, step, facts = service.recorded_step(sid, k, _wanted(tensors, keep))
    recs = live.run.trace.tensors if tensors else None
    return json_response(step_payload(step, recs, encoding, partials, {}, facts, keep))


@router.get("/{sid}/series/{quantity}", response_model=SeriesOut, responses=ERRORS)
def get_series(
    service: ServiceDep,
    sid: SessionId,
    quantity: Annotated[
        str, Path(json_schema_extra={"pattern": QUANTITY_PATTERN}, examples=["dh_norm"])
    ],
) -> Response:
    """Each layer's `<layer>.t<t>.<quantity>` scalars of this pass as one list by t (a
    gradient chart's numbers without the tensors of every step)."""
    return json_response(service.series(sid, quantity))


@router.get("/{sid}/tensors/{name}", response_model=TensorOut, responses=ERRORS)
def get_tensor(
    service: ServiceDep,
    sid: SessionId,
    name: Annotated[str, Path(max_length=128, examples=["conv1.dx"])],
    encoding: EncodingQuery = "list",
) -> Response:
    """One recorded tensor by its dotted name."""
    _, rec, facts = service.tensor(sid, name)
    return json_response(tensor_payload(rec, encoding, facts))


@router.get("/{sid}/explain", response_model=ExplanationOut, responses=ERRORS)
def explain(
    service: ServiceDep,
    sid: SessionId,
    tensor: Annotated[str, Query(max_length=128, examples=["conv1.dx"])],
    index: Annotated[
        str,  # the pattern is checked by the service, with a message that shows the format
        Query(max_length=64, examples=["0,0,2,3"], json_schema_extra={"pattern": INDEX_PATTERN}),
    ],
) -> Response:
    """The arithmetic behind one number: terms (each a product of factors) and their sum."""
    return json_response(service.explain(sid, tensor, index))


@router.put("/{sid}/input", response_model=SessionOut, responses=BODY)
@heavy
def set_input(service: ServiceDep, sid: SessionId, spec: InputSpec) -> Response:
    """Another input: a dataset sample, a raw array or a PNG; starts a fresh pass. An array
    or image without `target` has none: its pass ends with the prediction (needs_target)."""
    return json_response(session_payload(service.set_input(sid, spec)))


@router.put("/{sid}/target", response_model=SessionOut, responses=BODY)
def set_target(
    service: ServiceDep,
    sid: SessionId,
    req: Annotated[
        TargetSpec,
        Body(openapi_examples={"seven": {"summary": "It is a 7", "value": {"target": 7}}}),
    ],
) -> Response:
    """The current input's target (what a drawn digit is); starts a fresh pass on the same
    input that runs the loss, backward and update against it."""
    return json_response(session_payload(service.set_target(sid, req.target)))


@router.get("/{sid}/samples", response_model=SamplesOut, responses=ERRORS)
def get_samples(service: ServiceDep, sid: SessionId) -> Response:
    """The samples added to this session's training data: how many, their labels."""
    live = service.get(sid)
    return json_response(samples_payload(live, service.limits.max_extra_samples))


@router.post("/{sid}/samples", status_code=201, response_model=SamplesOut, responses=BODY)
def post_sample(service: ServiceDep, sid: SessionId, req: SampleAdd) -> Response:
    """Add a labelled sample (a drawing, as PUT .../input reads an image) to the data this
    session trains on with its dataset's train split; its input, step and weights stay.
    422: a label that is not a class, more than max_extra_samples, or no dataset."""
    live = add_sample(service, sid, req)
    body = samples_payload(live, service.limits.max_extra_samples)
    return json_response(body, status_code=201)


@router.post(
    "/{sid}/samples/clear", response_model=SamplesOut, responses=BODY, openapi_extra=BODY_REQUIRED
)
def clear_added_samples(service: ServiceDep, sid: SessionId, req: Empty | None = None) -> Response:
    """Remove the samples added to this session's training data (body `{}`). The list
    stays, empty: GET .../samples says 0, so this is not a DELETE of it."""
    live = clear_samples(service, sid)
    return json_response(samples_payload(live, service.limits.max_extra_samples))


@router.post(
    "/{sid}/train",
    responses={**BODY, 429: {"model": ErrorOut, "description": "This worker's training queue "
                             "is full (train_queue_max); Retry-After says when to try again"},
               200: {"content": {"text/event-stream": {}}, "description": "progress events"}},
)  # fmt: skip
async def train(
    request: Request, service: ServiceDep, sid: SessionId, req: TrainRequest
) -> StreamingResponse:
    """Train for N epochs or iterations; progress streams as Server-Sent Events
    (queued... while it waits its turn, then start, progress..., then done | cancelled
    | diverged | error); the weights stay."""
    job = await run_in("heavy", prepare_training, service, sid, req)
    events = start_training(request.app.state.training, job)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_sse(events), media_type="text/event-stream", headers=headers)


@router.delete("/{sid}/train", status_code=202, responses=ERRORS)
def cancel_training(request: Request, service: ServiceDep, sid: SessionId) -> dict[str, Any]:
    """Cancel this session's training: a waiting one ends at once, a running one after
    its current batch (it keeps what it learned)."""
    service.store.head(sid)  # 404 for a session that is gone (without reading its blob)
    service.store.signal(sid, CANCEL)  # for a training in another worker
    request.app.state.training.cancel(sid)  # one in this worker stops now
    return {"detail": "cancel requested"}


def _wanted(tensors: bool, keep: Callable[[str], bool] | None) -> Callable[[str], bool] | None:
    """Which tensors' facts (explainable, cell) a step response sends: those it sends."""
    return keep if tensors else (lambda _: False)


async def _sse(events: AsyncGenerator[dict[str, Any], None]) -> AsyncIterator[bytes]:
    async with contextlib.aclosing(events):
        async for ev in events:
            yield b"event: " + ev["event"].encode() + b"\ndata: " + dumps(ev) + b"\n\n"
