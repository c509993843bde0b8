import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from app.store.base import SessionStore
from app.store.redis import RedisStore
from app.store.sqlite import SQLiteStore

BACKENDS = ["sqlite", "redis"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port for the whole test session."""
    exe = shutil.which("redis-server")
    if exe is None:
        # A failure, not a skip: the Redis backend must not go untested unnoticed.
        pytest.fail("redis-server is not on PATH: run scripts/setup --dev to install it")
    workdir = tmp_path_factory.mktemp("redis")
    log = workdir / "redis.log"
    port = _free_port()
    cmd = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    cmd += ["--dir", str(workdir), "--logfile", str(log)]
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.fail(f"redis-server exited with {proc.returncode}: {_tail(log)}")
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"redis-server did not answer PING within 10 s: {_tail(log)}")
            time.sleep(0.05)
        yield url
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


StoreFactory = Callable[..., SessionStore]


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Build stores of the parametrised backend, all on the same (fresh) data."""
    made: list[SessionStore] = []
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        with redis.Redis.from_url(url) as client:
            client.flushdb()

        def make(ttl_seconds: int = 3600, max_sessions: int = 1000) -> SessionStore:
            made.append(RedisStore(url, ttl_seconds, max_sessions))
            return made[-1]
    else:
        path = tmp_path / "db" / "sessions.db"

        def make(ttl_seconds: int = 3600, max_sessions: int = 1000) -> SessionStore:
            made.append(SQLiteStore(path, ttl_seconds, max_sessions))
            return made[-1]

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> SessionStore:
    return make_store()
