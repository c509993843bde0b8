// "Watch a CNN learn" on the CNN page: where its weights start (the trained ones or
// seeded random ones: overrides.reinit, kept in the URL), and a training panel under
// the walk: epochs and batch size within the server's limits, Train / Stop over SSE
// (train-stream.js), the loss and batch-accuracy curves (linechart.js) and the first
// conv layer's kernels redrawn as the progress events bring them (the request's
// "watch"), and the student's drawing added to the training data with its label.
import { api } from "./api.js";
import { COLOURS } from "./bp-values.js";
import { colour, format, legend } from "./colors.js";
import { el } from "./common.js";
import { t } from "./i18n.js";
import { DASHES, LineChart, lineKey } from "./linechart.js";
import { BATCH, rules } from "./rules.js";
import { stoppedText, streamTraining } from "./train-stream.js";

const limits = rules.limits; // the server's (GLASSBOX_LIMIT_*)
const WEIGHTS = ["trained", "random"];
const WATCH_EVERY = 5; // batches at least between two kernel redraws
const KERNEL_PX = 44; // a kernel's side on screen
const LOSS = { colour: COLOURS[0], shape: "circle" };
const ACC = { colour: COLOURS[1], shape: "square" };

/** The page's URL state for training: where the weights start, epochs, batch size. */
export const TRAIN_DEFAULTS = { weights: "trained", epochs: 10, batch: BATCH };

/** The overrides a preset session starts with: random weights need reinit. */
export function startOverrides(store) {
  return store.get().weights === "random" ? { reinit: true } : null;
}

/** "Start from: trained weights / random weights", kept in `store`; onChange() after. */
export function weightsChoice(store, onChange) {
  const sel = el(
    "select",
    { "aria-label": t("cnnTrain.startFrom"), "data-control": "weights" },
    ...WEIGHTS.map((w) => el("option", { value: w, text: t(`cnnTrain.weights.${w}`) })),
  );
  sel.value = WEIGHTS.includes(store.get().weights) ? store.get().weights : "trained";
  sel.addEventListener("change", () => {
    store.set({ weights: sel.value, step: -1 });
    onChange();
  });
  return el("label", {}, `${t("cnnTrain.startFrom")} `, sel);
}

function numberIn(name, value, max) {
  return el("input", {
    type: "number",
    min: "1",
    max: String(max),
    step: "1",
    value: String(Math.min(max, Math.max(1, value))),
    class: "cnn-train-number",
    "data-control": name,
  });
}

/** The kernels of the first conv layer: one small map per (kernel, input channel), all
 * on one diverging scale (so a kernel that grows looks stronger), with its legend. */
function kernelView(parent) {
  const waiting = t("cnnTrain.kernelsWait");
  const grid = el("div", { class: "cnn-kernels-grid", role: "img", "aria-label": waiting });
  const key = el("div", { class: "cnn-kernels-key" });
  const note = el("p", { class: "muted", text: waiting, "aria-hidden": "true" });
  parent.append(grid, key, note);
  let redraws = 0;
  return {
    clear() {
      grid.innerHTML = key.innerHTML = "";
      grid.setAttribute("aria-label", waiting);
      note.hidden = false;
      redraws = 0;
      delete grid.dataset.redraws;
    },
    /** Draw parameter `name` ({shape: [F, C, kh, kw], data}) after batch `iteration`. */
    draw(name, { shape, data }, iteration) {
      const [f, c, kh, kw] = shape;
      const values = data.map(Number);
      let max = 0;
      for (const v of values) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
      const scale = { kind: "diverging", max };
      if (grid.children.length !== f * c) {
        grid.innerHTML = "";
        for (let i = 0; i < f * c; i++) {
          const canvas = el("canvas", { width: String(kw), height: String(kh) });
          canvas.style.width = `${KERNEL_PX}px`;
          canvas.style.height = `${Math.round((KERNEL_PX * kh) / kw)}px`;
          grid.append(canvas);
        }
      }
      [...grid.children].forEach((canvas, i) => {
        const ctx = canvas.getContext("2d");
        const img = ctx.createImageData(kw, kh);
        for (let k = 0; k < kh * kw; k++)
          img.data.set([...colour(values[i * kh * kw + k], scale), 255], 4 * k);
        ctx.putImageData(img, 0, 0);
      });
      redraws += 1;
      const words = { layer: name.split(".")[0], n: f * c, h: kh, w: kw, batch: iteration };
      grid.setAttribute("aria-label", t("cnnTrain.kernelsLabel", words));
      grid.dataset.redraws = String(redraws);
      grid.dataset.iteration = String(iteration);
      key.innerHTML = "";
      key.append(legend(scale, t("cnnTrain.kernelsScale")));
      note.hidden = true;
    },
  };
}

/** The training panel (its `box` for the page to place). `session()` is the page's session,
 * `className(i)` a class's name, `drawing()` the pad's PNG, `lock(on)` disables the
 * page's own controls while a training runs, `reload()` shows the trained weights. */
export function trainPanel(store, { session, className, drawing, lock, reload }) {
  const box = el("section", {
    class: "cnn-train",
    "aria-labelledby": "cnn-train-title",
    "data-state": "idle",
  });
  const epochsIn = numberIn("epochs", store.get().epochs, limits.max_epochs);
  const batchIn = numberIn("batch", store.get().batch, limits.max_batch);
  const trainBtn = el("button", {
    type: "button",
    class: "primary",
    "data-control": "train",
    text: t("cnnTrain.train"),
  });
  const stopBtn = el("button", {
    type: "button",
    "data-control": "stop",
    text: t("cnnTrain.stop"),
    disabled: "",
  });
  const status = el("p", { class: "cnn-train-status", "aria-live": "polite" });
  const ticks = el("p", { class: "cnn-train-progress muted" }); // ten a second: not announced
  // a watched run reports every WATCH_EVERY batches (or more apart: the start event says)
  const lossHead = el("h3", { text: t("cnnTrain.loss", { n: WATCH_EVERY }) });
  const accHead = el("h3", { text: t("cnnTrain.acc", { n: WATCH_EVERY }) });
  const lossBox = el("div", { class: "cnn-train-chart" }, lossHead);
  const accBox = el("div", { class: "cnn-train-chart" }, accHead);
  const kernelBox = el("figure", { class: "cnn-kernels" });
  kernelBox.append(el("figcaption", { text: t("cnnTrain.kernels") }));
  box.append(
    el("h2", { id: "cnn-train-title", text: t("cnnTrain.title") }),
    el("p", { class: "muted", text: t("cnnTrain.hint") }),
    el(
      "div",
      { class: "controls" },
      el("label", {}, `${t("cnnTrain.epochs")} `, epochsIn),
      el("label", {}, `${t("cnnTrain.batch")} `, batchIn),
      trainBtn,
      stopBtn,
    ),
    status,
    ticks,
    el(
      "div",
      { class: "cnn-train-main" },
      el(
        "div",
        { class: "cnn-train-charts" },
        lossBox,
        accBox,
        el(
          "p",
          { class: "muted" },
          lineKey(LOSS, 0),
          ` ${t("cnnTrain.lossKey")}  `,
          lineKey(ACC, 1),
          ` ${t("cnnTrain.accKey")}`,
        ),
      ),
      kernelBox,
    ),
  );
  const lossChart = new LineChart(lossBox, { label: lossHead.textContent });
  const accChart = new LineChart(accBox, { label: accHead.textContent });
  const kernels = kernelView(kernelBox);
  const samples = samplesBox(box, { session, className, drawing });

  let losses = [];
  let accs = [];
  const redraw = () => {
    const width = Math.max(240, Math.min(420, lossBox.clientWidth || 360));
    lossChart.layout(width, 160);
    accChart.layout(width, 160);
    lossChart.setData([{ ...LOSS, values: losses }], { log: true });
    accChart.setData([{ ...ACC, values: accs, dash: DASHES[1] }], {});
    lossChart.draw(losses.length - 1);
    accChart.draw(accs.length - 1);
    box.dataset.points = String(losses.length);
  };

  /** The first conv layer's first parameter (its kernels), as the server names it. */
  const watched = () => {
    const conv = session().network.layers.find((l) => l.type === "conv2d");
    const key = conv && Object.keys(conv.params)[0];
    return key ? `${conv.name}.${key}` : null;
  };

  function say(text, state) {
    status.textContent = text;
    if (state) box.dataset.state = state;
  }

  function onEvent(name, ev) {
    if (name === "progress") {
      losses.push(Number(ev.loss));
      if (ev.accuracy != null) accs.push(ev.accuracy);
      const acc = ev.accuracy == null ? "–" : format(ev.accuracy);
      ticks.textContent = t("cnnTrain.progress", {
        epoch: ev.epoch,
        batch: ev.iteration,
        loss: format(Number(ev.loss)),
        acc,
      });
      for (const [param, value] of Object.entries(ev.watch || {}))
        kernels.draw(param, value, ev.iteration);
      redraw();
    } else if (name === "start") {
      if (ev.every) {
        lossHead.textContent = t("cnnTrain.loss", { n: ev.every });
        accHead.textContent = t("cnnTrain.acc", { n: ev.every });
      }
      say(t("cnnTrain.running", { n: ev.iterations, samples: ev.samples }), "running");
    } else if (name === "done") {
      const words = { acc: format(ev.test_accuracy ?? NaN), chance: format(ev.chance ?? NaN) };
      say(t("cnnTrain.done", words), "done");
    } else if (name === "diverged") say(t("cnnTrain.diverged"), "diverged");
    else if (name === "cancelled") say(t("cnnTrain.cancelled"), "cancelled");
    else if (name === "stopping") say(stoppedText(ev), "stopping");
    else if (name === "error") say(t("cnnTrain.error", { detail: ev.detail }), "error");
  }

  let stopping = null;
  stopBtn.addEventListener("click", () => stopping?.abort());

  async function train() {
    for (const input of [epochsIn, batchIn]) {
      if (input.checkValidity()) continue;
      const max = format(Number(input.max));
      const field = t(`cnnTrain.${input.dataset.control}`);
      say(t("cnnTrain.badNumber", { field, max }), "refused");
      status.dataset.field = input.dataset.control;
      input.focus();
      return;
    }
    delete status.dataset.field;
    const epochs = Number(epochsIn.value);
    const batch = Number(batchIn.value);
    store.set({ epochs, batch });
    const param = watched();
    const body = { epochs, batch_size: batch, watch_every: WATCH_EVERY };
    if (param) body.watch = [param];
    // the curves go on from the last run of this session (reset() starts them anew)
    ticks.textContent = "";
    stopping = new AbortController();
    trainBtn.disabled = true;
    stopBtn.disabled = false;
    lock(true);
    say(t("cnnTrain.starting"), "waiting");
    let started = false;
    let last = null;
    try {
      const show = (text, kind) => {
        if (text) say(text, kind === "retry" ? "retry" : "waiting");
      };
      ({ last, started } = await streamTraining(session().id, body, {
        onEvent,
        show,
        signal: stopping.signal,
      }));
      if (!started && last?.event === "cancelled") say(t("cnnTrain.cancelledWaiting"), "idle");
    } catch (err) {
      say(t("cnnTrain.refused", { reason: err.message }), "refused"); // limits, queue full
    } finally {
      stopping = null;
      stopBtn.disabled = true;
      trainBtn.disabled = false;
      lock(false);
    }
    // what it learned is saved (also when stopped or diverged): the walk shows it
    if (started && last?.event !== "stopping") await reload();
    box.dataset.runs = String(Number(box.dataset.runs || 0) + 1); // (for tests and tools)
  }
  trainBtn.addEventListener("click", () => train());

  return {
    box,
    /** A new session on the page: a new history, its kernels and its added samples. */
    reset() {
      losses = [];
      accs = [];
      kernels.clear();
      ticks.textContent = "";
      say("", "idle");
      redraw();
      samples.refresh();
    },
    train,
  };
}

/** "Add this drawing to the training data": the label (the session's classes), the
 * button, and how many the session holds of the server's limit. */
function samplesBox(parent, { session, className, drawing }) {
  const labelSel = el("select", { "data-control": "sample-label" });
  const addBtn = el("button", {
    type: "button",
    "data-control": "add-sample",
    text: t("cnnTrain.add"),
  });
  const clearBtn = el("button", {
    type: "button",
    "data-control": "clear-samples",
    text: t("cnnTrain.clear"),
  });
  const count = el("p", { class: "cnn-samples-count", "aria-live": "polite" });
  parent.append(
    el(
      "div",
      { class: "cnn-samples", role: "group", "aria-labelledby": "cnn-samples-title" },
      el("h3", { id: "cnn-samples-title", text: t("cnnTrain.samples") }),
      el("p", { class: "muted", text: t("cnnTrain.samplesHint") }),
      el(
        "div",
        { class: "controls" },
        el("label", {}, `${t("cnnTrain.itIs")} `, labelSel),
        addBtn,
        clearBtn,
      ),
      count,
    ),
  );
  const showCount = (res) => {
    count.textContent = t("cnnTrain.added", { n: res.added, limit: res.limit });
    count.dataset.added = String(res.added);
    addBtn.disabled = res.added >= res.limit;
    clearBtn.disabled = res.added === 0;
    delete count.dataset.error;
  };
  clearBtn.addEventListener("click", async () => {
    try {
      showCount(await api("POST", `/api/sessions/${session().id}/samples/clear`, {}));
    } catch (err) {
      count.textContent = err.message;
      count.dataset.error = "1";
    }
  });
  addBtn.addEventListener("click", async () => {
    addBtn.disabled = true;
    try {
      const body = { image: { png: drawing(), invert: false }, label: Number(labelSel.value) };
      showCount(await api("POST", `/api/sessions/${session().id}/samples`, body));
    } catch (err) {
      count.textContent = err.message;
      count.dataset.error = "1";
      addBtn.disabled = false;
    }
  });
  return {
    refresh() {
      const s = session();
      const classes = s.dataset?.classes || [];
      labelSel.innerHTML = "";
      classes.forEach((_, i) => {
        labelSel.append(el("option", { value: String(i), text: className(i) }));
      });
      if (s.input?.label != null) labelSel.value = String(s.input.label);
      parent.querySelector(".cnn-samples").hidden = !classes.length;
      // (the session says how many it holds: no request of its own)
      showCount({ added: s.added_samples ?? 0, limit: limits.max_extra_samples });
    },
  };
}
