// A mosaic: every plane of a tensor as a tile of one canvas.
import { CanvasMap, strokeMark } from "./canvasmap.js";
import { colour, format } from "./colors.js";
import { onQuiz, quizHides } from "./live-hooks.js";

const GREY = [225, 228, 234]; // a cell an open class question hides (as heatmap.js)

/**
 * Many planes of one tensor on one canvas (a mosaic of tiles with 1-pixel gaps):
 * one image upload and two DOM nodes however many channels a layer has.
 */
export class Mosaic extends CanvasMap {
  constructor(parent, opts = {}) {
    super(parent, { cell: 10, maxWidth: 560, ...opts }, "heatmap mosaic", "maps");
    // An open class question greys the cells it asks about (live-hooks.js quizHides).
    this.requiz = () => this.tiles && this.draw(this.tiles, this.rows, this.cols, this.scale);
    onQuiz(this.requiz, this.el);
  }

  /** Whether the class's open question hides cell (r, c) of tile k. */
  hidden(k, r, c) {
    return quizHides(`${this.opts.name || ""}[${this.tiles[k].lead}]`, r, c);
  }

  /** A cell's number as the map says it: "?" while a question hides it. */
  valueText(hit, exact = false) {
    if (this.hidden(hit.tile, hit.r, hit.c)) return "?";
    const v = this.value(hit);
    return exact && Number.isFinite(v) ? String(v) : format(v);
  }

  activate(e) {
    const hit = this.hit(e);
    if (!hit) return;
    this.cursor = hit;
    if (this.onClick) this.onClick(hit.tile, hit.r, hit.c, this.value(hit));
  }

  redraw() {
    this.mark(this.marks);
  }

  /** The cursor cell's index and value, for the accessible name. */
  describe() {
    if (!this.tiles) return "";
    this.cursor = this.cursor || { tile: 0, r: 0, c: 0 };
    const lead = this.tiles[this.cursor.tile].lead;
    return `[${[...lead, this.cursor.r, this.cursor.c].join(", ")}] = ${this.valueText(this.cursor)}`;
  }

  /** Arrows move a cursor cell by cell (across tiles), Enter or Space explains it. */
  key(e) {
    if (!this.tiles) return;
    const cur = this.cursor || { tile: 0, r: 0, c: 0 };
    this.handleKey(
      e,
      (dr, dc) => {
        if (dr === null) {
          const last = this.tiles.length - 1;
          this.cursor =
            dc < 0 ? { tile: 0, r: 0, c: 0 } : { tile: last, r: this.rows - 1, c: this.cols - 1 };
          this.mark(this.marks);
          return;
        }
        let { tile, r, c } = cur;
        r += dr;
        c += dc;
        // Past a tile's edge, move to the neighbouring tile's opposite edge.
        if (c < 0 && tile > 0) [tile, c] = [tile - 1, this.cols - 1];
        if (c >= this.cols && tile < this.tiles.length - 1) [tile, c] = [tile + 1, 0];
        if (r < 0 && tile >= this.perRow) [tile, r] = [tile - this.perRow, this.rows - 1];
        if (r >= this.rows && tile + this.perRow < this.tiles.length)
          [tile, r] = [tile + this.perRow, 0];
        r = Math.min(Math.max(r, 0), this.rows - 1);
        c = Math.min(Math.max(c, 0), this.cols - 1);
        this.cursor = { tile, r, c };
        this.mark(this.marks);
      },
      () => this.onClick(cur.tile, cur.r, cur.c, this.value(cur)),
    );
  }

  /** tiles: [{lead: [...], data: Float32Array}] all rows x cols; one colour scale. */
  draw(tiles, rows, cols, scale) {
    const t0 = performance.now();
    if (
      this.cursor &&
      (this.cursor.tile >= tiles.length || this.cursor.r >= rows || this.cursor.c >= cols)
    )
      this.cursor = null;
    Object.assign(this, { tiles, rows, cols, scale });
    const cell = Math.max(2, Math.min(this.opts.cell, Math.floor(this.opts.maxWidth / (cols + 1))));
    const perRow = Math.max(
      1,
      Math.min(tiles.length, Math.floor(this.opts.maxWidth / ((cols + 1) * cell))),
    );
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
          const hide = this.hidden(k, r, c);
          const [R, G, B] = hide ? GREY : colour(tile.data[r * cols + c], scale);
          px[o] = R;
          px[o + 1] = G;
          px[o + 2] = B;
        }
      }
    });
    ctx.putImageData(img, 0, 0);
    if (this.el.isConnected) onQuiz(this.requiz, this.el);
    this.size(W * cell, H * cell);
    this.mark(this.marks);
    if (document.activeElement === this.overlay) this.announce();
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
    for (const m of this.marks) {
      const [ox, oy] = this.origin(m.tile);
      strokeMark(ctx, (ox + m.c) * cell, (oy + m.r) * cell, cell, cell, m.style);
    }
    if (this.cursor && this.keyboardFocus()) {
      const [ox, oy] = this.origin(this.cursor.tile);
      strokeMark(
        ctx,
        (ox + this.cursor.c) * cell,
        (oy + this.cursor.r) * cell,
        cell,
        cell,
        "cursor",
      );
      this.scrollToSpan((ox + this.cursor.c) * cell, cell);
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

  /** The hovered (or tapped) cell's index and value, or null between tiles. */
  tip(e) {
    const hit = this.hit(e);
    if (!hit) return null;
    const lead = this.tiles[hit.tile].lead;
    return `${this.opts.name || ""}[${[...lead, hit.r, hit.c].join(",")}] = ${this.valueText(hit, true)}`;
  }
}
