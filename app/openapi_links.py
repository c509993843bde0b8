"""OpenAPI links: which response hands which value to which later request, so a
client generator or a stateful fuzzer (schemathesis) can follow a new session's
`id` into the routes under /api/sessions/{sid} instead of guessing ids.

- A created session (a 201 with a SessionOut) links to every operation with a
  `sid` path parameter, passing its `id`. Both sides are found in the generated
  schema, so a new route of either kind gets its links with no edit here.
- Steps run (a 200 with a StepsOut) link to the operations that read what a step
  recorded, passing the session, the first step's index and its first tensor's name.

Read from the schema rather than from app.routes: FastAPI's route objects change
between versions, the OpenAPI document does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

SESSION_ID = "sid"  # the path parameter every session route names its session by
SESSION_OUT = "#/components/schemas/SessionOut"
STEPS_OUT = "#/components/schemas/StepsOut"
FIRST_STEP = "$response.body#/steps/0"
FIRST_TENSOR = f"{FIRST_STEP}/tensor_names/0"
# What a StepsOut hands on, by operation: parameters (path or query) and body fields.
FROM_STEPS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/api/sessions/{sid}/steps/{k}"): {"parameters": {"k": f"{FIRST_STEP}/index"}},
    ("get", "/api/sessions/{sid}/tensors/{name}"): {"parameters": {"name": FIRST_TENSOR}},
    ("get", "/api/sessions/{sid}/explain"): {"parameters": {"tensor": FIRST_TENSOR}},
    ("post", "/api/sessions/{sid}/explain"): {"requestBody": {"tensor": FIRST_TENSOR}},
}


def _operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in openapi.get("paths", {}).items():
        for method, op in ops.items():
            if isinstance(op, dict) and "responses" in op:
                yield method, path, op


def _answers(op: dict[str, Any], status: str, ref: str) -> bool:
    content = op["responses"].get(status, {}).get("content", {}).get("application/json", {})
    return content.get("schema", {}).get("$ref") == ref


def _takes_session(op: dict[str, Any]) -> bool:
    return any(
        p.get("in") == "path" and p.get("name") == SESSION_ID for p in op.get("parameters", [])
    )


def _add_links(op: dict[str, Any], status: str, links: dict[str, Any]) -> None:
    response = op["responses"][status]
    response["links"] = {**response.get("links", {}), **links}


def link_sessions(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the links described above to the schema (in place) and return it. A
    FROM_STEPS operation missing from the schema is an error (a renamed route must
    not lose its links unnoticed)."""
    ops = {(method, path): op for method, path, op in _operations(openapi)}
    from_new = {
        op["operationId"]: {
            "operationId": op["operationId"],
            "parameters": {SESSION_ID: "$response.body#/id"},
            "description": f"{method.upper()} {path} on the new session",
        }
        for (method, path), op in ops.items()
        if _takes_session(op)
    }
    from_steps = {}
    for (method, path), given in FROM_STEPS.items():
        op = ops[method, path]
        parameters = {SESSION_ID: "$response.body#/session", **given.get("parameters", {})}
        from_steps[op["operationId"]] = {
            "operationId": op["operationId"],
            **given,
            "parameters": parameters,
            "description": f"{method.upper()} {path} on what the first step recorded",
        }
    for op in ops.values():
        if _answers(op, "201", SESSION_OUT):
            _add_links(op, "201", from_new)
        if _answers(op, "200", STEPS_OUT):
            _add_links(op, "200", from_steps)
    return openapi
