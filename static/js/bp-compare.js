// BP learning rates side by side: the same network trained at several learning
// rates (POST /api/bp/compare), their training losses on one log chart and a row
// per rate with its final loss, test accuracy and a divergence flag.
import { api } from "./api.js";
import { allFine, inlineCheck, rates, whole } from "./bp-fields.js";
import { COLOURS, SHAPES, finite, num, untilNonFinite } from "./bp-values.js";
import { format } from "./colors.js";
import { clearError, el } from "./common.js";
import { t } from "./i18n.js";
import { LineChart, lineKey } from "./linechart.js";
import { BATCH, rules } from "./rules.js";

/** One run's row: swatch, rate, final loss, test accuracy and why it diverged. */
function runRow(r, i) {
  const losses = r.train_loss.map(num);
  const end = losses[losses.length - 1];
  const raw = r.train_loss[losses.length - 1];
  let flag = "";
  if (r.nonfinite) flag = t("bp.divergedNaN", { epoch: r.nonfinite_at_epoch, value: raw });
  else if (r.diverged) flag = t("bp.divergedUp", { from: format(losses[0]), to: format(end) });
  return el(
    "li",
    {
      class: `bp-run${r.diverged ? " diverged" : ""}`,
      "data-lr": String(r.lr),
      "data-diverged": r.diverged ? "1" : "0",
      "data-final-loss": String(raw),
    },
    lineKey({ colour: COLOURS[i % COLOURS.length], shape: SHAPES[i % SHAPES.length] }, i),
    el("strong", { text: `${t("bp.lr")} = ${r.lr}` }),
    el("span", { text: `  ${t("bp.finalLoss")} ${finite(end) ? format(end) : String(raw)}` }),
    el("span", {
      text: `  ${t("bp.testAcc")} ${format(r.test_accuracy[r.test_accuracy.length - 1])}`,
    }),
    flag ? el("span", { class: "bp-flag diverged", text: `  ⚠ ${flag}` }) : null,
  );
}

const maxEpochs = rules.limits.max_epochs; // the server's limit (GLASSBOX_LIMIT_MAX_EPOCHS)
const maxRuns = rules.bp.max_compare_runs; // the server's limit (GLASSBOX_LIMIT_MAX_COMPARE_RUNS)
const LRS_SEP = /[,\s，_]+/;

/** The comparison section, appended to `root`; compare() runs it with the network
 * from config() ({dataset, noise, hidden, activation, loss, seed}: the built one). The
 * rates and epochs live in `store` (the URL: lrs=0.01_0.3_3_100), and so does whether
 * they ran (cmp=1: a link opens with the runs shown; they are seeded, so the same).
 * A rate or epoch count out of the server's range is refused inline, nothing sent.
 * The chart's and rows' drawing time goes to data-compare-render-ms. */
export function comparePanel(root, config, store) {
  const lrsIn = el("input", {
    type: "text",
    value: String(store.get().lrs).split(LRS_SEP).join(", "),
    "data-field": "lrs",
    "aria-label": t("bp.lrs"),
  });
  const cmpEpochs = el("input", {
    type: "number",
    min: "1",
    max: String(maxEpochs),
    value: String(store.get().cmpEpochs),
    "data-field": "compare-epochs",
    "aria-label": t("bp.epochs"),
  });
  const lrsLabel = el("label", {}, `${t("bp.lrs")} `, lrsIn);
  const epochsLabel = el("label", {}, `${t("bp.epochs")} `, cmpEpochs);
  const cmpBtn = el("button", {
    type: "button",
    class: "primary",
    "data-act": "compare",
    text: t("bp.compare"),
  });
  const cmpChartBox = el(
    "div",
    { class: "bp-chart bp-compare-chart" },
    el("p", { class: "muted", text: t("bp.logAxis") }),
  );
  const cmpRows = el("ol", { class: "bp-compare-rows" });
  root.append(
    el(
      "section",
      { class: "bp-compare" },
      el("h2", { text: t("bp.compareTitle") }),
      el("p", { class: "muted", text: t("bp.compareHelp") }),
      el("div", { class: "controls" }, lrsLabel, epochsLabel, cmpBtn),
      cmpChartBox,
      cmpRows,
    ),
  );
  const checks = [
    inlineCheck(lrsIn, lrsLabel, rates(rules.bp.lr, LRS_SEP)),
    inlineCheck(cmpEpochs, epochsLabel, whole(t("bp.epochs"), 1, maxEpochs)),
  ];
  const cmpChart = new LineChart(cmpChartBox, { label: t("bp.compareTitle") });

  function draw(res) {
    const t0 = performance.now();
    const width = Math.max(240, Math.round(cmpChartBox.clientWidth || 600));
    if (width !== cmpChart.width || cmpChart.height !== 220) cmpChart.layout(width, 220);
    const runs = res.runs;
    // The chart stops at 1000 x the starting loss, so a run that blows up does not
    // flatten the others; its row gives the real numbers.
    const cap = 1000 * Math.max(...runs.map((r) => num(r.train_loss[0])).filter(finite), 1e-6);
    cmpChart.setData(
      runs.map((r, i) => ({
        values: untilNonFinite(r.train_loss).map((v) => Math.min(v, cap)),
        // a raised run limit reuses the colours and shapes
        colour: COLOURS[i % COLOURS.length],
        shape: SHAPES[i % SHAPES.length],
      })),
      { log: true },
    );
    cmpChart.draw(res.epochs);
    cmpRows.innerHTML = "";
    runs.forEach((r, i) => {
      cmpRows.append(runRow(r, i));
    });
    root.dataset.compareRenderMs = (performance.now() - t0).toFixed(2);
  }

  async function compare() {
    if (!allFine(checks, [lrsIn, cmpEpochs])) return; // refused inline: nothing is sent
    const lrs = lrsIn.value.split(LRS_SEP).filter(Boolean).map(Number).slice(0, maxRuns);
    const epochs = Math.max(1, Math.min(maxEpochs, Math.round(Number(cmpEpochs.value) || 1)));
    const cfg = config();
    cmpBtn.disabled = true;
    try {
      const network = { ...cfg };
      delete network.lr; // each run has its own rate
      const res = await api("POST", "/api/bp/compare", {
        ...network,
        lrs,
        epochs,
        batch_size: BATCH,
      });
      store.set({ lrs: lrs.join("_"), cmpEpochs: epochs, cmp: true });
      lrsIn.value = lrs.join(", "); // the rates run (at most the server's limit)
      clearError(root);
      draw(res);
      root.dataset.compared = String(Number(root.dataset.compared || 0) + 1);
    } finally {
      cmpBtn.disabled = false;
    }
  }

  return { cmpBtn, compare };
}
