// A contour plot of a 2-D surface sampled on a grid (from the API): filled colour
// by value (sequential, log-scaled when the values are skewed), contour lines by
// marching squares over the same samples, axes with ticks, marked critical points,
// and descent paths drawn on top. The filled field, lines and axes are drawn once
// per surface and size into an offscreen canvas; a frame only copies it and draws
// the paths, so animating is cheap.
import { colour } from "./colors.js";
import { DASHES } from "./linechart.js";
import { clip, cssVar, marchingSquares, marker, textPx, ticks, valueScale } from "./plot.js";
import { attachDownloads, fromNested } from "./export.js";

const MARGIN = { left: 46, right: 14, top: 12, bottom: 36 };
const LEVELS = 11;

export class ContourPlot {
  /**
   * @param {HTMLElement} parent
   * @param {{label?: string, onPick?: (x: number, y: number) => void, onHover?: (p: number[]|null) => void}} opts
   */
  constructor(parent, opts = {}) {
    this.opts = opts;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "contour";
    if (opts.label) this.canvas.setAttribute("aria-label", opts.label);
    this.canvas.setAttribute("role", "img");
    parent.append(this.canvas);
    this.base = document.createElement("canvas");
    // Download (export.js): the plot as drawn, the API's surface grid and each run's path.
    const shown = () => [
      fromNested("surface", this.grid?.values),
      ...(this.paths || []).map((p, i) => fromNested(`run${i + 1}.points`, p.points)),
    ];
    attachDownloads(parent, shown, { name: "surface" });
    this.canvas.addEventListener("click", (e) => {
      const p = this.dataAt(e);
      if (p && this.opts.onPick) this.opts.onPick(p[0], p[1]);
    });
    this.canvas.addEventListener("mousemove", (e) => this.opts.onHover?.(this.dataAt(e)));
    this.canvas.addEventListener("mouseleave", () => this.opts.onHover?.(null));
  }

  /** The surface (API info: x_range, y_range, minima, saddles) and its grid;
   * drawn by the next `layout`. */
  setSurface(info, grid) {
    this.info = info;
    this.grid = grid;
    this.scale = valueScale(grid.values.flat(), grid.min, grid.max);
    this.paths = null;
    this.runLayer = null;
  }

  /** Size the plot to `width` CSS pixels, same scale on both axes, and redraw the base. */
  layout(width, maxHeight = 560) {
    if (!this.info) return;
    // present mode caps the height (--plot-max-px) so the plot and the player fit a screen
    const most = Math.min(maxHeight, Number.parseFloat(cssVar("--plot-max-px", "")) || maxHeight);
    const [x0, x1] = this.info.x_range;
    const [y0, y1] = this.info.y_range;
    const aspect = (y1 - y0) / (x1 - x0);
    let pw = Math.max(160, width - MARGIN.left - MARGIN.right);
    if (pw * aspect > most) pw = most / aspect;
    this.pw = Math.round(pw);
    this.ph = Math.round(pw * aspect);
    this.width = this.pw + MARGIN.left + MARGIN.right;
    this.height = this.ph + MARGIN.top + MARGIN.bottom;
    this.ratio = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.base]) {
      c.width = Math.round(this.width * this.ratio);
      c.height = Math.round(this.height * this.ratio);
    }
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    this.drawBase();
  }

  /** Data (x, y) -> CSS pixel. */
  px(x, y) {
    const [x0, x1] = this.info.x_range;
    const [y0, y1] = this.info.y_range;
    return [
      MARGIN.left + ((x - x0) / (x1 - x0)) * this.pw,
      MARGIN.top + (1 - (y - y0) / (y1 - y0)) * this.ph,
    ];
  }

  /** The data point under a mouse event, or null outside the plot area. */
  dataAt(e) {
    if (!this.info) return null;
    const rect = this.canvas.getBoundingClientRect();
    const cx = ((e.clientX - rect.left) / rect.width) * this.width - MARGIN.left;
    const cy = ((e.clientY - rect.top) / rect.height) * this.height - MARGIN.top;
    if (cx < 0 || cy < 0 || cx > this.pw || cy > this.ph) return null;
    const [x0, x1] = this.info.x_range;
    const [y0, y1] = this.info.y_range;
    return [x0 + (cx / this.pw) * (x1 - x0), y1 - (cy / this.ph) * (y1 - y0)];
  }

  drawBase() {
    const ctx = this.base.getContext("2d");
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const { values } = this.grid;
    const R = values.length;
    const C = values[0].length;
    // The field: one pixel per sample, rows flipped so y grows upwards, scaled up
    // smoothly with each pixel centre on its sample (hence the half-pixel inset).
    const field = document.createElement("canvas");
    field.width = C;
    field.height = R;
    const fctx = field.getContext("2d");
    const img = fctx.createImageData(C, R);
    const seq = { kind: "sequential", min: 0, max: 1 };
    for (let i = 0; i < R; i++) {
      for (let j = 0; j < C; j++) {
        const [r, g, b] = colour(this.scale.to(values[i][j]), seq);
        img.data.set([r, g, b, 255], 4 * ((R - 1 - i) * C + j));
      }
    }
    fctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(field, 0.5, 0.5, C - 1, R - 1, MARGIN.left, MARGIN.top, this.pw, this.ph);
    // Contour lines at evenly spaced levels of the colour scale.
    ctx.strokeStyle = "rgba(255, 255, 255, 0.55)";
    ctx.lineWidth = 0.8;
    ctx.beginPath();
    const gx = (j) => MARGIN.left + (j / (C - 1)) * this.pw;
    const gy = (i) => MARGIN.top + (1 - i / (R - 1)) * this.ph;
    for (let k = 1; k <= LEVELS; k++) {
      for (const [a, b, c, d] of marchingSquares(values, this.scale.from(k / (LEVELS + 1)))) {
        ctx.moveTo(gx(a), gy(b));
        ctx.lineTo(gx(c), gy(d));
      }
    }
    ctx.stroke();
    this.drawAxes(ctx);
    this.drawRunLayer();
  }

  drawAxes(ctx) {
    const fg = cssVar("--fg", "#1d1f24");
    const muted = cssVar("--muted", "#5b6270");
    ctx.strokeStyle = muted;
    ctx.lineWidth = 1;
    ctx.strokeRect(MARGIN.left - 0.5, MARGIN.top - 0.5, this.pw + 1, this.ph + 1);
    ctx.fillStyle = fg;
    ctx.font = `${textPx(12)}px system-ui, sans-serif`;
    const [x0, x1] = this.info.x_range;
    const [y0, y1] = this.info.y_range;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.beginPath();
    for (const v of ticks(x0, x1, Math.max(3, Math.round(this.pw / 80)))) {
      const [x] = this.px(v, y0);
      ctx.moveTo(x, MARGIN.top + this.ph);
      ctx.lineTo(x, MARGIN.top + this.ph + 5);
      ctx.fillText(String(v), x, MARGIN.top + this.ph + 7);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const v of ticks(y0, y1, Math.max(3, Math.round(this.ph / 60)))) {
      const [, y] = this.px(x0, v);
      ctx.moveTo(MARGIN.left - 5, y);
      ctx.lineTo(MARGIN.left, y);
      ctx.fillText(String(v), MARGIN.left - 7, y);
    }
    ctx.stroke();
    ctx.font = `italic ${textPx(13)}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.fillText("x", MARGIN.left + this.pw / 2, MARGIN.top + this.ph + 27);
    ctx.fillText("y", 10, MARGIN.top + this.ph / 2);
  }

  /** Global minima as stars, local minima as circles, saddle points as crosses. */
  drawCritical(ctx) {
    const items = [
      ...this.info.minima.map((m) => ({ p: m.point, shape: m.global ? "star" : "circle" })),
      ...this.info.saddles.map((s) => ({ p: s.point, shape: "cross" })),
    ];
    for (const { p, shape } of items) {
      const [x, y] = this.px(p[0], p[1]);
      marker(ctx, shape, x, y, 6);
      if (shape === "cross") {
        ctx.strokeStyle = "#fff";
        ctx.lineWidth = 5;
        ctx.stroke();
        ctx.strokeStyle = "#111";
        ctx.lineWidth = 2.2;
        ctx.stroke();
      } else {
        ctx.fillStyle = "#fff";
        ctx.fill();
        ctx.strokeStyle = "#111";
        ctx.lineWidth = 1.5;
        ctx.stroke();
      }
    }
  }

  /**
   * The runs' paths, drawn by `draw`: each faint in full on a layer made once here
   * (and on each `layout`), and bold up to the frame.
   * @param {{points: number[][], colour: string, shape: string}[]} paths
   */
  setPaths(paths, start) {
    this.paths = paths;
    this.start = start;
    this.drawRunLayer();
  }

  /** Each segment of a path clipped to the plot (plus a margin), ready to stroke:
   * [pen up?, moveTo x, y, lineTo x, y] per step; far-off diverging points never
   * reach the canvas. */
  segments(points) {
    const box = [
      MARGIN.left - 20,
      MARGIN.top - 20,
      MARGIN.left + this.pw + 20,
      MARGIN.top + this.ph + 20,
    ];
    const out = new Float64Array(5 * points.length);
    let [ax, ay] = this.px(...points[0]);
    let joined = false;
    for (let k = 1; k < points.length; k++) {
      const [bx, by] = this.px(...points[k]);
      const seg = clip(ax, ay, bx, by, ...box);
      const o = 5 * k;
      if (seg) {
        out[o] = joined && seg[0] === ax && seg[1] === ay ? 0 : 1;
        out.set(seg, o + 1);
        joined = seg[2] === bx && seg[3] === by;
      } else {
        out[o] = -1;
        joined = false;
      }
      ax = bx;
      ay = by;
    }
    return out;
  }

  drawRunLayer() {
    if (!this.paths || !this.pw) return;
    this.runLayer ||= document.createElement("canvas");
    this.runLayer.width = this.base.width;
    this.runLayer.height = this.base.height;
    const ctx = this.runLayer.getContext("2d");
    ctx.drawImage(this.base, 0, 0);
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, this.pw, this.ph);
    ctx.clip();
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    this.segs = this.paths.map((p) => this.segments(p.points));
    ctx.globalAlpha = 0.35;
    this.paths.forEach((p, i) => {
      this.polyline(ctx, this.segs[i], p.points.length - 1, p.colour, 1.2);
    });
  }

  /** Draw one frame: the base with the faint paths, each path bold up to
   * `frame`, the critical points, the start and each path's current point. */
  draw(frame) {
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.runLayer || this.base, 0, 0);
    if (!this.paths) return;
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, this.pw, this.ph);
    ctx.clip();
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    this.paths.forEach((p, i) => {
      const last = Math.min(frame, p.points.length - 1);
      if (last < 1) return;
      this.polyline(ctx, this.segs[i], last, "rgba(255, 255, 255, 0.9)", 4.5);
      this.polyline(ctx, this.segs[i], last, p.colour, 2.2, DASHES[i % DASHES.length]);
    });
    this.drawCritical(ctx);
    if (this.start) {
      const [sx, sy] = this.px(this.start[0], this.start[1]);
      marker(ctx, "diamond", sx, sy, 7);
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 4;
      ctx.stroke();
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    for (const p of this.paths) {
      const last = Math.max(0, Math.min(frame, p.points.length - 1));
      const [x, y] = this.px(...p.points[last]);
      marker(ctx, p.shape, x, y, 6);
      ctx.fillStyle = p.colour;
      ctx.fill();
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 1.8;
      ctx.stroke();
    }
    ctx.restore();
  }

  /** Stroke the first `upto` steps of a path's clipped segments as one polyline. */
  polyline(ctx, segs, upto, colour, width, dash = []) {
    ctx.beginPath();
    for (let k = 1; k <= upto; k++) {
      const o = 5 * k;
      if (segs[o] < 0) continue;
      if (segs[o] > 0) ctx.moveTo(segs[o + 1], segs[o + 2]);
      ctx.lineTo(segs[o + 3], segs[o + 4]);
    }
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.stroke();
    ctx.setLineDash([]);
  }
}
