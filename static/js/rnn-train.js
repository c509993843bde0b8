// The long-memory task: an RNN and an LSTM trained side by side from random
// weights over SSE, each with a progress bar and status, their losses on one chart.
import { sessions } from "./api.js";
import { format } from "./colors.js";
import { el, showError } from "./common.js";
import { t } from "./i18n.js";
import { LineChart } from "./linechart.js";
import { LINES } from "./rnn-shared.js";
import { BATCH, rules } from "./rules.js";
import { postEvents } from "./sse.js";

const maxEpochs = rules.limits.max_epochs; // the server's limit (GLASSBOX_LIMIT_MAX_EPOCHS)
const MODELS = LINES.slice(0, 2);
const FINAL = ["done", "cancelled", "diverged", "error"];

/** Train a fresh `cell` ("rnn" or "lstm") on the memory task (Adam 0.003, BATCH a batch,
 * clipping at norm 1) in a session of its own, its training events streamed to
 * onEvent(name, data); `overrides` adds to the session's (e.g. seq_len). */
export async function trainMemory(cell, epochs, overrides, onEvent) {
  const made = await sessions.create({
    preset: `memory-${cell}`,
    overrides: { reinit: true, clip: 1, ...overrides },
  });
  try {
    const body = { epochs, batch_size: BATCH, optimizer: { type: "adam", lr: 0.003 } };
    await postEvents(`/api/sessions/${made.id}/train`, body, onEvent);
  } finally {
    sessions.remove(made.id).catch(() => {});
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
  trainBox.append(
    el("div", { class: "controls" }, el("label", {}, `${t("rnn.epochs")} `, epochsIn), trainBtn),
  );
  const bars = {};
  for (const l of MODELS) {
    const bar = el("progress", { max: "1", value: "0", "data-model": l.key });
    const status = el("span", { class: "train-status", "data-model": l.key });
    bars[l.key] = { bar, status };
    trainBox.append(
      el(
        "p",
        { class: "train-row" },
        el("span", { class: "swatch", style: `background:${l.colour}` }),
        ` ${t(`rnn.model.${l.key}`)} `,
        bar,
        " ",
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
    const { bar, status } = bars[key];
    if (name === "start") bar.max = ev.iterations;
    if (name === "progress") {
      bar.value = ev.iteration;
      losses[key].push(Number(ev.loss));
      status.textContent = t("rnn.progress", { epoch: ev.epoch, loss: format(Number(ev.loss)) });
      redraw();
    }
    if (FINAL.includes(name)) {
      status.dataset.status = name;
      status.textContent =
        name === "error"
          ? ev.detail
          : t("rnn.trained", {
              loss: format(Number(ev.loss)),
              accuracy: format(ev.test_accuracy ?? NaN),
            });
    }
  }

  const one = (key, epochs) => trainMemory(key, epochs, {}, (name, ev) => onEvent(key, name, ev));

  async function train() {
    trainBtn.disabled = true;
    delete trainBox.dataset.done;
    const epochs = Math.max(1, Math.min(maxEpochs, Number(epochsIn.value) || 1));
    store.set({ epochs });
    losses = { rnn: [], lstm: [] };
    try {
      await Promise.all(["rnn", "lstm"].map((key) => one(key, epochs)));
      trainBox.dataset.done = "1";
    } catch (err) {
      showError(root, err);
    } finally {
      trainBtn.disabled = false;
    }
  }
  trainBtn.addEventListener("click", () => train());
}
