// The BP diagram's texts and colours: each neuron and weight coloured by the pass's
// numbers with its accessible name (name and value), and the tip texts, with the
// API's numbers as far as the pass has computed them: a weight (w, dw and the update w − lr·dw) and a neuron (its
// pre-activation z, value a, delta δ, bias b, db and the update b − lr·db).
// The update is written as SGD's rule only for SGD; momentum and Adam step by
// their own state, so for them the text gives the value after and the change
// the engine recorded.
import { colour, format } from "./colors.js";
import { t } from "./i18n.js";

export const MAX_DRAWN = 12; // neurons drawn per column (the digits' 64 inputs are elided)

function row(tensor, n = 0) {
  if (!tensor) return null;
  const cols = tensor.shape[tensor.shape.length - 1];
  return tensor.data.subarray(n * cols, (n + 1) * cols);
}

/** Colour the neurons by value, or by delta once the backward pass has them. */
export function paintNodes(layout, current, backward) {
  let maxAbs = 0;
  const shown = layout.cols.map((c) => {
    const values = row(current.get(c.value));
    const deltas = row(current.get(c.delta));
    const use = backward && deltas ? deltas : values;
    if (use)
      for (let i = 0; i < Math.min(use.length, MAX_DRAWN); i++)
        maxAbs = Math.max(maxAbs, Math.abs(use[i]));
    return { values, deltas, use };
  });
  const scale = { kind: "diverging", max: maxAbs || 1 };
  layout.cols.forEach((c, k) => {
    const { values, deltas, use } = shown[k];
    layout.nodes[k].forEach((node, i) => {
      const v = use ? use[i] : NaN;
      const name = k === 0 ? `x[${i}]` : `${c.dense}[${i}]`;
      const key = !use
        ? "fig.bp.neuronNotYet"
        : backward && deltas
          ? "fig.bp.neuronDelta"
          : "fig.bp.neuron";
      node.g.setAttribute("aria-label", t(key, { name, value: format(v) }));
      node.circle.setAttribute("fill", use ? `rgb(${colour(v, scale)})` : "var(--bg)");
      node.label.textContent = use ? `${backward && deltas ? "δ " : ""}${format(v)}` : "";
      node.g.dataset.value = values ? String(values[i]) : "";
      node.g.dataset.delta = deltas ? String(deltas[i]) : "";
      node.g.dataset.shown = backward && deltas ? "delta" : values ? "value" : "";
    });
  });
}

/** Edges: coloured by the weight (after the update once it has run). */
export function paintEdges(layout, current) {
  let wMax = 0;
  const weights = new Map();
  for (const c of layout.cols.slice(1)) {
    const w = current.get(`${c.dense}.w.after`) || current.get(`${c.dense}.w`);
    weights.set(c.dense, w);
    if (w) for (const v of w.data) if (Number.isFinite(v)) wMax = Math.max(wMax, Math.abs(v));
  }
  const wScale = { kind: "diverging", max: wMax || 1 };
  for (const e of layout.edges) {
    const w = weights.get(e.layer);
    const name = `${e.layer}.w[${e.j},${e.i}]`;
    if (!w) {
      e.line.setAttribute("stroke", "var(--border)");
      e.line.setAttribute("stroke-width", "1");
      e.line.setAttribute("aria-label", t("fig.bp.weightNotYet", { name }));
      continue;
    }
    const v = w.data[e.j * e.fanIn + e.i];
    e.line.setAttribute("aria-label", t("fig.bp.weight", { name, value: format(v) }));
    e.line.setAttribute("stroke", `rgb(${colour(v, wScale)})`);
    e.line.setAttribute("stroke-width", String(1 + 3 * Math.min(1, Math.abs(v) / (wMax || 1))));
  }
}

/** The update of parameter `sym` (w or b) at flat index k: SGD's rule with its numbers,
 * or, for another optimizer, the value after and the recorded change. */
function updateText(current, param, sym, k, before, grad, after, optimizer) {
  if (optimizer.type === "sgd") {
    const lr = current.get(`${param.split(".")[0]}.lr`)?.data[0] ?? Number(optimizer.lr);
    return `${sym} − lr·d${sym} = ${format(before)} − ${format(lr)} × ${format(grad)} = ${format(after)}`;
  }
  const change = current.get(`${param}.change`)?.data[k];
  return t("bp.updateOther", {
    optimizer: t(`lab.opt.${optimizer.type}`),
    sym,
    after: format(after),
    change: format(change),
  });
}

/** The hover text of weight w[j,i]: its value, gradient and update, as far as known. */
export function edgeText(current, layer, i, j, fanIn, optimizer) {
  const at = (name) => {
    const tn = current.get(name);
    return tn ? tn.data[j * fanIn + i] : undefined;
  };
  const w = at(`${layer}.w.before`) ?? at(`${layer}.w`);
  const dw = at(`${layer}.dw`);
  const after = at(`${layer}.w.after`);
  const name = `${layer}.w[${j},${i}]`;
  let text = w === undefined ? `${name}: ${t("bp.notYet")}` : `${name}: w = ${format(w)}`;
  if (dw !== undefined) text += `,  dw = ${format(dw)}`;
  if (after !== undefined) {
    text += `,  ${updateText(current, `${layer}.w`, "w", j * fanIn + i, w, dw, after, optimizer)}`;
  } else if (dw !== undefined) {
    text += `,  ${optimizer.type === "sgd" ? t("bp.updateNext") : t("bp.updateNextOther", { optimizer: t(`lab.opt.${optimizer.type}`) })}`;
  }
  return { text, w, dw, after };
}

/** Neuron i of a diagram column (k = 0: the input). Returns the text and its
 * numbers by name (undefined where the pass has not computed them yet). */
export function neuronText(current, col, k, i, optimizer) {
  const at = (name) => {
    const tn = current.get(name);
    return tn ? tn.data[i] : undefined;
  };
  const delta = at(col.delta);
  if (k === 0) {
    const x = at(col.value);
    let text = `x[${i}] = ${x === undefined ? t("bp.notYet") : format(x)}`;
    if (delta !== undefined) text += `,  δ = ${format(delta)}`;
    return { text, numbers: { value: x, delta } };
  }
  const z = at(col.pre);
  const a = col.act ? at(col.value) : undefined;
  const b = at(`${col.dense}.b.before`) ?? at(`${col.dense}.b`);
  const db = at(`${col.dense}.db`);
  const after = at(`${col.dense}.b.after`);
  const name = `${col.dense}[${i}]`;
  if (z === undefined) return { text: `${name}: ${t("bp.notYet")}`, numbers: {} };
  let text = `${name}: z = ${format(z)}`;
  if (a !== undefined) text += `,  a = ${col.act}(z) = ${format(a)}`;
  if (delta !== undefined) text += `,  δ = dL/dz = ${format(delta)}`;
  if (b !== undefined) text += `,  b = ${format(b)}`;
  if (db !== undefined) text += `,  db = ${format(db)}`;
  if (after !== undefined)
    text += `,  ${updateText(current, `${col.dense}.b`, "b", i, b, db, after, optimizer)}`;
  return { text, numbers: { z, value: a ?? z, delta, b, db, after } };
}
