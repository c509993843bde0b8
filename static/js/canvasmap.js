// What every map shares: a base canvas (the colours, one pixel per cell, scaled
// up with image-rendering: pixelated) under an overlay canvas (numbers, marks,
// the keyboard cursor), a hover tooltip, click and keyboard handling.

let tooltip;
export function showTooltip(text, x, y) {
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
export function hideTooltip() {
  if (tooltip) tooltip.hidden = true;
}

export class CanvasMap {
  /** Subclasses provide draw(), cellFrom(event), key(event) and redraw(). */
  constructor(parent, opts, className, defaultLabel) {
    this.opts = opts;
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
    // Keyboard: focus the map, arrows move a cursor, Enter or Space explains the cell.
    this.overlay.tabIndex = 0;
    this.overlay.setAttribute("role", "img");
    this.overlay.setAttribute("aria-label", opts.name || opts.label || defaultLabel);
    this.overlay.addEventListener("keydown", (e) => this.key(e));
    this.overlay.addEventListener("focus", () => this.redraw());
    this.overlay.addEventListener("blur", () => this.redraw());
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

  /** Arrow keys move the cursor with move(dr, dc); Enter or Space activates it. */
  handleKey(e, move, activate) {
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[e.key]) move(...moves[e.key]);
    else if ((e.key === "Enter" || e.key === " ") && this.onClick) activate();
    else return;
    e.preventDefault();
    e.stopPropagation();
  }
}
