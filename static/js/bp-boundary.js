// A 2-D BP model's decision boundary on a canvas: each grid cell tinted by the
// predicted class (stronger where the API's number is surer: the softmax probability,
// or an MSE network's sigmoid output, each in [0, 1]), train points filled, test
// points as outlines, each class with its own marker shape as well as its colour,
// and a key of the classes beside the plot.
import { COLOURS, classKey, classStyle, finite, num } from "./bp-values.js";
import { el } from "./common.js";
import { dot } from "./linechart.js";
import { marker } from "./plot.js";
import { attachDownloads, fromNested } from "./export.js";

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
      const style = classStyle(b[split].y[k]);
      if (filled) dot(ctx, style, u, v, 3.6);
      else {
        marker(ctx, style.shape, u, v, 3.6);
        ctx.strokeStyle = style.colour;
        ctx.lineWidth = 1.6;
        ctx.stroke();
      }
    });
  }
}

/** The classes' key (marker, colour and name), after the canvas; made again only
 * when the classes change. */
function drawKey(canvas, classes) {
  const names = JSON.stringify(classes);
  let key = canvas.parentElement?.querySelector(".bp-class-key");
  if (key?.dataset.classes === names) return;
  key?.remove();
  key = el(
    "ul",
    { class: "bp-class-key", "data-classes": names },
    ...classes.map((name, k) => {
      const { icon, shown } = classKey(name, k);
      return el("li", { "data-class": String(k) }, icon, ` ${shown}`);
    }),
  );
  canvas.after(key);
}

/** Draw the boundary response `b` (GET .../boundary) on `canvas`. */
export function drawBoundary(canvas, b) {
  const ctx = sizeCanvas(canvas);
  drawRegions(ctx, b);
  drawPoints(ctx, b);
  drawKey(canvas, b.classes);
  canvas.dataset.testAccuracy = String(b.test_accuracy);
  // Download (export.js): the figure, and the response's grids as the API sent them.
  const grids = () =>
    ["xs", "ys", "predicted", "probs", "outputs"].map((k) => fromNested(`boundary.${k}`, b[k]));
  attachDownloads(canvas.parentElement, grids, { name: "boundary" });
}
