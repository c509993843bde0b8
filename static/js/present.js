// Present mode, for a projector: the URL's ?present=1 (so a reload, a shared link and the
// language links keep it). The template sets <html class="present"> from the URL before
// the first paint; static/css/present.css hides the prose and fits the current figure
// ([data-figure], each view marks its own) and the player to the screen, numbers large.
// The toggle (the button by the title, or the key P) reopens the page with the mode
// switched: the URL holds the view's state and share.js's parts (a drawing, a typed
// prompt, the open explanation), so the page comes back as it was, and every map is
// drawn again at the mode's sizes.
import { linkToView } from "./store.js";

const PARAM = "present";

/** Whether the page is in present mode. */
export const presenting = () => document.documentElement.classList.contains("present");

/** Reopen this view with present mode on (`on`) or off. */
export async function setPresent(on) {
  let href = location.href;
  try {
    href = await linkToView({ reopen: true }); // the view's state, the page's own session
  } catch {
    // a part of the link failed: the URL's own state is enough to come back
  }
  const url = new URL(href);
  if (on) url.searchParams.set(PARAM, "1");
  else url.searchParams.delete(PARAM);
  location.replace(url.href);
}

const button = document.querySelector(".present-toggle");
button?.addEventListener("click", () => setPresent(!presenting()));

document.addEventListener("keydown", (e) => {
  if (e.key !== "p" && e.key !== "P") return;
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
  if (e.target.closest?.("input, textarea, select, [contenteditable]")) return;
  e.preventDefault();
  setPresent(!presenting());
});
