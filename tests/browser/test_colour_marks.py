"""Map highlights keep >= 3:1 against any cell colour, also under deutan and protan
simulation: the marks drawn on the convolution page (the output's target, the input's
window, the kernel's source cells) are read back as canvas pixels, and the scale's
colours come from colors.js in the page (nothing copied here)."""

import pytest

# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
SIMULATIONS = {
    "none": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "protan": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
               (-0.003882, -0.048116, 1.051998)),
    "deutan": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
               (-0.011820, 0.042940, 0.968881)),
}  # fmt: skip


def _linear(c8):
    c = c8 / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _simulate(rgb, kind):
    lin = [_linear(v) for v in rgb[:3]]
    return [
        min(1.0, max(0.0, sum(m * v for m, v in zip(row, lin, strict=True))))
        for row in SIMULATIONS[kind]
    ]


def _luminance(lin):
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b, kind="none"):
    """WCAG 2 contrast ratio of two sRGB colours (0-255), as seen under `kind`."""
    la, lb = (_luminance(_simulate(c, kind)) for c in (a, b))
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


# In the page: the scale's colours from colors.js (both scales swept end to end), and
# for each marked cell of a map the pixels across its left edge and along its top edge,
# with the cell's own colour from the base canvas (one pixel per cell).
READ = """async () => {
  const src = [...document.querySelectorAll("script[src]")].find((n) => n.src.includes("/js/")).src;
  const { colour } = await import(`${src.slice(0, src.indexOf("/js/"))}/js/colors.js`);
  const n = 40;
  const scale = [];
  for (let k = 0; k <= n; k++) {
    scale.push(colour(-1 + (2 * k) / n, { kind: "diverging", max: 1 }));
    scale.push(colour(k / n, { kind: "sequential", min: 0, max: 1 }));
  }
  scale.push(colour(NaN, { kind: "diverging", max: 1 }));
  const maps = {};
  for (const ov of document.querySelectorAll(".conv-cell .heatmap-overlay")) {
    const name = ov.closest(".conv-cell").dataset.tensor;
    const cell = Number(ov.dataset.cell);
    const ratio = ov.width / ov.clientWidth;
    const ctx = ov.getContext("2d");
    const base = ov.parentElement.querySelector(".heatmap-base").getContext("2d");
    const px = (x, y) =>
      Array.from(ctx.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data);
    maps[name] = JSON.parse(ov.dataset.marks).map((m) => {
      const x0 = m.c * cell;
      const y0 = m.r * cell;
      const across = [];
      for (let d = 0; d < 8; d++)
        for (let e = -4; e < 4; e++) across.push(px(x0 + d + 0.5, y0 + cell / 2 + e + 0.5));
      const along = [];
      const y = y0 + 1.5 + (m.style === "target" ? 1 : 0); // on the dark core line
      for (let d = 8; d < cell - 8; d++) along.push(px(x0 + d + 0.5, y));
      const under = Array.from(base.getImageData(m.c, m.r, 1, 1).data);
      return { style: m.style, across, along, under };
    });
  }
  return { scale, maps };
}"""


def opaque(pixels):
    return {tuple(p[:3]) for p in pixels if p[3] == 255}


@pytest.fixture(scope="module")
def drawn(browser, server):
    from tests.browser.conftest import watched_page

    with watched_page(browser, server) as (pg, watch):
        pg.goto(server + "/learn/convolution")
        pg.wait_for_selector("#view[data-ready]")
        pg.wait_for_selector(
            ".conv-cell[data-tensor='conv1.out'] .heatmap-overlay[data-marks*=target]"
        )
        data = pg.evaluate(READ)
        watch.assert_clean()
    return data


@pytest.mark.parametrize("kind", list(SIMULATIONS))
def test_every_mark_keeps_3_to_1_on_every_scale_colour(drawn, kind):
    styles = set()
    for name, marks in drawn["maps"].items():
        assert marks, f"{name} has no mark to check"
        for m in marks:
            styles.add(m["style"])
            inks = opaque(m["across"])
            assert len(inks) >= 2, f"{name} {m['style']}: not a double outline: {inks}"
            for cell in [*drawn["scale"], m["under"]]:
                best = max(contrast(ink, cell, kind) for ink in inks)
                assert best >= 3, f"{name} {m['style']} on {cell} ({kind}): {best:.2f}:1"
    assert {"target", "window", "source"} <= styles


def test_marks_differ_by_line_style_not_hue(drawn):
    """The target is one solid dark line along its edge; the window and source marks are
    dashed (dark and light alternate along the edge), with different dash lengths."""

    def runs(pixels):
        dark = [sum(p[:3]) < 3 * 128 for p in pixels if p[3] == 255]
        lengths, k = [], 0
        for a, b in zip(dark, dark[1:], strict=False):
            k += 1
            if a != b:
                lengths.append(k)
                k = 0
        return dark, lengths

    by_style = {m["style"]: m for marks in drawn["maps"].values() for m in marks}
    dark, _ = runs(by_style["target"]["along"])
    assert dark and all(dark), "the target's edge is one unbroken dark line"
    dash = {}
    for style in ("window", "source"):
        dark, lengths = runs(by_style[style]["along"])
        assert any(dark) and not all(dark), f"{style} is dashed"
        dash[style] = max(lengths)
    assert dash["window"] > dash["source"]


# Each line chart's series (what its canvas states it drew) and its legend's samples.
SERIES = """(sel) => [...document.querySelectorAll(sel)].map((box) => ({
  series: JSON.parse(box.querySelector("canvas.line-chart").dataset.series),
}))"""
KEYS = """(sel) => [...document.querySelectorAll(sel)].map(
  (c) => ({ dash: c.dataset.dash, shape: c.dataset.shape }))"""


def _apart(series):
    """Every two series differ in dash and in marker shape (not by colour only)."""
    dashes = [" ".join(str(d) for d in s["dash"]) for s in series]
    shapes = [s["shape"] for s in series]
    assert len(set(dashes)) == len(series), dashes
    assert len(set(shapes)) == len(series), shapes
    return [{"dash": d, "shape": s} for d, s in zip(dashes, shapes, strict=True)]


def test_rnn_lines_differ_by_dash_and_marker_and_the_legend_matches(page, server):
    from tests.browser.rnn_helpers import open_rnn

    pg, _ = page
    open_rnn(pg, server)
    charts = pg.evaluate(SERIES, ".grad-chart")
    assert len(charts) == 1 and len(charts[0]["series"]) == 3  # RNN, LSTM h, LSTM c
    drawn = _apart(charts[0]["series"])
    assert pg.evaluate(KEYS, ".rnn-gradients .chart-key .line-key") == drawn


def test_bp_classes_differ_by_shape_and_curves_by_dash(page, server):
    from tests.browser.bp_helpers import BP, ready

    pg, _ = page
    pg.goto(server + BP + "?dataset=spiral&hidden=5")  # three classes
    ready(pg)
    pg.wait_for_selector(".bp-class-key li")
    key = pg.evaluate(KEYS, ".bp-class-key .line-key")
    assert len(key) == 3 and len({k["shape"] for k in key}) == 3
    # the output table's rows carry the same markers, class by class
    rows = pg.evaluate(KEYS, ".bp-output-table tbody th .line-key")
    assert [r["shape"] for r in rows] == [k["shape"] for k in key]
    # the loss and accuracy curves: train and test differ by dash and marker, as the key shows
    pg.click("[data-act=train]")  # one round of epochs draws the curves
    pg.wait_for_selector(".bp-charts canvas.line-chart[data-series]")
    charts = pg.evaluate(SERIES, ".bp-charts .bp-chart")
    assert len(charts) == 2
    drawn = [_apart(c["series"]) for c in charts]
    assert drawn[0] == drawn[1]
    assert pg.evaluate(KEYS, ".bp-key .line-key") == drawn[0]
