// Drawing helpers shared by the charts (contour plot, line chart, sweep chart): value
// scales and ticks, marching squares, segment clipping, CSS colours and point markers.
// Geometry of the drawing only; every plotted number comes from the API.

/** A value -> [0, 1] transform for colours and contour levels: linear, or
 * log1p when most of the grid sits in the bottom tenth of its range. */
export function valueScale(values, min, max) {
  const span = max - min || 1;
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const median = sorted.length ? sorted[sorted.length >> 1] : min;
  if ((median - min) / span >= 0.1) {
    return { log: false, to: (v) => (v - min) / span, from: (u) => min + u * span };
  }
  const d = span * 1e-4;
  const top = Math.log1p(span / d);
  return {
    log: true,
    to: (v) => Math.log1p(Math.max(v - min, 0) / d) / top,
    from: (u) => min + d * Math.expm1(u * top),
  };
}

/** Round tick values: about `count` steps of 1, 2 or 5 x 10^k over [lo, hi]. */
export function ticks(lo, hi, count = 6) {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/** Segments [x0, y0, x1, y1] (in column, row grid units) where the grid crosses
 * `level`: marching squares, the ambiguous saddle cells resolved by the cell mean. */
export function marchingSquares(rows, level) {
  const segs = [];
  const R = rows.length;
  const C = rows[0].length;
  const cross = (a, b, ax, ay, bx, by) => {
    const f = (level - a) / (b - a);
    return [ax + (bx - ax) * f, ay + (by - ay) * f];
  };
  for (let i = 0; i + 1 < R; i++) {
    for (let j = 0; j + 1 < C; j++) {
      // corners in order around the cell: c0 (i,j) c1 (i,j+1) c2 (i+1,j+1) c3 (i+1,j)
      const v = [rows[i][j], rows[i][j + 1], rows[i + 1][j + 1], rows[i + 1][j]];
      if (!v.every(Number.isFinite)) continue;
      const xy = [
        [j, i],
        [j + 1, i],
        [j + 1, i + 1],
        [j, i + 1],
      ];
      const pts = [];
      for (let e = 0; e < 4; e++) {
        const a = v[e];
        const b = v[(e + 1) % 4];
        pts.push(a < level !== b < level ? cross(a, b, ...xy[e], ...xy[(e + 1) % 4]) : null);
      }
      const hits = pts.filter(Boolean);
      if (hits.length === 2) segs.push([...hits[0], ...hits[1]]);
      else if (hits.length === 4) {
        const centreBelow = (v[0] + v[1] + v[2] + v[3]) / 4 < level;
        if (centreBelow === v[0] < level) segs.push([...pts[0], ...pts[1]], [...pts[2], ...pts[3]]);
        else segs.push([...pts[3], ...pts[0]], [...pts[1], ...pts[2]]);
      }
    }
  }
  return segs;
}

/** Clip the segment a-b to the rectangle [x0, x1] x [y0, y1] (Liang-Barsky);
 * null when it misses. Keeps far-off diverging points from reaching the canvas. */
export function clip(ax, ay, bx, by, x0, y0, x1, y1) {
  let t0 = 0;
  let t1 = 1;
  const dx = bx - ax;
  const dy = by - ay;
  for (const [p, q] of [
    [-dx, ax - x0],
    [dx, x1 - ax],
    [-dy, ay - y0],
    [dy, y1 - ay],
  ]) {
    if (p === 0) {
      if (q < 0) return null;
    } else {
      const r = q / p;
      if (p < 0) t0 = Math.max(t0, r);
      else t1 = Math.min(t1, r);
      if (t0 > t1) return null;
    }
  }
  return [ax + t0 * dx, ay + t0 * dy, ax + t1 * dx, ay + t1 * dy];
}

export function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** A chart's text (ticks, axis names) in CSS px: `px`, or more where the page asks for it
 * (--chart-text-px: present mode's 16). */
export function textPx(px) {
  return Math.max(px, Number.parseFloat(cssVar("--chart-text-px", "0")) || 0);
}

/** A closed path through `points` ([x, y] pairs). */
function polygon(ctx, points) {
  points.forEach(([px, py], k) => {
    k ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
  });
  ctx.closePath();
}

/** A marker of `shape` (circle, square, triangle, diamond, cross, star) centred on (x, y). */
export function marker(ctx, shape, x, y, r) {
  ctx.beginPath();
  if (shape === "square") ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
  else if (shape === "triangle")
    polygon(ctx, [
      [x, y - r * 1.1],
      [x + r, y + r * 0.8],
      [x - r, y + r * 0.8],
    ]);
  else if (shape === "diamond")
    polygon(ctx, [
      [x, y - r * 1.2],
      [x + r, y],
      [x, y + r * 1.2],
      [x - r, y],
    ]);
  else if (shape === "cross") {
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r);
    ctx.lineTo(x - r, y + r);
  } else if (shape === "star") {
    for (let k = 0; k < 10; k++) {
      const a = -Math.PI / 2 + (k * Math.PI) / 5;
      const rr = k % 2 ? r * 0.45 : r * 1.15;
      ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
    }
    ctx.closePath();
  } else ctx.arc(x, y, r, 0, 2 * Math.PI);
}
