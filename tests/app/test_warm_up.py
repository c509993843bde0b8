"""A worker builds every preset when it starts (GLASSBOX_WARM_UP, on by default), so
the first sessions of a class do not each wait for a dataset to load."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from engine.data import load_split


def test_a_starting_worker_loads_the_presets_datasets_before_its_first_request(
    tmp_path: Path,
) -> None:
    load_split.cache_clear()  # as in a fresh worker process
    app = create_app(Settings(data_dir=tmp_path))
    assert load_split.cache_info().currsize == 0  # nothing yet: the app is not started
    with TestClient(app) as client:
        loaded = load_split.cache_info().currsize
        assert loaded >= 2  # digits, shapes and the sequence sets, before any request
        misses = load_split.cache_info().misses
        r = client.post("/api/sessions", json={"preset": "digits-cnn"})
        assert r.status_code == 201
        assert load_split.cache_info().misses == misses  # the session found it loaded


def test_without_warm_up_nothing_is_loaded_until_asked(tmp_path: Path) -> None:
    load_split.cache_clear()
    with TestClient(create_app(Settings(data_dir=tmp_path, warm_up=False))):
        assert load_split.cache_info().currsize == 0


def test_the_setting_is_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("GLASSBOX_WARM_UP", "false")
    assert Settings().warm_up is False
