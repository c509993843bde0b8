// The BP network as an SVG diagram: a column of neurons per layer, coloured by
// the pass's values (or deltas once backward starts), edges coloured by weight,
// and an edge's hover showing its w, dw and the update's arithmetic. A tap or click
// pins the tip of exactly what it touched (until another tap or Escape; hovering
// still previews) and asks the server to explain its newest number. The diagram is
// one tab stop (roving.js): arrows move among neurons and weights, Enter explains.
import { format, legend } from "./colors.js";
import { outputPanel } from "./bp-output.js";
import { MAX_DRAWN, edgeText, neuronText, paintEdges, paintNodes } from "./bp-tips.js";
import { sessions } from "./api.js";
import { captionBox, el, explainPanel, showError } from "./common.js";
import { attachDownloads } from "./export.js";
import { t } from "./i18n.js";
import { registerCellOpener } from "./live-hooks.js";
import { fnLabel, layerLabel } from "./names.js";
import { rovingFocus } from "./roving.js";
import { clearCell, noteCell } from "./share.js";

const SVG = "http://www.w3.org/2000/svg";
const TIP_ID = "bp-tip"; // the tip describes every neuron and weight (aria-describedby)

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
    const layer = layerLabel(d.name); // names.js: "dense layer 1"
    let label = act ? `${layer} · ${fnLabel(act.type)}` : `${layer} · ${t("bp.output")}`;
    if (output && act) label = `${layer} · ${fnLabel(act.type)} · ${t("bp.outputSigmoid")}`;
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

/** One line per drawn weight, lane by lane (the weights into column k, w[j, i]
 * row by row as the weight matrix reads). */
function drawEdges(group, cols, drawn, x, y) {
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
          role: "button",
          "aria-describedby": TIP_ID,
          "data-layer": c.dense,
          "data-col": k,
          "data-from": i,
          "data-to": j,
        });
        group.append(line);
        edges.push({ line, layer: c.dense, k, i, j, fanIn: cols[k - 1].n });
      }
    }
  });
  return edges;
}

/** One circle and number per drawn neuron. */
function drawNodes(group, cols, drawn, x, y) {
  return cols.map((_c, k) =>
    Array.from({ length: drawn[k] }, (_, i) => {
      const g = svg("g", {
        class: "bp-neuron",
        role: "button",
        "aria-describedby": TIP_ID,
        "data-col": k,
        "data-i": i,
      });
      const circle = svg("circle", { cx: x(k), cy: y(k, i), r: 13 });
      const label = svg("text", { x: x(k) + 17, y: y(k, i) + 4, class: "bp-num" });
      g.append(circle, label);
      group.append(g);
      return { g, circle, label };
    }),
  );
}

/** The diagram's lanes for the keyboard: neurons of column 0, the weights into column
 * 1, its neurons, ...; Left/Right from a neuron go to its first weight out of (or into)
 * it, from a weight to the neuron it leaves (or enters). */
function keyboard(svgRoot, layout, activate) {
  const { cols, nodes, edges } = layout;
  const into = cols.map((_c, k) => edges.filter((e) => e.k === k).map((e) => e.line));
  const lanes = [];
  cols.forEach((_c, k) => {
    if (k > 0) lanes.push(into[k]);
    lanes.push(nodes[k].map((n) => n.g));
  });
  const across = (item, dir) => {
    const k = Number(item.dataset.col);
    if (item.classList.contains("bp-neuron")) {
      const i = Number(item.dataset.i);
      const lane = into[dir > 0 ? k + 1 : k];
      const attr = dir > 0 ? "from" : "to";
      return lane?.find((line) => Number(line.dataset[attr]) === i);
    }
    const i = Number(item.dataset[dir > 0 ? "to" : "from"]);
    return nodes[dir > 0 ? k : k - 1][i]?.g;
  };
  return rovingFocus(svgRoot, lanes, { across, activate });
}

/** The pass section (diagram, colour key, edge tip, loss line) and its caption,
 * appended to `root`; draw(session) lays the network out, show(steps, frame)
 * paints what is known after step `frame`. */
export function passPanel(root) {
  const diagramBox = el("figure", { class: "bp-diagram", "data-figure": "" }); // present mode's
  // not a live region: a focused neuron or weight is described by it (its full numbers)
  const tip = el("p", { class: "bp-tip formula", id: TIP_ID, text: t("bp.edgeHint") });
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
        noteCell(name, index); // a copied link and the live class carry it
      } catch (err) {
        showError(section, err);
      }
    },
  };
  registerCellOpener((name, index) => explainer.explain(name, index)); // a live class's cell
  let layout = null; // the diagram's columns, neurons, edges and items by key
  let current = new Map();
  // What the tip shows: the item hovered (a preview), else the one pinned by a tap,
  // click or keyboard focus, else the hint. Kept as keys, so a rebuilt diagram keeps them.
  let previewed = null;
  let pinned = null;

  function draw(s) {
    session = s;
    panel.clear(); // a new pass: the old explanation (and the class's cell) goes
    clearCell();
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
      role: "group",
      "aria-label": t("fig.bp.diagram"),
    });
    const edgeGroup = svg("g", { class: "bp-edges" });
    const nodeGroup = svg("g", { class: "bp-nodes" });
    svgRoot.append(edgeGroup, nodeGroup);
    drawLabels(svgRoot, cols, drawn, x, height);
    const edges = drawEdges(edgeGroup, cols, drawn, x, y);
    const nodes = drawNodes(nodeGroup, cols, drawn, x, y);
    const byKey = new Map();
    for (const e of edges) byKey.set(keyOf(e.line), e.line);
    for (const column of nodes) for (const n of column) byKey.set(keyOf(n.g), n.g);
    diagramBox.innerHTML = "";
    diagramBox.append(svgRoot);
    // Download: the diagram as drawn, and every tensor the pass has shown so far.
    attachDownloads(diagramBox, () => [...current.values()], { name: "network" });
    layout = { cols, nodes, edges, byKey };
    byKey.get(pinned)?.classList.add("pinned");
    keyboard(svgRoot, layout, (item) => pin(item, true));
    const itemOf = (e) => e.target.closest?.(".bp-edge, .bp-neuron");
    svgRoot.addEventListener("mouseover", (e) => {
      const item = itemOf(e);
      if (item) preview(item);
    });
    svgRoot.addEventListener("mouseleave", () => preview(null));
    svgRoot.addEventListener("click", (e) => {
      const item = itemOf(e);
      if (item) pin(item, true);
      else pin(null); // a tap beside the network lets the pinned tip go
    });
    svgRoot.addEventListener("focusin", (e) => {
      const item = itemOf(e);
      if (item && keyOf(item) !== pinned) pin(item);
    });
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
    render();
    root.dataset.renderMs = (performance.now() - t0).toFixed(2);
  }

  /** Hovering previews an item's tip; leaving the diagram (item = null) goes back to the pinned one. */
  function preview(item) {
    previewed = item ? keyOf(item) : null;
    render();
  }

  /** A tap, click or focus pins the item's tip (null: nothing pinned); a tap, click,
   * Enter or Space (explain) also asks the server to explain its newest number. */
  function pin(item, explain = false) {
    const before = layout.byKey.get(pinned);
    before?.classList.remove("pinned");
    pinned = item ? keyOf(item) : null;
    previewed = null;
    item?.classList.add("pinned");
    if (item && explain) explainItem(item);
    render();
  }

  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && pinned && layout) pin(null);
  });

  /** The tip of the previewed item, else the pinned one, else the hint. */
  function render() {
    if (!layout) return;
    const key = previewed || pinned;
    const item = layout.byKey.get(key);
    clearTip();
    if (item?.classList.contains("bp-edge")) showEdge(item);
    else if (item) showNeuron(Number(item.dataset.col), Number(item.dataset.i));
    else tip.textContent = t("bp.edgeHint");
    if (item && key === pinned) tip.dataset.pinned = "true";
    for (const e of layout.edges) e.line.classList.toggle("hover", e.line === item);
  }

  /** The newest number the pass has for a weight or a neuron, explained by the server
   * (a click or Enter; hovering only shows the tip). */
  function explainItem(item) {
    const i = Number(item.dataset[item.classList.contains("bp-edge") ? "from" : "i"]);
    let candidates;
    if (item.classList.contains("bp-edge")) {
      const { layer, to } = item.dataset;
      const j = Number(to);
      candidates = [`${layer}.w.after`, `${layer}.dw`, `${layer}.w`].map((n) => [n, [j, i]]);
    } else {
      const col = layout.cols[Number(item.dataset.col)];
      candidates = [col.delta, col.value, col.pre].filter(Boolean).map((n) => [n, [0, i]]);
    }
    const hit = candidates.find(([name]) => current.has(name));
    if (hit) explainer.explain(hit[0], hit[1]);
  }

  function showEdge(line) {
    const layer = line.dataset.layer;
    const i = Number(line.dataset.from);
    const j = Number(line.dataset.to);
    const fanIn = layout.edges.find((e) => e.line === line).fanIn;
    const { text, w, dw, after } = edgeText(current, layer, i, j, fanIn, session.optimizer);
    tip.textContent = text;
    Object.assign(tip.dataset, {
      kind: "edge",
      layer,
      from: String(i),
      to: String(j),
      w: String(w ?? ""),
      dw: String(dw ?? ""),
      after: String(after ?? ""),
    });
  }

  /** Neuron i of column k: its numbers (value, delta, bias and its update) in the tip. */
  function showNeuron(k, i) {
    const col = layout.cols[k];
    if (!col) return;
    const { text, numbers } = neuronText(current, col, k, i, session.optimizer);
    tip.textContent = text;
    Object.assign(tip.dataset, { kind: "neuron", col: String(k), i: String(i) });
    for (const [key, v] of Object.entries(numbers)) tip.dataset[key] = String(v ?? "");
  }

  function clearTip() {
    for (const key of Object.keys(tip.dataset)) delete tip.dataset[key];
  }

  return { draw, show };
}

/** An item's key: "edge dense1 i j" or "neuron k i" (the same on a rebuilt diagram). */
function keyOf(item) {
  const d = item.dataset;
  return item.classList.contains("bp-edge")
    ? `edge ${d.layer} ${d.from} ${d.to}`
    : `neuron ${d.col} ${d.i}`;
}
