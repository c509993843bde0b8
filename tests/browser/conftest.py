"""A real browser against the real app: Playwright driving Debian's Chromium.

The app runs in a uvicorn process on a free loopback port with a fresh data dir.
Every request to anywhere but that server is aborted and recorded, so a page
that would fetch something from the internet fails its test; console errors,
uncaught page errors and failed requests are recorded too, and any of them fails
the test that used the `page` fixture once its body has run (no test needs to
ask). A test that provokes an error on purpose names the errors it expects with
`@pytest.mark.console_errors_expected("pattern", ...)`: only those are let
through. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.processes import ROOT, app_server

SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("app")) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail(
            "Debian's chromium is missing: run scripts/setup --dev (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


class PageWatch:
    """Console errors, failed requests and blocked outside requests of a page."""

    def __init__(self, page: object, base: str) -> None:
        self.page = page
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.outside: list[str] = []
        host = urlparse(base).netloc
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(r.url))

        def guard(route: object) -> None:
            url = route.request.url
            if urlparse(url).netloc == host or url.startswith("data:"):
                route.continue_()
            else:
                self.outside.append(url)
                route.abort()

        page.route("**/*", guard)

    def reset(self) -> None:
        """Forget what was seen so far (a page shared by several tests: each sees its own)."""
        self.errors.clear()
        self.failed.clear()
        self.outside.clear()

    def assert_clean(self, expected: tuple[str, ...] = ()) -> None:
        """No outside request, failed request or console error but those `expected` matches."""
        errors = [e for e in self.errors if not any(re.search(p, e) for p in expected)]
        assert not self.outside, f"requests outside the app: {self.outside}"
        assert not errors, f"console errors: {errors}"
        assert not self.failed, f"failed requests: {self.failed}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "console_errors_expected(*patterns): console errors matching these regexes are "
        "provoked on purpose and do not fail the browser test",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """After a test body that used a watched page (`page`, or any fixture built with
    watched_page) has passed, fail it if the page was not clean."""
    result = yield  # a test that already failed keeps its own failure
    marker = item.get_closest_marker("console_errors_expected")
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], PageWatch):
            value[1].assert_clean(tuple(marker.args) if marker else ())
    return result


@contextmanager
def watched_page(
    browser: object, base: str, **context_options: object
) -> Iterator[tuple[object, PageWatch]]:
    """A fresh page (1280x900, unless `context_options` such as viewport, has_touch or
    is_mobile say otherwise) on the app at `base`, with its PageWatch."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context_options})
    pg = context.new_page()
    watch = PageWatch(pg, base)
    pg.set_default_timeout(20_000)
    try:
        yield pg, watch
    finally:
        context.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[tuple[object, PageWatch]]:
    with watched_page(browser, server) as watched:
        yield watched


def screenshot(page: object, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
