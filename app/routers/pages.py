"""HTML pages, rendered in the request's language."""

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import LangDep, SettingsDep
from app.i18n import FALLBACK, catalog, choose_language, t
from app.rules import PAGE_TOPICS, page_of_topic, rules
from app.subpath import base_path
from app.templating import render
from engine.presets import list_presets

router = APIRouter(tags=["pages"], include_in_schema=False)


def _localized(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts[FALLBACK]


def _preset_page(topic: str) -> tuple[str, bool]:
    """The page a preset of `topic` opens on, and whether that page offers a choice of
    presets (then ?preset=<name> picks it; a page of one preset needs none)."""
    page = page_of_topic(topic)
    return page, page in PAGE_TOPICS


def _preset_cards(lang: str) -> list[dict[str, Any]]:
    """Each preset's name, title, summary and topic label in `lang`, and its page."""
    return [
        {
            "name": p.name,
            "topic": p.topic,
            "page": _preset_page(p.topic)[0],
            "picks": _preset_page(p.topic)[1],
            "topic_label": t(f"topic.{p.topic}", lang)
            if f"topic.{p.topic}" in catalog(FALLBACK)
            else p.topic,
            "title": _localized(p.title, lang),
            "summary": _localized(p.summary, lang),
        }
        for p in list_presets()
    ]


# The walkthroughs, in teaching order: (topic, view module).
TOPICS: dict[str, str] = {
    "convolution": "conv",
    "tensor-convolution": "tensor",
    "pooling": "pool",
    "cnn": "cnn",
    "bp": "bp",
    "learning-rate": "lab",
    "rnn": "rnn",
}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, lang: LangDep) -> HTMLResponse:
    """The home page: the topics to step through and the presets on offer."""
    from app.lessons import topic_tasks

    lessons = {topic: [x.id for x in topic_tasks(topic)] for topic in TOPICS}
    return render(request, "index.html", lang, presets=_preset_cards(lang), topics=list(TOPICS),
                  lessons=lessons)  # fmt: skip


@router.get("/learn/{topic}", response_class=HTMLResponse)
def learn(request: Request, topic: str, lang: LangDep, settings: SettingsDep) -> HTMLResponse:
    """One walkthrough page; its view module renders what the API computes, within the
    rules injected beside the catalog (the same as GET /api/rules)."""
    if topic not in TOPICS:
        raise LookupError(f"no topic {topic!r}; topics: {', '.join(TOPICS)}")
    from app.lessons.public import listing

    strings = _script_json(catalog(lang))
    lessons = _script_json(listing([topic])["topics"][topic])  # its guided path (guide.js)
    return render(request, "learn.html", lang, topic=topic, view=TOPICS[topic], strings=strings,
                  rules=_script_json(rules(settings)), lessons=lessons)  # fmt: skip


@router.get("/lecture", response_class=HTMLResponse)
def lecture_page(request: Request, lang: LangDep) -> HTMLResponse:
    """The lecture the walkthroughs teach from (Chinese, as written), a section per
    anchor: a guided task links to the section that discusses it."""
    from app.lessons.lecture import lecture

    zh_titles = {s.id: t(f"lecture.{s.id}", "zh-CN") for s in lecture()}
    return render(request, "lecture.html", lang, sections=lecture(), zh_titles=zh_titles)


# The error pages a browser gets: (template key, whether it lists the walkthroughs).
ERROR_PAGES = {404: ("page.not_found", True), 500: ("page.server_error", False)}


def error_page(request: Request, status: int) -> HTMLResponse:
    """The page a browser gets for a 404 or a 500 (app/errors.py), in the language the
    request asks for like any page, with links home and, for a 404, to every topic."""
    query, header = request.query_params.get("lang"), request.headers.get("accept-language")
    lang = choose_language(query, header, request.app.state.settings.default_language)
    key, with_topics = ERROR_PAGES[status]
    path = base_path(request) + request.url.path
    response = render(request, "error.html", lang, title=t(f"{key}.title", lang),
                      text=t(f"{key}.text", lang).replace("{path}", path),
                      topics=list(TOPICS) if with_topics else [])  # fmt: skip
    response.status_code = status
    return response


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (no "</" to close it early)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")
