"""A page that makes a new session on each change of its settings deletes the one it
replaces (issue 15): a class behind one address shares GLASSBOX_CLIENT_SESSIONS, so a
student who changes the convolution page's kernel size, padding, stride, mode and a
cell many times in a lesson holds one session at the end, not one per change. Every
session the page made is asked for through the API: only the one it shows is there."""

from __future__ import annotations

from typing import Any

import httpx

CONV = "/learn/convolution"
VIEW = "document.querySelector('#view')"


def _created(response: Any) -> bool:
    return response.url.endswith("/api/sessions") and response.request.method == "POST"


def _record_creates(pg: Any) -> list[str]:
    """The ids of the sessions the page creates from now on, in order."""
    made: list[str] = []

    def on_response(response: Any) -> None:
        if _created(response) and response.status == 201:
            made.append(response.json()["id"])

    pg.on("response", on_response)
    return made


def _live(server: str, ids: list[str]) -> list[str]:
    """Those of `ids` the store still has."""
    with httpx.Client(base_url=server) as api:
        return [sid for sid in ids if api.get(f"/api/sessions/{sid}").status_code == 200]


def _after(pg: Any, change: Any) -> str:
    """Run `change` (one change of a setting) and wait for the session it makes: its id."""
    before = pg.get_attribute("#view", "data-session-id")
    change()
    pg.wait_for_function(f"() => {VIEW}.dataset.sessionId !== '{before}'")
    pg.wait_for_function(f"() => {VIEW}.dataset.frame === '0'")
    return pg.get_attribute("#view", "data-session-id")


def _set(pg: Any, key: str, value: int) -> None:
    pg.fill(f"input[data-key='{key}']", str(value))
    pg.dispatch_event(f"input[data-key='{key}']", "change")


def test_the_convolution_page_holds_one_session_however_often_it_changes(page, server):
    pg, _ = page
    made = _record_creates(pg)
    pg.goto(server + CONV)
    pg.wait_for_selector("#view[data-ready]")

    def edit_cell() -> None:
        pg.locator(".conv-cell[data-tensor='conv1.in'] .heatmap-overlay").click(
            position={"x": 10, "y": 10}
        )
        pg.fill(".cell-editor input", "3")
        pg.keyboard.press("Enter")

    changes = [
        lambda: _set(pg, "k", 2),
        lambda: _set(pg, "p", 1),
        lambda: _set(pg, "s", 2),
        lambda: pg.select_option("select[data-key='mode']", "true"),
        edit_cell,
        lambda: _set(pg, "s", 1),
    ]
    for change in changes:
        _after(pg, change)
    # A burst (a student clicking the spinner): the changes run one at a time and the
    # page ends on the last one, having deleted every session it passed through.
    for k in (3, 4, 5):
        _set(pg, "k", k)
    pg.wait_for_function(f"() => {VIEW}.dataset.sessionId && {VIEW}.dataset.frame === '0'")
    pg.wait_for_load_state("networkidle")  # the fire-and-forget deletes have answered
    shown = pg.get_attribute("#view", "data-session-id")
    w = httpx.get(f"{server}/api/sessions/{shown}/tensors/conv1.w").json()
    assert w["shape"] == [1, 1, 5, 5]  # the last setting of the burst
    assert len(made) >= 1 + len(changes) + 1
    assert made[-1] == shown
    assert _live(server, made) == [shown]


def test_the_pooling_and_cnn_pages_delete_the_session_they_replace(page, server):
    pg, _ = page
    made = _record_creates(pg)
    pg.goto(server + "/learn/pooling")
    pg.wait_for_selector("#view[data-ready]")
    with pg.expect_response(_created):
        pg.select_option("#view select", "avg")
    pg.wait_for_load_state("networkidle")
    assert len(made) == 2
    assert _live(server, made) == [made[1]]

    made.clear()
    pg.goto(server + "/learn/cnn")
    pg.wait_for_selector("#view[data-ready]")
    preset = pg.locator("#view select").first
    values = preset.locator("option").evaluate_all("os => os.map((o) => o.value)")
    other = next(v for v in values if v != preset.input_value())
    before = pg.get_attribute("#view", "data-session-id")
    preset.select_option(other)
    pg.wait_for_function(f"() => {VIEW}.dataset.sessionId !== '{before}'")
    pg.wait_for_load_state("networkidle")
    assert len(made) == 2 and made[0] == before
    assert _live(server, made) == [made[1]]
