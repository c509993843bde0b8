"""Session operations: create, load, step, read, explain, change input, delete.

Each worker keeps recently used sessions live in memory, keyed by id and store
version. A request locks its session within the worker (so two requests of one
worker take turns), reads the stored head (version and cursor), runs the steps
another worker ran if that is all that changed, rebuilds the session only if it
changed otherwise, and writes back with a compare-and-swap: a request that lost
a race with another worker gets VersionConflict (HTTP 409), never a corrupted
session. A step writes only the new cursor.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from app import fairshare
from app.limits import at_most, check_cost, check_input, check_network
from app.metrics import SESSION_LOADS, SESSIONS_CREATED, count_steps
from app.schemas import InputSpec, Overrides, SessionCreate
from app.sessions.inputs import choose_target, described, given_target, resolve_input
from app.sessions.live import LiveSessions
from app.sessions.preset_source import (
    build_lesson,
    optimizer_spec,
    rebuilt,
    recurrent_overrides,
    sequence_sets_length,
)
from app.sessions.state import (
    Live,
    catch_up,
    new_meta,
    rebuild,
    refuse_frozen,
    start_new_pass,
    to_arrays,
    to_stored,
)
from app.sessions.tensor_facts import Facts, tensor_facts
from app.settings import Settings
from app.store import SessionStore, StoredSession
from engine.data import DatasetSplit, load_split
from engine.models import model_from_spec
from engine.optim import make_optimizer
from engine.presets import get_preset, preset_options
from engine.presets.overrides import apply_overrides
from engine.stepper import Pass
from engine.trace import Step, TensorRecord

Wanted = Callable[[str], bool] | None  # which tensors' facts a response needs (None: all)


class SessionService:
    def __init__(self, store: SessionStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.limits = settings.limits
        self.live = LiveSessions(
            settings.live_sessions, settings.live_sessions_mb * 2**20
        )  # fmt: skip

    # --- loading and saving ----------------------------------------------------
    @contextmanager
    def session(self, sid: str, write: bool = False) -> Iterator[Live]:
        """The live session under this worker's lock; with write, saved afterwards."""
        with self.live.lock(sid):
            try:
                live = self.live.get(sid)
                # The head (version, cursor) says whether the live copy is current or
                # only steps behind; the blob is read (and the pass replayed) only
                # when another worker changed the session in another way.
                how = None if live is None else catch_up(live, self.store.head(sid))
                if live is None or how is None:
                    live, how = rebuild(self.store.get(sid)), "rebuilt"
                SESSION_LOADS.labels(how).inc()
                if write:
                    refuse_frozen(live)
                yield live
                if write:
                    self._save(live)
            except BaseException:
                self.live.forget(sid)  # may be half-changed: rebuild from the store
                raise
            self.live.keep(live)

    def _save(self, live: Live, *, stepped_only: bool = False) -> None:
        """Write the live session back (a compare-and-swap on its version): the cursor
        alone when only steps ran since it was read, else its whole pass-start state."""
        if stepped_only:
            live.version = self.store.advance(live.id, live.version, live.run.cursor)
        else:
            live.version = live.arrays_version = self.store.put(to_stored(live)).version

    # --- create -----------------------------------------------------------------
    def create(self, req: SessionCreate, data: DatasetSplit | None = None) -> Live:
        """A new session; `data` is the dataset a network-spec session trains on (a
        preset brings its own)."""
        req = sequence_sets_length(req, self.limits)
        net, x, target, optimizer, preset_data, info, trained = self._source(req)
        data = preset_data if preset_data is not None else data
        check_network(net.spec(), self.limits)
        if req.input is not None:
            x, own, info = resolve_input(req.input, net, data, self.limits)
        check_input(np.asarray(x), self.limits)  # before anything runs the network on it
        batch = np.shape(x)[0] if np.ndim(x) > len(net.input_shape) else 1
        check_cost(net.spec(), self.limits, batch, optimizer["type"])  # its batch's cost
        if req.input is not None:
            target, info = choose_target(req.input, net, x, own, info, req.preset)
        opt = make_optimizer(optimizer)
        if target is not None:
            net.loss(net.forward(x), target)  # refuses a target that does not fit, up front
        meta = new_meta(
            preset=req.preset,
            seed=req.seed,
            spec=net.spec(),
            optimizer=optimizer,
            input_info=info,
            dataset=data.name if data is not None else None,
            trained=trained,
            overrides=req.overrides.model_dump(exclude_none=True) if req.overrides else None,
        )
        arrays = to_arrays(net.params(), {}, net.check_input(x), target)
        stored = self.store.create(meta, arrays, **fairshare.quota())  # per-client limit
        SESSIONS_CREATED.inc()
        live = Live(stored.id, stored.version, stored.meta, net, opt,
                    Pass(net, x, target, opt), net.params(), {}, data,
                    stored.arrays_version)  # fmt: skip
        self.live.keep(live)
        return live

    def _source(self, req: SessionCreate) -> tuple[Any, ...]:
        if req.preset is not None:
            return self._from_preset(req.preset, req.overrides, req.seed)
        spec: dict[str, Any] = {}
        if req.network is not None:
            spec = req.network.model_dump(exclude_none=True)
            spec["layers"] = [
                {k: v for k, v in layer.items() if v is not None and v != ""}
                for layer in spec["layers"]
            ]
        optimizer = optimizer_spec({"type": "sgd", "lr": 0.01}, req.overrides)
        kind = optimizer["type"]
        if req.network is not None:
            check_cost(spec, self.limits, optimizer=kind)  # before anything is built
            net = model_from_spec(spec, seed=req.seed)
        else:
            from app.sessions.sharing import read_weights  # it imports this module

            net = read_weights(req.weights_npz or "", self.limits, kind)
        if req.input is None:
            raise ValueError(
                "a network or weights_npz session needs input (an array or image, with its "
                "target for the loss, backward and update)"
            )
        return net, None, None, optimizer, None, {}, False

    def _from_preset(self, name: str, overrides: Overrides | None, seed: int) -> tuple[Any, ...]:
        info, preset = get_preset(name), name  # KeyError names the presets on offer
        lesson = build_lesson(name, seed, overrides, self.limits)
        net, trained = lesson.net, info.trained
        if overrides is not None:
            changed = overrides.model_dump(
                include={"conv", "pooling", "activation"}, exclude_none=True
            )
            if changed:
                for name, conv in changed.get("conv", {}).items():  # limits before fit
                    check_network(
                        {"input_shape": [], "layers": [{"name": name, **conv}]}, self.limits
                    )
                spec = apply_overrides(net.spec(), changed)
                check_cost(spec, self.limits)  # before the new network is built
                if spec != net.spec():
                    net, trained = rebuilt(net, spec, seed, lesson.reweight), False
            net, changed_rec = recurrent_overrides(
                preset, net, overrides, seed, handled=preset_options(preset)
            )
            trained = trained and not changed_rec
        optimizer = optimizer_spec(lesson.optimizer, overrides)
        target = lesson.target
        if net is not lesson.net and lesson.retarget is not None:
            target = lesson.retarget(net, lesson.x)
        source: dict[str, Any] = {"source": "preset"}
        if lesson.data is not None:
            index = lesson.meta.get("sample", 0)
            source = {"source": "sample", "split": "test", "index": index}
        source = described(source, net, target, "sample" if lesson.data else "lesson")
        return net, lesson.x, target, optimizer, lesson.data, source, trained

    # --- stepping and reading --------------------------------------------------
    def step(
        self, sid: str, count: int | None, until: str | None, wanted: Wanted = None
    ) -> tuple[Live, list[Step], Facts]:
        """Run steps; with the facts of their tensors that `wanted` accepts (None: all)."""
        if count is not None:
            at_most("count", count, self.limits, "max_steps_per_request")
        with self.session(sid) as live:
            refuse_frozen(live)
            new_pass = live.run.done
            if new_pass:
                start_new_pass(live)
                live.meta["passes"] += 1
            if until is not None:
                at_most(f"until {until!r} (steps it runs)", live.run.steps_until(until),
                        self.limits, "max_steps_per_request")  # fmt: skip
            steps = live.run.run(count=count or (None if until else 1), until=until)
            self._save(live, stepped_only=not new_pass)  # as write=True, but
            count_steps(step.phase for step in steps)  # saved, so they count
            # detached (and its tensors' facts taken) before the lock is released
            return _detached(live), steps, _facts(live, steps, wanted)

    def step_to(self, sid: str, k: int, wanted: Wanted = None) -> tuple[Live, Step, Facts]:
        """Step k of the current pass: the recorded one if it has run, else the pass runs
        up to it (a player's frame in one request; never starts a new pass)."""
        with self.session(sid) as live:
            run = live.run
            if k >= len(run.plan):
                raise ValueError(
                    f"to = {k} is beyond this pass: it has {len(run.plan)} steps, "
                    f"0..{len(run.plan) - 1}"
                )
            if k < run.cursor:
                step = run.trace.steps[k]
                return _detached(live), step, _facts(live, [step], wanted)
            refuse_frozen(live)
            at_most("to (steps it runs)", k - run.cursor + 1, self.limits, "max_steps_per_request")
            steps = run.run(count=k - run.cursor + 1, until=None)
            self._save(live, stepped_only=True)  # as in step()
            count_steps(step.phase for step in steps)
            return _detached(live), steps[-1], _facts(live, steps[-1:], wanted)

    def series(self, sid: str, quantity: str) -> dict[str, Any]:
        """Each layer's per-time-step `quantity` of this pass (app.selection)."""
        from app.selection import series_payload

        with self.session(sid) as live:
            return series_payload(live.run.trace, quantity)

    def recorded_step(self, sid: str, k: int, wanted: Wanted = None) -> tuple[Live, Step, Facts]:
        with self.session(sid) as live:
            if not 0 <= k < live.run.cursor:
                raise LookupError(
                    f"step {k} has not run in this pass: steps 0..{live.run.cursor - 1} have "
                    f"(the pass has {len(live.run.plan)})"
                )
            step = live.run.trace.steps[k]
            return _detached(live), step, _facts(live, [step], wanted)

    def tensor(self, sid: str, name: str) -> tuple[Live, TensorRecord, Facts]:
        with self.session(sid) as live:
            trace = live.run.trace
            if name not in trace:
                have = ", ".join(list(trace.tensors)[:60]) or "none yet (run a step first)"
                raise LookupError(f"no tensor {name!r} in this pass; recorded: {have}")
            rec = trace.tensors[name]
            rec.data  # noqa: B018 - materialise a derived tensor under the lock
            return live, rec, tensor_facts(live, [name])

    def explain(self, sid: str, name: str, index_text: str) -> dict[str, Any]:
        from app.sessions.explain import explain, parse_index

        with self.session(sid) as live:
            if name not in live.run.trace:
                raise LookupError(f"no tensor {name!r} in this pass (run the step that makes it)")
            index = parse_index(index_text, live.run.trace[name].shape)
            return explain(live, name, index)

    def set_input(self, sid: str, spec: InputSpec) -> Live:
        """Another sample; without a target of its own it has none (see inputs.py)."""
        with self.session(sid, write=True) as live:
            x, own, info = resolve_input(spec, live.net, live.data, self.limits)
            check_input(np.asarray(x), self.limits)
            check_cost(live.net.spec(), self.limits, len(x), live.meta["optimizer"]["type"])
            target, info = choose_target(spec, live.net, x, own, info, live.meta.get("preset"))
            if target is not None:
                live.net.loss(live.net.forward(x), target)
            start_new_pass(live, (x, target))
            live.meta["input"] = info
            return live

    def set_target(self, sid: str, value: Any) -> Live:
        """The current input's target (the label a student gives a drawing); starts a
        fresh pass on the same input, which now runs the loss, backward and update."""
        with self.session(sid, write=True) as live:
            x = live.run.x
            target = given_target(value, live.net, x)
            start_new_pass(live, (x, target))
            live.meta["input"] = described(live.meta["input"], live.net, target, "request")
            return live

    def get(self, sid: str) -> Live:
        with self.session(sid) as live:
            return live

    def delete(self, sid: str) -> bool:
        with self.session(sid) as live:
            refuse_frozen(live)
        with self.live.lock(sid):
            self.live.forget(sid)
            return self.store.delete(sid)

    # --- used by training -----------------------------------------------------------
    def save_weights(
        self, sid: str, params: dict[str, np.ndarray], optimizer: dict[str, Any]
    ) -> Live:
        """Replace the weights (and optimizer) and start a fresh pass; retried on conflicts."""
        from app.store import VersionConflict

        for _ in range(20):
            try:
                with self.session(sid, write=True) as live:
                    live.net.set_params(params)
                    live.optimizer = make_optimizer(optimizer)
                    live.meta["optimizer"] = optimizer
                    live.meta["trained"] = True
                    live.meta["train_runs"] = live.meta.get("train_runs", 0) + 1
                    start_new_pass(live)
                    live.meta["passes"] += 1
                    return live
            except VersionConflict:
                continue
        raise VersionConflict("the session kept changing while saving the trained weights")

    def dataset(self, live: Live) -> Any:
        return (
            live.data
            if live.data is not None
            else (load_split(live.meta["dataset"]) if live.meta.get("dataset") else None)
        )


def _facts(live: Live, steps: list[Step], wanted: Wanted) -> Facts:
    """The facts of the steps' tensors a response will send (`wanted`; None: all), taken
    under the session lock: they read the network and optimizer later requests share."""
    names = (n for s in steps for n in s.tensors if wanted is None or wanted(n))
    return tensor_facts(live, names)


def _detached(live: Live) -> Live:
    """What a request read, safe to serialise after the session lock is released.

    The router builds the response after the service returns; by then another request
    of this worker may have stepped the same Live on (cursor, loss, version, meta) or
    started a new pass (a new Pass and trace), so reading `live` then could report
    another request's state, or miss this request's tensors (a 404 for a step that
    ran). This copy keeps this request's cursor, loss, version, meta and trace: later
    steps only add new names to a pass's trace, and a new pass gets a new trace.
    """
    return replace(live, meta=dict(live.meta), run=copy.copy(live.run))


__all__ = ["SessionService", "StoredSession"]
