// What the RNN view's panels share: how per-time-step tensors are named, which
// parts are gates, a tensor's sample-0 rows, and the model lines' colours.
import { plane } from "./api.js";

export const STEP_NAME = /^(.+)\.t(\d+)\.(\w+)$/;
export const GATES = new Set(["i", "f", "o"]);
export const LINES = [
  { key: "rnn", colour: "#D55E00", shape: "circle" },
  { key: "lstm", colour: "#0072B2", shape: "square" },
  { key: "lstmc", colour: "#CC79A7", shape: "triangle" },
];

/** Row `n` of an (N, H) tensor, or plane n of an (N, T, H) one, as a heatmap plane. */
export function rowsOf(tensor, n = 0) {
  if (tensor.shape.length === 3) return plane(tensor, [n]);
  const cols = tensor.shape[tensor.shape.length - 1];
  return { rows: 1, cols, data: tensor.data.subarray(n * cols, (n + 1) * cols) };
}
