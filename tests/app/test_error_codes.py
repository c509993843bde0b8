"""Errors a student meets on a page, as answers the page can explain: a `code` (a key
"error.<code>" of the UI catalogs) and a `message` in every supported language, beside
the English `detail` for scripts. The store out (503, Retry-After), a full disk (503
"store_full", the SQLite file intact, the session readable at its last good version and
stepping on once there is room), and a session that is gone (404 "session_gone")."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.i18n import SUPPORTED, catalog
from app.main import create_app
from app.settings import Settings

PRESET = {"preset": "conv-basics", "seed": 3}


def step(client: TestClient, sid: str) -> Any:
    return client.post(f"/api/sessions/{sid}/steps", json={})


def assert_coded(r: Any, status: int, code: str) -> dict[str, Any]:
    """`status`, `code`, and `message` holding the catalogs' "error.<code>" in every
    supported language (each its own words, not English twice)."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code
    assert body["message"] == {lang: catalog(lang)[f"error.{code}"] for lang in SUPPORTED}
    assert body["message"]["en"] != body["message"]["zh-CN"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in r.text
    return body


def test_a_deleted_session_is_session_gone_in_both_languages(client: TestClient) -> None:
    sid = client.post("/api/sessions", json=PRESET).json()["id"]
    assert client.delete(f"/api/sessions/{sid}").status_code in (200, 204)
    for r in (step(client, sid), client.get(f"/api/sessions/{sid}")):
        body = assert_coded(r, 404, "session_gone")
        assert "no such session" in body["detail"]
        assert "restarted" in body["message"]["en"]


def test_other_404s_have_no_session_gone_code(client: TestClient) -> None:
    sid = client.post("/api/sessions", json=PRESET).json()["id"]
    r = client.get(f"/api/sessions/{sid}/tensors/no.such.tensor")
    assert r.status_code == 404
    assert r.json().get("code") != "session_gone"  # the session is there; the page keeps it


def test_store_out_is_store_unavailable_in_both_languages(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with TestClient(create_app(Settings(data_dir=data, warm_up=False))) as client:
        sid = client.post("/api/sessions", json=PRESET).json()["id"]
        data.rename(tmp_path / "away")
        r = step(client, sid)
        body = assert_coded(r, 503, "store_unavailable")
        assert int(r.headers["Retry-After"]) > 0
        assert "session store (sqlite) is unavailable" in body["detail"]
        assert "shortly" in body["message"]["en"]
        (tmp_path / "away").rename(data)
        assert step(client, sid).status_code == 200


@contextlib.contextmanager
def small_disk(where: Path, size: str = "4m") -> Iterator[Path]:
    """A real filesystem of `size` bytes (a tmpfs mounted at `where`; we run as root)."""
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs (the test needs root): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of `disk` with one file; returns it."""
    filler = disk / "filler"
    with filler.open("wb") as f:
        with contextlib.suppress(OSError):  # ENOSPC: the disk is full
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        with contextlib.suppress(OSError):
            f.truncate(f.tell())
    return filler


def test_a_full_disk_fails_the_step_cleanly_and_it_steps_on_once_there_is_room(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        settings = Settings(data_dir=disk / "data", warm_up=False)
        with TestClient(create_app(settings)) as client:
            sid = client.post("/api/sessions", json=PRESET).json()["id"]
            twin = client.post("/api/sessions", json=PRESET).json()["id"]  # never sees a fault
            filler = fill(disk)
            last_good = client.get(f"/api/sessions/{sid}").json()
            refused, taken = None, 0
            for _ in range(40):  # each write needs room at some point: the WAL grows
                r = step(client, sid)
                if r.status_code != 200:
                    refused = r
                    break
                last_good = r.json()
                taken += 1
            assert refused is not None, "every step fitted on a full disk"
            body = assert_coded(refused, 503, "store_full")
            assert "the disk is full" in body["detail"]
            assert int(refused.headers["Retry-After"]) > 0

            with sqlite3.connect(disk / "data" / "sessions.db") as db:
                assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            now = client.get(f"/api/sessions/{sid}").json()
            assert (now["version"], now["cursor"]) == (last_good["version"], last_good["cursor"])

            filler.unlink()  # room again: the same session steps on from there
            resumed = step(client, sid)
            assert resumed.status_code == 200, resumed.text
            assert resumed.json()["cursor"] == last_good["cursor"] + 1
            for _ in range(taken + 1):
                control = step(client, twin)
            assert resumed.json()["steps"] == control.json()["steps"]  # as if never full
        with sqlite3.connect(disk / "data" / "sessions.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
