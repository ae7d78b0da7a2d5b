import type { AreaGeometry, Position } from '../api/types.js';

export type Bounds = [[number, number], [number, number]];

function polygonsOf(g: AreaGeometry): Position[][][] {
  return g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
}

/** [[west, south], [east, north]] of some geometries, or null when there is nothing to show. */
export function boundsOf(geoms: (AreaGeometry | null)[]): Bounds | null {
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (const g of geoms) {
    if (!g) continue;
    for (const poly of polygonsOf(g)) {
      for (const ring of poly) {
        for (const p of ring) {
          const x = Number(p[0]);
          const y = Number(p[1]);
          if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
          if (x < w) w = x;
          if (x > e) e = x;
          if (y < s) s = y;
          if (y > n) n = y;
        }
      }
    }
  }
  return Number.isFinite(w) ? [[w, s], [e, n]] : null;
}

/** Area-weighted centroid of the largest outer ring: where a name label goes. */
export function labelPoint(g: AreaGeometry | null): [number, number] | null {
  if (!g) return null;
  let best: { area: number; x: number; y: number } | null = null;
  for (const poly of polygonsOf(g)) {
    const ring = poly[0];
    if (!ring || ring.length < 3) continue;
    let a = 0;
    let cx = 0;
    let cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [x0, y0] = [Number(ring[j][0]), Number(ring[j][1])];
      const [x1, y1] = [Number(ring[i][0]), Number(ring[i][1])];
      const f = x0 * y1 - x1 * y0;
      a += f;
      cx += (x0 + x1) * f;
      cy += (y0 + y1) * f;
    }
    if (a === 0) continue;
    const area = Math.abs(a / 2);
    if (!best || area > best.area) best = { area, x: cx / (3 * a), y: cy / (3 * a) };
  }
  return best ? [best.x, best.y] : null;
}

export const palette = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#dc2626', '#4f46e5', '#65a30d'];
