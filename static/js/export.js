// "Download" on a figure: a PNG of it as drawn, and its tensors as CSV and JSON with
// the API's numbers as the API sent them (each float32 written as the shortest decimal
// that reads back as it, as the API's JSON does; nothing is computed again).
// Builders call attachDownloads(figureEl, getTensors) once; every view gets it.
import { t } from "./i18n.js";

const FORMATS = ["png", "csv", "json"];

/**
 * Give `figure` (an element holding the figure's canvases or SVG) a row of download
 * buttons. `getTensors()` returns the tensors it draws, at the moment of the click: API
 * payloads as api.js decodes them ({name, shape, data, dtype, role, axes, ...}) or
 * plain {name, shape, data: number[]} (a chart's series). Calling it again on the same
 * element only replaces `getTensors`. `name` names the files (else the tensors' names);
 * `beside`: the buttons go right after the figure, not in it (a CSS grid of maps).
 */
export function attachDownloads(figure, getTensors, { name, beside = false } = {}) {
  figure.downloadTensors = getTensors;
  figure.downloadName = name;
  const had = figure.downloadBar;
  if (had && (beside ? had.isConnected : figure.contains(had))) return;
  const bar = document.createElement("div");
  bar.className = "downloads";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", t("export.download"));
  const label = document.createElement("span");
  label.className = "muted";
  label.textContent = `${t("export.download")}:`;
  bar.append(label);
  for (const format of FORMATS) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "download";
    button.dataset.format = format;
    button.textContent = t(`export.${format}`);
    button.setAttribute("aria-label", `${t("export.download")} ${t(`export.${format}`)}`);
    button.addEventListener("click", () => download(figure, format).catch(report));
    bar.append(button);
  }
  figure.downloadBar = bar;
  if (beside) figure.after(bar);
  else figure.append(bar);
}

function report(err) {
  const view = document.getElementById("view");
  const box = document.createElement("p");
  box.className = "error";
  box.setAttribute("role", "alert");
  box.textContent = t("export.failed", { message: err.message || String(err) });
  view?.prepend(box);
}

async function download(figure, format) {
  const tensors = (figure.downloadTensors?.() || []).filter(Boolean);
  const what = figure.downloadName || tensors.map((x) => x.name).join("+") || "figure";
  const file = fileName(what, format);
  let blob;
  if (format === "png") blob = await figurePng(figure);
  else if (format === "csv") blob = new Blob([toCsv(tensors)], { type: "text/csv" });
  else blob = new Blob([toJson(tensors)], { type: "application/json" });
  const href = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = href;
  a.download = file;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** "<page>-<what>-step<k>.<ext>": the page, the tensor(s), the player's step. */
export function fileName(what, ext) {
  const view = document.getElementById("view");
  const page = view?.dataset.topic || "glassbox";
  const step = view?.dataset.step ?? view?.dataset.frame;
  const parts = [page, what, step !== undefined && step !== "" ? `step${step}` : null];
  return `${parts
    .filter(Boolean)
    .join("-")
    .replace(/[^\p{L}\p{N}_.+-]+/gu, "_")}.${ext}`;
}

/** A nested list from the API's JSON (a grid, a path) as a tensor {name, shape, data};
 * null for none. Its numbers stay as the API sent them. */
export function fromNested(name, nested) {
  if (!Array.isArray(nested)) return null;
  const shape = [];
  for (let a = nested; Array.isArray(a); a = a[0]) shape.push(a.length);
  return { name, shape, data: nested.flat(Infinity) };
}

// --- numbers as the API writes them -----------------------------------------------

/** A float32 as the shortest decimal that reads back as it (0.1, not 0.10000000149);
 * NaN and the infinities as the API's strings. */
export function number(v, dtype = "float32") {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (dtype !== "float32") return v;
  for (let p = 1; p < 10; p++) {
    const short = Number(v.toPrecision(p));
    if (Math.fround(short) === v) return short;
  }
  return v;
}

function nested(data, shape, dtype, offset = 0) {
  if (!shape.length) return number(data[offset], dtype);
  const [n, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => nested(data, rest, dtype, offset + i * size));
}

/** A tensor as the API's JSON payload: its fields, data nested by its shape. */
function payload(x) {
  const { data, size, encoding, same_as: _same, ...rest } = x;
  const dtype = x.dtype || (data instanceof Float32Array ? "float32" : "float64");
  return { ...rest, dtype, data: nested(data, x.shape, dtype) };
}

export function toJson(tensors) {
  const body = tensors.length === 1 ? payload(tensors[0]) : { tensors: tensors.map(payload) };
  return `${JSON.stringify(body, null, 1)}\n`;
}

/** CSV: a comment line naming each tensor and its shape, then one line per matrix row;
 * a tensor of more than 2 dimensions as one block per leading index (a channel of
 * a map), each after a comment line with that index, blocks apart by an empty line. */
export function toCsv(tensors) {
  const lines = [];
  for (const x of tensors) {
    const dtype = x.dtype || (x.data instanceof Float32Array ? "float32" : "float64");
    const shape = x.shape;
    const cols = shape.length ? shape[shape.length - 1] : 1;
    const rows = shape.length >= 2 ? shape[shape.length - 2] : 1;
    const lead = shape.slice(0, -2);
    const blocks = lead.reduce((a, b) => a * b, 1);
    const how = lead.length ? t("export.csvBlocks", { rows, cols, lead: lead.length }) : "";
    if (lines.length) lines.push("");
    lines.push(`# ${x.name}; shape [${shape.join(", ")}]${how ? `; ${how}` : ""}`);
    for (let b = 0; b < blocks; b++) {
      if (lead.length) {
        const index = [];
        let rem = b;
        for (let i = lead.length - 1; i >= 0; i--) {
          index.unshift(rem % lead[i]);
          rem = Math.floor(rem / lead[i]);
        }
        if (b > 0) lines.push("");
        lines.push(`# ${x.name}[${index.join(", ")}]`);
      }
      for (let r = 0; r < rows; r++) {
        const start = (b * rows + r) * cols;
        const row = [];
        for (let c = 0; c < cols; c++) row.push(String(number(x.data[start + c], dtype)));
        lines.push(row.join(","));
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

// --- the figure as drawn -------------------------------------------------------------

const SVG_STYLE = [
  "fill",
  "fill-opacity",
  "stroke",
  "stroke-width",
  "stroke-dasharray",
  "stroke-opacity",
  "opacity",
  "font-family",
  "font-size",
  "font-weight",
  "text-anchor",
  "dominant-baseline",
  "visibility",
  "display",
];

/** An SVG as an image, its stylesheet's look copied onto a clone (an image has none). */
function svgImage(svg) {
  const clone = svg.cloneNode(true);
  const from = [svg, ...svg.querySelectorAll("*")];
  const to = [clone, ...clone.querySelectorAll("*")];
  from.forEach((node, i) => {
    const style = getComputedStyle(node);
    for (const prop of SVG_STYLE) to[i].style.setProperty(prop, style.getPropertyValue(prop));
  });
  const box = svg.getBoundingClientRect();
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("width", String(box.width));
  clone.setAttribute("height", String(box.height));
  const text = new XMLSerializer().serializeToString(clone);
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  return img.decode().then(() => img);
}

/** The figure's canvases and SVGs drawn where the page shows them, on white, at the
 * screen's pixel density (at least 2x, sharp on a projector or in print). */
export async function figurePng(figure) {
  const parts = [...figure.querySelectorAll("canvas, svg")].filter(
    (n) => !n.closest(".downloads") && !n.parentElement.closest("svg"),
  );
  const boxes = parts.map((n) => n.getBoundingClientRect()).filter((b) => b.width && b.height);
  if (!boxes.length) throw new Error(t("export.nothing"));
  const left = Math.min(...boxes.map((b) => b.left));
  const top = Math.min(...boxes.map((b) => b.top));
  const width = Math.max(...boxes.map((b) => b.right)) - left;
  const height = Math.max(...boxes.map((b) => b.bottom)) - top;
  const k = Math.max(2, window.devicePixelRatio || 1);
  const out = document.createElement("canvas");
  out.width = Math.ceil(width * k);
  out.height = Math.ceil(height * k);
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, out.width, out.height);
  for (const node of parts) {
    const b = node.getBoundingClientRect();
    if (!b.width || !b.height) continue;
    const source = node instanceof HTMLCanvasElement ? node : await svgImage(node);
    // Maps are pixels scaled up: keep them sharp, as the page draws them.
    ctx.imageSmoothingEnabled = !(node instanceof HTMLCanvasElement);
    ctx.drawImage(source, (b.left - left) * k, (b.top - top) * k, b.width * k, b.height * k);
  }
  return new Promise((resolve, reject) =>
    out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("PNG"))), "image/png"),
  );
}
