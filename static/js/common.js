// Pieces every view shares: error display, step captions, explanation panels,
// grids of feature maps.
import { ApiError, plane } from "./api.js";
import { format, legend, scaleFor } from "./colors.js";
import { attachDownloads } from "./export.js";
import { Heatmap } from "./heatmap.js";
import { Mosaic } from "./mosaic.js";
import { pick, t } from "./i18n.js";
import { factorLabel } from "./names.js";
import { shareBar } from "./share.js";

/** A new element: `attrs` are attributes, but "class", "text" (its text), "on<event>"
 * (a listener) and "style" (CSS text, set through the CSSOM: the page's
 * Content-Security-Policy refuses a style attribute in markup). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** Run a view's start function; show a readable message if anything fails (also
 * an API error no handler caught), and say so while a request waits to try again. */
export async function mount(start) {
  const root = document.getElementById("view");
  showRetries(root);
  shareBar(root); // "Copy link to this view"
  window.addEventListener("unhandledrejection", (ev) => {
    if (!(ev.reason instanceof ApiError)) return;
    ev.preventDefault();
    showError(root, ev.reason);
  });
  try {
    root.innerHTML = "";
    await start(root);
    root.dataset.ready = "1";
  } catch (err) {
    console.error(err);
    showError(root, err);
  }
}

export function showError(root, err) {
  let box = root.querySelector(".error");
  if (!box) {
    box = el("p", { class: "error", role: "alert" });
    root.prepend(box);
  }
  if (err?.code === "session_gone") {
    // The session expired, was evicted, or the store restarted empty: the page builds
    // a new one from its URL state on load, so one click reloads it.
    box.textContent = `${err.message} `;
    const fresh = t("error.fresh_session");
    box.append(el("button", { type: "button", class: "fresh-session", text: fresh }));
    box.lastChild.addEventListener("click", () => location.reload());
    return;
  }
  box.textContent = t("view.error", { message: err.message || String(err) });
}

/** A status line while a request waits to try again (api.js): the server's reason and
 * a countdown; gone once no request waits. */
function showRetries(root) {
  const line = el("p", { class: "notice retrying", role: "status", "aria-live": "polite" });
  let timer = null;
  window.addEventListener("api:retry", ({ detail }) => {
    clearInterval(timer);
    let seconds = detail.seconds;
    const paint = () => {
      line.textContent = t("error.retrying", { ...detail, seconds });
    };
    paint();
    root.prepend(line);
    timer = setInterval(() => {
      seconds = Math.max(0, seconds - 1);
      paint();
    }, 1000);
  });
  window.addEventListener("api:settled", () => {
    clearInterval(timer);
    line.remove();
  });
}

export function clearError(root) {
  root.querySelector(".error")?.remove();
}

/** `fn` (async, no arguments) one run at a time: calls while it runs make one more run
 * after it, however many they are (it reads the page's latest settings). A page that
 * replaces its session on each change thus never deletes one a run still uses. */
export function oneAtATime(fn) {
  let running = null;
  let next = null;
  const run = () => {
    running = fn().finally(() => {
      running = null;
    });
    return running;
  };
  return () => {
    if (next) return next;
    if (!running) return run();
    next = running
      .catch(() => {})
      .then(() => {
        next = null;
        return run();
      });
    return next;
  };
}

/** The caption (current language) and formula of a step. */
export function captionBox(parent) {
  const box = el("div", { class: "caption-box" });
  const text = el("p", { class: "caption" });
  const formula = el("p", { class: "formula" });
  box.append(text, formula);
  parent.append(box);
  return {
    show(step) {
      text.textContent = pick(step.caption);
      formula.textContent = step.formula || "";
    },
  };
}

/** A panel that lists the terms of an explanation and their sum, then the last step
 * (an activation, softmax's division) if there is one. A number nothing computes (an
 * input, a parameter) says so; a copy names where the same number is. Every word comes
 * from the catalog; every number and expression from the server. */
export function explainPanel(parent) {
  const box = el("section", { class: "explain" });
  const blank = () => [
    el("h3", { text: t("explain.title") }),
    el("p", { class: "muted", text: t("explain.hint") }),
  ];
  box.append(...blank());
  parent.append(box);
  return {
    el: box,
    /** Back to the hint (a new pass: the explanation shown is of the old one). */
    clear() {
      box.innerHTML = "";
      delete box.dataset.kind;
      box.append(...blank());
    },
    show(exp, label) {
      box.innerHTML = "";
      box.dataset.kind = exp.kind;
      box.append(el("h3", {}, `${t("explain.title")}: `, label)); // text, or a node (rules.js cellLabel)
      const value = typeof exp.value === "number" ? exp.value : NaN;
      if (exp.given) {
        box.append(
          el("p", {
            class: "given",
            "data-given": exp.given,
            text: t(`explain.given.${exp.given}`),
          }), // (the engine's formula for a given value is English prose: this says it)
          el("p", {
            class: "total",
            "data-total": String(exp.total),
            "data-value": String(value),
            text: format(value),
          }),
        );
        return;
      }
      if (exp.kind === "copy") {
        const src = exp.terms[0].factors[0];
        box.append(
          el("p", {
            class: "copy",
            text: t("explain.copy", { name: `${src.tensor}[${src.index.join(",")}]` }),
          }),
        );
      }
      // a list that may scroll: focusable, so the keyboard can scroll it too
      const list = el("ol", { class: "terms", tabindex: "0", "aria-label": t("explain.title") });
      for (const term of exp.terms) {
        const parts = term.expr || term.factors.map((f) => `${format(f.value)}`).join(" × ");
        const src = term.factors
          .map((f) =>
            f.index
              ? `${factorLabel(f.tensor)}[${f.index.join(",")}]`
              : f.tensor === "x"
                ? t("explain.padding")
                : factorLabel(f.tensor),
          )
          .join(" × ");
        list.append(
          el(
            "li",
            { title: src },
            el("span", { class: "term", text: `${parts} = ${format(term.product)}` }),
            el("span", { class: "muted src", text: `  ${src}` }),
          ),
        );
      }
      box.append(list);
      const a = exp.activation;
      const sum = a ? a.z : exp.total;
      let total = `${t("explain.sum")} = ${format(sum)}`;
      if (exp.constant)
        total = `${t("explain.sum")} + ${t("explain.bias")} ${format(exp.constant.value)} = ${format(sum)}`;
      if (exp.scale) total += `  (× ${format(exp.scale.value)} ${exp.scale.tensor})`;
      if (a) total = `${total};  → ${format(exp.total)}`; // the last step, shown below
      box.append(
        el("p", {
          class: "total",
          "data-total": String(exp.total),
          "data-value": String(value),
          text: total,
        }),
      );
      if (a)
        box.append(
          el("p", {
            class: "activation",
            "data-fn": a.fn,
            text: `${t("explain.last_step")}: ${a.formula}`,
          }),
        );
      box.append(
        el("p", { class: "formula", text: exp.formula }),
        el("p", { class: "muted", text: `${t("explain.matches")}: ${format(value)}` }),
      );
    },
  };
}

/** Every channel plane of an (N, C, H, W) tensor (sample n) as one mosaic; a
 * feature vector (N, D) as one row. */
export function channelGrid(parent, tensor, { n = 0, label, maxPx = 120, onClick } = {}) {
  const wrap = el("div", { class: "channel-grid", "data-tensor": tensor.name });
  if (label) wrap.append(el("h4", {}, label)); // text, or a node (names.js named())
  const scale = scaleFor(tensor);
  let view;
  if (tensor.shape.length === 4) {
    const [, C, H, W] = tensor.shape;
    const tiles = [];
    for (let c = 0; c < C; c++) tiles.push({ lead: [n, c], data: plane(tensor, [n, c]).data });
    view = new Mosaic(wrap, {
      name: tensor.name,
      cell: Math.max(3, Math.floor(maxPx / Math.max(H, W))),
      maxWidth: 900,
    });
    view.draw(tiles, H, W, scale);
    if (onClick) view.onClick = (k, r, c, v) => onClick([n, k, r, c], v, view);
  } else {
    const cols = tensor.shape[tensor.shape.length - 1];
    view = new Heatmap(wrap, { name: tensor.name, maxPx: Math.max(maxPx, 220), cell: 22 });
    view.draw({ rows: 1, cols, data: tensor.data.subarray(n * cols, (n + 1) * cols) }, scale);
    if (onClick) view.onClick = (_r, c, v) => onClick([n, c], v, view);
  }
  attachDownloads(wrap, () => [tensor]);
  wrap.append(legend(scale, tensor.role === "mask" ? t("legend.mask") : t("legend.signed")));
  parent.append(wrap);
  return { el: wrap, view };
}
