// The learning-rate lab's player: the shared Player, with long runs played in strides
// and Home / End for the first and last step anywhere on the page.
import { keyTakenElsewhere, Player } from "./player.js";

/** The shared player, playing long runs in strides (about 120 ticks per run)
 * and with Home / End for the first and last step. */
export class LabPlayer extends Player {
  constructor(parent, opts) {
    super(parent, opts);
    this.el.classList.add("lab-player");
    this.endKeys = (e) => {
      if (keyTakenElsewhere(e)) return;
      const frame = { Home: 0, End: this.count - 1 }[e.key];
      if (frame === undefined) return;
      e.preventDefault();
      this.go(frame);
    };
    document.addEventListener("keydown", this.endKeys);
  }

  play() {
    const speed = Number(this.el.querySelector("[data-act=speed]").value);
    this.showPlaying(true);
    const stride = Math.max(1, Math.ceil(this.count / 120));
    const tick = async () => {
      if (this.heading + 1 >= this.count) return this.pause();
      await this.go(Math.min(this.heading + stride, this.count - 1));
      if (this.timer) this.timer = setTimeout(tick, 400 / speed);
    };
    if (this.heading + 1 >= this.count) this.go(0);
    this.timer = setTimeout(tick, 0);
  }

  destroy() {
    document.removeEventListener("keydown", this.endKeys);
    super.destroy();
  }
}
