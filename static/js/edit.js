// Editing a number of an input or a kernel: a small form under the map.
import { el } from "./common.js";
import { t } from "./i18n.js";

/** Ask for a new value of cell (r, c); resolves to a number, or null if cancelled. */
export function editCell(heatmap, r, c, value) {
  return new Promise((resolve) => {
    heatmap.el.querySelector(".cell-editor")?.remove();
    const input = el("input", {
      type: "number",
      step: "any",
      value: String(value),
      "aria-label": `[${r}, ${c}]`,
    });
    const form = el(
      "form",
      { class: "cell-editor" },
      el("span", { text: `[${r}, ${c}] = ` }),
      input,
      el("button", { type: "submit", text: t("conv.edit.ok") }),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const v = Number(input.value);
      form.remove();
      resolve(Number.isFinite(v) ? v : null);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        form.remove();
        resolve(null);
      }
    });
    heatmap.el.append(form);
    input.focus();
    input.select();
  });
}

/** A nested list (rows of numbers) from a plane, with one cell replaced. */
export function withCell(plane, r, c, v) {
  const rows = [];
  for (let i = 0; i < plane.rows; i++) {
    rows.push(Array.from(plane.data.subarray(i * plane.cols, (i + 1) * plane.cols)));
  }
  rows[r][c] = v;
  return rows;
}

export const editHint = () => t("conv.edit");
