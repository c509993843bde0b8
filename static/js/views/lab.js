// The learning-rate lab: gradient descent on 2-D loss surfaces. The API samples
// the surface and runs every path, and says how each ended and which of the
// lecture's cases that is (outcome, case, text); this view draws the contour
// plot, animates the paths step by step and reads the loss and gradient norm of
// each step from the API's arrays. Nothing here computes a gradient or judges a path.
import { api } from "../api.js";
import { format, legend } from "../colors.js";
import { clearError, el, mount, showError } from "../common.js";
import { ContourPlot } from "../contour.js";
import { pick, t } from "../i18n.js";
import {
  PALETTE,
  SHAPES,
  decodeRuns,
  decodeStart,
  encodeRuns,
  encodeStart,
  lectureSetup,
  roundTo,
  runsTable,
} from "../lab-setup.js";
import { LabPlayer } from "../lab-player.js";
import { pathRow } from "../lab-rows.js";
import { LineChart } from "../linechart.js";
import { rules as pageRules } from "../rules.js";
import { createStore } from "../store.js";

// Empty start / runs and steps 0 mean "the surface's lecture cases". The surface
// the page opens on is the server's (rules.lab.default_surface).
const firstSurface = pageRules.lab.default_surface;
const store = createStore({ surface: firstSurface, start: "", runs: "", steps: 0, frame: -1 });

mount(async (root) => {
  // The descent rules are injected with the page (rules.lab, the same as GET
  // /api/lab/rules); only the surfaces are asked for.
  const rules = pageRules.lab;
  const surfaces = await api("GET", "/api/lab/surfaces");
  const maxSteps = rules.steps.le;
  const infoOf = new Map(surfaces.map((s) => [s.name, s]));
  if (!infoOf.has(store.get().surface))
    store.set({ surface: firstSurface, start: "", runs: "", steps: 0 });
  const grids = new Map();

  // Surface picker, its title, description and formula, the lecture's lesson.
  const surfaceSel = el(
    "select",
    { "aria-label": t("lab.surface"), "data-field": "surface" },
    ...surfaces.map((s) => el("option", { value: s.name, text: pick(s.title) })),
  );
  const lectureBtn = el("button", {
    type: "button",
    "data-act": "lecture",
    text: t("lab.lecture"),
  });
  root.append(
    el(
      "div",
      { class: "controls" },
      el("label", {}, `${t("lab.surface")} `, surfaceSel),
      lectureBtn,
    ),
  );
  const title = el("h2", { class: "lab-title" });
  const description = el("p", { class: "lab-description" });
  const formula = el("p", { class: "formula lab-formula" });
  const note = el("p", { class: "muted lab-note" });
  root.append(
    el(
      "section",
      { class: "caption-box lab-about" },
      title,
      description,
      formula,
      el("p", { class: "lab-lesson", text: t("lab.lesson") }),
      note,
    ),
  );

  // The plot (click to set the start) beside the setup: start, steps, runs.
  const main = el("div", { class: "lab-main" });
  const figure = el("figure", { class: "lab-plot", "data-figure": "" }); // present mode's figure
  const pointer = el("p", {
    class: "muted lab-pointer",
    "aria-live": "off",
    text: t("lab.startHint"),
  });
  const scaleBox = el("div", { class: "lab-scale" });
  const plot = new ContourPlot(figure, {
    label: t("lab.plot"),
    onPick: (x, y) => {
      const info = infoOf.get(store.get().surface);
      const span = Math.max(info.x_range[1] - info.x_range[0], info.y_range[1] - info.y_range[0]);
      setStart([roundTo(x, span), roundTo(y, span)]);
    },
    onHover: (p) => {
      pointer.textContent = p
        ? t("lab.pointer", { x: format(p[0]), y: format(p[1]) })
        : t("lab.startHint");
    },
  });
  const key = el(
    "p",
    { class: "lab-key muted" },
    ...[
      ["☆", "lab.key.global"],
      ["○", "lab.key.local"],
      ["✕", "lab.key.saddle"],
      ["◇", "lab.key.start"],
    ].map(([sym, k]) => el("span", {}, el("b", { "aria-hidden": "true", text: sym }), ` ${t(k)}`)),
  );
  figure.append(el("figcaption", {}, key, scaleBox, pointer));

  const side = el("div", { class: "lab-side" });
  const num = (label, attrs) => {
    const input = el("input", { type: "number", step: "any", ...attrs, "aria-label": label });
    return { input, label: el("label", {}, `${label} `, input) };
  };
  const sx = num(`${t("lab.start")} x`, { "data-field": "start-x" });
  const sy = num(`${t("lab.start")} y`, { "data-field": "start-y" });
  const stepsIn = num(t("lab.steps"), {
    min: String(rules.steps.ge),
    max: String(maxSteps),
    step: "1",
    "data-field": "steps",
  });
  const runBtn = el("button", {
    type: "button",
    class: "primary",
    "data-act": "run",
    text: t("lab.run"),
  });
  side.append(
    el("h3", { text: t("lab.setup") }),
    el("div", { class: "row" }, sx.label, sy.label),
    el("p", { class: "muted", text: t("lab.startHint") }),
    el("div", { class: "row" }, stepsIn.label),
    el("h3", { text: t("lab.runs") }),
  );
  const table = runsTable(side, rules, (runs) => {
    store.set({ runs: encodeRuns(runs), frame: -1 });
    rerun();
  });
  side.append(
    el("div", { class: "row lab-run-row" }, runBtn),
    el("p", { class: "muted lab-help", text: t("lab.optHelp") }),
  );
  main.append(figure, side);
  root.append(main);

  // The player, a legend row per run, the loss chart.
  const playerBox = el("div");
  root.append(playerBox);
  const rows = el("ol", { class: "lab-legend" });
  root.append(el("section", {}, el("h3", { text: t("lab.legend") }), rows));
  const chartLabel = el("p", { class: "muted lab-axis" });
  const chartBox = el(
    "section",
    { class: "lab-chart" },
    el("h3", { text: t("lab.lossChart") }),
    chartLabel,
  );
  root.append(chartBox);
  const chart = new LineChart(chartBox, { label: t("lab.lossChart") });

  let setup = null; // {surface, start, steps, runs}
  let paths = [];
  let player = null;
  let runCount = 0;
  let urlTimer = null;

  /** The setup the URL describes: a blank part is the lecture's. */
  function current() {
    const st = store.get();
    const lecture = lectureSetup(rules, infoOf.get(st.surface));
    const runs = decodeRuns(st.runs, rules);
    return {
      surface: st.surface,
      start: decodeStart(st.start, rules) || lecture.start,
      steps: st.steps > 0 ? Math.min(Math.round(st.steps), maxSteps) : lecture.steps,
      runs: runs.length ? runs : lecture.runs,
    };
  }

  async function showSurface() {
    const name = store.get().surface;
    if (!grids.has(name))
      grids.set(name, await api("GET", `/api/lab/surfaces/${name}?resolution=128`));
    const res = grids.get(name);
    const info = infoOf.get(name);
    surfaceSel.value = name;
    title.textContent = pick(info.title);
    description.textContent = pick(info.description);
    formula.textContent = info.formula;
    note.textContent = t(`lab.note.${name}`);
    plot.setSurface(info, res.grid);
    layout();
    scaleBox.innerHTML = "";
    scaleBox.append(
      legend(
        { kind: "sequential", min: res.grid.min, max: res.grid.max },
        plot.scale.log ? t("lab.scale.log") : t("lab.scale.linear"),
      ),
    );
  }

  function fillInputs() {
    setup = current();
    sx.input.value = String(setup.start[0]);
    sy.input.value = String(setup.start[1]);
    stepsIn.input.value = String(setup.steps);
    table.set(setup.runs);
  }

  // Runs one after another; a request overtaken by a later one is dropped, and
  // so is one for the setup already shown (unless forced: the Run button).
  let queue = Promise.resolve();
  let shown = "";
  function rerun({ force = false } = {}) {
    const ticket = ++runCount;
    const go = () =>
      ticket === runCount && (force || JSON.stringify(current()) !== shown) ? run(-1) : null;
    queue = queue.then(go).catch((err) => showError(root, err));
    return queue;
  }

  async function run(frame) {
    fillInputs();
    runBtn.disabled = true;
    root.dataset.busy = "1";
    try {
      const body = {
        surface: setup.surface,
        start: setup.start,
        steps: setup.steps,
        runs: setup.runs.map((r) =>
          r.optimizer === "momentum" ? r : { optimizer: r.optimizer, lr: r.lr },
        ),
      };
      const res = await api("POST", "/api/lab/descent", body);
      root.dataset.labSetup = JSON.stringify(body); // the runs shown (the live class asks of them)
      clearError(root);
      shown = JSON.stringify(setup);
      paths = res.paths;
      plot.setPaths(
        paths.map((p, i) => ({ points: p.points, colour: PALETTE[i], shape: SHAPES[i] })),
        setup.start,
      );
      buildLegend();
      setChart();
      const count = Math.max(...paths.map((p) => p.points.length));
      const labels = Array.from({ length: count }, (_, k) => t("lab.step", { k }));
      if (!player) player = new LabPlayer(playerBox, { count, labels, onFrame: show });
      else {
        player.reset();
        player.setCount(count, labels);
      }
      await player.go(frame >= 0 && frame < count ? frame : count - 1);
      root.dataset.run = String(Number(root.dataset.run || 0) + 1);
    } finally {
      runBtn.disabled = false;
      delete root.dataset.busy;
    }
  }

  function setChart() {
    const info = infoOf.get(setup.surface);
    const losses = paths.flatMap((p) => p.losses);
    let y = { log: true, label: t("lab.axis.log") };
    if (!losses.every((v) => v > 0)) {
      const globalMin = info.minima.find((m) => m.global);
      y =
        info.bounded_below && globalMin
          ? {
              log: true,
              shift: globalMin.value,
              label: t("lab.axis.gap", { value: format(globalMin.value) }),
            }
          : { symlog: 1e-3, label: t("lab.axis.symlog") };
    }
    chartLabel.textContent = y.label;
    chart.setData(
      paths.map((p, i) => ({ values: p.losses, colour: PALETTE[i], shape: SHAPES[i] })),
      y,
    );
  }

  /** A row per path (lab-rows.js). */
  function buildLegend() {
    rows.innerHTML = "";
    paths.forEach((p, i) => {
      rows.append(pathRow(p, setup.runs[i], i, setup.steps));
    });
  }

  /** Draw step `frame` of every path: plot, chart cursor, each run's numbers. */
  function show(frame) {
    const t0 = performance.now();
    plot.draw(frame);
    chart.draw(frame);
    paths.forEach((p, i) => {
      const k = Math.min(frame, p.points.length - 1);
      const row = rows.children[i];
      const [x, y] = p.points[k];
      row.querySelector(".lab-now").textContent = t("lab.now", {
        k,
        loss: format(p.losses[k]),
        grad: format(p.grad_norms[k]),
        x: format(x),
        y: format(y),
      });
      Object.assign(row.dataset, {
        step: String(k),
        loss: String(p.losses[k]),
        gradNorm: String(p.grad_norms[k]),
      });
    });
    root.dataset.frame = String(frame);
    root.dataset.renderMs = (performance.now() - t0).toFixed(2);
    // The URL follows the frame a moment later (browsers throttle replaceState).
    clearTimeout(urlTimer);
    const last = frame >= player.count - 1;
    urlTimer = setTimeout(() => store.set({ frame: last ? -1 : frame }), 200);
  }

  function layout() {
    const width = Math.min(figure.clientWidth || 600, 760);
    plot.layout(width, Math.max(260, Math.min(window.innerHeight * 0.7, 560)));
    chart.layout(chartBox.clientWidth || 600);
  }

  let resizing = 0;
  new ResizeObserver(() => {
    cancelAnimationFrame(resizing);
    resizing = requestAnimationFrame(() => {
      if (!setup || !player) return;
      layout();
      show(Math.max(player.frame, 0));
    });
  }).observe(main);

  function setStart(p) {
    store.set({ start: encodeStart(p), frame: -1 });
    rerun();
  }

  surfaceSel.addEventListener("change", async () => {
    store.set({ surface: surfaceSel.value, start: "", runs: "", steps: 0, frame: -1 });
    try {
      await showSurface();
      await rerun();
    } catch (err) {
      showError(root, err);
    }
  });
  lectureBtn.addEventListener("click", () => {
    store.set({ start: "", runs: "", steps: 0, frame: -1 });
    rerun();
  });
  const startChanged = () => {
    const p = [Number(sx.input.value), Number(sy.input.value)];
    if (sx.input.value !== "" && sy.input.value !== "" && p.every(Number.isFinite)) setStart(p);
  };
  sx.input.addEventListener("change", startChanged);
  sy.input.addEventListener("change", startChanged);
  stepsIn.input.addEventListener("change", () => {
    const n = Math.round(Number(stepsIn.input.value));
    if (n >= rules.steps.ge && n <= maxSteps) store.set({ steps: n, frame: -1 });
    rerun();
  });
  runBtn.addEventListener("click", () => rerun({ force: true }));

  store.set({}); // the language links keep the setup from the start
  await showSurface();
  try {
    await run(store.get().frame);
  } catch (err) {
    showError(root, err); // e.g. a setup over the server's limits: the controls stay usable
  }
});
