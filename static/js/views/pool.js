// Pooling, forward and backward: the mask of max positions, and each pooled delta
// going back to its max position only (max) or split as delta / area (average).
import { plane, sessions, tensorsByName } from "../api.js";
import { scaleFor } from "../colors.js";
import {
  captionBox,
  clearError,
  el,
  explainPanel,
  mount,
  oneAtATime,
  showError,
} from "../common.js";
import { editCell, withCell } from "../edit.js";
import { attachDownloads } from "../export.js";
import { Heatmap } from "../heatmap.js";
import { t } from "../i18n.js";
import {
  pickCell,
  registerCellMarker,
  registerCellOpener,
  registerSession,
} from "../live-hooks.js";
import { stepLabel } from "../names.js";
import { Player } from "../player.js";
import { clearCell, givenSession, noteCell } from "../share.js";
import { createStore } from "../store.js";

const store = createStore({ kind: "max", frame: -1, input: "" });

mount(async (root) => {
  const controls = el("div", { class: "controls" });
  const kindSel = el(
    "select",
    { "aria-label": t("pool.kind") },
    el("option", { value: "max", text: t("pool.max") }),
    el("option", { value: "avg", text: t("pool.avg") }),
  );
  kindSel.value = store.get().kind;
  controls.append(
    el("label", {}, `${t("pool.kind")} `, kindSel),
    el("span", { class: "muted", text: t("conv.edit") }),
  );
  root.append(controls);
  const playerBox = el("div");
  root.append(playerBox);
  const caption = captionBox(root);
  const board = el("div", { class: "pool-board", "data-figure": "" }); // present mode's figure
  root.append(board);
  const panel = explainPanel(root);
  let session;
  let player;
  let tensors = {};
  let steps = [];
  const hm = {};
  registerSession(() => session?.id); // the live class (live-hooks.js)
  registerCellOpener((name, idx) => explainCell(name, idx));
  const mapOf = { "pool1.in": "in", "pool1.out": "out", "pool1.dout": "dout", "pool1.dx": "dx" };
  registerCellMarker((name, marks) => {
    const h = hm[mapOf[name]];
    h?.mark(marks.map((m) => ({ r: m.index[2], c: m.index[3], style: m.style })));
    return Boolean(h);
  });

  // Each change makes a new session and deletes the one it replaces (one run at a time).
  const start = oneAtATime(async () => {
    clearError(root);
    const body = { preset: "pooling", overrides: { pooling: store.get().kind } };
    if (store.get().input) body.input = { array: JSON.parse(store.get().input) };
    const given = await givenSession(() => session?.id); // ?session=<id>: a copy of it
    if (given) {
      const kind = given.network.layers[0].type.startsWith("avg") ? "avg" : "max";
      store.set({ kind });
      kindSel.value = kind;
    }
    const next = given ?? (await sessions.create(body));
    sessions.discard(session?.id);
    session = next;
    root.dataset.sessionId = session.id;
    panel.clear(); // a new pass: the old explanation (and the class's cell) goes
    clearCell();
    // The pass to the end of backward brings the tensors drawn here (a max pool's mask
    // among them), once each.
    const names = ["pool1.in", "pool1.out", "pool1.dout", "pool1.dx", "loss.target"];
    if (store.get().kind === "max") names.push("pool1.mask");
    const res = await sessions.steps(session.id, { until: "backward" }, { names });
    steps = res.steps;
    tensors = tensorsByName(res);
    board.innerHTML = "";
    const add = (name, label) => {
      const box = el("div", { class: "pool-cell", "data-tensor": name });
      board.append(box);
      const h = new Heatmap(box, { name, label, cell: 52 });
      attachDownloads(box, () => [tensors[name]]); // export.js: the API's tensor
      return h;
    };
    hm.in = add("pool1.in", t("pool.input"));
    hm.out = add("pool1.out", t("pool.output"));
    hm.dout = add("pool1.dout", t("pool.dout"));
    hm.dx = add("pool1.dx", t("pool.dx"));
    hm.in.el.classList.add("clickable");
    hm.in.onClick = async (r, c, v) => {
      const value = await editCell(hm.in, r, c, v);
      if (value === null) return;
      const rows = withCell(plane(tensors["pool1.in"], [0, 0]), r, c, value);
      store.set({ input: JSON.stringify([rows]), frame: -1 });
      await start().catch((e) => showError(root, e));
    };
    // The pooled values and both deltas explain themselves on a click (the input is
    // edited on a click instead).
    for (const [key, name] of [
      ["out", "pool1.out"],
      ["dout", "pool1.dout"],
      ["dx", "pool1.dx"],
    ]) {
      hm[key].el.classList.add("clickable");
      hm[key].onClick = (r, c) => pickCell(name, [0, 0, r, c]) || explainCell(name, [0, 0, r, c]);
    }
    const cells = tensors["pool1.out"].size; // backward: one frame per pooled value
    const back = stepLabel({ phase: "backward", layer: "pool1" });
    const frames = [
      stepLabel({ phase: "forward", layer: "pool1" }),
      stepLabel({ phase: "loss", layer: "loss" }),
      ...Array.from({ length: cells }, (_, k) =>
        t("name.frame.part", { step: back, k: k + 1, n: cells }),
      ),
    ];
    if (player) player.destroy();
    player = new Player(playerBox, {
      count: 2 + tensors["pool1.out"].size,
      labels: frames,
      phases: ["forward", "loss", "backward", "backward", "backward", "backward"],
      onFrame: show,
    });
    await player.go(Math.max(0, Math.min(store.get().frame, player.count - 1)));
  });

  function draw(h, name, reveal) {
    const tensor = tensors[name];
    h.draw(plane(tensor, [0, 0]), scaleFor(tensor), reveal);
  }

  async function show(i) {
    store.set({ frame: i });
    draw(hm.in, "pool1.in");
    draw(hm.out, "pool1.out", i >= 0 ? Infinity : 0);
    const outCells = tensors["pool1.out"].size;
    draw(hm.dout, "pool1.dout", i >= 1 ? Infinity : 0);
    const routed = Math.max(0, i - 1);
    hm.dx.draw(plane(tensors["pool1.dx"], [0, 0]), scaleFor(tensors["pool1.dx"]), 0);
    const maskMarks = [];
    if (tensors["pool1.mask"]) {
      const m = plane(tensors["pool1.mask"], [0, 0]);
      m.data.forEach((v, k) => {
        if (v > 0) maskMarks.push({ r: Math.floor(k / m.cols), c: k % m.cols, style: "chosen" });
      });
    }
    hm.in.mark(maskMarks);
    caption.show(steps[Math.min(i <= 1 ? i : 2, steps.length - 1)]);
    if (i < 2) return;
    // Backward: route the first `routed` pooled deltas, the current one highlighted.
    const cols = tensors["pool1.out"].shape[3];
    const revealed = new Set();
    let current = null;
    for (let k = 0; k < Math.min(routed, outCells); k++) {
      const idx = [0, 0, Math.floor(k / cols), k % cols];
      const exp = await sessions.explain(session.id, "pool1.dout", idx);
      for (const term of exp.terms) {
        const [, , r, c] = term.factors[1].index;
        revealed.add(r * tensors["pool1.in"].shape[3] + c);
      }
      if (k === routed - 1) current = { idx, exp };
    }
    // dx cells appear as the windows that own them hand their deltas back.
    hm.dx.draw(plane(tensors["pool1.dx"], [0, 0]), scaleFor(tensors["pool1.dx"]), revealed);
    if (current) {
      const [, , i0, j0] = current.idx;
      hm.dout.mark([{ r: i0, c: j0, style: "target" }]);
      hm.dx.mark(
        current.exp.terms.map((term) => ({
          r: term.factors[1].index[2],
          c: term.factors[1].index[3],
          style: term.factors[1].value !== 0 ? "target" : "window",
        })),
      );
      panel.show(current.exp, `pool1.dout[${current.idx.join(",")}]`);
    }
  }

  async function explainCell(name, idx) {
    try {
      panel.show(await sessions.explain(session.id, name, idx), `${name}[${idx.join(",")}]`);
      noteCell(name, idx); // a copied link and the live class carry it
    } catch (err) {
      showError(root, err);
    }
  }

  kindSel.addEventListener("change", async () => {
    store.set({ kind: kindSel.value, frame: -1 });
    await start().catch((e) => showError(root, e));
  });
  await start();
});
