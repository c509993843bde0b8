// The guided path's progress, kept in this browser only (localStorage): which tasks
// were answered right, and the task each page was on. Nothing about a student goes to
// the server. The home page (guide-progress.js) and every walkthrough (guide.js) read it.
const KEY = "glassbox.guide.v1";

/** A stored field if it is a plain object (storage another version or a hand wrote
 * may hold anything), else {}. */
const plain = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : {});

function read() {
  try {
    const data = plain(JSON.parse(localStorage.getItem(KEY) || "{}"));
    return { done: plain(data.done), current: plain(data.current), open: plain(data.open) };
  } catch {
    return { done: {}, current: {}, open: {} }; // storage off or damaged: start afresh
  }
}

function write(data) {
  try {
    localStorage.setItem(KEY, JSON.stringify(data));
  } catch {
    // private mode, or full: progress lasts this page only
  }
}

/** Whether task `id` has been answered right. */
export const isDone = (id) => Boolean(read().done[id]);

/** How many of `ids` have been answered right. */
export const doneCount = (ids) => ids.filter((id) => read().done[id]).length;

/** Note task `id` answered right. */
export function markDone(id) {
  const data = read();
  data.done[id] = true;
  write(data);
}

/** The task `topic`'s path was last on (an id), or null. */
export const currentTask = (topic) => read().current[topic] ?? null;

export function setCurrentTask(topic, id) {
  const data = read();
  data.current[topic] = id;
  write(data);
}

/** Whether `topic`'s guided path was left open. */
export const isOpen = (topic) => Boolean(read().open[topic]);

export function setOpen(topic, open) {
  const data = read();
  data.open[topic] = open;
  write(data);
}

/** Forget `ids` (a page's "Start over"). */
export function forget(ids, topic) {
  const data = read();
  for (const id of ids) delete data.done[id];
  delete data.current[topic];
  write(data);
}
