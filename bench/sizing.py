"""Sizing numbers for a school's IT admin (docs/deploy.md): memory, store bytes, CPU.

    python -m bench.sizing [--sessions 300] [--steps 400] [--bp-epochs 20]
                           [--rnn-epochs 3] [--cnn-iterations 5000] [--json FILE]

Starts its own servers on loopback ports, each with a temporary data folder, as
scripts/serve runs them (bench.api.serve: the `glassbox` command, one BLAS thread per
worker), and a redis-server of its own (bench.replicas.redis_server, no persistence);
stops them and removes the folders at the end. Needs redis-server on PATH. Two parts:

1. The single container: 2 workers, SQLite. Memory of the server's process tree
   (VmRSS and PSS from /proc, summed over the supervisor, its workers and any
   training process) idle after the workers' warm-up, then after `--sessions`
   sessions (a third each of `digits-cnn`, `memory-lstm` and the BP page's default
   network), each stepped through a full pass and into the next, so that what is
   stored holds the optimizer's state too. Then the SQLite file's bytes per session
   (after a WAL checkpoint) and each kind's stored blob.
2. A compose replica: 1 worker, Redis. The same sessions; Redis's own count of each
   kind's keys (MEMORY USAGE) per session, and used_memory's growth over them all.
   Then steps per CPU-second: `--steps` single steps (`POST .../steps?encoding=b64
   {}`, what a page's frame costs) of a digits-cnn and of a memory-lstm session,
   divided by the CPU seconds (utime + stime in /proc/PID/stat) the replica and
   Redis used meanwhile: CPU, not wall time, so other jobs on the machine do not
   change the number much. Then, after one warm-up training that starts the worker's
   training process, the CPU and wall seconds of what the pages' Train buttons send,
   one at a time (the BP page: `--bp-epochs` requests of one epoch, each followed by
   its decision boundary; the RNN page: `--rnn-epochs` epochs of memory-lstm or
   memory-rnn, Adam) and of the heaviest digits-cnn training the limits allow
   (`--cnn-iterations` x 64; the API's, no page trains a CNN); and the replica's
   memory with its sessions and training process.

Prints a table (`--json FILE` keeps the numbers). Not a test (tests/test_bench_sizing.py
runs it with tiny numbers); about 30-60 s with the defaults on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from app.store.redis import CLIENT_PREFIX, INDEX_KEY, SESSION_PREFIX, SIGNALS_PREFIX
from bench.api import Server, serve
from bench.procfs import field_kb, tree
from bench.replicas import redis_server

GIB = 2**30
KINDS = ("digits-cnn", "memory-lstm", "bp")
NO_TENSORS = {"tensors": "false"}
# The BP page's own choices beyond the API's defaults (static/js/views/bp.js).
BP_PAGE = {"hidden": [6], "lr": 0.3}
RNN_PAGE = {"batch_size": 32, "optimizer": {"type": "adam", "lr": 0.003}}
CNN_BATCH = 64  # GLASSBOX_LIMIT_MAX_BATCH: with 5000 iterations, the heaviest digits-cnn run
RNN_OVERRIDES = {"reinit": True, "clip": 1}  # what the RNN page's Train starts from
# The table's rows, in order (tests/test_bench_sizing.py checks each is printed).
ROWS = (
    "memory, 2 workers, idle",
    "memory, 2 workers, sessions live",
    "memory, 1 worker, idle",
    "memory, 1 worker, sessions live + training process",
    "Redis per session: digits-cnn",
    "Redis per session: memory-lstm",
    "Redis per session: bp",
    "Redis per session: the mix",
    "SQLite per session",
    "steps per CPU-second: digits-cnn",
    "steps per CPU-second: memory-lstm",
    "training: BP page Train",
    "training: RNN page Train, memory-lstm",
    "training: RNN page Train, memory-rnn",
    "training: digits-cnn at the limit (API)",
)


# --- /proc ---------------------------------------------------------------------------


def memory(pid: int) -> dict[str, Any]:
    """Resident memory of the process tree in MB: RSS summed (what `ps` and `top` show;
    it counts a shared library once per process) and PSS (shared pages divided among
    the processes that map them: what the tree really holds), and each process's RSS."""
    pids = tree(pid)
    rss = [field_kb(f"/proc/{p}/status", "VmRSS") / 1024 for p in pids]
    pss = sum(field_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in pids) / 1024
    return {"rss_mb": sum(rss), "pss_mb": pss, "processes": [round(r, 1) for r in rss]}


# --- sessions ------------------------------------------------------------------------


def create(c: httpx.Client, kind: str, bp: dict[str, Any]) -> str:
    """A new session of `kind`, stepped through a full pass and into the next one (its
    store entry then holds the optimizer's state besides the weights and sample)."""
    if kind == "bp":
        r = c.post("/api/bp/sessions", json=bp)
    else:
        r = c.post("/api/sessions", json={"preset": kind})
    if r.status_code != 201:
        raise RuntimeError(f"creating a {kind} session: {r.status_code} {r.text[:300]}")
    sid = r.json()["id"]
    for body in ({"until": "update"}, {}):
        r = c.post(f"/api/sessions/{sid}/steps", json=body, params=NO_TENSORS)
        if r.status_code != 200:
            raise RuntimeError(f"stepping a {kind} session: {r.status_code} {r.text[:300]}")
    return str(sid)


def make_many(url: str, kind: str, n: int, bp: dict[str, Any]) -> list[str]:
    """`n` sessions of `kind`, four requests at a time."""
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    with (
        httpx.Client(base_url=url, trust_env=False, timeout=60, limits=limits) as c,
        ThreadPoolExecutor(4) as pool,
    ):
        return list(pool.map(lambda _: create(c, kind, bp), range(n)))


def bp_body(url: str) -> dict[str, Any]:
    """What the BP page sends to create its network: the API's defaults (/api/rules)
    and the page's own hidden layer and learning rate."""
    rules = httpx.get(f"{url}/api/rules", trust_env=False, timeout=30).json()
    return {**rules["bp"]["defaults"], **BP_PAGE}


def per_kind(n: int) -> list[tuple[str, int]]:
    """`n` sessions split over KINDS (at least one each)."""
    return [(kind, max(1, n // len(KINDS))) for kind in KINDS]


# --- part 1: the single container (2 workers, SQLite) ---------------------------------


def container(n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with serve(2) as server:
        time.sleep(0.5)  # the workers warmed up before answering; let the start settle
        out["idle"] = memory(server.pid)
        bp = bp_body(server.url)
        ids = {kind: make_many(server.url, kind, k, bp) for kind, k in per_kind(n)}
        out["live"] = memory(server.pid)
        out["sessions"] = sum(len(v) for v in ids.values())
        db = server.log.parent / "data" / "sessions.db"
        with sqlite3.connect(db, timeout=10) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            blob = dict(con.execute("SELECT id, length(blob) FROM sessions").fetchall())
            rows = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
        con.close()
        size = db.stat().st_size + sum(
            p.stat().st_size for p in db.parent.glob(db.name + "-*") if p.is_file()
        )
        out["sqlite"] = {
            "file_bytes": size,
            "rows": rows,
            "per_session": size / max(rows, 1),
            "blob": {k: sum(blob[s] for s in v) / len(v) for k, v in ids.items()},
        }
    return out


# --- part 2: a compose replica (1 worker, Redis) --------------------------------------


def used_memory(client: Any) -> int:
    """Bytes Redis has allocated (INFO memory: the keys, client buffers, scripts)."""
    return int(client.info("memory")["used_memory"])


def key_bytes(client: Any, ids: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Each kind's bytes per session from Redis's own count of its keys (MEMORY USAGE,
    exact: SAMPLES 0): the session's hash and signals, plus its share of the indexes
    (all sessions by last use, each client's). used_memory's own changes also follow
    client buffers, which come and go with the requests."""

    def usage(key: str) -> int:
        return int(client.memory_usage(key, samples=0) or 0)

    shared = usage(INDEX_KEY) + sum(usage(k) for k in client.scan_iter(CLIENT_PREFIX + "*"))
    total = sum(len(v) for v in ids.values())
    out = {}
    for kind, sids in ids.items():
        own = sum(usage(SESSION_PREFIX + s) + usage(SIGNALS_PREFIX + s) for s in sids)
        out[kind] = {"sessions": len(sids), "bytes": own / len(sids) + shared / total}
    return out


def step_rate(server: Server, cpu: Callable[[], float], preset: str, steps: int) -> float:
    """Single steps (a page's frame: b64 tensors) per CPU-second of the server side."""
    with httpx.Client(base_url=server.url, trust_env=False, timeout=60) as c:
        sid = c.post("/api/sessions", json={"preset": preset}).json()["id"]
        path = f"/api/sessions/{sid}/steps"
        for _ in range(20):  # warm: the session live, the code paths run once
            c.post(path, json={}, params={"encoding": "b64"})
        cpu0 = cpu()
        for _ in range(steps):
            r = c.post(path, json={}, params={"encoding": "b64"})
            if r.status_code != 200:
                raise RuntimeError(f"a {preset} step: {r.status_code} {r.text[:300]}")
        spent = cpu() - cpu0
        if spent <= 0:  # CPU time is counted in clock ticks (10 ms)
            raise RuntimeError(f"{steps} steps are too few to measure: use more --steps")
        return steps / spent


def stream(c: httpx.Client, sid: str, body: dict[str, Any]) -> None:
    """POST a training and read its events to the end (RuntimeError unless `done`)."""
    last = ""
    with c.stream("POST", f"/api/sessions/{sid}/train", json=body) as r:
        if r.status_code != 200:
            raise RuntimeError(f"training: {r.status_code} {r.read()[:300]!r}")
        for line in r.iter_lines():
            if line.startswith("event: "):
                last = line[7:]
    if last != "done":
        raise RuntimeError(f"a training ended with {last!r}, not done")


def train_cost(server: Server, cpu: Callable[[], float], kind: str, bp: dict[str, Any],
               epochs: tuple[int, int, int]) -> dict[str, float]:  # fmt: skip
    """CPU seconds (server side, training process included) and wall seconds of what a
    page's Train button sends."""
    with httpx.Client(base_url=server.url, trust_env=False, timeout=300) as c:
        if kind == "bp":
            sid = c.post("/api/bp/sessions", json=bp).json()["id"]
        elif kind == "digits-cnn":
            sid = c.post("/api/sessions", json={"preset": kind}).json()["id"]
        else:
            made = {"preset": kind, "overrides": RNN_OVERRIDES}
            sid = c.post("/api/sessions", json=made).json()["id"]
        cpu0, t0 = cpu(), time.perf_counter()
        if kind == "bp":
            for _ in range(epochs[0]):
                stream(c, sid, {"epochs": 1, "batch_size": 32})
                c.get(f"/api/sessions/{sid}/boundary", params={"resolution": 40})
        elif kind == "digits-cnn":  # no page trains it; the session's own optimizer
            stream(c, sid, {"iterations": epochs[2], "batch_size": CNN_BATCH})
        else:
            stream(c, sid, {**RNN_PAGE, "epochs": epochs[1]})
        out = {"cpu_s": cpu() - cpu0, "wall_s": time.perf_counter() - t0}
        c.delete(f"/api/sessions/{sid}")
    return out


def replica(n: int, steps: int, epochs: tuple[int, int, int]) -> dict[str, Any]:
    import redis

    out: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="glassbox-sizing-") as tmp,
        redis_server(Path(tmp)) as red,
        serve(1, store=red.url) as server,
    ):
        time.sleep(0.5)
        out["idle"] = memory(server.pid)
        bp = bp_body(server.url)
        client = redis.Redis.from_url(red.url)
        for kind in KINDS:  # Redis's first-use costs (scripts, indexes) out of the count
            make_many(server.url, kind, 1, bp)
        first = used_memory(client)
        ids = {kind: make_many(server.url, kind, k, bp) for kind, k in per_kind(n)}
        made = sum(len(v) for v in ids.values())
        out["redis_all"] = {"sessions": made, "bytes": (used_memory(client) - first) / made}
        out["redis"] = key_bytes(client, ids)
        client.close()

        def cpu() -> float:  # the replica's processes and Redis
            return server.cpu_seconds() + red.cpu_seconds()

        out["steps"] = {p: step_rate(server, cpu, p, steps) for p in ("digits-cnn", "memory-lstm")}
        with httpx.Client(base_url=server.url, trust_env=False, timeout=120) as c:
            sid = c.post("/api/bp/sessions", json=bp).json()["id"]
            stream(c, sid, {"epochs": 1, "batch_size": 32})  # starts the training process
        out["training"] = {
            kind: train_cost(server, cpu, kind, bp, epochs)
            for kind in ("bp", "memory-lstm", "memory-rnn", "digits-cnn")
        }
        out["trained"] = memory(server.pid)
    return out


# --- report ---------------------------------------------------------------------------


def table(c: dict[str, Any], r: dict[str, Any], args: argparse.Namespace) -> list[tuple[str, str]]:
    def mem(m: dict[str, Any]) -> str:
        return (f"{m['rss_mb']:.0f} MB RSS, {m['pss_mb']:.0f} MB PSS "
                f"(processes: {', '.join(f'{x:.0f}' for x in m['processes'])} MB)")  # fmt: skip

    def per_gib(b: float) -> str:
        return f"{b / 1000:.1f} kB: {GIB / b:,.0f} sessions per GiB"

    sq, red = c["sqlite"], r["redis"]
    blob = ", ".join(f"{k} {v / 1000:.1f} kB" for k, v in sq["blob"].items())
    rows = [
        (ROWS[0], mem(c["idle"])),
        (ROWS[1], f"{mem(c['live'])}, {c['sessions']} sessions"),
        (ROWS[2], mem(r["idle"])),
        (ROWS[3], f"{mem(r['trained'])}, {r['redis_all']['sessions']} sessions"),
        *((f"Redis per session: {k}", per_gib(v["bytes"])) for k, v in red.items()),
        (ROWS[7], f"{per_gib(r['redis_all']['bytes'])} (used_memory's growth / sessions)"),
        (
            ROWS[8],
            f"{sq['per_session'] / 1000:.1f} kB of file ({sq['rows']} sessions; "
            f"the stored state: {blob})",
        ),
        *(
            (f"steps per CPU-second: {p}", f"{v:.0f} ({1000 / v:.1f} ms of CPU a step)")
            for p, v in r["steps"].items()
        ),
    ]
    names = {
        "bp": f"training: BP page Train ({args.bp_epochs} epochs + boundaries)",
        "memory-lstm": f"{ROWS[12]} ({args.rnn_epochs} epochs)",
        "memory-rnn": f"{ROWS[13]} ({args.rnn_epochs} epochs)",
        "digits-cnn": f"{ROWS[14]}: {args.cnn_iterations} iterations x {CNN_BATCH}",
    }
    for kind, t in r["training"].items():
        rows.append((names[kind], f"{t['cpu_s']:.2f} CPU-s, {t['wall_s']:.2f} s wall"))
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.sizing", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--sessions", type=int, default=300, help="sessions of the mix, per part")
    p.add_argument("--steps", type=int, default=400, help="single steps timed per preset")
    p.add_argument("--bp-epochs", type=int, default=20, help="the BP page's epochs (20)")
    p.add_argument("--rnn-epochs", type=int, default=3, help="the RNN page's epochs (3)")
    p.add_argument("--cnn-iterations", type=int, default=5000,
                   help="digits-cnn's training (5000: GLASSBOX_LIMIT_MAX_ITERATIONS)")  # fmt: skip
    p.add_argument("--json", type=Path, help="write the numbers here too")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    c = container(args.sessions)
    r = replica(args.sessions, args.steps, (args.bp_epochs, args.rnn_epochs, args.cnn_iterations))
    rows = table(c, r, args)
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}} | value")
    print(f"{'-' * width}-|------")
    for k, v in rows:
        print(f"{k:<{width}} | {v}")
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"container": c, "replica": r}, indent=1))


if __name__ == "__main__":
    main()
