// A roving tab stop: a group of many focusable things (a diagram's neurons and
// weights) is one stop in the Tab order. Only the current item has tabindex 0;
// arrow keys move focus within the group: Up/Down along a lane (a column of
// neurons, the weights between two columns), Left/Right across lanes as `across`
// says, Home/End to a lane's ends; Enter or Space activates the item.

/**
 * @param {Element} root the element whose descendants are the items
 * @param {Element[][]} lanes the items, lane by lane
 * @param {{across: (item: Element, dir: -1 | 1) => Element | null | undefined,
 *          activate: (item: Element) => void}} how
 * @returns {{current: () => Element | null}}
 */
export function rovingFocus(root, lanes, { across, activate }) {
  const where = new Map();
  lanes.forEach((lane, a) => {
    lane.forEach((item, b) => {
      where.set(item, [a, b]);
      item.setAttribute("tabindex", "-1");
    });
  });
  let current = null;
  const make = (item) => {
    if (current === item) return;
    current?.setAttribute("tabindex", "-1");
    current = item;
    current.setAttribute("tabindex", "0");
  };
  const first = lanes.find((lane) => lane.length)?.[0];
  if (first) make(first);

  root.addEventListener("focusin", (e) => {
    if (where.has(e.target)) make(e.target);
  });
  root.addEventListener("keydown", (e) => {
    const at = where.get(e.target);
    if (!at) return;
    const lane = lanes[at[0]];
    const along = (b) => lane[Math.min(Math.max(b, 0), lane.length - 1)];
    const moves = {
      ArrowUp: () => along(at[1] - 1),
      ArrowDown: () => along(at[1] + 1),
      Home: () => lane[0],
      End: () => lane[lane.length - 1],
      ArrowLeft: () => across(e.target, -1),
      ArrowRight: () => across(e.target, 1),
    };
    if (moves[e.key]) {
      const next = moves[e.key]();
      if (next && where.has(next)) next.focus();
    } else if (e.key === "Enter" || e.key === " ") activate(e.target);
    else return;
    // the arrows are the group's: the page's player does not also step
    e.preventDefault();
    e.stopPropagation();
  });
  return { current: () => current };
}
