"""'Open my network' in a real browser: an .npz of weights in PyTorch layout (a BP
network's download, a preset's weights saved by the engine) opened on the BP and CNN
pages shows that network, its weights the file's; a file the server refuses shows its
4xx message next to the input, in the page's language; and the home page's preset
cards open their page on that preset."""

import io

import httpx
import numpy as np
import pytest

from app.i18n import catalog
from engine.models import model_from_spec
from engine.presets import build_preset
from engine.weights import read_npz, save_network
from tests.browser.bp_helpers import BP, ready
from tests.browser.conftest import screenshot


def _tensor(server, sid, name):
    r = httpx.get(f"{server}/api/sessions/{sid}/tensors/{name}")
    assert r.status_code == 200, r.text
    return np.asarray(r.json()["data"], dtype=np.float32)


def _file(name, blob):
    return {"name": name, "mimeType": "application/octet-stream", "buffer": blob}


@pytest.mark.console_errors_expected("status of 422")
def test_bp_opens_a_network_file_and_refuses_one_it_cannot(page, server):
    pg, _ = page
    # a network trained elsewhere: another BP network on the same data, downloaded
    made = httpx.post(
        f"{server}/api/bp/sessions", json={"dataset": "blobs", "hidden": [5], "seed": 7}
    )
    blob = httpx.get(f"{server}/api/sessions/{made.json()['id']}/weights.npz").content
    params = read_npz(blob)[2]
    pg.goto(f"{server}{BP}?dataset=blobs&hidden=2")
    ready(pg)
    opener = pg.locator("input[data-act=open-network]")
    assert (
        pg.locator(f"label[for='{opener.get_attribute('id')}']").text_content()
        == (catalog("en")["net.open"])
    )
    opener.set_input_files(_file("mine.npz", blob))
    pg.wait_for_selector(".net-open[data-opened='1']")
    ready(pg, builds=2)
    sid = pg.get_attribute("#view", "data-session")
    s = httpx.get(f"{server}/api/sessions/{sid}").json()
    assert [
        la["settings"]["out_features"] for la in s["network"]["layers"] if la["type"] == "dense"
    ] == [5, 3]
    for name, value in params.items():
        np.testing.assert_allclose(_tensor(server, sid, name), value, rtol=1e-6, err_msg=name)
    assert "hidden=5" in pg.url and pg.locator(".bp-layer").count() == 1
    assert "mine.npz" in pg.text_content(".net-open-status")
    screenshot(pg, "bp-opened-network")
    # a CNN's weights do not take the blobs' two features: the server's 422, shown
    cnn = io.BytesIO()
    save_network(build_preset("digits-cnn").net, cnn)
    opener.set_input_files(_file("cnn.npz", cnn.getvalue()))
    pg.wait_for_selector(".net-open[data-refused='1']")
    assert pg.text_content(".net-open-status") == catalog("en")["error.bad_weights"]
    assert opener.get_attribute("aria-invalid") == "true"
    assert pg.get_attribute("#view", "data-session") == sid  # the page is as it was

    # beyond the builder's limits, or mixed activations: refused next to the input with
    # the limit's number (by the page, or by the server's 422 first), nothing shown
    bp = httpx.get(f"{server}/api/rules").json()["bp"]
    wide = bp["max_neurons"] + 5
    features, classes = s["dataset"]["features"], len(s["dataset"]["classes"])
    for i, (acts, sizes, says) in enumerate([
        (["relu"], [wide], ("net.tooManyNeurons", {"n": wide, "max": bp["max_neurons"]})),
        (["relu", "tanh"], [3, 3], ("net.mixedActivations", {"list": "relu, tanh"})),
    ]):  # fmt: skip
        _open(pg, _bp_npz(features, sizes, acts, classes), f"big{i}.npz", i + 2)
        key, values = says
        shown = pg.text_content(".net-open-status")
        assert shown == catalog("en")[key].format(name=f"big{i}.npz", **values) or (
            key == "net.tooManyNeurons" and str(bp["max_neurons"]) in shown
        ), shown
        assert opener.get_attribute("aria-invalid") == "true"
        assert pg.get_attribute("#view", "data-session") == sid
    assert "hidden=5" in pg.url and pg.locator(".bp-layer").count() == 1


def _bp_npz(features: int, sizes: list[int], acts: list[str], classes: int) -> bytes:
    """A fully connected network's .npz: hidden `sizes`, each after its activation."""
    layers, width = [], features
    for k, (n, act) in enumerate(zip(sizes, acts, strict=True), 1):
        layers += [{"type": "dense", "name": f"dense{k}", "in_features": width, "out_features": n},
                   {"type": act, "name": f"{act}{k}"}]  # fmt: skip
        width = n
    last = {"type": "dense", "name": f"dense{len(sizes) + 1}", "in_features": width,
            "out_features": classes}  # fmt: skip
    spec = {"input_shape": [features], "loss": "softmax_cross_entropy", "layers": [*layers, last]}
    out = io.BytesIO()
    save_network(model_from_spec(spec, seed=0), out)
    return out.getvalue()


def _open(pg, blob: bytes, name: str, refused: int) -> None:
    pg.locator("input[data-act=open-network]").set_input_files(_file(name, blob))
    pg.wait_for_selector(f".net-open[data-refused='{refused}']")


@pytest.mark.console_errors_expected("status of 422")
def test_cnn_opens_a_presets_weights_and_says_why_a_file_is_refused_in_chinese(page, server):
    pg, _ = page
    net = build_preset("digits-cnn").net
    net.set_params({k: v * 0.5 for k, v in net.params().items()})  # not the page's own
    buf = io.BytesIO()
    save_network(net, buf)
    pg.goto(f"{server}/learn/cnn?lang=zh-CN")
    pg.wait_for_selector("#view[data-ready]")
    before = pg.get_attribute("#view", "data-session-id")
    # the page's button, in its language, opens the file chooser (the browser's own
    # button would say "Choose File" whatever the page's language)
    choose = pg.locator(".net-open .file-button")
    assert choose.text_content() == catalog("zh-CN")["net.choose"]
    with pg.expect_file_chooser() as chooser:
        choose.click()
    chooser.value.set_files(_file("half.npz", buf.getvalue()))
    pg.wait_for_selector(".net-open[data-opened='1']")
    opener = pg.locator("input[data-act=open-network]")
    sid = pg.get_attribute("#view", "data-session-id")
    assert sid != before
    for name, value in net.params().items():
        np.testing.assert_allclose(_tensor(server, sid, name), value, rtol=1e-6, err_msg=name)
    # a file that is not an .npz: the server's 4xx, in the page's language
    opener.set_input_files(_file("broken.npz", b"PK\x03\x04 this is not a zip"))
    pg.wait_for_selector(".net-open[data-refused='1']")
    assert pg.text_content(".net-open-status") == catalog("zh-CN")["error.bad_weights"]
    assert pg.get_attribute("#view", "data-session-id") == sid
    screenshot(pg, "cnn-open-network-refused-zh")


def test_home_preset_cards_open_their_page_on_that_preset(page, server):
    pg, _ = page
    presets = httpx.get(f"{server}/api/rules").json()["pages"]
    pg.goto(f"{server}/?lang=zh-CN")
    links = pg.eval_on_selector_all(
        "[data-preset] a[data-preset-link]",
        "as => as.map(a => [a.dataset.presetLink, a.getAttribute('href')])",
    )
    assert len(links) == pg.locator("[data-preset]").count() > 5
    for name, href in links:
        assert "lang=zh-CN" in href
        menu = [page for page, names in presets.items() if name in names]
        if menu:  # a page with a preset menu opens on this one
            assert href.startswith(f"/learn/{menu[0]}?preset={name}&"), href
    # an LSTM preset opens the RNN page (its menu) on it
    pg.click("a[data-preset-link='chars-en']")
    pg.wait_for_selector("#view[data-ready]")
    assert "/learn/rnn" in pg.url and "preset=chars-en" in pg.url
    assert pg.input_value("select[data-control=preset]") == "chars-en"
    assert pg.get_attribute("html", "lang") == "zh-CN"
