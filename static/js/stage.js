// The stage: draws the tensors a step recorded, lets the student click a cell to
// ask the API where its number comes from, and marks the cells that fed it.
import { decodeTensor, plane, sessions } from "./api.js";
import { format, legend, scaleFor } from "./colors.js";
import { el, explainPanel, showError } from "./common.js";
import { attachDownloads } from "./export.js";
import { Heatmap } from "./heatmap.js";
import { Mosaic } from "./mosaic.js";
import { t } from "./i18n.js";
import { pickCell, registerCellMarker } from "./live-hooks.js";
import { named, tensorLabel } from "./names.js";
import { cellLabel } from "./rules.js";
import { noteCell } from "./share.js";

// A tensor's cells are clickable when the server says it explains them (the payload's
// `explainable`); `cell` names one cell (a catalog key: activation, delta, forget gate).
const MAX_MAPS = 48;

export class Stage {
  constructor(parent, { sessionId, onExplained } = {}) {
    this.sessionId = sessionId;
    this.onExplained = onExplained;
    this.el = el("div", { class: "stage" });
    this.maps = el("div", { class: "stage-maps" });
    this.el.append(this.maps);
    parent.append(this.el);
    this.panel = explainPanel(parent);
    this.views = new Map(); // tensor name -> {mark(list of {index, style})}
    this.baseMarks = new Map(); // marks that stay (the pooling mask)
    this.tensors = new Map();
    // the live class's questions outline cells (the delta asked about, the answer)
    registerCellMarker((name, marks) => {
      const view = this.views.get(name);
      view?.mark([...(this.baseMarks.get(name) || []), ...marks]);
      return Boolean(view);
    });
  }

  /** Draw these tensor payloads (from a step), in order. */
  show(payloads, { skip = [] } = {}) {
    this.maps.innerHTML = "";
    this.views.clear();
    this.baseMarks.clear();
    this.tensors.clear();
    const t0 = performance.now();
    for (const p of payloads) {
      if (skip.some((re) => re.test(p.name))) continue;
      const tensor = ArrayBuffer.isView(p.data) ? p : decodeTensor(p); // decoded already
      this.tensors.set(tensor.name, tensor);
      this.drawTensor(tensor);
    }
    const mask = [...this.tensors.keys()].find((n) => n.endsWith(".mask"));
    if (mask) this.overlayMask(mask);
    this.lastRenderMs = performance.now() - t0;
    return this.lastRenderMs;
  }

  drawTensor(tensor) {
    const box = el("div", { class: `tensor role-${tensor.role}`, "data-tensor": tensor.name });
    const title = el(
      "h4",
      {},
      named(tensor.name),
      el("span", { class: "muted", text: `  ${tensor.shape.join("×") || t("name.scalar")}` }),
    );
    if (tensor.cell)
      title.append(el("span", { class: "cell-name muted", text: ` · ${t(tensor.cell)}` }));
    box.append(title);
    const explainable = tensor.explainable === true;
    const scale = scaleFor(tensor);
    const s = tensor.shape;
    // A vector cell is [..lead, c]; a map cell [..lead, r, c].
    const click = (lead, r, c) => {
      const index = s.length - lead.length === 1 ? [...lead, c] : [...lead, r, c];
      if (pickCell(tensor.name, index)) return; // a live class's question took the click
      if (explainable) this.explain(tensor.name, index);
    };
    let view = null;
    if (s.length === 0) {
      const label = `${tensorLabel(tensor.name)} = ${format(tensor.data[0])}`;
      box.append(
        el("button", {
          type: "button",
          class: explainable ? "scalar clickable" : "scalar",
          "aria-label": label,
          text: format(tensor.data[0]),
          onclick: () => explainable && this.explain(tensor.name, []),
        }),
      );
    } else if (s.length <= 2) {
      const rows = s.length === 2 && tensor.axes[0] !== "sample" ? s[0] : 1;
      const cols = s[s.length - 1];
      const lead = s.length === 2 && tensor.axes[0] === "sample" ? [0] : [];
      const hm = new Heatmap(box, { name: tensor.name, maxPx: 520, cell: 44 });
      hm.draw({ rows, cols, data: tensor.data.subarray(0, rows * cols) }, scale);
      hm.el.classList.toggle("clickable", explainable);
      hm.onClick = (r, c) => click(lead, r, c);
      view = headerView([{ hm, lead }], rows === 1 && lead.length === 0);
    } else {
      // 4-D (N, C, H, W) or (F, C, KH, KW); 5-D partial maps (N, F, C, H, W).
      const leads = [];
      const outer = tensor.axes[0] === "sample" ? 1 : s[0];
      if (s.length === 4)
        for (let a = 0; a < outer; a++) for (let b = 0; b < s[1]; b++) leads.push([a, b]);
      else for (let f = 0; f < s[1]; f++) for (let c = 0; c < s[2]; c++) leads.push([0, f, c]);
      const shown = leads.slice(0, MAX_MAPS);
      const rows = s[s.length - 2];
      const cols = s[s.length - 1];
      if (shown.length <= 4 && rows <= 6 && cols <= 6) {
        const list = shown.map((lead) => {
          const hm = new Heatmap(box, {
            name: `${tensor.name}[${lead.join(",")}]`,
            label: lead.slice(1).join(","),
            maxPx: 300,
            cell: 44,
          });
          hm.draw(plane(tensor, lead), scale);
          hm.el.classList.toggle("clickable", explainable);
          hm.onClick = (r, c) => click(lead, r, c);
          return { hm, lead };
        });
        view = headerView(list, false);
      } else {
        // tiles per row as the stage's width allows (a phone), less its card's padding
        const room = this.maps.clientWidth - 36;
        const maxWidth = room > 0 ? Math.min(520, room) : 520;
        const mosaic = new Mosaic(box, { name: tensor.name, cell: 12, maxWidth });
        mosaic.draw(
          shown.map((lead) => ({ lead, data: plane(tensor, lead).data })),
          rows,
          cols,
          scale,
        );
        mosaic.el.classList.toggle("clickable", explainable);
        mosaic.onClick = (k, r, c) => click(shown[k], r, c);
        view = mosaicView(mosaic, shown);
      }
      if (leads.length > MAX_MAPS)
        box.append(el("p", { class: "muted", text: `… ${leads.length - MAX_MAPS} more` }));
    }
    box.append(
      legend(
        scale,
        tensor.role === "mask" || tensor.role === "gate" ? t("legend.mask") : t("legend.signed"),
      ),
    );
    attachDownloads(box, () => [tensor]);
    this.maps.append(box);
    if (view) this.views.set(tensor.name, view);
  }

  /** Outline the max positions (mask = 1) on the pooling input. */
  overlayMask(maskName) {
    const mask = this.tensors.get(maskName);
    const input = this.views.get(maskName.replace(".mask", ".in"));
    if (!input) return;
    const marks = [];
    const [n, c, h, w] = mask.shape;
    for (let i = 0; i < mask.size; i++) {
      if (mask.data[i] > 0) {
        const idx = [
          Math.floor(i / (c * h * w)),
          Math.floor(i / (h * w)) % c,
          Math.floor(i / w) % h,
          i % w,
        ];
        if (idx[0] === 0) marks.push({ index: idx, style: "chosen" });
      }
    }
    input.mark(marks);
    this.baseMarks.set(maskName.replace(".mask", ".in"), marks);
    return n;
  }

  async explain(name, index) {
    try {
      const exp = await sessions.explain(this.sessionId, name, index);
      this.panel.show(exp, cellLabel(this.tensors.get(name), name, index));
      noteCell(name, index); // a copied link opens this explanation
      this.markSources(name, index, exp);
      if (this.onExplained) this.onExplained(name, index, exp);
    } catch (err) {
      showError(this.el.parentElement, err);
    }
  }

  /** Target cell in pink, the cells of each factor in green (window/sources). */
  markSources(name, index, exp) {
    const marks = new Map();
    const put = (tensor, idx, style) => {
      if (!marks.has(tensor)) marks.set(tensor, [...(this.baseMarks.get(tensor) || [])]);
      marks.get(tensor).push({ index: idx, style });
    };
    put(name, index, "target");
    for (const term of exp.terms) {
      for (const f of term.factors) {
        if (!f.index || f.tensor === "weight") continue;
        const weight = term.factors.find((g) => g.tensor === "weight");
        if (weight && weight.value === 0) continue; // not the window's chosen position
        put(f.tensor, f.index, f.tensor.endsWith(".w") ? "window" : "source");
      }
    }
    for (const [tensor, view] of this.views)
      view.mark(marks.get(tensor) || this.baseMarks.get(tensor) || []);
  }
}

/** Marks by full index on separate heatmaps, one per leading index. */
function headerView(list, vector) {
  return {
    mark(marks) {
      for (const { hm, lead } of list) {
        hm.mark(
          marks
            .filter((m) => lead.every((v, i) => m.index[i] === v))
            .map((m) => {
              const tail = m.index.slice(lead.length);
              return {
                r: vector || tail.length < 2 ? 0 : tail[tail.length - 2],
                c: tail[tail.length - 1] ?? 0,
                style: m.style,
              };
            }),
        );
      }
    },
  };
}

/** Marks by full index on a mosaic's tiles. */
function mosaicView(mosaic, leads) {
  const keyOf = (lead) => lead.join(",");
  const tileOf = new Map(leads.map((lead, k) => [keyOf(lead), k]));
  return {
    mark(marks) {
      const out = [];
      for (const m of marks) {
        const k = tileOf.get(keyOf(m.index.slice(0, leads[0].length)));
        if (k === undefined) continue;
        out.push({
          tile: k,
          r: m.index[m.index.length - 2],
          c: m.index[m.index.length - 1],
          style: m.style,
        });
      }
      mosaic.mark(out);
    },
  };
}
