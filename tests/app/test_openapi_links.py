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
        assert all(link["parameters"]["sid"] == "$response.body#/id" for link in links.values())


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


def _link(schema: dict, source: tuple[str, str, str], target: tuple[str, str]) -> dict:
    path, method, status = source
    links = schema["paths"][path][method]["responses"][status]["links"]
    target_id = schema["paths"][target[0]][target[1]]["operationId"]
    return next(link for link in links.values() if link["operationId"] == target_id)


def _follow(expression: str, body: dict) -> object:
    """A `$response.body#/a/0/b` expression's value in a response body."""
    value: object = body
    for key in expression.removeprefix("$response.body#/").split("/"):
        value = value[int(key)] if isinstance(value, list) else value[key]  # type: ignore[index]
    return value


def test_a_new_sessions_links_give_its_edits_a_real_parameter_its_label_and_its_sample(
    client: TestClient,
) -> None:
    """Followed by hand, the edit links of a new session give requests the session
    accepts: its sample and label put back, its first parameter read (after a step)
    and written back."""
    schema = _schema(client)
    new = ("/api/bp/sessions", "post", "201")
    created = client.post("/api/bp/sessions", json={"dataset": "moons", "hidden": [4]}).json()
    sid = created["id"]

    to_input = _link(schema, new, ("/api/sessions/{sid}/input", "put"))["requestBody"]
    sample = {k: _follow(v, created) for k, v in to_input["sample"].items()}
    assert sample == {"split": "train", "index": 0}
    assert client.put(f"/api/sessions/{sid}/input", json={"sample": sample}).status_code == 200

    to_target = _link(schema, new, ("/api/sessions/{sid}/target", "put"))["requestBody"]
    label = _follow(to_target["target"], created)
    assert client.put(f"/api/sessions/{sid}/target", json={"target": label}).status_code == 200

    to_read = _link(schema, new, ("/api/sessions/{sid}/tensors/{name}", "get"))
    name = _follow(to_read["parameters"]["name"], created)
    assert name == "dense1.w"  # a real parameter, not a made-up name
    assert client.post(f"/api/sessions/{sid}/steps", json={}).status_code == 200
    read = client.get(f"/api/sessions/{sid}/tensors/{name}")
    assert read.status_code == 200

    back = _link(schema, ("/api/sessions/{sid}/tensors/{name}", "get", "200"),
                 ("/api/sessions/{sid}/params/{name}", "put"))  # fmt: skip
    assert back["parameters"] == {"sid": "$request.path.sid", "name": "$response.body#/name"}
    array = _follow(back["requestBody"]["array"], read.json())
    put = client.put(f"/api/sessions/{sid}/params/{_follow('$response.body#/name', read.json())}",
                     json={"array": array})  # fmt: skip
    assert put.status_code == 200, put.text
