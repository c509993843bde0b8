// "Copy link to this view", and the pages a link or a script opens.
//
// The link is the page's URL state (store.js) plus the parts views register with
// addToLink: the open explanation (cell), a drawing, a typed prompt, trained weights.
// `?session=<id>` opens a copy of a session an API script made (POST /api/sessions)
// instead of a fresh one: the page steps and changes its copy, never the script's.
import { sessions, url } from "./api.js";
import { t } from "./i18n.js";
import { viewChanged } from "./live-hooks.js";
import { addToLink, b64url, fromB64url, linkToView, takeLinkParam } from "./store.js";

function make(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

/** The page's topic (/learn/<topic>), as the template states it. */
export const topic = () => document.getElementById("view")?.dataset.topic ?? "";

/** The "Copy link to this view" button and the field it fills, before `root` (once). */
export function shareBar(root) {
  if (document.querySelector(".share-bar")) return;
  const button = make("button", { type: "button", class: "share-link" }, t("share.copy"));
  const field = make("input", {
    type: "text",
    readonly: "",
    class: "share-url",
    "aria-label": t("share.url"),
  });
  field.hidden = true;
  const status = make("span", { class: "muted share-status", role: "status" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      field.value = await linkToView();
      field.hidden = false;
      status.classList.remove("field-error");
      status.textContent = (await copy(field)) ? t("share.copied") : t("share.copyByHand");
    } catch (err) {
      // A part of the link failed (e.g. the trained network to copy is gone): say why.
      field.hidden = true;
      status.classList.add("field-error"); // not .error: clearError() removes those
      const gone = err?.code === "copy_gone" || err?.status === 404; // the copied network
      status.textContent = gone
        ? t("share.gone")
        : t("share.failed", { message: err?.message || String(err) });
    } finally {
      button.disabled = false;
    }
  });
  const bar = make("div", { class: "share-bar" });
  bar.append(button, field, status);
  root.before(bar);
}

/** Put the field's text on the clipboard (the Clipboard API, which wants a secure
 * context; else the old copy command); false if neither could. */
async function copy(field) {
  try {
    await navigator.clipboard.writeText(field.value);
    return true;
  } catch {
    field.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

// --- the open explanation -----------------------------------------------------------

let cell = null; // {tensor, index} of the explanation now open
addToLink(() => (cell ? { cell: `${cell.tensor}:${cell.index.join(",")}` } : null));

/** Note the cell whose explanation is open (the link carries it). */
export function noteCell(tensor, index) {
  cell = { tensor, index: [...index] };
  viewChanged("cell");
}

/** No explanation is open any more (a view started a new pass or run, and closed its
 * panel): the link and the live class stop naming the old cell. */
export function clearCell() {
  if (!cell) return;
  cell = null;
  viewChanged("cell");
}

/** The cell whose explanation is open ({tensor, index}), or null (the live class sends it). */
export const openCell = () => cell;

/** The cell the link opened the page on ({tensor, index}), once; null if none. */
export function givenCell() {
  const text = takeLinkParam("cell");
  const m = /^(.+):(\d+(?:,\d+)*)?$/.exec(text ?? "");
  return m ? { tensor: m[1], index: m[2] ? m[2].split(",").map(Number) : [] } : null;
}

// --- a drawing: an input image as bytes 0-255, deflated, base64url -----------------

async function squeeze(bytes, how) {
  const stream = new Blob([bytes]).stream().pipeThrough(how);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The smallest m <= 255 such that every value times m is a whole number (a drawing's
 * pixels are k / m: the API scales its 8-bit image so that its brightest is 1). */
function denominator(data) {
  for (let m = 1; m < 255; m++)
    if (data.every((v) => Math.abs(v * m - Math.round(v * m)) < 1e-4 * m)) return m;
  return 255; // else 8 bits a pixel, rounded
}

/** A (1, C, H, W) input in [0, 1] (the API's tensor) as a link's text
 * "CxHxW.m.<data>": each pixel v as the byte v * m, deflated, base64url. */
export async function packImage(tensor) {
  const [, ...shape] = tensor.shape;
  const data = Array.from(tensor.data, (v) => Math.min(1, Math.max(0, v)));
  const m = denominator(data);
  const bytes = Uint8Array.from(data, (v) => Math.round(v * m));
  const packed = b64url(await squeeze(bytes, new CompressionStream("deflate-raw")));
  return `${shape.join("x")}.${m}.${packed}`;
}

/** A packed image back: {shape: [C, H, W], bytes (0-255), array: nested C x H x W in
 * [0, 1]} (the input the API is given), or null for a text that is not one. */
export async function unpackImage(text) {
  try {
    const [dims, denom, data] = text.split(".");
    const shape = dims.split("x").map(Number);
    const m = Number(denom);
    const bytes = await squeeze(fromB64url(data), new DecompressionStream("deflate-raw"));
    const [C, H, W] = shape;
    if (shape.length !== 3 || bytes.length !== C * H * W || !(m >= 1 && m <= 255)) return null;
    const array = Array.from({ length: C }, (_, c) =>
      Array.from({ length: H }, (_, r) =>
        Array.from(bytes.subarray((c * H + r) * W, (c * H + r + 1) * W), (b) => b / m),
      ),
    );
    return { shape, bytes: bytes.map((b) => Math.round((b * 255) / m)), array };
  } catch {
    return null;
  }
}

/** Paint an unpacked image on a canvas (a drawing pad), scaled to fill it. */
export function paintImage(canvas, image) {
  const [C, H, W] = image.shape;
  const small = make("canvas", { width: String(W), height: String(H) });
  const pixels = small.getContext("2d").createImageData(W, H);
  for (let i = 0; i < H * W; i++) {
    const rgb = [0, 1, 2].map((k) => image.bytes[(C === 3 ? k : 0) * H * W + i]);
    pixels.data.set([...rgb, 255], 4 * i);
  }
  small.getContext("2d").putImageData(pixels, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

/** A drawing page (CNN): the link carries the input while it is not a dataset sample
 * (a drawing, or one a link restored) as the API's input tensor, packed, and the
 * student's answer (its target) if they gave one. */
export function shareDrawing(getSession) {
  addToLink(async () => {
    const session = getSession();
    if (!session || session.input.source === "sample") return null;
    const name = `${session.network.layers[0].name}.in`;
    const answer = session.input.target_from === "request" ? session.input.label : null;
    return { draw: await packImage(await sessions.tensor(session.id, name)), answer };
  });
}

/** The drawing a link opened the page with, once: painted on `canvas` and made the
 * session's input (with the answer as its target, if the link has one). Resolves to
 * the session after (the same one if the link has no drawing). */
export async function restoreDrawing(session, canvas) {
  const text = takeLinkParam("draw");
  const answer = takeLinkParam("answer");
  const image = text ? await unpackImage(text) : null;
  if (!image) return session;
  let now = await sessions.setInput(session.id, { array: image.array });
  paintImage(canvas, image);
  if (answer !== null && /^\d+$/.test(answer) && now.needs_target)
    now = await sessions.setTarget(session.id, Number(answer));
  return now;
}

// --- ?session=<id> -------------------------------------------------------------------

let asked = false;
const KEPT = "glassbox.kept"; // sessionStorage: {id, of} a reload of this tab keeps

/** A link part for a link this tab reopens (linkToView({reopen: true}), present mode's
 * toggle): the page's own session `id` goes on as it is, not copied again (`of`: the
 * session a copied link names instead, if any). Only this tab's next page takes it. */
export function keepOnReload(id, of = null) {
  try {
    sessionStorage.setItem(KEPT, JSON.stringify({ id, of }));
  } catch {
    return { session: of ?? id }; // no storage: the page opens a copy, as from a link
  }
  return { session: id };
}

/** The {id, of} keepOnReload noted for session `id`, once; else null. */
function kept(id) {
  try {
    const note = JSON.parse(sessionStorage.getItem(KEPT) ?? "null");
    sessionStorage.removeItem(KEPT);
    return note?.id === id ? note : null;
  } catch {
    return null;
  }
}

/** The session the URL names (?session=<id>), the first time a page asks: the page
 * opens a copy of it (POST /api/sessions {copy_of}) and shows that, its own (it may
 * step, change and discard it), so the script's session stays as it was for every
 * student who opens the link. Null when the URL names none, or one the server does not
 * know or of another page: a notice says so with links (its own page, a fresh start)
 * and the page makes its own. `current()`, if given, is the page's session id now: a
 * copied link names the original while the page shows its copy (BP links its own). A
 * session this tab's last page kept for it (keepOnReload) is taken as it is. */
export async function givenSession(current = null) {
  if (asked) return null;
  asked = true;
  const id = takeLinkParam("session");
  if (!id) return null;
  const mine = kept(id);
  let shown = null;
  try {
    const session = await sessions.get(id);
    const page = session.page; // the server says which page shows it
    if (page !== topic()) {
      const where = page ? t(`topic.${page}`) : "?";
      notice(t("share.sessionElsewhere", { id, page: where }), page && `${page}?session=${id}`);
      return null;
    }
    shown = mine ? session : await sessions.create({ copy_of: session.id });
  } catch (err) {
    if (![404, 410, 422].includes(err.status)) throw err;
    notice(t("share.sessionUnknown", { id }), null);
    return null;
  }
  const original = mine ? (mine.of ?? id) : id;
  if (current)
    addToLink((how = {}) => {
      if (current() !== shown.id) return null;
      return how.reopen ? keepOnReload(shown.id, original) : { session: original };
    });
  return shown;
}

function notice(message, page) {
  const box = make("p", { class: "error session-notice", role: "alert" }, `${message} `);
  if (page) {
    const there = make("a", { href: `${url("/learn/")}${page}` }, t("share.openThere"));
    box.append(there, " ");
  }
  const fresh = make("a", { href: location.href, class: "fresh" }, t("share.fresh"));
  box.append(fresh);
  document.querySelector(".share-bar")?.after(box) ?? document.getElementById("view").before(box);
}
