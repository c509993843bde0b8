// Accuracy vs sequence length: an RNN and an LSTM trained on the long-memory task
// at several lengths T, each run a session of its own trained over the training
// stream (rnn-train's trainMemory); each run's held-out accuracy, from the server's
// final event, lands on the chart as it finishes, with the chance level marked.
import { ApiError } from "./api.js";
import { format } from "./colors.js";
import { el, showError } from "./common.js";
import { cssVar, marker } from "./contour.js";
import { t } from "./i18n.js";
import { trainMemory } from "./rnn-train.js";
import { LINES } from "./rnn-shared.js";

export const SWEEP_T = [5, 10, 20, 40];
const SWEEP_EPOCHS = 24; // ~1500 Adam steps per run: enough for the LSTM at T = 40
const MODELS = LINES.slice(0, 2);
const MARGIN = { left: 52, right: 16, top: 12, bottom: 40 };
const BUSY_RETRIES = 20; // a 429 (every training slot taken) waits for one to free

/** The accuracy chart: x is T on a log scale (5, 10, 20, 40 evenly apart), y is 0..1. */
class SweepChart {
  constructor(parent) {
    this.canvas = el("canvas", { class: "line-chart sweep-canvas", role: "img", "aria-label": t("rnn.sweepChart") });
    parent.append(this.canvas);
  }

  draw(points, chance, width) {
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(280, Math.round(width));
    const h = 240;
    Object.assign(this.canvas, { width: w * ratio, height: h * ratio });
    Object.assign(this.canvas.style, { width: `${w}px`, height: `${h}px` });
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const pw = w - MARGIN.left - MARGIN.right;
    const ph = h - MARGIN.top - MARGIN.bottom;
    const lo = Math.log2(SWEEP_T[0]);
    const hi = Math.log2(SWEEP_T[SWEEP_T.length - 1]);
    const px = (T) => MARGIN.left + pw * (0.06 + (0.88 * (Math.log2(T) - lo)) / (hi - lo));
    const py = (acc) => MARGIN.top + (1 - acc) * ph;
    const fg = cssVar("--fg", "#1d1f24");
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = fg;
    ctx.strokeStyle = cssVar("--border", "#dde1e8");
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const acc of [0, 0.25, 0.5, 0.75, 1]) {
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, py(acc));
      ctx.lineTo(MARGIN.left + pw, py(acc));
      ctx.stroke();
      ctx.fillText(String(acc), MARGIN.left - 6, py(acc));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const T of SWEEP_T) ctx.fillText(String(T), px(T), MARGIN.top + ph + 5);
    ctx.fillText(t("rnn.sweepX"), MARGIN.left + pw / 2, MARGIN.top + ph + 22);
    ctx.strokeStyle = cssVar("--muted", "#5b6270");
    ctx.strokeRect(MARGIN.left - 0.5, MARGIN.top - 0.5, pw + 1, ph + 1);
    if (chance !== null) {
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, py(chance));
      ctx.lineTo(MARGIN.left + pw, py(chance));
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.textAlign = "left";
      ctx.textBaseline = "bottom";
      ctx.fillStyle = cssVar("--muted", "#5b6270");
      ctx.fillText(t("rnn.chance", { chance: format(chance) }), MARGIN.left + 6, py(chance) - 2);
    }
    for (const m of MODELS) {
      const done = SWEEP_T.filter((T) => points[m.key][T] !== undefined);
      ctx.strokeStyle = m.colour;
      ctx.lineWidth = 1.8;
      ctx.beginPath();
      done.forEach((T, k) => (k ? ctx.lineTo(px(T), py(points[m.key][T])) : ctx.moveTo(px(T), py(points[m.key][T]))));
      ctx.stroke();
      ctx.lineWidth = 1;
      for (const T of done) {
        const acc = points[m.key][T];
        marker(ctx, m.shape, px(T), py(acc), 5);
        ctx.fillStyle = m.colour;
        ctx.fill();
        ctx.strokeStyle = "#fff";
        ctx.stroke();
        ctx.strokeStyle = m.colour;
        ctx.fillStyle = m.colour;
        const last = T === SWEEP_T[SWEEP_T.length - 1];
        ctx.textAlign = last ? "right" : "left";
        ctx.textBaseline = m.key === "rnn" ? "top" : "bottom";
        ctx.fillText(format(acc), px(T) + (last ? -8 : 8), py(acc) + (m.key === "rnn" ? 3 : -3));
      }
    }
  }
}

/** The sweep section, appended to `root`. */
export function sweepPanel(root) {
  const box = el("section", { class: "rnn-sweep" },
    el("h2", { text: t("rnn.sweep") }),
    el("p", { class: "muted", text: t("rnn.sweepHint", { ts: SWEEP_T.join(", "), epochs: SWEEP_EPOCHS }) }));
  const runBtn = el("button", { type: "button", "data-control": "sweep", text: t("rnn.sweepButton") });
  const overall = el("progress", { max: String(SWEEP_T.length * MODELS.length), value: "0", class: "sweep-progress" });
  const status = el("span", { class: "sweep-status", "aria-live": "polite" });
  box.append(el("div", { class: "controls" }, runBtn, overall, status));
  const table = el("table", { class: "sweep-table" });
  const head = el("tr", {}, el("th", { text: "T" }), ...MODELS.map((m) => el("th", {},
    el("span", { class: "swatch", style: `background:${m.colour}` }), ` ${t(`rnn.model.${m.key}`)}`)));
  table.append(head);
  const cells = {};
  for (const T of SWEEP_T) {
    const row = el("tr", {}, el("th", { text: String(T) }));
    for (const m of MODELS) {
      const cell = el("td", { "data-model": m.key, "data-t": String(T), text: "—" });
      cells[`${m.key}${T}`] = cell;
      row.append(cell);
    }
    table.append(row);
  }
  const chartBox = el("div", { class: "sweep-chart" });
  box.append(el("div", { class: "sweep-body" }, table, chartBox));
  const chart = new SweepChart(chartBox);
  root.append(box);

  let points = { rnn: {}, lstm: {} };
  let chance = null;
  const redraw = () => {
    chart.draw(points, chance, Math.min(640, chartBox.clientWidth || 560));
    box.dataset.points = JSON.stringify(points);
    if (chance !== null) box.dataset.chance = String(chance);
  };

  /** One run, its progress in its table cell; retried while every training slot is taken. */
  async function run(cell, T, finished) {
    const td = cells[`${cell}${T}`];
    for (let attempt = 0; ; attempt++) {
      try {
        await trainMemory(cell, SWEEP_EPOCHS, { seq_len: T }, (name, ev) => {
          if (name === "start") td.dataset.iterations = ev.iterations;
          if (name === "progress") td.textContent = t("rnn.sweepRunning", { percent: Math.round((100 * ev.iteration) / td.dataset.iterations) });
          if (name === "error") throw new Error(ev.detail);
          if (name === "done" || name === "diverged") {
            points[cell][T] = ev.test_accuracy;
            chance = ev.chance ?? chance;
            td.textContent = format(ev.test_accuracy);
            td.dataset.accuracy = String(ev.test_accuracy);
            td.dataset.elapsed = String(ev.elapsed);
            finished();
            redraw();
          }
        });
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 429) || attempt >= BUSY_RETRIES) throw err;
        td.textContent = t("rnn.sweepWaiting");
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  async function sweep() {
    runBtn.disabled = true;
    delete box.dataset.done;
    points = { rnn: {}, lstm: {} };
    Object.values(cells).forEach((td) => (td.textContent = "—"));
    overall.value = 0;
    redraw();
    const t0 = performance.now();
    let runs = 0;
    const finished = () => {
      overall.value = ++runs;
      status.textContent = t("rnn.sweepProgress", { done: runs, total: overall.max });
    };
    try {
      // RNN and LSTM side by side (two training slots), one length after another
      for (const T of SWEEP_T) await Promise.all(MODELS.map((m) => run(m.key, T, finished)));
      const seconds = (performance.now() - t0) / 1000;
      box.dataset.seconds = seconds.toFixed(2);
      status.textContent = t("rnn.sweepDone", { seconds: seconds.toFixed(1) });
      box.dataset.done = "1";
    } catch (err) {
      showError(root, err);
    } finally {
      runBtn.disabled = false;
    }
  }
  runBtn.addEventListener("click", () => sweep());
  redraw();
}
