// A 2-D BP model's decision boundary on a canvas: each grid cell tinted by the
// predicted class (stronger where the API's probability is surer), train points
// filled, test points as rings.
import { COLOURS, finite, num } from "./bp-values.js";

const SIZE = 340;
const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));

function sizeCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = SIZE * ratio;
  canvas.height = SIZE * ratio;
  canvas.style.width = canvas.style.height = `${SIZE}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

function drawRegions(ctx, b) {
  const n = b.resolution;
  const cell = SIZE / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const cls = b.predicted[i][j];
      const p = num(b.probs[i][j][cls]);
      const a = finite(p) ? 0.15 + 0.45 * Math.max(0, (p - 1 / b.classes.length) / (1 - 1 / b.classes.length)) : 0;
      const [r, g, bl] = rgb(COLOURS[cls % COLOURS.length]);
      ctx.fillStyle = `rgba(${r},${g},${bl},${a})`;
      ctx.fillRect(j * cell, SIZE - (i + 1) * cell, cell + 0.5, cell + 0.5);
    }
  }
}

function drawPoints(ctx, b) {
  const n = b.resolution;
  const [x0, x1] = [b.xs[0], b.xs[n - 1]];
  const [y0, y1] = [b.ys[0], b.ys[n - 1]];
  const px = (p) => [((p[0] - x0) / (x1 - x0)) * SIZE, SIZE - ((p[1] - y0) / (y1 - y0)) * SIZE];
  for (const [split, filled] of [["train", true], ["test", false]]) {
    b[split].x.forEach((p, k) => {
      const [u, v] = px(p);
      ctx.beginPath();
      ctx.arc(u, v, 3.2, 0, 2 * Math.PI);
      const c = COLOURS[b[split].y[k] % COLOURS.length];
      if (filled) (ctx.fillStyle = c), ctx.fill(), (ctx.strokeStyle = "#fff");
      else (ctx.strokeStyle = c), (ctx.lineWidth = 1.6);
      ctx.stroke();
    });
  }
}

/** Draw the boundary response `b` (GET .../boundary) on `canvas`. */
export function drawBoundary(canvas, b) {
  const ctx = sizeCanvas(canvas);
  drawRegions(ctx, b);
  drawPoints(ctx, b);
  canvas.dataset.testAccuracy = String(b.test_accuracy);
}
