// Ask the class, the student's side: the question card (a number field, a cell to
// click on the page's map, or the lecture's cases), the answer sent to the server,
// and the reveal: right or not (the server's check), the engine's number with its
// explanation, the cells a delta went to, or the case. Also the labels both sides use.
import { classApi, classInfo } from "./classroom.js";
import { format } from "./colors.js";
import { el, explainPanel } from "./common.js";
import { pick, t } from "./i18n.js";
import { ratesText } from "./lab-rows.js";
import { markCells, setCellPicker } from "./live-hooks.js";
import { tensorLabel } from "./names.js";

/** "output · pooling 1 [0,0,1,1]": a cell as the page names it. */
export function cellText(tensor, index) {
  return `${tensorLabel(tensor)} [${index.join(",")}]`;
}

/** A run of the lab as its legend row says it: {opt: "Momentum", rates: "lr = 0.1, μ = 0.9"}. */
export function runText(run) {
  return { opt: t(`lab.opt.${run.optimizer}`), rates: ratesText(run) };
}

/** One answer of the tally (its key: a number as given, a cell's index, a case). */
export function answerText(question, key) {
  if (question.kind === "cell") return cellText(question.target, key.split(","));
  if (question.kind === "choice") return t(`lab.case.${key}`);
  return key;
}

/** The question's path under the class. */
export const questionPath = (code, q, tail = "") => `/api/classes/${code}/questions/${q.id}${tail}`;

/** What the reveal says, in a line: the engine's number, the receiving cells or the case. */
export function revealedText(q) {
  const r = q.revealed;
  if (!r) return "";
  if (q.kind === "number")
    return t("cq.value", { value: format(r.value), tolerance: format(r.tolerance) });
  if (q.kind === "cell") {
    const cells = r.cells.map((c) =>
      t("cq.cellAmount", { cell: cellText(q.target, c.index), amount: format(c.amount) }),
    );
    return cells.length
      ? `${t("cq.cells", { delta: format(r.delta) })} ${cells.join("; ")}`
      : t("cq.noCells");
  }
  return t("cq.case", { case: t(`lab.case.${r.choice}`) });
}

let cardCount = 0;

/** The student's part of the class panel: a card per open question. */
export function studentCard(panel) {
  const box = el("div", { class: "cq cq-student" });
  const live = el("p", { class: "visually-hidden cq-live", role: "status" });
  box.append(live);
  panel.append(box);
  let q = null;
  let card = null;
  let parts = null;
  let revealedId = null;
  let picked = null;

  const announce = (text) => {
    live.textContent = text;
  };
  const code = () => classInfo().code;

  async function send(body) {
    parts.status.classList.remove("field-error");
    try {
      await classApi("POST", questionPath(code(), q, "/answers"), body);
      parts.status.textContent = t("cq.sent");
    } catch (err) {
      parts.status.classList.add("field-error");
      parts.status.textContent = err.message;
    }
  }

  function sayError(text) {
    parts.status.classList.add("field-error");
    parts.status.textContent = text;
  }

  function numberForm() {
    const id = `cq-number-${cardCount}`;
    const input = el("input", {
      id,
      type: "text",
      inputmode: "decimal",
      autocomplete: "off",
      class: "cq-number",
    });
    const form = el(
      "form",
      { class: "cq-form" },
      el("label", { for: id, text: t("cq.number.label") }),
      input,
      el("button", { type: "submit", class: "primary", text: t("cq.send") }),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      const number = Number(text);
      if (text === "" || !Number.isFinite(number)) return sayError(t("cq.badNumber"));
      send({ number });
    });
    return form;
  }

  function choiceForm(legend) {
    const name = `cq-choice-${cardCount}`;
    const set = el("fieldset", { class: "cq-choices" }, el("legend", { text: legend }));
    for (const choice of q.choices) {
      const radio = el("input", { type: "radio", name, value: choice });
      set.append(el("label", { class: "cq-choice" }, radio, ` ${t(`lab.case.${choice}`)}`));
    }
    const form = el(
      "form",
      { class: "cq-form" },
      set,
      el("button", { type: "submit", class: "primary", text: t("cq.send") }),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const chosen = form.querySelector("input:checked");
      if (!chosen) return sayError(t("cq.noChoice"));
      send({ choice: chosen.value });
    });
    return form;
  }

  /** The next click on a cell of the question's target tensor is the answer. */
  function pickOnMap() {
    markCells(q.tensor, [{ index: q.index, style: "target" }]);
    setCellPicker((tensor, index) => {
      if (q?.kind !== "cell" || q.revealed || tensor !== q.target) return false;
      picked = [...index];
      markCells(tensor, [{ index: picked, style: "chosen" }]);
      send({ index: picked });
      parts.picked.textContent = t("cq.picked", { cell: cellText(tensor, picked) });
      return true;
    });
  }

  function build() {
    close();
    cardCount++;
    const titleId = `cq-card-title-${cardCount}`;
    card = el("section", {
      class: "cq-card",
      role: "region",
      "aria-labelledby": titleId,
      "data-kind": q.kind,
      "data-question": q.id,
    });
    const title = el("h3", { id: titleId, text: t("cq.card.title") });
    parts = {
      status: el("p", { class: "cq-status", role: "status" }),
      picked: el("p", { class: "cq-picked" }),
      result: el("div", { class: "cq-result" }),
    };
    let prompt;
    card.append(title);
    if (q.kind === "number") {
      prompt = t("cq.q.number", { cell: cellText(q.tensor, q.index) });
      card.append(el("p", { class: "cq-prompt", text: prompt }), numberForm());
    } else if (q.kind === "cell") {
      const target = tensorLabel(q.target);
      prompt = t("cq.q.cell", { cell: cellText(q.tensor, q.index), target });
      card.append(
        el("p", { class: "cq-prompt", text: prompt }),
        el("p", { class: "muted", text: t("cq.pickHint", { target }) }),
        parts.picked,
      );
      pickOnMap();
    } else {
      const { opt, rates } = runText(q.lab.run);
      prompt = t("cq.q.choice", { opt, rates, steps: q.lab.steps });
      card.append(choiceForm(prompt));
    }
    card.append(parts.status, parts.result);
    box.append(card);
    announce(`${t("cq.card.title")}: ${prompt}`);
    const typing = document.activeElement?.closest?.("input, textarea, select");
    if (!typing) card.scrollIntoView({ block: "nearest" });
    if (!q.revealed) recall(q);
  }

  /** An answer this student sent before the page (re)loaded: say so, and show it. */
  async function recall(shown) {
    const mine = await classApi("GET", questionPath(code(), shown, "/mine")).catch(() => null);
    if (!mine?.answered || q?.id !== shown.id || q.revealed) return; // not since replaced
    parts.status.textContent = t("cq.sent");
    const input = card.querySelector("input.cq-number");
    if (input && !input.value && mine.answer.number !== undefined)
      input.value = String(mine.answer.number);
    const radio = card.querySelector(`input[value="${mine.answer.choice}"]`);
    if (radio) radio.checked = true;
    if (mine.answer.index) {
      picked = mine.answer.index;
      markCells(q.target, [{ index: picked, style: "chosen" }]);
      parts.picked.textContent = t("cq.picked", { cell: cellText(q.target, picked) });
    }
  }

  async function reveal() {
    setCellPicker(null);
    for (const input of card.querySelectorAll("input, button")) input.disabled = true;
    const shown = q;
    let mine;
    try {
      mine = await classApi("GET", questionPath(code(), shown, "/mine"));
    } catch (err) {
      sayError(err.message);
      return;
    }
    if (q?.id !== shown.id) return; // a newer question came meanwhile
    const revealed = q; // the state's question carries the reveal; mine says if I was right
    const verdict = !mine.answered ? "unanswered" : mine.correct ? "right" : "wrong";
    const out = parts.result;
    out.innerHTML = "";
    const head = el("p", {
      class: `cq-verdict ${verdict}`,
      "data-correct": String(mine.correct),
      text: t(`cq.${verdict}`),
    });
    out.append(head);
    if (mine.answered)
      out.append(
        el("p", {
          class: "muted",
          text: t("cq.yourAnswer", { answer: mineText(revealed, mine.answer) }),
        }),
      );
    out.append(el("p", { class: "cq-answer", text: revealedText(revealed) }));
    const r = revealed.revealed;
    if (q.kind === "cell") {
      const marks = r.cells.map((c) => ({ index: c.index, style: "target" }));
      if (picked && !mine.correct) marks.push({ index: picked, style: "chosen" });
      markCells(q.target, marks);
    }
    if (q.kind === "choice") out.append(el("p", { class: "cq-text", text: pick(r.text) }));
    else if (r.explanation) explainPanel(out).show(r.explanation, cellText(q.tensor, q.index));
    announce(`${t(`cq.${verdict}`)} ${revealedText(revealed)}`);
  }

  function close() {
    setCellPicker(null);
    card?.remove();
    card = null;
    picked = null;
  }

  return {
    el: box,
    show(state) {
      const next = state?.question ?? null;
      if (!next) {
        if (q) announce(t("cq.closed"));
        q = null;
        close();
        return;
      }
      const fresh = !q || next.id !== q.id;
      q = next;
      if (fresh) build();
      if (q.revealed && revealedId !== q.id) {
        revealedId = q.id;
        reveal();
      }
    },
  };
}

/** A student's stored answer as the page says it. */
function mineText(q, answer) {
  if (answer.number !== undefined) return format(answer.number);
  if (answer.index) return cellText(q.target, answer.index);
  return t(`lab.case.${answer.choice}`);
}
