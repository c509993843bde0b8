// BP training: epochs trained one at a time over SSE (one request each, within the
// server's per-request limits), chunk after chunk until the student presses Pause (or
// after the epochs the optional "stop after" field gives), with the decision boundary
// (2-D data) and the train/test loss and accuracy curves redrawn after each.
import { api } from "./api.js";
import { drawBoundary } from "./bp-boundary.js";
import { COLOURS, untilNonFinite } from "./bp-values.js";
import { format } from "./colors.js";
import { inlineCheck, whole } from "./bp-fields.js";
import { el } from "./common.js";
import { t } from "./i18n.js";
import { LineChart, lineKey } from "./linechart.js";
import { BATCH } from "./rules.js";
import { stoppedText, streamTraining } from "./train-stream.js";

/** A loss for the status line: the number, or "NaN" / "Infinity" as the API sent it. */
const lossText = (v) => (typeof v === "string" ? v : format(v));

/** One epoch of training over SSE (`show` and `signal` as streamTraining's); returns
 * {last, started}: the final event's data and whether the epoch started. */
async function trainEpoch(id, show, signal) {
  const body = { epochs: 1, batch_size: BATCH };
  const res = await streamTraining(id, body, { show, signal });
  if (res.last.event === "error") throw new Error(res.last.detail);
  return res;
}

/** The training section, appended to `root`. reset(session) starts a new history;
 * evaluate(epoch) fetches and draws the metrics; train({lock, reload}) runs epochs
 * until Pause (or the "stop after" count, kept in `store`: the URL; 0 = until Pause),
 * calling lock(true/false) around them and reload() after; trained() says whether
 * this session's weights moved since reset. Each redraw's time goes to
 * data-train-render-ms, and every one of a training run to data-train-render-log. */
export function trainPanel(root, store) {
  const epochsIn = el("input", {
    type: "number",
    min: "1",
    step: "1",
    value: store.get().epochs > 0 ? String(store.get().epochs) : "",
    placeholder: "∞",
    "data-field": "epochs",
    "aria-label": t("bp.stopAfter"),
    title: t("bp.stopAfter.help"),
  });
  const epochsLabel = el("label", {}, `${t("bp.stopAfter")} `, epochsIn);
  const trainBtn = el("button", {
    type: "button",
    class: "primary",
    "data-act": "train",
    "data-state": "idle",
    text: t("bp.train"),
  });
  const stopBtn = el("button", {
    type: "button",
    "data-act": "stop",
    text: t("bp.pause"),
    disabled: "",
  });
  const trainStatus = el("p", { class: "bp-status", "aria-live": "polite" });
  const boundaryCanvas = el("canvas", {
    class: "bp-boundary",
    role: "img",
    "aria-label": t("bp.boundary"),
  });
  const boundaryBox = el(
    "figure",
    { class: "bp-boundary-box" },
    boundaryCanvas,
    el("figcaption", { class: "muted", text: t("bp.boundaryKey") }),
  );
  const lossBox = el("div", { class: "bp-chart" }, el("h3", { text: t("bp.lossChart") }));
  const accBox = el("div", { class: "bp-chart" }, el("h3", { text: t("bp.accChart") }));
  const curveKey = el(
    "p",
    { class: "muted bp-key" },
    // the line in its colour, the words in the text colour (readable on any background)
    lineKey({ colour: COLOURS[0], shape: "circle" }, 0),
    ` ${t("bp.train.split")}  `,
    lineKey({ colour: COLOURS[1], shape: "square" }, 1),
    ` ${t("bp.test.split")}`,
  );
  root.append(
    el(
      "section",
      { class: "bp-train" },
      el("h2", { text: t("bp.training") }),
      el("div", { class: "controls" }, epochsLabel, trainBtn, stopBtn),
      trainStatus,
      el(
        "div",
        { class: "bp-train-main" },
        boundaryBox,
        el("div", { class: "bp-charts" }, lossBox, accBox, curveKey),
      ),
    ),
  );
  // "Stop after": a whole number of epochs, or empty (until Pause); refused inline.
  const epochsOk = inlineCheck(epochsIn, epochsLabel, whole(t("bp.stopAfter"), 1, undefined, true));
  epochsIn.addEventListener("change", () => {
    if (epochsOk()) store.set({ epochs: epochsIn.value === "" ? 0 : Number(epochsIn.value) });
  });
  const lossChart = new LineChart(lossBox, { label: t("bp.lossChart") });
  const accChart = new LineChart(accBox, { label: t("bp.accChart") });

  let session = null;
  let history = [];
  let moved = false; // this session's weights trained since reset
  let stopping = null; // the running training's AbortController: Stop aborts it
  stopBtn.addEventListener("click", () => stopping?.abort());
  // While an epoch waits (in the server's queue, or to try again) the status line says
  // so, and goes back to the last epoch's numbers when it starts.
  let metricsText = "";
  const show = (text, kind) => {
    trainStatus.textContent = text || metricsText;
    if (kind) trainStatus.dataset.waiting = kind;
    else delete trainStatus.dataset.waiting;
  };

  function reset(s, trainedBefore = false) {
    session = s;
    history = [];
    moved = trainedBefore;
    trainBtn.textContent = t("bp.train");
    trainBtn.dataset.state = "idle";
    boundaryBox.hidden = s.dataset.features !== 2;
  }

  // Measured before the frame's DOM changes, so reading it does not force a layout.
  let width = 0;

  function drawCurves() {
    if (width !== lossChart.width) {
      lossChart.layout(width, 170);
      accChart.layout(width, 170);
    }
    const pick = (key) => untilNonFinite(history.map((h) => h[key]));
    lossChart.setData(
      [
        { values: pick("train_loss"), colour: COLOURS[0], shape: "circle" },
        { values: pick("test_loss"), colour: COLOURS[1], shape: "square" },
      ],
      { log: true },
    );
    accChart.setData(
      [
        { values: pick("train_accuracy"), colour: COLOURS[0], shape: "circle" },
        { values: pick("test_accuracy"), colour: COLOURS[1], shape: "square" },
      ],
      {},
    );
    lossChart.draw(history.length - 1);
    accChart.draw(history.length - 1);
  }

  async function evaluate(epoch) {
    const twoD = session.dataset.features === 2;
    const m = twoD
      ? await api("GET", `/api/sessions/${session.id}/boundary?resolution=40`)
      : await api("GET", `/api/sessions/${session.id}/metrics`);
    const t0 = performance.now();
    width = Math.max(240, Math.round(lossBox.clientWidth || 420));
    if (twoD) drawBoundary(boundaryCanvas, m);
    history.push({ epoch, ...m });
    drawCurves();
    metricsText = trainStatus.textContent = t("bp.metrics", {
      epoch,
      trainLoss: lossText(m.train_loss),
      testLoss: lossText(m.test_loss),
      trainAcc: format(m.train_accuracy),
      testAcc: format(m.test_accuracy),
    });
    const ms = (performance.now() - t0).toFixed(2);
    root.dataset.trainRenderMs = ms;
    if (root.dataset.training)
      root.dataset.trainRenderLog = `${root.dataset.trainRenderLog || ""} ${ms}`.trim();
    root.dataset.epoch = String(epoch);
  }

  async function train({ lock, reload }) {
    if (!epochsOk()) return; // refused inline: nothing is sent
    const epochs = epochsIn.value === "" ? Infinity : Number(epochsIn.value);
    trainBtn.disabled = true;
    trainBtn.textContent = t("bp.training.now");
    trainBtn.dataset.state = "running";
    lock(true);
    stopBtn.disabled = false;
    stopping = new AbortController();
    const { signal } = stopping;
    root.dataset.training = "1";
    root.dataset.trainRenderLog = "";
    delete trainStatus.dataset.stopped;
    let serverStopped = false;
    try {
      const start = history.length ? history[history.length - 1].epoch : 0;
      for (let e = 1; e <= epochs && !signal.aborted; e++) {
        const { last, started } = await trainEpoch(session.id, show, signal);
        if (last.event === "stopping") {
          // the server is stopping: say so; the weights it trained are kept
          serverStopped = true;
          trainStatus.textContent = stoppedText(last);
          trainStatus.dataset.stopped = "server";
          break;
        }
        if (!started) break; // stopped while it waited: nothing trained
        moved = true;
        await evaluate(start + e);
        if (last.event === "diverged") {
          trainStatus.textContent += `  ${t("bp.divergedTrain")}`;
          break;
        }
      }
      if (!serverStopped) await reload(); // a fresh pass with the trained weights
    } finally {
      trainBtn.disabled = false;
      const paused = history.length > 1;
      trainBtn.textContent = paused ? t("bp.trainMore") : t("bp.train");
      trainBtn.dataset.state = paused ? "paused" : "idle";
      lock(false);
      stopBtn.disabled = true;
      stopping = null;
      delete root.dataset.training;
      root.dataset.trained = String(Number(root.dataset.trained || 0) + 1);
    }
  }

  return { trainBtn, reset, evaluate, train, trained: () => moved, epochsOk };
}
