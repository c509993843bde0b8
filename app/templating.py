"""Jinja2 rendering with the catalog, the language switch and static URLs at hand."""

from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import __version__
from app.i18n import SUPPORTED, t
from app.resources import app_dir
from app.subpath import base_path

TEMPLATES_DIR = app_dir("templates")
STATIC_DIR = app_dir("static")

templates = Jinja2Templates(directory=TEMPLATES_DIR)


def static_url(request: Request, path: str) -> str:
    """A same-origin path to a file under static/, versioned to bust caches."""
    return f"{request.url_for('static', path=path).path}?v={__version__}"


def language_links(request: Request) -> list[tuple[str, str]]:
    """(language, relative link) pairs: the current page with `?lang=` replaced."""
    params = dict(request.query_params)
    return [(code, "?" + urlencode({**params, "lang": code})) for code in SUPPORTED]


def render(request: Request, name: str, lang: str, **context: Any) -> HTMLResponse:
    """Render template `name` in `lang`; templates call `t("key")` for every UI string."""
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": partial(t, lang=lang),
            "version": __version__,
            "static_url": partial(static_url, request),
            "base": base_path(request),  # "" or "/glassbox": every link starts with it
            "language_links": language_links(request),
            **context,
        },
    )
