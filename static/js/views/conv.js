// Convolution basics: the kernel slides over the input; at each position the
// element-wise products and their sum land in the output cell. Every number comes
// from the API (the explanation of each output value); nothing is computed here.
import { plane, sessions, tensorsByName } from "../api.js";
import { format, scaleFor } from "../colors.js";
import { captionBox, clearError, el, mount, oneAtATime, showError } from "../common.js";
import { editCell, withCell } from "../edit.js";
import { attachDownloads } from "../export.js";
import { Heatmap } from "../heatmap.js";
import { t } from "../i18n.js";
import { registerSession } from "../live-hooks.js";
import { Player } from "../player.js";
import { givenSession, noteCell } from "../share.js";
import { createStore } from "../store.js";

const store = createStore({ k: 3, p: 0, s: 1, mode: "xcorr", input: "", kernel: "", frame: -1 });

mount(async (root) => {
  const controls = el("div", { class: "controls" });
  const num = (key, label, min, max) => {
    const input = el("input", {
      type: "number",
      min: String(min),
      max: String(max),
      step: "1",
      "data-key": key,
      value: String(store.get()[key]),
      "aria-label": label,
    });
    controls.append(el("label", {}, `${label} `, input));
    return input;
  };
  const kIn = num("k", t("conv.size"), 1, 7);
  const pIn = num("p", t("conv.padding"), 0, 3);
  const sIn = num("s", t("conv.stride"), 1, 4);
  const mode = el(
    "select",
    { "aria-label": t("conv.mode"), "data-key": "mode" },
    el("option", { value: "xcorr", text: t("conv.mode.xcorr") }),
    el("option", { value: "true", text: t("conv.mode.true") }),
  );
  mode.value = store.get().mode;
  controls.append(el("label", {}, `${t("conv.mode")} `, mode));
  root.append(controls, el("p", { class: "muted", text: t("conv.edit") }));
  const formula = el("p", { class: "size-formula", "aria-live": "polite" });
  root.append(formula);
  const playerBox = el("div");
  root.append(playerBox);
  const caption = captionBox(root);
  const board = el("div", { class: "conv-board", "data-figure": "" }); // present mode's figure
  const products = el("section", { class: "products" });
  root.append(board, products);

  let session = null;
  let player = null;
  let tensors = {};
  let explanations = [];
  const maps = {};
  registerSession(() => session?.id); // the live class (live-hooks.js)

  // Each change of the settings makes a new session (one run at a time: see oneAtATime).
  const start = oneAtATime(async () => {
    const given = await givenSession(() => session?.id); // ?session=<id>: a copy of it
    if (given) {
      // The settings show the given network's (a later change of one makes a new run).
      const set = given.network.layers[0].settings;
      const kind = set.flip ? "true" : "xcorr";
      store.set({
        k: set.kernel[0],
        p: set.padding[0],
        s: set.stride[0],
        mode: kind,
        input: "",
        kernel: "",
      });
      for (const input of [kIn, pIn, sIn]) input.value = String(store.get()[input.dataset.key]);
      mode.value = store.get().mode;
    }
    const st = store.get();
    const body = {
      preset: "conv-basics",
      overrides: {
        conv: { conv1: { kernel: st.k, padding: st.p, stride: st.s, flip: st.mode === "true" } },
      },
    };
    if (st.input) body.input = { array: [JSON.parse(st.input)] };
    let next = given;
    try {
      next ??= await sessions.create(body);
    } catch (err) {
      if (err.status !== 422) throw err; // not the combination: the store, a limit of this client
      formula.textContent = t("conv.nofit", { message: err.message });
      formula.classList.add("nofit");
      return;
    }
    formula.classList.remove("nofit");
    clearError(root);
    sessions.discard(session?.id); // the one it replaces: a class shares its session limit
    session = next;
    if (st.kernel) await sessions.setParam(session.id, "conv1.w", [[JSON.parse(st.kernel)]]);
    const names = ["conv1.in", "conv1.w", "conv1.b", "conv1.out"];
    const res = await sessions.steps(session.id, { count: 1 }, { names });
    caption.show(res.steps[0]);
    tensors = tensorsByName(res);
    const out = tensors["conv1.out"];
    const indices = [];
    for (let i = 0; i < out.shape[2]; i++)
      for (let j = 0; j < out.shape[3]; j++) indices.push([0, 0, i, j]);
    explanations = (await sessions.explainMany(session.id, "conv1.out", indices)).explanations;
    const layer = session.network.layers[0];
    const [c, m, n] = session.network.input_shape;
    const [, oh, ow] = layer.output_shape;
    formula.textContent =
      `${t("conv.formula")}: ⌊(m + 2p − f) / s⌋ + 1 = ⌊(${m} + 2·${st.p} − ${st.k}) / ${st.s}⌋ + 1 = ${oh}` +
      (n !== m ? `, ${ow}` : "") +
      `  →  ${oh} × ${ow}` +
      (c > 1 ? ` × ${c}` : "");
    drawBoard();
    if (player) player.destroy();
    player = new Player(playerBox, {
      count: indices.length,
      labels: indices.map(([, , i, j]) => t("conv.position", { r: i, c: j })),
      phases: indices.map(() => "forward"),
      onFrame: show,
    });
    root.dataset.sessionId = session.id;
    const want = Math.min(store.get().frame, indices.length - 1);
    await player.go(Math.max(want, 0));
  });

  function drawBoard() {
    board.innerHTML = "";
    const add = (key, name, label, cell) => {
      const box = el("div", { class: "conv-cell", "data-tensor": name });
      board.append(box);
      maps[key] = new Heatmap(box, { name, label, cell, numbers: true, maxPx: 330 });
      attachDownloads(box, () => [tensors[name]]); // the API's tensor, as CSV/JSON/PNG
      return maps[key];
    };
    const x = tensors["conv1.in"];
    const w = tensors["conv1.w"];
    add("in", "conv1.in", t("conv.input"), 54).draw(plane(x, [0, 0]), scaleFor(x));
    add("w", "conv1.w", t("conv.kernel"), 54).draw(plane(w, [0, 0]), scaleFor(w));
    add(
      "out",
      "conv1.out",
      `${t("conv.output")} (${t("conv.bias")} ${format(tensors["conv1.b"].data[0])})`,
      54,
    );
    maps.in.el.classList.add("clickable");
    maps.w.el.classList.add("clickable");
    maps.out.el.classList.add("clickable");
    // An output cell is a kernel position: a click goes to its frame (row by row).
    maps.out.onClick = (r, c) => player?.go(r * tensors["conv1.out"].shape[3] + c);
    maps.in.onClick = async (r, c, v) => {
      const value = await editCell(maps.in, r, c, v);
      if (value === null) return;
      store.set({ input: JSON.stringify(withCell(plane(x, [0, 0]), r, c, value)), frame: -1 });
      await start().catch((e) => showError(root, e));
    };
    maps.w.onClick = async (r, c, v) => {
      const value = await editCell(maps.w, r, c, v);
      if (value === null) return;
      store.set({ kernel: JSON.stringify(withCell(plane(w, [0, 0]), r, c, value)), frame: -1 });
      await start().catch((e) => showError(root, e));
    };
  }

  function show(i) {
    const t0 = performance.now();
    store.set({ frame: i });
    const out = tensors["conv1.out"];
    maps.out.draw(plane(out, [0, 0]), scaleFor(out), i + 1);
    const exp = explanations[i];
    const [, , oi, oj] = exp.index;
    maps.out.mark([{ r: oi, c: oj, style: "target" }]);
    noteCell("conv1.out", exp.index); // the cell explained (a live class may ask about it)
    const window = [];
    const kernel = [];
    products.innerHTML = "";
    const grid = el("div", { class: "product-grid", style: `--k:${tensors["conv1.w"].shape[3]}` });
    for (const term of exp.terms) {
      const [xf, wf] = term.factors;
      if (xf.index) window.push({ r: xf.index[2], c: xf.index[3], style: "window" });
      kernel.push({ r: wf.index[2], c: wf.index[3], style: "source" });
      grid.append(
        el("span", {
          class: "product",
          title: `${xf.index ? `conv1.in[${xf.index}]` : "0 (padding)"} × conv1.w[${wf.index}]`,
          text: `${format(xf.value)}×${format(wf.value)}`,
        }),
      );
    }
    maps.in.mark(window);
    maps.w.mark(kernel);
    const sum = exp.terms.map((term) => format(term.product)).join(" + ");
    products.append(
      el("h3", { text: t("conv.position", { r: oi, c: oj }) }),
      grid,
      el("p", {
        class: "total",
        "data-total": String(exp.total),
        "data-value": String(exp.value),
        text: `${sum} + ${format(exp.constant.value)} = ${format(exp.total)}`,
      }),
    );
    root.dataset.frame = String(i);
    root.dataset.renderMs = (performance.now() - t0).toFixed(2);
  }

  for (const input of [kIn, pIn, sIn]) {
    input.addEventListener("change", async () => {
      // A field that lost focus with the value it had makes no new run (a click on a map
      // after typing fires one change more: the map's cell editor must stay open).
      if (Number(input.value) === store.get()[input.dataset.key]) return;
      store.set({ [input.dataset.key]: Number(input.value), kernel: "", frame: -1 });
      await start().catch((e) => showError(root, e));
    });
  }
  mode.addEventListener("change", async () => {
    store.set({ mode: mode.value, frame: -1 });
    await start().catch((e) => showError(root, e));
  });
  await start();
});
