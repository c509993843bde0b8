"""Typed request dependencies shared by the routers. They are `async`: they only read
the app's state, so they run on the event loop instead of taking a thread each."""

from typing import Annotated, Literal

from fastapi import Depends, Header, Query, Request

from app.i18n import choose_language
from app.sessions import SessionService
from app.settings import Settings


async def app_settings(request: Request) -> Settings:
    """The settings this app was created with (tests and several apps may differ)."""
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def request_language(
    settings: SettingsDep,
    lang: Annotated[str | None, Query(description="UI language: en or zh-CN")] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """The UI language: `?lang=`, then Accept-Language, then the configured default."""
    return choose_language(lang, accept_language, settings.default_language)


async def session_service(request: Request) -> SessionService:
    """The app's session service (one per worker process)."""
    return request.app.state.sessions


LangDep = Annotated[str, Depends(request_language)]
ServiceDep = Annotated[SessionService, Depends(session_service)]
EncodingQuery = Annotated[
    Literal["list", "b64"],
    Query(description="tensor data as nested lists (readable) or base64 float32 (compact)"),
]
