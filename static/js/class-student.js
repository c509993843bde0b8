// The live class, a student's side (classroom.js loads it): join with a code (the home
// page's form, or a page opened with ?class=CODE), then follow the teacher over SSE.
// Following: another page or URL state reloads to the teacher's; the same page steps
// the player to the teacher's frame and opens the teacher's cell. A student who steps
// or changes a setting explores on their own (unless the teacher locked following);
// "Rejoin" brings the teacher's current state back at once.
import { url } from "./api.js";
import {
  classApi,
  emitState,
  endHere,
  make,
  mountPanel,
  normalCode,
  notice,
  onClassState,
  openedSearch,
  presenting,
  STUDENT,
  setStudent,
  stateQuery,
  store,
  stored,
} from "./classroom.js";
import { lang, t } from "./i18n.js";
import { liveSession, livePlayer, onViewChange, openCellHere, quizAsks } from "./live-hooks.js";
import { topic } from "./share.js";

const USER_MS = 1500; // a change this soon after a key, click or edit is the student's own

/** Join class `code` (checked first: the server's message if there is none). */
async function join(code, nickname = "") {
  setStudent({ code, token: null, mode: "follow" });
  await classApi("GET", `/api/classes/${code}`);
  const body = nickname ? { nickname } : {};
  const res = await classApi("POST", `/api/classes/${code}/students`, body);
  const me = { code, token: res.student_token, mode: "follow" };
  store(STUDENT, me);
  return { me, state: res.state };
}

/** The teacher's page, in this student's language, following class `code`. */
function targetOf(view, code) {
  const q = new URLSearchParams(view.query);
  q.set("class", code);
  q.set("lang", lang);
  if (view.present) q.set("present", "1");
  return url(`/learn/${view.page}?${q}`);
}

/** The class's events (EventSource reconnects by itself; its first event is the
 * current state). Returns a function that closes it. */
function listen(me, onState, onReopen = () => {}) {
  const q = new URLSearchParams({ token: me.token, mode: me.mode });
  const source = new EventSource(url(`/api/classes/${me.code}/events?${q}`));
  let opened = 0;
  source.addEventListener("open", () => {
    if (opened++) onReopen();
  });
  source.addEventListener("state", (ev) => {
    const state = JSON.parse(ev.data);
    if (state.ended) source.close(); // the stream ends; no reconnect to a 410
    onState(state);
  });
  return () => source.close();
}

/** The home page: the "Join a class" form; with ?class=CODE it joins (or waits for the
 * teacher's first page) at once. */
export function homeJoin(code) {
  const form = document.querySelector(".class-join-form");
  if (!form) return null;
  const status = form.querySelector(".class-join-status");
  const codeField = form.elements.code;
  let close = null;
  const wait = (me, state) => {
    const go = (s) => {
      if (s.ended) {
        close?.();
        store(STUDENT, null);
        status.textContent = t("classroom.ended");
      } else if (s.view) location.assign(targetOf(s.view, me.code));
    };
    status.textContent = t("classroom.waiting");
    close?.();
    close = listen(me, go);
    if (state) go(state);
  };
  const submit = async (text, nickname) => {
    const typed = normalCode(text);
    if (!typed) {
      status.textContent = t("classroom.join.empty");
      return;
    }
    status.textContent = t("classroom.joining");
    form.dataset.busy = "";
    try {
      const mine = stored(STUDENT);
      if (mine?.code === typed) return wait(mine, null);
      const { me, state } = await join(typed, nickname);
      wait(me, state);
    } catch (err) {
      status.textContent = err?.message || String(err);
      status.dataset.code = err?.code ?? "";
    } finally {
      delete form.dataset.busy;
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit(codeField.value, form.elements.nickname.value.trim());
  });
  if (code) {
    codeField.value = code;
    submit(code, "");
  }
  return () => close?.();
}

/** A walkthrough page opened with ?class=CODE: join (unless this tab already has), show
 * the bar, follow. Returns a function that stops it. */
export async function runStudent(code) {
  let me = stored(STUDENT);
  if (me?.code !== code) {
    try {
      me = (await join(code)).me;
    } catch (err) {
      notice(err?.message || String(err), document.getElementById("view"));
      setStudent({ code: null, token: null });
      return null;
    }
  }
  setStudent({ code, token: me.token, mode: me.mode });
  const bar = make("section", { class: "class-bar", "aria-label": t("classroom.bar") });
  const status = make("p", { class: "class-status", role: "status", "aria-live": "polite" });
  const toggle = make("button", { type: "button", class: "class-toggle" });
  const lockNote = make("p", { class: "class-lock-note muted", id: "class-lock-note" });
  const row = make("div", { class: "class-bar-row" });
  row.append(status, toggle);
  bar.append(row, lockNote);
  setStudent(null, bar);
  mountPanel(bar);

  const applied = { page: topic(), query: stateQuery(openedSearch) }; // what this page shows
  let settled = null; // the URL state after the last change that was not the student's
  let diverged = false; // the student changed the URL state on their own
  let applying = false;
  let leaving = null; // the page this one is reloading to
  let wanted = null;
  let lastUser = 0;
  let locked = false; // the teacher locked following
  let asking = false; // a question is open (not revealed): answer on the teacher's step
  let close = null;
  const held = () => locked || asking;

  const paint = () => {
    const following = me.mode === "follow";
    bar.dataset.mode = me.mode;
    status.textContent = t(following ? "classroom.following" : "classroom.exploring");
    toggle.textContent = t(following ? "classroom.explore" : "classroom.rejoin");
    toggle.disabled = held() && following;
    lockNote.hidden = !held();
    const why = locked ? t("classroom.locked") : t("cq.heldByQuestion");
    if (lockNote.textContent !== why) lockNote.textContent = why;
    bar.dataset.held = locked ? "locked" : asking ? "question" : "";
    if (held()) toggle.setAttribute("aria-describedby", "class-lock-note");
    else toggle.removeAttribute("aria-describedby");
  };
  const setMode = (mode) => {
    if (me.mode === mode) return;
    me = { ...me, mode };
    store(STUDENT, me);
    setStudent({ mode });
    paint();
    sayMode();
  };
  // Presence: the server counts the mode of each PUT (and of the stream's URL: a stream
  // that reconnects says the mode again).
  let saying = Promise.resolve(); // a reload waits for it (else it would abort it)
  const sayMode = () => {
    saying = classApi("PUT", `/api/classes/${code}/students/me`, { mode: me.mode }).catch(() => {});
  };

  /** The page's player once the view has drawn and the player is idle; null on a page
   * without one (or after 20 s). */
  async function waitForPlayer() {
    const t0 = Date.now();
    let readyAt = 0;
    for (;;) {
      const player = livePlayer();
      if (document.getElementById("view")?.dataset.ready) readyAt ||= Date.now();
      const live = player?.el.isConnected;
      if (readyAt && live && !player.busy) return player;
      if (readyAt && !live && Date.now() - readyAt > 500) return null; // no player here
      if (Date.now() - t0 > 20_000) return null;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function applyOnce(state) {
    const v = state.view;
    if (!v) return;
    const elsewhere = v.page !== applied.page || v.query !== applied.query;
    if (elsewhere || diverged || Boolean(v.present) !== presenting()) {
      const target = targetOf(v, code);
      if (target === leaving) return; // once: a second would abort it
      leaving = target;
      await saying;
      // The next page makes its own session: this one's goes now, or a class that
      // moves on a few times would hold thousands (and reach GLASSBOX_CLIENT_SESSIONS
      // for a school behind one address).
      const sid = liveSession();
      if (sid) await fetch(url(`/api/sessions/${sid}`), { method: "DELETE" }).catch(() => {});
      location.replace(target);
      return;
    }
    const player = await waitForPlayer();
    if (player && v.frame !== player.frame) await player.go(v.frame);
    const key = v.cell ? `${v.cell.tensor}:${v.cell.index}` : "";
    // The cell a question asks about stays closed until the reveal (its explanation
    // would show the answer); the reveal's state opens it.
    const asked = v.cell && quizAsks(v.cell.tensor, v.cell.index);
    if (v.cell && !asked && key !== applyOnce.cell) openCellHere(v.cell.tensor, v.cell.index);
    if (!asked) applyOnce.cell = key;
    settled = stateQuery();
  }

  async function apply(state) {
    wanted = state;
    if (applying) return;
    applying = true;
    try {
      while (wanted) {
        const next = wanted;
        wanted = null;
        if (me.mode === "follow") await applyOnce(next);
      }
    } finally {
      applying = false;
    }
  }

  function onState(state) {
    emitState(state);
    if (state.ended) {
      close?.();
      endHere();
      return;
    }
    locked = Boolean(state.locked);
    // A lock, or a question open: an exploring page comes back to the teacher's state
    // (the question is about the numbers the teacher's page shows).
    asking = Boolean(state.question && !state.question.revealed);
    if (held() && me.mode === "explore") setMode("follow");
    paint();
    apply(state);
  }

  // The student's own step or setting: explore (or, locked, back to the teacher's).
  const mark = (e) => {
    if (!e.isTrusted) return;
    // The bar's own button is not a step (an arrow key there steps the player, though).
    const press = e.type !== "keydown" || e.key === "Enter" || e.key === " ";
    if (press && bar.contains(e.target)) return;
    lastUser = Date.now();
  };
  for (const type of ["keydown", "pointerdown", "change", "input"])
    document.addEventListener(type, mark, true);
  onViewChange(() => {
    if (applying || leaving) return;
    const own = Date.now() - lastUser < USER_MS;
    const now = stateQuery();
    if (me.mode !== "follow") {
      if (settled !== null && now !== settled) diverged = true; // rejoin reloads
      return;
    }
    if (!own) {
      settled = now;
      return;
    }
    const view = lastState()?.view;
    const player = livePlayer();
    const moved = view && player && !player.busy && player.frame !== view.frame;
    if (settled !== null && now !== settled) diverged = true;
    if (!moved && !diverged) return;
    if (held()) apply(lastState());
    else setMode("explore");
  });
  let latestSeen = null;
  onClassState((s) => {
    latestSeen = s;
  });
  const lastState = () => latestSeen;

  toggle.addEventListener("click", () => {
    if (me.mode === "follow") return setMode("explore");
    setMode("follow");
    if (lastState()) apply(lastState()); // at once; the new stream confirms it
  });
  paint();
  const opened = me.mode;
  close = listen(me, onState, () => me.mode !== opened && sayMode());
  return () => {
    close?.();
    for (const type of ["keydown", "pointerdown", "change", "input"])
      document.removeEventListener(type, mark, true);
  };
}
