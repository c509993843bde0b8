"""The Dockerfile for a class, checked without a Docker daemon (there is none here):
what it copies exists and is all the wheel needs, the build context leaves out what
does not run, and its health check and start command, taken from the Dockerfile as
Docker reads them, do what they say against real servers on this machine.
(hadolint runs on it in tests/test_dockerfile.py.)"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, app_server, free_port, stop

DOCKERFILE = ROOT / "Dockerfile"
VENV_BIN = Path(sys.executable).parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined and
    comments dropped, as Docker's parser does."""
    out, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        if raw.lstrip().startswith("#") or (not current and not raw.strip()):
            continue
        if raw.endswith("\\"):
            current += raw[:-1]
            continue
        word, _, rest = (current + raw).strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for word, rest in instructions():
        if word == "FROM":
            found.append([])
        found[-1].append((word, rest))
    return found


def ignored() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [p.strip() for p in lines if p.strip() and not p.startswith("#")]


def excluded(path: str) -> bool:
    """Whether .dockerignore keeps `path` (or a folder above it) out of the context."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in ignored():
        if pattern.startswith("**/"):  # at any depth: a folder or file of that name
            if any(fnmatch.fnmatch(p, pattern[3:]) for p in parts):
                return True
        elif any(fnmatch.fnmatch(p, pattern) for p in prefixes):
            return True
    return False


def copies(stage: list[tuple[str, str]]) -> list[str]:
    """The build-context sources a stage COPYs (not those from another stage)."""
    out = []
    for word, rest in stage:
        if word == "COPY" and "--from=" not in rest:
            out += rest.split()[:-1]
    return out


def env() -> dict[str, str]:
    """The final image's ENV."""
    found = {}
    for word, rest in stages()[-1]:
        if word == "ENV":
            for pair in rest.split():
                key, _, value = pair.partition("=")
                found[key] = value
    return found


def test_the_context_leaves_out_what_does_not_run():
    for path in ("tests", "bench", "docs", "node_modules", ".git", ".venv", "data",
                 "artifacts", "deploy/certs", "app/__pycache__", "compose.yaml"):  # fmt: skip
        assert excluded(path), f".dockerignore lets {path} into the build context"


def test_every_copied_path_exists_and_is_in_the_context():
    sources = [s for stage in stages() for s in copies(stage)]
    assert "." not in sources and "tests" not in sources
    for source in sources:
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is missing"
        assert not excluded(source), f"the Dockerfile copies {source}, which .dockerignore drops"


def test_the_image_is_pinned_layered_and_keeps_its_data():
    images = [rest.split()[0] for word, rest in instructions() if word == "FROM"]
    assert all(":" in i and i.split(":")[1][0].isdigit() for i in images), images
    assert len(set(images)) == 1, "both stages on the same base"
    final = stages()[-1]
    runs = [rest for word, rest in final if word == "RUN"]
    lock = next(i for i, r in enumerate(runs) if "--require-hashes -r" in r)
    wheel = next(i for i, r in enumerate(runs) if "--no-deps /tmp/wheels/" in r)
    assert lock < wheel, "the dependencies' layer comes before the code's"
    facts = dict(final)
    assert facts["USER"] == "10001:0"
    assert json.loads(facts["VOLUME"]) == [env()["GLASSBOX_DATA_DIR"]] == ["/app/data"]
    assert facts["STOPSIGNAL"] == "SIGTERM"
    assert facts["EXPOSE"] == env()["GLASSBOX_PORT"]
    assert "chmod 2775 /app/data" in " ".join(runs)  # group 0 may write it (any uid)


def test_the_wheel_stage_builds_from_what_it_copies(tmp_path):
    """The wheel stage's COPYs into an empty folder, and its `pip wheel` run there
    (this venv's setuptools standing in for the base image's): it carries the
    pages, scripts, styles and catalogs, and no tests or benchmarks."""
    src = tmp_path / "src"
    src.mkdir()
    for source in copies(stages()[0]):
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, src / source,
                            ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        else:
            shutil.copy(ROOT / source, src / source)
    (run,) = [rest for word, rest in stages()[0] if word == "RUN"]
    cmd = run.split()
    assert cmd[:2] == ["pip", "wheel"] and "--no-build-isolation" in cmd
    cmd = [sys.executable, "-m", *cmd]
    cmd[cmd.index("--wheel-dir") + 1] = str(tmp_path / "wheels")
    done = subprocess.run(cmd, cwd=src, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "wheels").glob("glassbox-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for wanted in ("app/main.py", "app/static/js/train-stream.js", "app/templates/base.html",
                   "app/locales/zh-CN/core.json", "engine/data/digits.npz"):  # fmt: skip
        assert wanted in names, f"the wheel lacks {wanted}"
    assert not [n for n in names if n.startswith(("tests/", "bench/"))]


def _healthcheck() -> list[str]:
    (rest,) = [rest for word, rest in instructions() if word == "HEALTHCHECK"]
    options, _, command = rest.partition(" CMD ")
    assert "--interval" in options
    return json.loads(command)


def _check(env: dict[str, str]) -> int:
    cmd = _healthcheck()
    assert cmd[0] == "python"
    full = {**os.environ, **env, "http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "x"}
    return subprocess.run([sys.executable, *cmd[1:]], env=full, capture_output=True,
                          timeout=30).returncode  # fmt: skip


def test_the_health_check_asks_readiness_on_the_servers_host_and_port(tmp_path):
    """A proxy in the environment is not used: the check goes to the server itself."""
    with app_server(tmp_path, {"GLASSBOX_WARM_UP": "false"}) as url:
        port = url.rsplit(":", 1)[1]
        assert "/readyz" in _healthcheck()[-1]
        assert _check({"GLASSBOX_HOST": "0.0.0.0", "GLASSBOX_PORT": port}) == 0
        assert _check({"GLASSBOX_HOST": "127.0.0.1", "GLASSBOX_PORT": port}) == 0
        assert _check({"GLASSBOX_HOST": "0.0.0.0", "GLASSBOX_PORT": str(free_port())}) != 0


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """The image's CMD, run in an empty folder (as /app) with the image's ENV, its data
    folder and port swapped for a temporary one and a free one."""
    (word, rest) = [(w, r) for w, r in instructions() if w == "CMD"][-1]
    cmd = json.loads(rest)
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("GLASSBOX_")}
    full.update(env(), GLASSBOX_PORT=str(port), GLASSBOX_DATA_DIR=str(tmp_path / "data"),
                PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")  # fmt: skip
    full.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "cmd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=full, stdout=out, stderr=out)
        try:
            yield proc, f"http://127.0.0.1:{port}", log
        finally:
            stop(proc)


def test_the_start_command_serves_with_the_images_settings_and_stops_on_sigterm(started):
    proc, url, log = started
    deadline = time.monotonic() + 30
    while True:
        try:
            r = httpx.get(f"{url}/readyz", trust_env=False, timeout=2)
            break
        except httpx.TransportError:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    assert r.status_code == 200
    # The first worker may answer before the second has said it started: wait for both.
    workers = int(env()["GLASSBOX_WORKERS"])
    while log.read_text().count("Started server process") < workers and time.monotonic() < deadline:
        time.sleep(0.2)
    assert log.read_text().count("Started server process") == workers == 2
    assert (log.parent / "data" / "sessions.db").is_file()  # in GLASSBOX_DATA_DIR
    told = time.monotonic()
    proc.send_signal(signal.SIGTERM)  # STOPSIGNAL
    assert proc.wait(int(env()["GLASSBOX_STOP_GRACE_S"]) + 5) == 0
    assert time.monotonic() - told < 5
