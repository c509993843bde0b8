"""The README's and docs/' examples run, so they cannot go stale.

Every fenced ```python block runs on its own, in a fresh namespace. Blocks that call
the REST API (`httpx.Client(base_url="http://127.0.0.1:8000/api")`) get the app
in-process instead of a live server: a TestClient is an httpx.Client.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Limits, Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks() -> Iterator[object]:
    for doc in DOCS:
        text = doc.read_text()
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            name = f"{doc.relative_to(ROOT)}:{line}"
            yield pytest.param(m.group(1), name, id=name)


def test_the_docs_have_python_examples():
    assert len(list(_blocks())) >= 6


@pytest.mark.parametrize(("code", "where"), list(_blocks()))
def test_a_python_example_in_the_docs_runs(code, where, tmp_path, monkeypatch, capsys):
    app = create_app(Settings(data_dir=tmp_path))
    clients: list[TestClient] = []

    def client(base_url: str = "", **_: object) -> TestClient:
        c = TestClient(app, base_url=str(base_url))
        clients.append(c)
        return c.__enter__()  # runs the app's startup, as a live server would have

    monkeypatch.setattr(httpx, "Client", client)
    try:
        exec(compile(code, where, "exec"), {"__name__": "__main__"})
    finally:
        for c in clients:
            c.__exit__(None, None, None)
    assert capsys.readouterr().out.strip(), f"{where} printed nothing to show"


def test_the_deployment_doc_lists_every_setting_and_limit():
    text = (ROOT / "docs" / "deployment.md").read_text()
    settings = [f"GLASSBOX_{n.upper()}" for n in Settings.model_fields if n != "limits"]
    limits = [f"GLASSBOX_LIMIT_{n.upper()}" for n in Limits.model_fields]
    missing = [v for v in settings + limits if f"`{v}`" not in text]
    assert not missing, f"docs/deployment.md does not list {missing}"
