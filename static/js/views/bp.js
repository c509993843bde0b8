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
import { createStore } from "../store.js";

const DATASETS = ["moons", "circles", "xor", "spiral", "blobs", "digits"];
const ACTIVATIONS = ["tanh", "relu", "leaky_relu", "sigmoid"];
const MAX_LAYERS = 4;
const MAX_NEURONS = 64;

const store = createStore({ dataset: "moons", hidden: "6", activation: "tanh", lr: 0.3, seed: 0 });

function hiddenOf(text) {
  const sizes = String(text).split("-").map(Number).filter((n) => Number.isInteger(n) && n >= 1);
  return sizes.slice(0, MAX_LAYERS).map((n) => Math.min(n, MAX_NEURONS));
}

function config() {
  const st = store.get();
  return { dataset: st.dataset, hidden: hiddenOf(st.hidden), activation: st.activation, lr: Number(st.lr),
    seed: st.seed };
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

  // --- the pass, training, learning rates side by side --------------------------------
  const pass = passPanel(root);
  const playerBox = el("div");
  root.append(playerBox);
  const training = trainPanel(root);
  const comparing = comparePanel(root, config);

  let session = null;
  let steps = [];
  let player = null;

  /** Run the session's whole pass at once; the player reveals it step by step. */
  async function loadPass() {
    const res = await sessions.steps(session.id, { count: session.plan.length });
    steps = res.steps;
    pass.draw(session);
    const labels = steps.map((s) => `${t(`bp.phase.${s.phase}`)} · ${s.layer}`);
    if (player) player.destroy();
    player = new Player(playerBox, { count: steps.length, labels, phases: steps.map((s) => s.phase),
      onFrame: (frame) => pass.show(steps, frame) });
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
      training.reset(session);
      await loadPass();
      root.dataset.session = session.id;
      await training.evaluate(0);
      root.dataset.built = String(Number(root.dataset.built || 0) + 1);
    } finally {
      buildBtn.disabled = false;
    }
  }

  const lock = (on) => (buildBtn.disabled = comparing.cmpBtn.disabled = on);
  const train = () => training.train({ lock, reload: loadPass });

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
  training.trainBtn.addEventListener("click", guarded(train));
  comparing.cmpBtn.addEventListener("click", guarded(comparing.compare));

  const st = store.get();
  if (!DATASETS.includes(st.dataset)) store.set({ dataset: "moons" });
  if (!ACTIVATIONS.includes(st.activation)) store.set({ activation: "tanh" });
  datasetSel.value = store.get().dataset;
  actSel.value = store.get().activation;
  lrIn.value = String(store.get().lr);
  drawLayers();
  await build();
});
