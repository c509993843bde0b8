"""Accuracy vs sequence length through the API: the memory presets state the
experiment the RNN page runs (meta.sweep, from engine.memory_sweep), and a run made
as the page makes it (a session per run, POST .../train) scores exactly what
engine.memory_sweep.run scores for the same seed, so the engine's tests and the
reference run speak for the page's runs."""

import dataclasses
import json

import pytest

from app.settings import Limits
from engine.memory_sweep import SWEEP, info, run


def _final_event(client, sid, body):
    with client.stream("POST", f"/api/sessions/{sid}/train", json=body) as r:
        assert r.status_code == 200
        text = "".join(r.iter_text())
    name, data = text.strip().split("\n\n")[-1].split("\n")
    return name[len("event: ") :], json.loads(data[len("data: ") :])


@pytest.mark.parametrize("preset", ["memory-rnn", "memory-lstm"])
def test_the_memory_presets_state_the_experiment_and_its_reference(client, preset):
    r = client.get(f"/api/presets/{preset}")
    assert r.status_code == 200
    sweep = r.json()["meta"]["sweep"]
    assert sweep == json.loads(json.dumps(info()))
    assert sweep["ts"] == list(SWEEP.ts) and sweep["seeds"] == list(SWEEP.seeds)
    assert sweep["epochs"] == SWEEP.epochs and sweep["train"] == SWEEP.train_request()
    assert sweep["chance"] == 0.25
    ref = sweep["reference"]
    assert ref["seeds"] == sweep["seeds"] and sweep["live_runs"] < len(sweep["seeds"])
    assert set(ref["summary"]["rnn"]) == {str(t) for t in SWEEP.ts}


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_a_run_made_as_the_page_makes_it_scores_what_the_engine_run_scores(client, cell):
    # the same code path, cheaper: 2 epochs in 2 requests (a fresh Adam and a new
    # shuffle each, as the page's requests are)
    short = dataclasses.replace(SWEEP, epochs=2, epochs_per_request=1)
    assert short.requests == 2
    seed, t_len = SWEEP.seeds[1], SWEEP.ts[0]
    body = {"preset": f"memory-{cell}", "seed": seed, "overrides": short.overrides(t_len)}
    made = client.post("/api/sessions", json=body)
    assert made.status_code == 201, made.text
    for _ in range(short.requests):
        name, final = _final_event(client, made.json()["id"], short.train_request())
        assert name == "done"
    assert final["test_accuracy"] == run(cell, t_len, seed, short)


def test_the_experiments_runs_fit_the_servers_default_limits():
    """A run's training requests: the page must not ask for more than a classroom
    server allows (a request over a limit is refused with a 422)."""
    limits = Limits()
    assert SWEEP.epochs_per_request <= limits.max_epochs
    assert SWEEP.requests * SWEEP.epochs_per_request >= SWEEP.epochs
    assert SWEEP.batch_size <= limits.max_batch
    assert max(SWEEP.ts) <= limits.max_seq_len
