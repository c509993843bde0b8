// Tensor convolution: a 3-channel input and 2 kernels, laid out kernels x channels:
// each channel's 2-D map, and their sum plus the bias forming each output channel.
import { plane, sessions, tensorsByName } from "../api.js";
import { scaleFor } from "../colors.js";
import { captionBox, el, explainPanel, mount, showError } from "../common.js";
import { attachDownloads } from "../export.js";
import { Heatmap } from "../heatmap.js";
import { t } from "../i18n.js";
import { pickCell, registerCellOpener, registerSession } from "../live-hooks.js";
import { givenSession, noteCell } from "../share.js";
import { createStore } from "../store.js";

// No seed unless the URL gives one: the server's default, the one a notebook's
// build_preset("tensor-conv") uses too.
const store = createStore({ seed: "" });

mount(async (root) => {
  const seed = store.get().seed;
  const session =
    (await givenSession()) ?? // ?session=<id>: a copy of a script's session
    (await sessions.create({
      preset: "tensor-conv",
      ...(seed !== "" ? { seed: Number(seed) } : {}),
    }));
  // The forward pass brings the tensors drawn here, the partial maps among them.
  const names = ["conv1.in", "conv1.w", "conv1.b", "conv1.partial", "conv1.out"];
  const res = await sessions.steps(session.id, { until: "forward" }, { names, partials: true });
  const step = res.steps[0];
  captionBox(root).show(step);
  const byName = tensorsByName(res);
  const [x, w, b, partial, out] = names.map((n) => byName[n]);
  const F = w.shape[0];
  const C = w.shape[1];
  const grid = el("div", { class: "tensor-grid", style: `--cols:${C + 1}`, "data-figure": "" });
  root.append(grid);
  attachDownloads(grid, () => [x, w, b, partial, out], { name: "conv1", beside: true });
  const panel = explainPanel(root);
  const xs = scaleFor(x);
  const ws = scaleFor(w);
  const ps = scaleFor(partial);
  const os = scaleFor(out);
  const maps = { in: [], w: [], partial: [], out: [] };
  // Header row: the input channels.
  for (let c = 0; c < C; c++) {
    const cell = el("div", { class: "grid-cell" });
    const hm = new Heatmap(cell, {
      name: `conv1.in[0,${c}]`,
      label: t("tensor.channel", { c }),
      cell: 34,
    });
    hm.draw(plane(x, [0, c]), xs);
    maps.in.push({ hm, lead: [0, c] });
    grid.append(cell);
  }
  grid.append(el("div", { class: "grid-cell muted", text: "" }));
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      const cell = el("div", { class: "grid-cell pair" });
      const k = new Heatmap(cell, {
        name: `conv1.w[${f},${c}]`,
        label: t("tensor.kernel", { f }),
        cell: 30,
      });
      k.draw(plane(w, [f, c]), ws);
      maps.w.push({ hm: k, lead: [f, c] });
      const p = new Heatmap(cell, {
        name: `conv1.partial[0,${f},${c}]`,
        label: t("tensor.partial", { f, c }),
        cell: 34,
      });
      p.draw(plane(partial, [0, f, c]), ps);
      maps.partial.push({ hm: p, lead: [0, f, c] });
      grid.append(cell);
    }
    const sum = el("div", { class: "grid-cell sum" });
    const o = new Heatmap(sum, {
      name: `conv1.out[0,${f}]`,
      label: `${t("tensor.sum", { f })} (b = ${b.data[f]})`,
      cell: 40,
    });
    o.draw(plane(out, [0, f]), os);
    o.el.classList.add("clickable");
    o.onClick = (r, cc) => pickCell("conv1.out", [0, f, r, cc]) || explainOut(f, r, cc);
    maps.out.push({ hm: o, lead: [0, f] });
    grid.append(sum);
  }

  /** Output cell (f, r, cc) explained: the panel, and its window and kernel marked. */
  async function explainOut(f, r, cc) {
    const o = maps.out[f]?.hm;
    if (!o) return;
    try {
      const exp = await sessions.explain(session.id, "conv1.out", [0, f, r, cc]);
      panel.show(exp, `conv1.out[0,${f},${r},${cc}]`);
      noteCell("conv1.out", [0, f, r, cc]); // a copied link and the live class carry it
      for (const list of Object.values(maps)) for (const m of list) m.hm.mark([]);
      o.mark([{ r, c: cc, style: "target" }]);
      const marks = new Map();
      for (const term of exp.terms) {
        for (const fct of term.factors) {
          if (!fct.index) continue;
          const target = fct.tensor === "conv1.in" ? maps.in : maps.w;
          const [a, bb, rr, qq] = fct.index;
          const m = target.find((mm) => mm.lead[0] === a && mm.lead[1] === bb);
          if (!m) continue;
          if (!marks.has(m.hm)) marks.set(m.hm, []);
          marks
            .get(m.hm)
            .push({ r: rr, c: qq, style: fct.tensor === "conv1.in" ? "window" : "source" });
        }
      }
      for (const [hm, list] of marks) hm.mark(list);
      for (const m of maps.partial) if (m.lead[1] === f) m.hm.mark([{ r, c: cc, style: "target" }]);
    } catch (err) {
      showError(root, err);
    }
  }
  root.dataset.sessionId = session.id;
  registerSession(() => session.id); // the live class (live-hooks.js)
  registerCellOpener((name, index) => name === "conv1.out" && explainOut(...index.slice(1)));
});
