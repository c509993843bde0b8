// A tiny state store mirrored in the URL, so a link reproduces the view.

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

  return {
    get: () => state,
    set(patch) {
      Object.assign(state, patch);
      sync();
      listeners.forEach((fn) => {
        fn(state);
      });
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
