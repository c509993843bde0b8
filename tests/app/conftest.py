import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.lessons_support import Sessions
from tests.processes import free_port, stop


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Defaults, with the SQLite session store in a fresh temporary directory; no
    warm-up (it builds every preset, 0.1 s per app, and this app is made for each of
    hundreds of tests; tests/app/test_warm_up.py checks it)."""
    return Settings(data_dir=tmp_path, warm_up=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port for the whole test session
    (database 0; tests that need their own database use another number)."""
    exe = shutil.which("redis-server")
    if exe is None:
        # A failure, not a skip: the Redis backend must not go untested unnoticed.
        pytest.fail("redis-server is not on PATH: run scripts/setup --dev to install it")
    workdir = tmp_path_factory.mktemp("redis")
    log = workdir / "redis.log"
    port = free_port()
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
        stop(proc, timeout=5)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


# --- the guided lessons' API tests (test_api_lessons*.py, tests/app/lessons_support.py)


@pytest.fixture(scope="module")
def lessons_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("lessons")
    with TestClient(create_app(Settings(data_dir=data, warm_up=False))) as c:
        yield c


@pytest.fixture(scope="module")
def lessons(lessons_api: TestClient) -> dict[str, Any]:
    r = lessons_api.get("/api/lessons")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def listed(lessons: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every task GET /api/lessons lists, by id."""
    return {x["id"]: x for tasks in lessons["topics"].values() for x in tasks}


@pytest.fixture(scope="module")
def page_sessions(lessons_api: TestClient) -> Sessions:
    return Sessions(lessons_api)
