// The BP view's shared choices: series colours and shapes, and the
// API's numbers ("NaN", "Infinity" arrive as strings) made ready for a chart.

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
export const SHAPES = ["circle", "square", "triangle", "diamond", "circle", "square"];

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
