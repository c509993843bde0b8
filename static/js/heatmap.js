// A heatmap: a canvas as large as the tensor plane, scaled up with
// image-rendering: pixelated; numbers and highlights on an overlay canvas.
import { colour, format } from "./colors.js";

let tooltip;
function showTooltip(text, x, y) {
  if (!tooltip) {
    tooltip = document.createElement("div");
    tooltip.className = "tooltip";
    tooltip.setAttribute("role", "status");
    document.body.append(tooltip);
  }
  tooltip.textContent = text;
  tooltip.style.left = `${x + 12}px`;
  tooltip.style.top = `${y + 12}px`;
  tooltip.hidden = false;
}
function hideTooltip() {
  if (tooltip) tooltip.hidden = true;
}

export class Heatmap {
  /**
   * @param {HTMLElement} parent
   * @param {{cell?: number, numbers?: boolean|"auto", label?: string, name?: string}} opts
   */
  constructor(parent, opts = {}) {
    this.opts = { cell: 28, numbers: "auto", ...opts };
    this.el = document.createElement("figure");
    this.el.className = "heatmap";
    if (opts.name) this.el.dataset.tensor = opts.name;
    this.base = document.createElement("canvas");
    this.base.className = "heatmap-base";
    this.overlay = document.createElement("canvas");
    this.overlay.className = "heatmap-overlay";
    this.box = document.createElement("div");
    this.box.className = "heatmap-box";
    this.box.append(this.base, this.overlay);
    this.caption = document.createElement("figcaption");
    this.caption.textContent = opts.label || "";
    this.el.append(this.box, this.caption);
    parent.append(this.el);
    this.marks = [];
    this.onClick = null;
    this.overlay.addEventListener("mousemove", (e) => this.hover(e));
    this.overlay.addEventListener("mouseleave", hideTooltip);
    this.overlay.addEventListener("click", (e) => {
      const cell = this.cellAt(e);
      if (cell && this.onClick) this.onClick(cell.r, cell.c, this.value(cell.r, cell.c));
    });
    // Keyboard: focus the map, arrows move a cursor, Enter or Space explains the cell.
    this.overlay.tabIndex = 0;
    this.overlay.setAttribute("role", "img");
    this.overlay.setAttribute("aria-label", opts.name || opts.label || "map");
    this.overlay.addEventListener("keydown", (e) => this.key(e));
    this.overlay.addEventListener("focus", () => this.drawOverlay());
    this.overlay.addEventListener("blur", () => this.drawOverlay());
  }

  key(e) {
    if (!this.plane) return;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const cur = this.cursor || { r: 0, c: 0 };
    if (moves[e.key]) {
      const [dr, dc] = moves[e.key];
      const r = Math.min(Math.max(cur.r + dr, 0), this.plane.rows - 1);
      const c = Math.min(Math.max(cur.c + dc, 0), this.plane.cols - 1);
      this.cursor = { r, c };
      this.overlay.setAttribute("aria-label", `${this.opts.name || ""}[${r}, ${c}] = ${format(this.value(r, c))}`);
      this.drawOverlay();
    } else if ((e.key === "Enter" || e.key === " ") && this.onClick) {
      this.onClick(cur.r, cur.c, this.value(cur.r, cur.c));
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
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
    const w = cols * cell;
    const h = rows * cell;
    for (const c of [this.base, this.overlay]) {
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    this.box.style.width = `${w}px`;
    this.box.style.height = `${h}px`;
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
          if (width > cell - 4) ctx.font = `${Math.max(7, Math.floor((size * (cell - 4)) / width))}px ui-monospace, monospace`;
          ctx.fillText(text, c * cell + cell / 2, r * cell + cell / 2);
          if (width > cell - 4) ctx.font = `${size}px ui-monospace, monospace`;
        }
      }
    }
    const styles = { window: "#f5a700", source: "#00a36c", target: "#e0007a", chosen: "#111" };
    for (const m of this.marks) {
      ctx.strokeStyle = styles[m.style] || "#111";
      ctx.lineWidth = m.style === "window" ? 3 : 2;
      ctx.strokeRect(m.c * cell + 1.5, m.r * cell + 1.5, (m.w || 1) * cell - 3, (m.h || 1) * cell - 3);
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
    showTooltip(`${name}[${cell.r}, ${cell.c}] = ${Number.isFinite(v) ? v : format(v)}`, e.clientX, e.clientY);
  }
}

/**
 * Many planes of one tensor on one canvas (a mosaic of tiles with 1-pixel gaps):
 * one image upload and two DOM nodes however many channels a layer has.
 */
export class Mosaic {
  constructor(parent, opts = {}) {
    this.opts = { cell: 10, maxWidth: 560, ...opts };
    this.el = document.createElement("figure");
    this.el.className = "heatmap mosaic";
    if (opts.name) this.el.dataset.tensor = opts.name;
    this.base = document.createElement("canvas");
    this.base.className = "heatmap-base";
    this.overlay = document.createElement("canvas");
    this.overlay.className = "heatmap-overlay";
    this.box = document.createElement("div");
    this.box.className = "heatmap-box";
    this.box.append(this.base, this.overlay);
    this.el.append(this.box);
    if (opts.label) {
      const cap = document.createElement("figcaption");
      cap.textContent = opts.label;
      this.el.append(cap);
    }
    parent.append(this.el);
    this.onClick = null;
    this.marks = [];
    this.overlay.addEventListener("mousemove", (e) => this.hover(e));
    this.overlay.addEventListener("mouseleave", hideTooltip);
    this.overlay.addEventListener("click", (e) => {
      const hit = this.hit(e);
      if (hit && this.onClick) this.onClick(hit.tile, hit.r, hit.c, this.value(hit));
    });
    this.overlay.tabIndex = 0;
    this.overlay.setAttribute("role", "img");
    this.overlay.setAttribute("aria-label", opts.name || opts.label || "maps");
    this.overlay.addEventListener("keydown", (e) => this.key(e));
    this.overlay.addEventListener("focus", () => this.mark(this.marks));
    this.overlay.addEventListener("blur", () => this.mark(this.marks));
  }

  /** Arrows move a cursor cell by cell (across tiles), Enter or Space explains it. */
  key(e) {
    if (!this.tiles) return;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const cur = this.cursor || { tile: 0, r: 0, c: 0 };
    if (moves[e.key]) {
      const [dr, dc] = moves[e.key];
      let { tile, r, c } = cur;
      r += dr;
      c += dc;
      if (c < 0 && tile > 0) (tile -= 1), (c = this.cols - 1);
      if (c >= this.cols && tile < this.tiles.length - 1) (tile += 1), (c = 0);
      if (r < 0 && tile >= this.perRow) (tile -= this.perRow), (r = this.rows - 1);
      if (r >= this.rows && tile + this.perRow < this.tiles.length) (tile += this.perRow), (r = 0);
      r = Math.min(Math.max(r, 0), this.rows - 1);
      c = Math.min(Math.max(c, 0), this.cols - 1);
      this.cursor = { tile, r, c };
      const lead = this.tiles[tile].lead;
      this.overlay.setAttribute("aria-label",
        `${this.opts.name || ""}[${[...lead, r, c].join(", ")}] = ${format(this.value(this.cursor))}`);
      this.mark(this.marks);
    } else if ((e.key === "Enter" || e.key === " ") && this.onClick) {
      this.onClick(cur.tile, cur.r, cur.c, this.value(cur));
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  /** tiles: [{lead: [...], data: Float32Array}] all rows x cols; one colour scale. */
  draw(tiles, rows, cols, scale) {
    const t0 = performance.now();
    Object.assign(this, { tiles, rows, cols, scale });
    const cell = Math.max(2, Math.min(this.opts.cell, Math.floor(this.opts.maxWidth / (cols + 1))));
    const perRow = Math.max(1, Math.min(tiles.length, Math.floor(this.opts.maxWidth / ((cols + 1) * cell))));
    const lines = Math.ceil(tiles.length / perRow);
    const W = perRow * (cols + 1) - 1;
    const H = lines * (rows + 1) - 1;
    Object.assign(this, { cell, perRow, W, H });
    this.base.width = W;
    this.base.height = H;
    const ctx = this.base.getContext("2d");
    const img = ctx.createImageData(W, H);
    const px = img.data;
    px.fill(255);
    tiles.forEach((tile, k) => {
      const ox = (k % perRow) * (cols + 1);
      const oy = Math.floor(k / perRow) * (rows + 1);
      for (let r = 0; r < rows; r++) {
        let o = 4 * ((oy + r) * W + ox);
        for (let c = 0; c < cols; c++, o += 4) {
          const [R, G, B] = colour(tile.data[r * cols + c], scale);
          px[o] = R;
          px[o + 1] = G;
          px[o + 2] = B;
        }
      }
    });
    ctx.putImageData(img, 0, 0);
    for (const c of [this.base, this.overlay]) {
      c.style.width = `${W * cell}px`;
      c.style.height = `${H * cell}px`;
    }
    this.box.style.width = `${W * cell}px`;
    this.box.style.height = `${H * cell}px`;
    this.mark(this.marks);
    this.lastDrawMs = performance.now() - t0;
    return this;
  }

  origin(k) {
    return [(k % this.perRow) * (this.cols + 1), Math.floor(k / this.perRow) * (this.rows + 1)];
  }

  /** marks: [{tile, r, c, style}] */
  mark(marks) {
    this.marks = marks || [];
    if (!this.tiles) return;
    const ratio = window.devicePixelRatio || 1;
    const cell = this.cell;
    this.overlay.width = this.W * cell * ratio;
    this.overlay.height = this.H * cell * ratio;
    const ctx = this.overlay.getContext("2d");
    ctx.scale(ratio, ratio);
    const styles = { window: "#f5a700", source: "#00a36c", target: "#e0007a", chosen: "#111" };
    ctx.lineWidth = 2;
    for (const m of this.marks) {
      const [ox, oy] = this.origin(m.tile);
      ctx.strokeStyle = styles[m.style] || "#111";
      ctx.strokeRect((ox + m.c) * cell + 1, (oy + m.r) * cell + 1, cell - 2, cell - 2);
    }
    if (this.cursor && document.activeElement === this.overlay) {
      const [ox, oy] = this.origin(this.cursor.tile);
      ctx.setLineDash([3, 2]);
      ctx.strokeStyle = "#2458b8";
      ctx.strokeRect((ox + this.cursor.c) * cell + 1, (oy + this.cursor.r) * cell + 1, cell - 2, cell - 2);
    }
  }

  hit(e) {
    if (!this.tiles) return null;
    const rect = this.overlay.getBoundingClientRect();
    const x = Math.floor(((e.clientX - rect.left) / rect.width) * this.W);
    const y = Math.floor(((e.clientY - rect.top) / rect.height) * this.H);
    const tx = Math.floor(x / (this.cols + 1));
    const ty = Math.floor(y / (this.rows + 1));
    const c = x - tx * (this.cols + 1);
    const r = y - ty * (this.rows + 1);
    const tile = ty * this.perRow + tx;
    if (c >= this.cols || r >= this.rows || tile >= this.tiles.length) return null;
    return { tile, r, c };
  }

  value(hit) {
    return this.tiles[hit.tile].data[hit.r * this.cols + hit.c];
  }

  hover(e) {
    const hit = this.hit(e);
    if (!hit) return hideTooltip();
    const lead = this.tiles[hit.tile].lead;
    const v = this.value(hit);
    showTooltip(`${this.opts.name || ""}[${[...lead, hit.r, hit.c].join(",")}] = ${Number.isFinite(v) ? v : format(v)}`,
      e.clientX, e.clientY);
  }
}
