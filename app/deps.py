"""Typed request dependencies shared by the routers."""

from typing import Annotated

from fastapi import Depends, Header, Query

from app.i18n import choose_language
from app.settings import SettingsDep


def request_language(
    settings: SettingsDep,
    lang: Annotated[str | None, Query(description="UI language: en or zh-CN")] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """The UI language: `?lang=`, then Accept-Language, then the configured default."""
    return choose_language(lang, accept_language, settings.default_language)


LangDep = Annotated[str, Depends(request_language)]
