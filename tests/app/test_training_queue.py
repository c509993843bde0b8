"""The fair training queue and its estimates, as plain units (no process runs).

The queue is never started here: its runners' threads stay down, so the tests
play the runners (`finished`) and see who gets a process next.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import pytest

from app.settings import Settings
from app.training import queue as queue_module
from app.training.estimate import Rates, expected_start, expected_starts, remaining
from app.training.queue import QueueFull, Ticket, TrainingQueue


def _queue(workers: int = 1, max_queued: int = 1000) -> TrainingQueue:
    settings = Settings(train_workers=workers, train_queue_max=max_queued)
    queue = TrainingQueue(None, settings)  # type: ignore[arg-type]  # the store is never asked
    queue.started = True  # no runner threads: the test finishes the jobs
    return queue


def _run(body: Callable[[], Any]) -> Any:
    """Run `body` inside an event loop (submit binds a ticket to the running loop)."""

    async def inside() -> Any:
        return body()

    return asyncio.run(inside())


def _submit(queue: TrainingQueue, sid: str, iterations: int = 10, kind: str = "bp") -> Ticket:
    return queue.submit(sid, {}, {"type": "sgd"}, kind, iterations)


def _running(queue: TrainingQueue) -> list[str]:
    return sorted(t.sid for t in queue.running.values())


def _finish(queue: TrainingQueue, sid: str, seconds: float = 1.0) -> None:
    ticket = next(t for t in queue.running.values() if t.sid == sid)
    assert ticket.runner is not None
    queue.finished(ticket.runner, ticket, seconds, ticket.iterations)


def test_first_come_first_served_across_sessions_and_a_sessions_next_request_goes_last():
    def body() -> None:
        q = _queue(workers=1)
        a1 = _submit(q, "a")
        b1, a2, c1 = _submit(q, "b"), _submit(q, "a"), _submit(q, "c")
        assert a1.state == "running" and [t.sid for t in q.waiting] == ["b", "a", "c"]
        _finish(q, "a")
        assert _running(q) == ["b"] and [t.sid for t in q.waiting] == ["a", "c"]
        assert a2.state == "queued" and b1.state == "running"
        # b trains one epoch per request: its next one waits behind a and c
        _finish(q, "b")
        _submit(q, "b")
        assert _running(q) == ["a"] and [t.sid for t in q.waiting] == ["c", "b"]
        _finish(q, "a")
        assert c1.state == "running"

    _run(body)


def test_one_running_training_per_session_even_with_a_free_process():
    def body() -> None:
        q = _queue(workers=2)
        _submit(q, "a")
        a2 = _submit(q, "a")  # a second tab of the same student
        b1 = _submit(q, "b")
        assert _running(q) == ["a", "b"] and q.waiting == [a2]
        assert b1.state == "running" and a2.state == "queued"
        _finish(q, "b")
        assert _running(q) == ["a"] and q.waiting == [a2]  # a process is free, a is not
        _finish(q, "a")
        assert _running(q) == ["a"] and not q.waiting

    _run(body)


def test_the_queued_event_gives_place_counts_and_an_estimate_from_recent_jobs():
    def body() -> None:
        q = _queue(workers=1)
        _submit(q, "a", iterations=10)
        b = _submit(q, "b", iterations=10)
        c = _submit(q, "c", iterations=20)
        first = q.status(c)
        assert first is not None
        assert first["event"] == "queued" and first["position"] == 2
        assert first["running"] == 1 and first["queued"] == 2
        assert first["expected_start_s"] is None  # no job has finished: nothing to go by
        _finish(q, "a", seconds=5.0)  # 0.5 s an iteration
        assert q.status(b) is None  # b started
        status = q.status(c)
        assert status is not None and status["position"] == 1 and status["queued"] == 1
        # b runs 10 iterations at 0.5 s, and has just started: c starts in about 5 s
        assert status["expected_start_s"] is not None and 0 < status["expected_start_s"] <= 5.0

    _run(body)


def test_a_cancelled_or_abandoned_waiting_training_leaves_the_queue():
    def body() -> None:
        q = _queue(workers=1)
        _submit(q, "a")
        b, c, d = _submit(q, "b"), _submit(q, "c"), _submit(q, "d")
        assert q.cancel("b") is True
        assert [t.sid for t in q.waiting] == ["c", "d"] and b.state == "over"
        assert list(b.events) == [{"event": "cancelled", "loss": None, "elapsed": 0.0}]
        q.leave(c)  # its client went away
        assert q.waiting == [d] and not c.events
        status = q.status(d)
        assert status is not None and status["position"] == 1
        assert q.cancel("nobody") is False

    _run(body)


def test_a_stream_never_read_leaves_the_queue_when_collected():
    from app.sessions.training import TrainingJob, start_training

    def body() -> None:
        q = _queue(workers=1)
        _submit(q, "a")
        job = TrainingJob("b", lambda: ({}, {"type": "sgd"}), "bp", 10)
        events = start_training(q, job)
        assert [t.sid for t in q.waiting] == ["b"]
        del events  # the client left before the first event
        gc.collect()
        assert q.waiting == []

    _run(body)


def test_the_queue_is_bounded_and_says_which_setting():
    def body() -> None:
        q = _queue(workers=1, max_queued=2)
        for sid in "abc":  # a runs, b and c wait
            _submit(q, sid)
        with pytest.raises(QueueFull, match="train_queue_max = 2"):
            _submit(q, "d")
        _finish(q, "a")  # b runs: a place is free again
        _submit(q, "d")

    _run(body)


def test_a_queued_stream_sends_its_place_then_the_trainings_events():
    async def body() -> list[dict[str, Any]]:
        q = _queue(workers=1)
        _submit(q, "a")
        b = _submit(q, "b")
        got: list[dict[str, Any]] = []
        async for event in q.stream(b):
            got.append(event)
            if event["event"] == "queued":  # the runner of a finishes; b starts
                _finish(q, "a")
                b.push({"event": "start"})
                b.push({"event": "done", "loss": 0.5})
        return got

    events = asyncio.run(body())
    assert [e["event"] for e in events] == ["queued", "start", "done"]
    assert events[0]["position"] == 1


def test_a_waiting_stream_repeats_its_place_while_it_waits(monkeypatch):
    monkeypatch.setattr(queue_module, "HEARTBEAT_S", 0.01)  # not 2 s: the test need not wait

    async def body() -> list[dict[str, Any]]:
        q = _queue(workers=1)
        _submit(q, "a")
        b = _submit(q, "b")
        got: list[dict[str, Any]] = []
        async for event in q.stream(b):
            got.append(event)
            if len(got) == 3:
                break
        return got

    events = asyncio.run(body())
    assert [(e["event"], e["position"]) for e in events] == [("queued", 1)] * 3


def test_expected_start_takes_the_first_free_process_in_turn():
    assert expected_start([0.0], []) == 0.0  # a free process: at once
    assert expected_start([3.0], []) == 3.0
    assert expected_start([3.0], [2.0, 4.0]) == 9.0  # one process: in a row
    # two processes free in 3 and 5 s; jobs of 4 and 1 s ahead: 3+4=7 and 5+1=6
    assert expected_start([3.0, 5.0], [4.0, 1.0]) == 6.0
    assert expected_start([3.0, None], []) is None
    assert expected_start([0.0], [None]) is None
    assert expected_start([], []) is None
    # everyone's at once, in queue order; unknown from the first unknown duration on
    assert expected_starts([3.0, 5.0], [4.0, 1.0, 2.0]) == [3.0, 5.0, 6.0]
    assert expected_starts([0.0], [1.0, None, 2.0]) == [0.0, 1.0, None]


def test_rates_are_a_moving_average_by_kind_with_the_overall_one_for_a_new_kind():
    rates = Rates(alpha=0.5)
    assert rates.per_iteration("bp") is None and rates.duration("bp", 10) is None
    rates.add("bp", 1.0, 10)  # 0.1 s an iteration
    rates.add("bp", 3.0, 10)  # 0.3: the average moves halfway
    assert rates.per_iteration("bp") == pytest.approx(0.2)
    rates.add("lstm", 10.0, 10)
    assert rates.per_iteration("lstm") == pytest.approx(1.0)
    assert rates.per_iteration("cnn") == rates.overall  # not seen yet
    rates.add("bp", 1.0, 0)  # a job that ran nothing says nothing
    assert rates.per_iteration("bp") == pytest.approx(0.2)


def test_a_running_trainings_rest_is_at_its_own_pace_once_it_has_one():
    assert remaining(100, 0, 0.0, 0.5) == 50.0  # not started: the expected rate
    assert remaining(100, 0, 0.0, None) is None
    assert remaining(100, 50, 10.0, 0.5) == 10.0  # 0.2 s an iteration so far
    assert remaining(100, 100, 20.0, None) == 0.0
