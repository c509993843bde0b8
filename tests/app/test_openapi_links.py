"""The OpenAPI links (app/openapi_links.py): a created session's id reaches every
operation that takes one; a step response's values reach the step and tensor reads."""

from __future__ import annotations

from fastapi.testclient import TestClient

CREATES = [("/api/sessions", "post"), ("/api/bp/sessions", "post")]


def _schema(client: TestClient) -> dict:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _op_ids_taking_sid(schema: dict) -> set[str]:
    return {
        op["operationId"]
        for ops in schema["paths"].values()
        for op in ops.values()
        if any(p["in"] == "path" and p["name"] == "sid" for p in op.get("parameters", []))
    }


def test_each_create_links_its_new_id_to_every_operation_that_takes_a_session_id(
    client: TestClient,
) -> None:
    schema = _schema(client)
    takes_sid = _op_ids_taking_sid(schema)
    assert len(takes_sid) >= 14  # steps, tensors, explain, input, target, train, ...
    for path, method in CREATES:
        links = schema["paths"][path][method]["responses"]["201"]["links"]
        assert {link["operationId"] for link in links.values()} == takes_sid
        assert all(link["parameters"] == {"sid": "$response.body#/id"} for link in links.values())


def test_a_step_response_links_its_session_step_and_tensor_to_the_reads(
    client: TestClient,
) -> None:
    schema = _schema(client)
    links = schema["paths"]["/api/sessions/{sid}/steps"]["post"]["responses"]["200"]["links"]
    by_target = {link["operationId"]: link for link in links.values()}
    tensor_op = schema["paths"]["/api/sessions/{sid}/tensors/{name}"]["get"]["operationId"]
    assert by_target[tensor_op]["parameters"] == {
        "sid": "$response.body#/session",
        "name": "$response.body#/steps/0/tensor_names/0",
    }
    explain_post = schema["paths"]["/api/sessions/{sid}/explain"]["post"]["operationId"]
    assert by_target[explain_post]["requestBody"] == {
        "tensor": "$response.body#/steps/0/tensor_names/0"
    }


def test_the_links_lead_to_real_answers_when_followed_by_hand(client: TestClient) -> None:
    """Follow the links' expressions the way a client would: the new id steps the
    session, and the step's first tensor is there to read."""
    created = client.post("/api/bp/sessions", json={"dataset": "moons", "hidden": [4]})
    assert created.status_code == 201
    sid = created.json()["id"]  # $response.body#/id
    stepped = client.post(f"/api/sessions/{sid}/steps", json={})
    assert stepped.status_code == 200
    body = stepped.json()
    name = body["steps"][0]["tensor_names"][0]  # $response.body#/steps/0/tensor_names/0
    k = body["steps"][0]["index"]  # $response.body#/steps/0/index
    assert client.get(f"/api/sessions/{body['session']}/tensors/{name}").status_code == 200
    assert client.get(f"/api/sessions/{body['session']}/steps/{k}").status_code == 200
