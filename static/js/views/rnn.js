// Recurrent networks: the pass stepped one time step at a time (an LSTM cell's
// vectors with their numbers; click a gate, cell or hidden value for its
// arithmetic), the gates, c and h of the whole sequence as heatmaps (hidden
// units x time), and ||dL/dh_t|| over t for an RNN beside an LSTM with the RNN's
// recurrent weight scale, nonlinearity and clipping as controls. Every number
// comes from the API; this module only slices and draws, with its panels in
// rnn-sequence, rnn-prompt (characters), rnn-numbers (typed numbers), rnn-bilstm
// (both directions and their concatenation), lstm-cell (the LSTM cell as a picture),
// rnn-gradients, rnn-train and rnn-sweep (accuracy vs sequence length).
import { sessions } from "../api.js";
import { format, scaleFor } from "../colors.js";
import { captionBox, clearError, el, explainPanel, mount, showError } from "../common.js";
import { attachDownloads } from "../export.js";
import { Heatmap } from "../heatmap.js";
import { lstmCellPanel } from "../lstm-cell.js";
import { t } from "../i18n.js";
import { pickCell, registerCellOpener, registerSession } from "../live-hooks.js";
import { layerLabel, named, tensorLabel, tensorPart } from "../names.js";
import { networkOpener } from "../open-network.js";
import { Player } from "../player.js";
import { bilstmPanel, frameLabel, framesOf } from "../rnn-bilstm.js";
import { gradientsPanel } from "../rnn-gradients.js";
import { numbersPanel, readsNumbers } from "../rnn-numbers.js";
import { promptPanel } from "../rnn-prompt.js";
import { drawSequenceMaps, drawUnrolled } from "../rnn-sequence.js";
import { rowsOf } from "../rnn-shared.js";
import { sweepPanel } from "../rnn-sweep.js";
import { trainPanel } from "../rnn-train.js";
import { cellLabel, presetTitle, rules } from "../rules.js";
import { clearCell, givenCell, givenSession, noteCell } from "../share.js";
import { createStore } from "../store.js";

const PRESETS = rules.pages.rnn; // the recurrent presets, as the server lists them
// The sequence problem types: the presets named seq-<type> (one-to-many, ...).
const PROBLEMS = PRESETS.filter((p) => p.startsWith("seq-")).map((p) => p.slice(4));

const store = createStore({
  preset: rules.page_defaults.rnn,
  step: -1,
  scale: 1,
  nl: rules.rnn.default_nonlinearity,
  clip: false,
  epochs: 3,
  numbers: "",
  unit: 0, // the LSTM cell diagram's hidden unit (lstm-cell.js)
});

mount(async (root) => {
  const s = store.get();
  const controls = el("div", { class: "controls" });
  const presetSel = el(
    "select",
    { "aria-label": t("rnn.preset"), "data-control": "preset" },
    ...PRESETS.map((p) => el("option", { value: p, text: presetTitle(p) })),
  );
  presetSel.value = PRESETS.includes(s.preset) ? s.preset : rules.page_defaults.rnn;
  const problemSel = el(
    "select",
    { "aria-label": t("rnn.problem"), "data-control": "problem" },
    el("option", { value: "", text: "—" }),
    ...PROBLEMS.map((p) => el("option", { value: p, text: t(`rnn.problem.${p}`) })),
  );
  const syncProblem = () =>
    (problemSel.value = PROBLEMS.find((p) => store.get().preset === `seq-${p}`) || "");
  syncProblem();
  controls.append(
    el("label", {}, `${t("rnn.preset")} `, presetSel),
    el("label", {}, `${t("rnn.problem")} `, problemSel),
  );
  root.append(controls);
  // "Open my network": its session, in the preset's lesson (start shows it).
  networkOpener(root, { current: () => session?.id, opened: (made) => start(made) });

  // --- the network unrolled over time ------------------------------------------
  const unrollBox = el(
    "section",
    { class: "rnn-unrolled" },
    el("h2", { text: t("rnn.unrolled") }),
    el("p", { class: "muted", text: t("rnn.unrolledHint") }),
  );
  // it scrolls sideways: focusable, so the keyboard can scroll it too
  const unrollRow = el("div", {
    class: "unroll-row",
    role: "group",
    tabindex: "0",
    "aria-label": t("rnn.unrolled"),
  });
  unrollBox.append(unrollRow);
  root.append(unrollBox);

  // --- the character models: type a prompt, see the next character's probabilities ---
  const prompt = promptPanel(root, async (rows) => {
    // A typed prompt has no target: its pass ends with the prediction (a shorter plan).
    session = await sessions.setInput(session.id, { array: [rows] });
    frames = framesOf(session);
    player.reset();
    player.setCount(
      frames.length,
      frames.map(frameLabel),
      frames.map((f) => f.phase),
    );
    shownStep = null;
    cellBox.innerHTML = "";
    lstmCell.clear();
    store.set({ step: -1 });
    const res = await sessions.steps(session.id, { until: "loss" });
    hold(res.steps, true);
    drawSequence(res.steps);
    return res.steps;
  });

  // --- the sine models: type a number sequence, see each step's prediction ------------
  const numbers = numbersPanel(root, store, (made) => start(made));

  // --- the stepped walk ----------------------------------------------------------
  root.append(el("h2", { text: t("rnn.walk") }));
  const playerBox = el("div");
  root.append(playerBox);
  const caption = captionBox(root);
  const bilstm = bilstmPanel(root);
  // the LSTM cell as a picture: a number's click explains it as a map's cell does
  const lstmCell = lstmCellPanel(root, store, (name, index) => {
    const tensor = shownStep?.step.tensors?.find((x) => x.name === name);
    if (tensor) pickCell(name, index) || (tensor.explainable === true && explain(tensor, index));
  });
  const cellBox = el("section", { class: "rnn-cell", "data-figure": "" });
  root.append(cellBox);
  const panel = explainPanel(root);

  // --- the whole sequence ------------------------------------------------------------
  const seqBox = el(
    "section",
    { class: "rnn-sequence" },
    el("h2", { text: t("rnn.sequence") }),
    el("p", { class: "muted", text: t("rnn.sequenceHint") }),
  );
  root.append(seqBox);

  // --- backward through time, and the long-memory task ------------------------------
  const gradients = gradientsPanel(root, store);
  trainPanel(root, store);
  sweepPanel(root);

  let session = null;
  registerSession(() => session?.id); // the live class (live-hooks.js)
  registerCellOpener((name, index) => {
    const tensor = shownStep?.step.tensors?.find((x) => x.name === name);
    if (tensor) explain(tensor, index);
  });
  let player = null;
  let classes = [];
  let frames = [];
  let shownStep = null; // {k, step}: the plan step the frames are showing
  // The steps of this pass the page holds, by index, with their tensors: a frame draws
  // from them and asks the API only for a step it does not hold (each step's tensors
  // are sent once).
  let held = new Map();

  /** Keep `steps` (a new pass or input: forget the steps held before). */
  function hold(steps, fresh = false) {
    if (fresh) held = new Map();
    for (const step of steps) held.set(step.index, step);
  }

  /** The preset's session; a sine preset with typed numbers in the URL reads them. */
  async function makeSession() {
    const { preset, numbers: text } = store.get();
    if (text && readsNumbers(preset)) {
      try {
        return await sessions.create({ preset, input: { sequence: text } });
      } catch (err) {
        if (err.status !== 422) throw err; // only numbers the server refused are dropped
        showError(root, err);
        store.set({ numbers: "" });
        return sessions.create({ preset });
      }
    }
    return sessions.create({ preset });
  }

  /** Show a new session (`made`, or the preset's). */
  async function start(made = null) {
    clearError(root);
    const old = session;
    const given = made ? null : await givenSession(() => session?.id); // ?session=<id>: a copy
    session = made || given || (await makeSession());
    sessions.discard(old?.id);
    if (given?.preset && given.preset !== store.get().preset) {
      presetSel.value = given.preset;
      store.set({ preset: given.preset });
      syncProblem();
    }
    classes = session.dataset?.classes || [];
    frames = framesOf(session);
    shownStep = null;
    panel.clear(); // a new pass: the old explanation (and the class's cell) goes
    clearCell();
    if (player) player.destroy();
    player = new Player(playerBox, {
      count: frames.length,
      labels: frames.map(frameLabel),
      phases: frames.map((f) => f.phase),
      onFrame: show,
    });
    cellBox.innerHTML = "";
    lstmCell.clear();
    const chars = prompt.toggle(store.get().preset);
    numbers.show(store.get().preset);
    const sine = readsNumbers(store.get().preset);
    const res = await sessions.steps(session.id, { until: chars || sine ? "loss" : "forward" });
    hold(res.steps, true);
    drawSequence(res.steps);
    numbers.draw(res.steps, session);
    bilstm.setup(res.steps, session);
    bilstm.update(null);
    const asked = store.get().step; // a link's prompt, read next, starts a new pass
    if (chars) await prompt.show(session, classes, res.steps);
    const want = Math.min(asked, frames.length - 1);
    if (want >= 0) await player.go(want);
  }

  /** The network unrolled, and hidden units x time maps of each gate, c and h. */
  function drawSequence(steps) {
    drawUnrolled(unrollBox, unrollRow, steps, session, classes);
    drawSequenceMaps(seqBox, steps);
  }

  /** Frame i: a plan step (the concatenation's frames share one), drawn from the API's
   * tensors; data-render-ms is the drawing alone, not the wait for the API. */
  async function show(i) {
    try {
      clearError(root);
      if (i < 0) return;
      const f = frames[i];
      const fresh = !shownStep || shownStep.k !== f.index;
      const step = fresh ? held.get(f.index) || (await fetchStep(f.index)) : shownStep.step;
      const t0 = performance.now();
      if (fresh) {
        caption.show(step);
        drawStep(step);
        lstmCell.show(step, (err) => showError(root, err));
        shownStep = { k: f.index, step };
      }
      bilstm.update(f);
      numbers.cursor(step.t);
      root.dataset.renderMs = (performance.now() - t0).toFixed(2);
      root.dataset.step = String(i);
      root.dataset.phase = step.phase;
      store.set({ step: i });
    } catch (err) {
      showError(root, err);
    }
  }

  /** Step k of the pass, which the page does not hold yet: run to it if it has not run. */
  async function fetchStep(k) {
    const asked = session;
    const step = await sessions.stepAt(asked.id, k);
    if (asked === session) hold([step]); // not into a newer session's steps
    return step;
  }

  /** One step's vectors (sample 0), each with its numbers; scalars as text. */
  // The step's vector boxes, reused from step to step (by their place in the step's
  // tensor list, while the shape stays): building a canvas per vector per step was
  // most of a step's drawing time.
  const pool = [];
  function vectorBox(j, tensor, p) {
    let v = pool[j];
    if (!v || v.rows !== p.rows || v.cols !== p.cols) {
      const human = el("span", { class: "named named-full" });
      const short = el("span", { class: "named named-short" }); // present mode's: the part only
      const code = el("code", { class: "code-name" });
      const dims = el("span", { class: "muted" });
      const box = el("div", {}, el("h4", {}, human, short, " ", code, dims));
      const map = new Heatmap(box, { name: tensor.name, cell: p.rows === 1 ? 34 : 12, maxPx: 900 });
      v = pool[j] = { box, human, short, code, dims, map, rows: p.rows, cols: p.cols };
    }
    v.box.className = `rnn-vector role-${tensor.role}`;
    v.box.dataset.tensor = tensor.name;
    attachDownloads(v.box, () => [tensor]); // export.js: this step's tensor
    const human = tensorLabel(tensor.name, session.network); // names.js: label, then code
    v.human.textContent = human === tensor.name ? "" : human;
    v.short.textContent = tensorPart(tensor.name, session.network) ?? v.human.textContent;
    v.code.textContent = tensor.name;
    v.dims.textContent = `  ${tensor.shape.join("×")}${tensor.cell ? ` · ${t(tensor.cell)}` : ""}`;
    v.map.opts.name = tensor.name;
    v.map.el.dataset.tensor = tensor.name;
    v.map.overlay.setAttribute("aria-label", tensor.name);
    return v;
  }

  function drawStep(step) {
    const parts = [
      el("h3", {
        text:
          step.t === null || step.t === undefined
            ? layerLabel(step.layer, step.op, step.direction)
            : t("rnn.timeStep", { t: step.t }),
      }),
    ];
    const scalars = el("p", { class: "scalars" });
    let j = 0;
    for (const tensor of step.tensors || []) {
      const ok = tensor.explainable === true; // the server says whether it explains it
      // a live class's question may take the click (the cell is its answer)
      const ask = (index) => pickCell(tensor.name, index) || (ok && explain(tensor, index));
      if (tensor.shape.length <= 1 && tensor.size <= 4) {
        // Each number a button that asks the server where it comes from.
        const values = Array.from(tensor.data).map((v, k) =>
          el("button", {
            type: "button",
            class: "scalar-value",
            text: format(v),
            "aria-label": `${tensorLabel(tensor.name, session.network)} = ${format(v)}`,
            onclick: () => ask(tensor.shape.length ? [k] : []),
          }),
        );
        scalars.append(
          el(
            "span",
            { class: "scalar", "data-tensor": tensor.name },
            named(tensor.name, { network: session.network }),
            " = ",
            ...values,
            "  ",
          ),
        );
        continue;
      }
      if (tensor.shape.length < 2 || tensor.shape.length > 3) continue;
      const p = rowsOf(tensor);
      if (p.rows * p.cols > 4096) continue;
      const v = vectorBox(j++, tensor, p);
      v.map.draw(p, scaleFor(tensor, p.data)); // a gate's role gives it the 0..1 scale
      v.box.classList.toggle("clickable", ok);
      v.map.onClick = (r, c) => ask(tensor.shape.length === 3 ? [0, r, c] : [0, c]);
      parts.push(v.box);
    }
    if (scalars.childNodes.length) parts.push(scalars);
    cellBox.replaceChildren(...parts);
  }

  async function explain(tensor, index) {
    try {
      const exp = await sessions.explain(session.id, tensor.name, index);
      panel.show(exp, cellLabel(tensor, tensor.name, index));
      noteCell(tensor.name, index); // a copied link opens this explanation
    } catch (err) {
      showError(root, err);
    }
  }

  presetSel.addEventListener("change", async () => {
    const keep = readsNumbers(presetSel.value) ? store.get().numbers : "";
    store.set({ preset: presetSel.value, step: -1, numbers: keep });
    syncProblem();
    await start().catch((e) => showError(root, e));
  });
  problemSel.addEventListener("change", async () => {
    if (!problemSel.value) return;
    presetSel.value = `seq-${problemSel.value}`;
    store.set({ preset: presetSel.value, step: -1, numbers: "" });
    await start().catch((e) => showError(root, e));
  });

  await start();
  // The explanation a copied link had open (a cell of the step it shows).
  const cell = givenCell();
  const tensor = cell && shownStep?.step.tensors?.find((x) => x.name === cell.tensor);
  if (tensor) await explain(tensor, cell.index);
  await gradients.draw();
});
