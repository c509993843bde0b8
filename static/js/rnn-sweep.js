// Accuracy vs sequence length: an RNN and an LSTM trained on the long-memory task at
// several lengths T, several times each (a seed per run: whether one run learns the
// task depends on its random start), each run a session of its own trained over the
// training stream; each length's mean accuracy and spread (lowest to highest run)
// land on the chart as runs finish, beside a reference run made beforehand by the
// engine with more seeds. The experiment (lengths, seeds, recipe) and the reference
// come from the server (engine.memory_sweep, injected with the page's rules as
// rules.rnn.sweep; the memory presets' meta.sweep says the same).
import { sessions } from "./api.js";
import { format } from "./colors.js";
import { el, showError } from "./common.js";
import { t } from "./i18n.js";
import { LINES } from "./rnn-shared.js";
import { SweepChart } from "./rnn-sweep-chart.js";
import { rules } from "./rules.js";
import { ServerStopping, streamTraining } from "./train-stream.js";

const MODELS = LINES.slice(0, 2);

/** Mean, lowest and highest of a length's accuracies so far (null before any). */
function spread(accs) {
  if (!accs?.length) return null;
  return {
    mean: accs.reduce((a, b) => a + b, 0) / accs.length,
    min: Math.min(...accs),
    max: Math.max(...accs),
    n: accs.length,
  };
}

const range = (s) => `${format(s.min)}–${format(s.max)}`;
const cellText = (s) => `${format(s.mean)} (${range(s)})`;

/** Train one run: a fresh memory-<cell> session at length T from `seed`, trained with the
 * experiment's request `sweep.requests` times (each within the server's epoch limit);
 * onEvent(name, data, k) sees request k's training events (a "queued" one while it
 * waits in the server's queue), and show(text, kind) a retry's wait (streamTraining's). */
async function trainRun(sweep, cell, T, seed, onEvent, show) {
  const overrides = { ...sweep.session_overrides, seq_len: T };
  const made = await sessions.create({ preset: `memory-${cell}`, seed, overrides });
  try {
    let diverged = false; // a diverged run has ended: no further request for it
    for (let k = 0; k < sweep.requests && !diverged; k++) {
      const onOne = (name, ev) => {
        diverged ||= name === "diverged";
        onEvent(name, ev, k);
      };
      await streamTraining(made.id, sweep.train, { onEvent: onOne, show });
    }
  } finally {
    sessions.discard(made.id);
  }
}

/** `n` of the pool's seeds at random, in increasing order. */
function drawSeeds(pool, n) {
  const left = [...pool];
  const out = [];
  while (out.length < n && left.length)
    out.push(left.splice(Math.floor(Math.random() * left.length), 1)[0]);
  return out.sort((a, b) => a - b);
}

/** The sweep section, appended to `root`; its experiment is the one the server states. */
export function sweepPanel(root) {
  const box = el("section", { class: "rnn-sweep" }, el("h2", { text: t("rnn.sweep") }));
  root.append(box);
  build(root, box, rules.rnn.sweep);
}

function build(root, box, sweep) {
  const ts = sweep.ts;
  const ref = sweep.reference;
  const tmax = String(ts[ts.length - 1]);
  box.append(
    el("p", {
      class: "muted",
      text: t("rnn.sweepHint", { ts: ts.join(", "), epochs: sweep.epochs, lr: sweep.lr }),
    }),
    el("p", {
      class: "sweep-seeds",
      text: t("rnn.sweepSeeds", { runs: sweep.live_runs, pool: sweep.seeds.length }),
    }),
    el("p", {
      class: "muted sweep-reference",
      text: t("rnn.sweepReference", {
        seeds: ref.seeds.length,
        T: tmax,
        command: ref.made_by,
        rnn: range(ref.summary.rnn[tmax]),
        rnnMean: format(ref.summary.rnn[tmax].mean),
        lstm: range(ref.summary.lstm[tmax]),
        lstmMean: format(ref.summary.lstm[tmax].mean),
      }),
    }),
  );
  box.dataset.seeds = String(sweep.live_runs);
  box.dataset.referenceSeeds = String(ref.seeds.length);
  const total = ts.length * MODELS.length * sweep.live_runs;
  const drawn = el("p", { class: "sweep-drawn", "aria-live": "polite" });
  const runBtn = el("button", {
    type: "button",
    "data-control": "sweep",
    text: t("rnn.sweepButton"),
  });
  const overall = el("progress", { max: String(total), value: "0", class: "sweep-progress" });
  const status = el("span", { class: "sweep-status", "aria-live": "polite" });
  box.append(el("div", { class: "controls" }, runBtn, overall, status), drawn);

  const table = el("table", { class: "sweep-table" });
  const head = el("tr", {}, el("th", { text: "T" }));
  for (const kind of ["live", "reference"]) {
    for (const m of MODELS) {
      head.append(
        el(
          "th",
          {},
          el("span", { class: "swatch", style: `background:${m.colour}` }),
          ` ${t(`rnn.model.${m.key}`)} ${t(`rnn.sweep.${kind}`)}`,
        ),
      );
    }
  }
  table.append(head);
  const cells = {};
  for (const T of ts) {
    const row = el("tr", {}, el("th", { text: String(T) }));
    for (const m of MODELS) {
      cells[`${m.key}${T}`] = el("td", { "data-model": m.key, "data-t": String(T), text: "—" });
      row.append(cells[`${m.key}${T}`]);
    }
    for (const m of MODELS) {
      row.append(
        el("td", {
          class: "reference",
          "data-model": m.key,
          "data-t": String(T),
          "data-accuracies": JSON.stringify(ref.accuracy[m.key][T]),
          text: cellText(ref.summary[m.key][T]),
        }),
      );
    }
    table.append(row);
  }
  const chartBox = el("div", { class: "sweep-chart" });
  const key = el("ul", { class: "chart-key" });
  for (const m of MODELS) {
    for (const kind of ["live", "reference"]) {
      const style =
        kind === "live" ? `background:${m.colour}` : `border-top:2px dashed ${m.colour}`;
      key.append(
        el(
          "li",
          {},
          el("span", { class: `swatch ${kind}`, style }),
          ` ${t(`rnn.sweepKey.${kind}`, { model: t(`rnn.model.${m.key}`), seeds: kind === "live" ? sweep.live_runs : ref.seeds.length })}`,
        ),
      );
    }
  }
  box.append(el("div", { class: "sweep-body" }, table, el("div", {}, chartBox, key)));
  const chart = new SweepChart(chartBox, ts, MODELS);

  let points = { rnn: {}, lstm: {} };
  const redraw = () => {
    const live = {};
    for (const m of MODELS)
      live[m.key] = Object.fromEntries(
        ts.map((T) => [T, spread(points[m.key][T])]).filter(([, s]) => s),
      );
    chart.draw(live, ref.summary, sweep.chance, Math.min(640, chartBox.clientWidth || 560));
    box.dataset.points = JSON.stringify(points);
    box.dataset.chance = String(sweep.chance);
  };

  /** One run; while it waits, its cell says so (its place in the server's queue, or
   * that it will try again); its accuracy joins its length's. */
  async function run(cell, T, seed, finished) {
    const td = cells[`${cell}${T}`];
    const waiting = (text) => {
      if (!points[cell][T]) td.textContent = text;
    };
    let iterations = 1;
    const last = sweep.requests - 1;
    await trainRun(
      sweep,
      cell,
      T,
      seed,
      (name, ev, k) => {
        if (name === "queued") waiting(t("train.queuedShort", { position: ev.position }));
        if (name === "start") iterations = ev.iterations;
        if (name === "progress" && !points[cell][T]) {
          const percent = Math.round((100 * (k + ev.iteration / iterations)) / sweep.requests);
          td.textContent = t("rnn.sweepRunning", { percent });
        }
        if (name === "error") throw new Error(ev.detail);
        if (name === "stopping") throw new ServerStopping(ev);
        if ((name === "done" && k === last) || name === "diverged") {
          points[cell][T] ||= [];
          points[cell][T].push(ev.test_accuracy);
          const s = spread(points[cell][T]);
          td.textContent = `${cellText(s)} · ${s.n}/${sweep.live_runs}`;
          td.dataset.accuracies = JSON.stringify(points[cell][T]);
          finished();
          redraw();
        }
      },
      (_text, kind) => kind === "retry" && waiting(t("rnn.sweepWaiting")),
    );
  }

  async function sweepAll() {
    runBtn.disabled = true;
    // A few of the reference's seeds, new ones on every click: each run gives what the
    // reference's run of that seed gave, and over clicks the spread shows.
    const seeds = drawSeeds(sweep.seeds, sweep.live_runs);
    box.dataset.liveSeeds = JSON.stringify(seeds);
    drawn.textContent = t("rnn.sweepDrawn", { list: seeds.join(", ") });
    delete box.dataset.done;
    points = { rnn: {}, lstm: {} };
    Object.values(cells).forEach((td) => {
      td.textContent = "—";
    });
    overall.value = 0;
    redraw();
    const t0 = performance.now();
    let runs = 0;
    const finished = () => {
      overall.value = ++runs;
      status.textContent = t("rnn.sweepProgress", { done: runs, total });
    };
    try {
      // One seed at every length first, so the whole curve shows early and the bands
      // fill in. One run at a time: the server's training processes are shared by
      // the whole class (a fair queue, one training per session), so runs sent side
      // by side would only wait in line and hold places other students need.
      for (const seed of seeds) {
        for (const T of ts) {
          for (const m of MODELS) await run(m.key, T, seed, finished);
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      box.dataset.seconds = seconds.toFixed(2);
      status.textContent = t("rnn.sweepDone", { seconds: seconds.toFixed(1), runs: total });
      box.dataset.done = "1";
    } catch (err) {
      if (!(err instanceof ServerStopping)) showError(root, err);
      else {
        status.textContent = err.message; // the server stopped: a restart, an update
        status.dataset.stopped = "server";
      }
    } finally {
      runBtn.disabled = false;
    }
  }
  runBtn.addEventListener("click", () => sweepAll());
  redraw();
  box.dataset.ready = "1";
}
