"""A session's state and how it is stored.

What is stored is the state at the START of the current pass (weights,
optimizer state, the sample) and a cursor: how many steps of the pass have
run. Loading rebuilds the network and replays those steps, which recreates the
trace exactly (the engine is deterministic), so no trace is ever serialised.
Each worker keeps recently used sessions live (see service.py): a step writes
only the new cursor (SessionStore.advance), and a worker whose live copy is
behind by steps another worker ran runs just those steps (catch_up); it replays
the pass from its start only when the session changed otherwise. An input
without a target is stored without a "target" array, and replays as the same
unlabelled pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.store import StoredSession
from app.store.base import Head
from engine.data import DatasetSplit, load_split
from engine.models import model_from_spec
from engine.network import Sequential
from engine.optim import Optimizer, make_optimizer
from engine.stepper import Pass

STATE_VERSION = 1


class SessionFrozen(RuntimeError):
    """The session is a live class's snapshot (meta "frozen"): pages copy it
    (POST /api/sessions {copy_of}) and step their copy; nothing changes, steps or
    deletes it (the API's 409 session_frozen)."""

    def __init__(self, sid: str) -> None:
        super().__init__(
            f"session {sid} is a live class's snapshot: it cannot be changed, stepped or "
            'deleted; open a copy (POST /api/sessions {"copy_of": ...})'
        )


def refuse_frozen(live: Live) -> None:
    """SessionFrozen for a class's snapshot."""
    if live.meta.get("frozen"):
        raise SessionFrozen(live.id)


@dataclass
class Live:
    """A session rebuilt in memory at a given store version."""

    id: str
    version: int
    meta: dict[str, Any]
    net: Sequential
    optimizer: Optimizer
    run: Pass
    start_params: dict[str, np.ndarray]
    start_opt: dict[str, np.ndarray]
    data: DatasetSplit | None = field(default=None, repr=False)
    # The store version its pass-start state was written at; versions after it (up to
    # `version`) only moved the cursor, so a copy at an older version with the same
    # arrays_version catches up by running the steps it missed (catch_up).
    arrays_version: int = 0
    # Samples added to its training data (app/sessions/samples.py): {"x": (N, ...), "y":
    # (N,)}, stored as the arrays "s:x" and "s:y"; empty when none were added.
    added: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def cursor(self) -> int:
        return self.run.cursor

    def loss(self) -> float | None:
        return self.run.loss


# What a live session holds besides its arrays, measured with tracemalloc over the
# presets' rebuilt passes (tests/app/test_live_memory.py keeps the estimate within 2x):
# the Python objects of each recorded tensor (its record, step entry, views) and of
# the network itself.
BYTES_PER_TENSOR = 700
BYTES_BASE = 10_000


def footprint(live: Live) -> int:
    """About the bytes a live session holds: its pass's recorded tensors, the network's
    weights and their pass-start copy, the optimizer's state (both), the sample, and
    the objects around them. The dataset is shared (engine.data caches it): not counted."""
    trace = live.run.trace
    arrays = [
        *live.net.params().values(),
        *live.start_params.values(),
        *live.optimizer.state_arrays().values(),
        *live.start_opt.values(),
        live.run.x,
    ]
    held = trace.nbytes() + sum(int(np.asarray(a).nbytes) for a in arrays)
    return held + BYTES_PER_TENSOR * len(trace.index()) + BYTES_BASE


def new_meta(
    *,
    preset: str | None,
    seed: int,
    spec: dict[str, Any],
    optimizer: dict[str, Any],
    input_info: dict[str, Any],
    dataset: str | None,
    trained: bool,
    overrides: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "state_version": STATE_VERSION,
        "preset": preset,
        "seed": seed,
        "overrides": overrides,
        "spec": spec,
        "optimizer": optimizer,
        "cursor": 0,
        "passes": 0,
        "input": input_info,
        "dataset": dataset,
        "trained": trained,
    }


def to_arrays(
    params: dict[str, np.ndarray],
    opt_state: dict[str, np.ndarray],
    x: np.ndarray,
    target: np.ndarray | None,
) -> dict[str, np.ndarray]:
    arrays = {f"p:{k}": v for k, v in params.items()}
    arrays.update({f"o:{k}": v for k, v in opt_state.items()})
    arrays["x"] = x
    if target is not None:  # none: an input without a label (no array stands for "none")
        arrays["target"] = target
    return arrays


def rebuild(stored: StoredSession) -> Live:
    """The live session: network at the pass start, then the recorded steps replayed."""
    meta, arrays = stored.meta, stored.arrays
    net = model_from_spec(meta["spec"], seed=meta["seed"])
    start_params = {k[2:]: v for k, v in arrays.items() if k.startswith("p:")}
    net.set_params(start_params)
    start_opt = {k[2:]: v for k, v in arrays.items() if k.startswith("o:")}
    opt = make_optimizer(meta["optimizer"])
    opt.load_state_arrays(start_opt)
    run = Pass(net, arrays["x"], arrays.get("target"), opt)
    run.run(count=meta["cursor"])
    data = load_split(meta["dataset"]) if meta.get("dataset") else None
    added = {k[2:]: v for k, v in arrays.items() if k.startswith("s:")}
    return Live(
        stored.id, stored.version, meta, net, opt, run, start_params, start_opt, data,
        stored.arrays_version, added,
    )  # fmt: skip


def catch_up(live: Live, head: Head) -> str | None:
    """Bring a live copy to the stored `head` without the blob, if only steps happened
    since its version (another worker ran them; the engine is deterministic, so running
    them here gives the same tensors as a rebuild): "live" if it was current,
    "caught_up" if it ran them. None: the stored state changed in another way
    (weights, input, a new pass), and the session must be rebuilt."""
    if live.version == head.version:
        return "live"
    if (
        live.arrays_version != head.arrays_version
        or head.cursor is None
        or not live.run.cursor <= head.cursor <= len(live.run.plan)
        or head.version < live.version
    ):
        return None
    missed = head.cursor - live.run.cursor
    if missed:
        live.run.run(count=missed)
    live.version = head.version
    return "caught_up"


def to_stored(live: Live) -> StoredSession:
    """What to write back: the pass-start state and the cursor."""
    meta = {**live.meta, "cursor": live.run.cursor}
    arrays = to_arrays(live.start_params, live.start_opt, live.run.x, live.run.target)
    arrays.update({f"s:{k}": v for k, v in live.added.items()})
    return StoredSession(live.id, live.version, meta, arrays)


def start_new_pass(live: Live, sample: tuple[np.ndarray, np.ndarray | None] | None = None) -> None:
    """Begin a fresh pass from the network's current weights (after any updates),
    on the same sample or on `sample` = (x, target; None for an input without one)."""
    live.start_params = {k: v.copy() for k, v in live.net.params().items()}
    live.start_opt = {k: np.array(v) for k, v in live.optimizer.state_arrays().items()}
    x, target = (live.run.x, live.run.target) if sample is None else sample
    live.run = Pass(live.net, x, target, live.optimizer)
