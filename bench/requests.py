"""Requests and bytes the pages ask of the API, in a real browser.

    python -m bench.requests [--markdown]

Starts the app on a free loopback port, opens each page in Debian's Chromium
(Playwright, headless, as tests/browser/conftest.py launches it) and records every
/api/ request: its count, its response body's bytes, and the tensors whose data the
response carried. For a page start it counts the tensors sent more than once; for
the player it steps through frames with the arrow key and divides by the frames.
The RNN chart row is one redraw of the gradient chart (its nonlinearity changed).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from bench.browser import serve
from tests.browser.conftest import CHROMIUM, FLAGS

STARTS = [
    ("CNN", "/learn/cnn?preset=digits-cnn"),
    ("BP", "/learn/bp"),
    ("RNN", "/learn/rnn"),
    ("tensor convolution", "/learn/tensor-convolution"),
    ("convolution", "/learn/convolution"),
    ("pooling", "/learn/pooling"),
    ("learning-rate lab", "/learn/learning-rate"),
]
# (page, path, frames): the player's first frames, one arrow key each.
FRAMES = [
    ("CNN", "/learn/cnn?preset=digits-cnn", 18),
    ("RNN", "/learn/rnn?preset=memory-lstm", 24),
    ("BP", "/learn/bp", 8),
]
READY = {
    "RNN": ".rnn-gradients[data-ready]",
    "BP": "#view[data-built='1']",
    "learning-rate lab": "#view[data-run='1']",  # its first descent drawn
}


def _tensor_names(payload: Any, out: list[str]) -> list[str]:
    """Names of the tensors whose data a response carried (not {same_as} references)."""
    if isinstance(payload, dict):
        if "name" in payload and "data" in payload and "shape" in payload:
            out.append(payload["name"])
        for v in payload.values():
            _tensor_names(v, out)
    elif isinstance(payload, list):
        for v in payload:
            _tensor_names(v, out)
    return out


@dataclass
class Tally:
    requests: int = 0
    bytes: int = 0
    tensors: Counter[tuple[str, str]] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)

    @property
    def twice(self) -> int:
        """Tensors sent more than once."""
        return sum(1 for n in self.tensors.values() if n > 1)


class Recorder:
    """Every /api/ request of a page, finished; read (and emptied) by take()."""

    def __init__(self, page: Any) -> None:
        self.done: list[Any] = []
        page.on("requestfinished", lambda req: self.done.append(req))

    def take(self) -> Tally:
        tally = Tally()
        for req in self.done:
            path = urlparse(req.url).path
            if not path.startswith("/api/"):
                continue
            tally.requests += 1
            tally.routes[f"{req.method} {_route(path)}"] += 1
            body = req.response().body()
            tally.bytes += len(body)
            if body[:1] == b"{":  # a name is one tensor within one session
                sid = path.split("/")[3] if path.count("/") > 3 else ""
                tally.tensors.update((sid, n) for n in _tensor_names(json.loads(body), []))
        self.done.clear()
        return tally


def _route(path: str) -> str:
    """/api/sessions/<id>/steps/3 -> /api/sessions/{id}/steps/{k}."""
    parts = path.split("/")
    if len(parts) > 3 and parts[2] in ("sessions", "bp") and parts[3] != "sessions":
        parts[3] = "{id}"
    if len(parts) > 4 and parts[2] == "bp" and parts[3] == "sessions":
        parts[4] = "{id}"
    if len(parts) > 5 and parts[4] in ("steps", "tensors", "series"):
        parts[5] = "{k}" if parts[5].isdigit() else parts[5]
    return "/".join(parts)


def _open(page: Any, base: str, name: str, path: str) -> None:
    page.goto(base + path)
    page.wait_for_selector("#view[data-ready]")
    if name in READY:
        page.wait_for_selector(READY[name], timeout=60_000)
    page.wait_for_load_state("networkidle")


def page_start(page: Any, rec: Recorder, base: str, name: str, path: str) -> Tally:
    rec.take()
    _open(page, base, name, path)
    return rec.take()


def frames(page: Any, rec: Recorder, base: str, name: str, path: str, n: int) -> list[Tally]:
    _open(page, base, name, path)
    rec.take()
    out = []
    label = "document.querySelector('.frame-label').textContent"
    first = int(page.evaluate(label).split("/")[0] or 0)  # BP opens on its first frame
    for i in range(first, first + n):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"{label}.startsWith('{i + 1} /')")
        if name != "BP":  # drawn (the BP player draws from the pass it holds)
            page.wait_for_function(f"document.querySelector('#view').dataset.step === '{i}'")
        page.wait_for_load_state("networkidle")
        out.append(rec.take())
    return out


def chart_redraw(page: Any, rec: Recorder, base: str) -> Tally:
    """One redraw of the RNN gradient chart: its nonlinearity changed."""
    _open(page, base, "RNN", "/learn/rnn")
    rec.take()
    page.evaluate("document.querySelector('.rnn-gradients').removeAttribute('data-ready')")
    page.select_option("[data-control=nl]", "relu")
    page.wait_for_selector(".rnn-gradients[data-ready]", timeout=60_000)
    page.wait_for_load_state("networkidle")
    return rec.take()


def measure() -> list[tuple[str, str, float, float, int | str]]:
    """Rows of (what, page, requests, kB, tensors sent twice)."""
    from playwright.sync_api import sync_playwright

    rows: list[tuple[str, str, float, float, int | str]] = []
    with serve() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        rec = Recorder(page)
        for name, path in STARTS:
            t = page_start(page, rec, base, name, path)
            rows.append(("page start", name, t.requests, t.bytes / 1000, t.twice))
            print(name, dict(t.routes), file=sys.stderr)
        for name, path, n in FRAMES:
            ts = frames(page, rec, base, name, path, n)
            reqs = [t.requests for t in ts]
            kb = sum(t.bytes for t in ts) / 1000 / n
            rows.append((f"player frame (mean of {n}; max {max(reqs)})", name,
                         sum(reqs) / n, kb, "-"))  # fmt: skip
        t = chart_redraw(page, rec, base)
        rows.append(("gradient chart redraw", "RNN", t.requests, t.bytes / 1000, "-"))
        print("chart", dict(t.routes), file=sys.stderr)
        browser.close()
    return rows


def main() -> None:
    rows = measure()
    print("| what | page | requests | kB | tensors sent twice |")
    print("|---|---|---:|---:|---:|")
    for what, name, reqs, kb, twice in rows:
        print(f"| {what} | {name} | {reqs:g} | {kb:.1f} | {twice} |")


if __name__ == "__main__":
    main()
