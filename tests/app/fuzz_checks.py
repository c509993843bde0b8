"""The checks both schemathesis runs apply to every response (tests/app/test_schemathesis*.py):
all of schemathesis's built-in checks, with one narrow exception to "valid data is
accepted" for requests the schema cannot fully describe."""

from __future__ import annotations

import schemathesis

# Operations whose requests can be well formed by the schema yet impossible for the
# network or data they meet: an array shaped unlike the session's input, a network
# spec whose layers do not fit together, bytes that are no .npz or PNG, an index
# with the wrong number of axes for the tensor. JSON Schema cannot say these, so
# here a schema-valid request may get a 422 that explains itself (a message, or a
# named limit); a request-validation error would still fail (the schema said less
# than the model checks).
BEYOND_SCHEMA = {
    ("POST", "/api/sessions"),
    ("PUT", "/api/sessions/{sid}/input"),
    ("PUT", "/api/sessions/{sid}/target"),  # a label in range, a target of the output's shape
    ("PUT", "/api/sessions/{sid}/weights"),  # an .npz whose network takes the session's input
    ("GET", "/api/sessions/{sid}/explain"),
    ("POST", "/api/sessions/{sid}/explain"),
    ("PUT", "/api/sessions/{sid}/params/{name}"),
    ("POST", "/api/bp/compare"),  # epochs x batches per epoch within max_iterations
    ("GET", "/api/sessions/{sid}/boundary"),  # only a session on a 2-D dataset has one
    ("GET", "/api/sessions/{sid}/metrics"),  # only a session with a dataset has them
    ("POST", "/api/sessions/{sid}/steps"),  # {"to": k} within the pass's own length
    ("POST", "/api/sessions/{sid}/train"),  # watch: names of the network's own parameters
    ("POST", "/api/sessions/{sid}/samples"),  # a class label, an input of the network's shape
    # a lesson task: an answer of its kind (a choice it offers, cells in the grid), from
    # the page's session, one whose pass records the tensor the task asks about
    ("POST", "/api/lessons/{task_id}/check"),
    ("GET", "/api/lessons/{task_id}/form"),
}


def _explained_422(response: schemathesis.Response) -> bool:
    if response.status_code != 422:
        return False
    detail = response.json().get("detail")
    if isinstance(detail, str):
        return True
    return isinstance(detail, list) and all(d.get("type") == "limit_exceeded" for d in detail)


def positive_data_acceptance_beyond_schema(ctx, response, case):
    """schemathesis's positive_data_acceptance, with the exception above."""
    if (case.method, case.path) in BEYOND_SCHEMA and _explained_422(response):
        return None
    return schemathesis.checks.positive_data_acceptance(ctx, response, case)


# Keyword arguments for Case.validate_response / call_and_validate: every check, with
# positive data acceptance as above.
CHECKS = {
    "excluded_checks": [schemathesis.checks.positive_data_acceptance],
    "additional_checks": [positive_data_acceptance_beyond_schema],
}
