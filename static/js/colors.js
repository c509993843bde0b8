// Colour scales. Diverging blue-white-red centred on 0 for signed values
// (activations, deltas); sequential for masks and gates in [0, 1]. Both from
// ColorBrewer/viridis families, readable with the common colour-vision deficiencies.

const DIVERGING = [
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
];
const SEQUENTIAL = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];
const NONFINITE = [255, 0, 255];

/**
 * The marks drawn on maps (the selected, target and window cells, the keyboard cursor):
 * a dark core line over a light halo (the cursor: light over dark), so one of the two
 * keeps more than 3:1 against any cell colour (black and white give 21:1 together, so
 * the better of the two is at least 4.58:1). The kinds differ by width and dash, not
 * by hue, so they stay apart under colour-vision deficiencies.
 */
export const MARK_INK = { dark: "#000000", light: "#ffffff" };
export const MARK_STYLES = {
  target: { core: 4, halo: 6, dash: [] },
  chosen: { core: 2, halo: 4, dash: [] },
  window: { core: 2, halo: 4, dash: [6, 3] },
  source: { core: 2, halo: 4, dash: [2, 2] },
  cursor: { core: 2, halo: 4, dash: [3, 3], invert: true },
};

function ramp(stops, u) {
  const x = Math.min(Math.max(u, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  return stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * f));
}

/** [r, g, b] for value v on a scale: {kind: "diverging", max} or {kind: "sequential", min, max}. */
export function colour(v, scale) {
  if (!Number.isFinite(v)) return NONFINITE;
  if (scale.kind === "sequential") {
    const span = scale.max - scale.min || 1;
    return ramp(SEQUENTIAL, (v - scale.min) / span);
  }
  const m = scale.max || 1;
  return ramp(DIVERGING, 0.5 + v / (2 * m));
}

/** The scale for a tensor: sequential for masks and gates, diverging otherwise. */
export function scaleFor(tensor, values) {
  const seq = tensor.role === "mask" || tensor.role === "gate";
  let lo = tensor.min ?? 0;
  let hi = tensor.max ?? 0;
  if (values) {
    lo = Infinity;
    hi = -Infinity;
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (lo === Infinity) lo = hi = 0;
  }
  if (seq) return { kind: "sequential", min: Math.min(0, lo), max: Math.max(1, hi) };
  return { kind: "diverging", max: Math.max(Math.abs(lo), Math.abs(hi)) };
}

/** A small legend: a gradient bar with its end values. */
export function legend(scale, label = "") {
  const el = document.createElement("div");
  el.className = "legend";
  const stops = scale.kind === "sequential" ? SEQUENTIAL : DIVERGING;
  const css = stops.map((c, i) => `rgb(${c}) ${(100 * i) / (stops.length - 1)}%`).join(", ");
  const lo = scale.kind === "sequential" ? scale.min : -scale.max;
  const hi = scale.max;
  el.innerHTML =
    `<span class="legend-label"></span><span class="legend-lo"></span>` +
    `<span class="legend-bar"></span>` +
    `<span class="legend-hi"></span>`;
  // through the CSSOM: the page's Content-Security-Policy refuses a style attribute in markup
  el.querySelector(".legend-bar").style.background = `linear-gradient(to right, ${css})`;
  el.querySelector(".legend-label").textContent = label;
  el.querySelector(".legend-lo").textContent = format(lo);
  el.querySelector(".legend-hi").textContent = format(hi);
  return el;
}

/** A number as students read it: up to 4 significant digits. */
export function format(v) {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(a >= 1 ? 4 : 3)));
}
