// The player: play / pause / step / back / speed, keyboard (arrows, space),
// and a progress bar over the frames (steps of a plan, or kernel positions).
import { t } from "./i18n.js";

export class Player {
  /**
   * @param {HTMLElement} parent
   * @param {{count: number, onFrame: (i: number) => Promise<void>|void, labels?: string[], phases?: string[]}} opts
   */
  constructor(parent, opts) {
    this.opts = opts;
    this.frame = -1;
    this.target = -1;
    this.timer = null;
    this.busy = false;
    this.el = document.createElement("div");
    this.el.className = "player";
    this.el.innerHTML = `
      <button type="button" data-act="back" aria-label="${t("player.back")}" title="${t("player.back")} (←)">◀</button>
      <button type="button" data-act="play" aria-label="${t("player.play")}" title="${t("player.play")} (space)">▶</button>
      <button type="button" data-act="step" aria-label="${t("player.step")}" title="${t("player.step")} (→)">▶▶</button>
      <label class="speed">${t("player.speed")}
        <input type="range" min="1" max="10" value="4" data-act="speed"></label>
      <div class="progress" role="progressbar" aria-valuemin="0"></div>
      <span class="frame-label" aria-live="polite"></span>`;
    parent.append(this.el);
    this.progress = this.el.querySelector(".progress");
    this.label = this.el.querySelector(".frame-label");
    this.el.addEventListener("click", (e) => {
      const act = e.target.closest("button")?.dataset.act;
      if (act === "back") this.back();
      if (act === "step") this.step();
      if (act === "play") this.toggle();
    });
    this.keys = (e) => {
      if (e.target.closest("input, textarea, select, [contenteditable], .heatmap-overlay")) return;
      if (e.key === " " && e.target.closest("button")) return; // a focused button's own click
      const action = { ArrowRight: "step", ArrowLeft: "back", " ": "toggle" }[e.key];
      if (!action) return;
      e.preventDefault();
      this[action]();
    };
    document.addEventListener("keydown", this.keys);
    this.setCount(opts.count, opts.labels, opts.phases);
  }

  setCount(count, labels = [], phases = []) {
    this.count = count;
    this.labels = labels;
    this.progress.innerHTML = "";
    this.progress.setAttribute("aria-valuemax", String(count));
    for (let i = 0; i < count; i++) {
      const seg = document.createElement("button");
      seg.type = "button";
      seg.className = `seg ${phases[i] || ""}`;
      seg.title = labels[i] || String(i + 1);
      seg.addEventListener("click", () => this.go(i));
      this.progress.append(seg);
    }
    this.paint();
  }

  /** Show frame i; while a frame is loading, the latest request waits its turn
   * (key presses are never lost). */
  async go(i) {
    if (i < -1 || i >= this.count) return;
    this.target = i;
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.target !== this.frame) {
        this.frame = this.target;
        this.paint();
        await this.opts.onFrame(this.frame);
      }
    } finally {
      this.busy = false;
    }
  }

  /** The frame the player is heading to (the last one asked for). */
  get heading() {
    return this.busy ? this.target : this.frame;
  }

  step() {
    if (this.heading + 1 >= this.count) return this.pause();
    return this.go(this.heading + 1);
  }

  back() {
    return this.go(Math.max(this.heading - 1, 0));
  }

  /** Back to before the first frame (a new input starts a new pass). */
  reset() {
    this.pause();
    this.frame = this.target = -1;
    this.paint();
  }

  toggle() {
    return this.timer ? this.pause() : this.play();
  }

  play() {
    const speed = Number(this.el.querySelector("[data-act=speed]").value);
    this.el.querySelector("[data-act=play]").textContent = "❚❚";
    const tick = async () => {
      if (this.frame + 1 >= this.count) return this.pause();
      await this.step();
      if (this.timer === null) return; // paused while the frame was loading
      this.timer = setTimeout(tick, 1600 / speed);
    };
    this.timer = setTimeout(tick, 0);
  }

  pause() {
    clearTimeout(this.timer);
    this.timer = null;
    this.el.querySelector("[data-act=play]").textContent = "▶";
  }

  paint() {
    [...this.progress.children].forEach((seg, i) => {
      seg.classList.toggle("done", i < this.frame);
      seg.classList.toggle("current", i === this.frame);
    });
    this.progress.setAttribute("aria-valuenow", String(this.frame + 1));
    const text = this.frame >= 0 ? this.labels[this.frame] || "" : "";
    this.label.textContent = this.count ? `${this.frame + 1} / ${this.count}  ${text}` : "";
  }

  destroy() {
    this.pause();
    document.removeEventListener("keydown", this.keys);
    this.el.remove();
  }
}
