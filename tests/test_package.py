"""The wheel, as `pip install .` makes it, serves Glassbox from any folder.

Built from a copy of the repository (so the build leaves nothing in the work tree),
installed into a fresh venv in a temporary folder and started with its `glassbox`
command from another, empty folder. The fresh venv reuses the dependencies already in
.venv (a .pth file names .venv's site-packages) to keep the test fast; Glassbox itself
comes from the wheel alone: .venv holds no copy of it (an editable install only maps
its packages to the work tree through a finder that the .pth file does not run).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from packaging.markers import Marker

from tests.processes import ROOT, free_port, stop, wait_until_up

# The bound on the installed environment (the runtime dependencies and Glassbox).
MAX_INSTALLED_MB = 250
# Not part of a source tree: left out when copying the repository (at its top only:
# engine/data is source).
NOT_SOURCE_TOP = {".git", ".venv", "node_modules", "data", "artifacts", "build", "dist",
                  ".hypothesis", ".mypy_cache", ".pytest_cache", ".ruff_cache"}  # fmt: skip


def _not_source(folder: str, names: list[str]) -> set[str]:
    top = NOT_SOURCE_TOP if Path(folder) == ROOT else set()
    return {n for n in names if n in top or n == "__pycache__" or n.endswith(".egg-info")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel .` builds from a copy of the repository (tests/ and bench/
    included in the copy: the build must leave them out by itself)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_not_source, symlinks=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
           "--no-index", "--quiet", "--wheel-dir", str(tmp / "dist"), str(src)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    (built,) = (tmp / "dist").glob("glassbox-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed, .venv's packages as its dependencies."""
    env_dir = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    (purelib,) = env_dir.glob("lib/python*/site-packages")
    deps = sysconfig.get_path("purelib")  # .venv's site-packages: no app/ nor engine/ there
    assert not (Path(deps) / "app").exists() and not (Path(deps) / "engine").exists()
    (purelib / "glassbox_test_deps.pth").write_text(deps + "\n")
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
           "--no-index", "--quiet", str(wheel)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return env_dir


def _clean_env() -> dict[str, str]:
    skip = ("GLASSBOX_", "PROMETHEUS_MULTIPROC_DIR", "PYTHONPATH", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(skip)}


def test_the_wheel_carries_the_apps_files_and_no_tests_or_benches(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {n.split("/")[0] for n in names}
    assert tops == {"app", "engine", wheel.name.split("-py3")[0] + ".dist-info"}, tops
    # Every file of static/ and templates/ (mapped into app/), every catalog and module.
    for folder in ("static", "templates"):
        files = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file()}
        assert files and {f"app/{f}" for f in files} <= names, folder
    for package in ("app", "engine"):
        modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / package).rglob("*.py")}
        assert modules <= names, sorted(modules - names)
    assert {"app/locales/en/core.json", "app/locales/zh-CN/core.json"} <= names
    assert {"engine/data/digits.npz", "engine/data/DIGITS.md"} <= names
    assert {n for n in names if n.startswith("engine/presets/weights/")}
    info = wheel.name.split("-py3")[0] + ".dist-info"
    with zipfile.ZipFile(wheel) as z:
        entry_points = z.read(f"{info}/entry_points.txt").decode()
        metadata = z.read(f"{info}/METADATA").decode()
    assert re.search(r"^glassbox = app\.cli:main$", entry_points, re.M), entry_points
    requires = re.findall(r"^Requires-Dist: ([A-Za-z0-9_.-]+)", metadata, re.M)
    assert "numpy" in requires and not {"scikit-learn", "scipy"} & set(requires), requires


def test_glassbox_help_names_each_option_and_its_variable(venv: Path, tmp_path: Path):
    out = subprocess.run([venv / "bin" / "glassbox", "--help"], cwd=tmp_path, env=_clean_env(),
                         capture_output=True, text=True, timeout=30, check=True).stdout  # fmt: skip
    out = " ".join(out.split())  # as if unwrapped
    for option, var in (("--host", "GLASSBOX_HOST"), ("--port", "GLASSBOX_PORT"),
                        ("--workers", "GLASSBOX_WORKERS")):  # fmt: skip
        assert re.search(rf"{option} [A-Z]+ [^()]+\({var}; now [^)]+\)", out), out
    for var in ("GLASSBOX_DATA_DIR", "GLASSBOX_KEEP_ALIVE_S", "GLASSBOX_STOP_GRACE_S"):
        assert var in out
    assert "docs/deployment.md" in out


@pytest.fixture
def served(venv: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`glassbox --port P` run from an empty folder (no GLASSBOX_* set); yields its
    URL and that folder."""
    here = tmp_path / "elsewhere"
    here.mkdir()
    port = free_port()
    log = (tmp_path / "glassbox.log").open("w")
    proc = subprocess.Popen([venv / "bin" / "glassbox", "--port", str(port)], cwd=here,
                            env=_clean_env(), stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(proc, port, seconds=60, path="/healthz", log=tmp_path / "glassbox.log")
        yield url, here
    finally:
        stop(proc, timeout=15)
        log.close()


def test_the_installed_command_serves_from_another_folder(served, venv: Path):
    url, here = served
    with httpx.Client(base_url=url, timeout=30) as client:
        home = client.get("/")
        assert home.status_code == 200 and "text/html" in home.headers["content-type"]
        css = client.get("/static/css/glassbox.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]
        assert css.content == (ROOT / "static" / "css" / "glassbox.css").read_bytes()
        presets = client.get("/api/presets")
        assert presets.status_code == 200
        assert "digits-cnn" in {p["name"] for p in presets.json()}
        # The digits data and the trained weights come from the wheel too.
        created = client.post("/api/sessions", json={"preset": "digits-cnn"})
        assert created.status_code in (200, 201), created.text
        zh = client.get("/", params={"lang": "zh-CN"})
        assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text
        catalog = json.loads((ROOT / "app" / "locales" / "zh-CN" / "core.json").read_text("utf-8"))
        assert catalog["app.tagline"] in zh.text
        assert "server" not in home.headers  # --no-server-header, as scripts/serve had
    # The default data folder ./data is the one glassbox was started in.
    assert (here / "data" / "sessions.db").is_file()
    assert list((here / "data" / "metrics").glob("*.db"))  # the workers' metric files
    # What ran was the wheel's copy, not the work tree's.
    code = "import app, engine.data, app.templating as t; print(app.__file__, t.STATIC_DIR)"
    where = subprocess.run([venv / "bin" / "python", "-c", code], cwd=here, env=_clean_env(),
                           check=True, capture_output=True, text=True).stdout.split()  # fmt: skip
    assert all(Path(p).is_relative_to(venv) for p in where), where


def _installed_bytes(dist: importlib.metadata.Distribution) -> int:
    total = 0
    for f in dist.files or ():
        path = Path(str(dist.locate_file(f)))
        if path.is_file():
            total += path.stat().st_size
    return total


def test_the_installed_environment_stays_within_250_mb(venv: Path, capsys):
    """The runtime dependencies requirements.lock installs (measured in .venv, where
    scripts/setup installed the same pins) plus Glassbox itself, as installed."""
    sizes: dict[str, int] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==\S+(?:\s*;\s*(.+?))?\s*\\?$", line)
        if not m:
            continue
        name, marker = m.group(1), m.group(2)
        if marker and not Marker(marker).evaluate():
            continue  # not installed on this platform
        sizes[name] = _installed_bytes(importlib.metadata.distribution(name))
    site = [str(p) for p in venv.glob("lib/python*/site-packages")]
    ours = [d for d in importlib.metadata.distributions(path=site) if d.name == "glassbox"]
    assert len(ours) == 1
    sizes["glassbox"] = _installed_bytes(ours[0])
    assert "scikit-learn" not in sizes and "scipy" not in sizes
    total_mb = sum(sizes.values()) / 1e6
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    with capsys.disabled():
        print(f"\ninstalled environment: {total_mb:.1f} MB in {len(sizes)} distributions "
              f"(glassbox {sizes['glassbox'] / 1e6:.2f} MB); largest: "
              + ", ".join(f"{n} {s / 1e6:.1f} MB" for n, s in largest))  # fmt: skip
    assert total_mb <= MAX_INSTALLED_MB, largest
