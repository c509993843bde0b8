// Ask the class (issue 18, item 3): the teacher poses a question about what is on
// screen (a cell's number, where a delta goes, which lecture case a learning-rate run
// is), watches the answers come in and reveals the engine's answer; a student answers
// in a card (class-answer.js). The server checks every answer from the engine's
// numbers: nothing here compares a number.
import { classApi, classInfo, classPanel, onClassState, onTally } from "./classroom.js";
import {
  answerText,
  cellText,
  questionPath,
  revealedText,
  runText,
  studentCard,
} from "./class-answer.js";
import { el } from "./common.js";
import { t } from "./i18n.js";
import { liveSession, onViewChange } from "./live-hooks.js";
import { openCell } from "./share.js";

// --- the teacher's "Ask the class" ---------------------------------------------------

function teacherSection(panel) {
  const info = () => classInfo();
  const box = el("section", { class: "cq cq-teacher", "aria-labelledby": "cq-ask-title" });
  const where = el("p", { class: "muted cq-where" });
  const buttons = el("div", { class: "cq-buttons" });
  const error = el("p", { class: "field-error cq-error", role: "alert" });
  const open = el("div", { class: "cq-open" });
  const title = el("h3", { id: "cq-ask-title", tabindex: "-1", text: t("cq.ask.title") });
  box.append(title, where, buttons, error, open);
  panel.append(box);
  let labKey = "";
  let question = null;
  let tally = null;

  async function ask(body) {
    error.textContent = "";
    try {
      const state = await classApi("POST", `/api/classes/${info().code}/questions`, body);
      show(state);
    } catch (err) {
      error.textContent = err.message;
    }
  }

  function button(text, act, body) {
    return el("button", { type: "button", "data-ask": act, text, onclick: () => ask(body()) });
  }

  /** The lab page's setup as it last ran (views/lab.js puts it on the view). */
  function labSetup() {
    const text = document.getElementById("view")?.dataset.labSetup;
    return text ? JSON.parse(text) : null;
  }

  function paintButtons() {
    const lab = labSetup();
    const cell = openCell(); // the explanation open on the page
    const key = JSON.stringify([cell, lab]);
    if (key === labKey) return; // the same buttons (do not move focus away)
    labKey = key;
    buttons.innerHTML = "";
    if (lab) {
      where.textContent = lab.runs.length ? "" : t("cq.ask.noRuns");
      lab.runs.forEach((run, i) => {
        const { opt, rates } = runText(run);
        const b = button(t("cq.ask.choice", { run: i + 1, opt, rates }), "choice", () => ({
          kind: "choice",
          lab: { surface: lab.surface, start: lab.start, steps: lab.steps, run },
        }));
        b.dataset.run = String(i);
        buttons.append(b);
      });
      return;
    }
    if (!cell) {
      where.textContent = t("cq.ask.noCell");
      return;
    }
    where.textContent = t("cq.ask.cell", { cell: cellText(cell.tensor, cell.index) });
    const about = () => ({ session: liveSession(), tensor: cell.tensor, index: cell.index });
    buttons.append(button(t("cq.ask.number"), "number", () => ({ kind: "number", ...about() })));
    if (/^[^.]+\.dout$/.test(cell.tensor))
      buttons.append(button(t("cq.ask.where"), "cell", () => ({ kind: "cell", ...about() })));
  }

  const tallyBox = el("div", { class: "cq-tally-box" });
  let tallyKey = "";

  /** The question open: what it asks, its answers (paintTally), Reveal and Close. */
  function paintOpen() {
    open.innerHTML = "";
    tallyKey = "";
    if (!question) return;
    const q = question;
    const prompt =
      q.kind === "choice"
        ? t("cq.q.choiceShort", runText(q.lab.run))
        : t(q.kind === "cell" ? "cq.q.cellShort" : "cq.q.number", {
            cell: cellText(q.tensor, q.index),
          });
    open.append(
      el("h4", { text: t("cq.open.title") }),
      el("p", { class: "cq-prompt", text: prompt }),
      tallyBox,
    );
    if (q.revealed) open.append(el("p", { class: "cq-answer", text: revealedText(q) }));
    const actions = el("div", { class: "cq-buttons" });
    if (!q.revealed)
      actions.append(
        el("button", {
          type: "button",
          class: "primary",
          "data-act": "reveal",
          text: t("cq.reveal"),
          onclick: () => act("POST", "/reveal"),
        }),
      );
    actions.append(
      el("button", {
        type: "button",
        "data-act": "close",
        text: t("cq.close"),
        onclick: () => act("DELETE", ""),
      }),
    );
    open.append(actions);
    paintTally();
  }

  /** The answers so far: a bar per answer (its count in words too), how many answered;
   * after the reveal the right ones marked and how many were right. */
  function paintTally() {
    const q = question;
    const mine = q && tally?.question?.id === q.id ? tally.question : null;
    const key = JSON.stringify([q?.id, mine]);
    if (!q || key === tallyKey) return; // nothing new: leave it (and the focus) as it is
    tallyKey = key;
    tallyBox.innerHTML = "";
    const list = el("ul", { class: "cq-tally", "aria-label": t("cq.tally.title") });
    const total = mine?.total ?? 0;
    const most = Math.max(1, ...(mine?.counts ?? []).map((c) => c.count));
    for (const row of mine?.counts ?? []) {
      const right = row.correct === true;
      const bar = el("span", { class: "cq-bar", "aria-hidden": "true" });
      bar.style.width = `${(100 * row.count) / most}%`;
      const item = el(
        "li",
        { class: right ? "cq-row right" : "cq-row", "data-answer": row.answer },
        el(
          "span",
          { class: "cq-label" },
          t("cq.tally.row", { answer: answerText(q, row.answer), count: row.count }),
          right ? el("strong", { class: "cq-mark", text: ` ✓ ${t("cq.tally.isRight")}` }) : null,
        ),
        el("span", { class: "cq-track" }, bar),
      );
      item.dataset.count = String(row.count);
      list.append(item);
    }
    tallyBox.append(
      list,
      el("p", {
        class: "cq-count",
        "data-total": String(total),
        text: total ? t("cq.tally.answered", { n: total }) : t("cq.tally.none"),
      }),
    );
    if (mine && mine.right !== null && mine.right !== undefined)
      tallyBox.append(
        el("p", {
          class: "cq-right",
          role: "status",
          "data-right": String(mine.right),
          text: t("cq.tally.right", { n: mine.right, m: total }),
        }),
      );
  }

  async function act(method, tail) {
    error.textContent = "";
    try {
      const state = await classApi(method, questionPath(info().code, question, tail), undefined);
      show(state);
      // the keyboard's focus stays in the section: on Close after a reveal, else the title
      if (tail) open.querySelector("[data-act='close']")?.focus();
      else title.focus();
      if (tail) {
        tally = await classApi("GET", `/api/classes/${info().code}/tally`); // at once
        paintTally();
      }
    } catch (err) {
      error.textContent = err.message;
    }
  }

  function show(state) {
    if (!state) return;
    const q = state.question ?? null;
    const changed = JSON.stringify(q) !== JSON.stringify(question);
    question = q;
    paintButtons();
    if (changed) paintOpen();
  }

  const stops = [
    onTally((next) => {
      tally = next;
      paintTally();
    }),
    onViewChange(() => paintButtons()),
  ];
  const stop = () => {
    for (const off of stops) off();
  };
  return { show, el: box, stop };
}

// --- wiring: the panel appears with the class -----------------------------------------

let part = null;
onClassState((state) => {
  const info = classInfo();
  const panel = classPanel();
  if (state?.ended || !info?.role || !panel) {
    part?.show(null); // puts the question away (and a student's cell picker)
    part?.stop?.();
    part?.el.remove();
    part = null;
    return;
  }
  if (!panel.contains(part?.el)) part = null; // the panel was built again
  if (!part) part = info.role === "teacher" ? teacherSection(panel) : studentCard(panel);
  part.show(state);
});
