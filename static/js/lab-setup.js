// The learning-rate lab's setup: the lecture's cases per surface (from the API),
// the compact URL encoding of a setup and the runs table. The limits and the
// name of each outcome's lecture case come from the server (GET /api/lab/rules,
// GET /api/lab/surfaces); nothing here decides what a path did.
import { el } from "./common.js";
import { t } from "./i18n.js";
import { lineKey } from "./linechart.js";

// Okabe-Ito colours (distinguishable with the common colour-vision deficiencies),
// and a marker shape per run so colour is never the only cue. The page draws at
// most this many runs (or fewer, if the server allows fewer).
export const PALETTE = ["#D55E00", "#0072B2", "#CC79A7", "#E69F00"];
export const SHAPES = ["circle", "square", "triangle", "diamond"];

/** The most runs the page shows: one per colour, within the server's limit. */
export function maxRuns(rules) {
  return Math.min(PALETTE.length, rules.runs.le);
}

/** A run with every field the table edits (μ from the server's default). */
function fullRun(rules, r) {
  return { optimizer: r.optimizer, lr: r.lr, momentum: r.momentum ?? rules.momentum.default };
}

/** A surface's lecture cases (start, steps, runs), as the API states them. */
export function lectureSetup(rules, info) {
  const { start, steps, runs } = info.lecture;
  return { start, steps, runs: runs.map((r) => fullRun(rules, r)) };
}

const lrOk = (rules, lr) => lr > rules.lr.gt && lr <= rules.lr.le;
const muOk = (rules, mu) => mu >= rules.momentum.ge && mu < rules.momentum.lt;

const LETTER = { sgd: "s", momentum: "m", adam: "a" };
const OPT_OF = { s: "sgd", m: "momentum", a: "adam" };

/** Runs as "s0.05_m0.1x0.9_a0.1": a letter, the learning rate, x and μ for
 * momentum. Only characters a URL keeps as they are. */
export function encodeRuns(runs) {
  return runs
    .map((r) => LETTER[r.optimizer] + r.lr + (r.optimizer === "momentum" ? `x${r.momentum}` : ""))
    .join("_");
}

export function decodeRuns(text, rules) {
  const runs = [];
  for (const part of String(text || "").split("_")) {
    const m = /^([sma])([^x]+)(?:x(.+))?$/.exec(part);
    if (!m) continue;
    const lr = Number(m[2]);
    const mu = m[3] === undefined ? rules.momentum.default : Number(m[3]);
    if (!lrOk(rules, lr) || !muOk(rules, mu)) continue;
    runs.push({ optimizer: OPT_OF[m[1]], lr, momentum: mu });
  }
  return runs.slice(0, maxRuns(rules));
}

/** A start as "-4.5_2". */
export function encodeStart(p) {
  return `${p[0]}_${p[1]}`;
}

export function decodeStart(text, rules) {
  const p = String(text || "")
    .split("_")
    .map(Number);
  const inside = (v) => Number.isFinite(v) && v >= rules.start.ge && v <= rules.start.le;
  return p.length === 2 && p.every(inside) ? p : null;
}

/** Round a coordinate picked on the plot to about 1/1000 of the window. */
export function roundTo(v, span) {
  const digits = Math.max(0, Math.ceil(-Math.log10(span / 1000)));
  return Number(v.toFixed(digits));
}

/** Run i's key: its colour, dash and marker shape, as drawn on the plot and the loss chart. */
export function swatch(i) {
  return lineKey({ colour: PALETTE[i], shape: SHAPES[i] }, i);
}

/** The runs table: an optimizer, a learning rate and (for momentum) μ per run,
 * a remove button, and "add run", within the server's rules. onChange(runs)
 * after every edit. */
export function runsTable(parent, rules, onChange) {
  const table = el("table", { class: "lab-runs" });
  const head = el(
    "tr",
    {},
    el("th", { scope: "col", text: "#" }),
    el("th", { scope: "col", text: t("lab.optimizer") }),
    el("th", { scope: "col", text: t("lab.lr") }),
    el("th", { scope: "col", text: t("lab.momentum") }),
    el("th", {}),
  );
  const body = el("tbody");
  table.append(el("thead", {}, head), body);
  const add = el("button", { type: "button", "data-act": "add-run", text: t("lab.addRun") });
  parent.append(table, add);
  let runs = [];

  function changed() {
    render();
    onChange(runs.map((r) => ({ ...r })));
  }

  function render() {
    body.innerHTML = "";
    runs.forEach((run, i) => {
      const opt = el(
        "select",
        { "aria-label": `${t("lab.optimizer")} ${i + 1}`, "data-field": "optimizer" },
        ...rules.optimizers.map((o) => el("option", { value: o, text: t(`lab.opt.${o}`) })),
      );
      opt.value = run.optimizer;
      opt.addEventListener("change", () => {
        run.optimizer = opt.value;
        changed();
      });
      const lr = el("input", {
        type: "number",
        min: String(rules.lr.gt),
        max: String(rules.lr.le),
        step: "any",
        value: String(run.lr),
        "aria-label": `${t("lab.lr")} ${i + 1}`,
        "data-field": "lr",
      });
      lr.addEventListener("change", () => {
        if (lr.value !== "" && lrOk(rules, Number(lr.value))) {
          run.lr = Number(lr.value);
          changed();
        } else lr.value = String(run.lr);
      });
      const mu = el("input", {
        type: "number",
        min: String(rules.momentum.ge),
        max: String(rules.momentum.lt),
        step: "0.05",
        value: String(run.momentum),
        "aria-label": `${t("lab.momentum")} ${i + 1}`,
        "data-field": "momentum",
      });
      mu.disabled = run.optimizer !== "momentum";
      mu.addEventListener("change", () => {
        const v = Number(mu.value);
        if (mu.value !== "" && muOk(rules, v)) {
          run.momentum = v;
          changed();
        } else mu.value = String(run.momentum);
      });
      const remove = el("button", {
        type: "button",
        class: "icon",
        "aria-label": t("lab.removeRun", { n: i + 1 }),
        title: t("lab.removeRun", { n: i + 1 }),
        text: "×",
      });
      remove.disabled = runs.length <= 1;
      remove.addEventListener("click", () => {
        runs.splice(i, 1);
        changed();
      });
      body.append(
        el(
          "tr",
          { "data-run": String(i) },
          el("td", {}, swatch(i), ` ${i + 1}`),
          el("td", {}, opt),
          el("td", {}, lr),
          el("td", {}, mu),
          el("td", {}, remove),
        ),
      );
    });
    add.disabled = runs.length >= maxRuns(rules);
  }

  add.addEventListener("click", () => {
    const last =
      runs[runs.length - 1] || fullRun(rules, { optimizer: rules.default_optimizer, lr: 0.01 });
    runs.push({ ...last, lr: Number((last.lr / 2).toPrecision(3)) });
    changed();
  });

  return {
    set(next) {
      runs = next.map((r) => ({ ...r }));
      render();
    },
  };
}
