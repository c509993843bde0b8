"""Helpers for tests and benchmarks that run real servers on this machine."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for loopback


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Terminate a server process, and kill it if it does not exit in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until_up(
    proc: subprocess.Popen[Any],
    port: int,
    seconds: float = 30,
    path: str | None = None,
    log: Path | None = None,
) -> None:
    """Wait until the server `proc` started accepts connections on `port` of loopback
    (or, with `path`, answers GET `path` with a 200); RuntimeError, with the end of its
    `log`, if it exits first or takes longer than `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if path is None:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            with DIRECT.open(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:  # refused, reset, timed out, or an HTTP error status
            pass
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: {tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start within {seconds:g} s: {tail}")
        time.sleep(0.1)


@contextmanager
def app_server(
    tmp: Path, env: dict[str, str] | None = None, address_space_mb: int | None = None
) -> Iterator[str]:
    """The app in its own `uvicorn app.main:app` process on a free loopback port, with a
    fresh data dir under `tmp` and `env` on top of this process's environment; yields
    its base URL once the port accepts connections (RuntimeError if it exits first or
    does not within 30 s). `address_space_mb`: the server's (and its children's)
    RLIMIT_AS, so a request that tries to take more memory fails there."""
    port = free_port()
    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    full = {**os.environ, "GLASSBOX_DATA_DIR": str(data), **(env or {})}
    log = (tmp / "uvicorn.log").open("w")
    # as scripts/serve runs it: no `server: uvicorn` header
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    cmd.append("--no-server-header")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT)
    if address_space_mb is not None:  # before it accepts a request; its children inherit it
        limit = address_space_mb << 20
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (limit, limit))
    try:
        wait_until_up(proc, port, log=tmp / "uvicorn.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()
