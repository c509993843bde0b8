// The character models: type a prompt, see the next character's probabilities
// (the API's softmax, loss.probs) after the network has read it.
import { format } from "./colors.js";
import { clearError, el, showError } from "./common.js";
import { t } from "./i18n.js";
import { charLabel } from "./names.js";
import { rowsOf, timeStepPrefix } from "./rnn-shared.js";
import { addToLink, takeLinkParam } from "./store.js";

/**
 * The prompt section, appended to `root` (hidden unless a character model is shown).
 * `onRows(rows)` gives the network the prompt as one-hot rows (T x D) and resolves to
 * the steps run up to the loss.
 */
export function promptPanel(root, onRows) {
  const box = el(
    "section",
    { class: "rnn-prompt", hidden: "" },
    el("h2", { text: t("rnn.prompt") }),
    el("p", { class: "muted prompt-hint" }),
  );
  const input = el("input", {
    type: "text",
    "data-control": "prompt",
    "aria-label": t("rnn.prompt"),
  });
  const readBtn = el("button", { type: "button", "data-control": "read", text: t("rnn.read") });
  const nextBox = el("ol", { class: "bars next-chars", "aria-live": "polite" });
  box.append(
    el("div", { class: "controls" }, input, readBtn),
    el("h3", { text: t("rnn.next") }),
    nextBox,
  );
  root.append(box);
  let shape = [0, 0];
  let classes = [];
  // A copied link types the prompt read last (share.js); the page it opens reads it.
  addToLink(() => (box.hidden || !box.dataset.read ? null : { prompt: box.dataset.read }));
  let given = takeLinkParam("prompt");

  /** The characters the network reads: each time step's one-hot input x_t as its class
   * (an all-zero row, a prompt's padding, as nothing). */
  function readText(steps, layer) {
    const chars = [];
    for (const step of steps) {
      if (step.layer !== layer || step.phase !== "forward" || step.direction === "bwd") continue;
      const prefix = timeStepPrefix(step);
      const x = prefix && (step.tensors || []).find((tensor) => tensor.name === `${prefix}x`);
      const k = x ? rowsOf(x).data.indexOf(1) : -1;
      if (k >= 0) chars[step.t] = classes[k] ?? "";
    }
    return chars.join("");
  }

  /** The probabilities of the character after the last one read. */
  function showNext(steps) {
    let probs = null;
    for (const step of steps)
      for (const tensor of step.tensors || []) if (tensor.name === "loss.probs") probs = tensor;
    nextBox.innerHTML = "";
    if (!probs) return;
    const [, T, K] = probs.shape;
    const last = Array.from(probs.data.subarray((T - 1) * K, T * K));
    const order = last
      .map((_p, k) => k)
      .sort((a, b) => last[b] - last[a])
      .slice(0, 5);
    for (const k of order) {
      nextBox.append(
        el(
          "li",
          { "data-char": classes[k] ?? String(k) },
          el("span", { class: "cls", text: charLabel(classes[k] ?? String(k)) }),
          el("span", { class: "bar", style: `width:${Math.round(last[k] * 100)}%` }),
          el("span", { class: "p", text: format(last[k]) }),
        ),
      );
    }
    box.dataset.best = classes[order[0]] ?? "";
  }

  async function read() {
    try {
      clearError(root);
      const [T, D] = shape;
      const text = Array.from(input.value);
      if (!text.length || text.length > T) throw new Error(t("rnn.promptLength", { T }));
      const unknown = text.find((ch) => !classes.includes(ch));
      if (unknown !== undefined)
        throw new Error(t("rnn.unknownChar", { c: unknown, chars: classes.join("") }));
      // one-hot rows, the prompt at the end (earlier steps read nothing)
      const rows = Array.from({ length: T }, () => new Array(D).fill(0));
      text.forEach((ch, k) => {
        rows[T - text.length + k][classes.indexOf(ch)] = 1;
      });
      showNext(await onRows(rows));
      box.dataset.read = input.value;
    } catch (err) {
      showError(root, err);
    }
  }
  readBtn.addEventListener("click", read);
  input.addEventListener("keydown", (e) => e.key === "Enter" && read());

  return {
    /** Whether `preset` is a character model (the section shows only for those). */
    toggle(preset) {
      box.hidden = !preset.startsWith("chars-");
      return !box.hidden;
    },
    /** A new session of a character model: the text it reads and the first
     * probabilities. */
    show(session, cls, steps) {
      shape = session.network.input_shape;
      classes = cls;
      box.querySelector(".prompt-hint").textContent = t("rnn.promptHint", { T: shape[0] });
      input.maxLength = shape[0];
      input.value = readText(steps, session.network.layers[0].name);
      showNext(steps);
      if (!given) return;
      input.value = given;
      given = null;
      return read(); // resolves once the link's prompt is read
    },
  };
}
