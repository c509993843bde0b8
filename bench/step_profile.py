"""Where a step's time goes inside the server: the app with timers around its parts.

    python -m bench.classroom --app bench.step_profile:app --env GLASSBOX_PROFILE_DIR=/tmp/p
    python -m bench.step_profile /tmp/p        # the summary of every worker's file

A benchmark helper, never imported by the app: `app` here is app.main's app with
its pieces wrapped (nothing in app/ changes). Each worker writes, every few
seconds and at exit, what it timed to GLASSBOX_PROFILE_DIR/<pid>.json:
- `request POST /steps`: from the ASGI call to the response's last byte (includes
  waiting for a threadpool thread and for the GIL);
- `step_to`: the service call (session lock, store read, replay, run, store write);
- `lock wait`: waiting for the session's lock inside step_to;
- `store.head`, `store.get`, `store.put`, `store.advance`: the store calls (put writes
  the whole session, advance a step's cursor);
- `catch_up`: bringing a live copy to the stored head (running the steps another
  worker ran meanwhile; nothing when it was current);
- `rebuild`: a replay because the session was not live or another worker changed
  it otherwise, and `rebuild at cursor k` by the cursor it replays to;
- `step_payload` (tensors encoded) and `json_response` (orjson of the response).
How many sessions a worker keeps live is the app's own setting,
GLASSBOX_LIVE_SESSIONS (it was a fixed 64 when this profile was first taken).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import app.routers.sessions as routes
import app.sessions.service as service_mod
from app.main import create_app
from app.sessions.state import rebuild as _real_rebuild

OUT = Path(os.environ.get("GLASSBOX_PROFILE_DIR", "/tmp/glassbox-profile"))
_times: dict[str, list[float]] = defaultdict(list)
_guard = threading.Lock()


def _note(name: str, ms: float) -> None:
    with _guard:
        _times[name].append(ms)


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            _note(name, (time.perf_counter() - t0) * 1e3)

    return wrapper


def _rebuild(stored: Any) -> Any:
    t0 = time.perf_counter()
    live = _real_rebuild(stored)
    ms = (time.perf_counter() - t0) * 1e3
    _note("rebuild", ms)
    _note(f"rebuild at cursor {stored.meta['cursor']}", ms)
    return live


def _dump() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with _guard:
        data = {k: list(v) for k, v in _times.items()}
    (OUT / f"{os.getpid()}.json").write_text(json.dumps(data))


def _dumper() -> None:
    while True:
        time.sleep(3)
        _dump()


class _TimedLock:
    def __init__(self, lock: Any) -> None:
        self.lock = lock

    def __enter__(self) -> None:
        t0 = time.perf_counter()
        self.lock.__enter__()
        _note("lock wait", (time.perf_counter() - t0) * 1e3)

    def __exit__(self, *exc: object) -> None:
        self.lock.__exit__(*exc)


def _install() -> Callable[..., Any]:
    """app.main's app with its parts timed, and a thread that writes the times."""
    global _real_rebuild
    _real_rebuild = service_mod.rebuild
    service_mod.rebuild = _rebuild
    service_mod.catch_up = _timed("catch_up", service_mod.catch_up)
    routes.step_payload = _timed("step_payload", routes.step_payload)
    routes.json_response = _timed("json_response", routes.json_response)
    inner = create_app()
    svc = inner.state.sessions
    for m in ("head", "get", "put", "advance"):
        setattr(svc.store, m, _timed(f"store.{m}", getattr(svc.store, m)))
    svc.step_to = _timed("step_to", svc.step_to)
    real_lock = svc.live.lock
    svc.live.lock = lambda sid: _TimedLock(real_lock(sid))

    async def timed_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Times each POST .../steps from its call to its response's last byte."""
        if scope["type"] != "http" or not scope["path"].endswith("/steps"):
            return await inner(scope, receive, send)
        t0 = time.perf_counter()
        await inner(scope, receive, send)
        _note("request POST /steps", (time.perf_counter() - t0) * 1e3)

    threading.Thread(target=_dumper, daemon=True).start()
    atexit.register(_dump)
    return timed_app


def summary(folder: Path) -> None:
    """p50/p99/max and count of each timer over every worker's file."""
    from bench.classroom import pct

    merged: dict[str, list[float]] = defaultdict(list)
    for f in folder.glob("*.json"):
        for k, v in json.loads(f.read_text()).items():
            merged[k].extend(v)
    key = lambda k: (k.startswith("rebuild at"), int(k.split()[-1]) if k[-1].isdigit() else 0, k)  # noqa: E731
    print(f"{'timer (ms)':28} {'n':>7} {'p50':>8} {'p99':>8} {'max':>8} {'sum s':>7}")
    for k in sorted(merged, key=key):
        v = merged[k]
        print(f"{k:28} {len(v):7d} {pct(v, 50):8.2f} {pct(v, 99):8.2f} {max(v):8.2f} "
              f"{sum(v) / 1e3:7.2f}")  # fmt: skip


if __name__ == "__main__":
    summary(Path(sys.argv[1]))
else:  # imported by uvicorn as bench.step_profile:app
    app = _install()
