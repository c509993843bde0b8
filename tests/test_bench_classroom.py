"""bench/classroom.py runs end to end on a tiny class (the benchmark itself is not a test).

It starts scripts/run's command line, steps and trains through the real API and
prints its table; a change of an API the pages use that the benchmark was not
told about shows up here as errors or missing rows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.processes import ROOT


def test_bench_classroom_tiny_class_prints_p99_rows_and_no_errors() -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "bench.classroom", "--students", "3", "--trainings", "2",
           "--seconds", "5", "--arrive", "0.5", "--epochs", "1"]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = {
        m.group(1).strip()
        for m in re.finditer(r"^([a-z ()]+?)\s+\d+\s+[\d.]+\s+[\d.]+", out.stdout, re.M)
    }
    assert {"step", "start", "create", "train first event"} <= rows, out.stdout
    assert re.search(r"^errors: 0$", out.stdout, re.M), out.stdout
