"""Fuzz the JSON API against its own OpenAPI schema with schemathesis.

Every operation gets valid and invalid (negative) requests and every response is
checked with all of schemathesis's built-in checks: no 5xx, a documented status
code, a documented content type and headers, a body that matches the documented
model, valid data accepted and invalid data refused with a 4xx. (Valid data
acceptance has one narrow exception, BEYOND_SCHEMA in tests/app/fuzz_checks.py.)

Two runs:
- `test_api`: every operation; a path `{sid}` is whatever the fuzzer makes up
  (so session routes mostly answer 404, which must be documented and well formed);
- `test_api_with_session`: every `{sid}` route with `sid` fixed to a real session
  created up front (with a full pass run), tensor names to the ones it records, so
  random bodies and queries reach the step, tensor, explain, input and train code
  (deleting picks from a few sessions made for it).
A third run, tests/app/test_schemathesis_stateful.py, follows the schema's OpenAPI
links from a session it creates.

Runs are derandomized (same examples every run) and bounded per operation.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Limits, Settings
from tests.app.fuzz_checks import CHECKS

pytestmark = pytest.mark.fuzz

EXAMPLES = 40
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=False,
)


def _validate(case: schemathesis.Case) -> None:
    """Call the app and run every check (tests/app/fuzz_checks.py)."""
    case.call_and_validate(**CHECKS)


# Small training runs: the train route streams SSE until the run ends.
LIMITS = Limits(max_epochs=2, max_iterations=20)


def _full_pass(client: TestClient, sid: str) -> list[str]:
    """Run the session to the end of the backward pass of a fresh pass, so every
    forward and backward tensor is recorded; the names of those tensors."""
    names = []
    for until in ("update", "backward"):  # finish this pass, then a new one
        r = client.post(f"/api/sessions/{sid}/steps?tensors=false", json={"until": until})
        assert r.status_code == 200, r.text
        names = [n for step in r.json()["steps"] for n in step["tensor_names"]]
    return names


def _new_session(app: FastAPI) -> tuple[str, list[str]]:
    """A digits-cnn session (conv, pool, dense; a dataset) with its tensors recorded."""
    with TestClient(app) as client:
        r = client.post("/api/sessions", json={"preset": "digits-cnn"})
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        return sid, _full_pass(client, sid)


DELETE = ("/api/sessions/{sid}", "delete")


def _one_session(openapi: dict, sid: str, tensors: list[str], doomed: list[str]) -> dict:
    """The app's OpenAPI schema with every `{sid}` path parameter limited to one real
    session (`doomed` ones for deleting it) and tensor names to those it records:
    positive examples use these, negative ones anything else."""
    openapi = copy.deepcopy(openapi)
    openapi["paths"] = {p: ops for p, ops in openapi["paths"].items() if "{sid}" in p}
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            only = {("path", "sid"): doomed if (path, method) == DELETE else [sid]}
            if path.endswith("/tensors/{name}"):
                only["path", "name"] = tensors
            if path.endswith("/explain") and method == "get":
                only["query", "tensor"] = tensors
            for param in op.get("parameters", []):
                if (param["in"], param["name"]) in only:
                    values = only[param["in"], param["name"]]
                    param["schema"] = {**param["schema"], "enum": values}
    return openapi


# The schema is read when tests are collected, and the real session must be known
# then too: the app and its shared session are made at import.
_DATA = tempfile.TemporaryDirectory(prefix="glassbox-schemathesis-")
# The fuzzer is one client making thousands of sessions: the per-client limits (their
# 429s are tested in test_fairshare.py) would turn most creates away unfuzzed.
APP = create_app(
    Settings(data_dir=Path(_DATA.name), limits=LIMITS, client_creates_per_minute=10**6,
             client_sessions=10**6)
)  # fmt: skip
SHARED_SID, TENSORS = _new_session(APP)
DOOMED = [_new_session(APP)[0] for _ in range(3)]  # sessions the fuzzer may delete

any_sid = schemathesis.openapi.from_asgi("/openapi.json", APP)
real_sid = schemathesis.openapi.from_dict(_one_session(APP.openapi(), SHARED_SID, TENSORS, DOOMED))
real_sid.app = APP  # requests go to the app in-process, as with from_asgi


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    APP.state.sessions.store.close()
    _DATA.cleanup()


@any_sid.parametrize()
@SETTINGS
def test_api(case: schemathesis.Case) -> None:
    _validate(case)


@real_sid.parametrize()
@SETTINGS
def test_api_with_session(case: schemathesis.Case) -> None:
    reads = case.method == "GET" or case.path.endswith("/explain")
    if reads and case.path_parameters.get("sid") == SHARED_SID:
        # reading steps, tensors, explanations: after the other routes' fuzzing
        # (new inputs, steps, training), record a whole pass again
        with TestClient(APP) as client:
            _full_pass(client, SHARED_SID)
    _validate(case)
