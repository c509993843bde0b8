// BP (fully connected) networks: build a network on a dataset, walk one pass
// (forward values, the loss, backward deltas, the update), train it with the
// decision boundary redrawn, and train several learning rates side by side.
// Every number comes from the API (tensors, boundary, metrics, compare); this
// view builds the network and wires the panels (bp-diagram, bp-train, bp-compare).
import { api, sessions } from "../api.js";
import { comparePanel } from "../bp-compare.js";
import { passPanel } from "../bp-diagram.js";
import { trainPanel } from "../bp-train.js";
import { clearError, el, mount, showError } from "../common.js";
import { t } from "../i18n.js";
import { Player } from "../player.js";
import { rules } from "../rules.js";
import { createStore } from "../store.js";

// The choices, their defaults and the caps are the server's (rules.bp: the request
// schema and the limits max_bp_layers, max_bp_neurons); each choice's label is the
// catalog key named after it (bp.data.<dataset>, bp.loss.<loss>, lab.opt.<optimizer>).
const { datasets, activations, losses, optimizers, max_layers: maxLayers } = rules.bp;
const maxNeurons = rules.bp.max_neurons;
const lrOk = (lr) => lr > rules.bp.lr.gt && lr <= rules.bp.lr.le;
const defaults = rules.bp.defaults; // {dataset, noise, activation, loss, optimizer}: the API's

const store = createStore({
  dataset: defaults.dataset,
  noise: defaults.noise,
  hidden: "6",
  activation: defaults.activation,
  loss: defaults.loss,
  optimizer: defaults.optimizer,
  lr: 0.3,
  seed: 0,
  step: 0,
  lrs: "0.01_0.3_3_100",
  epochs: 20,
  cmpEpochs: 20,
});

function hiddenOf(text) {
  const sizes = String(text)
    .split("-")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 1);
  return sizes.slice(0, maxLayers).map((n) => Math.min(n, maxNeurons));
}

function config() {
  const st = store.get();
  return {
    dataset: st.dataset,
    noise: Number(st.noise),
    hidden: hiddenOf(st.hidden),
    activation: st.activation,
    loss: st.loss,
    optimizer: st.optimizer,
    lr: Number(st.lr),
    seed: st.seed,
  };
}

mount(async (root) => {
  // --- the builder ------------------------------------------------------------
  const datasetSel = el(
    "select",
    { "data-field": "dataset", "aria-label": t("bp.dataset") },
    ...datasets.map((d) => el("option", { value: d, text: t(`bp.data.${d}`) })),
  );
  const actSel = el(
    "select",
    { "data-field": "activation", "aria-label": t("bp.activation") },
    ...activations.map((a) => el("option", { value: a, text: a })),
  );
  const lossSel = el(
    "select",
    { "data-field": "loss", "aria-label": t("bp.loss"), title: t("bp.loss.help") },
    ...losses.map((v) => el("option", { value: v, text: t(`bp.loss.${v}`) })),
  );
  const optSel = el(
    "select",
    { "data-field": "optimizer", "aria-label": t("bp.optimizer"), title: t("bp.optimizer.help") },
    ...optimizers.map((o) => el("option", { value: o, text: t(`lab.opt.${o}`) })),
  );
  const lrIn = el("input", {
    type: "number",
    step: "any",
    min: "0",
    "data-field": "lr",
    "aria-label": t("bp.lr"),
  });
  const noiseIn = el("input", {
    type: "number",
    step: "0.05",
    min: "0",
    max: "1",
    "data-field": "noise",
    "aria-label": t("bp.noise"),
    title: t("bp.noise.help"),
  });
  const noiseLabel = el("label", {}, `${t("bp.noise")} `, noiseIn);
  const layersBox = el("div", { class: "bp-layers", "data-field": "hidden" });
  const addLayer = el("button", {
    type: "button",
    "data-act": "add-layer",
    text: t("bp.addLayer"),
  });
  const buildBtn = el("button", {
    type: "button",
    class: "primary",
    "data-act": "build",
    text: t("bp.build"),
  });
  const sizes = el("p", { class: "bp-sizes muted" });
  root.append(
    el(
      "div",
      { class: "controls" },
      el("label", {}, `${t("bp.dataset")} `, datasetSel),
      noiseLabel,
      el("label", {}, `${t("bp.activation")} `, actSel),
      el("label", {}, `${t("bp.loss")} `, lossSel),
      el("label", {}, `${t("bp.optimizer")} `, optSel),
      el("label", {}, `${t("bp.lr")} `, lrIn),
    ),
    el(
      "div",
      { class: "controls bp-hidden" },
      el("span", { text: `${t("bp.hidden")}: ` }),
      layersBox,
      addLayer,
      buildBtn,
    ),
    sizes,
  );

  function drawLayers() {
    const hidden = hiddenOf(store.get().hidden);
    layersBox.innerHTML = "";
    hidden.forEach((n, k) => {
      const change = (d) => {
        const next = [...hidden];
        next[k] = Math.max(1, Math.min(maxNeurons, n + d));
        store.set({ hidden: next.join("-") });
        drawLayers();
      };
      const remove = () => {
        store.set({ hidden: hidden.filter((_, i) => i !== k).join("-") });
        drawLayers();
      };
      layersBox.append(
        el(
          "span",
          { class: "bp-layer", "data-layer": String(k) },
          el("button", {
            type: "button",
            "data-act": "fewer",
            "aria-label": t("bp.fewer"),
            text: "−",
            onclick: () => change(-1),
          }),
          el("b", { text: String(n) }),
          el("button", {
            type: "button",
            "data-act": "more",
            "aria-label": t("bp.more"),
            text: "+",
            onclick: () => change(1),
          }),
          el("button", {
            type: "button",
            "data-act": "remove-layer",
            "aria-label": t("bp.removeLayer"),
            text: "✕",
            onclick: remove,
          }),
        ),
      );
    });
    if (!hidden.length) layersBox.append(el("span", { class: "muted", text: t("bp.noHidden") }));
    addLayer.disabled = hidden.length >= maxLayers;
  }

  // --- the pass, training, learning rates side by side --------------------------------
  const pass = passPanel(root);
  const playerBox = el("div");
  root.append(playerBox);
  const training = trainPanel(root, store);
  const comparing = comparePanel(root, config, store);

  let session = null;
  let steps = [];
  let player = null;
  let urlTimer = 0;

  /** Run the session's whole pass at once; the player reveals it step by step (from
   * step `start`, the URL's on the first build). */
  async function loadPass(start = 0) {
    const res = await sessions.steps(session.id, { count: session.plan.length });
    steps = res.steps;
    pass.draw(session);
    const labels = steps.map((s) => `${t(`phase.${s.phase}`)} · ${s.layer}`);
    if (player) player.destroy();
    player = new Player(playerBox, {
      count: steps.length,
      labels,
      phases: steps.map((s) => s.phase),
      onFrame: (frame) => {
        pass.show(steps, frame);
        // The URL follows the step a moment later (browsers throttle replaceState).
        clearTimeout(urlTimer);
        urlTimer = setTimeout(() => store.set({ step: frame }), 200);
      },
    });
    await player.go(Math.max(0, Math.min(steps.length - 1, Math.round(start) || 0)));
    root.dataset.pass = String(Number(root.dataset.pass || 0) + 1);
  }

  // --- building -------------------------------------------------------------------
  async function build(start = 0) {
    const cfg = config();
    buildBtn.disabled = true;
    try {
      const next = await api("POST", "/api/bp/sessions", cfg);
      sessions.discard(session?.id); // the network it replaces
      session = next;
      clearError(root);
      const d = session.dataset;
      sizes.textContent = t("bp.sizes", {
        features: d.features,
        classes: d.classes.length,
        train: d.train,
        test: d.test,
        hidden: cfg.hidden.join(", ") || "—",
      });
      training.reset(session);
      await loadPass(start);
      root.dataset.session = session.id;
      await training.evaluate(0);
      root.dataset.built = String(Number(root.dataset.built || 0) + 1);
    } finally {
      buildBtn.disabled = false;
    }
  }

  const lock = (on) => (buildBtn.disabled = comparing.cmpBtn.disabled = on);
  const train = () => training.train({ lock, reload: () => loadPass(0) });

  // --- wiring ---------------------------------------------------------------------------
  const guarded = (fn) => () => fn().catch((err) => showError(root, err));
  datasetSel.addEventListener("change", () => {
    store.set({ dataset: datasetSel.value });
    noiseLabel.hidden = datasetSel.value === "digits";
  });
  noiseIn.addEventListener("change", () => {
    const noise = Number(noiseIn.value);
    if (noiseIn.value !== "" && noise >= 0 && noise <= 1) store.set({ noise });
  });
  actSel.addEventListener("change", () => store.set({ activation: actSel.value }));
  lossSel.addEventListener("change", () => store.set({ loss: lossSel.value }));
  optSel.addEventListener("change", () => store.set({ optimizer: optSel.value }));
  lrIn.addEventListener("change", () => {
    const lr = Number(lrIn.value);
    if (lrOk(lr)) store.set({ lr });
  });
  addLayer.addEventListener("click", () => {
    const hidden = hiddenOf(store.get().hidden);
    if (hidden.length < maxLayers) store.set({ hidden: [...hidden, 4].join("-") });
    drawLayers();
  });
  buildBtn.addEventListener(
    "click",
    guarded(() => build(0)),
  );
  training.trainBtn.addEventListener("click", guarded(train));
  comparing.cmpBtn.addEventListener("click", guarded(comparing.compare));

  const st = store.get();
  // A value from the URL the server does not offer falls back to the server's default.
  if (!datasets.includes(st.dataset)) store.set({ dataset: defaults.dataset });
  if (!activations.includes(st.activation)) store.set({ activation: defaults.activation });
  if (!losses.includes(st.loss)) store.set({ loss: defaults.loss });
  if (!optimizers.includes(st.optimizer)) store.set({ optimizer: defaults.optimizer });
  if (!lrOk(st.lr)) store.set({ lr: 0.3 });
  if (!(st.noise >= 0 && st.noise <= 1)) store.set({ noise: defaults.noise });
  datasetSel.value = store.get().dataset;
  noiseIn.value = String(store.get().noise);
  noiseLabel.hidden = store.get().dataset === "digits";
  actSel.value = store.get().activation;
  lossSel.value = store.get().loss;
  optSel.value = store.get().optimizer;
  lrIn.value = String(store.get().lr);
  drawLayers();
  await build(store.get().step);
});
