// Typed number sequences for the sine models: the student types numbers, the
// server checks them and makes a session that reads all but the last (each step's
// target is the number after it). A chart per time step of the input x_t, the
// number after it and the model's prediction, its cursor on the player's step.
import { sessions } from "./api.js";
import { el, showError } from "./common.js";
import { t } from "./i18n.js";
import { LineChart, lineKey } from "./linechart.js";
import { presetInfo } from "./rules.js";

/** Whether `preset` reads a typed number sequence: the server's preset facts say so. */
export const readsNumbers = (preset) => Boolean(presetInfo(preset)?.reads_numbers);
const SERIES = [
  { key: "x", colour: "#7f7f7f", shape: "circle" },
  { key: "target", colour: "#009E73", shape: "diamond" },
  { key: "pred", colour: "#0072B2", shape: "square" },
];

/** Sample 0 of an (N, T, 1) tensor, or of one (N, 1) tensor per step, as numbers by t. */
function byStep(all, name, rec, T) {
  const whole = all.get(name);
  if (whole) return Array.from(whole.data.subarray(0, T));
  return Array.from({ length: T }, (_, k) => all.get(`${rec}.t${k}.x`)?.data[0] ?? NaN);
}

/**
 * The number-sequence section, appended to `root` (hidden unless a sine preset is
 * shown); the typed text is kept in `store` (numbers). `onSession(created)` shows a
 * session made from the text.
 */
export function numbersPanel(root, store, onSession) {
  const box = el(
    "section",
    { class: "rnn-numbers", hidden: "" },
    el("h2", { text: t("rnn.numbers") }),
    el("p", { class: "muted", text: t("rnn.numbersHint") }),
  );
  const input = el("input", {
    type: "text",
    "data-control": "numbers",
    "aria-label": t("rnn.numbers"),
    placeholder: "0, 0.3, 0.6, 0.8, 0.95, 1, 0.95, 0.8",
    class: "numbers-in",
  });
  input.value = store.get().numbers || "";
  const runBtn = el("button", {
    type: "button",
    "data-control": "run-numbers",
    text: t("rnn.read"),
  });
  const chartBox = el("div", { class: "numbers-chart" });
  const keyBox = el(
    "ul",
    { class: "chart-key" },
    ...SERIES.map((s, k) => el("li", {}, lineKey(s, k), ` ${t(`rnn.numbers.${s.key}`)}`)),
  );
  box.append(el("div", { class: "controls" }, input, runBtn), chartBox, keyBox);
  root.append(box);
  const chart = new LineChart(chartBox, { label: t("rnn.numbers") });
  let shown = false;

  async function run() {
    try {
      const made = await sessions.create({
        preset: store.get().preset,
        input: { sequence: input.value },
      });
      store.set({ numbers: input.value, step: -1 });
      await onSession(made);
    } catch (err) {
      showError(root, err); // the server's message: which number, or which limit
    }
  }
  runBtn.addEventListener("click", run);
  input.addEventListener("keydown", (e) => e.key === "Enter" && run());

  return {
    /** Show the section for a sine preset (the text follows the URL). */
    show(preset) {
      box.hidden = !readsNumbers(preset);
      input.value = store.get().numbers || "";
    },
    /** The input, the next number and the prediction of each step, from the steps
     * run up to the loss (`loss.target`, `loss.in`). */
    draw(steps, session) {
      shown = false;
      if (box.hidden) return;
      const all = new Map();
      for (const step of steps)
        for (const tensor of step.tensors || []) all.set(tensor.name, tensor);
      if (!all.has("loss.in") || !all.has("loss.target")) return;
      const T = session.network.input_shape[0];
      const rec = session.network.layers[0].name;
      const values = {
        x: byStep(all, "", rec, T),
        target: byStep(all, "loss.target", rec, T),
        pred: byStep(all, "loss.in", rec, T),
      };
      chart.layout(Math.min(760, box.clientWidth || 640), 200);
      chart.setData(
        SERIES.map((s) => ({ values: values[s.key], colour: s.colour, shape: s.shape })),
        { log: false },
      );
      chart.draw(0);
      shown = true;
      box.dataset.source = session.input?.source || "";
      box.dataset.values = JSON.stringify(
        Object.fromEntries(
          Object.entries(values).map(([k, v]) => [k, v.map((u) => Number(u.toPrecision(6)))]),
        ),
      );
    },
    /** Move the chart's cursor to time step t. */
    cursor(t) {
      if (shown && Number.isInteger(t)) chart.draw(t);
    },
  };
}
