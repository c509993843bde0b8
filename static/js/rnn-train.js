// The long-memory task: an RNN and an LSTM trained side by side from random
// weights over SSE, each with a progress bar and status, their losses on one chart.
import { sessions } from "./api.js";
import { format } from "./colors.js";
import { el, showError } from "./common.js";
import { t } from "./i18n.js";
import { LineChart, lineKey } from "./linechart.js";
import { LINES } from "./rnn-shared.js";
import { BATCH, rules } from "./rules.js";
import { FINAL, stoppedText, streamTraining } from "./train-stream.js";

const maxEpochs = rules.limits.max_epochs; // the server's limit (GLASSBOX_LIMIT_MAX_EPOCHS)
const MODELS = LINES.slice(0, 2);

/** Train a fresh `cell` ("rnn" or "lstm") on the memory task (Adam 0.003, BATCH a batch,
 * clipping at norm 1) in a session of its own, its training events streamed to
 * onEvent(name, data), while `show` says why it waits and aborting `signal` stops it
 * (both as streamTraining's); `overrides` adds to the session's (e.g. seq_len). */
export async function trainMemory(cell, epochs, overrides, { onEvent, show, signal }) {
  const made = await sessions.create({
    preset: `memory-${cell}`,
    overrides: { reinit: true, clip: 1, ...overrides },
  });
  try {
    const body = { epochs, batch_size: BATCH, optimizer: { type: "adam", lr: 0.003 } };
    await streamTraining(made.id, body, { onEvent, show, signal });
  } finally {
    sessions.discard(made.id);
  }
}

/** The training section, appended to `root`; the epochs are kept in `store`. */
export function trainPanel(root, store) {
  const trainBox = el(
    "section",
    { class: "rnn-train" },
    el("h2", { text: t("rnn.train") }),
    el("p", { class: "muted", text: t("rnn.trainHint") }),
  );
  const epochsIn = el("input", {
    type: "number",
    min: "1",
    max: String(maxEpochs),
    step: "1",
    value: String(store.get().epochs),
    "aria-label": t("rnn.epochs"),
    "data-control": "epochs",
    class: "sample",
  });
  const trainBtn = el("button", {
    type: "button",
    "data-control": "train",
    text: t("rnn.trainButton"),
  });
  const stopBtn = el("button", {
    type: "button",
    "data-control": "stop",
    text: t("rnn.stop"),
    disabled: "",
  });
  trainBox.append(
    el(
      "div",
      { class: "controls" },
      el("label", {}, `${t("rnn.epochs")} `, epochsIn),
      trainBtn,
      stopBtn,
    ),
  );
  const bars = {};
  for (const [k, l] of MODELS.entries()) {
    const bar = el("progress", { max: "1", value: "0", "data-model": l.key });
    // the epoch and loss as they stream (not announced: they change ten times a
    // second), and the waiting and final states (announced)
    const ticks = el("span", { class: "train-progress", "data-model": l.key });
    const status = el("span", {
      class: "train-status",
      "data-model": l.key,
      "aria-live": "polite",
    });
    bars[l.key] = { bar, ticks, status, started: false };
    trainBox.append(
      el(
        "p",
        { class: "train-row" },
        lineKey(l, k),
        ` ${t(`rnn.model.${l.key}`)} `,
        bar,
        " ",
        ticks,
        status,
      ),
    );
  }
  const lossBox = el("div", { class: "loss-chart" });
  trainBox.append(lossBox);
  const lossChart = new LineChart(lossBox, { label: t("rnn.lossChart") });
  root.append(trainBox);

  let losses = { rnn: [], lstm: [] };
  const redraw = () => {
    lossChart.layout(Math.min(760, trainBox.clientWidth || 640), 200);
    lossChart.setData(
      MODELS.map((l) => ({ values: losses[l.key], colour: l.colour, shape: l.shape })),
      { log: false },
    );
    lossChart.draw(Math.max(losses.rnn.length, losses.lstm.length) - 1);
  };

  /** Show one model's training event in its bar and status. */
  function onEvent(key, name, ev) {
    const row = bars[key];
    const { bar, ticks, status } = row;
    if (name === "start") {
      bar.max = ev.iterations;
      row.started = true;
    }
    if (name === "progress") {
      bar.value = ev.iteration;
      losses[key].push(Number(ev.loss));
      ticks.textContent = t("rnn.progress", { epoch: ev.epoch, loss: format(Number(ev.loss)) });
      redraw();
    }
    if (FINAL.includes(name)) {
      status.dataset.status = name;
      ticks.textContent = "";
      if (name === "error") status.textContent = ev.detail;
      else if (name === "stopping") status.textContent = stoppedText(ev);
      else if (!row.started) status.textContent = t("train.cancelledWaiting");
      else
        status.textContent = t("rnn.trained", {
          loss: format(Number(ev.loss)),
          accuracy: format(ev.test_accuracy ?? NaN),
        });
    }
  }

  /** Say why a model's training waits ("" once it trains). */
  function show(key, text, kind) {
    const { status } = bars[key];
    status.textContent = text;
    if (kind) status.dataset.waiting = kind;
    else delete status.dataset.waiting;
  }

  const one = (key, epochs, signal) =>
    trainMemory(
      key,
      epochs,
      {},
      {
        onEvent: (name, ev) => onEvent(key, name, ev),
        show: (text, kind) => show(key, text, kind),
        signal,
      },
    );
  let stopping = null; // the running training's AbortController: Stop aborts it
  stopBtn.addEventListener("click", () => stopping?.abort());

  async function train() {
    trainBtn.disabled = true;
    delete trainBox.dataset.done;
    const epochs = Math.max(1, Math.min(maxEpochs, Number(epochsIn.value) || 1));
    store.set({ epochs });
    losses = { rnn: [], lstm: [] };
    for (const row of Object.values(bars)) {
      row.started = false;
      row.bar.value = 0;
      row.ticks.textContent = row.status.textContent = "";
      delete row.status.dataset.status;
    }
    stopping = new AbortController();
    stopBtn.disabled = false;
    try {
      await Promise.all(["rnn", "lstm"].map((key) => one(key, epochs, stopping.signal)));
      trainBox.dataset.done = "1";
    } catch (err) {
      showError(root, err);
    } finally {
      trainBtn.disabled = false;
      stopBtn.disabled = true;
      stopping = null;
    }
  }
  trainBtn.addEventListener("click", () => train());
}
