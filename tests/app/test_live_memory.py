"""The live sessions of a worker are bounded by bytes as well as by count
(GLASSBOX_LIVE_SESSIONS_MB): the estimate of what one holds stays near what it
really takes, and the cache drops the least recently used beyond the budget."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from app.schemas import SessionCreate
from app.sessions.service import SessionService
from app.sessions.state import footprint, rebuild
from app.settings import Settings
from app.store import open_store
from engine.data import load_split

PRESETS = ["conv-basics", "digits-cnn", "shapes-cnn", "memory-lstm", "bilstm-memory",
           "chars-en", "sine-rnn", "vanishing-rnn"]  # fmt: skip


def _service(tmp_path: Path, **settings: object) -> SessionService:
    s = Settings(data_dir=tmp_path, warm_up=False, **settings)  # type: ignore[arg-type]
    return SessionService(open_store(s.store_url(), 3600, 1000), s)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_estimate_is_within_2x_of_the_memory_a_rebuilt_pass_takes(
    tmp_path: Path, preset: str
) -> None:
    service = _service(tmp_path)
    live = service.create(SessionCreate(preset=preset))
    service.step(live.id, None, "update")  # a whole pass: every tensor recorded
    stored = service.store.get(live.id)
    if stored.meta.get("dataset"):
        load_split(stored.meta["dataset"])  # shared by every session: not its own
    rebuild(stored)  # first-use caches (imports, weights files) out of the measure
    gc.collect()
    tracemalloc.start()
    try:
        again = rebuild(stored)
        taken = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert taken / 2 <= footprint(again) <= taken * 2, (footprint(again), taken)


def test_the_least_recently_used_go_when_the_bytes_run_out(tmp_path: Path) -> None:
    service = _service(tmp_path, live_sessions=100, live_sessions_mb=16)
    ids = []
    for _ in range(40):  # 40 bilstm passes: about 0.9 MB each, more than 16 MB
        live = service.create(SessionCreate(preset="bilstm-memory"))
        service.step(live.id, None, "update")
        ids.append(live.id)
    live = service.live
    held = live.ids()
    assert 0 < len(held) < 40
    assert held == ids[-len(held) :]  # the most recently used are the ones kept
    assert live.bytes <= 16 * 2**20
    assert live.bytes == sum(footprint(live.get(i)) for i in held)  # type: ignore[arg-type]
    service.delete(held[-1])
    assert live.bytes == sum(footprint(live.get(i)) for i in held[:-1])  # type: ignore[arg-type]


def test_creating_sessions_keeps_the_cache_within_its_count(tmp_path: Path) -> None:
    """A flood of creates used to add every new session to the cache untrimmed."""
    service = _service(tmp_path, live_sessions=5)
    for _ in range(12):
        service.create(SessionCreate(preset="conv-basics"))
    assert len(service.live) == 5


def test_the_byte_count_stays_true_when_threads_drop_each_others_sessions(monkeypatch):
    """keep() sizes a session outside the guard (0.5 ms for a BiLSTM); another thread
    may drop that session meanwhile. The count once went negative that way, and the
    byte bound stopped bounding."""
    import threading
    import time
    from types import SimpleNamespace

    import app.sessions.live as live_module

    def slow_footprint(live: object) -> int:
        time.sleep(0.005)  # widen the window a real footprint opens
        return 1000

    monkeypatch.setattr(live_module, "footprint", slow_footprint)
    cache = live_module.LiveSessions(max_count=2, max_bytes=10**9)
    traces: dict[str, object] = {}

    def step(sid: str, rounds: int) -> None:
        for cursor in range(rounds):
            trace = traces.setdefault(sid, object())
            cache.keep(SimpleNamespace(id=sid, run=SimpleNamespace(trace=trace, cursor=cursor)))  # type: ignore[arg-type]

    threads = [threading.Thread(target=step, args=(sid, 20)) for sid in "abcdef"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.bytes == 1000 * len(cache) == 2000
