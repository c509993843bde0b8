// The RNN's whole sequence at once: the network unrolled (x_t, h_t and y_t of
// sample 0 in a row) and hidden units x time heatmaps of each gate, c and h.
import { plane } from "./api.js";
import { format, legend, scaleFor } from "./colors.js";
import { el } from "./common.js";
import { Heatmap } from "./heatmap.js";
import { attachDownloads } from "./export.js";
import { t } from "./i18n.js";
import { named } from "./names.js";
import { rowsOf, timeStepPrefix } from "./rnn-shared.js";

const SEQUENCE_PARTS = ["i", "f", "g", "o", "c", "h"];

/** "lstm1.f" or "bilstm1.fwd.h" -> {role, byT: [t] -> sample 0's row}, from the forward
 * steps (each step's layer, direction and t are its fields). */
function sequenceRows(steps) {
  const rows = new Map();
  for (const step of steps) {
    const prefix = timeStepPrefix(step);
    if (step.phase !== "forward" || !prefix) continue;
    const byName = new Map((step.tensors || []).map((x) => [x.name, x]));
    for (const part of SEQUENCE_PARTS) {
      const tensor = byName.get(prefix + part);
      if (tensor?.shape.length !== 2) continue;
      const key = step.direction
        ? `${step.layer}.${step.direction}.${part}`
        : `${step.layer}.${part}`;
      if (!rows.has(key)) rows.set(key, { role: tensor.role, byT: [] });
      rows.get(key).byT[step.t] = rowsOf(tensor).data;
    }
  }
  return rows;
}

/** Hidden units x time maps of each gate, c and h, replacing those in `seqBox`. */
export function drawSequenceMaps(seqBox, steps) {
  seqBox.querySelectorAll(".seq-map").forEach((n) => {
    n.remove();
  });
  for (const [key, { role, byT }] of sequenceRows(steps)) {
    const T = byT.length;
    const H = byT.find(Boolean)?.length || 0;
    if (!H) continue;
    const data = new Float32Array(H * T);
    byT.forEach((row, k) => {
      row?.forEach((v, j) => {
        data[j * T + k] = v;
      });
    });
    const scale = scaleFor({ role }, data); // a gate's role gives it the 0..1 scale
    const wrap = el(
      "figure",
      { class: "seq-map", "data-tensor": key },
      el("h4", {}, named(key), el("span", { class: "muted", text: `  ${t("rnn.axes")}` })),
    );
    const map = new Heatmap(wrap, {
      name: key,
      cell: Math.max(6, Math.min(18, Math.floor(640 / T))),
      numbers: false,
    });
    map.draw({ rows: H, cols: T, data }, scale);
    // export.js: each time step's vector as the API sent it, one column per t
    attachDownloads(wrap, () => [{ name: key, shape: [H, T], axes: ["unit", "t"], role, data }]);
    wrap.append(legend(scale, role === "gate" ? t("rnn.gateLegend") : t("legend.signed")));
    seqBox.append(wrap);
  }
}

/** A vector as text: a single number, or the class it picks ("·" when all zero). */
function labeller(classes) {
  return (row) => {
    if (row.length === 1) return format(row[0]);
    let best = 0;
    row.forEach((v, k) => {
      best = v > row[best] ? k : best;
    });
    return row[best] === 0 ? "·" : (classes[best] ?? String(best));
  };
}

/** x_t, h_t and the outputs of sample 0 as cells in `row`: the network unrolled. */
export function drawUnrolled(box, row, steps, session, classes) {
  row.innerHTML = "";
  const all = new Map();
  for (const step of steps) for (const tensor of step.tensors || []) all.set(tensor.name, tensor);
  const rec = session.network.layers[0].name;
  const head = session.network.layers[1];
  const perStep = head.type !== "dense_last";
  const out = all.get("head.out");
  const label = labeller(classes);
  const T = session.network.input_shape[0];
  box.dataset.head = head.type;
  box.dataset.preset = session.preset;
  for (let k = 0; k < T; k++) {
    const x = all.get(`${rec}.t${k}.x`) || all.get(`${rec}.fwd.t${k}.x`);
    const h = all.get(`${rec}.t${k}.h`) || all.get(`${rec}.fwd.t${k}.h`);
    const hRow = h ? rowsOf(h).data : [];
    let y = "";
    if (out && perStep)
      y = label(plane(out, [0]).data.subarray(k * out.shape[2], (k + 1) * out.shape[2]));
    else if (out && k === T - 1) y = label(rowsOf(out).data);
    const shown = Array.from(hRow.slice(0, 2)).map(format).join(" ");
    row.append(
      el(
        "div",
        { class: "unroll-step", "data-t": String(k) },
        el("span", { class: `unroll-y${y ? "" : " empty"}`, text: y ? `y${k} ${y}` : "" }),
        el(
          "span",
          { class: "unroll-h", title: Array.from(hRow).map(format).join(", ") },
          el("b", { text: `h${k}` }),
          el("small", { text: `${shown}${hRow.length > 2 ? " …" : ""}` }),
        ),
        el("span", { class: "unroll-x", text: x ? `x${k} ${label(rowsOf(x).data)}` : "" }),
      ),
    );
  }
}
