// A 2-D BP model's decision boundary on a canvas: each grid cell tinted by the
// predicted class (stronger where the API's number is surer: the softmax probability,
// or an MSE network's sigmoid output, each in [0, 1]), train points filled, test
// points as rings.
import { COLOURS, finite, num } from "./bp-values.js";

const SIZE = 340;
const RGB = COLOURS.map((hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)));
const scratch = document.createElement("canvas");

/** The canvas's context, cleared; resized (which reallocates it) only when needed. */
function sizeCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== SIZE * ratio || canvas.height !== SIZE * ratio) {
    canvas.width = SIZE * ratio;
    canvas.height = SIZE * ratio;
    canvas.style.width = canvas.style.height = `${SIZE}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

/** The regions: one pixel per grid cell in an n x n image (row 0 at the bottom),
 * scaled up to the canvas without smoothing, so cells neither overlap nor blur. */
function drawRegions(ctx, b) {
  const n = b.resolution;
  // Probabilities start at 1/K (a guess); sigmoid outputs at 0.
  const scores = b.probs || b.outputs;
  const floor = b.probs ? 1 / b.classes.length : 0;
  const cells = new ImageData(n, n);
  const px = cells.data;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const cls = b.predicted[i][j];
      const p = num(scores[i][j][cls]);
      const a = finite(p) ? 0.15 + 0.45 * Math.max(0, (p - floor) / (1 - floor)) : 0;
      const [r, g, bl] = RGB[cls % RGB.length];
      const k = 4 * ((n - 1 - i) * n + j);
      px[k] = r;
      px[k + 1] = g;
      px[k + 2] = bl;
      px[k + 3] = Math.round(255 * a);
    }
  }
  scratch.width = scratch.height = n;
  scratch.getContext("2d").putImageData(cells, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, SIZE, SIZE);
}

function drawPoints(ctx, b) {
  const n = b.resolution;
  const [x0, x1] = [b.xs[0], b.xs[n - 1]];
  const [y0, y1] = [b.ys[0], b.ys[n - 1]];
  const px = (p) => [((p[0] - x0) / (x1 - x0)) * SIZE, SIZE - ((p[1] - y0) / (y1 - y0)) * SIZE];
  for (const [split, filled] of [
    ["train", true],
    ["test", false],
  ]) {
    b[split].x.forEach((p, k) => {
      const [u, v] = px(p);
      ctx.beginPath();
      ctx.arc(u, v, 3.2, 0, 2 * Math.PI);
      const c = COLOURS[b[split].y[k] % COLOURS.length];
      if (filled) {
        ctx.fillStyle = c;
        ctx.fill();
        ctx.strokeStyle = "#fff";
      } else {
        ctx.strokeStyle = c;
        ctx.lineWidth = 1.6;
      }
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
