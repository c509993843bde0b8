"""Sessions passed on: a copy of a session (a shared link opens its own copy, so the
student who opens it cannot change the original), a session's weights as the .npz
the API reads (PyTorch layout, engine.weights), and another network's weights read
into a session (a student's "open my network")."""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from app import fairshare
from app.limits import LimitExceeded, at_most, check_cost, check_network
from app.metrics import SESSIONS_CREATED
from app.sessions.bp import check_hidden_sizes
from app.sessions.service import SessionService
from app.sessions.state import Live, rebuild, start_new_pass
from app.settings import Limits
from engine.data import DatasetSplit
from engine.models import model_from_spec
from engine.network import Sequential
from engine.optim import make_optimizer
from engine.weights import load_network, npz_size, save_network


class BadWeights(ValueError):
    """A weights file the server cannot read, or a network that does not fit the
    session (a 422 with the code bad_weights: the page explains it in its language)."""


class TrainingBusy(RuntimeError):
    """The session has a training running or waiting: its end would save over new
    weights (a 409 with the code training_running)."""


def check_spec_shape(spec: dict[str, Any]) -> None:
    """BadWeights unless `spec` has the shape of a network description: input_shape a
    list of whole numbers (at least 1), layers a list of objects each with a text
    `type` (not empty for a sequential model). Checked before anything reads the spec's fields."""
    shape = spec.get("input_shape")
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape
    ):
        raise BadWeights(f"__spec__.input_shape must be a list of whole numbers >= 1, not "
                         f"{_shown(shape)}")  # fmt: skip
    layers = spec.get("layers")
    sequential = spec.get("model", "sequential") == "sequential"  # a recurrent model's are
    if not isinstance(layers, list) or (sequential and not layers):  # built from its cell
        raise BadWeights(f"__spec__.layers must be a non-empty list of layer objects, not "
                         f"{_shown(layers)}")  # fmt: skip
    for k, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("type"), str):
            raise BadWeights(f"__spec__.layers[{k}] must be an object with a text \"type\", "
                             f"not {_shown(layer)}")  # fmt: skip


def _shown(value: object) -> str:
    return json.dumps(value, default=str)[:80]


def read_network(
    b64: str, limits: Limits, optimizer: str = "sgd"
) -> tuple[Sequential, dict[str, Any]]:
    """The network of a base64 .npz (engine.weights layout) and its `__meta__`, within
    the limits: its size before it is read, its spec's shape and cost before it is built
    (LimitExceeded names the limit); BadWeights says what else is wrong with it."""
    try:
        blob = base64.b64decode(b64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise BadWeights("weights_npz must be base64 of an .npz file") from None

    def check(spec: dict[str, Any]) -> None:
        check_spec_shape(spec)
        check_cost(spec, limits, 1, optimizer)

    try:
        at_most("weights_npz uncompressed size (bytes)", npz_size(blob), limits,
                "max_npz_bytes")  # fmt: skip
        net, meta = load_network(blob, check=check)
    except LimitExceeded:
        raise
    except (ValueError, KeyError, TypeError) as exc:  # a spec the engine cannot build
        raise BadWeights(str(exc.args[0] if exc.args else exc)) from None
    return net, meta if isinstance(meta, dict) else {}


def read_weights(b64: str, limits: Limits, optimizer: str = "sgd") -> Sequential:
    """The network of a base64 .npz (read_network without its meta)."""
    return read_network(b64, limits, optimizer)[0]


def copy_session(service: SessionService, sid: str, frozen: bool = False) -> Live:
    """A new session with the same network, weights, optimizer state, input and
    cursor as `sid` (SessionNotFound if there is none); the two change apart. A copy
    is never frozen unless asked (a live class's snapshot: see SessionFrozen)."""
    stored = service.store.get(sid)
    meta = {**stored.meta, "copied_from": sid, "frozen": frozen}
    arrays = {k: np.array(v, copy=True) for k, v in stored.arrays.items()}
    made = service.store.create(meta, arrays, **fairshare.quota())  # per-client limit
    SESSIONS_CREATED.inc()
    live = rebuild(made)
    service.live.keep(live)
    return live


def weights_npz(service: SessionService, sid: str) -> bytes:
    """The session's weights as they are now (those its metrics and boundary use: after
    training, and after the update steps of the current pass that have run) as an .npz
    save_network writes: POST /api/sessions with weights_npz, or PUT .../weights, reads
    it back."""
    with service.session(sid) as live:
        net = model_from_spec(live.meta["spec"], seed=live.meta["seed"])
        net.set_params({k: v.copy() for k, v in live.net.params().items()})
        facts = {"preset": live.meta.get("preset"), "dataset": live.meta.get("dataset"),
                 "trained": bool(live.meta.get("trained"))}  # fmt: skip
    buf = io.BytesIO()
    save_network(net, buf, **facts)
    return buf.getvalue()


def set_weights(
    service: SessionService, sid: str, b64: str, busy: Callable[[str], bool] = lambda _: False
) -> Live:
    """Replace the session's network with the file's (its own layers and weights) on
    the same input, target and dataset, with a fresh optimizer of the same kind; the
    preset and its overrides no longer describe it, and it is trained if the file says
    so. Refused, the session left as it was: a network that does not take the input or
    the dataset's samples, or whose output does not fit the target or the dataset's
    classes (BadWeights); beyond the BP page's limits in a BP session (LimitExceeded);
    while `busy(sid)`, a training of the session running or waiting (TrainingBusy)."""
    limits = service.limits
    if busy(sid):
        raise TrainingBusy(_BUSY.format(sid=sid))
    with service.session(sid) as live:
        kind = live.meta["optimizer"]["type"]
        x, target = live.run.x, live.run.target
        data = service.dataset(live)
        bp = is_bp(live.meta)
    net, facts = read_network(b64, limits, kind)
    check_network(net.spec(), limits)
    batch = np.shape(x)[0] if np.ndim(x) > len(net.input_shape) else 1
    check_cost(net.spec(), limits, batch, kind)
    if bp:
        dense = [la for la in net.spec()["layers"] if la["type"] == "dense"]
        check_hidden_sizes([int(la["out_features"]) for la in dense[:-1]], limits)
    try:
        with np.errstate(all="ignore"):
            out = net.forward(net.check_input(x))
            if target is not None:
                net.loss(out, target)
    except (ValueError, IndexError, TypeError) as exc:
        raise BadWeights(f"this network does not fit the page's input or target: {exc}") from None
    if data is not None:
        fits_dataset(net, data)
    with service.session(sid, write=True) as live:
        if busy(sid):  # a training queued while the file was read
            raise TrainingBusy(_BUSY.format(sid=sid))
        live.net = net
        live.optimizer = make_optimizer(live.meta["optimizer"])
        live.meta["spec"] = net.spec()
        live.meta["bp"] = bp  # kept: a BP session's next file meets the same limits
        live.meta["preset"] = live.meta["overrides"] = None  # they built another network
        live.meta["trained"] = facts.get("trained") is True
        live.meta["weights"] = "file"
        start_new_pass(live)
        live.meta["passes"] += 1
        return live


_BUSY = ("this session has a training running or waiting: pause it (DELETE "
         "/api/sessions/{sid}/train) or let it end, then open the file")  # fmt: skip


def is_bp(meta: dict[str, Any]) -> bool:
    """Whether a session is the BP page's (POST /api/bp/sessions: a network on a dataset,
    not a preset), as set_weights records it once a file has replaced its network."""
    if "bp" in meta:
        return bool(meta["bp"])
    return meta.get("preset") is None and meta.get("dataset") is not None


def fits_dataset(net: Sequential, data: DatasetSplit) -> None:
    """BadWeights unless the network takes the dataset's samples and its output fits
    their labels: one output per class (a class dataset's, for softmax cross-entropy or
    one-hot mse), or the targets' shape (a regression's)."""
    samples = tuple(data.x_train.shape[1:])
    if tuple(net.input_shape) != samples:
        raise BadWeights(f"this network takes input of shape {list(net.input_shape)}; the "
                         f"{data.name} data set's samples are {list(samples)}")  # fmt: skip
    try:
        with np.errstate(all="ignore"):
            out = net.forward(net.check_input(data.x_train[:2]))
    except (ValueError, IndexError, TypeError) as exc:
        raise BadWeights(f"this network does not take the {data.name} data set: {exc}") from None
    want: object
    got: object
    if data.classes and net.loss_kind != "mse":
        want, got, what = len(data.classes), out.shape[-1], "classes"
    else:
        want, got, what = tuple(data.y_train.shape[1:]), tuple(out.shape[1:]), "targets' shape"
    if want != got:
        raise BadWeights(f"this network's output is {got}, the {data.name} data set's "
                         f"{what} {want}: they must match to train and measure it")  # fmt: skip
