// A heatmap: a canvas as large as the tensor plane, scaled up pixelated;
// numbers and highlights on the overlay when the cells are large enough.
// Number sizes come from CSS: --map-number-px (the smallest a number is drawn,
// default 7) and --map-cell-px (the smallest cell of a map that shows its numbers,
// default none); present mode raises both.
import { CanvasMap, cssPx, strokeMark } from "./canvasmap.js";
import { colour, format } from "./colors.js";
import { onQuiz, quizHides } from "./live-hooks.js";

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
    // An open class question greys the cells it asks about: redraw when it changes (the
    // listener goes once the map has left the page; a draw on the page adds it back).
    this.requiz = () => this.plane && this.draw(this.plane, this.scale, this.reveal);
    onQuiz(this.requiz, this.el);
  }

  /** Whether the class's open question hides cell (r, c) (its number shows as "?"). */
  hidden(r, c) {
    return quizHides(this.opts.name, r, c);
  }

  /** Cell (r, c)'s number as the map says it: "?" while a question hides it. */
  valueText(r, c, exact = false) {
    if (this.hidden(r, c)) return "?";
    const v = this.value(r, c);
    return exact && Number.isFinite(v) ? String(v) : format(v);
  }

  activate(e) {
    const cell = this.cellAt(e);
    if (!cell) return;
    this.cursor = cell;
    if (this.onClick) this.onClick(cell.r, cell.c, this.value(cell.r, cell.c));
  }

  redraw() {
    this.drawOverlay();
  }

  /** The cursor cell's index and value, for the accessible name. */
  describe() {
    if (!this.plane) return "";
    this.cursor = this.cursor || { r: 0, c: 0 };
    const { r, c } = this.cursor;
    return `[${r}, ${c}] = ${this.valueText(r, c)}`;
  }

  key(e) {
    if (!this.plane) return;
    const cur = this.cursor || { r: 0, c: 0 };
    const { rows, cols } = this.plane;
    this.handleKey(
      e,
      (dr, dc) => {
        if (dr === null) this.cursor = dc < 0 ? { r: 0, c: 0 } : { r: rows - 1, c: cols - 1 };
        else
          this.cursor = {
            r: Math.min(Math.max(cur.r + dr, 0), rows - 1),
            c: Math.min(Math.max(cur.c + dc, 0), cols - 1),
          };
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
    if (this.cursor && (this.cursor.r >= plane.rows || this.cursor.c >= plane.cols))
      this.cursor = null;
    this.plane = plane;
    this.scale = scale;
    const { rows, cols, data } = plane;
    const cell = this.cellSize(rows, cols);
    this.cell = cell;
    this.overlay.dataset.cell = String(cell);
    this.base.width = cols;
    this.base.height = rows;
    const img = this.base.getContext("2d").createImageData(cols, rows);
    const hidden = [];
    for (let i = 0; i < rows * cols; i++) {
      const quiz = this.hidden(Math.floor(i / cols), i % cols);
      if (quiz) hidden.push(`${Math.floor(i / cols)},${i % cols}`);
      const [r, g, b] = this.shown(i) && !quiz ? colour(data[i], scale) : [225, 228, 234];
      img.data.set([r, g, b, 255], 4 * i);
    }
    // the cells a class question hides, "r,c r,c" (for tests and tools)
    if (hidden.length) this.overlay.dataset.quizHidden = hidden.join(" ");
    else delete this.overlay.dataset.quizHidden;
    this.base.getContext("2d").putImageData(img, 0, 0);
    this.size(cols * cell, rows * cell);
    this.drawOverlay();
    if (document.activeElement === this.overlay) this.announce();
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
    const cell = Math.max(2, Math.min(this.opts.cell, fit));
    // a map that shows its numbers keeps its cells at least --map-cell-px wide
    return this.numbersAt(cell) ? Math.max(cell, cssPx(this.el, "--map-cell-px", 0)) : cell;
  }

  numbersAt(cell) {
    const n = this.opts.numbers;
    return n === true || (n === "auto" && cell >= 30);
  }

  showNumbers() {
    return this.numbersAt(this.cell);
  }

  showsNumbers() {
    return this.showNumbers();
  }

  /** Outline cells: marks = [{r, c, style: "window"|"source"|"target"|"chosen", w?, h?}]. */
  mark(marks) {
    this.marks = marks || [];
    this.overlay.dataset.marks = JSON.stringify(this.marks); // for tests and tools
    this.drawOverlay();
  }

  drawOverlay() {
    if (!this.plane) return;
    if (this.el.isConnected) onQuiz(this.requiz, this.el);
    const { rows, cols } = this.plane;
    const ratio = window.devicePixelRatio || 1;
    const cell = this.cell;
    this.overlay.width = cols * cell * ratio;
    this.overlay.height = rows * cell * ratio;
    const ctx = this.overlay.getContext("2d");
    ctx.scale(ratio, ratio);
    if (this.showNumbers()) this.drawNumbers(ctx);
    for (const m of this.marks)
      strokeMark(ctx, m.c * cell, m.r * cell, (m.w || 1) * cell, (m.h || 1) * cell, m.style);
    if (this.cursor && this.keyboardFocus()) {
      strokeMark(ctx, this.cursor.c * cell, this.cursor.r * cell, cell, cell, "cursor");
      this.scrollToSpan(this.cursor.c * cell, cell);
    }
  }

  drawNumbers(ctx) {
    const { rows, cols, data } = this.plane;
    const cell = this.cell;
    const least = cssPx(this.el, "--map-number-px", 7);
    const size = Math.max(9, least, Math.floor(cell * 0.34));
    // --map-number-font: present mode's narrower digits keep 16 px numbers inside a cell
    const from = this.el.isConnected ? this.el : document.documentElement;
    const family =
      getComputedStyle(from).getPropertyValue("--map-number-font").trim() ||
      "ui-monospace, monospace";
    const font = (px) => `${px}px ${family}`;
    ctx.font = font(size);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        if (!this.shown(r * cols + c)) continue;
        const v = data[r * cols + c];
        const quiz = this.hidden(r, c);
        const [R, G, B] = quiz ? [225, 228, 234] : colour(v, this.scale);
        ctx.fillStyle = R * 0.299 + G * 0.587 + B * 0.114 > 140 ? "#111" : "#fff";
        const text = quiz ? "?" : format(v);
        const width = ctx.measureText(text).width;
        if (width > cell - 4)
          ctx.font = font(Math.max(least, Math.floor((size * (cell - 4)) / width)));
        ctx.fillText(text, c * cell + cell / 2, r * cell + cell / 2);
        if (width > cell - 4) ctx.font = font(size);
      }
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

  /** The hovered (or tapped) cell's name and value, or null off the map. */
  tip(e) {
    const cell = this.cellAt(e);
    if (!cell) return null;
    const name = this.opts.name ? `${this.opts.name} ` : "";
    return `${name}[${cell.r}, ${cell.c}] = ${this.valueText(cell.r, cell.c, true)}`;
  }
}
