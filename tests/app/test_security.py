"""Security for a school network: the headers on every answer, pages without inline
script or style, the page a browser gets for a mistyped address or a failure, and the
app under a sub-path (GLASSBOX_ROOT_PATH). tests/browser/test_csp.py and
test_root_path.py check the same in Chromium."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from app.errors import wants_html
from app.i18n import t
from app.main import create_app
from app.routers import pages
from app.routers.docs import REDOC_PATCHES
from app.routers.pages import TOPICS
from app.security import PAGE_CSP
from app.settings import Settings
from app.templating import STATIC_DIR, TEMPLATES_DIR

# What Chromium sends when it navigates to a page.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
           "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"}  # fmt: skip
PAGES = ["/", *(f"/learn/{topic}" for topic in TOPICS), "/docs", "/redoc"]
MOONS = {"dataset": "moons", "hidden": [4]}


def policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    parts = (d.split() for d in header.split(";") if d.strip())
    return {name: sources for name, *sources in parts}


class Markup(HTMLParser):
    """Every <script> and <style> of a page, every style="" attribute and every URL."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.styles, self.style_attrs, self.urls = 0, 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.scripts += [a] if tag == "script" else []
        self.styles += tag == "style"
        self.style_attrs += "style" in a
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]
        if tag == "meta" and a.get("name") == "glassbox-base":
            self.urls.append(a["content"] + "/")
        self.urls += [v for k, v in attrs if k in ("data-openapi-url", "data-spec-url")]


def markup(html: str) -> Markup:
    m = Markup()
    m.feed(html)
    return m


def test_pages_allow_scripts_styles_and_connections_from_this_origin_only(client):
    r = client.get("/")
    csp = policy(r.headers["Content-Security-Policy"])
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == csp["base-uri"] == csp["form-action"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]  # the empty favicon
    assert csp["object-src"] == csp["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in PAGE_CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [("GET", "/learn/cnn", None, 200), ("GET", "/api/presets", None, 200),
     ("GET", "/static/css/glassbox.css", None, 200), ("GET", "/healthz", None, 200),
     ("GET", "/docs-assets/swagger-ui.css", None, 200), ("GET", "/nope", None, 404),
     ("POST", "/api/sessions", {"preset": "no-such"}, 422),
     ("POST", "/api/sessions", "x" * 2_000_000, 413)],
)  # fmt: skip
def test_every_answer_carries_the_headers(client, method, path, body, status):
    kwargs = {"json": body} if isinstance(body, dict) else {"content": body}
    r = client.request(method, path, headers={"Content-Type": "application/json"}, **kwargs)
    assert r.status_code == status
    assert r.headers["Content-Security-Policy"] == PAGE_CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_a_429_carries_the_headers(tmp_path):
    s = Settings(data_dir=tmp_path, warm_up=False, client_creates_per_minute=1)
    with TestClient(create_app(s)) as c:
        assert c.post("/api/bp/sessions", json=MOONS).status_code == 201
        r = c.post("/api/bp/sessions", json=MOONS)
        assert r.status_code == 429 and r.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", [*PAGES, "/?lang=zh-CN", "/nope"])
def test_no_page_has_an_inline_script_or_style(client, path):
    page = markup(client.get(path, headers=BROWSER).text)
    for script in page.scripts:  # code comes from a file; data is JSON, never run
        assert script.get("src") or script.get("type") == "application/json", script
    assert page.styles == 0 and page.style_attrs == 0


def test_no_script_or_template_writes_a_style_attribute():
    """A style="" in markup is refused by the policy (a script sets element.style)."""
    files = [*Path(STATIC_DIR, "js").rglob("*.js"), *Path(TEMPLATES_DIR).glob("*.html")]
    written = re.compile(r"""style=["'{$]|setAttribute\(\s*["']style|<style""")
    offenders = [f.name for f in files if written.search(f.read_text())]
    assert len(files) > 40 and offenders == []


def test_redoc_allows_its_styles_by_a_nonce_new_for_each_answer(client):
    first, second = client.get("/redoc"), client.get("/redoc")
    nonces = []
    for r in (first, second):
        csp = policy(r.headers["Content-Security-Policy"])
        (nonce,) = [s for s in csp["style-src"] if s.startswith("'nonce-")]
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'", nonce]
        assert csp["worker-src"] == ["'self'", "blob:"]  # its search index
        assert "unsafe" not in r.headers["Content-Security-Policy"]
        scripts = markup(r.text).scripts
        assert [s["nonce"] for s in scripts] == [nonce[7:-1]] * 2
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_redoc_is_served_without_its_cdn_logo_and_revalidates(client):
    r = client.get("/docs-assets/redoc.standalone.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "cdn.redoc.ly" not in r.text and "https://cdn" not in r.text
    for old, new in REDOC_PATCHES:  # each still applies to the bundle fastapi-offline ships
        assert old not in r.text and new in r.text
    etag = {"If-None-Match": r.headers["ETag"]}
    again = client.get("/docs-assets/redoc.standalone.js", headers=etag)
    assert again.status_code == 304 and not again.content


@pytest.mark.parametrize(
    ("query", "header", "lang"),
    [("", None, "en"), ("?lang=zh-CN", None, "zh-CN"), ("", "zh-CN,zh;q=0.9", "zh-CN")],
)
def test_a_mistyped_page_is_a_page_in_the_browsers_language(client, query, header, lang):
    headers = {**BROWSER, **({"Accept-Language": header} if header else {})}
    r = client.get(f"/learn/cnnn{query}", headers=headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in r.text
    assert f"<h1>{t('page.not_found.title', lang)}</h1>" in r.text
    assert "/learn/cnnn" in r.text
    links = markup(r.text).urls
    assert all(f"/learn/{topic}?lang={lang}" in links for topic in TOPICS)
    assert f"/?lang={lang}" in links
    assert client.get(f"/no/such/page{query}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("path", "accept", "detail"),
    [("/api/nope", BROWSER["Accept"], "Not Found"), ("/nope", "*/*", "Not Found"),
     ("/nope", None, "Not Found"), ("/nope", "application/json", "Not Found"),
     ("/learn/cnnn", "*/*", f"no topic 'cnnn'; topics: {', '.join(TOPICS)}"),
     ("/api/sessions/nope", BROWSER["Accept"], None)],
)  # fmt: skip
def test_the_api_and_clients_that_do_not_ask_for_html_get_json(client, path, accept, detail):
    r = client.get(path, headers={"Accept": accept} if accept else {})
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    assert detail is None or r.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("accept", "html"),
    [(BROWSER["Accept"], True), ("text/html", True), ("text/*", True), ("*/*", False),
     ("", False), ("application/json", False), ("application/json, text/html", False),
     ("text/html;q=0.5, application/json", False), ("text/html, */*;q=0.1", True),
     ("text/html;q=0, */*", False), ("text/html;q=oops, */*;q=0.5", False)],
)  # fmt: skip
def test_wants_html_when_accept_prefers_html_to_json(accept, html):
    scope = {"type": "http", "path": "/x", "headers": [(b"accept", accept.encode())]}
    assert wants_html(Request(scope)) is html


def test_a_failing_page_is_a_500_page_for_a_browser_and_json_otherwise(settings, monkeypatch):
    def broken(lang):
        raise RuntimeError("a bug")

    monkeypatch.setattr(pages, "_preset_cards", broken)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        page = c.get("/?lang=zh-CN", headers=BROWSER)
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert t("page.server_error.title", "zh-CN") in page.text and "a bug" not in page.text
        assert page.headers["Content-Security-Policy"] == PAGE_CSP
        data = c.get("/")
        assert data.status_code == 500 and data.json() == {"detail": "Internal Server Error"}
        assert data.headers["X-Content-Type-Options"] == "nosniff"


# --- under a sub-path -------------------------------------------------------------


@pytest.fixture
def rooted(tmp_path):
    s = Settings(data_dir=tmp_path, warm_up=False, root_path="/glassbox/")
    with TestClient(create_app(s), follow_redirects=False) as c:
        yield c


@pytest.mark.parametrize(
    ("given", "root"),
    [("", ""), ("/", ""), ("glassbox", "/glassbox"), ("/glassbox/", "/glassbox"),
     (" /school/glass-box_2 ", "/school/glass-box_2")],
)  # fmt: skip
def test_the_root_path_setting_is_normalised(given, root):
    assert Settings(root_path=given).root_path == root


@pytest.mark.parametrize("given", ["/a b", "/..", "/a/./b", "/a?b", "/a//b", "/é"])
def test_a_bad_root_path_is_refused_naming_the_variable(given):
    with pytest.raises(ValueError, match="GLASSBOX_ROOT_PATH"):
        Settings(root_path=given)


@pytest.mark.parametrize("path", [*PAGES, "/nope"])
def test_under_a_sub_path_every_url_of_a_page_starts_with_it(rooted, path):
    r = rooted.get("/glassbox" + path, headers=BROWSER)
    assert r.status_code == (404 if path == "/nope" else 200)
    urls = [u for u in markup(r.text).urls if not u.startswith(("?", "#", "data:"))]
    assert urls and all(u.startswith("/glassbox/") for u in urls), urls
    for url in urls:
        assert rooted.get(url, headers=BROWSER).status_code == 200, url


def test_under_a_sub_path_the_app_answers_with_and_without_the_prefix(rooted):
    """A proxy may pass the prefix on or strip it; a health check may skip it."""
    for path in ("/glassbox/api/presets", "/api/presets", "/healthz", "/glassbox/healthz"):
        assert rooted.get(path).status_code == 200, path
    r = rooted.get("/glassbox?lang=zh-CN")
    assert r.status_code == 308 and r.headers["location"] == "/glassbox/?lang=zh-CN"
    r = rooted.get("/glassbox/learn/cnn/")  # Starlette's trailing-slash redirect
    assert r.status_code == 307 and r.headers["location"].endswith("/glassbox/learn/cnn")
    assert rooted.get("/glassbox/openapi.json").json()["servers"] == [{"url": "/glassbox"}]


def test_under_a_sub_path_a_session_steps_and_fair_share_still_counts(tmp_path):
    s = Settings(data_dir=tmp_path, warm_up=False, root_path="/glassbox",
                 client_creates_per_minute=2)  # fmt: skip
    with TestClient(create_app(s)) as c:
        r = c.post("/glassbox/api/sessions", json={"preset": "conv-basics"})
        assert r.status_code == 201
        step = c.post(f"/glassbox/api/sessions/{r.json()['id']}/steps", json={})
        assert step.status_code == 200
        assert c.post("/glassbox/api/bp/sessions", json=MOONS).status_code == 201
        r = c.post("/glassbox/api/bp/sessions", json=MOONS)  # the third create this minute
        assert r.status_code == 429 and r.json()["code"] == "too_many_creates"


def test_uvicorns_root_path_is_understood_too(settings):
    """`uvicorn --root-path /glassbox` puts the prefix in root_path and the path."""
    with TestClient(create_app(settings), root_path="/glassbox") as c:
        r = c.get("/glassbox/learn/cnn")
        assert r.status_code == 200
        assert '<meta name="glassbox-base" content="/glassbox">' in r.text
        assert c.get("/glassbox/static/css/glassbox.css").status_code == 200
        assert c.get("/glassbox/api/presets").status_code == 200
