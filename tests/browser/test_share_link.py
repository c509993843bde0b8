"""'Copy link to this view' and ?session=<id> in a real browser: a copied link opens the
page as the student saw it (the drawing, the open explanation, the typed prompt), and
a session an API script made opens in its page."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.i18n import t
from tests.browser.conftest import watched_page
from tests.browser.rnn_helpers import open_rnn


def _tensor(server: str, sid: str, name: str) -> np.ndarray:
    r = httpx.get(f"{server}/api/sessions/{sid}/tensors/{name}")
    r.raise_for_status()
    body = r.json()
    return np.asarray(body["data"], dtype=np.float32).reshape(body["shape"])


def _copy_link(pg) -> str:
    pg.locator(".share-bar .share-link").click()
    pg.wait_for_function("() => document.querySelector('.share-url').value.startsWith('http')")
    return pg.locator(".share-url").input_value()


def _draw_a_one(pg) -> None:
    box = pg.locator("canvas.pad").bounding_box()
    x0, y0 = box["x"], box["y"]
    pg.mouse.move(x0 + 100, y0 + 30)
    pg.mouse.down()
    for y in range(30, 175, 10):
        pg.mouse.move(x0 + 100, y0 + y)
    pg.mouse.up()


def _ink(pg) -> int:
    """How many of the pad's pixels are not black."""
    return pg.evaluate(
        """() => {
          const c = document.querySelector('canvas.pad');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 60) n++;
          return n;
        }"""
    )


def test_a_copied_cnn_link_restores_the_drawing_and_the_open_explanation(page, server, browser):
    pg, _ = page
    pg.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pg.goto(server + "/learn/cnn?preset=digits-cnn")
    pg.wait_for_selector("#view[data-ready]")
    _draw_a_one(pg)
    pg.locator(".pad-box button.primary").click()
    pg.wait_for_selector(".prediction .ask-label")  # a drawing: the page asks its label
    pg.locator(".overview .layer[data-layer='conv1'] .layer-head").click()  # its detail
    out = pg.locator(".stage-box .tensor[data-tensor='conv1.out'] .heatmap-overlay").first
    box = out.bounding_box()
    out.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.3})
    pg.wait_for_selector(".stage-box .explain .total")
    heading = pg.locator(".stage-box .explain h3").first.text_content()
    total = pg.get_attribute(".stage-box .explain .total", "data-total")
    sid = pg.get_attribute("#view", "data-session-id")
    drawn = _tensor(server, sid, "conv1.in")

    link = _copy_link(pg)
    assert pg.evaluate("() => navigator.clipboard.readText()") == link
    assert "draw=" in link and "cell=conv1.out" in link
    assert len(link) < 2000, f"the link is {len(link)} characters"

    with watched_page(browser, server) as (fresh, watch):
        fresh.goto(link)
        fresh.wait_for_selector("#view[data-ready]")
        fresh.wait_for_selector(".stage-box .explain .total")
        assert fresh.locator(".stage-box .explain h3").first.text_content() == heading
        restored_total = float(fresh.get_attribute(".stage-box .explain .total", "data-total"))
        assert restored_total == pytest.approx(float(total), rel=1e-5, abs=1e-6)
        assert _ink(fresh) > 200  # the drawing shows on the pad
        fresh.wait_for_selector(".prediction .ask-label")  # it is the input: no label yet
        restored = _tensor(server, fresh.get_attribute("#view", "data-session-id"), "conv1.in")
        # the input is the drawing (the link carries each pixel as k / m, k and m < 256;
        # read back as float32 it may differ in the last bit)
        np.testing.assert_allclose(restored, drawn, rtol=1e-6, atol=1e-7)
        assert "draw=" not in fresh.url  # read once: a reload after a new drawing keeps it
        watch.assert_clean()


def test_a_copied_rnn_link_restores_the_typed_prompt(page, server, browser):
    pg, _ = page
    open_rnn(pg, server, "?preset=chars-en")
    pg.wait_for_selector(".rnn-prompt:not([hidden])")
    pg.locator("[data-control=prompt]").fill("the")
    pg.locator("[data-control=read]").click()
    pg.wait_for_function("() => document.querySelector('.rnn-prompt').dataset.read === 'the'")
    best = pg.get_attribute(".rnn-prompt", "data-best")
    for _ in range(3):  # a few steps into the pass read, and a cell of that step explained
        pg.locator("[data-act=step]").click()
    pg.wait_for_function("() => document.querySelector('#view').dataset.step === '2'")
    vector = pg.locator(".rnn-cell .rnn-vector.clickable .heatmap-overlay").first
    vector.click(position={"x": 5, "y": 5})
    pg.wait_for_selector(".explain .total")
    heading = pg.locator(".explain h3").first.text_content()
    link = _copy_link(pg)
    assert "prompt=the" in link and "step=2" in link and "cell=" in link

    with watched_page(browser, server) as (fresh, watch):
        open_rnn(fresh, server, link[link.index("?") :])
        fresh.wait_for_function(
            "() => document.querySelector('.rnn-prompt').dataset.read === 'the'"
        )
        assert fresh.locator("[data-control=prompt]").input_value() == "the"
        assert fresh.get_attribute(".rnn-prompt", "data-best") == best
        fresh.wait_for_function("() => document.querySelector('#view').dataset.step === '2'")
        fresh.wait_for_selector(".explain .total")
        assert fresh.locator(".explain h3").first.text_content() == heading
        watch.assert_clean()


@pytest.mark.console_errors_expected("404")
def test_session_param_opens_an_api_made_session(page, server):
    pg, _ = page
    made = httpx.post(
        f"{server}/api/sessions",
        json={"preset": "digits-cnn", "input": {"sample": {"split": "test", "index": 7}}},
    ).json()
    sid = made["id"]
    before = httpx.get(f"{server}/api/sessions/{sid}").json()
    pg.goto(f"{server}/learn/cnn?session={sid}")
    pg.wait_for_selector("#view[data-ready]")
    mine = pg.get_attribute("#view", "data-session-id")
    assert mine != sid  # the page shows its own copy: students never step the script's
    assert pg.locator(".sample").input_value() == "7"
    # the maps shown are that session's tensors, downloaded as the page has them
    pg.locator(".overview .layer[data-layer='conv1'] .layer-head").click()
    with pg.expect_download() as got:
        pg.locator(".stage-box .tensor[data-tensor='conv1.out'] button[data-format=json]").click()
    shown = np.asarray(json.loads(Path(got.value.path()).read_text())["data"], np.float32)
    assert f"session={sid}" in _copy_link(pg)  # the link names the original, not the copy
    pg.wait_for_selector(".player:not([data-busy])[data-frame]", state="attached")
    first = int(pg.get_attribute(".player", "data-frame"))
    for k in range(1, 4):  # the page steps its copy
        pg.locator(".player [data-act=step]").click()
        pg.wait_for_selector(
            f".player:not([data-busy])[data-frame='{first + k}']", state="attached"
        )
    pg.locator(".sample").fill("3")
    pg.locator(".sample").press("Enter")
    pg.wait_for_function("() => document.querySelector('.sample').value === '3'")
    pg.wait_for_selector(".player:not([data-busy])[data-frame]", state="attached")
    after = httpx.get(f"{server}/api/sessions/{sid}").json()
    assert (after["cursor"], after["input"]) == (before["cursor"], before["input"])
    # what the page showed is the original's: its pass, run now, has the same maps
    httpx.post(f"{server}/api/sessions/{sid}/steps", json={"until": "forward"}).raise_for_status()
    np.testing.assert_array_equal(shown, _tensor(server, sid, "conv1.out"))
    # the page does not delete the script's session, even when it moves on
    pg.locator("select[aria-label]").first.select_option("shapes-cnn")
    pg.wait_for_function(f"() => document.querySelector('#view').dataset.sessionId !== '{mine}'")
    assert httpx.get(f"{server}/api/sessions/{sid}").status_code == 200
    assert "session=" not in _copy_link(pg)

    # an id the server does not know, and a session of another page: said, with links
    pg.goto(f"{server}/learn/cnn?session=nope")
    pg.wait_for_selector("#view[data-ready]")
    assert pg.locator(".session-notice a.fresh").count() == 1
    rnn = httpx.post(f"{server}/api/sessions", json={"preset": "memory-lstm"}).json()["id"]
    pg.goto(f"{server}/learn/cnn?session={rnn}&lang=zh-CN")
    pg.wait_for_selector("#view[data-ready]")
    notice = pg.locator(".session-notice")
    assert "循环神经网络" in notice.text_content()
    assert notice.locator("a").first.get_attribute("href").endswith(f"/learn/rnn?session={rnn}")


def test_session_param_on_the_rnn_page_steps_a_copy_named_by_its_nonlinearity(page, server):
    """The RNN page steps a copy of the script's session; a ReLU RNN's sums are "before
    ReLU", never "before tanh"."""
    pg, _ = page
    body = {"preset": "vanishing-rnn", "overrides": {"nonlinearity": "relu"}}
    made = httpx.post(f"{server}/api/sessions", json=body)
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    before = httpx.get(f"{server}/api/sessions/{sid}").json()
    open_rnn(pg, server, f"?session={sid}")
    for _ in range(3):
        pg.locator(".player [data-act=step]").click()
    pg.wait_for_selector(".rnn-vector[data-tensor$='.pre']")
    pg.wait_for_selector(".player:not([data-busy])", state="attached")
    after = httpx.get(f"{server}/api/sessions/{sid}").json()
    assert after["cursor"] == before["cursor"]
    assert f"session={sid}" in _copy_link(pg)
    label = pg.locator(".rnn-vector[data-tensor$='.pre'] .named").first.text_content()
    relu = t("name.part.pre.fn").format(fn=t("name.fn.relu"))
    assert label.startswith(relu) and "tanh" not in label


def test_a_recurrent_network_without_a_preset_opens_on_the_rnn_page(page, server):
    """A session made from an .npz of an LSTM (no preset) belongs on the RNN page: the BP
    page points there, and the RNN page shows a copy of it."""
    pg, _ = page
    made = httpx.post(f"{server}/api/sessions", json={"preset": "memory-lstm"}).json()
    weights = httpx.get(f"{server}/api/sessions/{made['id']}/weights.npz").content
    name = f"{made['network']['layers'][0]['name']}.in"
    ran = httpx.post(f"{server}/api/sessions/{made['id']}/steps", json={"until": "forward"})
    assert ran.status_code == 200, ran.text
    given = {"array": _tensor(server, made["id"], name).tolist(), "target": made["input"]["label"]}
    body = {"weights_npz": base64.b64encode(weights).decode(), "input": given}
    own = httpx.post(f"{server}/api/sessions", json=body)
    assert own.status_code == 201, own.text
    sid = own.json()["id"]
    assert own.json()["preset"] is None
    pg.goto(f"{server}/learn/bp?session={sid}")
    pg.wait_for_selector("#view[data-ready]")
    there = pg.locator(".session-notice a").first
    assert there.get_attribute("href").endswith(f"/learn/rnn?session={sid}")
    there.click()
    pg.wait_for_selector("#view[data-ready]")
    assert pg.locator(".session-notice").count() == 0
    assert f"session={sid}" in _copy_link(pg)


def test_session_param_opens_a_copy_on_the_convolution_pooling_and_tensor_pages(page, server):
    """The server names each session's page; there, ?session= opens a copy of it and the
    page's settings show the given network's (not the URL's defaults)."""
    pg, _ = page
    conv = {"conv": {"conv1": {"kernel": 2, "padding": 1, "stride": 1, "flip": True}}}
    cases = [
        ("convolution", {"preset": "conv-basics", "overrides": conv}, "conv1.w"),
        ("pooling", {"preset": "pooling", "overrides": {"pooling": "avg"}}, "pool1.in"),
        ("tensor-convolution", {"preset": "tensor-conv", "seed": 5}, "conv1.w"),
    ]
    copies: list[dict] = []
    pg.on(
        "request",
        lambda r: (
            copies.append(r.post_data_json)
            if r.method == "POST" and r.url.endswith("/api/sessions")
            else None
        ),
    )
    for topic, body, weights in cases:
        made = httpx.post(f"{server}/api/sessions", json=body).json()
        assert made["page"] == topic
        copies.clear()
        pg.goto(f"{server}/learn/{topic}?session={made['id']}")
        pg.wait_for_selector("#view[data-ready]")
        assert copies == [{"copy_of": made["id"]}], topic  # one request: the copy, nothing else
        shown = pg.get_attribute("#view", "data-session-id")
        assert shown != made["id"]
        url = f"{server}/api/sessions/{made['id']}/steps"
        httpx.post(url, json={"until": "forward"}).raise_for_status()  # its tensors, now
        np.testing.assert_array_equal(
            _tensor(server, shown, weights), _tensor(server, made["id"], weights)
        )
        if topic == "convolution":
            assert pg.input_value("input[data-key='k']") == "2"
            assert pg.input_value("input[data-key='p']") == "1"
            assert pg.input_value("select[data-key='mode']") == "true"
        if topic == "pooling":
            assert pg.locator("select").first.input_value() == "avg"
