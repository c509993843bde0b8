"""scripts/setup's checks, run under bash as setup runs them, and the lock files it installs."""

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "scripts" / "setup"

# fc-list prints one line per font file; the CJK family comes early and thousands of
# other lines follow, so a reader that stops at the first match leaves fc-list writing.
CJK_FAMILY = "Noto Sans CJK SC,Noto Sans CJK SC Regular"


def fake_fc_list(tmp_path: Path, families: list[str]) -> Path:
    """A bin directory whose fc-list prints the given families, then 5,000 others."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    listing = tmp_path / "families.txt"
    listing.write_text("".join(f"{f}\n" for f in families))
    fc_list = bin_dir / "fc-list"
    fc_list.write_text(
        f'#!/bin/bash\ncat {listing}\nfor i in $(seq 5000); do echo "Filler Sans $i"; done\n'
    )
    fc_list.chmod(0o755)
    return bin_dir


def run_font_check(bin_dir: Path, times: int) -> list[str]:
    """has_cjk_font from scripts/setup, run `times` times under set -euo pipefail."""
    script = (
        f"source {SETUP}\n"
        f"for _ in $(seq {times}); do\n"
        "  if has_cjk_font; then echo found; else echo missing; fi\n"
        "done\n"
    )
    result = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_font_check_finds_cjk_font_in_every_one_of_50_runs_under_pipefail(tmp_path):
    bin_dir = fake_fc_list(tmp_path, ["DejaVu Sans", CJK_FAMILY])

    answers = run_font_check(bin_dir, 50)

    assert answers == ["found"] * 50


def test_font_check_reports_missing_when_no_cjk_font_is_listed(tmp_path):
    bin_dir = fake_fc_list(tmp_path, ["DejaVu Sans", "Noto Serif CJK SC"])

    assert run_font_check(bin_dir, 3) == ["missing"] * 3


def locked(path: Path) -> dict[str, str]:
    """Package name -> pinned version in a lock file."""
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", path.read_text(), re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def requirement_names(requirements: list[str]) -> set[str]:
    names = (re.match(r"[A-Za-z0-9_.-]+", r) for r in requirements)
    return {re.sub(r"[-_.]+", "-", m.group(0)).lower() for m in names if m}


def test_lock_files_pin_every_dependency_of_pyproject_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    app, dev = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-dev.lock")

    assert requirement_names(project["dependencies"]) <= set(app)
    assert requirement_names(project["optional-dependencies"]["dev"]) <= set(dev)
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        hashed = re.findall(r"^\S+==.*\\\n    --hash=sha256:[0-9a-f]{64}", text, re.MULTILINE)
        assert len(hashed) == len(locked(ROOT / lock)), lock


def test_app_lock_pins_the_same_versions_as_the_dev_lock():
    app, dev = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-dev.lock")

    assert {name: dev.get(name) for name in app} == app


def test_torch_is_not_locked_since_test_torch_pins_it():
    assert "torch" not in locked(ROOT / "requirements-dev.lock")
