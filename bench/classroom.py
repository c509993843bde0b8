"""A class on one box: many students stepping the CNN page while some train.

    python -m bench.classroom [--students 200] [--trainings 12] [--seconds 60]
                              [--seed 0] [--workers 2] [--url http://...] [--by-cursor]

Starts the app as `scripts/run` does by default (`uvicorn app.main:app --workers 2`,
one BLAS thread per worker, the SQLite store in a temporary data dir) on a free
loopback port (bench.api.serve, as scripts/serve runs it), or uses the server at
`--url`. scripts/run itself is not called: it runs scripts/setup first, which may
reinstall the venv. `python -m bench.replicas` runs the same class against N
replicas sharing Redis behind nginx.

Each student arrives at a random moment of the first `--arrive` seconds and does
what static/js/views/cnn.js does: POST /api/sessions {"preset": "digits-cnn"}, the
start's POST .../steps {"until": "loss"}, then one frame every 1.5-2.5 s (seeded):
POST .../steps?encoding=b64 {"to": k} for the next step the page does not hold.
After the pass's last step the student picks another test sample (PUT .../input)
and starts again. Each training does what the BP or RNN page does, in turn:
BP (static/js/bp-train.js): POST /api/bp/sessions, then `--epochs` requests of
{"epochs": 1} each followed by GET .../boundary; RNN (rnn-train.js): a memory-rnn
or memory-lstm session with {"reinit": true, "clip": 1}, one request of
{"epochs": 3} (Adam 0.003), then DELETE. Every SSE stream is read to its end. A
training refused (429: the worker's training queue is full, GLASSBOX_TRAIN_QUEUE_MAX) is
pressed again 1.5-2.5 s later, as a student would.

Prints p50/p99/max (client side, ms) of a frame's step, of the start, of session
creation and of the time to a training's first event; errors by status; the
load average and CPU count. Not a test: bounded by `--seconds` (no new request
after it; streams still running 30 s later are dropped) and `--max-requests`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.api import serve

STEP_Q = {"encoding": "b64"}  # what static/js/api.js stepQuery sends for a frame
GRACE_S = 30.0  # how long streams may run on after --seconds


@dataclass
class Stats:
    """What the simulated class saw: latencies (ms) by kind, errors by kind."""

    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    by_cursor: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0

    def error(self, what: str, resp: httpx.Response | None, exc: Exception | None = None) -> None:
        if exc is not None:
            self.errors[f"{what} transport ({type(exc).__name__})"] += 1
        elif resp is not None:
            status = resp.status_code
            label = {429: "429 busy", 409: "409 conflict"}.get(status)
            label = label or ("5xx" if status >= 500 else str(status))
            self.errors[f"{what} {label}"] += 1


class Clock:
    """The run's deadline and request budget."""

    def __init__(self, seconds: float, max_requests: int) -> None:
        self.end = time.monotonic() + seconds
        self.left = max_requests

    def open(self) -> bool:
        return time.monotonic() < self.end and self.left > 0

    def take(self) -> bool:
        if not self.open():
            return False
        self.left -= 1
        return True


async def _timed(
    stats: Stats, kind: str, c: httpx.AsyncClient, method: str, path: str, **kw: Any
) -> httpx.Response | None:
    """One request; its time goes to stats.ms[kind] when it answers 2xx."""
    stats.requests += 1
    t0 = time.perf_counter()
    try:
        r = await c.request(method, path, **kw)
    except httpx.HTTPError as exc:
        stats.error(kind, None, exc)
        return None
    ms = (time.perf_counter() - t0) * 1e3
    if r.is_success:
        stats.ms[kind].append(ms)
        return r
    stats.error(kind, r)
    return None


async def student(c: httpx.AsyncClient, rng: random.Random, clock: Clock, st: Stats,
                  arrive: float) -> None:  # fmt: skip
    await asyncio.sleep(rng.uniform(0, arrive))
    if not clock.take():
        return
    r = await _timed(st, "create", c, "POST", "/api/sessions", json={"preset": "digits-cnn"})
    if r is None:
        return
    made = r.json()
    sid, n = made["id"], len(made["plan"])
    tests = (made.get("dataset") or {}).get("test", 1)
    steps = f"/api/sessions/{sid}/steps"
    while True:
        if not clock.take():
            return
        r = await _timed(st, "start", c, "POST", steps, json={"until": "loss"}, params=STEP_Q)
        if r is None:
            return
        k = r.json()["cursor"]  # the page holds steps 0..k-1 (forward and loss)
        while k < n:
            await asyncio.sleep(rng.uniform(1.5, 2.5))
            if not clock.take():
                return
            t0 = time.perf_counter()
            r = await _timed(st, "step", c, "POST", steps, json={"to": k}, params=STEP_Q)
            if r is not None:
                st.by_cursor[k].append((time.perf_counter() - t0) * 1e3)
            k += 1
        await asyncio.sleep(rng.uniform(1.5, 2.5))
        if not clock.take():
            return
        body = {"sample": {"split": "test", "index": rng.randrange(tests)}}
        if await _timed(st, "input", c, "PUT", f"/api/sessions/{sid}/input", json=body) is None:
            return


async def _stream(
    c: httpx.AsyncClient, st: Stats, path: str, body: dict[str, Any], kind: str
) -> str:
    """POST a training and read its SSE stream to the end; returns its last event's name
    ("busy" for a 429, "failed" for another error)."""
    st.requests += 1
    t0 = time.perf_counter()
    last, first = "failed", True
    try:
        async with c.stream("POST", path, json=body) as r:
            if r.status_code != 200:
                await r.aread()
                st.error("train", r)
                return "busy" if r.status_code == 429 else "failed"
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    if first:
                        st.ms["train first event"].append((time.perf_counter() - t0) * 1e3)
                        first = False
                    last = line[7:]
    except httpx.HTTPError as exc:
        st.error("train", None, exc)
        return "failed"
    st.ms[f"train stream ({kind})"].append((time.perf_counter() - t0) * 1e3)
    if last == "error":
        st.errors["train error event"] += 1
    return last


async def _train(c: httpx.AsyncClient, rng: random.Random, clock: Clock, st: Stats,
                 path: str, body: dict[str, Any], kind: str) -> bool:  # fmt: skip
    """One training request, pressed again after a 429; False once the run is over."""
    while clock.take():
        if await _stream(c, st, path, body, kind) != "busy":
            return True
        await asyncio.sleep(rng.uniform(1.5, 2.5))
    return False


async def trainer(c: httpx.AsyncClient, rng: random.Random, clock: Clock, st: Stats,
                  i: int, epochs: int, bp: dict[str, Any], arrive: float) -> None:  # fmt: skip
    await asyncio.sleep(rng.uniform(0, arrive))
    kind = ("bp", "rnn", "bp", "lstm")[i % 4]
    while clock.take():
        if kind == "bp":
            r = await _timed(st, "create", c, "POST", "/api/bp/sessions", json=bp)
            if r is None:
                return
            sid = r.json()["id"]
            for _ in range(epochs):
                body: dict[str, Any] = {"epochs": 1, "batch_size": 32}
                if not await _train(c, rng, clock, st, f"/api/sessions/{sid}/train", body, "bp"):
                    return
                if not clock.take():
                    return
                path = f"/api/sessions/{sid}/boundary"
                await _timed(st, "boundary", c, "GET", path, params={"resolution": 40})
        else:
            made = {"preset": f"memory-{kind}", "overrides": {"reinit": True, "clip": 1}}
            r = await _timed(st, "create", c, "POST", "/api/sessions", json=made)
            if r is None:
                return
            sid = r.json()["id"]
            body = {
                "epochs": 3,
                "batch_size": 32,
                "optimizer": {"type": "adam", "lr": 0.003},
            }
            done = await _train(c, rng, clock, st, f"/api/sessions/{sid}/train", body, kind)
            await c.delete(f"/api/sessions/{sid}")
            if not done:
                return
        await asyncio.sleep(rng.uniform(1.5, 2.5))  # reading the curves, then again


async def drive(url: str, args: argparse.Namespace) -> Stats:
    st = Stats()
    n = args.students + args.trainings
    limits = httpx.Limits(max_connections=n + 8, max_keepalive_connections=n + 8)
    timeout = httpx.Timeout(args.seconds + GRACE_S)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout,
                                 trust_env=False) as c:  # fmt: skip
        bp = {"hidden": [6], "lr": 0.3}  # the BP page's defaults beyond the API's
        rules = (await c.get("/api/rules")).json()
        bp.update(rules.get("bp", {}).get("defaults", {}))
        clock = Clock(args.seconds, args.max_requests)
        rng = random.Random(args.seed)
        tasks = [student(c, random.Random(rng.random()), clock, st, args.arrive)
                 for _ in range(args.students)]  # fmt: skip
        tasks += [trainer(c, random.Random(rng.random()), clock, st, i, args.epochs, bp,
                          args.arrive) for i in range(args.trainings)]  # fmt: skip
        jobs = [asyncio.ensure_future(t) for t in tasks]
        _, late = await asyncio.wait(jobs, timeout=args.seconds + GRACE_S)
        for job in late:
            job.cancel()
        st.errors.update({"still running at the end (dropped)": len(late)} if late else {})
        for job in jobs:
            if job.done() and not job.cancelled() and job.exception() is not None:
                st.errors[f"client bug: {job.exception()!r}"] += 1
    return st


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


def report(st: Stats, args: argparse.Namespace, url: str, wall: float,
           load: tuple[float, ...], cpu: float) -> dict[str, Any]:  # fmt: skip
    rows = {}
    order = ["step", "start", "input", "create", "train first event"]
    for kind in order + sorted(k for k in st.ms if k not in order):
        v = st.ms.get(kind, [])
        if v:
            rows[kind] = {"n": len(v), "p50": pct(v, 50), "p99": pct(v, 99), "max": max(v)}
    now = os.getloadavg()
    return {
        "config": {"students": args.students, "trainings": args.trainings,
                   "seconds": args.seconds, "arrive": args.arrive, "seed": args.seed,
                   "epochs": args.epochs, "workers": None if args.url else args.workers,
                   "url": url, "store": "external" if args.url else "sqlite (default)"},
        "machine": {"cpus": os.cpu_count(), "load_before": load, "load_after": now},
        "wall_s": wall, "requests": st.requests, "server_cpu_s": cpu,
        "latency_ms": rows, "errors": dict(st.errors),
        "step_by_cursor": {k: {"n": len(v), "p50": pct(v, 50), "p99": pct(v, 99)}
                           for k, v in sorted(st.by_cursor.items())},
    }  # fmt: skip


def show(res: dict[str, Any], by_cursor: bool) -> None:
    cfg, m = res["config"], res["machine"]
    print("config: " + ", ".join(f"{k}={v}" for k, v in cfg.items()))
    load = " ".join(f"{x:.2f}" for x in m["load_before"])
    after = " ".join(f"{x:.2f}" for x in m["load_after"])
    print(f"machine: {m['cpus']} CPUs, load average {load} before, {after} after")
    cpu = res["server_cpu_s"]
    busy = f", server CPU {cpu:.1f} s = {cpu / res['wall_s']:.0%} of a core" if cpu == cpu else ""
    client = res.get("client_cpu_s", float("nan")) / res["wall_s"]
    print(f"requests: {res['requests']} in {res['wall_s']:.1f} s{busy}; this client used "
          f"{client:.0%} of a core (it shares the machine)")  # fmt: skip
    print(f"{'latency (ms)':20} {'n':>6} {'p50':>8} {'p99':>8} {'max':>8}")
    for kind, r in res["latency_ms"].items():
        print(f"{kind:20} {r['n']:6d} {r['p50']:8.1f} {r['p99']:8.1f} {r['max']:8.1f}")
    errors = res["errors"]
    print(f"errors: {sum(errors.values())}" + "".join(f"\n  {k}: {v}" for k, v in errors.items()))
    if by_cursor:
        print(f"{'step k':>6} {'n':>6} {'p50':>8} {'p99':>8}")
        for k, r in res["step_by_cursor"].items():
            print(f"{k:>6} {r['n']:6d} {r['p50']:8.1f} {r['p99']:8.1f}")


def parser() -> argparse.ArgumentParser:
    """The benchmark's options (bench.replicas adds its own to them)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=200)
    p.add_argument("--trainings", type=int, default=12)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--arrive", type=float, default=5.0, help="students arrive over these s")
    p.add_argument("--epochs", type=int, default=5, help="BP epochs (requests) per training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="uvicorn workers (scripts/run: 2)")
    p.add_argument("--url", help="a running server instead of starting one (loopback)")
    p.add_argument("--max-requests", type=int, default=200_000)
    p.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    p.add_argument("--app", default="app.main:app", help="the ASGI app uvicorn serves")
    p.add_argument("--by-cursor", action="store_true", help="step latency by step index")
    p.add_argument("--json", type=Path, help="also write the results here")
    return p


def measure(args: argparse.Namespace, url: str, cpu: Callable[[], float] | None,
            load: tuple[float, ...]) -> dict[str, Any]:  # fmt: skip
    """Runs the class against `url`; `cpu` says the server side's CPU seconds so far."""
    cpu0 = cpu() if cpu else float("nan")
    t0, mine = time.monotonic(), time.process_time()
    st = asyncio.run(drive(url, args))
    wall = time.monotonic() - t0
    used = (cpu() - cpu0) if cpu else float("nan")
    return {**report(st, args, url, wall, load, used), "client_cpu_s": time.process_time() - mine}


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    extra = dict(kv.split("=", 1) for kv in args.env)
    load = os.getloadavg()
    if args.url:
        res = measure(args, args.url.rstrip("/"), None, load)
    else:
        with serve(args.workers, env=extra, app=args.app, args=()) as server:  # as scripts/serve
            res = measure(args, server.url, server.cpu_seconds, load)
    show(res, args.by_cursor)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
