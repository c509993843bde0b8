"""Walk the API the way a client does, by following the schema's OpenAPI links.

schemathesis's state machine creates sessions (POST /api/sessions and
/api/bp/sessions) and follows the links on the 201 response with the new id into
every operation that takes one: step it, read its steps and tensors, explain a
number, set its input, target or a parameter, train it, delete it; in random
orders, with random schema-valid data. Every response gets the same checks as the
stateless runs (tests/app/fuzz_checks.py) plus schemathesis's stateful ones (a
session just created is found; a deleted one stays gone).

Links are the only way in: schemathesis's own link inference is off, so what the
walk reaches it reaches through the links the app documents (app/openapi_links.py).
The test counts the answers per operation, so a walk that only ever met made-up
ids (404s) fails instead of passing quietly.

Invalid (negative) data is the stateless runs' job (tests/app/test_schemathesis.py):
here it would mostly turn a real id into a made-up one.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.config import SchemathesisConfig

from app.main import create_app
from app.settings import Limits, Settings
from tests.app.fuzz_checks import CHECKS

pytestmark = pytest.mark.fuzz

# Small training runs: the train route streams SSE until the run ends.
LIMITS = Limits(max_epochs=2, max_iterations=20)
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"stateful": {"inference": {"algorithms": []}, "generation": {"mode": "positive"}}}}
)
SESSION_ROUTES = r"^/api/(bp/)?sessions"
SETTINGS = hypothesis.settings(
    # long scenarios: a chain must create, step, then read what the step recorded. The
    # walk differs from run to run (trainings end in their own processes); at 30 one
    # read no recorded step in 3 of 3 full runs (train 200: 44), at 50 it reads 5-7.
    max_examples=50,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=False,
)
# What the walk must reach with a 2xx (a real session, a real tensor name).
MUST_SUCCEED = [
    ("POST", "/api/sessions"),
    ("POST", "/api/bp/sessions"),
    ("POST", "/api/sessions/{sid}/steps"),
    ("GET", "/api/sessions/{sid}/steps/{k}"),
    ("GET", "/api/sessions/{sid}/tensors/{name}"),
    ("POST", "/api/sessions/{sid}/train"),
    ("PUT", "/api/sessions/{sid}/input"),  # the linked sample put back
    ("DELETE", "/api/sessions/{sid}"),
]
# ... and at least one of each group.
EXPLAIN = [("GET", "/api/sessions/{sid}/explain"), ("POST", "/api/sessions/{sid}/explain")]
# (a parameter gets a 2xx only when the walk read that parameter first, not in every run)
EDITS = [("PUT", "/api/sessions/{sid}/target"), ("PUT", "/api/sessions/{sid}/params/{name}")]

Reached = defaultdict[tuple[str, str], Counter[int]]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("stateful"), limits=LIMITS))
    yield app
    app.state.sessions.store.close()


# Operations whose link hands on a whole valid body (app/openapi_links.py): the walk
# sends it as it is rather than merged into a random one (which would mostly add a
# second input source, a random target or extra array items: a 422 for the stateless
# runs to find).
WHOLE_BODIES = {
    ("put", "/api/sessions/{sid}/input"),
    ("put", "/api/sessions/{sid}/target"),
    ("put", "/api/sessions/{sid}/params/{name}"),
}


def _walk_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """The app's schema as the walk uses it: explain indices (0, 0) (_zero_indices),
    tensors read as lists (a parameter read is written back as its list of numbers;
    base64 is the stateless runs' job), and linked whole bodies sent unmerged."""
    openapi = _zero_indices(openapi)
    paths = openapi["paths"]
    for param in paths["/api/sessions/{sid}/tensors/{name}"]["get"]["parameters"]:
        if param["name"] == "encoding":
            param["schema"] = {"type": "string", "enum": ["list"]}
    ids = {paths[path][method]["operationId"] for method, path in WHOLE_BODIES}
    for ops in paths.values():
        for op in ops.values():
            for response in op.get("responses", {}).values():
                for link in response.get("links", {}).values():
                    if link["operationId"] in ids and "requestBody" in link:
                        link["x-schemathesis"] = {"merge_body": False}
    return openapi


def _zero_indices(openapi: dict[str, Any]) -> dict[str, Any]:
    """The schema with explain's index (GET) and indices (POST) limited to (0, 0): the
    link gives a real tensor, and (0, 0) is in every 2-D tensor (a dense layer's
    sample x feature; the walk's sessions are mostly BP networks), so explanations
    succeed; random numbers almost never fit a shape (the stateless run sends those)."""
    openapi = copy.deepcopy(openapi)
    get = openapi["paths"]["/api/sessions/{sid}/explain"]["get"]
    for param in get["parameters"]:
        if param["name"] == "index":
            param["schema"] = {**param["schema"], "pattern": "^0,0$"}
    indices = openapi["components"]["schemas"]["ExplainRequest"]["properties"]["indices"]
    indices["items"] = {"type": "array", "items": {"const": 0}, "minItems": 2, "maxItems": 2}
    return openapi


def _walk(app: FastAPI) -> Reached:
    """Run the state machine on the app in-process (it raises on a failed check);
    the status codes each operation answered."""
    schema = schemathesis.openapi.from_dict(_walk_schema(app.openapi()), config=CONFIG)
    schema.app = app  # requests go to the app in-process, as with from_asgi
    reached: Reached = defaultdict(Counter)

    class Walk(schema.include(path_regex=SESSION_ROUTES).as_state_machine()):  # type: ignore[misc]
        def validate_response(self, response, case, additional_checks=None, **kwargs):
            reached[case.method, case.path][response.status_code] += 1
            case.validate_response(
                response, transport_kwargs=kwargs or None, recorder=self.recorder, **CHECKS
            )

    Walk.run(settings=SETTINGS)
    return reached


def test_stateful_walk_follows_links_to_real_sessions_and_finds_nothing(app: FastAPI) -> None:
    reached = _walk(app)  # fails the test on any failed check
    ok = {
        op: sum(n for code, n in codes.items() if 200 <= code < 300)
        for op, codes in reached.items()
    }
    report = "\n".join(f"{m} {p}: {dict(c)}" for (m, p), c in sorted(reached.items()))
    print(report)
    missed = [op for op in MUST_SUCCEED if not ok.get(op)]
    assert not missed, f"never answered 2xx: {missed}\n{report}"
    assert any(ok.get(op) for op in EXPLAIN), f"no explanation answered 2xx\n{report}"
    assert any(ok.get(op) for op in EDITS), f"no target or parameter set\n{report}"
