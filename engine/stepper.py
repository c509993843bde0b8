"""A pass, one step at a time: the plan the API walks and the trace it fills.

Plan: forward through each layer, the loss, backward through each layer in
reverse, then one update step per layer with parameters. Steps run strictly in
order; a finished pass can be replayed from its inputs (same weights, same
sample) to rebuild it exactly, which is how a stored session resumes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.network import Sequential
from engine.optim import Optimizer
from engine.trace import PHASES, Step, Trace


@dataclass(frozen=True)
class PlannedStep:
    index: int
    phase: str
    layer: str
    op: str


def make_plan(net: Sequential, optimizer_kind: str) -> list[PlannedStep]:
    """Every step of one pass, in order."""
    items = [("forward", lay.name, lay.op) for lay in net.layers]
    items.append(("loss", "loss", net.loss_kind))
    items += [("backward", lay.name, lay.op) for lay in reversed(net.layers)]
    items += [("update", lay.name, optimizer_kind) for lay in net.layers if lay.params]
    return [PlannedStep(i, *item) for i, item in enumerate(items)]


class Pass:
    """One forward/loss/backward/update pass over a sample, stepped."""

    def __init__(
        self, net: Sequential, x: np.ndarray, target: np.ndarray, optimizer: Optimizer
    ) -> None:
        self.net = net
        self.x = net.check_input(x)
        self.target = np.asarray(target)
        self.optimizer = optimizer
        self.plan = make_plan(net, optimizer.kind)
        self.trace = Trace()
        self.cursor = 0
        self.loss: float | None = None
        self._act: np.ndarray | None = None
        self._delta: np.ndarray | None = None

    @property
    def done(self) -> bool:
        return self.cursor >= len(self.plan)

    def step(self) -> Step:
        """Run the next planned step and return what it recorded."""
        if self.done:
            raise IndexError("the pass is complete; start a new one")
        planned = self.plan[self.cursor]
        values = self._run(planned)
        step = Step(
            planned.index,
            planned.phase,
            planned.layer,
            planned.op,
            self.trace.take_fresh(),
            values,
        )
        self.trace.steps.append(step)
        self.cursor += 1
        return step

    def run(self, count: int | None = None, until: str | None = None) -> list[Step]:
        """Run `count` steps, or up to the end of phase `until`, or to the end."""
        if until is not None and until not in PHASES:
            raise ValueError(f"until must be one of {PHASES}; got {until!r}")
        steps: list[Step] = []
        while not self.done and (count is None or len(steps) < count):
            if until is not None and PHASES.index(self.plan[self.cursor].phase) > PHASES.index(
                until
            ):
                break
            steps.append(self.step())
        return steps

    def _run(self, planned: PlannedStep) -> dict[str, object]:
        net, trace = self.net, self.trace
        if planned.phase == "forward":
            layer = net.layer(planned.layer)
            self._act = layer.forward(self.x if self._act is None else self._act, trace)
            return layer.describe()
        if planned.phase == "loss":
            assert self._act is not None
            self.loss, self._delta = net.loss(self._act, self.target, trace)
            return {"k": self._act.shape[-1]}
        layer = net.layer(planned.layer)
        if planned.phase == "backward":
            assert self._delta is not None
            self._delta = layer.backward(self._delta, trace)
            return layer.describe()
        net.update_layer(layer, self.optimizer, trace)
        return {"layer": layer.name, **self.optimizer.hyper()}
