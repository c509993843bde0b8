// The accuracy-vs-length chart: x is the sequence length T on a log scale, y is the
// held-out accuracy 0..1. Per model: the live runs as a line through each length's
// mean with a shaded band from the lowest run to the highest; the reference run
// dashed, with bars from its lowest run to its highest; chance dotted. It draws the
// accuracies the server reported (and the reference's own summary), nothing else.
import { format } from "./colors.js";
import { el } from "./common.js";
import { cssVar, marker, textPx } from "./plot.js";
import { t } from "./i18n.js";

const MARGIN = { left: 52, right: 16, top: 12, bottom: 40 };
const HEIGHT = 260;

/** `rgb` (#rrggbb) with alpha `a`. */
function alpha(rgb, a) {
  const n = parseInt(rgb.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

export class SweepChart {
  /** `ts`: the lengths on the x axis; `models`: [{key, colour, shape}]. */
  constructor(parent, ts, models) {
    this.ts = ts;
    this.models = models;
    this.canvas = el("canvas", {
      class: "line-chart sweep-canvas",
      role: "img",
      "aria-label": t("rnn.sweepChart"),
    });
    parent.append(this.canvas);
  }

  /** live and reference: {model: {T: {mean, min, max}}} (a length without runs yet is
   * absent); chance: the accuracy of guessing, or null. */
  draw(live, reference, chance, width) {
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(280, Math.round(width));
    Object.assign(this.canvas, { width: w * ratio, height: HEIGHT * ratio });
    Object.assign(this.canvas.style, { width: `${w}px`, height: `${HEIGHT}px` });
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, HEIGHT);
    const pw = w - MARGIN.left - MARGIN.right;
    const ph = HEIGHT - MARGIN.top - MARGIN.bottom;
    const lo = Math.log2(this.ts[0]);
    const hi = Math.log2(this.ts[this.ts.length - 1]);
    const px = (T) => MARGIN.left + pw * (0.06 + (0.88 * (Math.log2(T) - lo)) / (hi - lo || 1));
    const py = (acc) => MARGIN.top + (1 - acc) * ph;
    this.axes(ctx, px, py, pw, ph);
    if (chance !== null) this.chance(ctx, py, pw, chance);
    for (const m of this.models) this.reference(ctx, px, py, m, reference[m.key] || {});
    for (const m of this.models) this.live(ctx, px, py, m, live[m.key] || {});
  }

  axes(ctx, px, py, pw, ph) {
    ctx.font = `${textPx(11)}px system-ui, sans-serif`;
    ctx.fillStyle = cssVar("--fg", "#1d1f24");
    ctx.strokeStyle = cssVar("--border", "#dde1e8");
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const acc of [0, 0.25, 0.5, 0.75, 1]) {
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, py(acc));
      ctx.lineTo(MARGIN.left + pw, py(acc));
      ctx.stroke();
      ctx.fillText(String(acc), MARGIN.left - 6, py(acc));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const T of this.ts) ctx.fillText(String(T), px(T), MARGIN.top + ph + 5);
    ctx.fillText(t("rnn.sweepX"), MARGIN.left + pw / 2, MARGIN.top + ph + 22);
    ctx.strokeStyle = cssVar("--muted", "#5b6270");
    ctx.strokeRect(MARGIN.left - 0.5, MARGIN.top - 0.5, pw + 1, ph + 1);
  }

  chance(ctx, py, pw, chance) {
    ctx.setLineDash([2, 3]);
    ctx.strokeStyle = cssVar("--muted", "#5b6270");
    ctx.beginPath();
    ctx.moveTo(MARGIN.left, py(chance));
    ctx.lineTo(MARGIN.left + pw, py(chance));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.textAlign = "left";
    ctx.textBaseline = "bottom";
    ctx.fillStyle = cssVar("--muted", "#5b6270");
    ctx.fillText(t("rnn.chance", { chance: format(chance) }), MARGIN.left + 6, py(chance) - 2);
  }

  /** The reference run: a dashed line through the means, bars from min to max (set
   * a little to the left of the live points, so both stay readable). */
  reference(ctx, px, py, m, stats) {
    const done = this.ts.filter((T) => stats[T]);
    const x = (T) => px(T) - 7;
    ctx.strokeStyle = alpha(m.colour, 0.7);
    ctx.lineWidth = 1.5;
    for (const T of done) {
      const s = stats[T];
      ctx.beginPath();
      ctx.moveTo(x(T), py(s.min));
      ctx.lineTo(x(T), py(s.max));
      ctx.moveTo(x(T) - 3, py(s.min));
      ctx.lineTo(x(T) + 3, py(s.min));
      ctx.moveTo(x(T) - 3, py(s.max));
      ctx.lineTo(x(T) + 3, py(s.max));
      ctx.stroke();
    }
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    done.forEach((T, k) => {
      if (k) ctx.lineTo(x(T), py(stats[T].mean));
      else ctx.moveTo(x(T), py(stats[T].mean));
    });
    ctx.stroke();
    ctx.setLineDash([]);
  }

  /** The live runs: a band from min to max, a line through the means, each mean marked
   * and written. */
  live(ctx, px, py, m, stats) {
    const done = this.ts.filter((T) => stats[T]);
    if (!done.length) return;
    ctx.fillStyle = alpha(m.colour, 0.16);
    ctx.beginPath();
    done.forEach((T, k) => {
      if (k) ctx.lineTo(px(T), py(stats[T].max));
      else ctx.moveTo(px(T), py(stats[T].max));
    });
    for (const T of [...done].reverse()) ctx.lineTo(px(T), py(stats[T].min));
    ctx.closePath();
    ctx.fill();
    if (done.length === 1) {
      // one length so far: its band is a bar
      ctx.fillRect(
        px(done[0]) - 3,
        py(stats[done[0]].max),
        6,
        py(stats[done[0]].min) - py(stats[done[0]].max),
      );
    }
    ctx.strokeStyle = m.colour;
    ctx.lineWidth = 1.8;
    ctx.beginPath();
    done.forEach((T, k) => {
      if (k) ctx.lineTo(px(T), py(stats[T].mean));
      else ctx.moveTo(px(T), py(stats[T].mean));
    });
    ctx.stroke();
    ctx.lineWidth = 1;
    const last = this.ts[this.ts.length - 1];
    for (const T of done) {
      const acc = stats[T].mean;
      marker(ctx, m.shape, px(T), py(acc), 5);
      ctx.fillStyle = m.colour;
      ctx.fill();
      ctx.strokeStyle = "#fff";
      ctx.stroke();
      ctx.fillStyle = m.colour;
      ctx.textAlign = T === last ? "right" : "left";
      ctx.textBaseline = m.key === "rnn" ? "top" : "bottom";
      ctx.fillText(
        format(acc),
        px(T) + (T === last ? -8 : 8),
        py(acc) + (m.key === "rnn" ? 3 : -3),
      );
    }
  }
}
