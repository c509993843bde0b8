// The CNN page's overview, in CNN Explainer's pattern: one small column of maps per
// layer, from the input to the prediction, side by side; the layer the player is on
// lights up (coloured by its phase), and a click on a layer, or on one of its cells,
// opens its detail: the page moves the player to that layer's step, whose maps and
// numbers the stage under the player draws (clickable for explanations).
import { plane } from "./api.js";
import { scaleFor } from "./colors.js";
import { cssPx } from "./canvasmap.js";
import { el } from "./common.js";
import { attachDownloads } from "./export.js";
import { Heatmap } from "./heatmap.js";
import { t } from "./i18n.js";
import { Mosaic } from "./mosaic.js";
import { named } from "./names.js";

// How large a layer's column of maps is drawn, at most (CSS px; present mode's are larger):
// SIDE wide, TALL high (a vector is drawn as a column TALL high too).
const side = () => cssPx(document.documentElement, "--overview-side-px", 56);
const tall = () => cssPx(document.documentElement, "--overview-tall-px", 120);

export class Overview {
  /** `onOpen(layer, cell)`: a layer's head (cell null) or one of its cells
   * ({name, index}) was clicked. */
  constructor(parent, { onOpen }) {
    this.onOpen = onOpen;
    this.lanes = el("ol", { class: "layers" });
    this.row = el("div", { class: "overview-row" }, this.lanes);
    this.el = el(
      "section",
      { class: "overview", "aria-labelledby": "overview-title" },
      el("h2", { id: "overview-title", text: t("cnn.overview") }),
      el("p", { class: "muted hint", text: t("present.cnn.hint") }),
      this.row,
    );
    parent.append(this.el);
  }

  /** One column per entry {layer, code, label, tensor}: `tensor` (the layer's output
   * as the API sent it) is drawn small; a layer without one (flatten) is a head only. */
  draw(columns) {
    this.lanes.innerHTML = "";
    for (const { layer, code, label, tensor } of columns) {
      const lane = el("li", { class: "layer", "data-layer": layer });
      lane.append(this.head(layer, named(code, { text: label })));
      if (tensor) mini(lane, tensor, (index) => this.onOpen(layer, { name: tensor.name, index }));
      this.lanes.append(lane);
    }
    this.light(this.el.dataset.current || null, this.el.dataset.phase || null);
    const shown = columns.map((c) => c.tensor).filter(Boolean);
    attachDownloads(this.el, () => shown, { name: "overview" }); // export.js
  }

  /** A layer's head: a button that opens the layer. */
  head(layer, ...content) {
    return el(
      "button",
      { type: "button", class: "layer-head", onclick: () => this.onOpen(layer, null) },
      ...content,
    );
  }

  /** Light up the column of `layer` (null: none) in `phase` (forward, loss, ...). */
  light(layer, phase) {
    this.el.dataset.current = layer || "";
    this.el.dataset.phase = phase || "";
    for (const lane of this.el.querySelectorAll(".layer")) {
      const on = lane.dataset.layer === layer;
      lane.classList.toggle("current", on);
      const head = lane.querySelector(".layer-head");
      if (on) head?.setAttribute("aria-current", "step");
      else head?.removeAttribute("aria-current");
    }
  }
}

/** A layer's output, small: the planes of an (N, C, H, W) tensor as a mosaic about
 * SIDE wide; a vector (N, D) as a column. `onCell(index)` gets the full index clicked. */
function mini(parent, tensor, onCell) {
  const wrap = el("div", { class: "channel-grid", "data-tensor": tensor.name });
  parent.append(wrap);
  const scale = scaleFor(tensor);
  const s = tensor.shape;
  const [SIDE, TALL] = [side(), tall()];
  if (s.length === 4) {
    const [, C, H, W] = s;
    // The largest cells whose mosaic stays within SIDE wide and TALL high (2 px at least).
    const across = (cell) => Math.max(1, Math.min(C, Math.floor(SIDE / ((W + 1) * cell))));
    let cell = 12;
    while (cell > 2 && Math.ceil(C / across(cell)) * (H + 1) * cell > TALL) cell--;
    while (cell > 2 && (W + 1) * cell > SIDE) cell--;
    const perRow = across(cell);
    const tiles = [];
    for (let c = 0; c < C; c++) tiles.push({ lead: [0, c], data: plane(tensor, [0, c]).data });
    const view = new Mosaic(wrap, {
      name: tensor.name,
      cell,
      maxWidth: perRow * (W + 1) * cell,
    });
    view.draw(tiles, H, W, scale);
    view.onClick = (k, r, c) => onCell([0, k, r, c]);
    return view;
  }
  const n = s[s.length - 1];
  const cell = Math.max(3, Math.min(12, Math.floor(TALL / n)));
  const view = new Heatmap(wrap, { name: tensor.name, cell, maxPx: n * cell, numbers: false });
  view.draw({ rows: n, cols: 1, data: tensor.data.subarray(0, n) }, scale);
  view.onClick = (r) => onCell([0, r]);
  return view;
}
