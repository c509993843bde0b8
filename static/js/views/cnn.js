// A whole CNN: overview of every layer's feature maps, the prediction, then the
// pass step by step (forward, loss, backward with delta maps, update).
import { decodeTensor, sessions } from "../api.js";
import { format } from "../colors.js";
import { captionBox, channelGrid, clearError, el, mount, showError } from "../common.js";
import { pick, t } from "../i18n.js";
import { Player } from "../player.js";
import { Stage } from "../stage.js";
import { createStore } from "../store.js";
import { drawPad } from "../draw.js";

const store = createStore({ preset: "digits-cnn", sample: -1, step: -1 });

mount(async (root) => {
  const s = store.get();
  const controls = el("div", { class: "controls" });
  const presetSel = el("select", { "aria-label": t("cnn.preset") },
    ...["digits-cnn", "shapes-cnn"].map((p) => el("option", { value: p, text: p })));
  presetSel.value = s.preset;
  const sampleIn = el("input", { type: "number", min: "0", step: "1", "aria-label": t("cnn.sample"), class: "sample" });
  controls.append(el("label", {}, `${t("cnn.preset")} `, presetSel), el("label", {}, `${t("cnn.sample")} `, sampleIn));
  root.append(controls);

  const top = el("div", { class: "cnn-top" });
  const padBox = el("div", { class: "pad-box" });
  const predBox = el("div", { class: "prediction", "aria-live": "polite" });
  top.append(padBox, predBox);
  root.append(top);
  const overview = el("section", { class: "overview" }, el("h2", { text: t("cnn.overview") }));
  root.append(overview);
  const stepHead = el("h2", { text: t("cnn.step") });
  root.append(stepHead);
  const playerBox = el("div");
  root.append(playerBox);
  const caption = captionBox(root);
  const stageBox = el("div", { class: "stage-box" });
  root.append(stageBox);

  let session = null;
  let stage = null;
  let player = null;
  let classes = [];

  async function start() {
    clearError(root);
    const body = { preset: store.get().preset };
    if (store.get().sample >= 0) body.input = { sample: { split: "test", index: store.get().sample } };
    session = await sessions.create(body);
    const detail = await (await fetch(`/api/presets/${body.preset}`)).json();
    classes = detail.dataset ? detail.dataset.classes : [];
    sampleIn.max = String((detail.dataset?.test || 1) - 1);
    sampleIn.value = String(session.input.index ?? 0);
    stageBox.innerHTML = "";
    const layers = session.network.layers;
    const beforeDense = layers.filter((l, k) => layers[k + 1]?.type === "dense" &&
      ["relu", "leaky_relu", "sigmoid", "tanh"].includes(l.type)).map((l) => `${l.name}.dx`);
    stage = new Stage(stageBox, { sessionId: session.id, extraExplainable: new Set(beforeDense) });
    if (player) player.destroy();
    const plan = session.plan;
    player = new Player(playerBox, {
      count: plan.length,
      labels: plan.map((p) => `${p.phase} · ${p.layer}`),
      phases: plan.map((p) => p.phase),
      onFrame: show,
    });
    await refreshOverview();
    const want = Math.min(store.get().step, plan.length - 1);
    if (want >= 0) await player.go(want);
  }

  // Run the forward pass and the loss (if not yet run) and draw every layer's output.
  async function refreshOverview() {
    const cur = await sessions.get(session.id);
    if (cur.cursor < session.plan.findIndex((p) => p.phase === "backward")) {
      await sessions.steps(session.id, { until: "loss" });
    }
    const layers = session.network.layers.filter((l) => !["flatten"].includes(l.type));
    const names = ["conv1.in", ...layers.map((l) => `${l.name}.out`), "loss.probs", "loss.target"];
    const got = await Promise.all(names.map((n) => sessions.tensor(session.id, n)));
    const t0 = performance.now();
    overview.querySelectorAll(".channel-grid").forEach((n) => n.remove());
    channelGrid(overview, got[0], { label: "input", maxPx: 90 });
    layers.forEach((layer, i) => channelGrid(overview, got[i + 1], { label: `${layer.name} (${layer.type})`, maxPx: 70 }));
    showPrediction(got[got.length - 2], got[got.length - 1].data[0]);
    root.dataset.overviewMs = (performance.now() - t0).toFixed(2);
  }

  function showPrediction(probs, label) {
    predBox.innerHTML = "";
    predBox.append(el("h3", { text: t("cnn.prediction") }));
    let best = 0;
    probs.data.forEach((p, i) => (best = p > probs.data[best] ? i : best));
    const list = el("ol", { class: "bars" });
    probs.data.forEach((p, i) => {
      const name = classes[i] ?? String(i);
      const bar = el("span", { class: "bar", style: `width:${Math.round(p * 100)}%` });
      list.append(el("li", { class: i === best ? "best" : "", "data-class": String(i) },
        el("span", { class: "cls", text: name }), bar, el("span", { class: "p", text: format(p) })));
    });
    predBox.append(list, el("p", { class: "muted", text: `${t("cnn.label")}: ${classes[label] ?? label}` }));
    predBox.dataset.predicted = String(best);
  }

  async function show(i) {
    try {
      clearError(root);
      if (i < 0) return;
      const step = await sessions.stepAt(session.id, i);
      caption.show(step);
      const ms = stage.show(step.tensors, { skip: [/\.partial$/] });
      root.dataset.renderMs = ms.toFixed(2);
      root.dataset.step = String(i);
      store.set({ step: i });
    } catch (err) {
      showError(root, err);
    }
  }

  presetSel.addEventListener("change", async () => {
    store.set({ preset: presetSel.value, sample: -1, step: -1 });
    await start().catch((e) => showError(root, e));
  });
  sampleIn.addEventListener("change", async () => {
    try {
      store.set({ sample: Number(sampleIn.value), step: -1 });
      await sessions.setInput(session.id, { sample: { split: "test", index: Number(sampleIn.value) } });
      await afterInput();
    } catch (err) {
      showError(root, err);
    }
  });

  async function afterInput() {
    player.reset();
    stage.show([]);
    await refreshOverview();
  }

  drawPad(padBox, async (png) => {
    try {
      store.set({ sample: -1, step: -1 });
      await sessions.setInput(session.id, { image: { png, invert: false } });
      await afterInput();
    } catch (err) {
      showError(root, err);
    }
  });

  await start();
});
