// The guided path of a walkthrough: the server's tasks for this page (injected with it,
// as GET /api/lessons lists them), one at a time. A task sets the page up through its
// URL state (the task's `query`, the same keys the page's store keeps), asks the
// student to predict, hides the answer on the page meanwhile (live-hooks setQuiz), and
// sends the prediction to the server, which works out the right answer from the engine
// (POST /api/lessons/{task}/check) and returns it with its explanation. Nothing here
// knows an answer. Progress stays in this browser (guide-store.js).
import { api } from "./api.js";
import { el, explainPanel } from "./common.js";
import { answerForm, expectedText, showCells } from "./guide-answer.js";
import * as progress from "./guide-store.js";
import { lang, pick, t } from "./i18n.js";
import { liveSession, markCells, onViewChange, setQuiz } from "./live-hooks.js";
import { cellLabel } from "./rules.js";
import { pageState } from "./store.js";

// what the page hides while a task waits (live-hooks quizHides; guide.css, class-questions.css)
const QUIZ_KIND = { number: "number", cells: "cell", size: "size", map: "size", choice: "choice" };

/** Hide (a question) or show again what the page shows (a live class's open question
 * hides its own answer first: live-hooks setQuiz). */
const guideQuiz = (question) => setQuiz(question, "guide");

/** Whether the page's URL state is the task's (the keys a student may change aside). */
export function inState(task, state = pageState()) {
  if (!state) return false;
  return Object.entries(task.query).every(
    ([key, value]) => task.free.includes(key) || (key in state && `${state[key]}` === `${value}`),
  );
}

/** The page's session id, once the view has made it (null after `ms`). */
async function sessionReady(ms = 30000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const id = liveSession();
    if (id) return id;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  return null;
}

/** The task's URL: the page with its state (the language kept, `guide` naming it). */
function taskHref(task) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(task.query)) if (`${value}` !== "") q.set(key, value);
  q.set("lang", lang);
  if (document.documentElement.classList.contains("present")) q.set("present", "1");
  q.set("guide", task.id);
  return `${location.pathname}?${q}`;
}

/** The lecture link of a task (the page at /lecture, this language). */
function lectureLink(task) {
  const base = document.querySelector('meta[name="glassbox-base"]')?.content ?? "";
  const [path, anchor] = task.lecture.href.split("#");
  return el("a", {
    class: "guide-lecture",
    href: `${base}${path}?lang=${lang}#${anchor}`,
    text: t("guide.lectureLink", { title: pick(task.lecture.title) }),
  });
}

async function main() {
  const view = document.getElementById("view");
  const topic = view?.dataset.topic;
  const head = document.querySelector(".learn-head");
  if (!topic || !head) return;
  // this page's tasks, as GET /api/lessons lists them, come with the page
  const tasks = JSON.parse(document.getElementById("lessons")?.textContent || "[]");
  if (!tasks.length) return;
  const ids = tasks.map((x) => x.id);

  const wanted = new URLSearchParams(location.search).get("guide");
  let k = Math.max(0, ids.indexOf(wanted ?? progress.currentTask(topic) ?? ids[0]));
  if (wanted && ids.includes(wanted)) progress.setOpen(topic, true);

  // The toggle sits by the title (a closed path takes no room above the figure); the
  // open path is a section under the page's head.
  const toggle = el("button", { type: "button", class: "guide-toggle", "aria-expanded": "false" });
  const box = el("section", { class: "guide", id: "guide", "aria-labelledby": "guide-title" });
  const title = el("h2", { id: "guide-title", class: "guide-title", text: t("guide.title") });
  const body = el("div", { class: "guide-body" });
  toggle.setAttribute("aria-controls", box.id);
  const status = el("p", { class: "visually-hidden", role: "status" });
  box.append(title, body, status);
  (head.querySelector(".present-toggle") ?? head.querySelector("h1")).after(toggle);
  head.after(box);

  function label() {
    toggle.textContent = t("guide.show", { done: progress.doneCount(ids), total: ids.length });
  }
  function setOpen(open) {
    box.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    progress.setOpen(topic, open);
    if (open) show();
    else guideQuiz(null);
  }
  toggle.addEventListener("click", () => setOpen(box.hidden));

  let answered = false; // this task's answer has been revealed (the page may show it)
  let shown = null; // the task on screen

  function hideAnswer(task, form) {
    if (answered || !inState(task)) return guideQuiz(null);
    guideQuiz({
      id: `guide:${task.id}`,
      kind: QUIZ_KIND[task.kind],
      tensor: task.tensor,
      index: task.index ?? [],
      target: form?.target,
    });
  }

  async function show() {
    const task = tasks[k];
    shown = task;
    answered = false;
    progress.setCurrentTask(topic, task.id);
    // the address names the task on screen (a reload or a copied link reopens it)
    const address = new URL(location.href);
    if (address.searchParams.get("guide") !== task.id) {
      address.searchParams.set("guide", task.id);
      history.replaceState(null, "", `${address.pathname}${address.search}${address.hash}`);
    }
    body.innerHTML = "";
    const meta = el(
      "p",
      { class: "guide-meta" },
      el("span", { text: t("guide.task", { n: k + 1, total: tasks.length }) }),
    );
    if (task.example)
      meta.append(" · ", el("span", { class: "guide-example", text: t("guide.example") }));
    if (progress.isDone(task.id))
      meta.append(" · ", el("span", { class: "guide-done", text: "✓" }));
    const ask = el("p", { class: "guide-ask", text: pick(task.ask) });
    const moved = el("p", { class: "guide-moved", role: "note" });
    const setBtn = el("button", { type: "button", class: "guide-set", text: t("guide.set") });
    setBtn.addEventListener("click", () => location.assign(taskHref(task)));
    const formBox = el("div", { class: "guide-form" });
    const feedback = el("div", { class: "guide-feedback" });
    const nav = el("div", { class: "guide-nav" });
    const prev = el("button", { type: "button", text: t("guide.prev"), "data-act": "prev" });
    const next = el("button", { type: "button", text: t("guide.next"), "data-act": "next" });
    prev.disabled = k === 0;
    next.disabled = k === tasks.length - 1;
    prev.addEventListener("click", () => go(k - 1));
    next.addEventListener("click", () => go(k + 1));
    const reset = el("button", { type: "button", class: "guide-reset", text: t("guide.reset") });
    reset.addEventListener("click", () => {
      progress.forget(ids, topic);
      label();
      go(0);
    });
    nav.append(prev, next, reset);
    body.append(
      el("h3", { class: "guide-task-title", text: pick(task.title) }),
      meta,
      ask,
      lectureLink(task),
      moved,
      formBox,
      feedback,
      nav,
    );

    const here = () => {
      const ok = inState(task);
      moved.textContent = ok ? "" : t("guide.moved");
      moved.hidden = ok;
      if (!ok) moved.append(" ", setBtn);
      for (const input of formBox.querySelectorAll("input, button")) input.disabled = !ok;
      return ok;
    };
    const sid = task.needs_session ? await sessionReady() : null;
    if (shown !== task) return;
    let form = {};
    // a grid to fill (cells, map): its shape from the page's session
    if ((task.kind === "cells" || task.kind === "map") && sid) {
      try {
        form = await api("GET", `/api/lessons/${task.id}/form?session=${sid}`);
      } catch (err) {
        // (a pass that ends before the tensor: a drawing without its label) said in words
        if (shown === task)
          formBox.append(el("p", { class: "guide-error field-error", text: err.message }));
        return;
      }
    }
    if (shown !== task) return;
    const f = answerForm(task, form, (answer) => send(task, answer, feedback, f));
    formBox.append(f);
    here();
    hideAnswer(task, form);
    outline(task);
    stateWatch?.();
    stateWatch = onViewChange((what) => {
      if (shown !== task) return;
      if (what === "state" || what === "session") {
        here();
        hideAnswer(task, form);
      }
      if (what === "frame") outline(task);
    });
  }
  let stateWatch = null;

  function outline(task) {
    if (task.tensor && task.kind !== "size")
      markCells(task.tensor, [{ index: task.index, style: "target" }]);
  }

  function go(n) {
    k = Math.max(0, Math.min(tasks.length - 1, n));
    const task = tasks[k];
    progress.setCurrentTask(topic, task.id);
    const same = Object.entries(task.query).every(
      ([key, value]) => `${pageState()?.[key] ?? ""}` === `${value}`,
    );
    if (same) show();
    else location.assign(taskHref(task));
  }

  /** Ask the server about `answer`; then show its verdict (errors: to the form). */
  async function send(task, answer, feedback, f) {
    feedback.textContent = t("guide.waiting");
    try {
      const res = await api("POST", `/api/lessons/${task.id}/check`, {
        session: task.needs_session ? liveSession() : null,
        answer,
      });
      if (shown === task) reveal(task, res, feedback, f);
    } catch (err) {
      feedback.textContent = "";
      throw err;
    }
  }

  /** The server's verdict: right or not, the engine's answer, why, what to notice. */
  function reveal(task, res, feedback, f) {
    answered = true;
    guideQuiz(null);
    if (res.correct) progress.markDone(task.id);
    label();
    const e = res.expected;
    feedback.innerHTML = "";
    feedback.dataset.correct = String(res.correct);
    const verdict = el("p", { class: `guide-verdict ${res.correct ? "right" : "wrong"}` });
    verdict.textContent = res.correct ? t("guide.right") : t("guide.wrong");
    const said = el("p", { class: "guide-expected", text: expectedText(task.kind, e) });
    said.dataset.expected = JSON.stringify(
      e.value ?? e.size ?? e.map ?? e.choice ?? e.cells.map((c) => c.index),
    );
    if (task.kind === "cells") showCells(f, e);
    feedback.append(verdict, said);
    if (e.explanation) {
      const panel = explainPanel(feedback);
      const at = e.explained ?? { tensor: task.tensor, index: task.index };
      panel.show(e.explanation, cellLabel(null, at.tensor, at.index));
    }
    feedback.append(el("p", { class: "guide-note", text: pick(task.note) }));
    status.textContent = `${verdict.textContent} ${said.textContent}`;
    outline(task);
  }

  label();
  const open = progress.isOpen(topic);
  box.hidden = true;
  if (open) setOpen(true);
}

main().catch((err) => console.error(err));
