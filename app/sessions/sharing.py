"""Sessions passed on: a copy of a session (a shared link opens its own copy, so the
student who opens it cannot change the original), a session's weights as the .npz
the API reads (PyTorch layout, engine.weights), and another network's weights read
into a session (a student's "open my network")."""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np

from app import fairshare
from app.limits import LimitExceeded, at_most, check_cost, check_network
from app.metrics import SESSIONS_CREATED
from app.sessions.service import SessionService
from app.sessions.state import Live, rebuild, start_new_pass
from app.settings import Limits
from engine.models import model_from_spec
from engine.network import Sequential
from engine.optim import make_optimizer
from engine.weights import load_network, npz_size, save_network


class BadWeights(ValueError):
    """A weights file the server cannot read, or a network that does not fit the
    session (a 422 with the code bad_weights: the page explains it in its language)."""


def read_weights(b64: str, limits: Limits, optimizer: str = "sgd") -> Sequential:
    """The network of a base64 .npz (engine.weights layout), within the limits: its
    size before it is read, its cost before it is built (LimitExceeded names the
    limit); BadWeights says what else is wrong with it."""
    try:
        blob = base64.b64decode(b64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise BadWeights("weights_npz must be base64 of an .npz file") from None
    try:
        at_most("weights_npz uncompressed size (bytes)", npz_size(blob), limits,
                "max_npz_bytes")  # fmt: skip
        net, _ = load_network(blob, check=lambda s: check_cost(s, limits, 1, optimizer))
    except LimitExceeded:
        raise
    except (ValueError, KeyError, TypeError) as exc:  # a spec the engine cannot build
        raise BadWeights(str(exc.args[0] if exc.args else exc)) from None
    return net


def copy_session(service: SessionService, sid: str) -> Live:
    """A new session with the same network, weights, optimizer state, input and
    cursor as `sid` (SessionNotFound if there is none); the two change apart."""
    stored = service.store.get(sid)
    meta = {**stored.meta, "copied_from": sid}
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


def set_weights(service: SessionService, sid: str, b64: str) -> Live:
    """Replace the session's network with the file's (its own layers and weights) on
    the same input, target and dataset, with a fresh optimizer of the same kind; a
    network that does not take the input, or whose output does not fit the target,
    is refused (BadWeights) and the session is left as it was."""
    limits = service.limits
    with service.session(sid) as live:
        kind = live.meta["optimizer"]["type"]
        x, target = live.run.x, live.run.target
    net = read_weights(b64, limits, kind)
    check_network(net.spec(), limits)
    batch = np.shape(x)[0] if np.ndim(x) > len(net.input_shape) else 1
    check_cost(net.spec(), limits, batch, kind)
    try:
        with np.errstate(all="ignore"):
            out = net.forward(net.check_input(x))
            if target is not None:
                net.loss(out, target)
    except (ValueError, IndexError, TypeError) as exc:
        raise BadWeights(f"this network does not fit the page's input or target: {exc}") from None
    with service.session(sid, write=True) as live:
        live.net = net
        live.optimizer = make_optimizer(live.meta["optimizer"])
        live.meta["spec"] = net.spec()
        live.meta["trained"] = True
        live.meta["weights"] = "file"
        start_new_pass(live)
        live.meta["passes"] += 1
        return live
