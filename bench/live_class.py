"""A live class: the teacher steps, N followers' streams get each step (issue 18).

    python -m bench.live_class [--followers 300] [--steps 30] [--workers 2]
                               [--store sqlite|redis] [--replicas 2] [--url http://...]

Starts the app as `scripts/run` does by default (bench.api.serve: `--workers` uvicorn
workers, the SQLite store in a temporary data dir) on a free loopback port; with
`--store redis`, bench.replicas' cluster instead: its own redis-server, `--replicas`
app servers (`--workers` each, default 1) and nginx in front with
deploy/nginx-replicas.conf.template. Or drives the server at `--url`.

The teacher creates a class (POST /api/classes); `--followers` students join (POST
.../students) and each opens the event stream as a page's EventSource does (GET
.../events?token=...&mode=follow: one raw HTTP/1.1 connection each, read by one
asyncio loop, so the client stays light; its CPU is printed). Which worker holds
each stream is read from /proc (the sockets of each server process) when the bench
started the server. Then the teacher steps `--steps` times, `--pace` seconds apart
(seeded), with PUT .../view, polling GET .../tally once a second meanwhile as the
teacher's page does. For each (step, follower): the time from just before the PUT
was sent to the arrival of the state with that step's seq. A follower may skip a
state only for a newer one (the stream coalesces): that pair counts as "coalesced"
and its time is the newer state's arrival; a follower that never got the step or a
newer one counts as "missed". Then a question round: the teacher asks a "choice"
question, every follower answers (POST .../answers, all at once), the teacher
reveals; the ask's and the reveal's delivery are timed the same way. Ending the class
must end every stream.

Prints p50/p90/p99/max (ms, client side) and PASS/FAIL against the target (step p99
< 500 ms). Not a test (tests/test_bench_live_class.py runs a tiny class).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench import procfs
from bench.api import serve
from bench.live_followers import Follower, delays, delivered, listen, summary

TARGET_P99_MS = 500.0
JSON = {"Content-Type": "application/json"}


@dataclass
class Target:
    """What the bench drives: a base URL and the processes to watch (if started here)."""

    url: str
    servers: list[Any]  # bench.api.Server of each app server (empty with --url)
    cpu: Any = None  # () -> CPU seconds of every server-side process so far
    proxied: bool = False  # behind nginx (the replicas' connections come from it)


def server_ms(target: Target, route: str, method: str) -> str | None:
    """Where the server's own p50 and p99 of a route fall (its /metrics request-duration
    histogram, every server summed: arrival in the app to the last byte)."""
    from bench.replicas import server_side

    if not target.servers:
        return None
    buckets: dict[float, float] = {}
    want = (f'route="{route}"', f'method="{method}"')
    for server in target.servers:
        text = httpx.get(f"{server.url}/metrics", trust_env=False, timeout=10).text
        for line in text.splitlines():
            if line.startswith("glassbox_http_request_duration_seconds_bucket{") and all(
                w in line for w in want
            ):
                le = float(line.split('le="', 1)[1].split('"', 1)[0])
                buckets[le] = buckets.get(le, 0.0) + float(line.rsplit(" ", 1)[1])
    return server_side(buckets)


def spread(target: Target, followers: list[Follower]) -> dict[str, list[int]] | None:
    """The server process holding each follower's stream, from /proc (the process
    owning the other end of its connection): {process: [follower's index, ...]}; behind
    nginx, {replica: [connections from nginx]} (streams plus idle keep-alive ones,
    which cannot be told apart); None if not known."""
    if not target.servers:
        return None
    index = {f.port: i for i, f in enumerate(followers) if f.port}
    proxied = target.proxied
    inodes: dict[str, tuple[int, int]] = {}  # socket inode -> (local port, remote port)
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(name).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "01":  # ESTABLISHED
                local, remote = (int(a.rsplit(":", 1)[1], 16) for a in parts[1:3])
                inodes[parts[9]] = (local, remote)
    out: dict[str, list[int]] = {}
    for i, server in enumerate(target.servers):
        listen = urlsplit(server.url).port
        for pid in procfs.tree(server.pid):
            held: list[int] = []
            try:
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    link = os.readlink(fd)
                    if link.startswith("socket:["):
                        local, remote = inodes.get(link[8:-1], (0, 0))
                        if local == listen and (proxied or remote in index):
                            held.append(index.get(remote, -1) if not proxied else -1)
            except OSError:
                continue
            if held:
                out[f"replica {i + 1} pid {pid}" if proxied else f"worker pid {pid}"] = held
    return out


async def tally_poll(c: httpx.AsyncClient, path: str, auth: dict[str, str], ms: list[float],
                     seen: list[int], stop: asyncio.Event) -> None:  # fmt: skip
    while not stop.is_set():
        t0 = time.perf_counter()
        r = await c.get(path, headers=auth)
        if r.status_code == 200:
            ms.append((time.perf_counter() - t0) * 1e3)
            seen.append(r.json()["following"])
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, 1.0 - (time.perf_counter() - t0)))


async def bounded(n: int, jobs: list[Any]) -> list[Any]:
    """Run the coroutines `n` at a time."""
    gate = asyncio.Semaphore(n)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


async def drive(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    n = args.followers
    limits = httpx.Limits(max_connections=n + 16, max_keepalive_connections=n + 16)
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=target.url, limits=limits, timeout=60,
                                 trust_env=False, headers=JSON) as c:  # fmt: skip
        view = {"page": "convolution", "query": "k=3&p=1", "frame": 0, "cell": None,
                "present": False}  # fmt: skip
        made = (await c.post("/api/classes", json={"view": view})).raise_for_status().json()
        code, auth = made["code"], {"Authorization": f"Bearer {made['teacher_token']}"}
        base = f"/api/classes/{code}"

        async def join(i: int) -> Follower:
            r = await c.post(f"{base}/students", json={"nickname": f"s{i}"})
            return Follower(r.raise_for_status().json()["student_token"])

        t0 = time.perf_counter()
        followers = await bounded(32, [join(i) for i in range(n)])
        out["join_s"] = time.perf_counter() - t0
        opened = [asyncio.Event() for _ in followers]
        t0 = time.perf_counter()
        streams = [asyncio.ensure_future(listen(
            target.url, f"{base}/events?token={f.token}&mode=follow", f, e))
            for f, e in zip(followers, opened, strict=True)]  # fmt: skip
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in opened)), 60)
        out["open_s"] = time.perf_counter() - t0
        out["connected"] = sum(1 for f in followers if f.got)
        owners = spread(target, followers)
        out["spread"] = {k: len(v) for k, v in owners.items()} if owners is not None else None

        # The teacher steps; the teacher's page polls the tally meanwhile.
        tally_ms: list[float] = []
        following: list[int] = []
        stop = asyncio.Event()
        poll = asyncio.ensure_future(tally_poll(c, f"{base}/tally", auth, tally_ms,
                                                following, stop))  # fmt: skip
        sent: list[tuple[int, float]] = []
        put_ms: list[float] = []
        cpu0, w0 = time.process_time(), time.perf_counter()
        for k in range(args.steps):
            step = {**view, "frame": k + 1}
            t0 = time.perf_counter()
            r = await c.put(f"{base}/view", json=step, headers=auth)
            put_ms.append((time.perf_counter() - t0) * 1e3)
            sent.append((int(r.raise_for_status().json()["seq"]), t0))
            await asyncio.sleep(rng.uniform(*args.pace))
        await delivered(followers, sent[-1][0], 10)
        stop.set()
        await poll
        out["steps"] = delays(followers, sent)
        if owners and not target.proxied:  # behind nginx a stream's replica is not known
            out["steps_by_process"] = {k: delays([followers[i] for i in v], sent)
                                       for k, v in owners.items()}  # fmt: skip
        out["client_cpu_steps"] = (time.process_time() - cpu0) / (time.perf_counter() - w0)
        out["put_ms"], out["tally_ms"] = summary(put_ms), summary(tally_ms)
        out["tally_following"] = following[-1] if following else None
        if not args.no_question:
            out["question"] = await question(c, base, auth, followers)

        t0 = time.perf_counter()
        (await c.delete(base, headers=auth)).raise_for_status()
        _, late = await asyncio.wait(streams, timeout=15)
        for s in late:
            s.cancel()
        out["end_s"] = time.perf_counter() - t0
        out["ended"] = sum(1 for f in followers if f.ended)
        out["errors"] = sorted({f.error for f in followers if f.error})
        out["followers_got_all"] = [all(max(f.got, default=-1) >= s for s, _ in sent)
                                    for f in followers].count(True)  # fmt: skip
    route = "/api/classes/{code}"
    out["server"] = {"PUT view": server_ms(target, f"{route}/view", "PUT"),
                     "POST answers": server_ms(target, f"{route}/questions/{{qid}}/answers",
                                               "POST")}  # fmt: skip
    return out


async def question(c: httpx.AsyncClient, base: str, auth: dict[str, str],
                   followers: list[Follower]) -> dict[str, Any]:  # fmt: skip
    """Ask a choice question, every follower answers, reveal: delivery and answer times."""
    rules = (await c.get("/api/rules")).json()["lab"]
    lab = {"surface": rules["default_surface"], "start": [-1.5, 1.0], "steps": 50,
           "run": {"optimizer": "sgd", "lr": 0.1}}  # fmt: skip
    t0 = time.perf_counter()
    r = await c.post(f"{base}/questions", json={"kind": "choice", "lab": lab}, headers=auth)
    state = r.raise_for_status().json()
    q = state["question"]
    await delivered(followers, state["seq"], 10)
    ask = delays(followers, [(state["seq"], t0)])
    answer_ms: list[float] = []
    choices = q["choices"]

    async def answer(i: int, f: Follower) -> int:
        t = time.perf_counter()
        r = await c.post(f"{base}/questions/{q['id']}/answers",
                         json={"choice": choices[i % len(choices)]},
                         headers={"Authorization": f"Bearer {f.token}"})  # fmt: skip
        answer_ms.append((time.perf_counter() - t) * 1e3)
        return r.status_code

    t0, cpu0 = time.perf_counter(), time.process_time()
    codes = await asyncio.gather(*(answer(i, f) for i, f in enumerate(followers)))
    answers_s = time.perf_counter() - t0
    answers_cpu = (time.process_time() - cpu0) / answers_s
    total = (await c.get(f"{base}/tally", headers=auth)).json()["question"]["total"]
    t0 = time.perf_counter()
    r = await c.post(f"{base}/questions/{q['id']}/reveal", json={}, headers=auth)
    seq = int(r.raise_for_status().json()["seq"])
    await delivered(followers, seq, 10)
    reveal = delays(followers, [(seq, t0)])
    return {"ask": ask, "answers": summary(answer_ms), "answers_202": codes.count(202),
            "answers_s": answers_s, "client_cpu_answers": answers_cpu,
            "tally_total": total, "reveal": reveal}  # fmt: skip


@contextmanager
def target(args: argparse.Namespace) -> Iterator[Target]:
    extra = dict(kv.split("=", 1) for kv in args.env)
    if args.url:
        yield Target(args.url.rstrip("/"), [])
    elif args.store == "redis":
        from bench.replicas import cluster

        with cluster(args.replicas, args.workers or 1, extra) as cl:
            yield Target(cl.proxy.url, cl.replicas, cl.cpu_seconds, proxied=True)
    else:
        with serve(args.workers or 2, env=extra) as server:
            yield Target(server.url, [server], server.cpu_seconds)


def ms_row(name: str, r: dict[str, Any]) -> str:
    if not r.get("pairs", r.get("n")):
        return f"{name:28} (nothing measured)"
    n = r.get("pairs", r.get("n"))
    p90 = f"{r['p90']:8.1f}" if "p90" in r else f"{'-':>8}"
    return f"{name:28} {n:6d} {r['p50']:8.1f} {p90} {r['p99']:8.1f} {r['max']:8.1f}"


def show(res: dict[str, Any]) -> None:
    cfg, m = res["config"], res["machine"]
    print("config: " + ", ".join(f"{k}={v}" for k, v in cfg.items()))
    load = " ".join(f"{x:.2f}" for x in m["load_before"])
    after = " ".join(f"{x:.2f}" for x in m["load_after"])
    print(f"machine: {m['cpus']} CPUs, load average {load} before, {after} after")
    print(f"joined {cfg['followers']} in {res['join_s']:.1f} s; {res['connected']} streams "
          f"open in {res['open_s']:.1f} s; by server process: {res['spread']}")  # fmt: skip
    if res["spread"] is not None and len(res["spread"]) < (cfg["workers"] or 1) * cfg["replicas"]:
        print("  (not spread over every server process: the rest had none)")
    wall, cpu = res["wall_s"], res["server_cpu_s"]
    print(f"server CPU {cpu:.1f} s = {cpu / wall:.0%} of a core over {wall:.1f} s; this "
          f"client {res['client_cpu_s'] / wall:.0%} of a core, "
          f"{res['client_cpu_steps']:.0%} while stepping (it shares the machine)")  # fmt: skip
    print(f"{'ms (client side)':28} {'n':>6} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    s = res["steps"]
    print(ms_row("step -> follower", s))
    for name, r in res.get("steps_by_process", {}).items():
        print(ms_row(f"  on {name}", r))
    print(ms_row("PUT .../view", res["put_ms"]))
    print(ms_row("GET .../tally (1/s)", res["tally_ms"]))
    q = res.get("question")
    if q:
        print(ms_row("question -> follower", q["ask"]))
        print(ms_row("POST .../answers", q["answers"]))
        print(ms_row("reveal -> follower", q["reveal"]))
        print(f"answers: {q['answers_202']} accepted (202) in {q['answers_s']:.1f} s, all "
              f"sent at once (this client: {q['client_cpu_answers']:.0%} of a core meanwhile); "
              f"the tally counted "
              f"{q['tally_total']}; reveal missed {q['reveal']['missed']}")  # fmt: skip
    for route, where in (res["server"] or {}).items():
        if where:
            print(f"server's own timer (/metrics), {route}: {where}")
    print(f"steps: {s['missed']} missed, {s['coalesced']} coalesced (a newer state came "
          f"instead); the tally's last count following: {res['tally_following']}")  # fmt: skip
    print(f"end: {res['ended']} of {cfg['followers']} streams ended in {res['end_s']:.1f} s; "
          f"errors: {res['errors'] or 0}")  # fmt: skip
    ok = s.get("p99", float("inf")) < TARGET_P99_MS and s["missed"] == 0
    print(f"target: step p99 < {TARGET_P99_MS:.0f} ms, none missed: "
          f"{'PASS' if ok else 'FAIL'} (p99 {s.get('p99', float('nan')):.1f} ms)")  # fmt: skip


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--followers", type=int, default=300, help="students, each with its "
                   "event stream open (300)")  # fmt: skip
    p.add_argument("--steps", type=int, default=30, help="the teacher's PUT .../view (30)")
    p.add_argument("--pace", type=float, nargs=2, default=(0.5, 1.0), metavar=("LO", "HI"),
                   help="seconds between steps (uniform, seeded)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--store", choices=("sqlite", "redis"), default="sqlite")
    p.add_argument("--replicas", type=int, default=2, help="with --store redis, behind nginx")
    p.add_argument("--workers", type=int, help="uvicorn workers (a replica's; default: 2 "
                   "with SQLite as scripts/run, 1 a replica with Redis)")  # fmt: skip
    p.add_argument("--url", help="a running server instead of starting one")
    p.add_argument("--no-question", action="store_true", help="skip the question round")
    p.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    p.add_argument("--json", type=Path, help="also write the results here")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    load = os.getloadavg()
    with target(args) as t:
        cpu0 = t.cpu() if t.cpu else float("nan")
        w0, mine = time.monotonic(), time.process_time()
        res = asyncio.run(drive(t, args))
        res["wall_s"] = time.monotonic() - w0
        res["client_cpu_s"] = time.process_time() - mine
        res["server_cpu_s"] = (t.cpu() - cpu0) if t.cpu else float("nan")
    workers = args.workers or (1 if args.store == "redis" else 2)
    res["config"] = {"followers": args.followers, "steps": args.steps, "pace": list(args.pace),
                     "seed": args.seed, "url": args.url or t.url,
                     "store": "external" if args.url else args.store,
                     "replicas": args.replicas if args.store == "redis" else 1,
                     "workers": None if args.url else workers}  # fmt: skip
    res["machine"] = {"cpus": os.cpu_count(), "load_before": load, "load_after": os.getloadavg()}
    res["target_p99_ms"] = TARGET_P99_MS
    show(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
