// The BP diagram's hover texts, with the API's numbers as far as the pass has
// computed them: a weight (w, dw and the update w − lr·dw) and a neuron (its
// pre-activation z, value a, delta δ, bias b, db and the update b − lr·db).
// The update is written as SGD's rule only for SGD; momentum and Adam step by
// their own state, so for them the text gives the value after and the change
// the engine recorded.
import { format } from "./colors.js";
import { t } from "./i18n.js";

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
