"""A tiny UI string catalog (en, zh-CN) and the choice of a request's language.

A language's catalog is every flat JSON file in `app/locales/<lang>/`, one per area
of the app (core.json, and one for each feature that brings its own strings), merged;
a key defined in two files is a bug and raises. A key missing from a language falls
back to English; a key missing from English is a bug and raises.
"""

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from app.resources import app_dir

SUPPORTED: tuple[str, ...] = ("en", "zh-CN")
FALLBACK = "en"
LOCALES_DIR = app_dir("locales")


@lru_cache
def catalog(lang: str) -> dict[str, str]:
    """The strings of one supported language, keyed by dotted names."""
    if lang not in SUPPORTED:
        raise KeyError(f"unsupported language {lang!r}; supported: {', '.join(SUPPORTED)}")
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        strings = json.loads(path.read_text(encoding="utf-8"))
        twice = sorted(merged.keys() & strings.keys())
        if twice:
            raise ValueError(f"{path} defines keys another {lang} catalog file has: {twice}")
        merged.update(strings)
    return merged


def t(key: str, lang: str = FALLBACK) -> str:
    """The UI string `key` in `lang`, or in English when `lang` lacks it."""
    strings = catalog(lang) if lang in SUPPORTED else {}
    return strings.get(key) or catalog(FALLBACK)[key]


def fill(key: str, lang: str = FALLBACK, **values: object) -> str:
    """t(key, lang) with its {name} placeholders filled from `values`."""
    return t(key, lang).format(**values)


def every_language(render: Callable[[str], str]) -> dict[str, str]:
    """{lang: render(lang)} for every supported language: an error's `message`."""
    return {lang: render(lang) for lang in SUPPORTED}


def match_language(tag: str | None) -> str | None:
    """The supported language a tag such as `zh-cn`, `zh-Hans` or `en-GB` asks for."""
    if not tag:
        return None
    tag = tag.strip().lower()
    for lang in SUPPORTED:
        if tag == lang.lower():
            return lang
    primary = tag.split("-")[0]
    for lang in SUPPORTED:
        if primary == lang.lower().split("-")[0]:
            return lang
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, most preferred first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(query: str | None, accept_language: str | None, default: str) -> str:
    """`?lang=` if supported, else the best Accept-Language match, else `default`."""
    chosen = match_language(query)
    if chosen:
        return chosen
    for tag in parse_accept_language(accept_language):
        chosen = match_language(tag)
        if chosen:
            return chosen
    return default if default in SUPPORTED else FALLBACK


def coded_body(code: str, detail: object) -> dict[str, Any]:
    """An error's body that a page can explain: {"detail": <English, for scripts>,
    "code": code, "message": {lang: the catalog's "error.<code>"} in every language}."""
    message = every_language(lambda lang: t(f"error.{code}", lang))
    return {"detail": detail, "code": code, "message": message}
