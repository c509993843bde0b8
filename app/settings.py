"""Settings, read once from GLASSBOX_* environment variables."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the app; `GLASSBOX_PORT=9000` sets `port`, and so on."""

    model_config = SettingsConfigDict(env_prefix="GLASSBOX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    data_dir: Path = Path("./data")
    default_language: Literal["en", "zh-CN"] = "en"


@lru_cache
def get_settings() -> Settings:
    """The settings, read from the environment on first use."""
    return Settings()


SettingsDep = Annotated[Settings, Depends(get_settings)]
