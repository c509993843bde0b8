"""Settings, read once from GLASSBOX_* environment variables."""

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Limits(BaseSettings):
    """What one request may ask for; anything above is a 422 naming the limit.

    Defaults are what a classroom needs (docs/deployment.md lists them).
    `GLASSBOX_LIMIT_MAX_KERNELS=64` raises one.
    """

    model_config = SettingsConfigDict(env_prefix="GLASSBOX_LIMIT_", extra="ignore")

    max_input_side: int = Field(64, ge=1, description="input height and width")
    max_input_channels: int = Field(3, ge=1, description="input channels")
    max_kernels: int = Field(32, ge=1, description="kernels (output channels) per conv layer")
    max_kernel_size: int = Field(7, ge=1, description="kernel height and width")
    max_stride: int = Field(4, ge=1)
    max_padding: int = Field(3, ge=0)
    max_layers: int = Field(16, ge=1, description="layers in an uploaded network")
    max_bp_layers: int = Field(4, ge=1, description="hidden layers of a BP page network")
    max_bp_neurons: int = Field(64, ge=1, description="neurons per hidden layer of a BP network")
    max_features: int = Field(4096, ge=1, description="inputs or outputs of a dense layer")
    max_seq_len: int = Field(100, ge=1, description="sequence length")
    max_hidden: int = Field(64, ge=1, description="recurrent hidden size")
    max_batch: int = Field(64, ge=1, description="samples in one batch")
    max_epochs: int = Field(50, ge=1, description="epochs in one training request")
    max_iterations: int = Field(5000, ge=1, description="iterations in one training request")
    max_steps_per_request: int = Field(500, ge=1, description="steps run by one request")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="request body size")
    max_lab_steps: int = Field(2000, ge=1, description="descent steps per lab path")
    max_lab_runs: int = Field(8, ge=1, description="paths in one lab request")
    max_compare_runs: int = Field(
        6, ge=1, description="learning rates compared side by side in one BP request"
    )
    max_explain_indices: int = Field(1024, ge=1, description="numbers explained in one request")
    max_extra_samples: int = Field(
        32, ge=1, description="samples (e.g. labelled drawings) added to a session's training data"
    )
    # The cost of a session, estimated from its spec before anything is built
    # (engine/cost.py; docs/deployment.md says how the defaults were chosen).
    max_params: int = Field(250_000, ge=1, description="parameters of one network")
    max_pass_bytes: int = Field(
        8_000_000, ge=1, description="bytes of the tensors one stepped pass records"
    )
    max_response_bytes: int = Field(
        20_000_000, ge=1, description="bytes of a full pass's tensors sent as JSON"
    )
    max_train_flops: int = Field(
        100_000_000_000,
        ge=1,
        description="multiply-adds of one training request (per sample x batch x iterations)",
    )
    max_npz_bytes: int = Field(
        4_000_000, ge=1024, description="uncompressed size of an uploaded .npz weights file"
    )
    max_image_pixels: int = Field(
        1_048_576, ge=1, description="pixels of an uploaded image (width x height)"
    )


# GLASSBOX_ROOT_PATH: segments of URL-safe characters, none of them "." or "..".
ROOT_PATH = re.compile(r"(/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)+")


class Settings(BaseSettings):
    """Every knob of the app; `GLASSBOX_PORT=9000` sets `port`, and so on."""

    model_config = SettingsConfigDict(env_prefix="GLASSBOX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    data_dir: Path = Path("./data")
    default_language: Literal["en", "zh-CN"] = "en"
    store: str = Field(
        "",
        description="session store URL: sqlite:///path/to/file.db or redis://host:port/db; "
        "empty means sqlite in data_dir",
    )
    session_ttl_seconds: int = Field(6 * 3600, ge=1, description="idle sessions expire")
    max_sessions: int = Field(10_000, ge=1, description="oldest sessions are evicted beyond")
    train_workers: int = Field(
        1,
        ge=1,
        description="training processes per worker: trainings that run at once in a worker "
        "(the others wait in its queue)",
    )
    train_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="how much lower the training processes' CPU priority is (os.nice): "
        "steps get a core first",
    )
    train_queue_max: int = Field(
        1000, ge=1, description="trainings that may wait in a worker's queue; one more gets a 429"
    )
    api_threads: int = Field(
        40,
        ge=1,
        description="threads of a worker for API requests (a step, a tensor, an explanation); "
        "static files and pages have their own (app/pools.py)",
    )
    heavy_threads: int = Field(
        4,
        ge=1,
        description="threads of a worker for heavy requests (creating a session, a new "
        "input, a decision boundary, a lab descent); more wait their turn while steps go on",
    )
    warm_up: bool = Field(
        True,
        description="a worker builds every preset once when it starts (about 0.1 s), so the "
        "first sessions of a class do not wait for datasets and weights to load",
    )
    live_sessions: int = Field(
        320,
        ge=1,
        description="sessions each worker keeps rebuilt in memory (least recently used out): "
        "a session stepped after it dropped out is rebuilt by replaying its pass; about "
        "0.1-0.15 MB each for a CNN, 0.4-0.8 MB for an LSTM or BiLSTM (docs/deployment.md)",
    )
    live_sessions_mb: int = Field(
        512,
        ge=16,
        description="megabytes the live sessions of a worker may hold (as estimated from "
        "their arrays and recorded tensors); beyond it the least recently used are dropped, "
        "as beyond live_sessions: 320 BiLSTM sessions after a full pass take about 260 MB, "
        "320 CNN ones about 45 MB",
    )
    trusted_proxies: str = Field(
        "",
        description="addresses or networks (comma-separated) of proxies whose "
        "X-Forwarded-For names the client (fair share); empty: the peer is the client",
    )
    client_creates_per_minute: int = Field(
        600, ge=1, description="sessions one client (address) may create a minute, per worker"
    )
    client_heavy_requests: int = Field(
        300,
        ge=1,
        description="creates, compares and trainings one client (address) may have running "
        "or waiting at once, per worker",
    )
    client_sessions: int = Field(
        1500,
        ge=1,
        description="live sessions one client (address) may hold; beyond, its own session "
        "idle longest goes if idle 10 minutes, else a 429",
    )
    class_max_students: int = Field(
        400,
        ge=1,
        description="students who may join one live class (its join code); one more gets a "
        "409 class_full",
    )
    class_max_questions: int = Field(
        100, ge=1, description="questions a teacher may ask in one live class"
    )
    class_ttl_seconds: int = Field(
        4 * 3600,
        ge=60,
        description="a live class the teacher has not touched this long ends, and its join "
        "code, answers and nicknames go with it",
    )
    class_code_misses_per_minute: int = Field(
        30,
        ge=1,
        description="unknown join codes one client (address) may try a minute, per worker; "
        "beyond, a 429 (guessing codes)",
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="log lines as text, or one JSON object per line"
    )
    root_path: str = Field(
        "",
        description="the path the app is served under, e.g. /glassbox for "
        "https://school.example/glassbox/ behind a proxy that passes the path on, with the "
        "prefix or without it (docs/deployment.md, Under a sub-path); empty: the site's root",
    )
    limits: Limits = Field(default_factory=Limits)

    @field_validator("root_path")
    @classmethod
    def _root_path(cls, value: str) -> str:
        """`glassbox/` or `/glassbox/` is `/glassbox`; `/` is empty."""
        path = "/" + value.strip().strip("/")
        if path == "/":
            return ""
        if not ROOT_PATH.fullmatch(path):
            raise ValueError(
                f"GLASSBOX_ROOT_PATH must be a path such as /glassbox (letters, digits "
                f"and . _ ~ - between slashes, no . or .. segment); got {value!r}"
            )
        return path

    def store_url(self) -> str:
        return self.store or f"sqlite:///{(self.data_dir / 'sessions.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The settings, read from the environment on first use."""
    return Settings()
