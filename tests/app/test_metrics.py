"""/metrics (Prometheus text), request ids, JSON logs.

In-process (TestClient) for what the numbers count; real uvicorn servers for the
log lines and for two workers whose counts /metrics must sum.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import ROOT, app_server, free_port, stop, wait_until_up

STEPS_ROUTE = "/api/sessions/{sid}/steps"


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics body by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def _scrape(client: TestClient | httpx.Client) -> dict:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    return _samples(r.text)


def _steps_seen(samples: dict) -> tuple[float, float]:
    """(steps counted, step requests in the latency histogram)."""
    hist = "glassbox_http_request_duration_seconds_count"
    return (
        _value(samples, "glassbox_steps_total"),
        _value(samples, hist, route=STEPS_ROUTE, method="POST", status="2xx"),
    )


def test_metrics_answers_prometheus_text_and_is_not_in_the_api_schema(client):
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    names = {f.name for f in text_string_to_metric_families(r.text)}
    assert {"glassbox_http_request_duration_seconds", "glassbox_steps",
            "glassbox_trainings_running", "glassbox_training_queue_length",
            "glassbox_training_queue_wait_seconds", "glassbox_training_processes",
            "glassbox_training_process_deaths", "glassbox_sessions_live"} <= names  # fmt: skip
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_n_steps_raise_the_step_counter_and_the_steps_route_histogram_by_n(client):
    sid = client.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
    before = _steps_seen(_scrape(client))
    n = 7
    for _ in range(n):
        r = client.post(f"/api/sessions/{sid}/steps", json={}, params={"encoding": "b64"})
        assert r.status_code == 200, r.text
    after = _steps_seen(_scrape(client))
    assert (after[0] - before[0], after[1] - before[1]) == (n, n)


def test_route_label_is_the_template_never_the_session_id(client):
    sid = client.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
    client.post(f"/api/sessions/{sid}/steps", json={})
    client.get(f"/api/sessions/{sid}/tensors/no.such.tensor")
    client.get(f"/no/such/page/{sid}")
    text = client.get("/metrics").text
    assert sid not in text
    routes = {dict(ls).get("route") for (_, ls) in _samples(text)} - {None}
    assert {STEPS_ROUTE, "/api/sessions/{sid}/tensors/{name}", "unmatched"} <= routes


def test_session_created_counts_and_live_sessions_come_from_the_store(client):
    before = _scrape(client)
    for _ in range(2):
        client.post("/api/sessions", json={"preset": "digits-cnn"})
    after = _scrape(client)
    created = "glassbox_sessions_created_total"
    assert _value(after, created) - _value(before, created) == 2
    assert _value(after, "glassbox_sessions_live") == client.app.state.sessions.store.count() == 2


def test_a_training_is_counted_in_the_queue_wait_and_runs_in_a_training_process(client):
    sid = client.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
    before = _value(_scrape(client), "glassbox_training_queue_wait_seconds_count")
    r = client.post(f"/api/sessions/{sid}/train", json={"iterations": 1, "batch_size": 4})
    assert r.status_code == 200 and "event: done" in r.text
    after = _scrape(client)
    assert _value(after, "glassbox_training_queue_wait_seconds_count") == before + 1
    assert _value(after, "glassbox_trainings_running") == 0  # it ended
    assert _value(after, "glassbox_training_queue_length") == 0
    assert _value(after, "glassbox_training_processes") >= 1


def test_a_store_outage_is_counted_by_store_and_operation(settings):
    from app.main import create_app

    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        sid = c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        before = _value(_scrape(c), "glassbox_store_errors_total", store="sqlite")
        db = Path(settings.store_url().removeprefix("sqlite:///"))
        for path in db.parent.glob(db.name + "*"):  # the file and its WAL: the store is gone
            path.unlink()
        r = c.get(f"/api/sessions/{sid}")
        assert r.status_code == 503, r.text
        after = _value(_scrape(c), "glassbox_store_errors_total", store="sqlite")
        assert after > before


def test_every_response_has_a_request_id_and_a_sane_client_id_is_echoed(client):
    own = client.get("/healthz")
    assert len(own.headers["x-request-id"]) == 32  # a fresh uuid4, hex
    assert client.get("/healthz").headers["x-request-id"] != own.headers["x-request-id"]
    given = "3f2c9a7e-1b44-4c51-9b0e-7d1f6a2e9c10"
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["x-request-id"] == given
    # One that would not fit on a log line is replaced, not echoed.
    for bad in ("two words", "x" * 200, 'quote"d'):
        got = client.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert got != bad and len(got) == 32
    # Errors carry one too (a 404, a 413 answered before the app reads the body).
    assert "x-request-id" in client.get("/api/sessions/nope").headers
    big = client.post("/api/sessions", content=b"x" * 2_000_000)
    assert big.status_code == 413 and "x-request-id" in big.headers


def test_json_log_lines_parse_and_carry_the_request_id(tmp_path):
    with app_server(tmp_path, {"GLASSBOX_LOG_FORMAT": "json"}) as url:
        r = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "json-log-check-1"})
        assert r.headers["x-request-id"] == "json-log-check-1"
        generated = httpx.get(f"{url}/api/presets").headers["x-request-id"]
    lines = [ln for ln in (tmp_path / "uvicorn.log").read_text().splitlines() if ln.strip()]
    records = [json.loads(ln) for ln in lines]  # every line is one JSON object
    access = {rec["request_id"]: rec for rec in records if rec["logger"] == "uvicorn.access"}
    assert access["json-log-check-1"]["path"] == "/healthz"
    assert access["json-log-check-1"]["status"] == 200
    assert access[generated]["path"] == "/api/presets"
    assert any(rec["logger"] == "uvicorn.error" for rec in records)  # server lines too


def test_a_class_streams_student_token_never_reaches_the_log(tmp_path):
    # EventSource sends no headers, so the token is in the query: the access line hides it.
    with app_server(tmp_path, {"GLASSBOX_LOG_FORMAT": "json"}) as url:
        code = httpx.post(f"{url}/api/classes", json={}).json()["code"]
        token = httpx.post(f"{url}/api/classes/{code}/students", json={}).json()["student_token"]
        events = f"{url}/api/classes/{code}/events?token={token}&mode=follow"
        with httpx.stream("GET", events, headers={"X-Request-ID": "class-stream-1"}) as r:
            assert r.status_code == 200
            assert next(r.iter_lines()) == "event: state"
    text = (tmp_path / "uvicorn.log").read_text()
    assert token not in text
    access = [json.loads(ln) for ln in text.splitlines() if "class-stream-1" in ln]
    assert any(rec["path"].startswith(f"/api/classes/{code}/events?token=***&") for rec in access)


# --- two worker processes -------------------------------------------------------------


@contextmanager
def _two_workers(tmp: Path) -> Iterator[tuple[str, Path]]:
    """scripts/serve with 2 workers, as scripts/run and the container start it (it makes
    an empty PROMETHEUS_MULTIPROC_DIR under the data dir); yields its URL and that
    directory."""
    port, data = free_port(), tmp / "data"
    metrics_dir = data / "metrics"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {"GLASSBOX_DATA_DIR": str(data), "GLASSBOX_PORT": str(port), "GLASSBOX_WORKERS": "2"}
    cmd = [str(ROOT / "scripts" / "serve")]
    with (tmp / "uvicorn.log").open("w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(proc, port, seconds=60, path="/healthz", log=tmp / "uvicorn.log")
            yield url, metrics_dir
        finally:
            stop(proc)


def _steps_per_worker(metrics_dir: Path) -> dict[str, float]:
    """Steps each worker process counted, read from its own file (counter_<pid>.db)."""
    out: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            if json.loads(key)[1] == "glassbox_steps_total":
                pid = path.stem.rsplit("_", 1)[1]
                out[pid] = out.get(pid, 0) + value
    return out


def test_metrics_of_two_uvicorn_workers_sum_both_workers_counts(tmp_path):
    with _two_workers(tmp_path) as (url, metrics_dir):
        # A new connection per request, so the kernel hands requests to either worker.
        fresh = httpx.Client(base_url=url, limits=httpx.Limits(max_keepalive_connections=0))
        with fresh:
            sid = fresh.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
            n = 0
            while len(_steps_per_worker(metrics_dir)) < 2 or n < 10:
                assert n < 300, "every step request went to the same worker"
                r = fresh.post(f"/api/sessions/{sid}/steps", json={})
                assert r.status_code == 200, r.text
                n += 1
            # Each scrape lands on either worker, and each says the whole server's count.
            per_worker = _steps_per_worker(metrics_dir)
            assert len(per_worker) == 2 and sum(per_worker.values()) == n
            for _ in range(6):
                assert _steps_seen(_scrape(fresh)) == (n, n)
