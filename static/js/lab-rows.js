// A row of the learning-rate lab's legend: one descent path, with the API's outcome,
// its lecture case (named by the catalog) and text, and a flag for a path that blew
// up, came to rest, or whose loss grew by orders of magnitude (its first and last
// loss, as the API gave them). Nothing here judges a path.
import { format } from "./colors.js";
import { el } from "./common.js";
import { pick, t } from "./i18n.js";
import { swatch } from "./lab-setup.js";

/** A run's rates as the page writes them: "lr = 0.1" or "lr = 0.1, μ = 0.9". */
export function ratesText(run) {
  return run.optimizer === "momentum" ? `lr = ${run.lr}, μ = ${run.momentum}` : `lr = ${run.lr}`;
}

/** The row of path `p` (run `i` of the setup, `run` its optimizer and rates) in a
 * setup of `steps` steps. */
export function pathRow(p, run, i, steps) {
  const hyper = ratesText(run);
  const n = p.points.length - 1;
  let flag = "";
  if (p.diverged)
    flag = t(p.outcome === "diverged" ? "lab.divergedAt" : "lab.escapedAt", {
      k: p.diverged_at,
    });
  else if (p.outcome === "diverged")
    flag = t("lab.grew", { first: format(p.losses[0]), last: format(p.losses[n]), k: n });
  else if (n < steps) flag = t("lab.restAt", { k: n });
  const row = el(
    "li",
    {
      class: `lab-row case-${p.case}`,
      "data-run": String(i),
      "data-outcome": p.outcome,
      "data-case": p.case,
      "data-steps-run": String(n),
      "data-diverged": p.diverged ? "1" : "0",
      "data-diverged-at": p.diverged_at === null ? "" : String(p.diverged_at),
      "data-ended-near": p.ended_near ? p.ended_near.join(",") : "",
    },
    el(
      "div",
      { class: "lab-row-head" },
      swatch(i),
      el("strong", { text: t(`lab.opt.${run.optimizer}`) }),
      el("span", { class: "lab-hyper", text: hyper }),
      el("span", { class: "lab-case", text: t(`lab.case.${p.case}`) }),
    ),
    el("p", { class: "caption lab-outcome", text: pick(p.text) }),
    el("p", { class: "lab-now" }),
    flag
      ? el("p", { class: `lab-flag${p.outcome === "diverged" ? " diverged" : ""}`, text: flag })
      : null,
  );
  return row;
}
