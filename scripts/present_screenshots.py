"""Screenshots of present mode for the README: docs/img/present-en.png (the CNN page,
backward through a layer) and docs/img/present-zh-CN.png (the LSTM page at t = 5), at a
projector's 1024x768, from the real app in Debian's Chromium.

    .venv/bin/python scripts/present_screenshots.py

Each is saved as a palette PNG (under 300 KB) so the repository stays small."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, FLAGS  # noqa: E402
from tests.processes import app_server  # noqa: E402

SHOTS = {
    "present-en.png": "/learn/cnn?preset=digits-cnn&step=12&present=1&lang=en",
    "present-zh-CN.png": "/learn/rnn?preset=memory-lstm&step=5&present=1&lang=zh-CN",
}
OUT = ROOT / "docs" / "img"


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        app_server(Path(tmp)) as base,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        for name, path in SHOTS.items():
            page.goto(base + path)
            page.wait_for_selector("#view[data-ready]")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)
            raw = OUT / name
            page.screenshot(path=str(raw))
            with Image.open(raw) as img:
                small = img.convert("RGB").quantize(colors=128, dither=Image.Dither.NONE)
            small.save(raw, optimize=True)
            print(f"{raw.relative_to(ROOT)}: {raw.stat().st_size // 1024} KB")
        browser.close()


if __name__ == "__main__":
    main()
