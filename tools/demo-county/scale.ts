/**
 * Synthetic scale set for benchmarks: the demo county outline split into ≥ `target` micro-grid-sized
 * cells by a jittered-grid Voronoi partition (same exact-topology partition as the demo county).
 */
import type { MultiPolygon } from 'geojson';
import { partitionPolygon, type Pt } from './partition.js';
import { createRng } from './prng.js';
import { readCountyRing, ringBbox, ringTester } from './county.js';

export interface ScaleCell {
  code: string;
  geometry: MultiPolygon;
}

export function buildScaleGrid(target = 50_000, seed = 20250523): ScaleCell[] {
  const ring = readCountyRing();
  const inside = ringTester(ring);
  const [x0, y0, x1, y1] = ringBbox(ring);
  const rng = createRng(seed);
  // county fills ~37% of its bbox; pick the jittered-grid step for ~5% more sites than the target
  let step = Math.sqrt(((x1 - x0) * (y1 - y0) * 0.37) / (target * 1.05));
  for (;;) {
    const sites: Pt[] = [];
    for (let x = x0; x < x1; x += step) {
      for (let y = y0; y < y1; y += step) {
        const px = x + (0.1 + 0.8 * rng.next()) * step;
        const py = y + (0.1 + 0.8 * rng.next()) * step;
        if (inside(px, py)) sites.push([px, py]);
      }
    }
    if (sites.length < target) {
      step *= 0.98;
      continue;
    }
    const cells = partitionPolygon(ring, sites).group((i) => i);
    return [...cells.entries()].map(([i, coordinates]) => ({
      code: `S${String(i + 1).padStart(6, '0')}`,
      geometry: { type: 'MultiPolygon', coordinates },
    }));
  }
}
