// Human labels for engine names, in the page's language: a layer ("conv1" ->
// "convolution 1"), a tensor ("lstm1.t3.i_pre" -> "input gate i (before σ) · LSTM layer 1
// · t = 3"), a plan step ({phase, layer, op, t, direction} -> "forward · convolution 1").
// The one rule for it: engine names are `<layer>[.<fwd|bwd>][.t<k>].<part>[.<slot>]
// [.<before|after|change>]` (engine/trace.py) and a layer is `<prefix><number>`; the
// words are the catalog's (app/locales/<lang>/names.json, keys name.*). A name the rule
// does not know comes back as it is, never as a wrong guess.
import { t } from "./i18n.js";

const has = (key) => t(key) !== key;
const UPDATE = new Set(["before", "after", "change"]);
const SLOTS = new Set(["m", "v", "t"]);

/** "conv1" -> "convolution 1"; with `op` ("dense_last") or `direction` ("bwd") when
 * they say more than the layer's name. */
export function layerLabel(layer, op = null, direction = null) {
  const m = /^([a-z_]+?)(\d*)$/.exec(layer || "");
  const key = m && `name.layer.${m[1]}`;
  let text = key && has(key) ? t(key, { n: m[2] }).trim() : String(layer);
  if (op && has(`name.op.${op}`))
    text = t("name.layer.withOp", { layer: text, op: t(`name.op.${op}`) });
  if (direction && has(`name.dir.${direction}`))
    text = t("name.layer.withDir", { layer: text, dir: t(`name.dir.${direction}`) });
  return text;
}

/** The nonlinearity a session's `network` states for its layer `layer` (an RNN's
 * "tanh" or "relu"), or null when it does not say. */
function nonlinearityOf(network, layer) {
  return network?.layers?.find((l) => l.name === layer)?.settings?.nonlinearity ?? null;
}

/** What part of its layer tensor name's tail (`w_ih_reverse.m.before`) is, or null;
 * `fn`: the layer's nonlinearity, if known (an RNN's "pre" is the sum before it). */
function partLabel(tail, fn = null) {
  const bits = tail.split(".");
  const upd = UPDATE.has(bits[bits.length - 1]) ? bits.pop() : null;
  const slot = bits.length === 2 && SLOTS.has(bits[1]) ? bits.pop() : null;
  if (bits.length !== 1) return null;
  let key = bits[0];
  const reverse = key.endsWith("_reverse");
  if (reverse) key = key.slice(0, -"_reverse".length);
  if (!has(`name.part.${key}`)) return null;
  let what = t(`name.part.${key}`);
  if (key === "pre" && fn) what = t("name.part.pre.fn", { fn: fnLabel(fn) });
  if (reverse) what = t("name.reverse", { what });
  if (slot) what = t(`name.slot.${slot}`, { what });
  if (upd) what = t(`name.upd.${upd}`, { what });
  return what;
}

/** "relu2.dout" -> "delta arriving from above · ReLU 2"; the name itself if the rule
 * does not know it. `network` (the session's) names what the layer's nonlinearity is
 * ("rnn1.t3.pre": the sum before tanh, or before ReLU); without it, a neutral "f". */
export function tensorLabel(name, network = null) {
  const bits = String(name).split(".");
  const layer = bits.shift();
  const direction = bits[0] === "fwd" || bits[0] === "bwd" ? bits.shift() : null;
  const time = /^t(\d+)$/.exec(bits[0] || "");
  if (time) bits.shift();
  const what = bits.length ? partLabel(bits.join("."), nonlinearityOf(network, layer)) : null;
  if (what === null) return String(name);
  const vars = { what, layer: layerLabel(layer, null, direction) };
  return time ? t("name.tensor.t", { ...vars, t: time[1] }) : t("name.tensor", vars);
}

/** What a tensor is within its layer and step, without them ("lstm1.t3.i" -> "input
 * gate i"): a label where the layer and time step are said once nearby (present mode's
 * rows); null if the rule does not know it. */
export function tensorPart(name, network = null) {
  const bits = String(name).split(".");
  const layer = bits.shift();
  if (bits[0] === "fwd" || bits[0] === "bwd") bits.shift();
  if (/^t\d+$/.test(bits[0] || "")) bits.shift();
  return bits.length ? partLabel(bits.join("."), nonlinearityOf(network, layer)) : null;
}

/** A factor of an explanation's term: a tensor of the pass ("pool1.dout") as it is, a
 * word the engine uses for another number ("weight", "window") in the page's language. */
export function factorLabel(name) {
  return has(`name.factor.${name}`) ? t(`name.factor.${name}`) : String(name);
}

/** A character a model reads or predicts, as the page shows it: "h" in quotes, a space
 * or a line break by name. */
export function charLabel(c) {
  if (c === " ") return t("name.char.space");
  if (c === "\n") return t("name.char.newline");
  return JSON.stringify(c);
}

/** An activation function's name as formulas write it ("leaky_relu" -> "Leaky ReLU"). */
export function fnLabel(type) {
  return has(`name.fn.${type}`) ? t(`name.fn.${type}`) : String(type);
}

/** A plan step {phase, layer, op, t?, direction?} -> "backward · LSTM layer 1 · t = 3". */
export function stepLabel(step) {
  const vars = {
    phase: t(`phase.${step.phase}`),
    layer: layerLabel(step.layer, step.op, step.direction),
  };
  if (vars.layer === vars.phase) return vars.phase; // the loss step of the loss
  const time = step.t ?? null;
  return time === null ? t("name.step", vars) : t("name.step.t", { ...vars, t: time });
}

/** The human label with the code name as secondary text: <span class="named">label
 * <code class="code-name">code</code></span>; `compact` puts the code name in the
 * title instead. `text` defaults to tensorLabel(code, network). */
export function named(code, { text = null, compact = false, network = null } = {}) {
  const span = document.createElement("span");
  span.className = "named";
  const label = text ?? tensorLabel(code, network);
  const codeEl = document.createElement("code");
  codeEl.className = "code-name";
  codeEl.textContent = code;
  if (label === code)
    span.append(codeEl); // the rule does not know it: the code name alone
  else if (compact) {
    span.textContent = label;
    span.title = code;
  } else span.append(label, " ", codeEl);
  return span;
}
