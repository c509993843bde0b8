// A small line chart of several series over steps, log or linear y, with a
// cursor at the current step. The lines are drawn once per data set into an
// offscreen canvas; a frame copies it and draws the cursor and the dots. Series
// differ by dash and marker shape as well as colour (series k: DASHES[k], its
// shape), and lineKey() draws the same line for a legend.
import { format } from "./colors.js";
import { attachDownloads } from "./export.js";
import { cssVar, marker, textPx, ticks } from "./plot.js";

const MARGIN = { left: 58, right: 14, top: 10, bottom: 30 };
/** Series k's dash pattern (solid, dashed, dotted, dash-dot, ...). */
export const DASHES = [[], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 4]];
const MARKER_EVERY = 64; // CSS pixels between a line's markers

const dashOf = (s, k) => s.dash ?? DASHES[k % DASHES.length];

/**
 * A legend's sample of series k: a short line in its colour and dash with its marker,
 * as the chart draws it (a canvas, hidden from screen readers: the text beside it names it).
 * @param {{colour: string, shape: string, dash?: number[]}} series
 * @param {number} k
 */
export function lineKey(series, k) {
  const w = 34;
  const h = 14;
  const ratio = window.devicePixelRatio || 1;
  const c = document.createElement("canvas");
  c.className = "line-key";
  c.width = w * ratio;
  c.height = h * ratio;
  c.style.width = `${w}px`;
  c.style.height = `${h}px`;
  c.style.verticalAlign = "middle";
  c.setAttribute("aria-hidden", "true");
  const dash = dashOf(series, k);
  c.dataset.dash = dash.join(" ");
  c.dataset.shape = series.shape;
  const ctx = c.getContext("2d");
  ctx.scale(ratio, ratio);
  if (series.line !== false) {
    ctx.setLineDash(dash);
    ctx.strokeStyle = series.colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(1, h / 2);
    ctx.lineTo(w - 1, h / 2);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  dot(ctx, series, w / 2, h / 2, 4.5);
  return c;
}

/** A series' marker, filled in its colour with a white rim (a cross: stroked in its
 * colour on a white one). */
export function dot(ctx, series, x, y, r) {
  marker(ctx, series.shape, x, y, r);
  if (series.shape === "cross") {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 4;
    ctx.stroke();
    ctx.strokeStyle = series.colour;
    ctx.lineWidth = 2;
  } else {
    ctx.fillStyle = series.colour;
    ctx.fill();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 1.2;
  }
  ctx.stroke();
}

/** "1e-6", "0.01", "1", "1000", "1e+5": a power of ten as students read it. */
function decade(k) {
  return k >= -2 && k <= 3 ? String(10 ** k) : `1e${k > 0 ? "+" : ""}${k}`;
}

export class LineChart {
  /** @param {HTMLElement} parent */
  constructor(parent, { label = "" } = {}) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "line-chart";
    this.canvas.setAttribute("role", "img");
    if (label) this.canvas.setAttribute("aria-label", label);
    parent.append(this.canvas);
    this.base = document.createElement("canvas");
    this.series = [];
    // Download (export.js): the chart as drawn, and its series as the API gave them.
    const series = () =>
      this.series.map((s, k) => ({
        name: s.name || `${label || "series"} ${k + 1}`,
        shape: [s.values.length],
        data: s.values,
      }));
    attachDownloads(parent, series, { name: label || "chart" });
    this.width = 600;
    this.height = 200;
  }

  /**
   * @param {{values: number[], colour: string, shape: string}[]} series values by step
   * @param {{log?: boolean, shift?: number, symlog?: number}} y the y axis: log of
   *   v - shift, or symmetric log (sign(v) log10(1 + |v| / symlog)) for values of
   *   both signs, or linear
   */
  setData(series, y) {
    this.series = series.map((s, k) => ({ ...s, dash: dashOf(s, k) }));
    // what tells the lines apart, for tests and tools
    this.canvas.dataset.series = JSON.stringify(
      this.series.map((s) => ({ colour: s.colour, shape: s.shape, dash: s.dash })),
    );
    this.y = { shift: 0, ...y };
    this.steps = Math.max(1, ...series.map((s) => s.values.length - 1));
    const shown = series
      .flatMap((s) => s.values.map((v) => v - this.y.shift))
      .filter(Number.isFinite);
    if (this.y.log) {
      const positive = shown.filter((v) => v > 0);
      this.floor = positive.length ? Math.min(...positive) : 1;
      const lo = Math.floor(Math.log10(this.floor));
      const hi = Math.ceil(Math.log10(positive.length ? Math.max(...positive) : 10));
      this.range = [lo, Math.max(hi, lo + 1)];
    } else {
      const u = shown.map((v) => this.t(v));
      const lo = u.length ? Math.min(...u) : 0;
      const hi = u.length ? Math.max(...u) : 1;
      this.range = [lo, hi > lo ? hi : lo + 1];
    }
    this.layout(this.width);
  }

  /** A value's height on the axis, before scaling to pixels. */
  t(v) {
    const u = v - this.y.shift;
    if (this.y.log) return Math.log10(Math.max(u, this.floor));
    if (this.y.symlog) return Math.sign(u) * Math.log10(1 + Math.abs(u) / this.y.symlog);
    return u;
  }

  /** Tick heights and labels: decades on log axes (every few when the span is wide). */
  yTicks() {
    const [lo, hi] = this.range;
    if (this.y.log) {
      const every = Math.max(1, Math.ceil((hi - lo) / 5));
      const out = [];
      for (let k = lo; k <= hi; k += every) out.push({ u: k, text: decade(k) });
      return out;
    }
    if (this.y.symlog) {
      const k0 = Math.ceil(Math.log10(this.y.symlog));
      const every = Math.max(1, Math.ceil((hi - lo) / 6));
      const out = [{ u: 0, text: "0" }];
      for (let k = k0 + every; ; k += every) {
        const u = Math.log10(1 + 10 ** k / this.y.symlog);
        if (u > Math.max(hi, -lo)) break;
        if (u <= hi) out.push({ u, text: decade(k) });
        if (-u >= lo) out.push({ u: -u, text: `−${decade(k)}` });
      }
      return out;
    }
    return ticks(lo, hi, 4).map((v) => ({ u: v, text: format(v) }));
  }

  /** Size the chart (CSS pixels; the height stays as it was unless given) and redraw
   * its lines. The canvases are reallocated only when the size changes. */
  layout(width, height = this.height) {
    const w = Math.max(240, Math.round(width));
    const ratio = window.devicePixelRatio || 1;
    if (w !== this.width || height !== this.height || ratio !== this.ratio || !this.sized) {
      this.width = w;
      this.height = height;
      this.ratio = ratio;
      this.sized = true;
      for (const c of [this.canvas, this.base]) {
        c.width = Math.round(this.width * this.ratio);
        c.height = Math.round(this.height * this.ratio);
      }
      this.canvas.style.width = `${this.width}px`;
      this.canvas.style.height = `${this.height}px`;
    }
    this.pw = this.width - MARGIN.left - MARGIN.right;
    this.ph = this.height - MARGIN.top - MARGIN.bottom;
    if (this.y) this.drawBase();
  }

  /** Step and value -> CSS pixel (values at or below 0 on a log axis sit on the floor). */
  px(step, v) {
    const u = this.t(v);
    const [lo, hi] = this.range;
    return [
      MARGIN.left + (step / this.steps) * this.pw,
      MARGIN.top + (1 - (u - lo) / (hi - lo)) * this.ph,
    ];
  }

  drawBase() {
    const ctx = this.base.getContext("2d");
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const fg = cssVar("--fg", "#1d1f24");
    const grid = cssVar("--border", "#dde1e8");
    ctx.font = `${textPx(11)}px system-ui, sans-serif`;
    ctx.fillStyle = fg;
    ctx.lineWidth = 1;
    const [lo, hi] = this.range;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const { u, text } of this.yTicks()) {
      const y = MARGIN.top + (1 - (u - lo) / (hi - lo)) * this.ph;
      ctx.strokeStyle = grid;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, y);
      ctx.lineTo(MARGIN.left + this.pw, y);
      ctx.stroke();
      ctx.fillText(text, MARGIN.left - 5, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const s of ticks(0, this.steps, Math.max(2, Math.round(this.pw / 90)))) {
      if (s !== Math.round(s)) continue;
      ctx.fillText(String(s), MARGIN.left + (s / this.steps) * this.pw, MARGIN.top + this.ph + 5);
    }
    ctx.strokeStyle = cssVar("--muted", "#5b6270");
    ctx.strokeRect(MARGIN.left - 0.5, MARGIN.top - 0.5, this.pw + 1, this.ph + 1);
    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, this.pw, this.ph);
    ctx.clip();
    ctx.lineJoin = "round";
    for (const s of this.series) {
      ctx.beginPath();
      s.values.forEach((v, k) => {
        k ? ctx.lineTo(...this.px(k, v)) : ctx.moveTo(...this.px(k, v));
      });
      ctx.setLineDash(s.dash);
      ctx.strokeStyle = s.colour;
      ctx.lineWidth = 1.8;
      ctx.stroke();
    }
    ctx.setLineDash([]);
    // markers along each line, every MARKER_EVERY pixels, staggered between the series
    const every = Math.max(1, Math.round((MARKER_EVERY * this.steps) / this.pw));
    this.series.forEach((s, n) => {
      const offset = Math.round(((n + 0.5) * every) / this.series.length);
      for (let k = offset; k < s.values.length; k += every) {
        if (Number.isFinite(s.values[k])) dot(ctx, s, ...this.px(k, s.values[k]), 3.2);
      }
    });
    ctx.restore();
  }

  /** Copy the lines and mark step `frame` with a cursor and each series' dot. */
  draw(frame) {
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.drawImage(this.base, 0, 0);
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    const x = MARGIN.left + (Math.max(frame, 0) / this.steps) * this.pw;
    ctx.strokeStyle = cssVar("--fg", "#1d1f24");
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x, MARGIN.top);
    ctx.lineTo(x, MARGIN.top + this.ph);
    ctx.stroke();
    ctx.setLineDash([]);
    for (const s of this.series) {
      const k = Math.max(0, Math.min(frame, s.values.length - 1));
      const [px, py] = this.px(k, s.values[k]);
      dot(ctx, s, px, Math.min(Math.max(py, MARGIN.top), MARGIN.top + this.ph), 4.5);
    }
  }
}
