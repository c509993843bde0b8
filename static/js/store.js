// A tiny state store mirrored in the URL, so a link reproduces the view; and the parts
// a copied link adds to it (addToLink, takeLinkParam; share.js makes the link).
import { viewChanged } from "./live-hooks.js";

let pageStore = null; // the page's store (each page makes one): the guided path reads it

/** The page's URL state now (its store's), or null before the view made its store. */
export const pageState = () => pageStore?.get() ?? null;

export function createStore(defaults) {
  const params = new URLSearchParams(location.search);
  const state = { ...defaults };
  for (const [key, value] of Object.entries(defaults)) {
    if (!params.has(key)) continue;
    const raw = params.get(key);
    state[key] =
      typeof value === "number" ? Number(raw) : typeof value === "boolean" ? raw === "1" : raw;
  }
  const listeners = new Set();

  function sync() {
    const next = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(state)) {
      const text = typeof value === "boolean" ? (value ? "1" : "0") : String(value ?? "");
      if (text === "" || value === defaults[key]) next.delete(key);
      else next.set(key, text);
    }
    const query = next.toString();
    history.replaceState(null, "", query ? `?${query}` : location.pathname);
    // The language links keep the state too.
    for (const a of document.querySelectorAll("a[hreflang]")) {
      const q = new URLSearchParams(next);
      q.set("lang", a.getAttribute("hreflang"));
      a.setAttribute("href", `?${q}`);
    }
  }

  const made = {
    get: () => state,
    set(patch) {
      Object.assign(state, patch);
      sync();
      listeners.forEach((fn) => {
        fn(state);
      });
      viewChanged("state");
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  pageStore = made;
  return made;
}

// --- The copied link ("Copy link to this view", share.js) ------------------------
// The URL above holds the settings; a link holds more: a drawing, a typed prompt, the
// open explanation, trained weights. Each is a part a view registers; the link is the
// page's URL with every part's parameters added. The page opened by such a link reads
// each part back once (takeLinkParam), which also drops it from the address bar, so a
// reload after the student moved on does not bring an old drawing back.

const linkParts = new Set();
const opened = new URLSearchParams(location.search);

/** Add `fn()` to every copied link: it returns {param: text} (or a Promise of it), or
 * null to add nothing. Returns a function that removes it. */
export function addToLink(fn) {
  linkParts.add(fn);
  return () => linkParts.delete(fn);
}

/** The value of link parameter `name` the page was opened with (null if none), once:
 * it leaves the address bar, and a second call returns null. */
export function takeLinkParam(name) {
  const value = opened.get(name);
  opened.delete(name);
  const now = new URLSearchParams(location.search);
  if (now.has(name)) {
    now.delete(name);
    const query = now.toString();
    history.replaceState(null, "", query ? `?${query}` : location.pathname);
  }
  return value;
}

/** The link to this view: the page's URL (its state) plus every registered part.
 * `how.reopen`: this tab reopens it (present mode's toggle), so a part may carry the
 * page's own session as it is (share.js keepOnReload) instead of a copy. */
export async function linkToView(how = {}) {
  const link = new URL(location.href);
  link.hash = "";
  for (const fn of linkParts) {
    const part = await fn(how);
    for (const [key, value] of Object.entries(part || {})) {
      if (value === null || value === undefined || value === "") link.searchParams.delete(key);
      else link.searchParams.set(key, String(value));
    }
  }
  return link.href;
}

/** Bytes as base64url (RFC 4648 §5, no padding): short and safe in a URL. */
export function b64url(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The bytes of a base64url text; throws on one that is not. */
export function fromB64url(text) {
  const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}
