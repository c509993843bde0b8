"""The LSTM cell as a picture (static/js/lstm-cell.js) on the RNN page, in a real
browser: every number on the diagram is the API's (the step's tensors at the unit, read
here with httpx, c's two terms fc and ig among them, checked against the explanations
of c and h), drawn from the step the page holds (no request per frame), the unit picker
and the player move it, a number's click and keys open its explanation, both languages
(its symbols are math, the same in both), axe, present mode at 1024x768 and a 390 px
phone (the figure scrolls in its own box, its text stays readable)."""

import json
import re
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.browser.conftest import screenshot
from tests.browser.rnn_helpers import RNN
from tests.browser.test_axe import AXE, AXE_PATH, check

ROOT = Path(__file__).resolve().parents[2]
PRESET = "sine-lstm"
KEYS = ("f", "i", "g", "o", "c_prev", "c", "tanh_c", "h", "h_prev", "fc", "ig")
EXPLAIN_URL = re.compile(r"/api/sessions/([^/]+)/explain\?tensor=([^&]+)")


def created(response) -> bool:
    return response.url.endswith("/api/sessions") and response.request.method == "POST"


def catalog(lang: str) -> dict[str, str]:
    return json.loads((ROOT / "app" / "locales" / lang / "lstm-cell.json").read_text("utf-8"))


def drawn(pg, t: int, unit: int) -> None:
    """Wait until the diagram shows time step t of `unit`."""
    pg.wait_for_selector(f".lstm-cell[data-ready][data-t='{t}'][data-unit='{unit}']")


def shown(pg) -> dict[str, tuple[float, str]]:
    """Each number on the diagram: (its data-value, its text)."""
    return pg.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.lstm-num')]
            .map((g) => [g.dataset.key,
                  [Number(g.dataset.value), g.querySelector('.lstm-value').textContent]]))"""
    )


def api_numbers(server: str, sid: str, prefix: str, unit: int) -> dict[str, float]:
    """The diagram's numbers straight from the API: the step's tensors at the unit (c's
    terms fc and ig too, which are the products of c's explanation, named by their
    factors)."""
    out: dict[str, float] = {}
    with httpx.Client(base_url=server, timeout=30) as http:
        for part in KEYS:
            got = http.get(f"/api/sessions/{sid}/tensors/{prefix}{part}").json()
            out[part] = float(np.asarray(got["data"]).reshape(-1, got["shape"][-1])[0, unit])
        c = http.get(
            f"/api/sessions/{sid}/explain", params={"tensor": f"{prefix}c", "index": f"0,{unit}"}
        ).json()
        h = http.get(
            f"/api/sessions/{sid}/explain", params={"tensor": f"{prefix}h", "index": f"0,{unit}"}
        ).json()
    terms = {frozenset(f["tensor"] for f in x["factors"]): x["product"] for x in c["terms"]}
    assert terms == {
        frozenset({f"{prefix}f", f"{prefix}c_prev"}): pytest.approx(out["fc"], rel=1e-6),
        frozenset({f"{prefix}i", f"{prefix}g"}): pytest.approx(out["ig"], rel=1e-6),
    }, c["terms"]
    assert c["total"] == pytest.approx(out["c"], rel=1e-5, abs=1e-7)
    # h's explanation is o x tanh(c_t): one term of those two factors
    assert {f["tensor"] for f in h["terms"][0]["factors"]} == {f"{prefix}o", f"{prefix}tanh_c"}
    assert h["total"] == pytest.approx(out["h"], rel=1e-5, abs=1e-7)
    return out


def text_heights(pg) -> list[float]:
    """The on-screen height of each label and number of the diagram."""
    return pg.evaluate(
        """() => [...document.querySelectorAll('.lstm-cell-svg text')]
            .filter((x) => x.textContent).map((x) => x.getBoundingClientRect().height)"""
    )


def assert_matches(pg, want: dict[str, float]) -> None:
    got = shown(pg)
    assert set(got) == set(KEYS)
    for key in KEYS:
        value, text = got[key]
        assert value == pytest.approx(want[key], rel=1e-6, abs=1e-9), key
        assert float(text) == pytest.approx(want[key], rel=5e-3, abs=1e-6), (key, text)


def test_the_lstm_cell_shows_the_apis_numbers_and_follows_the_unit_and_the_player(page, server):
    pg, _ = page
    explained: list[tuple[str, str]] = []
    pg.on("request", lambda r: explained.extend(EXPLAIN_URL.findall(r.url)))
    pg.route(
        server + AXE_PATH,
        lambda route: route.fulfill(body=AXE.read_text("utf-8"), content_type="text/javascript"),
    )
    with pg.expect_response(created) as made:
        pg.goto(f"{server}{RNN}?preset={PRESET}&step=3")
    sid = made.value.json()["id"]
    pg.wait_for_selector("#view[data-ready]")
    drawn(pg, 3, 0)
    want = api_numbers(server, sid, "lstm1.t3.", 0)
    assert_matches(pg, want)
    cap = pg.locator(".lstm-cell-caption").inner_text()
    f = shown(pg)["f"][1]
    assert f"f = {f}" in cap and f"{round(100 * want['f'])} %" in cap
    assert shown(pg)["fc"][1] in cap and shown(pg)["ig"][1] in cap
    # a gate near 0 and one near 1 read apart without colour: the wire's width
    widths = pg.evaluate(
        """() => [...document.querySelectorAll('.lstm-wire.gated')]
            .map((w) => parseFloat(getComputedStyle(w).strokeWidth))"""
    )
    assert min(widths) >= 1.5 and max(widths) <= 8.5 and len(set(widths)) > 1
    check(pg, server, "the RNN page with the LSTM cell diagram")

    # another unit: other numbers, still the API's, and the URL keeps it
    pg.select_option("[data-control=unit]", "5")
    drawn(pg, 3, 5)
    want5 = api_numbers(server, sid, "lstm1.t3.", 5)
    assert_matches(pg, want5)
    assert want5 != want
    assert "unit=5" in pg.url

    # drawing asked the API for no explanation: only a click does
    assert explained == []
    # a click on f x c_(t-1) opens its explanation: f times c_(t-1), one product
    pg.locator(".lstm-num[data-key=fc]").click()
    pg.wait_for_selector(".explain[data-kind='lstm.fc']")
    total = float(pg.get_attribute(".explain .total", "data-total"))
    assert total == pytest.approx(want5["fc"], rel=1e-5, abs=1e-7)
    assert explained == [(sid, "lstm1.t3.fc")]
    pg.locator(".lstm-num[data-key=c]").click()  # c reads its two terms
    pg.wait_for_selector(".explain[data-kind='lstm.c']")
    terms = pg.locator(".explain .terms").inner_text()
    assert shown(pg)["fc"][1] in terms and shown(pg)["ig"][1] in terms
    # the keyboard: the diagram is one tab stop, arrows walk it, Enter explains
    pg.locator(".lstm-num[data-key=fc]").press("ArrowDown")
    assert pg.evaluate("() => document.activeElement.dataset.key") == "f"
    pg.keyboard.press("Enter")
    pg.wait_for_selector(".explain[data-kind='lstm.f']")
    assert pg.locator(".lstm-num[tabindex='0']").count() == 1

    # the player steps: the diagram moves to t = 4 with the same unit
    slider = pg.locator(".player [role=slider]").first
    slider.focus()
    slider.press("ArrowRight")
    drawn(pg, 4, 5)
    assert_matches(pg, api_numbers(server, sid, "lstm1.t4.", 5))

    # the step's change eases the gates' wires, unless the student asks for less motion
    duration = (
        "() => getComputedStyle(document.querySelector('.lstm-wire.gated')).transitionDuration"
    )
    assert pg.evaluate(duration) != "0s"
    pg.emulate_media(reduced_motion="reduce")
    assert pg.evaluate(duration) == "0s"

    # a 390 px phone: the page does not scroll sideways; the figure scrolls in its own
    # box, its text 12 px or more, and a focused number scrolls into view
    pg.set_viewport_size({"width": 390, "height": 844})
    pg.wait_for_timeout(100)
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert pg.locator(".lstm-cell-figure").bounding_box()["width"] <= 390
    assert min(text_heights(pg)) >= 12
    figure = ".lstm-cell-figure"
    assert pg.evaluate(f"() => document.querySelector('{figure}').scrollLeft") == 0
    pg.locator(".lstm-num[data-key=h]").focus()
    assert pg.evaluate(f"() => document.querySelector('{figure}').scrollLeft") > 0
    screenshot(pg, "lstm-cell-phone")


def test_the_lstm_cell_in_chinese_and_in_present_mode(browser, server):
    from tests.browser.conftest import watched_page

    zh = catalog("zh-CN")
    with watched_page(browser, server, viewport={"width": 1024, "height": 768}) as (pg, watch):
        pg.goto(f"{server}{RNN}?lang=zh-CN&present=1&preset={PRESET}&step=3")
        pg.wait_for_selector("#view[data-ready]")
        drawn(pg, 3, 0)
        box = pg.locator(".lstm-cell")
        assert box.locator("h3").text_content() == zh["lstmCell.title"]
        caption = box.locator(".lstm-cell-caption").text_content()  # present mode hides it
        assert caption.startswith(zh["lstmCell.caption"].split("{")[0])
        assert "遗忘门" in caption and "候选值" in caption and "细胞状态" in caption
        label = pg.get_attribute(".lstm-num[data-key=f]", "aria-label")
        assert label.startswith(zh["lstmCell.name.f"])
        # present mode at 1024x768: the labels are 16 px or more on screen
        sizes = text_heights(pg)
        scale = pg.locator(".lstm-cell-svg").bounding_box()["width"] / 760
        assert scale >= 1, scale
        assert min(sizes) >= 16
        screenshot(pg, "lstm-cell-present-zh")
        watch.assert_clean()
