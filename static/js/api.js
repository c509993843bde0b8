// The API client: JSON over fetch, tensors decoded into Float32Array.
// The browser renders what the server computed; nothing here does model math.
//
// Errors: a body with a `code` (docs/api.md, "Errors") is shown as the catalog's
// "error.<code>" in the page's language. A 503 (the session store is out) or 429 (a
// limit of this client) is tried again after its Retry-After, each wait longer, a few
// times; while it waits, an "api:retry" event on window says so ({message, seconds,
// attempt, tries}) and "api:settled" when no request waits any more (common.js shows it).
import { lang, t } from "./i18n.js";
import { viewChanged } from "./live-hooks.js";

// The app's path prefix: "" at the site's root, "/glassbox" when it is served under
// https://school.example/glassbox/ (GLASSBOX_ROOT_PATH). The page says which.
export const BASE = document.querySelector('meta[name="glassbox-base"]')?.content ?? "";

/** The URL of an app path such as "/api/presets": under BASE. */
export function url(path) {
  return path.startsWith("/") ? BASE + path : path;
}

export const RETRY_STATUS = [429, 503];
export const TRIES = 6; // a request turned away this often fails with the server's reason
const MAX_WAIT_S = 30;

export class ApiError extends Error {
  /** `body`: the error's JSON body ({detail, code, message}), if it had one. */
  constructor(status, detail, body = {}) {
    super(ApiError.text(detail, body));
    this.status = status;
    this.detail = detail;
    this.code = body?.code ?? null;
    this.retryAfter = null;
  }

  /** The page's words for an error with a code, else the server's detail. The server's
   * message in the page's language comes first: it has its {placeholders} filled. */
  static text(detail, body) {
    const key = body?.code ? `error.${body.code}` : null;
    if (body?.message?.[lang]) return body.message[lang];
    if (key && t(key) !== key) return t(key);
    return typeof detail === "string" ? detail : ApiError.describe(detail);
  }

  static describe(detail) {
    if (Array.isArray(detail)) return detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
    return JSON.stringify(detail);
  }
}

/** A Retry-After header's wait in seconds (delta-seconds or an HTTP date), or null. */
function retryAfter(header) {
  if (!header) return null;
  const seconds = /^\d+$/.test(header.trim())
    ? Number(header)
    : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
}

/** The ApiError of a non-2xx response (its body need not be JSON: a proxy's page). */
export async function errorOf(res) {
  const text = await res.text().catch(() => "");
  let body = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = {};
  }
  const detail = body?.detail ?? (res.statusText || `HTTP ${res.status}`);
  const err = new ApiError(res.status, detail, body);
  err.retryAfter = retryAfter(res.headers.get("Retry-After"));
  return err;
}

/** Seconds to wait before try `attempt` + 1: the server's Retry-After, but at least
 * 1, 2, 4, ... s, and at most MAX_WAIT_S. */
export function backoff(err, attempt) {
  return Math.min(MAX_WAIT_S, Math.ceil(Math.max(err.retryAfter ?? 0, 2 ** (attempt - 1))));
}

let waiting = 0; // requests now waiting to try again

function announce(name, detail) {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

const WRITES = new Set(["POST", "PUT", "PATCH"]);
// Writes that change what a session's page shows without its URL state changing (a
// drawing, a typed prompt, a target, a kernel, opened weights): a live class's teacher
// page sends its view again (classroom.js), since its link's parts may differ now.
const CHANGES_SESSION = /^\/api\/sessions\/[^/]+\/(input|target|params\/[^/]+|weights)$/;

/** `how.headers`: more request headers (a live class's token); `how.tries`: how often a
 * 429 or 503 is tried (TRIES; 1: the caller shows the server's reason at once). */
export async function api(method, path, body, how = {}) {
  const tries = how.tries ?? TRIES;
  const init = { method, headers: { Accept: "application/json", ...how.headers } };
  // Every write says it is JSON, body or not (the server answers 415 otherwise).
  if (body !== undefined || WRITES.has(method)) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body ?? {});
  }
  let waited = false;
  try {
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(url(path), init);
      if (res.ok) {
        const text = await res.text();
        if (method === "PUT" && CHANGES_SESSION.test(path)) viewChanged("session");
        return text ? JSON.parse(text) : null;
      }
      const err = await errorOf(res);
      if (!RETRY_STATUS.includes(err.status) || attempt >= tries) throw err;
      const seconds = backoff(err, attempt);
      if (!waited) waiting++;
      waited = true;
      announce("api:retry", { message: err.message, seconds, attempt: attempt + 1, tries });
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  } finally {
    if (waited && --waiting === 0) announce("api:settled", {});
  }
}

const SPECIAL = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

function flatten(value, out) {
  if (Array.isArray(value)) {
    for (const v of value) flatten(v, out);
  } else {
    out.push(typeof value === "string" ? SPECIAL[value] : value);
  }
  return out;
}

/** A tensor payload as {name, role, shape, axes, min, max, finite, data: Float32Array}. */
export function decodeTensor(t) {
  let data;
  if (t.encoding === "b64") {
    const bin = atob(t.data);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    // float64 only when a number is beyond float32's range (the server says so)
    data = t.dtype === "float64" ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
  } else {
    data = (t.dtype === "float64" ? Float64Array : Float32Array).from(flatten(t.data, []));
  }
  return { ...t, data, size: data.length };
}

/** Row-major strides of a shape. */
export function strides(shape) {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** The 2-D plane of a tensor at leading indices `lead` (e.g. [n, c] of an NCHW map). */
export function plane(tensor, lead = []) {
  const shape = tensor.shape;
  const rows = shape.length >= 2 ? shape[shape.length - 2] : 1;
  const cols = shape.length >= 1 ? shape[shape.length - 1] : 1;
  const st = strides(shape);
  let offset = 0;
  lead.forEach((v, i) => {
    offset += v * st[i];
  });
  return { rows, cols, data: tensor.data.subarray(offset, offset + rows * cols), offset };
}

/** Decode every tensor of a steps response; a tensor sent as {same_as: name} is
 * the very array of one earlier in the response. */
export function resolveSteps(res) {
  const seen = new Map();
  for (const step of res.steps || [res]) {
    if (!step.tensors) continue;
    step.tensors = step.tensors.map((t) => {
      const decoded = t.same_as
        ? { ...seen.get(t.same_as), ...t } // its own name, role, axes, explainable, cell
        : decodeTensor(t);
      seen.set(t.name, decoded);
      return decoded;
    });
  }
  return res;
}

/** The query of a steps request: b64 tensors, and what the page asks for:
 * {names: ["conv1.out", "pool1.*"]} only those tensors, {partials: true} conv partial
 * maps too, {tensors: false} none, {series: ["dh_norm"]} per-time-step scalars too. */
function stepQuery(opts = {}) {
  const q = new URLSearchParams({ encoding: "b64" });
  if (opts.names) q.set("names", opts.names.join(","));
  if (opts.partials) q.set("partials", "true");
  if (opts.tensors === false) q.set("tensors", "false");
  if (opts.series) q.set("series", opts.series.join(","));
  return q.toString();
}

/** Every tensor of a steps response by name (decoded: resolveSteps). */
export function tensorsByName(res) {
  const out = {};
  for (const step of res.steps || [res]) for (const t of step.tensors || []) out[t.name] = t;
  return out;
}

export const sessions = {
  create: (body) => api("POST", "/api/sessions", body),
  get: (id) => api("GET", `/api/sessions/${id}`),
  remove: (id) => api("DELETE", `/api/sessions/${id}`),
  /** Delete a session the page has replaced or no longer needs, fire and forget: one
   * try, errors ignored (one the server could not delete just expires). A page that
   * makes a new session on each change of its settings thus holds one, not one per
   * change: a class behind one address shares GLASSBOX_CLIENT_SESSIONS. (A link's
   * ?session= is never shown itself: the page shows its own copy, share.js.) */
  discard: (id) => {
    if (id) fetch(url(`/api/sessions/${id}`), { method: "DELETE" }).catch(() => {});
  },
  steps: async (id, body = {}, opts = {}) =>
    resolveSteps(await api("POST", `/api/sessions/${id}/steps?${stepQuery(opts)}`, body)),
  step: async (id, k, opts = {}) =>
    resolveSteps(await api("GET", `/api/sessions/${id}/steps/${k}?${stepQuery(opts)}`)),
  /** Step k of the current pass in one request: recorded if it has run, else the
   * server runs up to it. */
  async stepAt(id, k, opts = {}) {
    return (await sessions.steps(id, { to: k }, opts)).steps[0];
  },
  /** Each layer's per-time-step `quantity` (e.g. dh_norm) of the pass: {layer: [by t]}. */
  series: async (id, quantity) =>
    (await api("GET", `/api/sessions/${id}/series/${encodeURIComponent(quantity)}`)).layers,
  tensor: async (id, name) =>
    decodeTensor(
      await api("GET", `/api/sessions/${id}/tensors/${encodeURIComponent(name)}?encoding=b64`),
    ),
  explain: (id, tensor, index) =>
    api(
      "GET",
      `/api/sessions/${id}/explain?tensor=${encodeURIComponent(tensor)}&index=${index.join(",")}`,
    ),
  explainMany: (id, tensor, indices) =>
    api("POST", `/api/sessions/${id}/explain`, { tensor, indices }),
  setInput: (id, body) => api("PUT", `/api/sessions/${id}/input`, body),
  /** The current input's target (e.g. the class of a drawing that has none). */
  setTarget: (id, target) => api("PUT", `/api/sessions/${id}/target`, { target }),
  setParam: (id, name, array) =>
    api("PUT", `/api/sessions/${id}/params/${encodeURIComponent(name)}`, { array }),
};

export const presets = {
  list: () => api("GET", "/api/presets"),
  get: (name) => api("GET", `/api/presets/${name}`),
};
