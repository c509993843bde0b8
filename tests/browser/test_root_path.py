"""The app under a sub-path in Chromium: a server with GLASSBOX_ROOT_PATH=/glassbox,
reached directly (the prefix passed on, as a proxy that keeps it does) and through
nginx serving https://host/glassbox/ with the prefix stripped. Every request a page
makes stays under /glassbox/ (nginx answers nothing outside it) and succeeds."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.browser.bp_helpers import ready
from tests.browser.conftest import watched_page
from tests.processes import app_server, free_port, stop

PREFIX = "/glassbox"

NGINX_CONF = """worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/client_body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 404; }}
    location /glassbox/ {{
      proxy_pass http://{upstream}/;  # the URI part: /glassbox/ is replaced by /
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_buffering off;  # a training's events as they come
    }}
  }}
}}
"""


@pytest.fixture(scope="module")
def rooted_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("rooted"), {"GLASSBOX_ROOT_PATH": PREFIX}) as base:
        yield base


@pytest.fixture(scope="module")
def stripping_proxy(rooted_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx on a free loopback port passing /glassbox/... on as /..."""
    exe = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if exe is None:  # a failure, not a skip: the sub-path must not go untested unnoticed
        pytest.fail("nginx is not installed: run scripts/setup --dev (apt-get install nginx)")
    prefix = Path(tmp_path_factory.mktemp("nginx"))
    prefix.chmod(0o755)  # run as root, nginx's workers are `nobody`
    port = free_port()
    conf = prefix / "nginx.conf"
    upstream = urlparse(rooted_server).netloc
    conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, upstream=upstream))
    log = prefix / "error.log"
    cmd = [exe, "-p", str(prefix), "-e", str(log), "-c", str(conf), "-g", "daemon off;"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{url}{PREFIX}/healthz", trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nginx did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        assert httpx.get(f"{url}/healthz", trust_env=False).status_code == 404  # only /glassbox/
        yield url
    finally:
        stop(proc)


@pytest.fixture(params=["direct", "nginx"])
def entry(request: pytest.FixtureRequest, rooted_server: str) -> str:
    """Where the browser goes: the app itself, or nginx in front of it."""
    return (
        rooted_server if request.param == "direct" else request.getfixturevalue("stripping_proxy")
    )


@pytest.fixture
def rooted_page(browser: object, entry: str) -> Iterator[tuple[object, object]]:
    with watched_page(browser, entry) as watched:
        yield watched


def record(pg) -> list[tuple[str, str]]:
    """(path, status or 'failed') of every request the page makes from now on."""
    seen: list[tuple[str, str]] = []
    pg.on("requestfinished", lambda r: seen.append((r.url, str(r.response().status))))
    pg.on("requestfailed", lambda r: seen.append((r.url, "failed")))
    return seen


def assert_under_prefix(seen: list[tuple[str, str]]) -> list[str]:
    """Every request went to /glassbox/... and got a 2xx or 3xx; their paths."""
    paths = [urlparse(url).path for url, _ in seen if not url.startswith("data:")]
    assert paths and all(p.startswith(PREFIX + "/") for p in paths), paths
    assert [(u, s) for u, s in seen if s == "failed" or int(s) >= 400] == []
    return paths


def test_home_a_walkthrough_stepped_and_its_links_stay_under_the_prefix(rooted_page, entry):
    pg, _ = rooted_page
    seen = record(pg)
    pg.goto(f"{entry}{PREFIX}/")
    pg.click("a[data-topic-link='cnn']")
    pg.wait_for_selector("#view[data-ready]")
    pg.keyboard.press("ArrowRight")  # one step
    pg.wait_for_function("() => document.querySelector('#view').dataset.step === '0'")
    pg.click("a[hreflang='zh-CN']")  # the language switch, then home by the brand link
    pg.wait_for_selector("#view[data-ready]")
    pg.click("a.brand")
    pg.wait_for_selector("a[data-topic-link='cnn']")
    pg.wait_for_load_state("networkidle")
    paths = assert_under_prefix(seen)
    assert f"{PREFIX}/learn/cnn" in paths and f"{PREFIX}/api/sessions" in paths
    assert any(p.startswith(f"{PREFIX}/api/sessions/") and p.endswith("/steps") for p in paths)
    assert any(p.startswith(f"{PREFIX}/static/js/") for p in paths)


def test_a_training_streams_under_the_prefix(rooted_page, entry):
    pg, _ = rooted_page
    seen = record(pg)
    pg.goto(f"{entry}{PREFIX}/learn/bp?dataset=blobs&epochs=2")
    ready(pg)
    pg.click("[data-act=train]")
    pg.wait_for_selector("#view[data-trained='1']")
    pg.wait_for_load_state("networkidle")
    paths = assert_under_prefix(seen)
    assert any(p.startswith(f"{PREFIX}/api/sessions/") and p.endswith("/train") for p in paths)


def test_swagger_ui_tries_the_api_under_the_prefix_and_redoc_reads_it(rooted_page, entry):
    pg, _ = rooted_page
    seen = record(pg)
    pg.goto(f"{entry}{PREFIX}/docs")
    pg.click(".opblock-summary-path[data-path='/api/presets']")
    pg.click(".try-out__btn")
    pg.click(".execute")
    status = ".live-responses-table tbody .response-col_status"
    pg.wait_for_selector(status)
    assert pg.text_content(status).strip() == "200"
    pg.goto(f"{entry}{PREFIX}/redoc")
    pg.wait_for_selector("text=API docs by Redocly")
    pg.wait_for_load_state("networkidle")
    paths = assert_under_prefix(seen)
    assert paths.count(f"{PREFIX}/openapi.json") == 2 and f"{PREFIX}/api/presets" in paths
