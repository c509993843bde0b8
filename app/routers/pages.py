"""HTML pages, rendered in the request's language."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import LangDep
from app.i18n import FALLBACK, catalog, t
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


@router.get("/", response_class=HTMLResponse)
def home(request: Request, lang: LangDep) -> HTMLResponse:
    """The home page: what Glassbox teaches and the presets on offer."""
    return render(request, "index.html", lang, presets=_preset_cards(lang))
