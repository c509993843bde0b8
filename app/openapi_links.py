"""OpenAPI links: which response hands which value to which later request, so a
client generator or a stateful fuzzer (schemathesis) can follow a new session's
`id` into the routes under /api/sessions/{sid} instead of guessing ids.

- A created session (a 201 with a SessionOut) links to every operation with a
  `sid` path parameter, passing its `id`. Both sides are found in the generated
  schema, so a new route of either kind gets its links with no edit here.
  Some of those links also hand on what the session says about itself (FROM_NEW):
  its first parameter's name to set or read it, its sample and that sample's label
  to put them back (a request that is valid for it, to change from there).
- Steps run (a 200 with a StepsOut) link to the operations that read what a step
  recorded, passing the session, the first step's index and its first tensor's name.
- A tensor read (a 200 with a TensorOut, read with encoding=list) links to setting
  the parameter of that name to those numbers: a parameter read, edited, written back
  (any other tensor gets the 404 naming the parameters).

Read from the schema rather than from app.routes: FastAPI's route objects change
between versions, the OpenAPI document does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

SESSION_ID = "sid"  # the path parameter every session route names its session by
SESSION_OUT = "#/components/schemas/SessionOut"
STEPS_OUT = "#/components/schemas/StepsOut"
TENSOR_OUT = "#/components/schemas/TensorOut"
FIRST_STEP = "$response.body#/steps/0"
FIRST_TENSOR = f"{FIRST_STEP}/tensor_names/0"
FIRST_PARAM = "$response.body#/network/parameters/0"
INPUT = "$response.body#/input"
# What a new session hands on besides its id, by operation. The input pointers
# resolve only for a session whose input is a dataset sample (a classifier's has a
# label); a client (and schemathesis) drops a link whose value is not there.
FROM_NEW: dict[tuple[str, str], dict[str, Any]] = {
    ("put", "/api/sessions/{sid}/params/{name}"): {"parameters": {"name": FIRST_PARAM}},
    ("get", "/api/sessions/{sid}/tensors/{name}"): {"parameters": {"name": FIRST_PARAM}},
    ("put", "/api/sessions/{sid}/target"): {"requestBody": {"target": f"{INPUT}/label"}},
    ("put", "/api/sessions/{sid}/input"): {
        "requestBody": {"sample": {"split": f"{INPUT}/split", "index": f"{INPUT}/index"}}
    },
}
# What a StepsOut hands on, by operation: parameters (path or query) and body fields.
FROM_STEPS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/api/sessions/{sid}/steps/{k}"): {"parameters": {"k": f"{FIRST_STEP}/index"}},
    ("get", "/api/sessions/{sid}/tensors/{name}"): {"parameters": {"name": FIRST_TENSOR}},
    ("get", "/api/sessions/{sid}/explain"): {"parameters": {"tensor": FIRST_TENSOR}},
    ("post", "/api/sessions/{sid}/explain"): {"requestBody": {"tensor": FIRST_TENSOR}},
    ("get", "/api/sessions/{sid}/series/{quantity}"): {},  # a recurrent pass's gradient norms
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
    FROM_NEW or FROM_STEPS operation missing from the schema is an error (a renamed
    route must not lose its links unnoticed)."""
    ops = {(method, path): op for method, path, op in _operations(openapi)}
    missing = [key for key in (*FROM_NEW, *FROM_STEPS) if key not in ops]
    if missing:
        raise KeyError(f"linked operations missing from the schema: {missing}")
    from_new = {}
    for (method, path), op in ops.items():
        if _takes_session(op):
            given = FROM_NEW.get((method, path), {})
            from_new[op["operationId"]] = {
                "operationId": op["operationId"],
                **given,
                "parameters": {SESSION_ID: "$response.body#/id", **given.get("parameters", {})},
                "description": f"{method.upper()} {path} on the new session",
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
    put_param = ops["put", "/api/sessions/{sid}/params/{name}"]
    from_tensor = {
        put_param["operationId"]: {
            "operationId": put_param["operationId"],
            "parameters": {SESSION_ID: "$request.path.sid", "name": "$response.body#/name"},
            "requestBody": {"array": "$response.body#/data"},
            "description": "PUT /api/sessions/{sid}/params/{name}: the parameter just read "
            "(with encoding=list), edited, written back",
        }
    }
    for op in ops.values():
        if _answers(op, "201", SESSION_OUT):
            _add_links(op, "201", from_new)
        if _answers(op, "200", STEPS_OUT):
            _add_links(op, "200", from_steps)
        if _answers(op, "200", TENSOR_OUT):
            _add_links(op, "200", from_tensor)
    return openapi
