// The BP network as an SVG diagram: a column of neurons per layer, coloured by
// the pass's values (or deltas once backward starts), edges coloured by weight,
// and an edge's hover showing its w, dw and the update's arithmetic; a click (or
// Enter) on an edge or a neuron asks the server to explain its newest number.
import { colour, format, legend } from "./colors.js";
import { outputPanel } from "./bp-output.js";
import { edgeText, neuronText } from "./bp-tips.js";
import { sessions } from "./api.js";
import { captionBox, el, explainPanel, showError } from "./common.js";
import { t } from "./i18n.js";

const MAX_DRAWN = 12; // neurons drawn per column (the digits' 64 inputs are elided)
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** The columns of the diagram: input, each dense layer's neurons (value = the
 * activation's output: the hidden activation, the output sigmoid of an MSE network,
 * or none for the logits of softmax cross-entropy; delta = dL/d(pre-activation)),
 * with the tensors that hold them. */
function columns(network) {
  const layers = network.layers;
  const dense = layers.filter((l) => l.type === "dense");
  const cols = [
    {
      label: t("bp.input"),
      value: "dense1.in",
      delta: "dense1.dx",
      n: dense[0].settings.in_features,
    },
  ];
  dense.forEach((d, k) => {
    const i = layers.indexOf(d);
    const act = i + 1 < layers.length ? layers[i + 1] : null;
    const output = k === dense.length - 1;
    let label = act ? `${d.name} · ${act.type}` : `${d.name} · ${t("bp.output")}`;
    if (output && act) label = `${d.name} · ${act.type} · ${t("bp.outputSigmoid")}`;
    cols.push({
      label,
      value: act ? `${act.name}.out` : `${d.name}.out`,
      pre: `${d.name}.out`,
      // dL/dz: the activation's backward step computes it (the dense one receives it)
      delta: act ? `${act.name}.dx` : `${d.name}.dout`,
      dense: d.name,
      act: act ? act.type : null,
      n: d.settings.out_features,
    });
  });
  return cols;
}

/** The tensors known after step `frame` (a later step's tensors are not shown yet). */
function known(steps, frame) {
  const map = new Map();
  for (let k = 0; k <= frame && k < steps.length; k++)
    for (const tn of steps[k].tensors || []) map.set(tn.name, tn);
  return map;
}

function row(tensor, n = 0) {
  if (!tensor) return null;
  const cols = tensor.shape[tensor.shape.length - 1];
  return tensor.data.subarray(n * cols, (n + 1) * cols);
}

/** The column labels and the "+n more" notes of elided neurons. */
function drawLabels(svgRoot, cols, drawn, x, height) {
  cols.forEach((c, k) => {
    svgRoot.append(
      Object.assign(
        svg("text", { x: x(k), y: 18, "text-anchor": "middle", class: "bp-col-label" }),
        { textContent: c.label },
      ),
    );
    if (c.n > drawn[k]) {
      svgRoot.append(
        Object.assign(
          svg("text", { x: x(k), y: height - 4, "text-anchor": "middle", class: "muted" }),
          { textContent: t("bp.more.n", { n: c.n - drawn[k] }) },
        ),
      );
    }
  });
}

/** One line per drawn weight, each calling onHover(line) on mouseenter and focus. */
function drawEdges(group, cols, drawn, x, y, onHover) {
  const edges = [];
  cols.forEach((c, k) => {
    if (k === 0) return;
    for (let j = 0; j < drawn[k]; j++) {
      for (let i = 0; i < drawn[k - 1]; i++) {
        const line = svg("line", {
          x1: x(k - 1),
          y1: y(k - 1, i),
          x2: x(k),
          y2: y(k, j),
          class: "bp-edge",
          "data-layer": c.dense,
          "data-from": i,
          "data-to": j,
          tabindex: "0",
        });
        line.addEventListener("mouseenter", () => onHover(line));
        line.addEventListener("focus", () => onHover(line));
        line.addEventListener("click", () => onHover(line, true));
        line.addEventListener("keydown", (e) => {
          if (e.key !== "Enter" && e.key !== " ") return;
          e.preventDefault();
          e.stopPropagation();
          onHover(line, true);
        });
        group.append(line);
        edges.push({ line, layer: c.dense, i, j, fanIn: cols[k - 1].n });
      }
    }
  });
  return edges;
}

/** One circle and number per drawn neuron, each calling onHover(k, i) on mouseenter and focus. */
function drawNodes(group, cols, drawn, x, y, onHover) {
  return cols.map((_c, k) =>
    Array.from({ length: drawn[k] }, (_, i) => {
      const g = svg("g", { class: "bp-neuron", "data-col": k, "data-i": i, tabindex: "0" });
      g.addEventListener("mouseenter", () => onHover(k, i));
      g.addEventListener("focus", () => onHover(k, i));
      g.addEventListener("click", () => onHover(k, i, true));
      g.addEventListener("keydown", (e) => {
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault();
        e.stopPropagation();
        onHover(k, i, true);
      });
      const circle = svg("circle", { cx: x(k), cy: y(k, i), r: 13 });
      const label = svg("text", { x: x(k) + 17, y: y(k, i) + 4, class: "bp-num" });
      g.append(circle, label);
      group.append(g);
      return { g, circle, label };
    }),
  );
}

/** Colour the neurons by value, or by delta once the backward pass has them. */
function paintNodes(layout, current, backward) {
  let maxAbs = 0;
  const shown = layout.cols.map((c) => {
    const values = row(current.get(c.value));
    const deltas = row(current.get(c.delta));
    const use = backward && deltas ? deltas : values;
    if (use)
      for (let i = 0; i < Math.min(use.length, MAX_DRAWN); i++)
        maxAbs = Math.max(maxAbs, Math.abs(use[i]));
    return { values, deltas, use };
  });
  const scale = { kind: "diverging", max: maxAbs || 1 };
  layout.cols.forEach((_c, k) => {
    const { values, deltas, use } = shown[k];
    layout.nodes[k].forEach((node, i) => {
      const v = use ? use[i] : NaN;
      node.circle.setAttribute("fill", use ? `rgb(${colour(v, scale)})` : "var(--bg)");
      node.label.textContent = use ? `${backward && deltas ? "δ " : ""}${format(v)}` : "";
      node.g.dataset.value = values ? String(values[i]) : "";
      node.g.dataset.delta = deltas ? String(deltas[i]) : "";
      node.g.dataset.shown = backward && deltas ? "delta" : values ? "value" : "";
    });
  });
}

/** Edges: coloured by the weight (after the update once it has run). */
function paintEdges(layout, current) {
  let wMax = 0;
  const weights = new Map();
  for (const c of layout.cols.slice(1)) {
    const w = current.get(`${c.dense}.w.after`) || current.get(`${c.dense}.w`);
    weights.set(c.dense, w);
    if (w) for (const v of w.data) if (Number.isFinite(v)) wMax = Math.max(wMax, Math.abs(v));
  }
  const wScale = { kind: "diverging", max: wMax || 1 };
  for (const e of layout.edges) {
    const w = weights.get(e.layer);
    if (!w) {
      e.line.setAttribute("stroke", "var(--border)");
      e.line.setAttribute("stroke-width", "1");
      continue;
    }
    const v = w.data[e.j * e.fanIn + e.i];
    e.line.setAttribute("stroke", `rgb(${colour(v, wScale)})`);
    e.line.setAttribute("stroke-width", String(1 + 3 * Math.min(1, Math.abs(v) / (wMax || 1))));
  }
}

/** The pass section (diagram, colour key, edge tip, loss line) and its caption,
 * appended to `root`; draw(session) lays the network out, show(steps, frame)
 * paints what is known after step `frame`. */
export function passPanel(root) {
  const diagramBox = el("figure", { class: "bp-diagram" });
  const tip = el("p", { class: "bp-tip formula", "aria-live": "polite", text: t("bp.edgeHint") });
  const lossLine = el("p", { class: "bp-loss" });
  const colourKey = el(
    "div",
    { class: "bp-legend" },
    legend({ kind: "diverging", max: 1 }, t("bp.colourKey")),
  );
  const section = el(
    "section",
    {},
    el("h2", { text: t("bp.pass") }),
    diagramBox,
    colourKey,
    tip,
    lossLine,
  );
  root.append(section);
  const output = outputPanel(section);
  const panel = explainPanel(section);
  const caption = captionBox(root);

  let session = null;
  const explainer = {
    async explain(name, index) {
      try {
        panel.show(await sessions.explain(session.id, name, index), `${name}[${index.join(",")}]`);
      } catch (err) {
        showError(section, err);
      }
    },
  };
  let layout = null; // the diagram's columns and edges
  let current = new Map();

  function draw(s) {
    session = s;
    const cols = columns(session.network);
    const width = Math.max(480, Math.min(diagramBox.clientWidth || 800, 980));
    const drawn = cols.map((c) => Math.min(c.n, MAX_DRAWN));
    const height = 60 + Math.max(...drawn) * 38;
    const x = (k) => 60 + (k * (width - 170)) / (cols.length - 1);
    const y = (k, i) => 40 + ((i + 0.5) * (height - 60)) / drawn[k];
    const svgRoot = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      class: "bp-net",
    });
    const edgeGroup = svg("g", { class: "bp-edges" });
    const nodeGroup = svg("g", { class: "bp-nodes" });
    svgRoot.append(edgeGroup, nodeGroup);
    drawLabels(svgRoot, cols, drawn, x, height);
    const edges = drawEdges(edgeGroup, cols, drawn, x, y, showEdge);
    const nodes = drawNodes(nodeGroup, cols, drawn, x, y, showNeuron);
    diagramBox.innerHTML = "";
    diagramBox.append(svgRoot);
    layout = { cols, nodes, edges };
    output.draw(session);
  }

  function show(steps, frame) {
    const t0 = performance.now();
    current = known(steps, frame);
    const step = steps[frame];
    const phase = step ? step.phase : "forward";
    paintNodes(layout, current, phase === "backward" || phase === "update");
    paintEdges(layout, current);
    const loss = current.get("loss.value");
    lossLine.textContent = loss ? t("bp.lossNow", { loss: format(loss.data[0]) }) : "";
    if (step) caption.show(step);
    output.show(current);
    root.dataset.frame = String(frame);
    root.dataset.phase = phase;
    if (tip.dataset.kind === "edge")
      showEdge(
        layout.edges.find(
          (e) =>
            e.layer === tip.dataset.layer &&
            String(e.i) === tip.dataset.from &&
            String(e.j) === tip.dataset.to,
        )?.line,
      );
    if (tip.dataset.kind === "neuron") showNeuron(Number(tip.dataset.col), Number(tip.dataset.i));
    root.dataset.renderMs = (performance.now() - t0).toFixed(2);
  }

  /** The newest number the pass has for a weight or a neuron, explained by the server
   * (a click or Enter; hovering only shows the tip). */
  function explainLatest(candidates) {
    const hit = candidates.find(([name]) => current.has(name));
    if (hit) explainer.explain(hit[0], hit[1]);
  }

  function showEdge(line, explain = false) {
    if (!line) return;
    const layer = line.dataset.layer;
    const i = Number(line.dataset.from);
    const j = Number(line.dataset.to);
    if (explain)
      explainLatest([
        [`${layer}.w.after`, [j, i]],
        [`${layer}.dw`, [j, i]],
        [`${layer}.w`, [j, i]],
      ]);
    const fanIn = layout.edges.find((e) => e.line === line).fanIn;
    const { text, w, dw, after } = edgeText(current, layer, i, j, fanIn, session.optimizer);
    tip.textContent = text;
    clearTip();
    Object.assign(tip.dataset, {
      kind: "edge",
      layer,
      from: String(i),
      to: String(j),
      w: String(w ?? ""),
      dw: String(dw ?? ""),
      after: String(after ?? ""),
    });
    for (const e of layout.edges) e.line.classList.toggle("hover", e.line === line);
  }

  /** Neuron i of column k: its numbers (value, delta, bias and its update) in the tip. */
  function showNeuron(k, i, explain = false) {
    const col = layout.cols[k];
    if (!col) return;
    if (explain)
      explainLatest(
        [
          [col.delta, [0, i]],
          [col.value, [0, i]],
          [col.pre, [0, i]],
        ].filter(([n]) => n),
      );
    const { text, numbers } = neuronText(current, col, k, i, session.optimizer);
    tip.textContent = text;
    clearTip();
    Object.assign(tip.dataset, { kind: "neuron", col: String(k), i: String(i) });
    for (const [key, v] of Object.entries(numbers)) tip.dataset[key] = String(v ?? "");
    for (const e of layout.edges) e.line.classList.remove("hover");
  }

  function clearTip() {
    for (const key of Object.keys(tip.dataset)) delete tip.dataset[key];
  }

  return { draw, show };
}
