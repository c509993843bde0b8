// The BP page's fields refused inline: a value out of the server's range (rules.bp,
// rules.limits: never a copy here) gets a message next to its field, in the page's
// language, and the field aria-invalid with aria-describedby naming the message; a
// request with a refused field is never sent.
import { el } from "./common.js";
import { t } from "./i18n.js";

let made = 0;

/** Watch `input` (shown inside `anchor`, in the page already: the message goes after it): `problem(text)`
 * returns what is wrong with the text ("" if nothing). Returns check(): shows or
 * clears the message and says whether the field is fine. It runs as the student types. */
export function inlineCheck(input, anchor, problem) {
  const id = `field-error-${++made}`;
  const box = el("span", { class: "field-error", id, "data-error-for": input.dataset.field });
  box.hidden = true;
  anchor.after(box);
  const check = () => {
    const said = problem(input.value.trim());
    box.textContent = said;
    box.hidden = !said;
    if (said) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
    } else {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    return !said;
  };
  input.addEventListener("input", check);
  return check;
}

/** Run every check (each shows its message); focus the first refused field. */
export function allFine(checks, inputs) {
  const fine = checks.map((check) => check());
  const first = fine.indexOf(false);
  if (first >= 0) inputs[first].focus();
  return first < 0;
}

const within = (v, b) =>
  (b.gt === undefined || v > b.gt) &&
  (b.ge === undefined || v >= b.ge) &&
  (b.lt === undefined || v < b.lt) &&
  (b.le === undefined || v <= b.le);

/** A number within the server's bounds `b` ({gt|ge, le}); `field` names it. */
export function inRange(field, b) {
  const words = () =>
    b.gt !== undefined
      ? t("bp.range.open", { field, gt: b.gt, le: b.le })
      : t("bp.range.closed", { field, ge: b.ge, le: b.le });
  return (text) => (text !== "" && within(Number(text), b) ? "" : words());
}

/** A whole number from `ge` to `le` (`le` undefined: no upper bound; `empty` allowed). */
export function whole(field, ge, le, empty = false) {
  return (text) => {
    if (text === "" && empty) return "";
    const n = Number(text);
    if (text !== "" && Number.isInteger(n) && n >= ge && (le === undefined || n <= le)) return "";
    return le === undefined
      ? t("bp.range.atLeast", { field, ge })
      : t("bp.range.whole", { field, ge, le });
  };
}

/** A list of learning rates, each within bounds `b`; `sep` splits the text. */
export function rates(b, sep) {
  return (text) => {
    const parts = text.split(sep).filter(Boolean);
    const bad = parts.find((p) => !within(Number(p), b)) ?? (parts.length ? null : text);
    return bad === null ? "" : t("bp.range.lrs", { gt: b.gt, le: b.le, bad });
  };
}
