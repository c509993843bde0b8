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
// The API's JSON (orjson) writes a float32 as the shortest decimal that reads back as
// it, the nearest such if several (an exact tie to the even one: 220195.125 is
// 220195.12), in Ryu's layout: plain from 1e-6 to below 1e13 ("0.00003", "100.0"),
// else "1.5e+16", "1e-7". The files write the same text (no number is redone).

const F32 = new Float32Array(1);
const BITS = new Uint32Array(F32.buffer);

/** Whether float32 `v` (> 0) lies exactly halfway between (n - 1) 10^q and n 10^q. */
function halfway(v, n, q) {
  F32[0] = v;
  const bits = BITS[0];
  const exp = (bits >>> 23) & 0xff;
  const m = BigInt(bits & 0x7fffff) + (exp ? 1n << 23n : 0n);
  const e = exp ? exp - 150 : -149; // v = m 2^e exactly
  let left = 2n * m; // 2v == (2n - 1) 10^q, in whole numbers
  let right = BigInt(2 * n - 1);
  if (e >= 0) left <<= BigInt(e);
  else right <<= BigInt(-e);
  if (q >= 0) right *= 10n ** BigInt(q);
  else left *= 10n ** BigInt(-q);
  return left === right;
}

/** The shortest decimal digits of float32 `v` (> 0): [digits, q], v ~ digits 10^q. */
function shortest(v) {
  const back = (n, q) => n > 0 && Math.fround(Number(`${n}e${q}`)) === v;
  for (let p = 1; p <= 9; p++) {
    const [mant, ex] = v.toExponential(p - 1).split("e");
    let n = Number(mant.replace(".", ""));
    const q = Number(ex) - (p - 1);
    if (!back(n, q)) {
      // the nearest p digits miss; the next ones up may not (2^k: a wider gap above)
      if (back(n + 1, q) && String(n + 1).length === p) return [String(n + 1), q];
      continue;
    }
    // toExponential rounds a tie up, the API to the even one
    if (n % 2 === 1 && back(n - 1, q) && halfway(v, n, q)) n -= 1;
    const digits = String(n).replace(/0+$/, "");
    return [digits, q + (String(n).length - digits.length)];
  }
  return [String(v), 0]; // not reached: 9 digits always read back
}

/** A float32 as the API's JSON text ("NaN", "Infinity", "-Infinity" for those). */
export function f32Text(v) {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  const sign = v < 0 || Object.is(v, -0) ? "-" : "";
  if (v === 0) return `${sign}0.0`;
  const [d, k] = shortest(Math.abs(v));
  const kk = d.length + k; // 10^(kk-1) <= |v| < 10^kk
  let text;
  if (k >= 0 && kk <= 13) text = `${d}${"0".repeat(k)}.0`;
  else if (kk > 0 && kk <= 13) text = `${d.slice(0, kk)}.${d.slice(kk)}`;
  else if (kk > -6 && kk <= 0) text = `0.${"0".repeat(-kk)}${d}`;
  else {
    const e = kk - 1;
    text = `${d[0]}${d.length > 1 ? `.${d.slice(1)}` : ""}e${e < 0 ? "-" : "+"}${Math.abs(e)}`;
  }
  return sign + text;
}

/** A number as the API writes it: a float32 as f32Text, other numbers as JSON does;
 * NaN and the infinities as the API's strings. */
export function number(v, dtype = "float32") {
  if (dtype === "float32" || !Number.isFinite(v)) return f32Text(v);
  return String(v);
}

/** A number's JSON text: a number, or the API's string for NaN and the infinities. */
function jsonNumber(v, dtype) {
  return Number.isFinite(v) ? number(v, dtype) : `"${number(v, dtype)}"`;
}

/** Nested lists of `data` by `shape`, as JSON text with the API's numbers. */
function nested(data, shape, dtype, offset = 0) {
  if (!shape.length) return jsonNumber(data[offset], dtype);
  const [n, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  const items = Array.from({ length: n }, (_, i) => nested(data, rest, dtype, offset + i * size));
  return `[${items.join(",")}]`;
}

/** A tensor as the API's JSON payload: its fields, data nested by its shape (as text,
 * put in place of a marker: JSON.stringify would write its own decimals). */
function payload(x, texts) {
  const { data, size, encoding, same_as: _same, ...rest } = x;
  const dtype = x.dtype || (data instanceof Float32Array ? "float32" : "float64");
  texts.push(nested(data, x.shape, dtype));
  return { ...rest, dtype, data: `\u0000data${texts.length - 1}` };
}

export function toJson(tensors) {
  const texts = [];
  const body =
    tensors.length === 1
      ? payload(tensors[0], texts)
      : { tensors: tensors.map((x) => payload(x, texts)) };
  const json = JSON.stringify(body, null, 1);
  return `${json.replace(/"\\u0000data(\d+)"/g, (_, i) => texts[Number(i)])}\n`;
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
