"""What the pages ask of the API: counts of requests and of tensors, not times.

A player frame is one request; a page start sends no tensor twice (the CNN page
draws its overview from the step response instead of fetching each tensor again).
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


def test_a_cnn_player_frame_is_one_request_over_the_whole_pass(page, server):
    pg, _ = page
    pg.goto(server + "/learn/cnn?preset=digits-cnn")
    pg.wait_for_selector("#view[data-ready]")
    pg.wait_for_load_state("networkidle")
    sent = _api_requests(pg)
    frames = pg.locator(".progress .seg").count()
    counts = _walk(pg, frames, sent)
    assert frames > 10 and counts == [1] * frames, counts


def test_an_rnn_player_frame_is_at_most_one_request(page, server):
    pg, _ = page
    open_rnn(pg, server, "?preset=memory-lstm")
    pg.wait_for_load_state("networkidle")
    sent = _api_requests(pg)
    counts = _walk(pg, 24, sent)
    assert max(counts) == 1, counts


def test_the_cnn_page_start_sends_each_tensor_once(page, server):
    pg, _ = page
    responses = []
    pg.on(
        "response",
        lambda r: responses.append(r) if urlparse(r.url).path.startswith("/api/") else None,
    )
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
