"""A tap pins a value (nothing is hover-only): on a phone (390x844, touch), tapping a
weight of the BP diagram pins the tip of exactly that weight, with the API's numbers,
until another tap or Escape."""

from collections.abc import Iterator

import httpx
import pytest

from tests.browser.bp_helpers import BP, ready
from tests.browser.conftest import PageWatch, watched_page

# A point on the line (as the screen shows it) where the line itself is the topmost
# element: the tap lands on that weight and no other.
POINT_ON = """(line) => {
  const m = line.getScreenCTM();
  const at = (f) => {
    const p = line.ownerSVGElement.createSVGPoint();
    p.x = +line.getAttribute("x1") + f * (line.getAttribute("x2") - line.getAttribute("x1"));
    p.y = +line.getAttribute("y1") + f * (line.getAttribute("y2") - line.getAttribute("y1"));
    return p.matrixTransform(m);
  };
  for (const f of [0.3, 0.25, 0.35, 0.2, 0.4, 0.15, 0.45]) {
    const p = at(f);
    if (document.elementFromPoint(p.x, p.y) === line) return [p.x, p.y];
  }
  return null;
}"""


@pytest.fixture
def phone(browser: object, server: str) -> Iterator[tuple[object, PageWatch]]:
    phone_size = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
    with watched_page(browser, server, **phone_size) as watched:
        yield watched


def _tap_edge(pg, layer, i, j):
    line = pg.locator(f".bp-edge[data-layer='{layer}'][data-from='{i}'][data-to='{j}']")
    line.scroll_into_view_if_needed()
    point = line.evaluate(POINT_ON)
    assert point, f"no point of {layer} w[{j},{i}] is on top"
    pg.touchscreen.tap(*point)


def test_tapping_a_weight_pins_its_own_tip_until_escape(phone, server):
    pg, _ = phone
    pg.goto(server + BP + "?hidden=5&lr=0.5&step=8")  # after the update: w, dw and w after
    ready(pg)
    pg.wait_for_selector("#view[data-frame='8']")
    sid = pg.get_attribute("#view", "data-session")
    w = httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.w.before").json()["data"]
    tip = pg.locator(".bp-tip")
    for i, j in [(0, 2), (1, 4)]:
        _tap_edge(pg, "dense1", i, j)
        pg.wait_for_selector(f".bp-tip[data-pinned][data-from='{i}'][data-to='{j}']")
        assert tip.get_attribute("data-kind") == "edge"
        assert f"dense1.w[{j},{i}]" in tip.text_content()
        assert float(tip.get_attribute("data-w")) == pytest.approx(w[j][i], abs=1e-6)
        pinned = pg.locator(".bp-edge.pinned")
        assert pinned.count() == 1
        assert (pinned.get_attribute("data-from"), pinned.get_attribute("data-to")) == (
            str(i),
            str(j),
        )
    # a tap on a neuron pins the neuron instead
    pg.locator(".bp-neuron[data-col='1'][data-i='3'] circle").tap()
    pg.wait_for_selector(".bp-tip[data-pinned][data-kind='neuron'][data-col='1'][data-i='3']")
    assert pg.locator(".bp-edge.pinned").count() == 0
    # stepping the player back keeps the pinned neuron (its numbers follow the frame)
    pg.evaluate("document.activeElement.blur()")
    pg.keyboard.press("ArrowLeft")
    pg.wait_for_selector("#view[data-frame='7']")
    pg.keyboard.press("ArrowLeft")
    pg.wait_for_selector("#view[data-frame='6']")
    assert tip.get_attribute("data-pinned") == "true" and tip.get_attribute("data-i") == "3"
    assert tip.get_attribute("data-after") == ""  # before step 7, dense1's update
    # Escape lets it go
    pg.keyboard.press("Escape")
    pg.wait_for_function("() => !document.querySelector('.bp-tip').dataset.kind")
    assert pg.locator(".bp-neuron.pinned").count() == 0


def test_tapping_a_map_cell_whose_number_is_not_drawn_pins_its_value(phone, server):
    """The RNN's hidden-units x time maps draw no numbers and explain nothing on a click:
    a tap pins the tapped cell's index and value until a tap elsewhere or Escape."""
    from tests.browser.rnn_helpers import open_rnn

    pg, _ = phone
    open_rnn(pg, server)
    overlay = pg.locator('.seq-map[data-tensor="lstm1.h"] .heatmap-overlay')
    overlay.scroll_into_view_if_needed()
    cell = float(overlay.get_attribute("data-cell"))
    tooltip = pg.locator(".tooltip")
    for r, c in [(1, 2), (3, 0)]:
        overlay.tap(position={"x": (c + 0.5) * cell, "y": (r + 0.5) * cell})
        pg.wait_for_selector(".tooltip.pinned:not([hidden])")
        assert tooltip.text_content().startswith(f"lstm1.h [{r}, {c}] = ")
        float(tooltip.text_content().rsplit("= ", 1)[1])  # the value, in full
    pg.locator('.seq-map[data-tensor="lstm1.h"] h4').tap()  # a tap beside the map
    assert tooltip.is_hidden()
    overlay.tap(position={"x": 0.5 * cell, "y": 0.5 * cell})
    assert tooltip.is_visible()
    pg.keyboard.press("Escape")
    assert tooltip.is_hidden()
