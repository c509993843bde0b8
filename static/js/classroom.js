// The live class in the browser (the server side: app/routers/classes.py). A teacher
// starts a class on any walkthrough; the page then publishes what it shows (page, URL
// state, frame, open cell, present mode) and the panel shows the join code, link, QR
// code and how many follow. A student's page joins with the code and follows over SSE:
// another page or state reloads to the teacher's, the same page steps its player and
// opens the teacher's cell. The class (code and token) lives in sessionStorage, so a
// tab keeps it across pages; the teacher token never goes into a URL or a link.
//
// One instance per page: the templates load this file unversioned, and modules import
// it as "./classroom.js" (class-questions.js uses classInfo, onClassState, classApi,
// classPanel).
import { api, url } from "./api.js";
import { t } from "./i18n.js";
import { livePlayer, onViewChange, setQuiz } from "./live-hooks.js";
import { openCell, topic } from "./share.js";
import { linkToView } from "./store.js";

const TEACHER = "glassbox.class.teacher"; // {code, token, join_url, qr_svg}
const STUDENT = "glassbox.class.student"; // {code, token, mode}
const NOT_STATE = ["frame", "step", "class", "lang", "present", "cell"]; // not the query
const TALLY_MS = 1500;

const stored = (key) => {
  try {
    return JSON.parse(sessionStorage.getItem(key) || "null");
  } catch {
    return null;
  }
};
const store = (key, value) =>
  value ? sessionStorage.setItem(key, JSON.stringify(value)) : sessionStorage.removeItem(key);

let info = { code: null, role: null, token: null, mode: "follow", locked: false };
let latest = null;
const stateListeners = new Set();
let panel = null; // the teacher panel or the student bar

/** The class this page is in: {code, role: "teacher"|"student"|null, token, mode, locked}. */
export const classInfo = () => ({ ...info });

/** fn(state) on every class state the page gets, and at once with the latest if any. */
export function onClassState(fn) {
  stateListeners.add(fn);
  if (latest) fn(latest);
  return () => stateListeners.delete(fn);
}

function emitState(state) {
  if (latest && state.seq < latest.seq && !state.ended) return; // an older answer
  latest = state;
  info.locked = Boolean(state.locked);
  // An open question hides its answer on every page of the class, the teacher's too
  // (a projected screen): the reveal or close lifts it.
  setQuiz(state.ended ? null : (state.question ?? null));
  for (const fn of stateListeners) fn(state);
}

/** A request to the class API under the app's base path with the class token; JSON in
 * and out; a non-2xx answer throws an ApiError (its .message in the page's language). */
export async function classApi(method, path, body) {
  const headers = info.token ? { Authorization: `Bearer ${info.token}` } : {};
  const data = await api(method, path, body, { headers, tries: 1 }); // a refusal shows at once
  if (info.role === "teacher" && data && typeof data.seq === "number" && "view" in data)
    emitState(data);
  return data;
}

/** The element the class's UI lives in (teacher panel or student bar), or null. */
export const classPanel = () => panel;

const make = (tag, attrs = {}, text = "") => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
};

/** The query of the page's URL state: `search` without what the class sends apart. */
export function stateQuery(search = location.search) {
  const q = new URLSearchParams(search);
  for (const key of NOT_STATE) q.delete(key);
  return q.toString();
}

const presenting = () => document.documentElement.classList.contains("present");
const base = () => document.getElementById("view");

function notice(text, where) {
  const p = make("p", { class: "notice class-notice", role: "status" }, text);
  where.before(p);
  return p;
}

// --- the teacher --------------------------------------------------------------------

function spelled(code) {
  return code.split("").join(" ");
}

function teacherPanel(cls) {
  const box = make("section", { class: "class-panel", "aria-labelledby": "class-panel-title" });
  const code = make("p", { class: "class-code" });
  code.append(
    make("span", { class: "visually-hidden" }, `${t("classroom.code")}: ${spelled(cls.code)}`),
    make("span", { "aria-hidden": "true" }, cls.code),
  );
  const link = make("a", { href: cls.join_url, class: "class-link" }, cls.join_url);
  const qr = make("img", {
    src: cls.qr_svg ?? url(`/api/classes/${cls.code}/qr.svg`), // the server's (its base path)
    alt: t("classroom.qr_alt", { url: cls.join_url }),
    class: "class-qr",
    width: "160",
    height: "160",
  });
  const tally = make("p", { class: "class-tally", role: "status" });
  const lock = make("button", { type: "button", class: "class-lock", "aria-pressed": "false" });
  lock.textContent = t("classroom.lock");
  const end = make("button", { type: "button", class: "class-end" }, t("classroom.end"));
  const head = make("h2", { id: "class-panel-title" }, t("classroom.title"));
  const where = make("p", { class: "class-where" }, `${t("classroom.link")}: `);
  where.append(link);
  const words = make("div", { class: "class-words" });
  words.append(head, make("p", { class: "class-code-label" }, t("classroom.code")), code, where);
  const actions = make("div", { class: "class-actions" });
  actions.append(tally, lock, end);
  words.append(actions);
  box.append(words, qr);
  const paintTally = (n) => {
    const text = t("classroom.tally", { following: n.following, exploring: n.exploring });
    if (tally.textContent !== text) tally.textContent = text;
    tally.dataset.following = String(n.following);
    tally.dataset.exploring = String(n.exploring);
  };
  paintTally({ following: 0, exploring: 0 });
  onClassState((s) => lock.setAttribute("aria-pressed", String(Boolean(s.locked))));
  lock.addEventListener("click", async () => {
    const locked = lock.getAttribute("aria-pressed") !== "true";
    await classApi("PATCH", `/api/classes/${cls.code}`, { locked }).catch(showClassError);
  });
  end.addEventListener("click", async () => {
    if (!window.confirm(t("classroom.end_confirm"))) return;
    await classApi("DELETE", `/api/classes/${cls.code}`).catch(() => {});
    endHere();
  });
  return { box, paintTally };
}

function showClassError(err) {
  const line = panel?.querySelector(".class-error") ?? make("p", { class: "class-error" });
  line.setAttribute("role", "alert");
  line.textContent = t("classroom.error", { message: err?.message || String(err) });
  panel?.append(line);
}

/** The class ended (the teacher ended it, or it expired): say so; the page stays usable. */
function endHere() {
  const where = panel ?? base();
  if (where) notice(t("classroom.ended"), where);
  panel?.remove();
  panel = null;
  store(info.role === "teacher" ? TEACHER : STUDENT, null);
  info = { code: info.code, role: null, token: null, mode: "follow", locked: false };
  stopTeacher?.();
  stopStudent?.();
  emitState({ ...(latest ?? {}), ended: true, seq: (latest?.seq ?? 0) + 1 });
}

let stopTeacher = null;

async function currentView(cache) {
  const search = stateQuery();
  if (cache.search !== search) {
    // The link's parts only when the URL state changed: linkToView may copy a session.
    const link = new URL(await linkToView());
    cache.query = stateQuery(link.search);
    cache.search = search;
  }
  // The frame the player heads for: the students' pages load it while the teacher's does.
  const heading = livePlayer()?.heading;
  return {
    page: topic(),
    query: cache.query,
    frame: heading === undefined ? -1 : heading,
    cell: openCell(),
    present: presenting(),
  };
}

function runTeacher(cls) {
  info = { code: cls.code, role: "teacher", token: cls.token, mode: "follow", locked: false };
  const { box, paintTally } = teacherPanel(cls);
  panel = box;
  mountPanel(box);
  const cache = { search: null, query: "" };
  let timer = 0;
  let inFlight = false;
  let again = false;
  let stopped = false;
  const publish = async () => {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      do {
        again = false;
        const view = await currentView(cache);
        await classApi("PUT", `/api/classes/${cls.code}/view`, view);
        panel?.querySelector(".class-error")?.remove();
      } while (again && !stopped);
    } catch (err) {
      if (err?.status === 404 || err?.status === 410) endHere();
      else showClassError(err);
    } finally {
      inFlight = false;
    }
  };
  let ready = false; // the view has drawn: its link's parts can be read
  const unlisten = onViewChange((what) => {
    // Anything but a frame or a cell may change the link's parts (a drawing, trained
    // weights): read them again. A frame or a cell alone keeps the query.
    if (!["frame", "heading", "cell"].includes(what)) cache.search = null;
    if (!ready) return;
    // Sent once this task's changes are in (a setting's state, frame and cell come
    // together); a burst while a request is out is one more request (publish).
    clearTimeout(timer);
    timer = setTimeout(publish, 0);
  });
  const poll = async () => {
    if (document.hidden || stopped) return;
    try {
      const n = await classApi("GET", `/api/classes/${cls.code}/tally`);
      paintTally(n);
      for (const fn of tallyListeners) fn(n);
      if (!latest || n.seq !== latest.seq) await classApi("GET", `/api/classes/${cls.code}`);
    } catch (err) {
      if (err?.status === 404 || err?.status === 410) endHere();
    }
  };
  const interval = setInterval(poll, TALLY_MS);
  document.addEventListener("visibilitychange", poll);
  stopTeacher = () => {
    stopped = true;
    unlisten();
    clearInterval(interval);
    document.removeEventListener("visibilitychange", poll);
    stopTeacher = null;
  };
  // Publish once the view has drawn (its player and URL state), and poll at once.
  whenReady().then(() => {
    ready = true;
    publish();
  });
  poll();
}

const tallyListeners = new Set();

/** fn(tally) on each tally the teacher's page polls ({following, exploring, question}). */
export function onTally(fn) {
  tallyListeners.add(fn);
  return () => tallyListeners.delete(fn);
}

/** Resolves once the view has drawn (mount sets data-ready), or after 20 s. */
function whenReady() {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const check = () => {
      if (base()?.dataset.ready || Date.now() - t0 > 20_000) resolve();
      else setTimeout(check, 50);
    };
    check();
  });
}

/** The class's element goes above the view, by the share bar. */
function mountPanel(box) {
  const view = base();
  if (view) view.before(box);
  else document.querySelector(".class-join")?.after(box);
}

function startButton() {
  const bar = make("div", { class: "class-start-bar" });
  const button = make("button", { type: "button", class: "class-start" }, t("classroom.start"));
  bar.append(button);
  mountPanel(bar);
  // Beside "Copy link" once the view has made its share bar: no row of its own above
  // the figure (the player stays on a 1024x768 screen).
  whenReady().then(() => document.querySelector(".share-bar")?.append(bar));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await whenReady();
      const view = await currentView({ search: null, query: "" });
      const res = await classApi("POST", "/api/classes", { view });
      const cls = {
        code: res.code,
        token: res.teacher_token,
        join_url: res.join_url,
        qr_svg: res.qr_svg,
      };
      store(TEACHER, cls);
      bar.remove();
      runTeacher(cls);
      emitState(res.state);
    } catch (err) {
      button.disabled = false;
      let line = bar.querySelector(".class-error");
      if (!line) {
        line = make("p", { class: "class-error", role: "alert" });
        bar.append(line);
      }
      line.textContent = t("classroom.error", { message: err?.message || String(err) });
    }
  });
}

// --- the student: the bar and following are in the second half ---------------------

let stopStudent = null;

/** The URL the page opened with (before a view takes its link's parts out of it). */
export const openedSearch = location.search;

/** A code as typed ("k7q-mpx ") as the server keeps it ("K7QMPX"). */
export const normalCode = (text) => text.replace(/[\s-]/g, "").toUpperCase();

async function boot() {
  const given = new URLSearchParams(location.search).get("class");
  const teacher = stored(TEACHER);
  const code = given ? normalCode(given) : null;
  if (base() && teacher && (!code || code === teacher.code)) return runTeacher(teacher);
  if (!base() || code) {
    const student = await import("./class-student.js");
    stopStudent = base() ? await student.runStudent(code) : student.homeJoin(code);
    return;
  }
  startButton();
}

/** Internal: the student half sets the page's class and its bar. */
export function setStudent(next, bar) {
  if (next) info = { ...info, ...next, role: "student" };
  if (bar !== undefined) panel = bar;
}
export { emitState, endHere, make, mountPanel, notice, presenting, stored, store, STUDENT };

boot();
