// What every map shares: a base canvas (the colours, one pixel per cell, scaled
// up with image-rendering: pixelated) under an overlay canvas (numbers, marks,
// the keyboard cursor), a hover tooltip (a tap or click pins it), click and
// keyboard handling (the map is one tab stop; arrows move a cursor among its cells).
import { MARK_INK, MARK_STYLES } from "./colors.js";

let tooltip;
let pinned = null; // {text, x, y} of the pinned tooltip, kept until another tap or Escape
function place(text, x, y) {
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
  tooltip.classList.toggle("pinned", Boolean(pinned));
}
/** Preview a value by the pointer (hover). */
export function showTooltip(text, x, y) {
  place(text, x, y);
}
/** End a preview: back to the pinned value, if any. */
export function hideTooltip() {
  if (pinned) place(pinned.text, pinned.x, pinned.y);
  else if (tooltip) tooltip.hidden = true;
}
/** Pin a value (a tap or click on a cell whose number is not drawn) until another tap or Escape. */
export function pinTooltip(text, x, y) {
  pinned = { text, x, y };
  place(text, x, y);
}
function unpin() {
  pinned = null;
  if (tooltip) tooltip.hidden = true;
}
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && pinned) unpin();
});
// a tap anywhere but on a map lets the pinned value go (a map's own tap pins a new one)
document.addEventListener("click", (e) => {
  if (pinned && !e.target.closest?.(".heatmap-overlay")) unpin();
});

/**
 * Outline the box (x, y, w, h) as a mark of `style` (MARK_STYLES): the halo first,
 * the core line on it, both inside the box. On small cells the lines thin out.
 */
export function strokeMark(ctx, x, y, w, h, style) {
  const s = MARK_STYLES[style] || MARK_STYLES.chosen;
  const k = Math.min(1, Math.min(w, h) / (3 * s.halo));
  const halo = Math.max(1, s.halo * k);
  const core = Math.max(0.5, s.core * k);
  const [under, over] = s.invert
    ? [MARK_INK.dark, MARK_INK.light]
    : [MARK_INK.light, MARK_INK.dark];
  const box = [x + halo / 2, y + halo / 2, Math.max(0, w - halo), Math.max(0, h - halo)];
  ctx.save();
  ctx.setLineDash([]);
  ctx.lineWidth = halo;
  ctx.strokeStyle = under;
  ctx.strokeRect(...box);
  ctx.setLineDash(s.dash.map((d) => d * k));
  ctx.lineWidth = core;
  ctx.strokeStyle = over;
  ctx.strokeRect(...box);
  ctx.restore();
}

/** A size in CSS pixels from a custom property of `el` (e.g. --map-number-px), or `fallback`. */
export function cssPx(el, name, fallback) {
  // a map drawn before its box joins the page reads the page's (<html>) value
  const from = el.isConnected ? el : document.documentElement;
  const v = Number.parseFloat(getComputedStyle(from).getPropertyValue(name));
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export class CanvasMap {
  /** Subclasses provide draw(), key(event), redraw(), describe() (the cursor cell's
   * name and value) and tip(event) (the hovered cell's text, or null). */
  constructor(parent, opts, className, defaultLabel) {
    this.opts = opts;
    this.defaultLabel = defaultLabel;
    this.el = document.createElement("figure");
    this.el.className = className;
    if (opts.name) this.el.dataset.tensor = opts.name;
    this.base = document.createElement("canvas");
    this.base.className = "heatmap-base";
    this.overlay = document.createElement("canvas");
    this.overlay.className = "heatmap-overlay";
    this.box = document.createElement("div");
    this.box.className = "heatmap-box";
    this.box.append(this.base, this.overlay);
    this.el.append(this.box);
    if (opts.label !== undefined) {
      this.caption = document.createElement("figcaption");
      this.caption.textContent = opts.label || "";
      this.el.append(this.caption);
    }
    parent.append(this.el);
    this.marks = [];
    this.onClick = null;
    this.overlay.addEventListener("mousemove", (e) => this.hover(e));
    this.overlay.addEventListener("mouseleave", hideTooltip);
    this.overlay.addEventListener("click", (e) => this.clicked(e));
    this.overlay.addEventListener("pointerdown", () => {
      this.keyed = false; // a pointer's focus draws no keyboard cursor
    });
    // Keyboard: the map is one tab stop; arrows move a cursor, Enter or Space explains
    // the cell; the map's accessible name is the cursor cell's name and value.
    this.overlay.tabIndex = 0;
    this.overlay.setAttribute("role", "img");
    this.overlay.setAttribute("aria-label", opts.name || opts.label || defaultLabel);
    this.overlay.addEventListener("keydown", (e) => this.key(e));
    this.overlay.addEventListener("focus", () => {
      this.announce();
      this.redraw();
    });
    this.overlay.addEventListener("blur", () => this.redraw());
  }

  /** The accessible name: the map's name and the cursor cell (the first until arrows move it). */
  announce() {
    const cell = this.describe?.();
    const name = this.opts.name || this.opts.label || this.defaultLabel;
    this.overlay.setAttribute("aria-label", cell ? `${name} ${cell}` : name);
  }

  hover(e) {
    const text = this.tip(e);
    if (text) showTooltip(text, e.clientX, e.clientY);
    else hideTooltip();
  }

  /** A tap or click: the map's own action (explain, edit), or, where the value is not
   * drawn in the cell and nothing else shows it, the value pinned by the cell. */
  clicked(e) {
    this.activate(e);
    const text = this.tip(e);
    if (text && !this.onClick && !this.showsNumbers()) pinTooltip(text, e.clientX, e.clientY);
  }

  showsNumbers() {
    return false;
  }

  /** Whether the map has the keyboard's focus (then its cursor is drawn): focused by
   * Tab, or focused by a click and then driven by keys. */
  keyboardFocus() {
    if (document.activeElement !== this.overlay) return false;
    return this.keyed || this.overlay.matches(":focus-visible");
  }

  /** Size both canvases for display: w x h CSS pixels. */
  size(w, h) {
    for (const c of [this.base, this.overlay]) {
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    this.box.style.width = `${w}px`;
    this.box.style.height = `${h}px`;
  }

  /** A map wider than its figure scrolls inside it (a phone): bring the span x..x+w
   * (CSS px of the map) into view, so the keyboard's cursor is never off-screen. */
  scrollToSpan(x, w) {
    const fig = this.el;
    if (fig.scrollWidth <= fig.clientWidth) return;
    const from =
      this.box.getBoundingClientRect().left - fig.getBoundingClientRect().left + fig.scrollLeft + x;
    if (from < fig.scrollLeft) fig.scrollLeft = from - 4;
    else if (from + w > fig.scrollLeft + fig.clientWidth)
      fig.scrollLeft = from + w - fig.clientWidth + 4;
  }

  /** Arrow keys move the cursor with move(dr, dc); Home/End go to the first and last
   * cell with move(null, -1 | 1); Enter or Space activates it. */
  handleKey(e, move, activate) {
    const moves = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      Home: [null, -1],
      End: [null, 1],
    };
    this.keyed = true;
    if (moves[e.key]) {
      move(...moves[e.key]);
      this.announce();
    } else if ((e.key === "Enter" || e.key === " ") && this.onClick) activate();
    else return;
    e.preventDefault();
    e.stopPropagation();
  }
}
