"""axe-core on every page, in both languages (issue 17, item 3): the home page, each
walkthrough (as loaded, after the player has stepped a few frames, and with an
explanation panel open) and the 404 page. Any violation of impact "serious" or
"critical" fails, listed by rule, target and summary.

axe-core comes from npm (package-lock.json; `scripts/setup --dev` runs `npm ci`).
The page keeps its Content-Security-Policy: axe.min.js is served to it from the
app's own origin by a Playwright route, as a script it loads like its own, so the
policy is never bypassed and a part that breaks it still fails here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.routers.pages import TOPICS
from tests.browser.conftest import PageWatch, watched_page
from tests.browser.walk import EXPLAIN, NO_PLAYER
from tests.processes import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__test-axe__/axe.min.js"  # no app route: only the test's route answers it
LANGS = ("en", "zh-CN")
FAILING = ("serious", "critical")


@pytest.fixture(scope="module")
def shared(browser: object, server: str) -> Iterator[tuple[object, PageWatch]]:
    """One page for the whole module, with axe.min.js routed onto the app's origin."""
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run scripts/setup --dev (npm ci)")
    source = AXE.read_text(encoding="utf-8")
    with watched_page(browser, server) as (pg, watch):
        pg.route(
            server + AXE_PATH,
            lambda route: route.fulfill(body=source, content_type="text/javascript"),
        )
        yield pg, watch


@pytest.fixture
def axe_page(shared: tuple[object, PageWatch]) -> tuple[object, PageWatch]:
    """The shared page with a clean watch: what one test sees is that test's."""
    shared[1].reset()
    return shared


def serious_violations(pg: object, server: str) -> list[str]:
    """Run axe on the page as it is now; one line per node of each serious or critical
    violation."""
    if not pg.evaluate("() => Boolean(window.axe)"):
        pg.add_script_tag(url=server + AXE_PATH)
    results = pg.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{v['id']} ({v['impact']}) at {node['target']}: {node['failureSummary']}"
        for v in results["violations"]
        if v["impact"] in FAILING
        for node in v["nodes"]
    ]


# A live region is read out whenever it changes: one holding a figure, a map, a
# list of numbers or the player would read every redraw (the frame label is the one
# that follows the player; short status lines are the others).
NOISY_LIVE = """() => [...document.querySelectorAll('[aria-live]:not([aria-live=off])')]
  .filter((r) => r.id === 'view' ||
    r.querySelector('svg, canvas, table, figure, .player, .heatmap'))
  .map((r) => r.className || r.id)"""


def check(pg: object, server: str, where: str) -> None:
    found = serious_violations(pg, server)
    assert not found, f"axe on {where}:\n" + "\n".join(found)
    assert pg.evaluate(NOISY_LIVE) == [], f"live regions around figures on {where}"


@pytest.mark.parametrize("lang", LANGS)
def test_home_page(axe_page, server, lang):
    pg, _ = axe_page
    pg.goto(f"{server}/?lang={lang}")
    check(pg, server, f"home ({lang})")


@pytest.mark.console_errors_expected(r"status of 404")  # the page's own status
@pytest.mark.parametrize("lang", LANGS)
def test_404_page(axe_page, server, lang):
    pg, _ = axe_page
    response = pg.goto(f"{server}/no-such-page?lang={lang}")
    assert response.status == 404
    check(pg, server, f"the 404 page ({lang})")


def settled(pg: object, frame: int | None = None) -> None:
    """Wait until the (first) player has shown a frame (`frame`, if given)."""
    at = "[data-frame]" if frame is None else f"[data-frame='{frame}']"
    pg.wait_for_selector(f".player:not([data-busy]){at}", state="attached")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("topic", list(TOPICS))
def test_walkthrough(axe_page, server, topic, lang):
    pg, _ = axe_page
    pg.goto(f"{server}/learn/{topic}?lang={lang}")
    pg.wait_for_selector("#view[data-ready]")
    if topic not in NO_PLAYER:
        settled(pg)
    check(pg, server, f"/learn/{topic} as loaded ({lang})")
    if topic not in NO_PLAYER:  # step the player a few frames from the first, on its slider
        slider = pg.locator(".player [role=slider]").first
        slider.focus()
        slider.press("Home")
        for _ in range(3):
            slider.press("ArrowRight")
        settled(pg, 3)
        assert slider.get_attribute("aria-valuenow") == "4"
        check(pg, server, f"/learn/{topic} at frame 4 ({lang})")
    if topic not in EXPLAIN:
        return
    target, position = EXPLAIN[topic]
    pg.locator(target).first.click(position=position)
    pg.wait_for_selector(".explain[data-kind]")
    check(pg, server, f"/learn/{topic} with an explanation open ({lang})")
