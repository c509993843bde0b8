// A guided task's answer (guide.js): the form of each kind (a number, rows and
// columns, a whole map, a choice, the cells a delta reaches), and the engine's answer as
// the feedback says it. Nothing here knows an answer: the server sends it.
import { format } from "./colors.js";
import { el } from "./common.js";
import { pick, t } from "./i18n.js";

/** Toggle buttons for the cells of `shape`: a grid per leading plane (a channel). */
function grid(shape) {
  // one grid per leading plane (a channel), each rows x columns of toggle buttons
  const [rows, cols] = shape.slice(-2);
  const lead = shape.slice(0, -2);
  const planes = [];
  const walk = (prefix) => {
    if (prefix.length === lead.length) return planes.push(prefix);
    for (let i = 0; i < lead[prefix.length]; i++) walk([...prefix, i]);
  };
  walk([]);
  const box = el("div", { class: "guide-grids" });
  const buttons = [];
  for (const prefix of planes) {
    const g = el("div", { class: "guide-grid", role: "group" });
    // a map of several channels: each grid says which (the batch index is always 0)
    const name = planes.length > 1 ? t("guide.plane", { c: prefix.at(-1) }) : "";
    g.style.gridTemplateColumns = `repeat(${cols}, 2.2rem)`;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const index = [...prefix, r, c];
        const b = el("button", {
          type: "button",
          class: "guide-cell",
          "aria-pressed": "false",
          "aria-label": `[${index.join(",")}] ${t("guide.cell", { r, c })}`,
          "data-index": index.join(","),
        });
        b.addEventListener("click", () => {
          const on = b.getAttribute("aria-pressed") !== "true";
          b.setAttribute("aria-pressed", String(on));
        });
        g.append(b);
        buttons.push(b);
      }
    box.append(
      name ? el("figure", { class: "guide-plane" }, el("figcaption", { text: name }), g) : g,
    );
  }
  return { box, buttons, groups: [...box.querySelectorAll(".guide-grid")] };
}

/** The answer's form for the task's kind (`form`: a grid's shape from the server);
 * its submit reads the answer and awaits `send(answer)` (an error: said in the form). */
export function answerForm(task, form, send) {
  const f = el("form", { class: "guide-answer", novalidate: "" });
  const error = el("p", { class: "guide-error field-error", "aria-live": "polite" });
  let read = () => null;
  if (task.kind === "number") {
    const input = el("input", {
      type: "text",
      inputmode: "decimal",
      autocomplete: "off",
      class: "guide-number",
    });
    f.append(el("label", {}, `${t("guide.number")} `, input));
    read = () => {
      const text = input.value.trim();
      const number = Number(text);
      return text !== "" && Number.isFinite(number) ? { number } : t("guide.badNumber");
    };
  } else if (task.kind === "size") {
    const rows = el("input", { type: "number", min: "0", step: "1", class: "guide-rows" });
    const cols = el("input", { type: "number", min: "0", step: "1", class: "guide-cols" });
    f.append(
      el("label", {}, `${t("guide.rows")} `, rows),
      el("label", {}, `${t("guide.cols")} `, cols),
    );
    read = () => {
      const size = [rows.value, cols.value].map(Number);
      const ok = rows.value !== "" && cols.value !== "" && size.every(Number.isInteger);
      return ok ? { size } : t("guide.badSize");
    };
  } else if (task.kind === "map") {
    const [rows, cols] = form.shape ?? [0, 0];
    const g = el("div", { class: "guide-grid guide-map", role: "group" });
    g.setAttribute("aria-label", t("guide.mapGrid", { rows, cols }));
    g.style.gridTemplateColumns = `repeat(${cols}, 3.2rem)`;
    const inputs = [];
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const input = el("input", {
          type: "text",
          inputmode: "decimal",
          autocomplete: "off",
          class: "guide-map-cell",
          "aria-label": t("guide.cell", { r, c }),
        });
        inputs.push(input);
        g.append(input);
      }
    f.append(g);
    read = () => {
      const numbers = inputs.map((i) => (i.value.trim() === "" ? NaN : Number(i.value)));
      if (!numbers.every(Number.isFinite)) return t("guide.badMap");
      return {
        map: Array.from({ length: rows }, (_, r) => numbers.slice(r * cols, (r + 1) * cols)),
      };
    };
  } else if (task.kind === "choice") {
    const set = el(
      "fieldset",
      { class: "guide-choices" },
      el("legend", { text: pick(task.title) }),
    );
    for (const choice of task.choices) {
      const radio = el("input", { type: "radio", name: `guide-${task.id}`, value: choice });
      set.append(
        el("label", { class: "guide-choice" }, radio, ` ${pick(task.choice_labels[choice])}`),
      );
    }
    f.append(set);
    read = () => {
      const chosen = f.querySelector("input:checked");
      return chosen ? { choice: chosen.value } : t("guide.noChoice");
    };
  } else {
    f.append(el("p", { class: "muted", text: t("guide.cellsHint") }));
    const g = grid(form.target_shape ?? [0, 0]);
    for (const group of g.groups) {
      const plane = group.parentElement.querySelector("figcaption")?.textContent;
      const label = t("guide.cellsGrid", { name: form.target });
      group.setAttribute("aria-label", plane ? `${label} · ${plane}` : label);
    }
    f.append(g.box);
    f.grid = g;
    read = () => {
      const cells = g.buttons
        .filter((b) => b.getAttribute("aria-pressed") === "true")
        .map((b) => b.dataset.index.split(",").map(Number));
      return cells.length ? { cells } : t("guide.noCells");
    };
  }
  const submit = el("button", { type: "submit", class: "primary", text: t("guide.check") });
  f.append(submit, error);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const answer = read();
    error.textContent = typeof answer === "string" ? answer : "";
    if (typeof answer === "string") return;
    submit.disabled = true;
    try {
      await send(answer);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      submit.disabled = false;
    }
  });
  return f;
}

/** The engine's answer of a task of `kind`, in words. */
export function expectedText(kind, e) {
  if (kind === "number") return format(e.value);
  if (kind === "size") return t("guide.expected.size", { rows: e.size[0], cols: e.size[1] });
  if (kind === "choice") return pick(e.text);
  if (kind === "map") return e.map.map((row) => `[${row.map(format).join(", ")}]`).join(" ");
  const cells = e.cells.map((c) =>
    t("guide.cellAmount", { cell: `[${c.index.join(",")}]`, amount: format(c.amount) }),
  );
  return cells.length
    ? t("guide.expected.cells", { delta: format(e.delta), cells: cells.join("; ") })
    : t("guide.expected.noCells");
}

/** A cells form's grid with the cells the delta reached outlined, each with its amount. */
export function showCells(f, e) {
  const amounts = new Map(e.cells.map((c) => [c.index.join(","), c.amount]));
  for (const b of f.grid?.buttons ?? []) {
    b.classList.toggle("expected", amounts.has(b.dataset.index));
    b.textContent = amounts.has(b.dataset.index) ? format(amounts.get(b.dataset.index)) : "";
  }
}
