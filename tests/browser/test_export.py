"""'Download' on a figure, in a real browser: the CSV and JSON files hold the API's
numbers exactly (compared with the API's own answer for the same session), and the
PNG is an image of the figure."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import httpx
import numpy as np


def _download(pg, figure, fmt: str) -> tuple[str, bytes]:
    """Click the figure's download button for `fmt`: the file's name and bytes."""
    with pg.expect_download() as got:
        figure.locator(f".downloads button[data-format={fmt}]").click()
    d = got.value
    return d.suggested_filename, Path(d.path()).read_bytes()


def _api_tensor(server: str, sid: str, name: str) -> dict:
    r = httpx.get(f"{server}/api/sessions/{sid}/tensors/{name}")
    r.raise_for_status()
    return r.json()


def _array(payload: dict) -> np.ndarray:
    """A JSON tensor payload's numbers ("NaN" and the infinities as floats)."""
    return np.asarray(payload["data"], dtype=np.float64).reshape(payload["shape"])


def _csv_tensors(text: str) -> dict[str, np.ndarray]:
    """Each tensor of a downloaded CSV by name: its header states the shape, then its
    rows (a >2-D tensor in blocks, one per leading index, in order)."""
    out: dict[str, np.ndarray] = {}
    name, shape, rows = None, [], []

    def done() -> None:
        if name is not None:
            out[name] = np.asarray(rows, dtype=np.float64).reshape(shape)

    for line in text.splitlines():
        head = re.match(r"# (\S+); shape \[([\d, ]*)\]", line)
        if head:
            done()
            name = head.group(1)
            shape = [int(v) for v in head.group(2).split(",") if v.strip()]
            rows = []
        elif line and not line.startswith("#"):
            rows.extend(float(v) for v in line.split(","))
    done()
    return out


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _check_files(pg, figure, expected: dict[str, dict], stem: str) -> None:
    """The figure's CSV and JSON equal the API's tensors `expected` (by name); its PNG
    is an image of plausible size; the file names start with `stem`."""
    name, raw = _download(pg, figure, "json")
    assert name.startswith(stem) and name.endswith(".json"), name
    body = json.loads(raw)
    got = {t["name"]: t for t in body["tensors"]} if "tensors" in body else {body["name"]: body}
    assert set(got) >= set(expected), f"{sorted(got)} lacks some of {sorted(expected)}"
    for key, api in expected.items():
        assert got[key]["shape"] == api["shape"] and got[key]["dtype"] == api["dtype"]
        assert got[key]["data"] == api["data"], f"{key}: the JSON is not the API's numbers"
    name, raw = _download(pg, figure, "csv")
    assert name.startswith(stem) and name.endswith(".csv"), name
    tables = _csv_tensors(raw.decode())
    for key, api in expected.items():
        np.testing.assert_array_equal(tables[key], _array(api), err_msg=key)
    name, raw = _download(pg, figure, "png")
    assert name.endswith(".png")
    width, height = _png_size(raw)
    box = figure.bounding_box()
    assert 20 <= width <= 4 * box["width"] + 8 and 10 <= height <= 4 * box["height"] + 8


def test_convolution_and_cnn_figures_download_the_apis_tensors(page, server):
    pg, _ = page
    pg.goto(server + "/learn/convolution?k=3&p=1")
    pg.wait_for_function("() => document.querySelector('#view').dataset.frame === '0'")
    sid = pg.get_attribute("#view", "data-session-id")
    out = pg.locator(".conv-cell[data-tensor='conv1.out']")
    _check_files(pg, out, {"conv1.out": _api_tensor(server, sid, "conv1.out")},
                 "convolution-conv1.out-step0")  # fmt: skip

    pg.goto(server + "/learn/cnn?preset=digits-cnn&step=0")
    pg.wait_for_function("() => document.querySelector('#view').dataset.step === '0'")
    sid = pg.get_attribute("#view", "data-session-id")
    figure = pg.locator(".stage-box .tensor[data-tensor='conv1.w']")
    _check_files(pg, figure, {"conv1.w": _api_tensor(server, sid, "conv1.w")},
                 "cnn-conv1.w-step0")  # fmt: skip
    # the overview: every layer's output in one file (a 4-D map as blocks per channel)
    names = ["conv1.out", "pool1.out", "dense1.out"]
    overview = pg.locator(".overview")
    _check_files(pg, overview, {n: _api_tensor(server, sid, n) for n in names}, "cnn-overview")


def test_rnn_and_bp_figures_download_the_apis_tensors(page, server):
    pg, _ = page
    with pg.expect_response(
        lambda r: r.url.endswith("/api/sessions") and r.request.method == "POST"
    ) as made:
        pg.goto(server + "/learn/rnn?preset=memory-lstm&step=3")
    sid = made.value.json()["id"]
    pg.wait_for_function("() => document.querySelector('#view').dataset.step === '3'")
    vector = pg.locator(".rnn-cell .rnn-vector").first
    name = vector.get_attribute("data-tensor")
    _check_files(pg, vector, {name: _api_tensor(server, sid, name)}, f"rnn-{name}-step3")

    with pg.expect_response(
        lambda r: r.url.endswith("/api/bp/sessions") and r.request.method == "POST"
    ) as made:
        pg.goto(server + "/learn/bp?step=2")
    sid = made.value.json()["id"]
    pg.wait_for_selector("#view[data-frame='2']")
    step = httpx.get(f"{server}/api/sessions/{sid}/steps/2").json()
    shown = {t["name"]: t for t in step["tensors"] if "same_as" not in t}
    _check_files(pg, pg.locator("figure.bp-diagram"), shown, "bp-network")

    # Exact float32 ties (x.125: .12 and .13 both read back) are written as the API
    # writes them, to the even digit (220195.12, not 220195.13): the same text.
    name = next(n for n, x in shown.items() if x["role"] == "param" and n.endswith(".w"))
    shape = shown[name]["shape"]
    k = np.arange(int(np.prod(shape)))
    ties = 131072 + k * 1031 % 131072 + np.array([0.125, 0.375, 0.625, 0.875])[k % 4]
    ties.flat[0] = 220195.125
    put = httpx.put(
        f"{server}/api/sessions/{sid}/params/{name}", json={"array": ties.reshape(shape).tolist()}
    )
    assert put.status_code == 200, put.text
    ran = httpx.post(f"{server}/api/sessions/{sid}/steps?tensors=false", json={"until": "forward"})
    assert ran.status_code == 200, ran.text
    api_text = httpx.get(f"{server}/api/sessions/{sid}/tensors/{name}").text
    api_tokens = _data_tokens(api_text)
    assert api_tokens[0] == "220195.12" and len(api_tokens) == ties.size
    as_json, as_csv = pg.evaluate(
        """async ([sid, name]) => {
          const base = document.querySelector("script[src*='present.js']").src.split("?")[0];
          const { sessions } = await import(new URL("api.js", base));
          const { toJson, toCsv } = await import(new URL("export.js", base));
          const x = await sessions.tensor(sid, name);  // as the page gets its tensors
          return [toJson([x]), toCsv([x])];
        }""",
        [sid, name],
    )
    assert _data_tokens(as_json) == api_tokens
    csv_tokens = [
        v for line in as_csv.splitlines() if not line.startswith("#") for v in line.split(",") if v
    ]
    assert csv_tokens == api_tokens


def _data_tokens(text: str) -> list[str]:
    """The numbers of a JSON tensor's "data", as written."""
    data = re.search(r'"data":\s*(\[.*\])', text, re.S)
    assert data, text[:200]
    return re.findall(r"[^\[\],\s]+", data.group(1))
