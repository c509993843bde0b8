// Recurrent networks: the pass stepped one time step at a time (an LSTM cell's
// vectors with their numbers; click a gate, cell or hidden value for its
// arithmetic), the gates, c and h of the whole sequence as heatmaps (hidden
// units x time), and ||dL/dh_t|| over t for an RNN beside an LSTM with the RNN's
// recurrent weight scale, nonlinearity and clipping as controls. Every number
// comes from the API; this module only slices and draws.
import { ApiError, plane, sessions } from "../api.js";
import { format, legend, scaleFor } from "../colors.js";
import { captionBox, clearError, el, explainPanel, mount, showError } from "../common.js";
import { Heatmap } from "../heatmap.js";
import { t } from "../i18n.js";
import { LineChart } from "../linechart.js";
import { Player } from "../player.js";
import { createStore } from "../store.js";

const PRESETS = [
  "memory-lstm", "memory-rnn", "sine-lstm", "sine-rnn", "bilstm-memory", "chars-en", "chars-zh",
  "seq-one-to-many", "seq-many-to-one", "seq-many-to-many",
];
const PROBLEMS = ["one-to-many", "many-to-one", "many-to-many"];
const STEP_NAME = /^(.+)\.t(\d+)\.(\w+)$/;
const EXPLAINABLE = /\.t\d+\.(i|f|g|o|c|h|dc)$/;
const SEQUENCE_PARTS = ["i", "f", "g", "o", "c", "h"];
const GATES = new Set(["i", "f", "o"]);
const LINES = [
  { key: "rnn", colour: "#D55E00", shape: "circle" },
  { key: "lstm", colour: "#0072B2", shape: "square" },
  { key: "lstmc", colour: "#CC79A7", shape: "triangle" },
];

const store = createStore({ preset: "memory-lstm", step: -1, scale: 1, nl: "tanh", clip: false, epochs: 3 });

/** POST .../train and call onEvent with each Server-Sent Event's data as it arrives. */
async function trainStream(id, body, onEvent) {
  const res = await fetch(`/api/sessions/${id}/train`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const detail = await res.json().then((j) => j.detail).catch(() => res.statusText);
    throw new ApiError(res.status, detail);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let k;
    while ((k = buf.indexOf("\n\n")) >= 0) {
      const data = buf.slice(0, k).split("\n").find((line) => line.startsWith("data: "));
      buf = buf.slice(k + 2);
      if (data) onEvent(JSON.parse(data.slice(6)));
    }
  }
}

/** Row `n` of an (N, H) tensor, or plane n of an (N, T, H) one, as a heatmap plane. */
function rowsOf(tensor, n = 0) {
  if (tensor.shape.length === 3) return plane(tensor, [n]);
  const cols = tensor.shape[tensor.shape.length - 1];
  return { rows: 1, cols, data: tensor.data.subarray(n * cols, (n + 1) * cols) };
}

/** A gate's role is "gate" (sequential scale); the sequence maps of f, i, o too. */
function roleOf(name, what) {
  return GATES.has(what) ? "gate" : name.endsWith(".mask") ? "mask" : "activation";
}

mount(async (root) => {
  const s = store.get();
  const controls = el("div", { class: "controls" });
  const presetSel = el("select", { "aria-label": t("rnn.preset"), "data-control": "preset" },
    ...PRESETS.map((p) => el("option", { value: p, text: p })));
  presetSel.value = PRESETS.includes(s.preset) ? s.preset : PRESETS[0];
  const problemSel = el("select", { "aria-label": t("rnn.problem"), "data-control": "problem" },
    el("option", { value: "", text: "—" }), ...PROBLEMS.map((p) => el("option", { value: p, text: t(`rnn.problem.${p}`) })));
  const syncProblem = () => (problemSel.value = PROBLEMS.find((p) => store.get().preset === `seq-${p}`) || "");
  syncProblem();
  controls.append(el("label", {}, `${t("rnn.preset")} `, presetSel), el("label", {}, `${t("rnn.problem")} `, problemSel));
  root.append(controls);

  // --- the network unrolled over time ------------------------------------------
  const unrollBox = el("section", { class: "rnn-unrolled" },
    el("h2", { text: t("rnn.unrolled") }), el("p", { class: "muted", text: t("rnn.unrolledHint") }));
  const unrollRow = el("div", { class: "unroll-row" });
  unrollBox.append(unrollRow);
  root.append(unrollBox);

  // --- the character models: type a prompt, see the next character's probabilities ---
  const promptBox = el("section", { class: "rnn-prompt", hidden: "" },
    el("h2", { text: t("rnn.prompt") }), el("p", { class: "muted prompt-hint" }));
  const promptIn = el("input", { type: "text", "data-control": "prompt", "aria-label": t("rnn.prompt") });
  const readBtn = el("button", { type: "button", "data-control": "read", text: t("rnn.read") });
  const nextBox = el("ol", { class: "bars next-chars", "aria-live": "polite" });
  promptBox.append(el("div", { class: "controls" }, promptIn, readBtn), el("h3", { text: t("rnn.next") }), nextBox);
  root.append(promptBox);

  // --- the stepped walk ----------------------------------------------------------
  root.append(el("h2", { text: t("rnn.walk") }));
  const playerBox = el("div");
  root.append(playerBox);
  const caption = captionBox(root);
  const cellBox = el("section", { class: "rnn-cell", "aria-live": "polite" });
  root.append(cellBox);
  const panel = explainPanel(root);

  // --- the whole sequence ------------------------------------------------------------
  const seqBox = el("section", { class: "rnn-sequence" },
    el("h2", { text: t("rnn.sequence") }), el("p", { class: "muted", text: t("rnn.sequenceHint") }));
  root.append(seqBox);

  // --- backward through time: gradient norms ---------------------------------------
  const gradBox = el("section", { class: "rnn-gradients" },
    el("h2", { text: t("rnn.gradients") }), el("p", { class: "muted", text: t("rnn.gradientsHint") }));
  const scaleIn = el("input", { type: "range", min: "0.25", max: "3", step: "0.05", value: String(s.scale),
    "aria-label": t("rnn.scale"), "data-control": "scale" });
  const scaleOut = el("output", { text: format(s.scale) });
  const nlSel = el("select", { "aria-label": t("rnn.nonlinearity"), "data-control": "nl" },
    ...["tanh", "relu"].map((v) => el("option", { value: v, text: v })));
  nlSel.value = s.nl === "relu" ? "relu" : "tanh";
  const clipIn = el("input", { type: "checkbox", "data-control": "clip" });
  clipIn.checked = Boolean(s.clip);
  gradBox.append(el("div", { class: "controls" },
    el("label", {}, `${t("rnn.scale")} `, scaleIn, " ", scaleOut),
    el("label", {}, `${t("rnn.nonlinearity")} `, nlSel),
    el("label", {}, clipIn, ` ${t("rnn.clip")}`)));
  const chartBox = el("div", { class: "grad-chart" });
  gradBox.append(chartBox);
  const chart = new LineChart(chartBox, { label: t("rnn.gradients") });
  const keyBox = el("ul", { class: "chart-key" });
  const gradInfo = el("p", { class: "grad-info", "aria-live": "polite" });
  gradBox.append(keyBox, gradInfo);
  root.append(gradBox);

  // --- the long-memory task: train an RNN and an LSTM from random weights -----------
  const trainBox = el("section", { class: "rnn-train" },
    el("h2", { text: t("rnn.train") }), el("p", { class: "muted", text: t("rnn.trainHint") }));
  const epochsIn = el("input", { type: "number", min: "1", max: "50", step: "1", value: String(s.epochs),
    "aria-label": t("rnn.epochs"), "data-control": "epochs", class: "sample" });
  const trainBtn = el("button", { type: "button", "data-control": "train", text: t("rnn.trainButton") });
  trainBox.append(el("div", { class: "controls" }, el("label", {}, `${t("rnn.epochs")} `, epochsIn), trainBtn));
  const bars = {};
  for (const l of LINES.slice(0, 2)) {
    const bar = el("progress", { max: "1", value: "0", "data-model": l.key });
    const status = el("span", { class: "train-status", "data-model": l.key });
    bars[l.key] = { bar, status };
    trainBox.append(el("p", { class: "train-row" },
      el("span", { class: "swatch", style: `background:${l.colour}` }), ` ${t(`rnn.model.${l.key}`)} `, bar, " ", status));
  }
  const lossBox = el("div", { class: "loss-chart" });
  trainBox.append(lossBox);
  const lossChart = new LineChart(lossBox, { label: t("rnn.lossChart") });
  root.append(trainBox);

  async function train() {
    trainBtn.disabled = true;
    delete trainBox.dataset.done;
    const epochs = Math.max(1, Math.min(50, Number(epochsIn.value) || 1));
    store.set({ epochs });
    const losses = { rnn: [], lstm: [] };
    const redraw = () => {
      lossChart.layout(Math.min(760, trainBox.clientWidth || 640), 200);
      lossChart.setData(LINES.slice(0, 2).map((l) => ({ values: losses[l.key], colour: l.colour, shape: l.shape })), { log: false });
      lossChart.draw(Math.max(losses.rnn.length, losses.lstm.length) - 1);
    };
    const one = async (key) => {
      const { bar, status } = bars[key];
      const made = await sessions.create({ preset: `memory-${key}`, overrides: { reinit: true, clip: 1 } });
      const body = { epochs, batch_size: 32, optimizer: { type: "adam", lr: 0.003 } };
      await trainStream(made.id, body, (ev) => {
        if (ev.event === "start") bar.max = ev.iterations;
        if (ev.event === "progress") {
          bar.value = ev.iteration;
          losses[key].push(Number(ev.loss));
          status.textContent = t("rnn.progress", { epoch: ev.epoch, loss: format(Number(ev.loss)) });
          redraw();
        }
        if (["done", "cancelled", "diverged", "error"].includes(ev.event)) {
          status.dataset.status = ev.event;
          status.textContent = ev.event === "error" ? ev.detail
            : t("rnn.trained", { loss: format(Number(ev.loss)), accuracy: format(ev.test_accuracy ?? NaN) });
        }
      });
      sessions.remove(made.id).catch(() => {});
    };
    try {
      await Promise.all(["rnn", "lstm"].map(one));
      trainBox.dataset.done = "1";
    } catch (err) {
      showError(root, err);
    } finally {
      trainBtn.disabled = false;
    }
  }
  trainBtn.addEventListener("click", () => train());

  let session = null;
  let player = null;
  let classes = [];
  let detail = {};

  async function start() {
    clearError(root);
    if (session) sessions.remove(session.id).catch(() => {});
    session = await sessions.create({ preset: store.get().preset });
    detail = await (await fetch(`/api/presets/${store.get().preset}`)).json();
    classes = detail.dataset ? detail.dataset.classes : [];
    const plan = session.plan;
    if (player) player.destroy();
    player = new Player(playerBox, {
      count: plan.length,
      labels: plan.map((p) => `${p.phase} · ${p.layer} · ${p.op}`),
      phases: plan.map((p) => p.phase),
      onFrame: show,
    });
    cellBox.innerHTML = "";
    const chars = store.get().preset.startsWith("chars-");
    promptBox.hidden = !chars;
    const res = await sessions.steps(session.id, { until: chars ? "loss" : "forward" });
    drawSequence(res.steps);
    if (chars) {
      const T = session.network.input_shape[0];
      promptBox.querySelector(".prompt-hint").textContent = t("rnn.promptHint", { T });
      promptIn.maxLength = T;
      promptIn.value = detail.meta?.input ?? "";
      showNext(res.steps);
    }
    const want = Math.min(store.get().step, plan.length - 1);
    if (want >= 0) await player.go(want);
  }

  /** Hidden units x time maps of each gate, c and h, from the forward steps. */
  function drawSequence(steps) {
    drawUnrolled(steps);
    seqBox.querySelectorAll(".seq-map").forEach((n) => n.remove());
    const rows = new Map(); // "lstm1.f" or "bilstm1.fwd.h" -> [t] -> row
    for (const step of steps) {
      for (const tensor of step.tensors || []) {
        const m = STEP_NAME.exec(tensor.name);
        if (!m || !SEQUENCE_PARTS.includes(m[3]) || tensor.shape.length !== 2) continue;
        const key = `${m[1]}.${m[3]}`;
        if (!rows.has(key)) rows.set(key, []);
        rows.get(key)[Number(m[2])] = rowsOf(tensor).data;
      }
    }
    for (const [key, byT] of rows) {
      const T = byT.length;
      const H = byT.find(Boolean)?.length || 0;
      if (!H) continue;
      const data = new Float32Array(H * T);
      byT.forEach((row, k) => row && row.forEach((v, j) => (data[j * T + k] = v)));
      const what = key.slice(key.lastIndexOf(".") + 1);
      const scale = scaleFor({ role: roleOf(key, what) }, data);
      const wrap = el("figure", { class: "seq-map", "data-tensor": key },
        el("h4", {}, el("code", { text: key }), el("span", { class: "muted", text: `  ${t("rnn.axes")}` })));
      const map = new Heatmap(wrap, { name: key, cell: Math.max(6, Math.min(18, Math.floor(640 / T))), numbers: false });
      map.draw({ rows: H, cols: T, data }, scale);
      wrap.append(legend(scale, GATES.has(what) ? t("rnn.gateLegend") : t("legend.signed")));
      seqBox.append(wrap);
    }
  }

  /** The probabilities (from the API's softmax) of the character after the last one read. */
  function showNext(steps) {
    let probs = null;
    for (const step of steps) for (const tensor of step.tensors || []) if (tensor.name === "loss.probs") probs = tensor;
    nextBox.innerHTML = "";
    if (!probs) return;
    const [, T, K] = probs.shape;
    const last = Array.from(probs.data.subarray((T - 1) * K, T * K));
    const order = last.map((p, k) => k).sort((a, b) => last[b] - last[a]).slice(0, 5);
    for (const k of order) {
      nextBox.append(el("li", { "data-char": classes[k] ?? String(k) },
        el("span", { class: "cls", text: JSON.stringify(classes[k] ?? String(k)) }),
        el("span", { class: "bar", style: `width:${Math.round(last[k] * 100)}%` }),
        el("span", { class: "p", text: format(last[k]) })));
    }
    promptBox.dataset.best = classes[order[0]] ?? "";
  }

  async function readPrompt() {
    try {
      clearError(root);
      const [T, D] = session.network.input_shape;
      const text = Array.from(promptIn.value);
      if (!text.length || text.length > T) throw new Error(t("rnn.promptLength", { T }));
      const unknown = text.find((ch) => !classes.includes(ch));
      if (unknown !== undefined) throw new Error(t("rnn.unknownChar", { c: unknown, chars: classes.join("") }));
      // one-hot rows, the prompt at the end (earlier steps read nothing)
      const rows = Array.from({ length: T }, () => new Array(D).fill(0));
      text.forEach((ch, k) => (rows[T - text.length + k][classes.indexOf(ch)] = 1));
      await sessions.setInput(session.id, { array: [rows] });
      player.reset();
      cellBox.innerHTML = "";
      store.set({ step: -1 });
      const res = await sessions.steps(session.id, { until: "loss" });
      drawSequence(res.steps);
      showNext(res.steps);
      promptBox.dataset.read = promptIn.value;
    } catch (err) {
      showError(root, err);
    }
  }
  readBtn.addEventListener("click", readPrompt);
  promptIn.addEventListener("keydown", (e) => e.key === "Enter" && readPrompt());

  /** x_t, h_t and the outputs of sample 0 as cells in a row: the network unrolled. */
  function drawUnrolled(steps) {
    unrollRow.innerHTML = "";
    const all = new Map();
    for (const step of steps) for (const tensor of step.tensors || []) all.set(tensor.name, tensor);
    const rec = session.network.layers[0].name;
    const head = session.network.layers[1];
    const perStep = head.type !== "dense_last";
    const out = all.get("head.out");
    const label = (row) => {
      if (row.length === 1) return format(row[0]);
      let best = 0;
      row.forEach((v, k) => (best = v > row[best] ? k : best));
      return row[best] === 0 ? "·" : classes[best] ?? String(best);
    };
    const T = session.network.input_shape[0];
    unrollBox.dataset.head = head.type;
    unrollBox.dataset.preset = session.preset;
    for (let k = 0; k < T; k++) {
      const x = all.get(`${rec}.t${k}.x`) || all.get(`${rec}.fwd.t${k}.x`);
      const h = all.get(`${rec}.t${k}.h`) || all.get(`${rec}.fwd.t${k}.h`);
      const hRow = h ? rowsOf(h).data : [];
      let y = "";
      if (out && perStep) y = label(plane(out, [0]).data.subarray(k * out.shape[2], (k + 1) * out.shape[2]));
      else if (out && k === T - 1) y = label(rowsOf(out).data);
      const shown = Array.from(hRow.slice(0, 2)).map(format).join(" ");
      unrollRow.append(el("div", { class: "unroll-step", "data-t": String(k) },
        el("span", { class: `unroll-y${y ? "" : " empty"}`, text: y ? `y${k} ${y}` : "" }),
        el("span", { class: "unroll-h", title: Array.from(hRow).map(format).join(", ") },
          el("b", { text: `h${k}` }), el("small", { text: `${shown}${hRow.length > 2 ? " …" : ""}` })),
        el("span", { class: "unroll-x", text: x ? `x${k} ${label(rowsOf(x).data)}` : "" })));
    }
  }

  async function show(i) {
    try {
      clearError(root);
      if (i < 0) return;
      const cur = await sessions.get(session.id);
      let step;
      if (i >= cur.cursor) {
        const res = await sessions.steps(session.id, { count: i - cur.cursor + 1 });
        step = res.steps[res.steps.length - 1];
      } else {
        step = (await sessions.step(session.id, i));
      }
      caption.show(step);
      drawStep(step);
      root.dataset.step = String(i);
      root.dataset.phase = step.phase;
      store.set({ step: i });
    } catch (err) {
      showError(root, err);
    }
  }

  /** One step's vectors (sample 0), each with its numbers; scalars as text. */
  function drawStep(step) {
    cellBox.innerHTML = "";
    cellBox.append(el("h3", { text: step.t === null || step.t === undefined ? step.layer : t("rnn.timeStep", { t: step.t }) }));
    const scalars = el("p", { class: "scalars" });
    for (const tensor of step.tensors || []) {
      if (tensor.shape.length <= 1 && tensor.size <= 4) {
        scalars.append(el("span", { class: "scalar", "data-tensor": tensor.name }, el("code", { text: tensor.name }),
          ` = ${Array.from(tensor.data).map(format).join(", ")}  `));
        continue;
      }
      if (tensor.shape.length < 2 || tensor.shape.length > 3) continue;
      const m = STEP_NAME.exec(tensor.name);
      const what = m ? m[3] : "";
      const p = rowsOf(tensor);
      if (p.rows * p.cols > 4096) continue;
      const box = el("div", { class: `rnn-vector role-${tensor.role}`, "data-tensor": tensor.name },
        el("h4", {}, el("code", { text: tensor.name }), el("span", { class: "muted", text: `  ${tensor.shape.join("×")}` })));
      const scale = scaleFor({ ...tensor, role: GATES.has(what) ? "gate" : tensor.role }, p.data);
      const map = new Heatmap(box, { name: tensor.name, cell: p.rows === 1 ? 34 : 12, maxPx: 900 });
      map.draw(p, scale);
      if (EXPLAINABLE.test(tensor.name)) {
        box.classList.add("clickable");
        map.onClick = (r, c) => explain(tensor.name, [0, c]);
      }
      cellBox.append(box);
    }
    if (scalars.childNodes.length) cellBox.append(scalars);
  }

  async function explain(name, index) {
    try {
      const exp = await sessions.explain(session.id, name, index);
      panel.show(exp, `${name}[${index.join(",")}]`);
      if (exp.activation) {
        const a = exp.activation;
        const total = panel.el.querySelector(".total");
        total.textContent = `${t("explain.sum")} z = ${format(a.z)};  ${a.fn}(z) = ${format(exp.total)}`;
        total.after(el("p", { class: "activation", "data-fn": a.fn, text: `${t("rnn.activation")}: ${a.formula}` }));
      }
    } catch (err) {
      showError(root, err);
    }
  }

  // --- gradients ---------------------------------------------------------------------
  let lstmNorms = null;
  let gradSession = null;
  let gradTimer = null;
  let gradSeq = 0;

  async function norms(body) {
    const made = await sessions.create(body);
    const res = await sessions.steps(made.id, { until: "update" });
    const out = { dh: [], dc: [], clip: {} };
    for (const step of res.steps) {
      for (const tensor of step.tensors || []) {
        const m = STEP_NAME.exec(tensor.name);
        if (m && (m[3] === "dh_norm" || m[3] === "dc_norm")) out[m[3].slice(0, 2)][Number(m[2])] = tensor.data[0];
        if (tensor.name.startsWith("clip.")) out.clip[tensor.name.slice(5)] = tensor.data[0];
      }
    }
    return { id: made.id, ...out };
  }

  async function drawGradients() {
    const seq = ++gradSeq;
    const st = store.get();
    const overrides = { scale: st.scale, nonlinearity: st.nl };
    if (st.clip) overrides.clip = 1;
    if (!lstmNorms) {
      lstmNorms = await norms({ preset: "memory-lstm" });
      sessions.remove(lstmNorms.id).catch(() => {});
    }
    const rnn = await norms({ preset: "vanishing-rnn", overrides });
    if (seq !== gradSeq) return sessions.remove(rnn.id).catch(() => {});
    if (gradSession) sessions.remove(gradSession).catch(() => {});
    gradSession = rnn.id;
    const values = { rnn: rnn.dh, lstm: lstmNorms.dh, lstmc: lstmNorms.dc };
    chart.layout(Math.min(760, gradBox.clientWidth || 640), 220);
    chart.setData(LINES.map((l) => ({ values: values[l.key], colour: l.colour, shape: l.shape })), { log: true });
    chart.draw(values.rnn.length - 1);
    keyBox.innerHTML = "";
    for (const l of LINES) {
      keyBox.append(el("li", {}, el("span", { class: "swatch", style: `background:${l.colour}` }), ` ${t(`rnn.line.${l.key}`)}`));
    }
    const first = rnn.dh[0];
    const last = rnn.dh[rnn.dh.length - 1];
    let info = t("rnn.ratio", { ratio: format(first / last), T: rnn.dh.length - 1 });
    if (rnn.clip.norm_before !== undefined) {
      info += `  ${t("rnn.clipped", { before: format(rnn.clip.norm_before), after: format(rnn.clip.norm_after) })}`;
    }
    gradInfo.textContent = info;
    chartBox.dataset.norms = JSON.stringify(rnn.dh.map((v) => Number(v.toPrecision(6))));
    chartBox.dataset.ratio = String(first / last);
    gradBox.dataset.ready = "1";
  }

  function gradientsLater() {
    clearTimeout(gradTimer);
    gradTimer = setTimeout(() => drawGradients().catch((e) => showError(root, e)), 200);
  }

  scaleIn.addEventListener("input", () => {
    scaleOut.textContent = format(Number(scaleIn.value));
    store.set({ scale: Number(scaleIn.value) });
    gradientsLater();
  });
  nlSel.addEventListener("change", () => (store.set({ nl: nlSel.value }), gradientsLater()));
  clipIn.addEventListener("change", () => (store.set({ clip: clipIn.checked }), gradientsLater()));
  presetSel.addEventListener("change", async () => {
    store.set({ preset: presetSel.value, step: -1 });
    syncProblem();
    await start().catch((e) => showError(root, e));
  });
  problemSel.addEventListener("change", async () => {
    if (!problemSel.value) return;
    presetSel.value = `seq-${problemSel.value}`;
    store.set({ preset: presetSel.value, step: -1 });
    await start().catch((e) => showError(root, e));
  });

  await start();
  await drawGradients();
});
