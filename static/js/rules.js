// The rules the server states (app/rules.py, also GET /api/rules): limits, the presets
// each page offers, the choices of the BP and RNN pages. The page template embeds them
// beside the catalog, so reading them costs no request; the JS keeps no copy.
import { pick, t } from "./i18n.js";
import { named, tensorLabel } from "./names.js";

const node = document.getElementById("rules");
export const rules = node ? JSON.parse(node.textContent) : {};

// A training batch: 32 samples, or fewer if the server's limit (GLASSBOX_LIMIT_MAX_BATCH)
// is lower.
export const BATCH = Math.min(32, rules.limits?.max_batch ?? 32);

/** A preset's facts ({name, topic, title, trained, reads_numbers}), or undefined. */
export function presetInfo(name) {
  return (rules.presets || []).find((p) => p.name === name);
}

/** A preset's title in the page's language (its name if the server gave none). */
export function presetTitle(name) {
  return pick(presetInfo(name)?.title) || name;
}

/** A cell in the page's language, its code name as secondary text: "delta handed below ·
 * convolution 1 [0,0,1,2] conv1.dx[0,0,1,2]" (names.js), or "conv1.dx[0,0,1,2] · delta"
 * (what the server calls its cells: the payload's `cell`) for a name names.js does not know. */
export function cellLabel(tensor, name, index) {
  const code = `${name}[${index.join(",")}]`;
  const human = tensorLabel(name);
  if (human !== name) return named(code, { text: `${human} [${index.join(",")}]` });
  return named(code, { text: tensor?.cell ? `${code} · ${t(tensor.cell)}` : code });
}
