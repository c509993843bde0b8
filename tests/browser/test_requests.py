"""What the pages ask of the API: counts of requests and of tensors, not times.

A player frame is at most one request (none for a step the page already holds); a
page start sends no tensor twice (the CNN page draws its overview from the step
response instead of fetching each tensor again), nor does a walk through the pass.
bench/requests.py prints the same counts with bytes for every page.
"""

import json
from collections import Counter
from urllib.parse import urlparse

from tests.browser.rnn_helpers import at_step, open_rnn


def _api_requests(pg):
    """The page's /api/ requests as they are sent (a list that grows)."""
    sent = []
    pg.on("request", lambda r: sent.append(r) if urlparse(r.url).path.startswith("/api/") else None)
    return sent


def _api_responses(pg):
    """The page's /api/ responses that can carry tensors, as they arrive (a list that
    grows). Not a DELETE: a page deletes a session it replaced without reading the
    answer, and the browser then keeps no body to give."""
    got = []

    def keep(r):
        if urlparse(r.url).path.startswith("/api/") and r.request.method != "DELETE":
            got.append(r)

    pg.on("response", keep)
    return got


def _walk(pg, frames, sent):
    """Press → for each frame; the number of /api/ requests each frame sent."""
    start, counts = len(sent), []
    for i in range(frames):
        before = len(sent)
        pg.keyboard.press("ArrowRight")
        at_step(pg, i)
        counts.append(len(sent) - before)
    pg.wait_for_load_state("networkidle")
    counts[-1] += len(sent) - start - sum(counts)  # a request trailing the last frame
    return counts


def test_a_cnn_player_frame_asks_only_for_a_step_the_page_does_not_hold(page, server):
    """The page start runs the forward pass and the loss in one request and keeps those
    steps: their frames ask for nothing, every later frame is one request, and no tensor
    comes twice over the start and the whole pass."""
    pg, _ = page
    responses = _api_responses(pg)
    pg.goto(server + "/learn/cnn?preset=digits-cnn")
    pg.wait_for_selector("#view[data-ready]")
    pg.wait_for_load_state("networkidle")
    held = pg.locator(".progress .seg.forward, .progress .seg.loss").count()
    sent = _api_requests(pg)
    frames = pg.locator(".progress .seg").count()
    counts = _walk(pg, frames, sent)
    assert held > 5 and frames > held + 5, (held, frames)
    assert counts == [0] * held + [1] * (frames - held), counts
    tensors = _tensors_sent(responses)
    assert any(name == "conv1.out" for _, name in tensors)  # from the start
    assert any(name == "conv1.dw" for _, name in tensors)  # from a frame
    assert [key for key, k in tensors.items() if k > 1] == []


def test_an_rnn_player_frame_is_at_most_one_request(page, server):
    pg, _ = page
    open_rnn(pg, server, "?preset=memory-lstm")
    pg.wait_for_load_state("networkidle")
    sent = _api_requests(pg)
    counts = _walk(pg, 24, sent)
    assert max(counts) == 1, counts


def test_the_cnn_page_start_sends_each_tensor_once(page, server):
    pg, _ = page
    responses = _api_responses(pg)
    pg.goto(server + "/learn/cnn?preset=digits-cnn")
    pg.wait_for_selector("#view[data-ready]")
    pg.wait_for_load_state("networkidle")
    sent: Counter[str] = Counter()
    for r in responses:
        body = r.body()
        if body[:1] != b"{":
            continue
        payload = json.loads(body)
        for t in [payload] + [t for s in payload.get("steps", []) for t in s.get("tensors", [])]:
            if "data" in t and "shape" in t:  # a tensor's numbers, not a {same_as} reference
                sent[t["name"]] += 1
    assert {"conv1.in", "conv1.out", "pool2.out", "loss.probs"} <= set(sent)
    assert [n for n, k in sent.items() if k > 1] == []
    assert not any("/tensors/" in r.url for r in responses)  # drawn from the step response


def _tensors_sent(responses):
    """How many times each (session, tensor name)'s numbers came in these responses."""
    sent: Counter[tuple[str, str]] = Counter()
    for r in responses:
        body = r.body()
        parts = urlparse(r.url).path.split("/")
        if body[:1] != b"{" or len(parts) < 4:
            continue
        payload = json.loads(body)
        sid = payload.get("session") or parts[3]
        for t in [payload] + [t for s in payload.get("steps", []) for t in s.get("tensors", [])]:
            if "data" in t and "shape" in t:  # a tensor's numbers, not a {same_as} reference
                sent[(sid, t["name"])] += 1
    return sent


def test_an_rnn_player_frame_sends_no_tensor_the_page_already_had(page, server):
    """The page start holds the forward pass's steps: their frames ask for nothing, and
    a step fetched later carries only tensors the page did not have."""
    pg, _ = page
    responses = _api_responses(pg)
    open_rnn(pg, server, "?preset=memory-lstm")
    pg.wait_for_load_state("networkidle")
    forward = pg.locator(".player .progress .seg.forward").count()
    sent = _api_requests(pg)
    frames = pg.locator(".player .progress .seg").count()
    counts = _walk(pg, frames, sent)
    assert forward > 20 and counts[:forward] == [0] * forward, counts
    assert max(counts[forward:]) == 1, counts
    tensors = _tensors_sent(responses)
    assert any(name == "lstm1.t0.f" for _, name in tensors)  # from the start
    assert any(name == "lstm1.t0.dh" for _, name in tensors)  # from a frame
    assert [key for key, k in tensors.items() if k > 1] == []


def test_the_rnn_page_start_asks_for_no_preset(page, server):
    """What the page needs of its presets (classes, the slider's range, the sweep)
    comes with the page's rules or the session, not from GET /api/presets/<name>."""
    pg, _ = page
    sent = _api_requests(pg)
    open_rnn(pg, server, "?preset=chars-en")
    pg.wait_for_load_state("networkidle")
    paths = [urlparse(r.url).path for r in sent]
    assert "/api/sessions" in paths  # the page started (and was recorded)
    assert [p for p in paths if p.startswith("/api/presets")] == []
