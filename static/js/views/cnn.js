// A whole CNN: overview of every layer's feature maps, the prediction, then the
// pass step by step (forward, loss, backward with delta maps, update). A drawing has
// no label: its pass stops at the prediction (the session says needs_target) and the
// page asks what it is; the answer is the target the loss, backward and update use.
import { sessions, tensorsByName } from "../api.js";
import { format } from "../colors.js";
import {
  captionBox,
  channelGrid,
  clearError,
  el,
  explainPanel,
  mount,
  oneAtATime,
  showError,
} from "../common.js";
import { t } from "../i18n.js";
import { Player } from "../player.js";
import { rules } from "../rules.js";
import { Stage } from "../stage.js";
import { createStore } from "../store.js";
import { drawPad } from "../draw.js";

// The preset the page opens on is the server's (rules.page_defaults).
const store = createStore({ preset: rules.page_defaults.cnn, sample: -1, step: -1 });

mount(async (root) => {
  const s = store.get();
  const controls = el("div", { class: "controls" });
  const presetSel = el(
    "select",
    { "aria-label": t("cnn.preset") },
    ...rules.pages.cnn.map((p) => el("option", { value: p, text: p })),
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
  );
  root.append(controls);

  const top = el("div", { class: "cnn-top" });
  const padBox = el("div", { class: "pad-box" });
  const predBox = el("div", { class: "prediction", "aria-live": "polite" });
  top.append(padBox, predBox);
  root.append(top);
  const overview = el("section", { class: "overview" }, el("h2", { text: t("cnn.overview") }));
  root.append(overview);
  const overviewPanel = explainPanel(overview);
  async function explainOverview(name, index) {
    try {
      overviewPanel.show(
        await sessions.explain(session.id, name, index),
        `${name}[${index.join(",")}]`,
      );
    } catch (err) {
      showError(root, err);
    }
  }
  const stepHead = el("h2", { text: t("cnn.step") });
  root.append(stepHead);
  const playerBox = el("div");
  root.append(playerBox);
  const caption = captionBox(root);
  const stageBox = el("div", { class: "stage-box" });
  root.append(stageBox);

  let session = null;
  // The steps of the current pass this page holds, by index: the forward and loss steps
  // come with the overview's response, later ones with the frame that first shows them,
  // so no frame asks for a step (or a tensor) twice.
  let held = new Map();
  let stage = null;
  let player = null;
  let classes = [];
  let dataset = "";

  // A class's name in the page's language (the shapes' names are in the catalog).
  const className = (i) => {
    const name = classes[i] ?? String(i);
    const key = `cnn.class.${name}`;
    return t(key) === key ? name : t(key);
  };
  const planLabels = () => session.plan.map((p) => `${t(`phase.${p.phase}`)} · ${p.layer}`);
  const planPhases = () => session.plan.map((p) => p.phase);

  // A preset's session; a new one deletes the one it replaces (one run at a time).
  const start = oneAtATime(async () => {
    clearError(root);
    const body = { preset: store.get().preset };
    if (store.get().sample >= 0)
      body.input = { sample: { split: "test", index: store.get().sample } };
    const next = await sessions.create(body);
    sessions.discard(session?.id);
    session = next;
    root.dataset.sessionId = session.id;
    classes = session.dataset?.classes || [];
    dataset = session.dataset?.name || "";
    sampleIn.max = String((session.dataset?.test || 1) - 1);
    sampleIn.value = String(session.input.index ?? 0);
    stageBox.innerHTML = "";
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
    const want = Math.min(store.get().step, plan.length - 1);
    if (want >= 0) await player.go(want);
  });

  // Run the forward pass and the loss of a fresh pass (a new session, input or target)
  // in one request and draw every layer's output from it; its steps are kept for the
  // player's frames. Without a target the loss step only predicts: no loss.target.
  async function refreshOverview() {
    const layers = session.network.layers.filter((l) => !["flatten"].includes(l.type));
    const names = ["conv1.in", ...layers.map((l) => `${l.name}.out`), "loss.probs"];
    if (!session.needs_target) names.push("loss.target");
    const res = await sessions.steps(session.id, { until: "loss" });
    held = new Map(res.steps.map((s) => [s.index, s]));
    const byName = tensorsByName(res);
    const got = names.map((n) => byName[n]);
    const target = session.needs_target ? null : got.pop().data[0];
    const t0 = performance.now();
    overview.querySelectorAll(".channel-grid").forEach((n) => {
      n.remove();
    });
    // Every overview map is clickable: its explanation shows right under the overview.
    const onClick = (name) => (index) => explainOverview(name, index);
    channelGrid(overview, got[0], { label: "input", maxPx: 90, onClick: onClick(got[0].name) });
    layers.forEach((layer, i) => {
      channelGrid(overview, got[i + 1], {
        label: `${layer.name} (${layer.type})`,
        maxPx: 70,
        onClick: onClick(got[i + 1].name),
      });
    });
    overview.append(overviewPanel.el);
    showPrediction(got[got.length - 1], target);
    root.dataset.overviewMs = (performance.now() - t0).toFixed(2);
  }

  /** The probabilities, and the label: the sample's, the student's answer, or (a
   * drawing without one) the question that asks for it. */
  function showPrediction(probs, label) {
    predBox.innerHTML = "";
    predBox.append(el("h3", { text: t("cnn.prediction") }));
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
    player.setCount(session.plan.length, planLabels(), planPhases());
    stage.show([]);
    await refreshOverview();
  }

  drawPad(padBox, async (png) => {
    try {
      store.set({ sample: -1, step: -1 });
      session = await sessions.setInput(session.id, { image: { png, invert: false } });
      sampleIn.value = ""; // the input is the drawing now, no test image
      await afterInput();
    } catch (err) {
      showError(root, err);
    }
  });

  await start();
});
