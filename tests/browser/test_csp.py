"""Every page keeps within its Content-Security-Policy in Chromium: the home page, each
walkthrough stepped, the API docs used, the 404 page. A violation is caught twice: the
page's `securitypolicyviolation` events, and the console (where Chromium reports it)."""

import pytest

from app.routers.pages import TOPICS

REPORT = """document.addEventListener("securitypolicyviolation", (e) => window.cspViolation(
  `${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));"""


def watch_csp(pg) -> list[str]:
    """The violations of every document `pg` loads from now on, and its CSP messages."""
    seen: list[str] = []
    pg.expose_binding("cspViolation", lambda _source, text: seen.append(text))
    pg.add_init_script(REPORT)
    pg.on("console", lambda m: seen.append(m.text) if "Security Policy" in m.text else None)
    return seen


def _open(pg, url: str) -> None:
    response = pg.goto(url)
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/", "/?lang=zh-CN", *(f"/learn/{t}" for t in TOPICS)])
def test_a_page_stepped_breaks_no_policy(page, server, path):
    pg, _ = page
    violations = watch_csp(pg)
    _open(pg, server + path)
    if path.startswith("/learn/"):
        pg.wait_for_selector("#view[data-ready]")
        for _ in range(3):  # a few steps: new tensors, legends, explanations drawn
            pg.keyboard.press("ArrowRight")
            pg.wait_for_timeout(150)
    pg.wait_for_load_state("networkidle")
    assert violations == []


def test_swagger_ui_breaks_no_policy(page, server):
    pg, _ = page
    violations = watch_csp(pg)
    _open(pg, server + "/docs")
    pg.wait_for_selector(".swagger-ui .info")
    pg.locator(".opblock-summary").first.click()  # an operation opened: its schemas drawn
    pg.wait_for_selector(".opblock-body")
    pg.wait_for_load_state("networkidle")
    assert violations == []


def test_redoc_breaks_no_policy_and_loads_nothing_from_a_cdn(page, server):
    pg, watch = page
    violations = watch_csp(pg)
    _open(pg, server + "/redoc")
    pg.wait_for_selector("text=API docs by Redocly")
    pg.fill("input[placeholder='Search...']", "session")  # its search index, in a worker
    pg.wait_for_selector(
        "[data-role='search:results'] [role=menuitem], [data-role='search:results'] li"
    )
    pg.wait_for_load_state("networkidle")
    assert violations == []
    assert watch.outside == []  # the logo once came from cdn.redoc.ly


@pytest.mark.console_errors_expected(r"status of 404")  # the page's own status
def test_the_404_page_breaks_no_policy(page, server):
    pg, _ = page
    violations = watch_csp(pg)
    response = pg.goto(server + "/learn/cnnn?lang=zh-CN")
    assert response.status == 404
    pg.click("a[href*='/learn/cnn?']")  # its links lead on
    pg.wait_for_selector("#view[data-ready]")
    assert violations == []
