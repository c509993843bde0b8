// BP (fully connected) networks: build a network on a dataset, walk one pass
// (forward values, the loss, backward deltas, the update), train it with the
// decision boundary redrawn, and train several learning rates side by side.
// Every number comes from the API (tensors, boundary, metrics, compare); this
// view only picks, colours and draws them.
import { api, sessions } from "../api.js";
import { colour, format, legend } from "../colors.js";
import { captionBox, clearError, el, mount, showError } from "../common.js";
import { t } from "../i18n.js";
import { LineChart } from "../linechart.js";
import { Player } from "../player.js";
import { createStore } from "../store.js";

const DATASETS = ["moons", "circles", "xor", "spiral", "blobs", "digits"];
const ACTIVATIONS = ["tanh", "relu", "leaky_relu", "sigmoid"];
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
const SHAPES = ["circle", "square", "triangle", "diamond", "circle", "square"];
const MAX_LAYERS = 4;
const MAX_NEURONS = 64;
const MAX_DRAWN = 12; // neurons drawn per column (the digits' 64 inputs are elided)
const SVG = "http://www.w3.org/2000/svg";

const store = createStore({ dataset: "moons", hidden: "6", activation: "tanh", lr: 0.3, seed: 0 });

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);
const num = (v) => (typeof v === "string" ? Number(v) : v); // "NaN", "Infinity" from the API

/** Values up to the first non-finite one (a log chart cannot draw NaN or Inf). */
function untilNonFinite(values) {
  const out = [];
  for (const v of values.map(num)) {
    if (!finite(v)) break;
    out.push(v);
  }
  return out;
}

function hiddenOf(text) {
  const sizes = String(text).split("-").map(Number).filter((n) => Number.isInteger(n) && n >= 1);
  return sizes.slice(0, MAX_LAYERS).map((n) => Math.min(n, MAX_NEURONS));
}

mount(async (root) => {
  // --- the builder ------------------------------------------------------------
  const datasetSel = el("select", { "data-field": "dataset", "aria-label": t("bp.dataset") },
    ...DATASETS.map((d) => el("option", { value: d, text: t(`bp.data.${d}`) })));
  const actSel = el("select", { "data-field": "activation", "aria-label": t("bp.activation") },
    ...ACTIVATIONS.map((a) => el("option", { value: a, text: a })));
  const lrIn = el("input", { type: "number", step: "any", min: "0", "data-field": "lr", "aria-label": t("bp.lr") });
  const layersBox = el("div", { class: "bp-layers", "data-field": "hidden" });
  const addLayer = el("button", { type: "button", "data-act": "add-layer", text: t("bp.addLayer") });
  const buildBtn = el("button", { type: "button", class: "primary", "data-act": "build", text: t("bp.build") });
  const sizes = el("p", { class: "bp-sizes muted" });
  root.append(
    el("div", { class: "controls" },
      el("label", {}, `${t("bp.dataset")} `, datasetSel),
      el("label", {}, `${t("bp.activation")} `, actSel),
      el("label", {}, `${t("bp.lr")} `, lrIn),
      el("label", {}, `${t("bp.loss")} `, el("select", { disabled: "", "aria-label": t("bp.loss") },
        el("option", { text: t("bp.loss.ce") })))),
    el("div", { class: "controls bp-hidden" }, el("span", { text: `${t("bp.hidden")}: ` }), layersBox, addLayer,
      buildBtn),
    sizes);

  function drawLayers() {
    const hidden = hiddenOf(store.get().hidden);
    layersBox.innerHTML = "";
    hidden.forEach((n, k) => {
      const change = (d) => {
        const next = [...hidden];
        next[k] = Math.max(1, Math.min(MAX_NEURONS, n + d));
        store.set({ hidden: next.join("-") });
        drawLayers();
      };
      const remove = () => {
        store.set({ hidden: hidden.filter((_, i) => i !== k).join("-") });
        drawLayers();
      };
      layersBox.append(el("span", { class: "bp-layer", "data-layer": String(k) },
        el("button", { type: "button", "data-act": "fewer", "aria-label": t("bp.fewer"), text: "−", onclick: () => change(-1) }),
        el("b", { text: String(n) }),
        el("button", { type: "button", "data-act": "more", "aria-label": t("bp.more"), text: "+", onclick: () => change(1) }),
        el("button", { type: "button", "data-act": "remove-layer", "aria-label": t("bp.removeLayer"), text: "✕",
          onclick: remove })));
    });
    if (!hidden.length) layersBox.append(el("span", { class: "muted", text: t("bp.noHidden") }));
    addLayer.disabled = hidden.length >= MAX_LAYERS;
  }

  // --- the network diagram and the pass ----------------------------------------
  const diagramBox = el("figure", { class: "bp-diagram" });
  const tip = el("p", { class: "bp-tip formula", "aria-live": "polite", text: t("bp.edgeHint") });
  const lossLine = el("p", { class: "bp-loss" });
  const colourKey = el("div", { class: "bp-legend" }, legend({ kind: "diverging", max: 1 }, t("bp.colourKey")));
  root.append(el("section", {}, el("h2", { text: t("bp.pass") }), diagramBox, colourKey, tip, lossLine));
  const caption = captionBox(root);
  const playerBox = el("div");
  root.append(playerBox);

  // --- training ------------------------------------------------------------------
  const epochsIn = el("input", { type: "number", min: "1", max: "50", value: "20", "data-field": "epochs",
    "aria-label": t("bp.epochs") });
  const trainBtn = el("button", { type: "button", class: "primary", "data-act": "train", text: t("bp.train") });
  const stopBtn = el("button", { type: "button", "data-act": "stop", text: t("bp.stop"), disabled: "" });
  const trainStatus = el("p", { class: "bp-status", "aria-live": "polite" });
  const boundaryCanvas = el("canvas", { class: "bp-boundary", role: "img", "aria-label": t("bp.boundary") });
  const boundaryBox = el("figure", { class: "bp-boundary-box" }, boundaryCanvas,
    el("figcaption", { class: "muted", text: t("bp.boundaryKey") }));
  const lossBox = el("div", { class: "bp-chart" }, el("h3", { text: t("bp.lossChart") }));
  const accBox = el("div", { class: "bp-chart" }, el("h3", { text: t("bp.accChart") }));
  const curveKey = el("p", { class: "muted bp-key" },
    el("span", { style: `color:${COLOURS[0]}`, text: `━ ${t("bp.train.split")}` }), "  ",
    el("span", { style: `color:${COLOURS[1]}`, text: `━ ${t("bp.test.split")}` }));
  root.append(el("section", { class: "bp-train" }, el("h2", { text: t("bp.training") }),
    el("div", { class: "controls" }, el("label", {}, `${t("bp.epochs")} `, epochsIn), trainBtn, stopBtn), trainStatus,
    el("div", { class: "bp-train-main" }, boundaryBox, el("div", { class: "bp-charts" }, lossBox, accBox, curveKey))));
  const lossChart = new LineChart(lossBox, { label: t("bp.lossChart") });
  const accChart = new LineChart(accBox, { label: t("bp.accChart") });

  // --- learning rates side by side -----------------------------------------------
  const lrsIn = el("input", { type: "text", value: "0.01, 0.3, 3, 100", "data-field": "lrs", "aria-label": t("bp.lrs") });
  const cmpEpochs = el("input", { type: "number", min: "1", max: "50", value: "20", "data-field": "compare-epochs",
    "aria-label": t("bp.epochs") });
  const cmpBtn = el("button", { type: "button", class: "primary", "data-act": "compare", text: t("bp.compare") });
  const cmpChartBox = el("div", { class: "bp-chart bp-compare-chart" }, el("p", { class: "muted", text: t("bp.logAxis") }));
  const cmpRows = el("ol", { class: "bp-compare-rows" });
  const cmpSection = el("section", { class: "bp-compare" }, el("h2", { text: t("bp.compareTitle") }),
    el("p", { class: "muted", text: t("bp.compareHelp") }),
    el("div", { class: "controls" }, el("label", {}, `${t("bp.lrs")} `, lrsIn),
      el("label", {}, `${t("bp.epochs")} `, cmpEpochs), cmpBtn), cmpChartBox, cmpRows);
  root.append(cmpSection);
  const cmpChart = new LineChart(cmpChartBox, { label: t("bp.compareTitle") });

  let session = null;
  let steps = [];
  let player = null;
  let layout = null; // the diagram's columns and edges
  let history = [];
  let boundary = null;
  let stopping = false;

  function config() {
    const st = store.get();
    return { dataset: st.dataset, hidden: hiddenOf(st.hidden), activation: st.activation, lr: Number(st.lr),
      seed: st.seed };
  }

  /** The columns of the diagram: input, each dense layer's neurons (value = the
   * activation's output, or the logits), with the tensors that hold them. */
  function columns(network) {
    const layers = network.layers;
    const dense = layers.filter((l) => l.type === "dense");
    const cols = [{ label: t("bp.input"), value: "dense1.in", delta: "dense1.dx", n: dense[0].settings.in_features }];
    dense.forEach((d, k) => {
      const i = layers.indexOf(d);
      const act = k < dense.length - 1 ? layers[i + 1] : null;
      cols.push({
        label: act ? `${d.name} · ${act.type}` : `${d.name} · ${t("bp.output")}`,
        value: act ? `${act.name}.out` : `${d.name}.out`,
        pre: `${d.name}.out`,
        delta: `${d.name}.dout`,
        dense: d.name,
        n: d.settings.out_features,
      });
    });
    return cols;
  }

  function drawDiagram() {
    const cols = columns(session.network);
    const width = Math.max(480, Math.min(diagramBox.clientWidth || 800, 980));
    const drawn = cols.map((c) => Math.min(c.n, MAX_DRAWN));
    const rows = Math.max(...drawn);
    const height = 60 + rows * 38;
    const x = (k) => 60 + (k * (width - 170)) / (cols.length - 1);
    const y = (k, i) => 40 + ((i + 0.5) * (height - 60)) / drawn[k];
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "bp-net" });
    const edges = [];
    const edgeGroup = svg("g", { class: "bp-edges" });
    const nodeGroup = svg("g", { class: "bp-nodes" });
    root.append(edgeGroup, nodeGroup);
    cols.forEach((c, k) => {
      root.append(Object.assign(svg("text", { x: x(k), y: 18, "text-anchor": "middle", class: "bp-col-label" }),
        { textContent: c.label }));
      if (c.n > drawn[k]) {
        root.append(Object.assign(svg("text", { x: x(k), y: height - 4, "text-anchor": "middle", class: "muted" }),
          { textContent: t("bp.more.n", { n: c.n - drawn[k] }) }));
      }
      if (k > 0) {
        for (let j = 0; j < drawn[k]; j++) {
          for (let i = 0; i < drawn[k - 1]; i++) {
            const line = svg("line", { x1: x(k - 1), y1: y(k - 1, i), x2: x(k), y2: y(k, j), class: "bp-edge",
              "data-layer": c.dense, "data-from": i, "data-to": j, tabindex: "0" });
            line.addEventListener("mouseenter", () => showEdge(line));
            line.addEventListener("focus", () => showEdge(line));
            edgeGroup.append(line);
            edges.push({ line, layer: c.dense, i, j, fanIn: cols[k - 1].n });
          }
        }
      }
    });
    const nodes = cols.map((c, k) => Array.from({ length: drawn[k] }, (_, i) => {
      const g = svg("g", { class: "bp-neuron", "data-col": k, "data-i": i });
      const circle = svg("circle", { cx: x(k), cy: y(k, i), r: 13 });
      const label = svg("text", { x: x(k) + 17, y: y(k, i) + 4, class: "bp-num" });
      g.append(circle, label);
      nodeGroup.append(g);
      return { g, circle, label };
    }));
    diagramBox.innerHTML = "";
    diagramBox.append(root);
    layout = { cols, nodes, edges };
  }

  /** The tensors known after step `frame` (a later step's tensors are not shown yet). */
  function known(frame) {
    const map = new Map();
    for (let k = 0; k <= frame && k < steps.length; k++) for (const tn of steps[k].tensors || []) map.set(tn.name, tn);
    return map;
  }

  function row(tensor, n = 0) {
    if (!tensor) return null;
    const cols = tensor.shape[tensor.shape.length - 1];
    return tensor.data.subarray(n * cols, (n + 1) * cols);
  }

  let current = new Map();
  function show(frame) {
    current = known(frame);
    const step = steps[frame];
    const phase = step ? step.phase : "forward";
    const backward = phase === "backward" || phase === "update";
    let maxAbs = 0;
    const shown = layout.cols.map((c) => {
      const values = row(current.get(c.value));
      const deltas = row(current.get(c.delta));
      const use = backward && deltas ? deltas : values;
      if (use) for (let i = 0; i < Math.min(use.length, MAX_DRAWN); i++) maxAbs = Math.max(maxAbs, Math.abs(use[i]));
      return { values, deltas, use };
    });
    const scale = { kind: "diverging", max: maxAbs || 1 };
    layout.cols.forEach((c, k) => {
      const { values, deltas, use } = shown[k];
      layout.nodes[k].forEach((node, i) => {
        const v = use ? use[i] : NaN;
        node.circle.setAttribute("fill", use ? `rgb(${colour(v, scale)})` : "var(--bg)");
        node.label.textContent = use ? `${backward && deltas ? "δ " : ""}${format(v)}` : "";
        node.g.dataset.value = values ? String(values[i]) : "";
        node.g.dataset.delta = deltas ? String(deltas[i]) : "";
        node.g.dataset.shown = backward && deltas ? "delta" : values ? "value" : "";
      });
    });
    // Edges: coloured by the weight (after the update once it has run).
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
      if (!w) {
        e.line.setAttribute("stroke", "var(--border)");
        e.line.setAttribute("stroke-width", "1");
        continue;
      }
      const v = w.data[e.j * e.fanIn + e.i];
      e.line.setAttribute("stroke", `rgb(${colour(v, wScale)})`);
      e.line.setAttribute("stroke-width", String(1 + 3 * Math.min(1, Math.abs(v) / (wMax || 1))));
    }
    const loss = current.get("loss.value");
    lossLine.textContent = loss ? t("bp.lossNow", { loss: format(loss.data[0]) }) : "";
    if (step) caption.show(step);
    root.dataset.frame = String(frame);
    root.dataset.phase = phase;
    if (tip.dataset.layer) showEdge(layout.edges.find((e) => e.layer === tip.dataset.layer
      && String(e.i) === tip.dataset.from && String(e.j) === tip.dataset.to)?.line);
  }

  function showEdge(line) {
    if (!line) return;
    const layer = line.dataset.layer;
    const i = Number(line.dataset.from);
    const j = Number(line.dataset.to);
    const fanIn = layout.edges.find((e) => e.line === line).fanIn;
    const at = (name) => {
      const tn = current.get(name);
      return tn ? tn.data[j * fanIn + i] : undefined;
    };
    const w = at(`${layer}.w.before`) ?? at(`${layer}.w`);
    const dw = at(`${layer}.dw`);
    const after = at(`${layer}.w.after`);
    const lr = current.get(`${layer}.lr`)?.data[0] ?? Number(session.optimizer.lr);
    const name = `${layer}.w[${j},${i}]`;
    let text = w === undefined ? `${name}: ${t("bp.notYet")}` : `${name}: w = ${format(w)}`;
    if (dw !== undefined) text += `,  dw = ${format(dw)}`;
    if (after !== undefined) {
      text += `,  w − lr·dw = ${format(w)} − ${format(lr)} × ${format(dw)} = ${format(after)}`;
    } else if (dw !== undefined) {
      text += `,  ${t("bp.updateNext")}`;
    }
    tip.textContent = text;
    Object.assign(tip.dataset, { layer, from: String(i), to: String(j), w: String(w ?? ""), dw: String(dw ?? ""),
      after: String(after ?? "") });
    for (const e of layout.edges) e.line.classList.toggle("hover", e.line === line);
  }

  /** Run the session's whole pass at once; the player reveals it step by step. */
  async function loadPass() {
    const res = await sessions.steps(session.id, { count: session.plan.length });
    steps = res.steps;
    drawDiagram();
    const labels = steps.map((s) => `${t(`bp.phase.${s.phase}`)} · ${s.layer}`);
    if (player) player.destroy();
    player = new Player(playerBox, { count: steps.length, labels, phases: steps.map((s) => s.phase), onFrame: show });
    await player.go(0);
    root.dataset.pass = String(Number(root.dataset.pass || 0) + 1);
  }

  // --- building -------------------------------------------------------------------
  async function build() {
    const cfg = config();
    buildBtn.disabled = true;
    try {
      session = await api("POST", "/api/bp/sessions", cfg);
      clearError(root);
      const d = session.dataset;
      sizes.textContent = t("bp.sizes", { features: d.features, classes: d.classes.length, train: d.train,
        test: d.test, hidden: cfg.hidden.join(", ") || "—" });
      history = [];
      boundary = null;
      boundaryBox.hidden = d.features !== 2;
      await loadPass();
      root.dataset.session = session.id;
      await evaluate(0);
      root.dataset.built = String(Number(root.dataset.built || 0) + 1);
    } finally {
      buildBtn.disabled = false;
    }
  }

  // --- training ----------------------------------------------------------------------
  async function evaluate(epoch) {
    const twoD = session.dataset.features === 2;
    const m = twoD
      ? await api("GET", `/api/sessions/${session.id}/boundary?resolution=40`)
      : await api("GET", `/api/sessions/${session.id}/metrics`);
    if (twoD) (boundary = m), drawBoundary();
    history.push({ epoch, ...m });
    drawCurves();
    trainStatus.textContent = t("bp.metrics", { epoch, trainLoss: format(num(m.train_loss)),
      testLoss: format(num(m.test_loss)), trainAcc: format(m.train_accuracy), testAcc: format(m.test_accuracy) });
    root.dataset.epoch = String(epoch);
  }

  /** One epoch of training over SSE; returns the last event. */
  async function trainEpoch() {
    const res = await fetch(`/api/sessions/${session.id}/train`, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ epochs: 1, batch_size: 32 }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(JSON.parse(text).detail?.[0]?.msg || text);
    const events = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
    const last = events[events.length - 1];
    if (last.event === "error") throw new Error(last.detail);
    return last;
  }

  async function train() {
    const epochs = Math.max(1, Math.min(50, Math.round(Number(epochsIn.value) || 1)));
    trainBtn.disabled = buildBtn.disabled = cmpBtn.disabled = true;
    stopBtn.disabled = false;
    stopping = false;
    root.dataset.training = "1";
    try {
      const start = history.length ? history[history.length - 1].epoch : 0;
      for (let e = 1; e <= epochs && !stopping; e++) {
        const last = await trainEpoch();
        await evaluate(start + e);
        if (last.event === "diverged") {
          trainStatus.textContent += `  ${t("bp.divergedTrain")}`;
          break;
        }
      }
      await loadPass(); // a fresh pass with the trained weights
    } finally {
      trainBtn.disabled = buildBtn.disabled = cmpBtn.disabled = false;
      stopBtn.disabled = true;
      delete root.dataset.training;
      root.dataset.trained = String(Number(root.dataset.trained || 0) + 1);
    }
  }

  function drawCurves() {
    const w = lossBox.clientWidth || 420;
    const pick = (key) => untilNonFinite(history.map((h) => h[key]));
    lossChart.setData([{ values: pick("train_loss"), colour: COLOURS[0], shape: "circle" },
      { values: pick("test_loss"), colour: COLOURS[1], shape: "square" }], { log: true });
    accChart.setData([{ values: pick("train_accuracy"), colour: COLOURS[0], shape: "circle" },
      { values: pick("test_accuracy"), colour: COLOURS[1], shape: "square" }], {});
    lossChart.layout(w, 170);
    accChart.layout(w, 170);
    lossChart.draw(history.length - 1);
    accChart.draw(history.length - 1);
  }

  function drawBoundary() {
    const b = boundary;
    const size = 340;
    const ratio = window.devicePixelRatio || 1;
    boundaryCanvas.width = size * ratio;
    boundaryCanvas.height = size * ratio;
    boundaryCanvas.style.width = boundaryCanvas.style.height = `${size}px`;
    const ctx = boundaryCanvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const n = b.resolution;
    const [x0, x1] = [b.xs[0], b.xs[n - 1]];
    const [y0, y1] = [b.ys[0], b.ys[n - 1]];
    const cell = size / n;
    const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const cls = b.predicted[i][j];
        const p = num(b.probs[i][j][cls]);
        const a = finite(p) ? 0.15 + 0.45 * Math.max(0, (p - 1 / b.classes.length) / (1 - 1 / b.classes.length)) : 0;
        const [r, g, bl] = rgb(COLOURS[cls % COLOURS.length]);
        ctx.fillStyle = `rgba(${r},${g},${bl},${a})`;
        ctx.fillRect(j * cell, size - (i + 1) * cell, cell + 0.5, cell + 0.5);
      }
    }
    const px = (p) => [((p[0] - x0) / (x1 - x0)) * size, size - ((p[1] - y0) / (y1 - y0)) * size];
    for (const [split, filled] of [["train", true], ["test", false]]) {
      b[split].x.forEach((p, k) => {
        const [u, v] = px(p);
        ctx.beginPath();
        ctx.arc(u, v, 3.2, 0, 2 * Math.PI);
        const c = COLOURS[b[split].y[k] % COLOURS.length];
        if (filled) (ctx.fillStyle = c), ctx.fill(), (ctx.strokeStyle = "#fff");
        else (ctx.strokeStyle = c), (ctx.lineWidth = 1.6);
        ctx.stroke();
      });
    }
    boundaryCanvas.dataset.testAccuracy = String(b.test_accuracy);
  }

  // --- learning rates side by side ----------------------------------------------------
  async function compare() {
    const lrs = lrsIn.value.split(/[,\s，]+/).filter(Boolean).map(Number);
    const cfg = config();
    cmpBtn.disabled = true;
    try {
      const res = await api("POST", "/api/bp/compare", {
        dataset: cfg.dataset, hidden: cfg.hidden, activation: cfg.activation, seed: cfg.seed, lrs,
        epochs: Math.max(1, Math.min(50, Math.round(Number(cmpEpochs.value) || 1))),
      });
      clearError(root);
      const runs = res.runs;
      // The chart stops at 1000 x the starting loss, so a run that blows up does not
      // flatten the others; its row gives the real numbers.
      const cap = 1000 * Math.max(...runs.map((r) => num(r.train_loss[0])).filter(finite), 1e-6);
      cmpChart.setData(runs.map((r, i) => ({ values: untilNonFinite(r.train_loss).map((v) => Math.min(v, cap)),
        colour: COLOURS[i], shape: SHAPES[i] })), { log: true });
      cmpChart.layout(cmpChartBox.clientWidth || 600, 220);
      cmpChart.draw(res.epochs);
      cmpRows.innerHTML = "";
      runs.forEach((r, i) => {
        const losses = r.train_loss.map(num);
        const end = losses[losses.length - 1];
        let flag = "";
        if (r.nonfinite) flag = t("bp.divergedNaN", { epoch: r.nonfinite_at_epoch, value: r.train_loss[losses.length - 1] });
        else if (r.diverged) flag = t("bp.divergedUp", { from: format(losses[0]), to: format(end) });
        cmpRows.append(el("li", { class: `bp-run${r.diverged ? " diverged" : ""}`, "data-lr": String(r.lr),
          "data-diverged": r.diverged ? "1" : "0", "data-final-loss": String(r.train_loss[losses.length - 1]) },
        el("span", { class: "bp-swatch", style: `background:${COLOURS[i]}` }),
        el("strong", { text: `${t("bp.lr")} = ${r.lr}` }),
        el("span", { text: `  ${t("bp.finalLoss")} ${finite(end) ? format(end) : String(r.train_loss[losses.length - 1])}` }),
        el("span", { text: `  ${t("bp.testAcc")} ${format(r.test_accuracy[r.test_accuracy.length - 1])}` }),
        flag ? el("span", { class: "bp-flag diverged", text: `  ⚠ ${flag}` }) : null));
      });
      root.dataset.compared = String(Number(root.dataset.compared || 0) + 1);
    } finally {
      cmpBtn.disabled = false;
    }
  }

  // --- wiring ---------------------------------------------------------------------------
  const guarded = (fn) => () => fn().catch((err) => showError(root, err));
  datasetSel.addEventListener("change", () => store.set({ dataset: datasetSel.value }));
  actSel.addEventListener("change", () => store.set({ activation: actSel.value }));
  lrIn.addEventListener("change", () => {
    const lr = Number(lrIn.value);
    if (lr > 0 && lr <= 100) store.set({ lr });
  });
  addLayer.addEventListener("click", () => {
    const hidden = hiddenOf(store.get().hidden);
    if (hidden.length < MAX_LAYERS) store.set({ hidden: [...hidden, 4].join("-") });
    drawLayers();
  });
  buildBtn.addEventListener("click", guarded(build));
  trainBtn.addEventListener("click", guarded(train));
  stopBtn.addEventListener("click", () => (stopping = true));
  cmpBtn.addEventListener("click", guarded(compare));

  const st = store.get();
  if (!DATASETS.includes(st.dataset)) store.set({ dataset: "moons" });
  if (!ACTIVATIONS.includes(st.activation)) store.set({ activation: "tanh" });
  datasetSel.value = store.get().dataset;
  actSel.value = store.get().activation;
  lrIn.value = String(store.get().lr);
  drawLayers();
  await build();
});
