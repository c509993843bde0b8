// The rules the server states (app/rules.py, also GET /api/rules): limits, the presets
// each page offers, the choices of the BP and RNN pages. The page template embeds them
// beside the catalog, so reading them costs no request; the JS keeps no copy.
import { t } from "./i18n.js";

const node = document.getElementById("rules");
export const rules = node ? JSON.parse(node.textContent) : {};

// A training batch: 32 samples, or fewer if the server's limit (GLASSBOX_LIMIT_MAX_BATCH)
// is lower.
export const BATCH = Math.min(32, rules.limits?.max_batch ?? 32);

/** A preset's facts ({name, topic, trained, reads_numbers}), or undefined. */
export function presetInfo(name) {
  return (rules.presets || []).find((p) => p.name === name);
}

/** "conv1.dx[0,0,1,2] · delta": a cell, and what the server calls its cells (the
 * payload's `cell`, a catalog key) in the page's language. */
export function cellLabel(tensor, name, index) {
  const label = `${name}[${index.join(",")}]`;
  return tensor?.cell ? `${label} · ${t(tensor.cell)}` : label;
}
