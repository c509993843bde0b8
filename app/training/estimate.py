"""When a queued training is expected to start: the arithmetic, apart from the queue.

How long a training takes is its iterations times the seconds per iteration of
recent trainings of the same kind (the same network spec and batch size: every
student of a class trains the same few networks), as an exponential moving
average of whole jobs (start to weights saved, divided by their iterations); a
kind not seen yet uses the average over all kinds. A running training's rest is
its remaining iterations at its own pace so far. Given when each training
process is free, the trainings ahead take the first free one in turn (what the
queue does), and the waiting one starts when a process is free after them.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

ALPHA = 0.3  # weight of the newest job in the moving average


class Rates:
    """Moving averages of seconds per iteration, by kind and over all kinds."""

    def __init__(self, alpha: float = ALPHA) -> None:
        self.alpha = alpha
        self.by_kind: dict[str, float] = {}
        self.overall: float | None = None

    def add(self, kind: str, seconds: float, iterations: int) -> None:
        """A job of `kind` ran `iterations` iterations in `seconds` (all of it)."""
        if iterations <= 0 or seconds < 0:
            return
        rate = seconds / iterations
        self.by_kind[kind] = self._mix(self.by_kind.get(kind), rate)
        self.overall = self._mix(self.overall, rate)
        if len(self.by_kind) > 256:  # kinds come and go; keep the newest
            del self.by_kind[next(iter(self.by_kind))]

    def _mix(self, old: float | None, new: float) -> float:
        return new if old is None else old + self.alpha * (new - old)

    def per_iteration(self, kind: str) -> float | None:
        """Seconds per iteration expected of `kind`; None if no job has finished yet."""
        return self.by_kind.get(kind, self.overall)

    def duration(self, kind: str, iterations: int) -> float | None:
        rate = self.per_iteration(kind)
        return None if rate is None else rate * iterations


def remaining(
    iterations: int, done: int, elapsed: float, expected_rate: float | None
) -> float | None:
    """Seconds a running training still needs: at its own pace once it has run an
    iteration, else at the expected rate (None if there is none)."""
    rate = elapsed / done if done > 0 else expected_rate
    return None if rate is None else max(0.0, (iterations - done) * rate)


def expected_starts(
    free_in: Sequence[float | None], durations: Sequence[float | None]
) -> list[float | None]:
    """Seconds until each waiting training starts, in queue order, given in how many
    seconds each process is free (0: idle) and each training's expected duration.
    Each takes the first process free in turn. None from the first number it needs
    that is unknown on (and for all, if there is no process)."""
    if not free_in or any(t is None for t in free_in):
        return [None] * len(durations)
    free = [float(t) for t in free_in if t is not None]
    heapq.heapify(free)
    starts: list[float | None] = []
    known = True
    for duration in durations:
        starts.append(max(0.0, free[0]) if known else None)
        if duration is None:
            known = False
        elif known:
            heapq.heappush(free, heapq.heappop(free) + duration)
    return starts


def expected_start(free_in: Sequence[float | None], ahead: Sequence[float | None]) -> float | None:
    """Seconds until a training that waits behind `ahead` (their expected durations,
    in queue order) starts."""
    return expected_starts(free_in, [*ahead, 0.0])[-1]
