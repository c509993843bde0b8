// A heatmap: a canvas as large as the tensor plane, scaled up pixelated;
// numbers and highlights on the overlay when the cells are large enough.
import { CanvasMap, showTooltip, hideTooltip } from "./canvasmap.js";
import { colour, format } from "./colors.js";

export class Heatmap extends CanvasMap {
  /**
   * @param {HTMLElement} parent
   * @param {{cell?: number, numbers?: boolean|"auto", label?: string, name?: string}} opts
   */
  constructor(parent, opts = {}) {
    super(
      parent,
      { cell: 28, numbers: "auto", ...opts, label: opts.label || "" },
      "heatmap",
      "map",
    );
  }

  clicked(e) {
    const cell = this.cellAt(e);
    if (cell && this.onClick) this.onClick(cell.r, cell.c, this.value(cell.r, cell.c));
  }

  redraw() {
    this.drawOverlay();
  }

  key(e) {
    if (!this.plane) return;
    const cur = this.cursor || { r: 0, c: 0 };
    this.handleKey(
      e,
      (dr, dc) => {
        const r = Math.min(Math.max(cur.r + dr, 0), this.plane.rows - 1);
        const c = Math.min(Math.max(cur.c + dc, 0), this.plane.cols - 1);
        this.cursor = { r, c };
        this.overlay.setAttribute(
          "aria-label",
          `${this.opts.name || ""}[${r}, ${c}] = ${format(this.value(r, c))}`,
        );
        this.drawOverlay();
      },
      () => this.onClick(cur.r, cur.c, this.value(cur.r, cur.c)),
    );
  }

  /** Draw a rows x cols plane (Float32Array, row-major) with a colour scale;
   * with `reveal` (a count of leading cells, or a Set of cell indices) the others are grey. */
  draw(plane, scale, reveal = Infinity) {
    this.reveal = reveal;
    const t0 = performance.now();
    this.plane = plane;
    this.scale = scale;
    const { rows, cols, data } = plane;
    const cell = this.cellSize(rows, cols);
    this.cell = cell;
    this.base.width = cols;
    this.base.height = rows;
    const img = this.base.getContext("2d").createImageData(cols, rows);
    for (let i = 0; i < rows * cols; i++) {
      const [r, g, b] = this.shown(i) ? colour(data[i], scale) : [225, 228, 234];
      img.data.set([r, g, b, 255], 4 * i);
    }
    this.base.getContext("2d").putImageData(img, 0, 0);
    this.size(cols * cell, rows * cell);
    this.drawOverlay();
    this.lastDrawMs = performance.now() - t0;
    return this;
  }

  /** Whether cell i is revealed (`reveal` is a count of leading cells or a Set of indices). */
  shown(i) {
    return this.reveal instanceof Set ? this.reveal.has(i) : i < this.reveal;
  }

  cellSize(rows, cols) {
    const max = Math.max(rows, cols);
    const fit = Math.floor((this.opts.maxPx || 260) / max);
    return Math.max(2, Math.min(this.opts.cell, fit));
  }

  showNumbers() {
    const n = this.opts.numbers;
    return n === true || (n === "auto" && this.cell >= 30);
  }

  /** Outline cells: marks = [{r, c, style: "window"|"source"|"target"|"chosen", label?}]. */
  mark(marks) {
    this.marks = marks || [];
    this.drawOverlay();
  }

  drawOverlay() {
    if (!this.plane) return;
    const { rows, cols, data } = this.plane;
    const ratio = window.devicePixelRatio || 1;
    const cell = this.cell;
    this.overlay.width = cols * cell * ratio;
    this.overlay.height = rows * cell * ratio;
    const ctx = this.overlay.getContext("2d");
    ctx.scale(ratio, ratio);
    if (this.showNumbers()) {
      const size = Math.max(9, Math.floor(cell * 0.34));
      ctx.font = `${size}px ui-monospace, monospace`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          if (!this.shown(r * cols + c)) continue;
          const v = data[r * cols + c];
          const [R, G, B] = colour(v, this.scale);
          ctx.fillStyle = R * 0.299 + G * 0.587 + B * 0.114 > 140 ? "#111" : "#fff";
          const text = format(v);
          const width = ctx.measureText(text).width;
          if (width > cell - 4)
            ctx.font = `${Math.max(7, Math.floor((size * (cell - 4)) / width))}px ui-monospace, monospace`;
          ctx.fillText(text, c * cell + cell / 2, r * cell + cell / 2);
          if (width > cell - 4) ctx.font = `${size}px ui-monospace, monospace`;
        }
      }
    }
    const styles = { window: "#f5a700", source: "#00a36c", target: "#e0007a", chosen: "#111" };
    for (const m of this.marks) {
      ctx.strokeStyle = styles[m.style] || "#111";
      ctx.lineWidth = m.style === "window" ? 3 : 2;
      ctx.strokeRect(
        m.c * cell + 1.5,
        m.r * cell + 1.5,
        (m.w || 1) * cell - 3,
        (m.h || 1) * cell - 3,
      );
    }
    if (this.cursor && document.activeElement === this.overlay) {
      ctx.setLineDash([3, 2]);
      ctx.strokeStyle = "#2458b8";
      ctx.lineWidth = 2;
      ctx.strokeRect(this.cursor.c * cell + 1, this.cursor.r * cell + 1, cell - 2, cell - 2);
    }
  }

  cellAt(e) {
    if (!this.plane) return null;
    const rect = this.overlay.getBoundingClientRect();
    const c = Math.floor(((e.clientX - rect.left) / rect.width) * this.plane.cols);
    const r = Math.floor(((e.clientY - rect.top) / rect.height) * this.plane.rows);
    if (r < 0 || c < 0 || r >= this.plane.rows || c >= this.plane.cols) return null;
    return { r, c };
  }

  value(r, c) {
    return this.plane.data[r * this.plane.cols + c];
  }

  hover(e) {
    const cell = this.cellAt(e);
    if (!cell) return hideTooltip();
    const name = this.opts.name ? `${this.opts.name} ` : "";
    const v = this.value(cell.r, cell.c);
    showTooltip(
      `${name}[${cell.r}, ${cell.c}] = ${Number.isFinite(v) ? v : format(v)}`,
      e.clientX,
      e.clientY,
    );
  }
}
