"""Roving tab stops: the BP diagram (neurons and weights) and each map of cells are one
stop in the Tab order; arrow keys move among the items, each named by its index and
the API's value, Enter explains as a click does, and the player does not step."""

import httpx
import pytest

from tests.browser.bp_helpers import BP, ready, tensor

TAB_STOPS = (
    "(root) => [...root.querySelectorAll('[tabindex]')].filter((n) => n.tabIndex >= 0).length"
)
FOCUSED = """() => {
  const a = document.activeElement;
  const tabindex = a.getAttribute("tabindex");
  return { label: a.getAttribute("aria-label"), data: { ...a.dataset }, tabindex };
}"""


def _number(label):
    return float(label.rsplit("=", 1)[1].replace("−", "-"))


def test_bp_diagram_is_one_tab_stop_and_arrows_walk_neurons_and_weights(page, server):
    pg, _ = page
    pg.goto(server + BP + "?dataset=digits&hidden=16&lr=0.5&step=10")
    ready(pg)
    pg.wait_for_selector("#view[data-frame='10']")  # the last step: dense2's update
    sid = pg.get_attribute("#view", "data-session")
    net = pg.locator("svg.bp-net")
    assert net.locator(".bp-edge").count() == 12 * 12 + 12 * 10  # the drawn weights
    assert net.evaluate(TAB_STOPS) == 1
    # the stop is the first neuron, x[0], until arrows move it
    pg.focus("svg.bp-net [tabindex='0']")
    first = pg.evaluate(FOCUSED)
    assert (first["data"]["col"], first["data"]["i"]) == ("0", "0")
    pg.keyboard.press("ArrowDown")
    pg.keyboard.press("ArrowDown")
    now = pg.evaluate(FOCUSED)
    assert (now["data"]["col"], now["data"]["i"]) == ("0", "2")
    assert now["label"].startswith("neuron x[2]: δ = ")  # after backward: the delta
    assert _number(now["label"]) == pytest.approx(
        tensor(server, sid, "dense1.dx")[2], rel=5e-3
    )  # shown to 3-4 digits
    # Right: the first weight out of x[2] (into dense1[0]); Down: the next weight into dense1[0]
    pg.keyboard.press("ArrowRight")
    edge = pg.evaluate(FOCUSED)
    assert (edge["data"]["layer"], edge["data"]["from"], edge["data"]["to"]) == ("dense1", "2", "0")
    pg.keyboard.press("ArrowDown")
    edge = pg.evaluate(FOCUSED)
    assert (edge["data"]["from"], edge["data"]["to"]) == ("3", "0")
    w = httpx.get(f"{server}/api/sessions/{sid}/tensors/dense1.w.after").json()["data"]
    assert edge["label"].startswith("weight dense1.w[0,3] = ")
    assert _number(edge["label"]) == pytest.approx(w[0][3], rel=5e-3)  # shown to 3-4 digits
    tip = pg.locator(".bp-tip")
    assert (tip.get_attribute("data-kind"), tip.get_attribute("data-from")) == ("edge", "3")
    assert "dense1.w[0,3]" in tip.text_content()
    # Right again: the neuron the weight enters; still one tab stop, now that neuron
    pg.keyboard.press("ArrowRight")
    node = pg.evaluate(FOCUSED)
    assert (node["data"]["col"], node["data"]["i"]) == ("1", "0")
    assert node["tabindex"] == "0" and net.evaluate(TAB_STOPS) == 1
    # focus is visible: the focused neuron's ring is dashed
    assert pg.evaluate(
        "() => getComputedStyle(document.activeElement.querySelector('circle')).strokeDasharray"
    ) not in ("", "none")
    # Enter explains the weight like a click; the player did not step on any arrow
    pg.keyboard.press("ArrowLeft")
    pg.keyboard.press("Enter")
    pg.wait_for_selector(".explain[data-kind='update.sgd'] .total")
    assert pg.get_attribute("#view", "data-frame") == "10"
    # Tab leaves the diagram
    pg.keyboard.press("Tab")
    assert not pg.evaluate(
        "() => document.querySelector('svg.bp-net').contains(document.activeElement)"
    )


def test_a_map_is_one_tab_stop_arrows_name_the_cell_enter_explains(page, server):
    pg, _ = page
    pg.goto(server + "/learn/tensor-convolution")
    pg.wait_for_selector("#view[data-ready]")
    sid = pg.get_attribute("#view", "data-session-id")
    out = pg.locator(".grid-cell.sum").first
    assert out.evaluate(TAB_STOPS) == 1
    overlay = out.locator(".heatmap-overlay")
    overlay.focus()
    assert overlay.evaluate("o => o.matches(':focus-visible')")
    label = overlay.get_attribute("aria-label")
    assert "[0, 0] = " in label
    for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
        pg.keyboard.press(key)
    label = overlay.get_attribute("aria-label")
    assert label.startswith("conv1.out[0,0] [1, 2] = ")
    api = httpx.get(f"{server}/api/sessions/{sid}/tensors/conv1.out").json()["data"]
    assert _number(label) == pytest.approx(api[0][0][1][2], rel=5e-3)  # shown to 3-4 digits
    # the cursor is drawn: the keyboard's mark (light over dark) sits on cell (1, 2)
    inks = overlay.evaluate(
        """o => {
          const cell = Number(o.dataset.cell), r = o.width / o.clientWidth;
          const [x, y] = [2 * cell * r, 1.5 * cell * r].map(Math.round);
          const d = o.getContext("2d").getImageData(x, y, Math.round(6 * r), 8).data;
          const out = new Set();
          for (let k = 0; k < d.length; k += 4)
            if (d[k + 3] === 255) out.add(`${d[k]},${d[k + 1]},${d[k + 2]}`);
          return [...out];
        }"""
    )
    assert {"0,0,0", "255,255,255"} <= set(inks)
    pg.keyboard.press("Enter")
    pg.wait_for_selector(".explain .total")
    assert "[0,0,1,2]" in pg.locator(".explain h3").first.text_content().replace(" ", "")
