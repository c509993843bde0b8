// What the RNN view's panels share: a time step's tensors by part, a tensor's sample-0
// rows, and the model lines' colours. Which tensors are gates is the payload's role.
import { plane } from "./api.js";
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

/** The name prefix of a recurrent step's per-time-step tensors, from its fields (t and
 * direction): "lstm1.t3." or "bilstm1.bwd.t3."; null for a step with no time step. */
export function timeStepPrefix(step) {
  if (step.t === null || step.t === undefined) return null;
  return step.direction
    ? `${step.layer}.${step.direction}.t${step.t}.`
    : `${step.layer}.t${step.t}.`;
}
