// The BP page's network in the builder's words: the hidden sizes of the URL, a config
// in the URL's words, and the builder's settings of a session the page did not build
// (a shared link's copy, a network opened from a file), read from the API's network.
import { t } from "./i18n.js";
import { rules } from "./rules.js";

const { activations, losses, max_layers: maxLayers, max_neurons: maxNeurons } = rules.bp;

// The layers a network of the page can have: a fully connected one (bp-diagram draws it).
export const DRAWN = new Set(["dense", "flatten", ...activations]);

/** The hidden sizes in a URL's text ("6-4"), within the server's caps. */
export function hiddenOf(text) {
  const sizes = String(text)
    .split("-")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 1);
  return sizes.slice(0, maxLayers).map((n) => Math.min(n, maxNeurons));
}

/** A config in the URL's words ("0": no hidden layer, as "" would be the default). */
export const urlOf = (cfg) => ({ ...cfg, hidden: cfg.hidden.join("-") || "0" });

/** The builder's settings of a session's network (one opened from a file or a link):
 * its hidden layers, their activation, loss and optimizer, as the API describes them. */
export function configOf(s, base) {
  const layers = s.network.layers;
  const dense = layers.filter((l) => l.type === "dense");
  const last = layers.lastIndexOf(dense[dense.length - 1]);
  const act = layers.slice(0, last).find((l) => activations.includes(l.type));
  const loss = s.network.loss === "mse_onehot" ? "mse" : s.network.loss;
  return {
    ...base,
    hidden: dense.slice(0, -1).map((d) => d.settings.out_features),
    activation: act ? act.type : base.activation,
    loss: losses.includes(loss) ? loss : base.loss,
    optimizer: s.optimizer.type,
    lr: s.optimizer.lr,
  };
}

/** Why the builder cannot show network `net` (a file `name`'s, a session's), in the
 * page's words with the server's limit; "" if it can: a fully connected network within
 * rules.bp.max_layers hidden layers of at most rules.bp.max_neurons each, one activation. */
export function refusalOf(net, name) {
  const layers = net.layers;
  const other = layers.find((l) => !DRAWN.has(l.type));
  if (other) return t("net.notBp", { name, layer: other.type });
  const hidden = layers.filter((l) => l.type === "dense").slice(0, -1);
  if (hidden.length > maxLayers)
    return t("net.tooManyLayers", { name, n: hidden.length, max: maxLayers });
  const widest = Math.max(0, ...hidden.map((l) => l.settings.out_features));
  if (widest > maxNeurons) return t("net.tooManyNeurons", { name, n: widest, max: maxNeurons });
  const acts = [...new Set(layers.filter((l) => activations.includes(l.type)).map((l) => l.type))];
  if (acts.length > 1) return t("net.mixedActivations", { name, list: acts.join(", ") });
  return "";
}
