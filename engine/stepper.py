"""A pass, one step at a time: the plan the API walks and the trace it fills.

The model supplies the plan and what runs each planned step (the `Steppable`
protocol below): a Sequential network plans forward through each layer, the
loss, backward through each layer in reverse, then one update per layer with
parameters; a recurrent model plans one step per time step (and per direction).
Each planned step (engine.trace.PlannedStep) names its phase, layer, op, time
step and direction as fields, and the model makes what runs it from those alone
(`runner`), so no call has to come before another. Steps run strictly in order;
a finished pass can be replayed from its inputs (same weights, same sample) to
rebuild it exactly, which is how a stored session resumes.

An input without a target (a drawn digit nobody has labelled yet) has nothing to
score: its pass is the forward steps and one loss-phase step that gives the
prediction (softmax's probabilities) and says the loss needs a target. It has no
loss value, no delta and no update until a target is given: a guessed or left-over
label would train the network on a wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.optim import Optimizer
from engine.trace import PHASES, PlannedStep, Step, Trace


@dataclass(slots=True)
class PassState:
    """What flows between the steps of a pass."""

    x: np.ndarray
    target: np.ndarray | None  # None: an input without a label (see the module docstring)
    act: np.ndarray | None = None  # the latest forward output
    delta: np.ndarray | None = None  # the latest delta handed backward
    loss: float | None = None


Runner = Callable[[PassState, Trace, Optimizer], dict[str, Any]]


class Steppable(Protocol):
    """A model a Pass can walk: Sequential, or a recurrent model."""

    loss_kind: str

    def check_input(self, x: object) -> np.ndarray: ...

    def plan(self, optimizer_kind: str) -> list[PlannedStep]: ...

    def runner(self, step: PlannedStep) -> Runner:
        """What runs `step` of a plan `plan` returned, made from the step's fields alone
        (no state from an earlier call): it records into the trace and returns the values
        the step's caption is filled with."""
        ...

    def predict_step(self, state: PassState, trace: Trace, optimizer: Optimizer) -> dict[str, Any]:
        """The loss step of an input without a target: record the output (and softmax's
        probabilities), no loss and no delta."""
        ...


class Pass:
    """One forward/loss/backward/update pass over a sample, stepped."""

    def __init__(
        self, net: Steppable, x: np.ndarray, target: np.ndarray | None, optimizer: Optimizer
    ) -> None:
        self.net = net
        self.optimizer = optimizer
        self.state = PassState(net.check_input(x), None if target is None else np.asarray(target))
        plan = net.plan(optimizer.kind)
        if target is None:
            self.plan, self._runners = _unlabelled(net, plan)
        else:
            self.plan, self._runners = plan, [net.runner(step) for step in plan]
        self.trace = Trace()
        self.cursor = 0

    @property
    def x(self) -> np.ndarray:
        return self.state.x

    @property
    def target(self) -> np.ndarray | None:
        """The target the loss compares with; None for an input without a label."""
        return self.state.target

    @property
    def needs_target(self) -> bool:
        """True when the input has no target, so the pass ends with the prediction."""
        return self.state.target is None

    @property
    def loss(self) -> float | None:
        return self.state.loss

    @property
    def done(self) -> bool:
        return self.cursor >= len(self.plan)

    def step(self) -> Step:
        """Run the next planned step and return what it recorded."""
        if self.done:
            raise IndexError("the pass is complete; start a new one")
        return self.run(count=1)[0]

    def steps_until(self, until: str) -> int:
        """How many steps run(until=until) runs from the cursor (to the end of that phase)."""
        if until not in PHASES:
            raise ValueError(f"until must be one of {PHASES}; got {until!r}")
        plan, last, end = self.plan, PHASES.index(until), self.cursor
        while end < len(plan) and PHASES.index(plan[end].phase) <= last:
            end += 1
        return end - self.cursor

    def run(self, count: int | None = None, until: str | None = None) -> list[Step]:
        """Run `count` steps, or up to the end of phase `until`, or to the end."""
        plan = self.plan
        end = len(plan) if until is None else self.cursor + self.steps_until(until)
        if count is not None:
            end = min(end, self.cursor + count)
        runners, state, trace, optimizer = self._runners, self.state, self.trace, self.optimizer
        done: list[Step] = []
        keep = trace.steps.append
        for cursor in range(self.cursor, end):
            with np.errstate(all="ignore"):  # see DIVERGING
                values = runners[cursor](state, trace, optimizer)
            step = Step(plan[cursor], trace.fresh, values)
            trace.fresh = []
            keep(step)
            done.append(step)
            self.cursor = cursor + 1
        return done


# DIVERGING: a pass or a training batch with a rate too large overflows to Inf and NaN.
# That is a lesson, not a fault: the trace records those numbers and flags them (min,
# max, finite), training reports the run as diverged, so NumPy's floating-point
# warnings are silenced where a pass or a batch runs rather than printed per operation.

# The op of the loss step of an input without a target: softmax's probabilities are the
# prediction of a cross-entropy network; the others' output already is.
PREDICT_OPS = {"softmax_cross_entropy": "softmax"}
NO_TARGET_OP = "no_target"


def _unlabelled(net: Steppable, plan: list[PlannedStep]) -> tuple[list[PlannedStep], list[Runner]]:
    """The plan of an input without a target: the forward steps, then one loss-phase
    step that predicts (the model's predict_step) instead of scoring; nothing after it.
    Made per pass from the model's own plan, so a labelled pass costs nothing more."""
    k = next(i for i, s in enumerate(plan) if s.phase == "loss")
    op = PREDICT_OPS.get(net.loss_kind, NO_TARGET_OP)
    runners = [*map(net.runner, plan[:k]), net.predict_step]
    return [*plan[:k], PlannedStep(k, "loss", "loss", op)], runners
