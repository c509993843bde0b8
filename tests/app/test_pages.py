import importlib
import json
import pkgutil
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import app.routers
from app.i18n import LOCALES_DIR, SUPPORTED, choose_language, parse_accept_language, t
from app.main import create_app
from app.routers.pages import TOPICS
from app.settings import Settings
from app.templating import STATIC_DIR
from engine.presets import list_presets

PRESETS = list_presets()


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no <html lang=...>"
    return match.group(1)


class AssetLinks(HTMLParser):
    """Collects every URL a page loads: script/img/iframe/source src and link href."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = {"script": "src", "img": "src", "iframe": "src", "source": "src", "link": "href"}
        for name, value in attrs:
            if wanted.get(tag) == name and value:
                self.urls.append(value)


def test_home_lists_every_preset_title_summary_and_topic_in_english(client):
    r = client.get("/")

    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert html_lang(r.text) == "en"
    assert t("presets.heading", "en") in r.text
    for p in PRESETS:
        assert p.title["en"] in unescape(r.text)
        assert p.summary["en"] in unescape(r.text)
        assert f'data-topic="{p.topic}"' in r.text


def test_lang_query_zh_cn_renders_chinese_titles_and_html_lang(client):
    r = client.get("/?lang=zh-CN")

    assert html_lang(r.text) == "zh-CN"
    assert "预设网络" in r.text
    for p in PRESETS:
        assert p.title["zh-CN"] in unescape(r.text)
        assert p.title["en"] not in unescape(r.text)


def test_accept_language_zh_cn_picks_chinese(client):
    r = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})

    assert html_lang(r.text) == "zh-CN"
    assert PRESETS[0].title["zh-CN"] in unescape(r.text)


def test_lang_query_beats_accept_language(client):
    r = client.get("/?lang=en", headers={"Accept-Language": "zh-CN"})

    assert html_lang(r.text) == "en"


@pytest.mark.parametrize("query", ["?lang=xx", "?lang=", "?lang=fr-FR"])
def test_unknown_lang_falls_back_to_english(client, query):
    r = client.get("/" + query)

    assert r.status_code == 200
    assert html_lang(r.text) == "en"
    assert PRESETS[0].title["en"] in r.text


def test_configured_default_language_applies_without_query_or_header(tmp_path):
    app = create_app(Settings(default_language="zh-CN", data_dir=tmp_path))
    with TestClient(app) as c:
        assert html_lang(c.get("/").text) == "zh-CN"


def test_language_switch_links_to_both_languages(client):
    html = client.get("/?lang=zh-CN").text

    assert 'href="?lang=en"' in html
    assert 'href="?lang=zh-CN"' in html
    assert "中文" in html and "English" in html


def test_static_css_is_served(client):
    html = client.get("/").text
    css_href = re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)

    r = client.get(css_href)

    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/css")
    assert client.get("/static/css/glassbox.css").status_code == 200


def page_paths() -> list[str]:
    """Every HTML page without path parameters, in every language.

    Read from the routers' own route lists (they are included without a prefix);
    the test below asserts each path answers 200, so a prefix would fail loudly.
    """
    modules = [
        importlib.import_module(f"app.routers.{m.name}")
        for m in pkgutil.iter_modules(app.routers.__path__)
    ]
    paths = [
        r.path
        for module in modules
        for r in getattr(getattr(module, "router", None), "routes", [])
        if isinstance(r, APIRoute)
        and "GET" in r.methods
        and "{" not in r.path
        and isinstance(r.response_class, type)
        and issubclass(r.response_class, HTMLResponse)
    ]
    assert "/" in paths
    return [f"{p}?lang={lang}" for p in paths for lang in SUPPORTED]


@pytest.mark.parametrize("path", page_paths())
def test_no_served_page_loads_assets_from_another_origin(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")

    parser = AssetLinks()
    parser.feed(r.text)

    assert parser.urls, "a page should at least load its stylesheet"
    external = [u for u in parser.urls if re.match(r"^(https?:)?//", u, re.IGNORECASE)]
    assert external == []


@pytest.mark.parametrize(
    "path",
    sorted(p.relative_to(STATIC_DIR).as_posix() for p in (STATIC_DIR / "css").rglob("*.css")),
)
def test_stylesheets_load_nothing_from_another_origin(client, path):
    r = client.get(f"/static/{path}")
    assert r.status_code == 200
    css = r.text

    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    assert "@import" not in css


@pytest.mark.parametrize("topic", list(TOPICS))
def test_each_walkthrough_links_its_stylesheets_and_they_exist(client, topic):
    html = client.get(f"/learn/{topic}").text
    links = re.findall(r'href="(/static/css/[^"?]+)', html)
    wanted = ["glassbox.css", "walkthrough.css", "figures.css", f"views/{TOPICS[topic]}.css",
              "present.css", "classroom.css", "class-questions.css", "lstm-cell.css",
              "guide.css", "cnn-train.css"]  # fmt: skip
    assert links == [f"/static/css/{name}" for name in wanted]
    for link in links:
        assert client.get(link).status_code == 200, link


@pytest.mark.parametrize("lang", SUPPORTED)
@pytest.mark.parametrize("path", ["/", "/lecture"])
def test_home_and_lecture_render_with_the_guides_stylesheet(client, path, lang):
    # the home page shows each walkthrough's guided progress, the lecture its sections
    # (their words: tests/app/test_api_lessons.py)
    r = client.get(f"{path}?lang={lang}")
    assert r.status_code == 200 and html_lang(r.text) == lang
    links = re.findall(r'href="(/static/css/[^"?]+)', r.text)
    assert links[0] == "/static/css/glassbox.css" and "/static/css/guide.css" in links
    assert t("lecture.title", lang) in unescape(r.text)


def test_every_catalog_key_exists_in_every_language():
    # One folder per language, one file per area (app/i18n.py): each area's file has
    # the same keys in every language.
    files = {
        lang: sorted(p.name for p in (LOCALES_DIR / lang).glob("*.json")) for lang in SUPPORTED
    }
    assert files["en"] == files["zh-CN"]
    for name in files["en"]:
        catalogs = {
            lang: json.loads((LOCALES_DIR / lang / name).read_text(encoding="utf-8"))
            for lang in SUPPORTED
        }
        assert set(catalogs["en"]) == set(catalogs["zh-CN"]), name
        for lang, strings in catalogs.items():
            assert all(isinstance(v, str) and v.strip() for v in strings.values()), (lang, name)


def test_zh_cn_catalog_uses_the_lecture_terms():
    text = (LOCALES_DIR / "zh-CN" / "core.json").read_text(encoding="utf-8")

    for term in ["卷积", "卷积核", "池化", "反向传播", "全连接", "循环神经网络", "长短期记忆网络"]:
        assert term in text, term


def test_t_falls_back_to_english_and_rejects_unknown_keys():
    assert t("presets.heading", "fr") == t("presets.heading", "en")
    with pytest.raises(KeyError):
        t("no.such.key", "en")


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "en"),
        ("zh-cn", None, "zh-CN"),
        (None, "fr;q=1, zh-TW;q=0.5", "zh-CN"),
        (None, "zh-CN;q=0.2, en-GB;q=0.9", "en"),
        (None, "zh-CN;q=0, fr", "en"),
        ("bogus", "zh", "zh-CN"),
    ],
)
def test_choose_language(query, header, expected):
    assert choose_language(query, header, "en") == expected


def test_parse_accept_language_orders_by_quality_then_position():
    assert parse_accept_language("en;q=0.5, zh-CN, fr;q=0.5") == ["zh-CN", "en", "fr"]
