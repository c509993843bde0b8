// Backward through time: ||dL/dh_t|| over t for an untrained RNN (its recurrent
// weight scale, nonlinearity and clipping as controls, kept in the URL) beside a
// trained LSTM's ||dL/dh_t|| and ||dL/dc_t||, on one log chart, both over the 40
// steps the LSTM was trained on. The scale slider's range is the preset's own
// (vanishing-rnn's scales, stated by the server in rules.rnn.scale_range).
import { sessions } from "./api.js";
import { format } from "./colors.js";
import { el, showError } from "./common.js";
import { t } from "./i18n.js";
import { LineChart, lineKey } from "./linechart.js";
import { LINES } from "./rnn-shared.js";
import { rules } from "./rules.js";

// The LSTM is the memory task's LSTM trained on 40-step sequences (rules.rnn.gradient_chart),
// run at the length it was trained at; the RNN runs over the same number of steps,
// so the lines compare fairly. (memory-lstm, trained on 20 steps and run over 40,
// loses its gradient: an LSTM keeps it over the lengths it was trained on.)
const { nonlinearities, scale_range: SCALES } = rules.rnn; // what vanishing-rnn accepts
const { rnn: RNN_PRESET, lstm: LSTM_PRESET } = rules.rnn.gradient_chart;

/** The per-step gradient norms (and clipping) of one training step of a new session:
 * its pass run to the last backward step in one request that carries only the norms by
 * time step and the clipping's scalars (not every step's tensors). */
async function norms(body) {
  const made = await sessions.create(body);
  const last = made.plan.findLastIndex((p) => p.phase === "backward");
  const res = await sessions.steps(
    made.id,
    { to: last },
    { names: ["clip.*"], series: ["dh_norm", "dc_norm"] },
  );
  // one recurrent layer; "NaN" and "Infinity" arrive as strings
  const byT = (q) => (Object.values(res.series[q].layers)[0] || []).map(Number);
  const clip = {};
  for (const tensor of res.steps[0].tensors) clip[tensor.name.slice(5)] = tensor.data[0];
  return { id: made.id, dh: byT("dh_norm"), dc: byT("dc_norm"), clip };
}

/** ||dL/dh_0|| / ||dL/dh_{T-1}||: how much of the last step's gradient reaches the first. */
const ratio = (dh) => dh[0] / dh[dh.length - 1];

/** Both models' first-to-last ratios, and the RNN's clipping when it ran. */
function infoText(rnn, lstm) {
  const T = rnn.dh.length - 1;
  let info = `${t("rnn.ratio", { ratio: format(ratio(rnn.dh)), T })} · ${t("rnn.ratioLstm", { ratio: format(ratio(lstm.dh)), T })}`;
  if (rnn.clip.norm_before !== undefined) {
    info += ` · ${t("rnn.clipped", { before: format(rnn.clip.norm_before), after: format(rnn.clip.norm_after) })}`;
  }
  return info;
}

/** The gradients section, appended to `root`, its controls bound to `store`
 * (scale, nl, clip); draw() fetches and draws the norms. */
export function gradientsPanel(root, store) {
  const s = store.get();
  const gradBox = el(
    "section",
    { class: "rnn-gradients" },
    el("h2", { text: t("rnn.gradients") }),
    el("p", { class: "muted", text: t("rnn.gradientsHint") }),
  );
  // min, max and step come from the server (setRange) before the first draw
  const scaleIn = el("input", {
    type: "range",
    "aria-label": t("rnn.scale"),
    "data-control": "scale",
  });
  const scaleOut = el("output", { text: format(s.scale) });
  const nlSel = el(
    "select",
    { "aria-label": t("rnn.nonlinearity"), "data-control": "nl" },
    ...nonlinearities.map((v) => el("option", { value: v, text: v })),
  );
  nlSel.value = nonlinearities.includes(s.nl) ? s.nl : rules.rnn.default_nonlinearity;
  const clipIn = el("input", { type: "checkbox", "data-control": "clip" });
  clipIn.checked = Boolean(s.clip);
  gradBox.append(
    el(
      "div",
      { class: "controls" },
      el("label", {}, `${t("rnn.scale")} `, scaleIn, " ", scaleOut),
      el("label", {}, `${t("rnn.nonlinearity")} `, nlSel),
      el("label", {}, clipIn, ` ${t("rnn.clip")}`),
    ),
  );
  const chartBox = el("div", { class: "grad-chart" });
  gradBox.append(chartBox);
  const chart = new LineChart(chartBox, { label: t("rnn.gradients") });
  const keyBox = el("ul", { class: "chart-key" });
  const gradInfo = el("p", { class: "grad-info", "aria-live": "polite" });
  const gradLoss = el("p", { class: "muted grad-loss", text: t("rnn.gradientsLoss") });
  const gradNote = el("p", { class: "muted grad-note", text: t("rnn.gradientsNote") });
  gradBox.append(keyBox, gradInfo, gradLoss, gradNote);
  root.append(gradBox);

  let ranged = false;
  let lstmNorms = null;
  let gradSession = null;
  let gradTimer = null;
  let gradSeq = 0;

  function drawChart(rnn) {
    const values = { rnn: rnn.dh, lstm: lstmNorms.dh, lstmc: lstmNorms.dc };
    chart.layout(Math.min(760, gradBox.clientWidth || 640), 220);
    chart.setData(
      LINES.map((l) => ({ values: values[l.key], colour: l.colour, shape: l.shape })),
      { log: true },
    );
    chart.draw(values.rnn.length - 1);
    keyBox.innerHTML = "";
    for (const [k, l] of LINES.entries()) {
      keyBox.append(el("li", {}, lineKey(l, k), ` ${t(`rnn.line.${l.key}`)}`));
    }
  }

  /** The slider's range as the server states it; a scale from the URL outside it is
   * brought inside (the slider's own rounding to its step is what the chart runs). */
  function setRange() {
    const { min, max, step } = SCALES;
    Object.assign(scaleIn, { min: String(min), max: String(max), step: String(step) });
    scaleIn.value = String(store.get().scale);
    const scale = Number(scaleIn.value);
    scaleOut.textContent = format(scale);
    if (scale !== Number(store.get().scale)) store.set({ scale });
    ranged = true;
  }

  async function draw() {
    const seq = ++gradSeq;
    if (!ranged) setRange();
    const st = store.get();
    if (!lstmNorms) {
      lstmNorms = await norms({ preset: LSTM_PRESET });
      sessions.discard(lstmNorms.id);
    }
    const overrides = { scale: st.scale, nonlinearity: st.nl, seq_len: lstmNorms.dh.length };
    if (st.clip) overrides.clip = 1;
    const rnn = await norms({ preset: RNN_PRESET, overrides });
    if (seq !== gradSeq) return sessions.discard(rnn.id);
    sessions.discard(gradSession);
    gradSession = rnn.id;
    drawChart(rnn);
    gradInfo.textContent = infoText(rnn, lstmNorms);
    chartBox.dataset.norms = JSON.stringify(rnn.dh.map((v) => Number(v.toPrecision(6))));
    chartBox.dataset.lstmNorms = JSON.stringify(lstmNorms.dh.map((v) => Number(v.toPrecision(6))));
    chartBox.dataset.lstmCellNorms = JSON.stringify(
      lstmNorms.dc.map((v) => Number(v.toPrecision(6))),
    );
    chartBox.dataset.ratio = String(ratio(rnn.dh));
    chartBox.dataset.lstmRatio = String(ratio(lstmNorms.dh));
    gradBox.dataset.ready = "1";
  }

  function later() {
    clearTimeout(gradTimer);
    gradTimer = setTimeout(() => draw().catch((e) => showError(root, e)), 200);
  }

  scaleIn.addEventListener("input", () => {
    scaleOut.textContent = format(Number(scaleIn.value));
    store.set({ scale: Number(scaleIn.value) });
    later();
  });
  nlSel.addEventListener("change", () => {
    store.set({ nl: nlSel.value });
    later();
  });
  clipIn.addEventListener("change", () => {
    store.set({ clip: clipIn.checked });
    later();
  });

  return { draw };
}
