// The BP pass's output layer as a table, one row per class: what the loss compares
// and the error it sends back. Softmax cross-entropy: the logits z, p = softmax(z),
// the target and δ = p − onehot. Mean squared error: the sigmoid outputs y, the
// one-hot target t, dL/dy = 2 (y − t) / K and, after the sigmoid's backward step,
// δ = dL/dy · y (1 − y). Every number is one of the API's tensors, read by name.
import { format } from "./colors.js";
import { classKey } from "./bp-values.js";
import { el } from "./common.js";
import { t } from "./i18n.js";

/** The table's columns for a network: [key, heading, tensor name or a function of the known tensors]. */
function columnsFor(network) {
  const dense = network.layers.filter((l) => l.type === "dense");
  const last = dense[dense.length - 1].name;
  if (network.loss === "mse_onehot") {
    const act = network.layers[network.layers.length - 1];
    return [
      ["y", t("bp.out.sigmoid"), `${act.name}.out`],
      ["t", t("bp.out.onehot"), "loss.target"],
      ["dy", t("bp.out.dy"), "loss.dx"],
      ["delta", t("bp.out.deltaMse"), `${act.name}.dx`], // the sigmoid's backward step
    ];
  }
  return [
    ["z", t("bp.out.logit"), `${last}.out`],
    ["p", t("bp.out.prob"), "loss.probs"],
    ["t", t("bp.out.onehot"), "loss.target"],
    ["delta", t("bp.out.deltaCe"), "loss.dx"],
  ];
}

/** Row k of a (1, K) tensor, or for cross-entropy's label target (1,) its one-hot
 * row (1 at the label's column: indexing, not model math). */
function valueAt(tensor, k) {
  if (!tensor) return undefined;
  if (tensor.name === "loss.target" && tensor.shape.length === 1)
    return tensor.data[0] === k ? 1 : 0;
  return tensor.data[k];
}

/** The output table, appended to `parent`; draw(session) lays it out, show(current)
 * fills what the pass has computed so far (a Map of tensors by name). */
export function outputPanel(parent) {
  const box = el("div", { class: "bp-output" });
  parent.append(box);
  let cols = [];
  let cells = [];

  function draw(session) {
    cols = columnsFor(session.network);
    const classes = session.dataset.classes;
    const label = session.input?.label;
    const head = el(
      "tr",
      {},
      el("th", { text: t("bp.out.class") }),
      ...cols.map(([key, heading]) => el("th", { "data-key": key, text: heading })),
    );
    cells = [];
    const rows = classes.map((name, k) => {
      const tds = cols.map(([key]) => el("td", { "data-key": key, class: "num" }));
      cells.push(tds);
      // the class's marker (as the boundary plot draws it) and its name
      const { icon, shown } = classKey(name, k);
      return el(
        "tr",
        { "data-class": String(k), class: k === label ? "true-class" : "" },
        el("th", {}, icon, ` ${shown}`),
        ...tds,
      );
    });
    box.innerHTML = "";
    box.append(
      el(
        "table",
        { class: "bp-output-table" },
        el("caption", {
          text: session.network.loss === "mse_onehot" ? t("bp.out.titleMse") : t("bp.out.titleCe"),
        }),
        el("thead", {}, head),
        el("tbody", {}, ...rows),
      ),
    );
  }

  function show(current) {
    cols.forEach(([, , name], c) => {
      const tensor = current.get(name);
      cells.forEach((tds, k) => {
        const v = valueAt(tensor, k);
        tds[c].textContent = v === undefined ? "–" : format(v);
        tds[c].dataset.value = v === undefined ? "" : String(v);
      });
    });
  }

  return { draw, show };
}
