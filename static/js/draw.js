// A drawing pad for mouse, pen and finger: white ink on black, like the data.
import { el } from "./common.js";
import { t } from "./i18n.js";

export function drawPad(parent, onUse, size = 200) {
  const canvas = el("canvas", {
    width: String(size),
    height: String(size),
    class: "pad",
    "aria-label": t("cnn.draw"),
  });
  const ctx = canvas.getContext("2d");
  const clear = () => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, size, size);
  };
  clear();
  let drawing = false;
  let last = null;
  const pos = (e) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * size, ((e.clientY - r.top) / r.height) * size];
  };
  canvas.addEventListener("pointerdown", (e) => {
    drawing = true;
    last = pos(e);
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const p = pos(e);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = size / 11;
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
  });
  const end = () => (drawing = false);
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.style.touchAction = "none";
  const clearBtn = el("button", { type: "button", text: t("cnn.clear"), onclick: clear });
  const useBtn = el("button", {
    type: "button",
    class: "primary",
    text: t("cnn.use"),
    onclick: () => onUse(canvas.toDataURL("image/png")),
  });
  parent.append(
    el("h3", { text: t("cnn.draw") }),
    canvas,
    el("div", { class: "row" }, clearBtn, useBtn),
  );
  return { canvas, clear };
}
