// The BP view's shared choices: series and class colours and marker shapes (a
// class or a run is told apart by its shape as well as its colour), and the
// API's numbers ("NaN", "Infinity" arrive as strings) made ready for a chart.
import { t } from "./i18n.js";
import { lineKey } from "./linechart.js";

export const COLOURS = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442",
];
export const SHAPES = ["circle", "square", "triangle", "diamond", "star", "cross"];

/** Class k's colour and marker shape (as the boundary plot draws its points). */
export const classStyle = (k) => ({
  colour: COLOURS[k % COLOURS.length],
  shape: SHAPES[k % SHAPES.length],
});

/** Class k's key: its marker in its colour, and its name in the page's language (the
 * toy sets' "class 0" translated; the digits' "7" as it is). */
export function classKey(name, k) {
  const shown = /^class \d+$/.test(name) ? t("bp.out.classN", { k }) : String(name);
  const icon = lineKey({ ...classStyle(k), line: false }, k);
  icon.dataset.class = String(k);
  return { icon, shown };
}

export const finite = (v) => typeof v === "number" && Number.isFinite(v);
export const num = (v) => (typeof v === "string" ? Number(v) : v); // "NaN", "Infinity" from the API

/** Values up to the first non-finite one (a log chart cannot draw NaN or Inf). */
export function untilNonFinite(values) {
  const out = [];
  for (const v of values.map(num)) {
    if (!finite(v)) break;
    out.push(v);
  }
  return out;
}
