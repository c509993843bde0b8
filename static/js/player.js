// The player: play / pause / step / back / speed, keyboard (arrows, space), and one
// slider over the frames (steps of a plan, or kernel positions): a single tab stop
// whose painted segments (phase colours, done / current) are decoration only.
import { t } from "./i18n.js";
import { registerPlayer, viewChanged } from "./live-hooks.js";

/** The keys a focused slider uses: the frame each one goes to from `at`, or undefined. */
function sliderTarget(key, at, count) {
  const page = Math.max(10, Math.round(count / 10)); // ten frames, or a tenth of long runs
  const to = {
    ArrowLeft: at - 1,
    ArrowDown: at - 1,
    ArrowRight: at + 1,
    ArrowUp: at + 1,
    PageUp: at + page,
    PageDown: at - page,
    Home: 0,
    End: count - 1,
  }[key];
  return to === undefined ? undefined : Math.min(Math.max(to, 0), count - 1);
}

/** Whether a key press belongs to something else (a field, the slider, a map with its
 * own keys, the browser's Alt / Ctrl / Meta shortcuts), so the player's keys leave it alone. */
export function keyTakenElsewhere(e) {
  return (
    e.defaultPrevented ||
    e.altKey ||
    e.ctrlKey ||
    e.metaKey ||
    Boolean(e.target.closest?.("input, textarea, select, [contenteditable], .heatmap-overlay"))
  );
}

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
    this.el.dataset.frame = "-1";
    this.el.innerHTML = `
      <button type="button" data-act="back" aria-label="${t("player.back")}" title="${t("player.back")} (←)">◀</button>
      <button type="button" data-act="play" aria-pressed="false">▶</button>
      <button type="button" data-act="step" aria-label="${t("player.step")}" title="${t("player.step")} (→)">▶▶</button>
      <label class="speed">${t("player.speed")}
        <input type="range" min="1" max="10" value="4" data-act="speed"></label>
      <div class="progress" role="slider" tabindex="0" aria-label="${t("player.slider")}">
        <div class="segs" aria-hidden="true"></div>
        <span class="thumb" aria-hidden="true"></span>
      </div>
      <span class="frame-label" aria-live="polite"></span>`;
    parent.append(this.el);
    this.progress = this.el.querySelector(".progress");
    this.segs = this.el.querySelector(".segs");
    this.thumb = this.el.querySelector(".thumb");
    this.label = this.el.querySelector(".frame-label");
    this.playButton = this.el.querySelector("[data-act=play]");
    this.showPlaying(false);
    this.el.addEventListener("click", (e) => {
      const act = e.target.closest("button")?.dataset.act;
      if (act === "back") this.back();
      if (act === "step") this.step();
      if (act === "play") this.toggle();
    });
    this.progress.addEventListener("keydown", (e) => {
      if (!this.count || e.altKey || e.ctrlKey || e.metaKey) return;
      // From "not started" (-1) every key but End lands on the first frame.
      const to = sliderTarget(e.key, this.heading, this.count);
      if (to === undefined) return;
      e.preventDefault();
      this.go(to);
    });
    this.listenToPointer();
    this.keys = (e) => {
      if (keyTakenElsewhere(e)) return;
      if (e.key === " " && e.target.closest("button")) return; // a focused button's own click
      const action = { ArrowRight: "step", ArrowLeft: "back", " ": "toggle" }[e.key];
      if (!action) return;
      e.preventDefault();
      this[action]();
    };
    document.addEventListener("keydown", this.keys);
    this.setCount(opts.count, opts.labels, opts.phases);
    registerPlayer(this); // the live class follows and steps the page's player
  }

  /** A press, tap or drag on the bar goes to the frame under the pointer. */
  listenToPointer() {
    const seek = (e) => {
      const box = this.progress.getBoundingClientRect();
      if (!this.count || box.width <= 0) return;
      const i = Math.floor(((e.clientX - box.left) / box.width) * this.count);
      this.go(Math.min(Math.max(i, 0), this.count - 1));
    };
    this.progress.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      this.progress.setPointerCapture(e.pointerId);
      this.dragging = true;
      seek(e);
    });
    this.progress.addEventListener("pointermove", (e) => {
      if (this.dragging) seek(e);
    });
    const stop = () => {
      this.dragging = false;
    };
    this.progress.addEventListener("pointerup", stop);
    this.progress.addEventListener("pointercancel", stop);
  }

  setCount(count, labels = [], phases = []) {
    this.count = count;
    this.labels = labels;
    const segs = document.createDocumentFragment();
    for (let i = 0; i < count; i++) {
      const seg = document.createElement("span");
      seg.className = `seg ${phases[i] || ""}`;
      seg.title = labels[i] || String(i + 1);
      segs.append(seg);
    }
    this.segs.replaceChildren(segs);
    // Many frames: the segments touch (a gap each would outgrow the bar).
    this.progress.classList.toggle("dense", count > 60);
    // 0 is "not started" (frame -1, before anything is shown; aria-valuetext says so).
    this.progress.setAttribute("aria-valuemin", "0");
    this.progress.setAttribute("aria-valuemax", String(count));
    this.paint();
  }

  /** Show frame i; while a frame is loading, the latest request waits its turn
   * (key presses are never lost). data-busy is on the player while frames load, and
   * data-frame names the frame shown once they have (-1: none yet). */
  async go(i) {
    if (i < -1 || i >= this.count) return;
    // A live class's teacher page sends the frame it heads for now, not once drawn.
    if (i !== this.heading) queueMicrotask(() => viewChanged("heading"));
    this.target = i;
    if (this.busy) return;
    this.busy = true;
    this.el.dataset.busy = "";
    try {
      while (this.target !== this.frame) {
        this.frame = this.target;
        this.paint();
        await this.opts.onFrame(this.frame);
      }
    } finally {
      this.busy = false;
      delete this.el.dataset.busy;
      this.el.dataset.frame = String(this.frame);
      viewChanged("frame");
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
    this.el.dataset.frame = "-1";
    this.paint();
  }

  toggle() {
    return this.timer ? this.pause() : this.play();
  }

  play() {
    const speed = Number(this.el.querySelector("[data-act=speed]").value);
    this.showPlaying(true);
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
    this.showPlaying(false);
  }

  /** The play button is a toggle: its name stays "Play" and aria-pressed says whether it
   * plays (ARIA's toggle-button pattern: a name that also flipped would read "Pause,
   * pressed"); the icon and the tooltip say what a press does next. */
  showPlaying(on) {
    this.playButton.textContent = on ? "❚❚" : "▶";
    this.playButton.setAttribute("aria-pressed", String(on));
    this.playButton.setAttribute("aria-label", t("player.play"));
    this.playButton.title = `${t(on ? "player.pause" : "player.play")} (${t("player.key_space")})`;
  }

  paint() {
    const segs = this.segs.children;
    for (let i = 0; i < segs.length; i++) {
      segs[i].classList.toggle("done", i < this.frame);
      segs[i].classList.toggle("current", i === this.frame);
    }
    const k = this.frame + 1;
    const n = this.count;
    const text = this.frame >= 0 ? this.labels[this.frame] || "" : "";
    this.progress.setAttribute("aria-valuenow", String(Math.max(k, 0)));
    let valuetext = t("player.not_started", { n });
    if (this.frame >= 0) {
      valuetext = t(text ? "player.valuetext" : "player.valuetext_bare", { k, n, label: text });
    }
    this.progress.setAttribute("aria-valuetext", valuetext);
    this.thumb.hidden = this.frame < 0 || !n;
    if (n) this.thumb.style.left = `${((this.frame + 0.5) / n) * 100}%`;
    this.label.textContent = n ? `${k} / ${n}  ${text}` : "";
  }

  destroy() {
    this.pause();
    document.removeEventListener("keydown", this.keys);
    this.el.remove();
  }
}
