// The LSTM cell as a picture: the usual diagram (the cell state c running along the
// top through the forget gate's multiply and the add of i·g; the sigmoid gates f, i,
// o and the tanh candidate g below, fed by [h_(t-1), x_t]; tanh(c_t)·o giving h_t),
// with the current time step's numbers of one hidden unit on its wires. Every number
// is the API's: the step's recorded tensors (<prefix>f, .i, .g, .o, .c_prev, .c,
// .tanh_c, .h, .h_prev and c's two terms .fc = f·c_(t-1), .ig = i·g), the ones the
// page already holds for the frame, so a frame asks the API for nothing more. Each
// number opens its explanation (the view's `open`: a request on click only); the
// gates' wires are as wide and as opaque as the gate is open, so 0 and 1 read apart
// without colour. The symbols' labels are math (class formula), the same in every
// language.
import { colour, format, legend } from "./colors.js";
import { el } from "./common.js";
import { t } from "./i18n.js";
import { onQuiz, quizAsks } from "./live-hooks.js";
import { rovingFocus } from "./roving.js";
import { timeStepPrefix } from "./rnn-shared.js";

const SVG = "http://www.w3.org/2000/svg";
const PARTS = ["f", "i", "g", "o", "c_prev", "c", "tanh_c", "h", "h_prev", "fc", "ig"];
const GATES = new Set(["f", "i", "o"]);
// What each number feeds (c_t = f·c_(t-1) + i·g, h_t = o·tanh(c_t)): a question about a
// number hides it and these, which would give it away (c − i·g is f·c_(t-1)).
const FEEDS = {
  f: ["fc", "c", "tanh_c", "h"],
  i: ["ig", "c", "tanh_c", "h"],
  g: ["ig", "c", "tanh_c", "h"],
  fc: ["c", "tanh_c", "h"],
  ig: ["c", "tanh_c", "h"],
  c: ["tanh_c", "h"],
  tanh_c: ["h"],
  o: ["h"],
};
const BOX_W = 84;
const BOX_H = 28;
const WIDTH = 760; // the viewBox's: 16 units of text are 16 px from this width up

/** A new SVG element with attributes `attrs`. */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, String(v));
  }
  node.append(...children);
  return node;
}

// The wires (polylines, in the viewBox's units), each named for the gate that scales
// it, if one does. The boxes (σ, tanh) and the operators (×, +) sit on them.
const WIRES = [
  { points: "20,70 176,70" }, // c_(t-1) into the forget multiply
  { points: "204,70 366,70", gate: "f" }, // what survives of c_(t-1)
  { points: "394,70 750,70" }, // c_t on to the next step
  { points: "190,300 190,84", gate: "f" },
  { points: "310,300 310,160 366,160", gate: "i" },
  { points: "450,300 450,160 394,160" },
  { points: "380,146 380,84", gate: "i" }, // i·g up to the add
  { points: "640,70 640,146" }, // c_t down to tanh
  { points: "640,174 640,236" }, // tanh(c_t) to the output multiply
  { points: "560,300 560,250 626,250", gate: "o" },
  { points: "654,250 750,250", gate: "o" }, // h_t
  { points: "20,380 560,380" }, // the bus [h_(t-1), x_t]
  { points: "150,410 150,380" }, // x_t joining it
  { points: "190,380 190,336" },
  { points: "310,380 310,336" },
  { points: "450,380 450,336" },
  { points: "560,380 560,336" },
];
const BOXES = [
  { x: 190, fn: "σ" },
  { x: 310, fn: "σ" },
  { x: 450, fn: "tanh" },
  { x: 560, fn: "σ" },
];
const TANH = { x: 640, y: 160 };
const OPS = [
  { x: 190, y: 70, op: "×" },
  { x: 380, y: 70, op: "+" },
  { x: 380, y: 160, op: "×" },
  { x: 640, y: 250, op: "×" },
];
// The numbers: where each sits, where its name goes (above it or left of it), and the
// roving focus's lane (a column of the picture) it is in.
const NUMBERS = [
  { key: "c_prev", x: 90, y: 70, name: "above", lane: 0 },
  { key: "h_prev", x: 70, y: 380, name: "above", lane: 0 },
  { key: "fc", x: 285, y: 70, name: "above", lane: 1 },
  { key: "f", x: 190, y: 230, name: "left", lane: 1 },
  { key: "ig", x: 380, y: 115, name: "left", lane: 2 },
  { key: "i", x: 310, y: 230, name: "left", lane: 2 },
  { key: "c", x: 510, y: 70, name: "above", lane: 3 },
  { key: "g", x: 450, y: 230, name: "left", lane: 3 },
  { key: "tanh_c", x: 640, y: 205, name: "left", lane: 4 },
  { key: "o", x: 560, y: 274, name: "left", lane: 4 },
  { key: "h", x: 702, y: 250, name: "above", lane: 5 },
];

/** Black or white, whichever reads better on the fill [r, g, b]. */
function inkOn([r, g, b]) {
  const lin = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) > 0.18 ? "#000000" : "#ffffff";
}

/** The drawing: its SVG, and the parts each update changes. */
function drawing() {
  const root = svg("svg", {
    viewBox: `0 0 ${WIDTH} 420`,
    class: "lstm-cell-svg",
    role: "group",
    "aria-label": t("lstmCell.title"),
  });
  const wires = WIRES.map((w) =>
    svg("polyline", { points: w.points, class: w.gate ? "lstm-wire gated" : "lstm-wire" }),
  );
  root.append(...wires);
  for (const b of BOXES) {
    root.append(
      svg("rect", { x: b.x - 28, y: 300, width: 56, height: 36, rx: 6, class: "lstm-box" }),
      svg("text", { x: b.x, y: 324, class: "lstm-fn", text: b.fn }),
    );
  }
  root.append(
    svg("ellipse", { cx: TANH.x, cy: TANH.y, rx: 30, ry: 14, class: "lstm-box" }),
    svg("text", { x: TANH.x, y: TANH.y + 5, class: "lstm-fn small", text: "tanh" }),
  );
  for (const o of OPS) {
    root.append(
      svg("circle", { cx: o.x, cy: o.y, r: 14, class: "lstm-op" }),
      svg("text", { x: o.x, y: o.y + 6, class: "lstm-fn", text: o.op }),
    );
  }
  root.append(
    svg("text", { x: 158, y: 412, class: "lstm-name formula start", text: t("lstmCell.sym.x") }),
    svg("text", {
      x: WIDTH - 10,
      y: 94,
      class: "lstm-name formula end",
      text: t("lstmCell.sym.c_next"),
    }),
  );
  const nums = {};
  for (const n of NUMBERS) {
    const above = n.name === "above";
    const label = svg("text", {
      x: above ? n.x : n.x - BOX_W / 2 - 6,
      y: above ? n.y - BOX_H / 2 - 8 : n.y + 6,
      class: `lstm-name formula${above ? "" : " end"}`,
      text: t(`lstmCell.sym.${n.key}`),
    });
    const rect = svg("rect", {
      x: n.x - BOX_W / 2,
      y: n.y - BOX_H / 2,
      width: BOX_W,
      height: BOX_H,
      rx: 5,
    });
    const text = svg("text", { x: n.x, y: n.y + 6, class: "lstm-value" });
    const tip = svg("title");
    const g = svg("g", { class: "lstm-num", role: "button", "data-key": n.key }, tip, rect, text);
    root.append(label, g);
    nums[n.key] = { g, rect, text, tip, lane: n.lane };
  }
  return { root, wires, nums };
}

/**
 * The LSTM cell panel, appended to `parent` (hidden for a step that is not an LSTM's).
 * @param {Element} parent
 * @param {{get: () => {unit: number}, set: (patch: object) => void}} store the page's URL state
 * @param {(tensor: string, index: number[]) => void} open explains a number (the view's)
 */
export function lstmCellPanel(parent, store, open) {
  const picker = el("select", { "aria-label": t("lstmCell.unit"), "data-control": "unit" });
  const pic = drawing();
  const caption = el("p", { class: "lstm-cell-caption" });
  const legends = el("div", { class: "lstm-cell-legends" });
  const heading = el("h3", { text: t("lstmCell.title") });
  const box = el(
    "section",
    { class: "lstm-cell", hidden: "", "data-figure": "" },
    heading,
    el("p", { class: "muted", text: t("lstmCell.hint") }),
    el("label", { class: "lstm-cell-unit" }, `${t("lstmCell.unit")} `, picker),
    el("div", { class: "lstm-cell-figure" }, pic.root),
    caption,
    el(
      "p",
      { class: "muted lstm-cell-key" },
      ["f", "i", "g", "o", "c", "h"].map((p) => t(`name.part.${p}`)).join(" · "),
    ),
    legends,
  );
  parent.append(box);

  const lanes = [];
  for (const n of Object.values(pic.nums)) {
    lanes[n.lane] = lanes[n.lane] || [];
    lanes[n.lane].push(n.g);
  }
  const laneOf = new Map(lanes.flatMap((lane, a) => lane.map((g, b) => [g, [a, b]])));
  const activate = (g) => {
    const { tensor, index } = g.dataset;
    if (tensor) open(tensor, index.split(",").map(Number));
  };
  rovingFocus(pic.root, lanes, {
    across: (g, dir) => {
      const [a, b] = laneOf.get(g);
      const lane = lanes[a + dir];
      return lane?.[Math.min(b, lane.length - 1)];
    },
    activate,
  });
  for (const n of Object.values(pic.nums)) n.g.addEventListener("click", () => activate(n.g));

  let shown = null; // the step the picture is of
  onQuiz(() => {
    if (shown) update(shown); // hide (or show again) the number a question asks about
  }, box);

  picker.addEventListener("change", () => {
    store.set({ unit: Number(picker.value) });
    if (shown) update(shown);
  });

  /** The unit picker's options for H hidden units; the unit asked for, or 0. */
  function units(H) {
    if (picker.options.length !== H) {
      picker.replaceChildren(
        ...Array.from({ length: H }, (_, j) => el("option", { value: String(j), text: String(j) })),
      );
    }
    const want = Number(store.get().unit);
    const j = Number.isInteger(want) && want >= 0 && want < H ? want : 0;
    picker.value = String(j);
    return j;
  }

  /** Draw `step` from its tensors, if it is an LSTM's forward time step; else hide. */
  function update(step) {
    const prefix = timeStepPrefix(step);
    const byPart = {};
    for (const x of step.tensors || []) {
      if (prefix && x.name.startsWith(prefix)) byPart[x.name.slice(prefix.length)] = x;
    }
    if (!prefix || step.phase !== "forward" || PARTS.some((p) => !byPart[p])) {
      clear();
      return;
    }
    shown = step;
    const H = byPart.c.shape[byPart.c.shape.length - 1];
    const j = units(H);
    const index = [0, j];
    const values = {};
    for (const p of PARTS) values[p] = byPart[p].data[j];
    const signed = Object.entries(values)
      .filter(([k]) => !GATES.has(k))
      .reduce((m, [, v]) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 1);
    const scales = {
      gate: { kind: "sequential", min: 0, max: 1 },
      signed: { kind: "diverging", max: signed },
    };
    // a question (a guided task, the class's) about one of these numbers hides it and
    // what it feeds (a gate's wire is then drawn half open: its width would tell)
    const hidden = new Set();
    for (const key of PARTS)
      if (quizAsks(`${prefix}${key}`, index))
        for (const k of [key, ...(FEEDS[key] ?? [])]) hidden.add(k);
    const asked = (key) => hidden.has(key);
    for (const [key, n] of Object.entries(pic.nums)) {
      const v = values[key];
      const fill = asked(key)
        ? [238, 238, 238]
        : colour(v, GATES.has(key) ? scales.gate : scales.signed);
      n.rect.style.fill = `rgb(${fill})`;
      n.text.style.fill = inkOn(fill);
      n.text.textContent = asked(key) ? "?" : format(v);
      const name = `${t(`lstmCell.name.${key}`)} = ${asked(key) ? "?" : format(v)}`;
      n.g.setAttribute("aria-label", name);
      n.tip.textContent = name;
      n.g.dataset.value = String(v);
      n.g.dataset.tensor = `${prefix}${key}`;
      n.g.dataset.index = index.join(",");
    }
    // the gates' wires: as wide and as opaque as the gate is open
    WIRES.forEach((w, k) => {
      if (!w.gate) return;
      const u = asked(w.gate) ? 0.5 : Math.min(Math.max(values[w.gate], 0), 1);
      pic.wires[k].style.strokeWidth = String(1.5 + 7 * u);
      pic.wires[k].style.opacity = String(0.3 + 0.7 * u);
    });
    const pct = (v) => Math.round(100 * v);
    caption.hidden = Object.keys(pic.nums).some(asked); // it says every number
    caption.textContent = t("lstmCell.caption", {
      unit: j,
      t: step.t,
      f: format(values.f),
      fpct: pct(values.f),
      cprev: format(values.c_prev),
      fc: format(values.fc),
      i: format(values.i),
      ipct: pct(values.i),
      g: format(values.g),
      ig: format(values.ig),
      sum: format(values.c),
      o: format(values.o),
      tc: format(values.tanh_c),
      h: format(values.h),
    });
    legends.replaceChildren(
      legend(scales.gate, t("lstmCell.legend.gate")),
      legend(scales.signed, t("lstmCell.legend.signed")),
    );
    // a BiLSTM's direction (its "previous" step is t + 1 going backward)
    heading.textContent = step.direction
      ? `${t("lstmCell.title")} · ${t(`lstmCell.dir.${step.direction}`)}`
      : t("lstmCell.title");
    box.hidden = false;
    // a light pulse on the step's change (none with prefers-reduced-motion: the CSS)
    box.classList.remove("stepped");
    void box.offsetWidth;
    box.classList.add("stepped");
    box.dataset.t = String(step.t);
    box.dataset.unit = String(j);
    box.dataset.ready = "1";
  }

  function clear() {
    shown = null;
    box.hidden = true;
    delete box.dataset.ready;
    delete box.dataset.t;
  }

  return {
    el: box,
    /** Show `step` (errors to `onError`). */
    show: (step, onError) => {
      try {
        update(step);
      } catch (err) {
        onError(err);
      }
    },
    clear,
  };
}
