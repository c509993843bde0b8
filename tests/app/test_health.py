import os
import re
import subprocess
import sys
from pathlib import Path

from app import __version__
from engine.presets import list_presets

TEACHING_PRESETS = {"conv-basics", "tensor-conv", "digits-cnn", "shapes-cnn"}


def test_healthz_reports_ok_version_and_every_engine_preset(client):
    r = client.get("/healthz")

    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["presets"] == [p.name for p in list_presets()]
    assert set(body["presets"]) >= TEACHING_PRESETS


def test_docs_and_redoc_are_served_from_local_assets(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert assets and all(a.startswith("/docs-assets/") for a in assets), assets
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
    assert "validator.swagger.io" not in client.get("/docs").text


def test_app_pins_blas_to_one_thread():
    # A fresh process without the thread variables, as a bare `uvicorn app.main:app` gets.
    code = (
        "import app.main, numpy as np; np.ones((64, 64)) @ np.ones((64, 64));"
        "from threadpoolctl import threadpool_info;"
        "print([p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[2])  # fmt: skip
    assert out.stdout.strip() == "[1]"
