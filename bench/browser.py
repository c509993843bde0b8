"""Render time per step in a real browser (performance.now inside the page).

    python -m bench.browser

Starts the app on a free loopback port, opens the walkthroughs in Debian's
Chromium (Playwright, headless) and steps through them. The pages record how
long drawing took (data-render-ms: the step's maps, numbers and marks, or one
frame of the learning-rate lab's paths; data-overview-ms: every layer's feature
maps of the whole CNN; data-train-render-log: each epoch's redraw of the BP page
while it trains), not the time waiting for the API. Target: <= 16 ms per
step (one frame at 60 Hz).
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.browser.conftest import CHROMIUM, FLAGS
from tests.processes import app_server

TARGET_MS = 16.0


@contextmanager
def serve() -> Iterator[str]:
    """The app in its own process on a free loopback port, with a throwaway data dir."""
    with app_server(Path(tempfile.mkdtemp(prefix="gb-bench-"))) as base:
        yield base


def _bp(page: object, base: str) -> list[tuple[str, list[float]]]:
    """The BP page: a step of the pass (diagram, output table, caption), each epoch's
    redraw while training animates (decision boundary and the loss and accuracy
    curves: data-train-render-log), and the learning rates' chart and rows."""
    net = "/learn/bp?dataset=spiral&hidden=16-16-16&loss=mse"
    walk = _walk(page, base, net, "frame", 20, first=1)
    page.goto(base + "/learn/bp?dataset=spiral&hidden=16-16&epochs=30")
    page.wait_for_selector("#view[data-built='1']")
    page.click("[data-act=train]")
    page.wait_for_selector("#view[data-trained='1']", timeout=120_000)
    train = [float(v) for v in page.get_attribute("#view", "data-train-render-log").split()]
    page.fill("[data-field=lrs]", "0.001, 0.01, 0.1, 1, 10, 100")
    page.fill("[data-field=compare-epochs]", "50")
    compare = []
    for i in range(1, 6):
        page.click("[data-act=compare]")
        page.wait_for_selector(f"#view[data-compared='{i}']", timeout=60_000)
        compare.append(float(page.get_attribute("#view", "data-compare-render-ms")))
    return [("BP network, one step of the pass", walk),
            ("BP training, one epoch's redraw", train),
            ("BP learning rates side by side", compare)]  # fmt: skip


def _walk(
    page: object, base: str, path: str, attr: str, frames: int, first: int = 0
) -> list[float]:
    page.goto(base + path)
    page.wait_for_selector("#view[data-ready]")
    times = []
    for i in range(first, first + frames):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"document.querySelector('#view').dataset.{attr} === '{i}'")
        times.append(float(page.get_attribute("#view", "data-render-ms")))
    return times


def _rnn_rows(page: object, base: str) -> list[tuple[str, list[float]]]:
    """The RNN page: every step of a pass of memory-lstm (20 time steps forward, the
    loss, 20 back, the update), and BiLSTM's 60 forward frames (20 per direction, then
    the concatenation one time step per frame)."""
    lstm = _walk(page, base, "/learn/rnn?preset=memory-lstm", "step", 46)
    bilstm = _walk(page, base, "/learn/rnn?preset=bilstm-memory", "step", 60)
    return [("RNN page, one step (memory-lstm)", lstm),
            ("RNN page, BiLSTM frame (bilstm-memory)", bilstm)]  # fmt: skip


def main() -> None:
    from playwright.sync_api import sync_playwright

    rows = []
    bp: list[tuple[str, list[float]]] = []  # the BP page's rows (_bp)
    with serve() as base:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            cnn = _walk(page, base, "/learn/cnn?preset=digits-cnn", "step", 20)
            overview = []
            for i in range(5):
                page.goto(f"{base}/learn/cnn?preset=digits-cnn&sample={i}")
                page.wait_for_selector("#view[data-ready]")
                overview.append(float(page.get_attribute("#view", "data-overview-ms")))
            conv = []
            for _ in range(3):
                page.goto(base + "/learn/convolution")
                page.wait_for_selector("#view[data-ready]")
                for i in range(1, 9):
                    page.keyboard.press("ArrowRight")
                    page.wait_for_function(
                        f"document.querySelector('#view').dataset.frame === '{i}'"
                    )
                    conv.append(float(page.get_attribute("#view", "data-render-ms")))
            bp = _bp(page, base)
            # The heaviest lab preset (4 paths of 1000 steps), its last 60 frames.
            lab_url = "/learn/learning-rate?surface=rosenbrock&frame=940"
            lab = _walk(page, base, lab_url, "frame", 60, first=941)
            rnn = _rnn_rows(page, base)
            browser.close()
        rows = [("whole CNN, one step (digits-cnn)", cnn),
                ("whole CNN, overview of every layer", overview),
                ("convolution view, one position", conv),
                ("learning-rate lab, one frame", lab)]  # fmt: skip
        rows += rnn
    print(f"{'view':40} {'median ms':>10} {'max ms':>8} {'target':>7}")
    for name, times in rows + bp:
        med, worst = statistics.median(times), max(times)
        mark = "ok" if med <= TARGET_MS else "MISSED"
        print(f"{name:40} {med:10.2f} {worst:8.2f} {TARGET_MS:7.1f} {mark}")


if __name__ == "__main__":
    main()
