// BP (fully connected) networks: build a network on a dataset, walk one pass
// (forward values, the loss, backward deltas, the update), train it with the
// decision boundary redrawn, and train several learning rates side by side.
// Every number comes from the API (tensors, boundary, metrics, compare); this
// view builds the network and wires the panels (bp-diagram, bp-train, bp-compare).
// The URL holds the network BUILT (the form's changes join it with "Build network":
// rebuilding on every change would throw away the trained weights), so a link opens
// the network shown; a copied link of a trained network also carries a copy of its
// session (?session=<id>), which the page that opens it copies again to train its own.
import { api, sessions } from "../api.js";
import { comparePanel } from "../bp-compare.js";
import { passPanel } from "../bp-diagram.js";
import { allFine, inlineCheck, inRange } from "../bp-fields.js";
import { configOf, hiddenOf, refusalOf, urlOf } from "../bp-network.js";
import { trainPanel } from "../bp-train.js";
import { clearError, el, mount, showError } from "../common.js";
import { t } from "../i18n.js";
import { registerSession } from "../live-hooks.js";
import { fnLabel, stepLabel } from "../names.js";
import { networkOpener } from "../open-network.js";
import { Player } from "../player.js";
import { rules } from "../rules.js";
import { givenSession, keepOnReload } from "../share.js";
import { addToLink, createStore } from "../store.js";

// The choices, their defaults and the caps are the server's (rules.bp: the request
// schema and the limits max_bp_layers, max_bp_neurons); each choice's label is the
// catalog key named after it (bp.data.<dataset>, bp.loss.<loss>, lab.opt.<optimizer>).
const { datasets, activations, losses, optimizers, max_layers: maxLayers } = rules.bp;
const maxNeurons = rules.bp.max_neurons;
const lrOk = (lr) => !inRange("", rules.bp.lr)(String(lr));
const noiseOk = (noise) => !inRange("", rules.bp.noise)(String(noise));
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
  epochs: 0, // training stops after this many epochs; 0: when the student pauses it
  cmpEpochs: 20,
  cmp: false, // the learning rates were compared: a link shows the runs
});
/** The network built (the URL's). */
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
    ...activations.map((a) => el("option", { value: a, text: fnLabel(a) })),
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
    min: String(rules.bp.noise.ge),
    max: String(rules.bp.noise.le),
    "data-field": "noise",
    "aria-label": t("bp.noise"),
    title: t("bp.noise.help"),
  });
  const noiseLabel = el("label", {}, `${t("bp.noise")} `, noiseIn);
  const lrLabel = el("label", {}, `${t("bp.lr")} `, lrIn);
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
  const pendingNote = el("p", {
    class: "bp-pending notice",
    role: "status",
    text: t("bp.pending"),
  });
  pendingNote.hidden = true;
  const sizes = el("p", { class: "bp-sizes muted" });
  const openerBox = el("div", { class: "bp-open" });
  root.append(
    el(
      "div",
      { class: "controls" },
      el("label", {}, `${t("bp.dataset")} `, datasetSel),
      noiseLabel,
      el("label", {}, `${t("bp.activation")} `, actSel),
      el("label", {}, `${t("bp.loss")} `, lossSel),
      el("label", {}, `${t("bp.optimizer")} `, optSel),
      lrLabel,
    ),
    el(
      "div",
      { class: "controls bp-hidden" },
      el("span", { text: `${t("bp.hidden")}: ` }),
      layersBox,
      addLayer,
      buildBtn,
    ),
    openerBox,
    pendingNote,
    sizes,
  );
  // Out-of-range numbers are refused next to their field (the server's ranges).
  const checks = [
    inlineCheck(lrIn, lrLabel, inRange(t("bp.lr"), rules.bp.lr)),
    inlineCheck(noiseIn, noiseLabel, inRange(t("bp.noise"), rules.bp.noise)),
  ];

  // The form's hidden layers (the built ones are the URL's).
  let hidden = hiddenOf(store.get().hidden);
  let built = null; // the config of the network shown

  /** The form's settings (what "Build network" builds). */
  const formConfig = () => ({
    ...config(),
    dataset: datasetSel.value,
    noise: Number(noiseIn.value),
    hidden: [...hidden],
    activation: actSel.value,
    loss: lossSel.value,
    optimizer: optSel.value,
    lr: Number(lrIn.value),
  });

  /** Say whether the form differs from the network shown (Build applies it). */
  function markPending() {
    const pending = built !== null && JSON.stringify(formConfig()) !== JSON.stringify(built);
    pendingNote.hidden = !pending;
    if (pending) buildBtn.dataset.pending = "1";
    else delete buildBtn.dataset.pending;
  }

  /** The form shows `cfg`. */
  function fill(cfg) {
    datasetSel.value = cfg.dataset;
    noiseIn.value = String(cfg.noise);
    noiseLabel.hidden = cfg.dataset === "digits";
    actSel.value = cfg.activation;
    lossSel.value = cfg.loss;
    optSel.value = cfg.optimizer;
    lrIn.value = String(cfg.lr);
    hidden = [...cfg.hidden];
    for (const check of checks) check();
    drawLayers();
  }

  function drawLayers() {
    layersBox.innerHTML = "";
    hidden.forEach((n, k) => {
      const change = (d) => {
        hidden[k] = Math.max(1, Math.min(maxNeurons, n + d));
        drawLayers();
      };
      const remove = () => {
        hidden = hidden.filter((_, i) => i !== k);
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
    markPending();
  }

  // --- the pass, training, learning rates side by side --------------------------------
  const pass = passPanel(root);
  const playerBox = el("div");
  root.append(playerBox);
  const training = trainPanel(root, store);
  const comparing = comparePanel(root, config, store);

  let session = null;
  registerSession(() => session?.id); // the live class (live-hooks.js)
  let steps = [];
  let player = null;
  let urlTimer = 0;

  /** Run the session's whole pass at once; the player reveals it step by step (from
   * step `start`, the URL's on the first build). */
  async function loadPass(start = 0) {
    const res = await sessions.steps(session.id, { count: session.plan.length });
    steps = res.steps;
    pass.draw(session);
    const labels = steps.map(stepLabel);
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
  /** Show session `next` (the network of `cfg`), from step `start`; the URL follows.
   * `trained`: its weights are not a fresh build's (a link's or a file's), so a copied
   * link carries them. */
  async function show(next, cfg, start = 0, trained = false) {
    sessions.discard(session?.id); // the network it replaces
    session = next;
    built = cfg;
    store.set(urlOf(cfg));
    clearError(root);
    const d = session.dataset;
    sizes.textContent = t("bp.sizes", {
      features: d.features,
      classes: d.classes.length,
      train: d.train,
      test: d.test,
      hidden: cfg.hidden.join(", ") || "—",
    });
    training.reset(session, trained);
    markPending();
    await loadPass(start);
    root.dataset.session = session.id;
    await training.evaluate(0);
    root.dataset.built = String(Number(root.dataset.built || 0) + 1);
  }

  /** Build the form's network (nothing is sent while a field is refused). */
  async function build(start = 0) {
    if (!allFine(checks, [lrIn, noiseIn])) return;
    const cfg = formConfig();
    buildBtn.disabled = true;
    try {
      await show(await api("POST", "/api/bp/sessions", cfg), cfg, start);
    } finally {
      buildBtn.disabled = false;
    }
  }

  /** A session made elsewhere (a shared link's copy, a file's network): the form and
   * the URL take its network's settings. */
  async function adopt(next, start = 0) {
    const cfg = configOf(next, formConfig());
    fill(cfg);
    await show(next, cfg, start, true);
  }

  // "Open my network": a fully connected network's .npz, on this page's dataset.
  const opener = networkOpener(openerBox, {
    current: () => session?.id,
    opened: (next) => adopt(next),
    refuse: (next, name) => refusalOf(next.network, name), // bp-network.js: the limits
  });

  // While it trains, the network stays: no build, comparison or file opened.
  const lock = (on) => {
    buildBtn.disabled = comparing.cmpBtn.disabled = on;
    opener.querySelector("input").disabled = on;
  };
  const train = () => training.train({ lock, reload: () => loadPass(0) });

  // A copied link carries the trained weights: a copy of this session, made when the
  // link is copied (the page that opens it makes its own copy of that one).
  addToLink(async (how = {}) => {
    if (how.reopen && session) return keepOnReload(session.id); // this tab goes on: no copy
    if (!session || !training.trained()) return { session: null };
    const copy = await api("POST", "/api/sessions", { copy_of: session.id });
    return { session: copy.id };
  });

  // --- wiring ---------------------------------------------------------------------------
  const guarded = (fn) => () => fn().catch((err) => showError(root, err));
  datasetSel.addEventListener("change", () => {
    noiseLabel.hidden = datasetSel.value === "digits";
  });
  for (const field of [datasetSel, noiseIn, actSel, lossSel, optSel, lrIn]) {
    field.addEventListener("change", markPending);
    field.addEventListener("input", markPending);
  }
  addLayer.addEventListener("click", () => {
    if (hidden.length < maxLayers) hidden = [...hidden, 4];
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
  if (!noiseOk(st.noise)) store.set({ noise: defaults.noise });
  fill(config());
  // A shared link (?session=<id>, share.js checks it is a BP session and opens a copy):
  // the page trains its own copy, so the original stays as it was (and is never deleted).
  const shared = await givenSession();
  if (shared && !shared.dataset) sessions.discard(shared.id);
  if (shared?.dataset) await adopt(shared, store.get().step);
  else await build(store.get().step);
  if (store.get().cmp) await comparing.compare();
});
