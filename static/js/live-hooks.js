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

/** fn() whenever what the page shows changes (URL state, frame, open cell, present
 * mode). Returns a function that removes it. */
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
