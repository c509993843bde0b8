"""bench/live_class.py runs end to end on a tiny class (the benchmark itself is not a test).

It starts the app as scripts/run does (one worker here), and two replicas on Redis
behind nginx as bench.replicas does, joins a few followers with their event streams
open, steps the class, asks and reveals a question and ends it;
a change of the class API the bench was not told about shows up here as a failure.
No timing is asserted: only that every follower got every step (or a newer state)
and that the report has its fields.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT


@pytest.mark.parametrize(
    "store",
    [
        pytest.param(["--workers", "1"], id="sqlite-1-worker"),
        # Two replicas behind nginx (deploy/nginx-replicas.conf.template): the teacher's
        # step reaches the other replica's followers through Redis.
        pytest.param(["--store", "redis", "--replicas", "2"], id="redis-2-replicas"),
    ],
)
def test_bench_live_class_tiny_class_reaches_every_follower(
    tmp_path: Path, store: list[str]
) -> None:
    if "redis" in store:
        for exe in ("nginx", "redis-server"):
            if shutil.which(exe) is None and shutil.which(exe, path="/usr/sbin") is None:
                pytest.fail(f"{exe} is not installed: run scripts/setup --dev")  # not a skip
    followers, steps = 6, 3
    out_json = tmp_path / "live.json"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "bench.live_class", "--followers", str(followers),
           "--steps", str(steps), "--pace", "0.1", "0.2", *store,
           "--json", str(out_json)]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    res = json.loads(out_json.read_text())

    assert res["connected"] == followers
    if "redis" in store:  # behind nginx: its connections to the replicas (streams, idle ones)
        assert sum(res["spread"].values()) >= followers, res["spread"]
    else:  # every stream found on the worker that holds it
        assert sum(res["spread"].values()) == followers
    s = res["steps"]
    assert s["missed"] == 0
    assert s["pairs"] == followers * steps  # coalesced pairs included
    assert res["followers_got_all"] == followers
    assert {"p50", "p90", "p99", "max"} <= s.keys()
    assert s["p50"] <= s["p90"] <= s["p99"] <= s["max"]
    assert res["tally_following"] == followers
    q = res["question"]
    assert q["answers_202"] == q["tally_total"] == followers
    assert q["ask"]["missed"] == q["reveal"]["missed"] == 0
    assert q["reveal"]["pairs"] == followers
    assert res["ended"] == followers and res["errors"] == []
    assert res["target_p99_ms"] > 0
    assert re.search(r"^target: step p99 < \d+ ms, none missed: (PASS|FAIL)", out.stdout, re.M)
    assert re.search(r"^step -> follower\s+\d+(\s+[\d.]+){4}$", out.stdout, re.M), out.stdout
