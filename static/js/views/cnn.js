// A whole CNN: one overview (every layer's feature maps, small, side by side, and the
// prediction; the player's layer lit up, a click opens a layer's detail), the player
// next to it, then the current step's maps and numbers (forward, loss, backward with
// delta maps, update). A drawing has no label: its pass stops at the prediction (the
// session says needs_target) and the page asks what it is; the answer is the target
// the loss, backward and update use.
import { sessions, tensorsByName } from "../api.js";
import { format } from "../colors.js";
import { Overview } from "../cnn-overview.js";
import { captionBox, clearError, el, mount, oneAtATime, showError } from "../common.js";
import { t } from "../i18n.js";
import { registerCellOpener, registerSession } from "../live-hooks.js";
import { layerLabel, stepLabel } from "../names.js";
import { networkOpener } from "../open-network.js";
import { Player } from "../player.js";
import { presetTitle, rules } from "../rules.js";
import { Stage } from "../stage.js";
import { createStore } from "../store.js";
import { clearCell, givenCell, givenSession, restoreDrawing, shareDrawing } from "../share.js";
import { drawPad } from "../draw.js";
import { startOverrides, TRAIN_DEFAULTS, trainPanel, weightsChoice } from "../cnn-train.js";

// The preset the page opens on is the server's (rules.page_defaults).
const store = createStore({
  preset: rules.page_defaults.cnn,
  sample: -1,
  step: -1,
  ...TRAIN_DEFAULTS,
});

mount(async (root) => {
  const s = store.get();
  const controls = el("div", { class: "controls" });
  const presetSel = el(
    "select",
    { "aria-label": t("cnn.preset") },
    ...rules.pages.cnn.map((p) => el("option", { value: p, text: presetTitle(p) })),
  );
  presetSel.value = s.preset;
  const sampleIn = el("input", {
    type: "number",
    min: "0",
    step: "1",
    "aria-label": t("cnn.sample"),
    class: "sample",
  });
  controls.append(
    el("label", {}, `${t("cnn.preset")} `, presetSel),
    el("label", {}, `${t("cnn.sample")} `, sampleIn),
    weightsChoice(store, () => start().catch((e) => showError(root, e))),
  );
  root.append(controls);
  let opened = null; // "Open my network": its session, shown by the next start()
  // (under the walk: the overview and the player keep the first screen)
  const openerBox = el("div", { class: "cnn-open" });
  networkOpener(openerBox, {
    current: () => session?.id,
    opened: (made) => {
      opened = made;
      return start();
    },
  });

  // The drawing pad, then the overview (the current figure, present mode's too) with the
  // prediction as its last part; the player and the step's caption right under it.
  const top = el("div", { class: "cnn-top" });
  const padBox = el("div", { class: "pad-box" });
  top.append(padBox);
  const overview = new Overview(top, {
    onOpen: (layer, cell) => openLayer(layer, cell).catch((err) => showError(root, err)),
  });
  overview.el.dataset.figure = "";
  const predBox = el("div", {
    class: "prediction layer",
    "data-layer": "loss",
  });
  overview.row.append(predBox);
  root.append(top);
  const walk = el("section", { class: "walk", "aria-labelledby": "walk-title" });
  // (named for screen readers; on screen the player under the overview says it)
  walk.append(el("h2", { id: "walk-title", class: "visually-hidden", text: t("cnn.step") }));
  const playerBox = el("div", { class: "player-box" });
  walk.append(playerBox);
  const caption = captionBox(walk);
  // the step's maps and numbers: a layer's detail, kept in present mode (under the player)
  const stageBox = el("div", { class: "stage-box", "data-present-keep": "" });
  walk.append(stageBox);
  // Training (cnn-train.js): under the walk, so the first screen stays the overview
  const training = trainPanel(store, {
    session: () => session,
    className: (i) => className(i),
    drawing: () => pad.canvas.toDataURL("image/png"),
    lock: (on) => {
      for (const c of controls.querySelectorAll("select, input")) c.disabled = on;
    },
    reload: async () => {
      session = await sessions.get(session.id); // the trained weights, a fresh pass
      await afterInput();
    },
  });
  root.append(walk, training.box, openerBox);

  let session = null;
  // The steps of the current pass this page holds, by index: the forward and loss steps
  // come with the overview's response, later ones with the frame that first shows them,
  // so no frame asks for a step (or a tensor) twice.
  let held = new Map();
  let stage = null;
  registerSession(() => session?.id); // the live class (live-hooks.js)
  registerCellOpener((name, index) => stage?.explain(name, index));
  let player = null;
  let classes = [];
  let dataset = "";

  // A class's name in the page's language (the shapes' names are in the catalog).
  const className = (i) => {
    const name = classes[i] ?? String(i);
    const key = `cnn.class.${name}`;
    return t(key) === key ? name : t(key);
  };
  const planLabels = () => session.plan.map(stepLabel);
  const planPhases = () => session.plan.map((p) => p.phase);

  // A preset's session; a new one deletes the one it replaces (one run at a time).
  const start = oneAtATime(async () => {
    clearError(root);
    const body = { preset: store.get().preset };
    if (startOverrides(store)) body.overrides = startOverrides(store);
    if (store.get().sample >= 0)
      body.input = { sample: { split: "test", index: store.get().sample } };
    const mine = opened; // a network the student opened (open-network.js): the page's own
    opened = null;
    const given = mine ? null : await givenSession(() => session?.id); // ?session=<id>: a copy
    const next = mine ?? given ?? (await sessions.create(body));
    sessions.discard(session?.id);
    session = await restoreDrawing(next, pad.canvas); // a link's drawing, if it has one
    if (given?.preset) presetSel.value = given.preset;
    if (given?.preset) store.set({ preset: given.preset });
    root.dataset.sessionId = session.id;
    classes = session.dataset?.classes || [];
    dataset = session.dataset?.name || "";
    sampleIn.max = String((session.dataset?.test || 1) - 1);
    sampleIn.value = session.input.source === "sample" ? String(session.input.index ?? 0) : "";
    stageBox.innerHTML = "";
    clearCell(); // the old pass's explanation went with its stage
    stage = new Stage(stageBox, { sessionId: session.id });
    if (player) player.destroy();
    const plan = session.plan;
    player = new Player(playerBox, {
      count: plan.length,
      labels: planLabels(),
      phases: planPhases(),
      onFrame: show,
    });
    await refreshOverview();
    training.reset();
    const want = Math.min(store.get().step, plan.length - 1);
    if (want >= 0) await player.go(want);
  });

  // Run the forward pass and the loss of a fresh pass (a new session, input or target)
  // in one request and draw every layer's output from it; its steps are kept for the
  // player's frames. Without a target the loss step only predicts: no loss.target.
  async function refreshOverview() {
    const layers = session.network.layers;
    const first = `${layers[0].name}.in`;
    const res = await sessions.steps(session.id, { until: "loss" });
    held = new Map(res.steps.map((s) => [s.index, s]));
    const byName = tensorsByName(res);
    const target = session.needs_target ? null : byName["loss.target"].data[0];
    const t0 = performance.now();
    // Every layer's output, small (a flatten's is its input's numbers: a head only).
    overview.draw([
      { layer: "input", code: first, label: t("present.cnn.input"), tensor: byName[first] },
      ...layers.map((l) => ({
        layer: l.name,
        code: l.name,
        label: layerLabel(l.name),
        tensor: l.type === "flatten" ? null : byName[`${l.name}.out`],
      })),
    ]);
    showPrediction(byName["loss.probs"], target);
    root.dataset.overviewMs = (performance.now() - t0).toFixed(2);
  }

  /** The step that shows `layer` ("input" is the first layer's, "loss" the loss): the
   * forward one for a clicked cell (it holds the layer's output), else the one in the
   * player's current phase if there is one (backward through it, its update). */
  function stepOf(layer, cell) {
    const plan = session.plan;
    const name = layer === "input" ? plan[0].layer : layer;
    const first = plan.findIndex((p) => p.layer === name); // its forward step (or the loss)
    if (cell) return first;
    const here = plan[player.heading]?.phase;
    const same = plan.findIndex((p) => p.layer === name && p.phase === here);
    return same >= 0 ? same : first;
  }

  /** A layer's detail: the player goes to its step (the stage draws its maps and
   * numbers); a clicked cell is explained there too. */
  async function openLayer(layer, cell = null) {
    const i = stepOf(layer, cell);
    if (i < 0) return;
    if (player.heading !== i) await player.go(i);
    if (cell) await stage.explain(cell.name, cell.index);
  }

  /** The probabilities, and the label: the sample's, the student's answer, or (a
   * drawing without one) the question that asks for it. */
  function showPrediction(probs, label) {
    predBox.innerHTML = "";
    predBox.append(el("h3", {}, overview.head("loss", t("cnn.prediction"))));
    let best = 0;
    probs.data.forEach((p, i) => {
      best = p > probs.data[best] ? i : best;
    });
    const list = el("ol", { class: "bars" });
    probs.data.forEach((p, i) => {
      const name = className(i);
      const bar = el("span", { class: "bar", style: `width:${Math.round(p * 100)}%` });
      list.append(
        el(
          "li",
          { class: i === best ? "best" : "", "data-class": String(i) },
          el("span", { class: "cls", text: name }),
          bar,
          el("span", { class: "p", text: format(p) }),
        ),
      );
    });
    predBox.append(list);
    predBox.dataset.predicted = String(best);
    predBox.dataset.label = label === null ? "" : String(label);
    if (label === null) return predBox.append(askLabel(probs.data.length));
    const given = session.input.target_from === "request" ? ` (${t("cnn.yourAnswer")})` : "";
    predBox.append(
      el("p", { class: "muted label", text: `${t("cnn.label")}: ${className(label)}${given}` }),
    );
  }

  /** "Which digit did you draw?": one button per class (the names come from the
   * server); the answer becomes the input's target and the pass runs against it. */
  function askLabel(k) {
    const key = `cnn.ask.${dataset}`;
    const box = el(
      "div",
      { class: "ask-label", role: "group", "aria-labelledby": "ask-label-q" },
      el("p", {
        class: "question",
        id: "ask-label-q",
        text: t(key) === key ? t("cnn.ask") : t(key),
      }),
      el("p", { class: "muted", text: t("cnn.askWhy") }),
    );
    const row = el("div", { class: "row answers" });
    for (let i = 0; i < k; i++) {
      row.append(
        el("button", {
          type: "button",
          "data-class": String(i),
          text: className(i),
          onclick: () => answer(i).catch((err) => showError(root, err)),
        }),
      );
    }
    box.append(row);
    return box;
  }

  async function answer(label) {
    clearError(root);
    session = await sessions.setTarget(session.id, label);
    await afterInput();
    // Straight to the loss against the answer; backward and update follow with →.
    await player.go(session.plan.findIndex((p) => p.phase === "loss"));
  }

  async function show(i) {
    try {
      clearError(root);
      overview.light(session.plan[i]?.layer ?? null, session.plan[i]?.phase ?? null);
      if (i < 0) return;
      const sid = session.id;
      const step = held.get(i) ?? (await sessions.stepAt(sid, i));
      if (sid === session.id) held.set(i, step); // not a late reply from an old session
      caption.show(step);
      const ms = stage.show(step.tensors, { skip: [/\.partial$/] });
      noteOwnScales(step.tensors);
      root.dataset.renderMs = ms.toFixed(2);
      root.dataset.step = String(i);
      store.set({ step: i });
    } catch (err) {
      showError(root, err);
    }
  }

  /** Under each update's change map: it is coloured on its own scale, not the weights'
   * (a change of 1e-5 on weights of 1 would look empty). The stage colours every
   * tensor by its own min/max; this says so and gives both scales' ends. */
  function noteOwnScales(tensors) {
    const ends = (x) => (x ? Math.max(Math.abs(x.min ?? 0), Math.abs(x.max ?? 0)) : NaN);
    for (const tensor of tensors) {
      if (!tensor.name.endsWith(".change")) continue;
      const box = stage.maps.querySelector(`.tensor[data-tensor="${tensor.name}"]`);
      if (!box) continue;
      const max = ends(tensor);
      const before = ends(
        tensors.find((x) => x.name === tensor.name.replace(/\.change$/, ".before")),
      );
      box.append(
        el("p", {
          class: "scale-note",
          "data-max": String(max),
          text: t("cnn.changeScale", { max: format(max), before: format(before) }),
        }),
      );
    }
  }

  presetSel.addEventListener("change", async () => {
    store.set({ preset: presetSel.value, sample: -1, step: -1 });
    await start().catch((e) => showError(root, e));
  });
  sampleIn.addEventListener("change", async () => {
    try {
      store.set({ sample: Number(sampleIn.value), step: -1 });
      session = await sessions.setInput(session.id, {
        sample: { split: "test", index: Number(sampleIn.value) },
      });
      await afterInput();
    } catch (err) {
      showError(root, err);
    }
  });

  // A new input or target starts a new pass, whose plan may be shorter (no target: it
  // ends with the prediction) or longer again (a target given).
  async function afterInput() {
    player.reset();
    overview.light(null, null);
    player.setCount(session.plan.length, planLabels(), planPhases());
    stage.show([]);
    await refreshOverview();
  }

  const pad = drawPad(padBox, async (png) => {
    try {
      store.set({ sample: -1, step: -1 });
      session = await sessions.setInput(session.id, { image: { png, invert: false } });
      sampleIn.value = ""; // the input is the drawing now, no test image
      await afterInput();
    } catch (err) {
      showError(root, err);
    }
  });

  shareDrawing(() => session);
  await start();
  // The explanation a copied link had open: the step's, or an overview map's (its layer
  // opens first).
  const cell = givenCell();
  if (!cell) return;
  const lane = overview.el.querySelector(`[data-tensor="${CSS.escape(cell.tensor)}"]`);
  if (lane && !stage.tensors.has(cell.tensor))
    await openLayer(lane.closest(".layer").dataset.layer, { name: cell.tensor, index: cell.index });
  else await stage?.explain(cell.tensor, cell.index);
});
