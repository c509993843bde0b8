"""bench/sizing.py runs end to end with tiny numbers (the benchmark itself is not a test).

It starts its own servers (2 workers on SQLite; 1 worker on a redis-server of its own),
creates and steps sessions, trains through the real API and prints docs/deploy.md's
sizing table; a row missing or a number that is not a measurement fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.sizing import ROWS
from tests.processes import ROOT


def test_bench_sizing_tiny_run_prints_every_row_with_measured_numbers(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:  # a failure, not a skip: see test_bench_replicas
        pytest.fail("redis-server is not installed: run scripts/setup --dev")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out_json = tmp_path / "sizing.json"
    cmd = [sys.executable, "-m", "bench.sizing", "--sessions", "3", "--steps", "40",
           "--bp-epochs", "1", "--rnn-epochs", "1", "--cnn-iterations", "20",
           "--json", str(out_json)]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for row in ROWS:
        assert any(line.startswith(row) for line in lines), (row, out.stdout)

    numbers = json.loads(out_json.read_text())
    box, replica = numbers["container"], numbers["replica"]
    # Memory read from /proc: a supervisor, 2 workers and multiprocessing's tracker;
    # one worker, then with its training process.
    assert len(box["idle"]["processes"]) >= 3 and box["idle"]["rss_mb"] > 50
    assert box["live"]["rss_mb"] > 50 and replica["idle"]["rss_mb"] > 30
    assert len(replica["trained"]["processes"]) == 2
    assert box["sessions"] == 3 and box["sqlite"]["rows"] == 3
    assert box["sqlite"]["per_session"] > 1000
    assert all(b > 1000 for b in box["sqlite"]["blob"].values())
    assert all(v["bytes"] > 1000 for v in replica["redis"].values()), replica["redis"]
    assert all(v > 0 for v in replica["steps"].values())
    # CPU time comes in 10 ms ticks: a single tiny training may read 0, all four may not.
    trainings = replica["training"].values()
    assert all(t["cpu_s"] >= 0 and t["wall_s"] > 0 for t in trainings)
    assert sum(t["cpu_s"] for t in trainings) > 0
