"""HTML pages, rendered in the request's language."""

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import LangDep, SettingsDep
from app.i18n import FALLBACK, catalog, t
from app.rules import rules
from app.templating import render
from engine.presets import list_presets

router = APIRouter(tags=["pages"], include_in_schema=False)


def _localized(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts[FALLBACK]


def _preset_cards(lang: str) -> list[dict[str, str]]:
    """Each preset's name, title, summary and topic label in `lang`."""
    return [
        {
            "name": p.name,
            "topic": p.topic,
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
    return render(request, "index.html", lang, presets=_preset_cards(lang), topics=list(TOPICS))


@router.get("/learn/{topic}", response_class=HTMLResponse)
def learn(request: Request, topic: str, lang: LangDep, settings: SettingsDep) -> HTMLResponse:
    """One walkthrough page; its view module renders what the API computes, within the
    rules injected beside the catalog (the same as GET /api/rules)."""
    if topic not in TOPICS:
        raise LookupError(f"no topic {topic!r}; topics: {', '.join(TOPICS)}")
    strings = _script_json(catalog(lang))
    return render(request, "learn.html", lang, topic=topic, view=TOPICS[topic], strings=strings,
                  rules=_script_json(rules(settings)))  # fmt: skip


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (no "</" to close it early)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")
