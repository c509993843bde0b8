// UI strings: the page embeds the catalog of its language (app/locales/*.json).
const node = document.getElementById("i18n");
const catalog = node ? JSON.parse(node.textContent) : {};
export const lang = document.documentElement.lang || "en";

/** The string for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = catalog[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** Pick the current language from an {en, zh-CN} object (captions, titles). */
export function pick(texts) {
  return texts ? (texts[lang] ?? texts.en) : "";
}
