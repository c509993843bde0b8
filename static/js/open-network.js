// "Open my network": a file input for an .npz of weights in PyTorch layout (what
// "Download weights" gives, or a script's save_network) on the CNN, BP and RNN pages.
// The file goes to the server, which reads it into a copy of the page's session
// (POST /api/sessions {copy_of}, then PUT .../weights): the same input, target and
// dataset with the file's network; the page then shows that copy. A file the server
// refuses leaves the page as it was, with the server's reason in the page's language
// next to the input. Beside it, "Download weights" saves the shown network's .npz
// (GET .../weights.npz).
import { api, sessions, url } from "./api.js";
import { el } from "./common.js";
import { t } from "./i18n.js";

let made = 0;

/** A file's bytes as standard base64 (what the API's weights_npz takes). */
async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** The opener, appended to `parent`. current() is the id of the session the page
 * shows; opened(session) shows the new one (the page's own now: it discards it as
 * it discards its others); refuse(session, name) may return a message for a network
 * the page cannot draw (the copy is then dropped). The box counts the networks it
 * opened in data-opened. */
export function networkOpener(parent, { current, opened, refuse = () => "" }) {
  const n = ++made;
  const input = el("input", {
    type: "file",
    accept: ".npz,application/octet-stream",
    id: `open-network-${n}`,
    "data-act": "open-network",
    "aria-describedby": `open-network-help-${n}`,
  });
  const help = el("span", {
    class: "muted net-open-help",
    id: `open-network-help-${n}`,
    text: t("net.openHelp"),
  });
  const status = el("p", {
    class: "net-open-status",
    id: `open-network-status-${n}`,
    "aria-live": "polite",
  });
  const download = el("a", {
    class: "net-download",
    "data-act": "download-weights",
    download: "",
    href: "#",
    text: t("net.download"),
  });
  // The address is the shown session's, taken when it is used (the session changes).
  const aim = () => {
    const id = current();
    if (id) download.setAttribute("href", url(`/api/sessions/${id}/weights.npz`));
  };
  download.addEventListener("pointerdown", aim);
  download.addEventListener("focus", aim);
  download.addEventListener("click", aim);
  // The browser's own file button speaks the browser's language, not the page's: it is
  // hidden from sight (still focusable and named by the label, for keyboards and screen
  // readers), and a button in the page's words opens it for a pointer.
  input.classList.add("file-input");
  const choose = el("button", {
    type: "button",
    class: "file-button",
    tabindex: "-1",
    "aria-hidden": "true",
    text: t("net.choose"),
  });
  choose.addEventListener("click", () => input.click());
  const box = el(
    "div",
    { class: "controls net-open" },
    el("label", { for: input.id, text: t("net.open") }),
    input,
    choose,
    download,
    help,
    status,
  );
  parent.append(box);

  const say = (text, bad) => {
    status.textContent = text;
    status.classList.toggle("field-error", bad); // not .error: clearError() removes those
    if (bad) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", `${help.id} ${status.id}`);
    } else {
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", help.id);
    }
  };

  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (!file) return;
    say(t("net.opening", { name: file.name }), false);
    box.dataset.busy = "1";
    let copy = null;
    try {
      const weights_npz = await base64Of(file);
      copy = await api("POST", "/api/sessions", { copy_of: current() });
      const next = await api("PUT", `/api/sessions/${copy.id}/weights`, { weights_npz });
      const refusal = refuse(next, file.name);
      if (refusal) throw new Error(refusal);
      await opened(next);
      copy = null; // the page's now
      say(t("net.opened", { name: file.name, layers: next.network.layers.length }), false);
      box.dataset.opened = String(Number(box.dataset.opened || 0) + 1);
    } catch (err) {
      sessions.discard(copy?.id);
      say(err.message || String(err), true);
      box.dataset.refused = String(Number(box.dataset.refused || 0) + 1);
    } finally {
      delete box.dataset.busy;
      input.value = "";
    }
  });
  return box;
}
