"""A page whose session is gone, or whose server cannot reach its store (issue 15):
the page says so in its language, from the server's error code. A session deleted
under the page (as expiry, eviction or a store restarted empty would) gets "your session
has expired" and a button that makes a fresh one in one click, from the URL's state; a
store that is out (the SQLite directory moved away, as a lost mount) gets the server's
message and "retrying in N s", and the page carries on once the store is back; Redis
killed, then started again empty, is both in turn."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.i18n import catalog
from tests.app.test_store_faults import RedisServer
from tests.browser.conftest import PageWatch, screenshot, watched_page
from tests.processes import app_server

CNN = "/learn/cnn?preset=digits-cnn"
MAP = ".overview .channel-grid[data-tensor='relu1.out'] .heatmap-overlay"
EXPLAINED = ".stage-box .explain[data-kind='relu'] .total"  # the layer's detail opens


def created(response: Any) -> bool:
    return response.url.endswith("/api/sessions") and response.request.method == "POST"


def open_cnn(pg: Any, url: str) -> str:
    """Open the CNN page at `url`; the id of the session it made."""
    with pg.expect_response(created) as made:
        pg.goto(url)
    pg.wait_for_selector("#view[data-ready]")
    return made.value.json()["id"]


@pytest.mark.console_errors_expected(r"status of 404")
def test_a_gone_session_says_so_and_one_click_makes_a_fresh_one(
    page: tuple[Any, PageWatch], server: str
) -> None:
    pg, _ = page
    en = catalog("en")
    sid = open_cnn(pg, server + CNN)
    assert httpx.delete(f"{server}/api/sessions/{sid}").status_code in (200, 204)

    pg.locator(MAP).first.click(position={"x": 4, "y": 4})  # needs the session: 404
    box = pg.locator(".error[role=alert]")
    box.wait_for()
    assert en["error.session_gone"] in box.text_content()
    button = box.locator("button.fresh-session")
    assert button.text_content() == en["error.fresh_session"]
    assert pg.locator(".notice.retrying").count() == 0  # a 404 is not tried again
    screenshot(pg, "session-gone")

    with pg.expect_response(created) as made:
        button.click()
    fresh = made.value.json()["id"]
    assert fresh != sid
    pg.wait_for_selector("#view[data-ready]")
    # the URL's state made it again (the click opened relu1's step: the URL holds it; the
    # default preset it leaves out)
    assert pg.input_value(".controls select") == "digits-cnn" and "step=1" in pg.url
    assert pg.locator(".error").count() == 0
    pg.locator(MAP).first.click(position={"x": 4, "y": 4})
    pg.wait_for_selector(EXPLAINED)  # the fresh session answers


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An app of this module alone, and its data dir (the test moves it away)."""
    tmp = tmp_path_factory.mktemp("store-out")
    with app_server(tmp, {"GLASSBOX_WARM_UP": "0"}) as base:
        yield base, tmp / "data"


@pytest.fixture
def opage(browser: Any, own_server: tuple[str, Path]) -> Iterator[tuple[Any, PageWatch]]:
    with watched_page(browser, own_server[0]) as watched:
        yield watched


@pytest.mark.console_errors_expected(r"status of 503")
def test_a_store_that_is_out_is_shown_retried_and_the_page_carries_on(
    opage: tuple[Any, PageWatch], own_server: tuple[str, Path]
) -> None:
    pg, _ = opage
    base, data = own_server
    zh = catalog("zh-CN")
    open_cnn(pg, base + CNN + "&lang=zh-CN")
    away = data.with_name("away")
    data.rename(away)  # the store is out: every call that needs it is a 503
    try:
        pg.locator(MAP).first.click(position={"x": 4, "y": 4})
        notice = pg.locator(".notice.retrying")
        notice.wait_for()
        text = notice.text_content()
        assert zh["error.store_unavailable"] in text
        assert "秒后重试" in text  # "retrying in N s", in the page's language
        screenshot(pg, "store-out-retrying-zh")
    finally:
        away.rename(data)
    pg.wait_for_selector(EXPLAINED)  # a later try found the store back
    notice.wait_for(state="detached")
    assert pg.locator(".error").count() == 0


@pytest.fixture(scope="module")
def redis_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, RedisServer]]:
    """An app of this module on its own redis-server (the test kills and restarts it)."""
    redis_server = RedisServer(tmp_path_factory.mktemp("redis"))
    redis_server.start()
    try:
        env = {"GLASSBOX_WARM_UP": "0", "GLASSBOX_STORE": redis_server.url}
        with app_server(tmp_path_factory.mktemp("redis-app"), env) as base:
            yield base, redis_server
    finally:
        if redis_server.proc is not None and redis_server.proc.poll() is None:
            redis_server.kill()


@pytest.fixture
def rpage(browser: Any, redis_app: tuple[str, RedisServer]) -> Iterator[tuple[Any, PageWatch]]:
    with watched_page(browser, redis_app[0]) as watched:
        yield watched


@pytest.mark.console_errors_expected(r"status of 503", r"status of 404")
def test_redis_killed_then_restarted_empty_the_page_waits_then_starts_afresh(
    rpage: tuple[Any, PageWatch], redis_app: tuple[str, RedisServer]
) -> None:
    pg, _ = rpage
    base, redis_server = redis_app
    en = catalog("en")
    sid = open_cnn(pg, base + CNN)
    redis_server.kill()  # as a crash: the app's calls are 503 until it is back
    try:
        pg.locator(MAP).first.click(position={"x": 4, "y": 4})
        notice = pg.locator(".notice.retrying")
        notice.wait_for()
        assert en["error.store_unavailable"] in notice.text_content()
        assert "Retrying in" in notice.text_content()
        # ... and comes back empty (its data lost): the page's session is gone
        shutil.rmtree(redis_server.workdir / "appendonlydir", ignore_errors=True)
    finally:
        redis_server.start()
    box = pg.locator(".error[role=alert]")
    box.wait_for()  # a later try reached Redis, which no longer has the session
    assert en["error.session_gone"] in box.text_content()
    notice.wait_for(state="detached")
    with pg.expect_response(created) as made:
        box.locator("button.fresh-session").click()
    assert made.value.json()["id"] != sid
    pg.wait_for_selector("#view[data-ready]")
    pg.locator(MAP).first.click(position={"x": 4, "y": 4})
    pg.wait_for_selector(EXPLAINED)
