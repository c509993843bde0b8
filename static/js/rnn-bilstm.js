// BiLSTM: the forward direction's h_t filling in t = 0 .. T-1, the backward one's
// t = T-1 .. 0, then their concatenation [h_fwd_t ; h_bwd_t] (the server's
// bilstm1.out) forming one time step per player frame; the current time step's
// vectors with their numbers. The player's frames are the plan's steps, with the
// concatenation step spread over T frames (one per time step). Which step is which is
// read from the plan's fields (layer, phase, t, direction), never from op names.
import { format, legend, scaleFor } from "./colors.js";
import { el } from "./common.js";
import { Heatmap } from "./heatmap.js";
import { t } from "./i18n.js";
import { stepLabel } from "./names.js";
import { rowsOf, timeStepPrefix } from "./rnn-shared.js";

/** The step that joins a recurrent layer's time steps: its forward step with no time
 * step (a BiLSTM's concatenation of both directions; a one-direction layer has none). */
const joinsTimeSteps = (p, layer) => p.layer === layer && p.phase === "forward" && p.t === null;

/** The player's frames of `session`'s plan: each step once, the concatenation once per
 * time step. */
export function framesOf(session) {
  const T = session.network.input_shape[0];
  const layer = session.network.layers[0].name;
  const frames = [];
  for (const p of session.plan) {
    if (!joinsTimeSteps(p, layer)) frames.push({ ...p, sub: null });
    else for (let s = 0; s < T; s++) frames.push({ ...p, sub: s });
  }
  return frames;
}

/** A frame's label in the player. */
export function frameLabel(f) {
  return stepLabel(f.sub === null ? f : { ...f, t: f.sub });
}

/** Which columns (time steps) of each row frame `f` (of the BiLSTM `layer`) has
 * formed, and the current one. */
function progressAt(f, layer, T) {
  const all = new Set(Array.from({ length: T }, (_, k) => k));
  const none = new Set();
  if (!f) return { fwd: none, bwd: none, cat: none, row: null, t: null };
  const tt = f.t;
  if (f.phase === "forward" && f.layer === layer && f.direction === "fwd") {
    return {
      fwd: new Set([...all].filter((k) => k <= tt)),
      bwd: none,
      cat: none,
      row: "fwd",
      t: tt,
    };
  }
  if (f.phase === "forward" && f.layer === layer && f.direction === "bwd") {
    return {
      fwd: all,
      bwd: new Set([...all].filter((k) => k >= tt)),
      cat: none,
      row: "bwd",
      t: tt,
    };
  }
  if (f.sub !== null)
    return {
      fwd: all,
      bwd: all,
      cat: new Set([...all].filter((k) => k <= f.sub)),
      row: "cat",
      t: f.sub,
    };
  return { fwd: all, bwd: all, cat: all, row: null, t: null };
}

/** Cell indices of the columns `cols` of a rows x T map. */
function cellsOf(cols, rows, T) {
  const out = new Set();
  for (const k of cols) for (let j = 0; j < rows; j++) out.add(j * T + k);
  return out;
}

/** The BiLSTM section, appended to `parent` (hidden for other networks). */
export function bilstmPanel(parent) {
  const box = el(
    "section",
    { class: "rnn-bilstm", hidden: "" },
    el("h2", { text: t("rnn.bilstm") }),
    el("p", { class: "muted", text: t("rnn.bilstmHint") }),
  );
  const maps = el("div", { class: "bilstm-maps" });
  const now = el("p", { class: "bilstm-now" });
  const detail = el("div", { class: "bilstm-detail" });
  box.append(maps, now, detail);
  parent.append(box);
  let rows = null; // {fwd, bwd, cat}: hidden unit x time planes of sample 0
  let layer = "";
  let views = {};
  let vectors = null; // the current time step's h_fwd ; h_bwd = [h_fwd ; h_bwd], made once

  function makeVectors() {
    const made = {};
    for (const key of ["fwd", "bwd", "cat"]) {
      const code = el("code");
      const wrap = el(
        "div",
        { class: "rnn-vector bilstm-vec", "data-part": key },
        el("h4", {}, code),
      );
      const map = new Heatmap(wrap, { name: key, cell: 30, maxPx: 1000, numbers: true });
      detail.append(wrap);
      if (key === "fwd") detail.append(el("span", { class: "bilstm-join", text: ";" }));
      if (key === "bwd") {
        made.equals = el("span", { class: "bilstm-join", text: "=" });
        detail.append(made.equals);
      }
      made[key] = { wrap, code, map };
    }
    return made;
  }

  /** A hidden unit x time plane from one (N, H) tensor per step. */
  function plane(byT, H, T) {
    const data = new Float32Array(H * T);
    byT.forEach((row, k) => {
      row?.forEach((v, j) => {
        data[j * T + k] = v;
      });
    });
    return { rows: H, cols: T, data };
  }

  return {
    /** Collect both directions' h_t and bilstm1.out from the forward steps. */
    setup(steps, session) {
      const first = session.network.layers[0];
      box.hidden = first.type !== "bilstm";
      rows = null;
      vectors = null;
      maps.innerHTML = detail.innerHTML = now.textContent = "";
      if (box.hidden) return;
      layer = first.name;
      const T = session.network.input_shape[0];
      const byT = { fwd: [], bwd: [] };
      let out = null;
      for (const step of steps) {
        if (step.layer !== layer || step.phase !== "forward") continue;
        const h = step.direction && `${timeStepPrefix(step)}h`; // a direction's h_t
        for (const tensor of step.tensors || []) {
          if (tensor.name === h) byT[step.direction][step.t] = rowsOf(tensor).data;
          if (tensor.name === `${layer}.out`) out = tensor;
        }
      }
      const H = byT.fwd.find(Boolean)?.length || 0;
      if (!H || !out) return;
      const cat = rowsOf(out); // T x 2H, sample 0
      const catT = new Float32Array(2 * H * T);
      for (let k = 0; k < T; k++)
        for (let j = 0; j < 2 * H; j++) catT[j * T + k] = cat.data[k * 2 * H + j];
      rows = {
        T,
        H,
        fwd: plane(byT.fwd, H, T),
        bwd: plane(byT.bwd, H, T),
        cat: { rows: 2 * H, cols: T, data: catT },
        out: cat,
      };
      views = {};
      for (const key of ["fwd", "bwd", "cat"]) {
        const p = rows[key];
        const scale = scaleFor({ role: "state" }, p.data);
        const fig = el(
          "figure",
          { class: "seq-map bilstm-row", "data-row": key },
          el(
            "h4",
            {},
            el("span", { text: t(`rnn.bilstm.${key}`) }),
            el("span", { class: "muted", text: `  ${t("rnn.axes")}` }),
          ),
        );
        const map = new Heatmap(fig, {
          name: `${layer}.${key}`,
          cell: Math.max(6, Math.min(16, Math.floor(480 / T))),
          numbers: false,
        });
        fig.append(legend(scale, t("legend.signed")));
        maps.append(fig);
        views[key] = { map, scale, fig };
      }
    },

    /** Show what frame `f` has formed (f null: nothing yet). */
    update(f) {
      if (!rows) return;
      const { T, H } = rows;
      const at = progressAt(f, layer, T);
      for (const key of ["fwd", "bwd", "cat"]) {
        const v = views[key];
        const formed = [...at[key]].sort((a, b) => a - b).join(",");
        if (v.fig.dataset.formed !== formed || !v.drawn) {
          v.map.draw(rows[key], v.scale, cellsOf(at[key], rows[key].rows, T));
          v.fig.dataset.formed = formed;
          v.drawn = true; // only the maps that changed are drawn again
        }
        v.fig.classList.toggle("current", at.row === key);
        // the column forming now; while concatenating, the two it is made of as well
        const style = at.row === key ? "window" : at.row === "cat" ? "source" : null;
        v.map.mark(style ? [{ r: 0, c: at.t, h: rows[key].rows, style }] : []);
      }
      box.dataset.row = at.row || "";
      box.dataset.t = at.t === null ? "" : String(at.t);
      now.textContent = "";
      detail.hidden = at.t === null;
      if (at.t === null) return;
      const k = at.t;
      now.textContent = t(`rnn.bilstm.now.${at.row}`, { t: k, T: T - 1, H, H2: 2 * H });
      const column = (p) => Float32Array.from({ length: p.rows }, (_, j) => p.data[j * T + k]);
      const data = {
        fwd: column(rows.fwd),
        bwd: column(rows.bwd),
        cat: rows.out.data.subarray(k * 2 * H, (k + 1) * 2 * H),
      };
      // The three vectors are made once per network and redrawn: building canvases
      // every frame was most of a frame's time.
      if (!vectors) vectors = makeVectors();
      for (const key of ["fwd", "bwd", "cat"]) {
        const part = vectors[key];
        const shown = key !== "cat" || at.row === "cat";
        part.wrap.hidden = !shown;
        if (key === "cat") vectors.equals.hidden = !shown;
        if (!shown) continue;
        const formed = at[key].has(k);
        part.wrap.classList.toggle("pending", !formed);
        part.code.textContent = key === "cat" ? `${layer}.out[t=${k}]` : `${layer}.${key}.t${k}.h`;
        part.map.opts.name = part.code.textContent; // hover and screen-reader labels say which step
        part.map.overlay.setAttribute("aria-label", part.code.textContent);
        part.map.draw(
          { rows: 1, cols: data[key].length, data: data[key] },
          views[key].scale,
          formed ? Infinity : 0,
        );
        if (formed) part.wrap.dataset.values = Array.from(data[key]).map(format).join(" ");
        else delete part.wrap.dataset.values;
      }
    },
  };
}
