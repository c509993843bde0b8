"""Every page on a 390x844 phone (issue 17 item 2), at a 1024x768 projector and at
150 % zoom: no sideways scrolling of the page, in each page's main states (before
and after the player steps, with an explanation open, with the BP training and
comparison panels, the RNN panels, the lab's rows and the tensor convolution's
output maps shown). A figure wider than the screen may scroll inside its own box;
the page may not. A failure names the element that sticks out furthest.

150 % zoom is emulated as the CSS viewport a 1366x768 screen has at that zoom
(1366/1.5 x 768/1.5 = 910x512 CSS px): what the page's layout sees is the same."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.browser.conftest import PageWatch, screenshot

# The element whose right edge is furthest past the screen's edge, outside any box
# that scrolls or clips by itself (those are measured as one element); null if none.
WIDEST = """(width) => {
  const own = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  const name = (e) => {
    const cls = String(e.className.baseVal ?? e.className).trim().split(/\\s+/).filter(Boolean);
    const tensor = e.dataset.tensor || e.closest('[data-tensor]')?.dataset.tensor;
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + cls.map((c) => '.' + c).join('')
      + (tensor ? ` [${tensor}]` : '') + ` "${(e.textContent || '').trim().slice(0, 40)}"`;
  };
  let worst = null;
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    const right = r.right + scrollX;
    if (!r.width || right <= width + 0.5 || own(e)) continue;
    if (getComputedStyle(e).position === 'fixed') continue;
    if (!worst || right > worst.right) worst = { right: Math.round(right), element: name(e) };
  }
  return worst;
}"""

# Boxes that scroll sideways by themselves must be reachable by keyboard (axe's
# scrollable-region-focusable): focusable, or holding something focusable.
UNREACHABLE_SCROLLERS = """() => [...document.querySelectorAll('body *')].filter((e) => {
  const s = getComputedStyle(e);
  if (!['auto', 'scroll'].includes(s.overflowX) || e.scrollWidth <= e.clientWidth + 1) return false;
  const focusable = (n) => n.tabIndex >= 0 && !n.disabled;
  return !focusable(e) && ![...e.querySelectorAll('*')].some(focusable);
}).map((e) => e.tagName.toLowerCase() + '.' + String(e.className))"""

# Visible buttons smaller than a 24x24 CSS px touch target (WCAG 2.5.8).
SMALL_BUTTONS = """() => [...document.querySelectorAll('button')].filter((b) => {
  const r = b.getBoundingClientRect();
  return r.width && r.height && (r.width < 24 || r.height < 24);
}).map((b) => `${b.className || b.dataset.act || b.textContent.trim()} ${Math.round(
  b.getBoundingClientRect().width)}x${Math.round(b.getBoundingClientRect().height)}`)"""


def check(pg, width: int, state: str) -> None:
    """The page does not scroll sideways at `width`; else name what sticks out."""
    scroll = pg.evaluate("document.scrollingElement.scrollWidth")
    if scroll > width:
        worst = pg.evaluate(WIDEST, width)
        pytest.fail(f"{pg.url} ({state}) scrolls sideways: {scroll} > {width} px; widest: {worst}")
    assert pg.evaluate(UNREACHABLE_SCROLLERS) == [], f"{pg.url} ({state})"
    assert pg.evaluate(SMALL_BUTTONS) == [], f"{pg.url} ({state}): buttons under 24x24 px"


def on_screen(pg, selector: str, width: int) -> None:
    """Every `selector` element lies within the screen's width (reachable without
    scrolling anything sideways)."""
    boxes = pg.locator(selector).evaluate_all(
        "es => es.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"
    )
    assert boxes, selector
    for left, right in boxes:
        assert left >= 0 and right <= width + 0.5, f"{selector} at {left}..{right}, screen {width}"


def step(pg, times: int = 2) -> None:
    """Step the player `times` frames with its step button, as a tap would."""
    player = pg.locator(".player").first
    if not player.count():
        return
    for _ in range(times):
        before = int(player.get_attribute("data-frame") or -1)
        player.locator("[data-act=step]").click()
        pg.wait_for_selector(f".player[data-frame='{before + 1}']:not([data-busy])")


def explain(pg, selector: str = ".heatmap.clickable .heatmap-overlay") -> None:
    """Tap the first cell of the first clickable map (a cell, never a mosaic's gap
    between tiles) and wait for its explanation."""
    pg.locator(selector).first.click(position={"x": 4, "y": 4})
    pg.wait_for_selector(".explain .total")


def rnn_panels(pg) -> None:
    """Tap a vector for its explanation; on a phone, the keyboard's cursor brings the far
    end of a vector wider than the screen into view (its figure scrolls, not the page)."""
    explain(pg, ".rnn-vector.clickable .heatmap-overlay")
    if pg.viewport_size["width"] >= 500:
        return
    wide = pg.locator("figure.heatmap").evaluate_all(
        "fs => fs.findIndex(f => f.scrollWidth > f.clientWidth + 1)"
    )
    assert wide >= 0, "no vector wider than the phone: nothing scrolls inside its figure"
    figure = pg.locator("figure.heatmap").nth(wide)
    figure.locator(".heatmap-overlay").focus()
    pg.keyboard.press("End")
    left, room, width = figure.evaluate("f => [f.scrollLeft, f.clientWidth, f.scrollWidth]")
    assert left + room >= width - 1, (left, room, width)
    pg.keyboard.press("Home")
    assert figure.evaluate("f => f.scrollLeft") == 0


def bp_panels(pg) -> None:
    pg.locator("[data-act=train]").click()
    pg.wait_for_selector("#view[data-trained='1']")
    pg.locator("[data-act=compare]").click()
    pg.wait_for_selector("#view[data-compared='1']")
    pg.locator(".bp-net .bp-neuron").last.click()


def rnn_ready(pg) -> None:
    pg.wait_for_selector(".rnn-gradients[data-ready]")


def lab_ready(pg) -> None:
    pg.wait_for_function("() => document.querySelector('#view').dataset.run === '1'")
    pg.wait_for_selector(".lab-row")


# (path, what to wait for once ready, then what to do after stepping): each state is checked.
Act = Callable[[object], None] | None
Size = tuple[int, int] | None
WALK: list[tuple[str, Act, Act]] = [
    ("/", None, None),
    ("/learn/convolution", None, lambda pg: pg.locator(".heatmap.clickable canvas").last.click()),
    ("/learn/tensor-convolution", None, explain),
    ("/learn/pooling", None, explain),
    ("/learn/cnn", None, explain),
    ("/learn/bp?epochs=3&cmpEpochs=3", None, bp_panels),
    ("/learn/learning-rate?steps=40&frame=0", lab_ready, None),
    ("/learn/rnn", rnn_ready, rnn_panels),
]  # fmt: skip
# The RNN presets with panels of their own (both directions, a typed prompt over the
# widest vectors, typed numbers): walked once per test, in one language, to keep it fast.
RNN_PANELS: list[tuple[str, Act, Act]] = [
    ("/learn/rnn?preset=bilstm-memory", rnn_ready, None),
    ("/learn/rnn?preset=chars-zh", rnn_ready, None),
    ("/learn/rnn?preset=sine-lstm", rnn_ready, None),
]


def walk(pg, server: str, lang: str, paths: list[tuple[str, Act, Act]], zoom: Size = None) -> None:
    """Open each page, check it loaded, stepped and with its panels open; with `zoom`,
    then shrink the window to that size (the resize a browser zoom makes) and check again."""
    width = pg.viewport_size["width"]
    home = pg.viewport_size
    for path, ready, act in paths:
        sep = "&" if "?" in path else "?"
        pg.goto(f"{server}{path}{sep}lang={lang}")
        if path != "/":
            pg.wait_for_selector("#view[data-ready]")
        if ready:
            ready(pg)
        check(pg, width, "loaded")
        if "tensor-convolution" in path:  # the output maps a student taps are on screen
            on_screen(pg, ".grid-cell.sum .heatmap-overlay", width)
        step(pg)
        check(pg, width, "stepped")
        if act:
            act(pg)
            check(pg, width, "panels open")
        if pg.locator(".player").count():  # the player's controls stay within reach
            on_screen(pg, ".player button", width)
        if zoom:
            pg.set_viewport_size({"width": zoom[0], "height": zoom[1]})
            pg.evaluate(
                "() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))"
            )
            check(pg, zoom[0], f"zoomed to {zoom[0]}x{zoom[1]}")
            if pg.locator(".player").count():
                on_screen(pg, ".player button", zoom[0])
            pg.set_viewport_size(home)


@pytest.fixture
def sized(browser, server) -> Iterator[Callable[..., tuple[object, PageWatch]]]:
    """Open a watched page at a given viewport (a phone: mobile with touch)."""
    contexts = []

    def open_at(width: int, height: int, phone: bool = False) -> tuple[object, PageWatch]:
        context = browser.new_context(
            viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone
        )
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        return pg, PageWatch(pg, server)

    yield open_at
    for context in contexts:
        context.close()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_page_fits_a_390_px_phone(sized, server, lang):
    pg, watch = sized(390, 844, phone=True)
    walk(pg, server, lang, WALK + (RNN_PANELS if lang == "en" else []))
    screenshot(pg, f"phone-last-page-{lang}")
    watch.assert_clean()


def test_every_page_fits_a_projector_and_150_percent_zoom(sized, server):
    """1024x768, then each page zoomed to 150 % of a 1366x768 screen (910x512 CSS px)."""
    pg, watch = sized(1024, 768)
    walk(pg, server, "en", [*WALK, RNN_PANELS[1]], zoom=(910, 512))
    watch.assert_clean()
