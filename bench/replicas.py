"""The classroom benchmark against N replicas sharing Redis, behind nginx.

    python -m bench.replicas [--replicas 2] [--workers 1] [classroom options]

Starts, all on loopback ports and in temporary directories: a redis-server of its
own (no persistence), `--replicas` copies of the app (bench.api.serve, as
scripts/serve runs it: `--workers` uvicorn workers each, one BLAS thread per worker,
its own data and metrics dir, GLASSBOX_STORE=redis://...), and nginx in front of
them with deploy/nginx-replicas.conf.template (a session's requests hashed to one
replica by its id). Then runs bench.classroom against nginx's URL with the other
options (`--students`, `--trainings`, `--seconds`, ... see `python -m
bench.classroom --help`), prints its table, the share of steps and CPU each replica
took, and stops everything. Needs redis-server and nginx on PATH (`apt-get install
redis-server nginx`); installs nothing. Not a test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from bench import classroom
from bench.api import ROOT, Server, serve
from tests.processes import free_port, stop

TEMPLATE = ROOT / "deploy" / "nginx-replicas.conf.template"
REPLICA_HEADER = "X-Glassbox-Upstream"  # added by the bench's nginx, not by the app


def need(exe: str, package: str) -> str:
    """The path of `exe`, or SystemExit saying how to install it."""
    path = shutil.which(exe) or shutil.which(exe, path="/usr/sbin:/usr/local/sbin")
    if path is None:
        raise SystemExit(f"{exe} is not installed: apt-get install -y {package} (bench.replicas"
                         " and its test need it; nothing installs it for you)")  # fmt: skip
    return path


def _wait(proc: subprocess.Popen[bytes], ready: Callable[[], bool], log: Path, what: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        if proc.poll() is not None:
            text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {text}")
        try:
            if ready():
                return
        except (OSError, httpx.TransportError, redis.RedisError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready within 15 s")
        time.sleep(0.05)


@contextmanager
def redis_server(tmp: Path) -> Iterator[Server]:
    """A redis-server of its own on a free loopback port (no persistence); yields its
    redis:// URL (database 0) once it answers PING."""
    exe = need("redis-server", "redis-server")
    log, port = tmp / "redis.log", free_port()
    cmd = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
           "no", "--dir", str(tmp), "--logfile", str(log)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        _wait(proc, lambda: bool(client.ping()), log, "redis-server")
        yield Server(url, log, proc.pid)
    finally:
        client.close()
        stop(proc, timeout=5)


def render(upstreams: list[str], listen: str) -> str:
    """deploy/nginx-replicas.conf.template with its two placeholders filled in, as
    envsubst does in production."""
    servers = " ".join(f"server {u.removeprefix('http://')};" for u in upstreams)
    text = TEMPLATE.read_text()
    for key in ("${GLASSBOX_UPSTREAMS}", "${GLASSBOX_LISTEN}"):
        if key not in text:
            raise RuntimeError(f"{TEMPLATE.name} lost its placeholder {key}")
    return text.replace("${GLASSBOX_UPSTREAMS}", servers).replace("${GLASSBOX_LISTEN}", listen)


@contextmanager
def nginx_proxy(tmp: Path, upstreams: list[str], workers: int = 1) -> Iterator[Server]:
    """nginx in front of `upstreams` (base URLs) on a free loopback port, with the
    rendered template included in a minimal nginx.conf of its own prefix directory
    (pid file, error log, temp dirs; no access log). Every response carries
    X-Glassbox-Upstream, the replica that answered (this wrapper adds it, the
    template does not: a deployment need not show its addresses)."""
    exe = need("nginx", "nginx")
    prefix = tmp / "nginx"
    prefix.mkdir()
    prefix.chmod(0o755)  # run as root, nginx's workers are `nobody`: they must get in
    port = free_port()
    (prefix / "glassbox.conf").write_text(render(upstreams, f"127.0.0.1:{port}"))
    temps = "".join(f"  {kind}_temp_path {prefix}/{kind}_temp;\n"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"worker_processes {workers};\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n  access_log off;\n{temps}"
        f"  add_header {REPLICA_HEADER} $upstream_addr always;\n"
        f"  include {prefix}/glassbox.conf;\n}}\n"
    )
    log = prefix / "error.log"
    cmd = [exe, "-p", str(prefix), "-e", str(log), "-c", str(conf), "-g", "daemon off;"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, trust_env=False, timeout=1.0) as c:
            _wait(proc, lambda: c.get("/healthz").status_code == 200, log, "nginx")
        yield Server(url, log, proc.pid)
    finally:
        stop(proc, timeout=10)


@dataclass
class Cluster:
    proxy: Server
    redis: Server
    replicas: list[Server]

    def cpu_seconds(self) -> float:
        """CPU seconds of every server-side process so far: replicas, Redis, nginx."""
        parts = [s.cpu_seconds() for s in self.replicas]
        return sum(parts) + self.redis.cpu_seconds() + self.proxy.cpu_seconds()


@contextmanager
def cluster(replicas: int, workers: int, env: dict[str, str] | None = None,
            app: str = "app.main:app") -> Iterator[Cluster]:  # fmt: skip
    """redis-server, `replicas` app servers on it and nginx in front, all stopped on exit."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="glassbox-replicas-")))
        red = stack.enter_context(redis_server(tmp))
        servers = [
            stack.enter_context(serve(workers, store=red.url, env=env, app=app, args=()))
            for _ in range(replicas)
        ]
        proxy = stack.enter_context(nginx_proxy(tmp, [s.url for s in servers]))
        yield Cluster(proxy, red, servers)


def steps_run(url: str) -> float:
    """glassbox_steps_total of one replica (all phases), from its own /metrics."""
    text = httpx.get(f"{url}/metrics", trust_env=False, timeout=10).text
    return sum(float(m) for m in re.findall(r"^glassbox_steps_total\{[^}]*\} (\S+)$", text, re.M))


def step_buckets(url: str) -> dict[float, float]:
    """One replica's POST /steps count by upper bound (s), from its request-duration
    histogram: arrival in the app to the end of the response (cumulative, as exposed)."""
    text = httpx.get(f"{url}/metrics", trust_env=False, timeout=10).text
    out: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith("glassbox_http_request_duration_seconds_bucket{") and (
            'route="/api/sessions/{sid}/steps"' in line and 'method="POST"' in line
        ):
            le = re.search(r'le="([^"]+)"', line)
            if le:
                key = float(le.group(1))  # "+Inf" -> inf
                out[key] = out.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def server_side(buckets: dict[float, float]) -> str:
    """Where the replicas' own step p50 and p99 fall, and the share within 50 ms."""
    total = buckets.get(float("inf"), 0.0)
    if not total:
        return "no step in the replicas' histograms"
    edges = sorted(buckets)

    def where(q: float) -> str:
        low = 0.0
        for le in edges:
            if buckets[le] >= q * total:
                return f"{low * 1e3:g}-{le * 1e3:g} ms"
            low = le
        return "?"

    within = buckets.get(0.05, float("nan")) / total
    return f"p50 in {where(0.5)}, p99 in {where(0.99)}, {within:.1%} within 50 ms"


def redis_memory(url: str) -> dict[str, float]:
    """Sessions in Redis and the memory it uses (INFO memory: used_memory)."""
    r = redis.Redis.from_url(url)
    try:
        used = float(r.info("memory")["used_memory"])
        return {"sessions": float(r.zcard("glassbox:sessions")), "used_mb": used / 1e6}
    finally:
        r.close()


def main(argv: list[str] | None = None) -> None:
    p = classroom.parser()
    p.description = __doc__.split("\n\n")[0] + " (--workers: per replica)"
    p.add_argument("--replicas", type=int, default=2, help="app servers behind nginx")
    p.set_defaults(workers=1)
    args = p.parse_args(argv)
    if args.url:
        raise SystemExit("bench.replicas starts its own servers: --url is bench.classroom's")
    need("redis-server", "redis-server")
    need("nginx", "nginx")
    extra = dict(kv.split("=", 1) for kv in args.env)
    load = os.getloadavg()
    with cluster(args.replicas, args.workers, extra, args.app) as c:
        cpu0 = [s.cpu_seconds() for s in c.replicas]
        side0 = (c.redis.cpu_seconds(), c.proxy.cpu_seconds())
        res = classroom.measure(args, c.proxy.url, c.cpu_seconds, load)
        cpu = [s.cpu_seconds() - c0 for s, c0 in zip(c.replicas, cpu0, strict=True)]
        side = (c.redis.cpu_seconds() - side0[0], c.proxy.cpu_seconds() - side0[1])
        steps = [steps_run(s.url) for s in c.replicas]
        hist: dict[float, float] = {}
        for s in c.replicas:
            for le, n in step_buckets(s.url).items():
                hist[le] = hist.get(le, 0.0) + n
        res["server_steps"] = server_side(hist)
        res["redis"] = redis_memory(c.redis.url)
    res["config"].update(workers=args.workers, replicas=args.replicas,
                         store="redis (its own redis-server)", proxy="nginx, hash by session id",
                         url=f"{res['config']['url']} (nginx)")  # fmt: skip
    res["replicas"] = [{"steps": n, "cpu_s": t} for n, t in zip(steps, cpu, strict=True)]
    res["redis_cpu_s"], res["nginx_cpu_s"] = side
    classroom.show(res, args.by_cursor)
    wall = res["wall_s"]
    for i, r in enumerate(res["replicas"]):
        print(f"replica {i + 1}: {r['steps']:.0f} steps run, CPU {r['cpu_s']:.1f} s = "
              f"{r['cpu_s'] / wall:.0%} of a core")  # fmt: skip
    print(f"redis-server: CPU {side[0]:.1f} s = {side[0] / wall:.0%} of a core; "
          f"nginx: CPU {side[1]:.1f} s = {side[1] / wall:.0%} of a core")  # fmt: skip
    print(f"step, the replicas' own timer (/metrics, arrival in the app to the last byte): "
          f"{res['server_steps']}")  # fmt: skip
    mem = res["redis"]
    per = mem["used_mb"] * 1e3 / mem["sessions"] if mem["sessions"] else float("nan")
    print(f"redis: {mem['sessions']:.0f} sessions, {mem['used_mb']:.1f} MB used "
          f"(about {per:.0f} kB a session, the server's own ~1 MB included)")  # fmt: skip
    if args.json:
        import json

        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
