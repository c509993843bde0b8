// The live class's hooks into the page (classroom.js, class-questions.js): a small
// registry the player, the views, share.js and store.js report to, with no imports
// of its own, so any of them can import it without a cycle.

let player = null;
let sessionOf = null;
let opener = null;
let picker = null;
const viewListeners = new Set();

/** The page's main player (the Player constructor calls this; the last one wins). */
export function registerPlayer(p) {
  player = p;
}

/** The player registered last, or null. */
export const livePlayer = () => player;

/** A view says how to read its session id now (`getId()`). */
export function registerSession(getId) {
  sessionOf = getId;
}

/** The view's session id now, or null. */
export function liveSession() {
  try {
    return sessionOf?.() ?? null;
  } catch {
    return null;
  }
}

/** A view that can open a cell's explanation in place registers fn(tensor, index). */
export function registerCellOpener(fn) {
  opener = fn;
}

/** Open the explanation of a cell in place; false if no view can. */
export function openCellHere(tensor, index) {
  if (!opener) return false;
  opener(tensor, index);
  return true;
}

/** While `fn` is set, a click on a map cell asks it first (pickCell). */
export function setCellPicker(fn) {
  picker = fn ?? null;
}

/** A click on cell `index` of `tensor`: true if the picker took it (the view then
 * opens nothing). */
export function pickCell(tensor, index) {
  return picker ? Boolean(picker(tensor, index)) : false;
}

let marker = null;

/** A view that can outline cells of its maps registers fn(tensor, marks), marks =
 * [{index, style: "target"|"chosen"|"source"|"window"}] (the live class's questions). */
export function registerCellMarker(fn) {
  marker = fn;
}

/** Outline cells of a map the page shows; false if it shows none of that tensor. */
export function markCells(tensor, marks) {
  return marker ? Boolean(marker(tensor, marks)) : false;
}

/** fn(what) whenever what the page shows changes: "state" (the URL state), "heading"
 * (the player heads for another frame), "frame" (it has drawn it), "cell" (the open
 * explanation), "session" (a write changed the session: api.js, sse.js). Returns a
 * function that removes it. */
export function onViewChange(fn) {
  viewListeners.add(fn);
  return () => viewListeners.delete(fn);
}

/** Tell the listeners the view changed (store.js, player.js, share.js, present.js). */
export function viewChanged(what = "") {
  for (const fn of viewListeners) {
    try {
      fn(what);
    } catch (err) {
      console.error(err);
    }
  }
}

// --- the open question: what the page must not show before the reveal ---------------

let quiz = null; // the question the page hides the answer of now (a class's, else a task's)
const asking = { class: null, guide: null }; // each asker's open question
const quizListeners = new Map(); // fn -> the element it draws in (gone: the fn goes too)

/** A question is open and not revealed (`by`: "class", classroom.js on each state; or
 * "guide", a guided task waiting for the student's prediction, guide.js): the maps grey
 * the cells it asks about (quizHides) and the page's explanation results are hidden
 * (<html data-quiz="number|cell|choice|size">, CSS). The class's question comes first;
 * each asker clears only its own. */
export function setQuiz(question, by = "class") {
  asking[by] = question && !question.revealed ? question : null;
  const next = asking.class ?? asking.guide;
  const key = (q) => (q ? `${q.id}` : "");
  if (key(next) === key(quiz)) return;
  quiz = next;
  const root = document.documentElement;
  if (quiz) root.dataset.quiz = quiz.kind;
  else delete root.dataset.quiz;
  for (const [fn, el] of [...quizListeners]) {
    if (el && !el.isConnected) {
      quizListeners.delete(fn);
      continue;
    }
    try {
      fn(quiz);
    } catch (err) {
      console.error(err);
    }
  }
}

/** The open, unrevealed question, or null. */
export const openQuiz = () => quiz;

/** fn(question|null) when the open question changes, while `el` (if given) is on the
 * page: a listener whose element has left is dropped (here, or when another is added;
 * adding the same fn again is cheap). Returns a function that removes it. */
export function onQuiz(fn, el = null) {
  if (!quizListeners.has(fn)) {
    for (const [f, e] of quizListeners) if (e && !e.isConnected) quizListeners.delete(f);
    quizListeners.set(fn, el);
  }
  return () => quizListeners.delete(fn);
}

/** Whether the open question hides cell (r, c) of the map named `name` ("pool1.out", or
 * a plane of a tensor, "conv1.out[0,1]"): a number question hides its asked cell (the
 * last two index entries are the map's row and column; one entry: row 0), a cell
 * question the whole tensor to click in (where the delta went). */
export function quizHides(name, r, c) {
  if (!quiz || !name) return false;
  const m = /^(.+?)(?:\[([\d,\s]*)\])?$/.exec(name);
  const tensor = m[1];
  const lead = m[2] ? m[2].split(",").map(Number) : null;
  if (quiz.kind === "cell") return tensor === quiz.target;
  if (quiz.kind === "size") return tensor === quiz.tensor; // the whole map shows its size
  if (quiz.kind !== "number" || tensor !== quiz.tensor) return false;
  const index = quiz.index;
  const [row, col] = index.length === 1 ? [0, index[0]] : index.slice(-2);
  if (lead && lead.join(",") !== index.slice(0, -2).join(",")) return false;
  return row === r && col === c;
}

/** Whether the open question asks about cell `index` of `tensor` (a follower's page
 * does not open its explanation before the reveal). */
export function quizAsks(tensor, index) {
  return Boolean(
    quiz && quiz.kind !== "choice" && quiz.tensor === tensor && `${quiz.index}` === `${index}`,
  );
}
