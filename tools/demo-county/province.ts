/**
 * Province scale set for `bench/grid.ts`: all of Shandong (137 counties of
 * data/shandong/shandong-counties.geojson) split into ≥ 1,000,000 micro-grid cells.
 *
 * One global jittered lattice of sites covers the province; site (i, j) depends only on (i, j) and the
 * seed, so every county sees the same sites near its borders. Each county part is split with the
 * exact-topology Voronoi partition of partition.ts (the sites within two lattice steps of the part), so
 * cells tile their county exactly: no gaps, no overlaps, shared vertices. Across a county border both
 * sides are clipped from the same Voronoi edges and the same (shared) border edges, so they normally
 * meet vertex for vertex; where the source data itself is not clean (a few duplicated or non-shared
 * border edges) neighbouring counties can differ by the data's own gaps and overlaps.
 */
import { readFileSync } from 'node:fs';
import type { MultiPolygon } from 'geojson';
import { partitionPolygon, type Pt } from './partition.js';
import { ringTester } from './county.js';

export interface ProvinceCell {
  code: string;
  county: string;
  geometry: MultiPolygon;
}

export interface CountyShape {
  code: string;
  name: string;
  /** outer rings of the county's parts */
  parts: Pt[][];
}

type Geometry = { type: 'Polygon'; coordinates: Pt[][] } | { type: 'MultiPolygon'; coordinates: Pt[][][] };

export function readCounties(): CountyShape[] {
  const url = new URL('../../data/shandong/shandong-counties.geojson', import.meta.url);
  const fc = JSON.parse(readFileSync(url, 'utf8')) as { features: { properties: { code: string; name: string }; geometry: Geometry }[] };
  return fc.features.map((f) => ({
    code: String(f.properties.code),
    name: f.properties.name,
    parts: (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).map((p) => p[0]),
  }));
}

function ringArea(ring: Pt[]): number {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) s += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return Math.abs(s / 2);
}

/** Deterministic uniform [0, 1) from a lattice position. */
function hash01(i: number, j: number, seed: number, k: number): number {
  let h = Math.imul(i, 0x9e3779b1) ^ Math.imul(j, 0x85ebca77) ^ Math.imul(seed, 0xc2b2ae3d) ^ Math.imul(k, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

export interface ProvinceGrid {
  counties: CountyShape[];
  cells: ProvinceCell[];
  step: number;
  sites: number;
}

const X0 = 114, Y0 = 34, MARGIN = 3;

/** Lattice step for about `target` cells over the province. */
export function provinceStep(counties: CountyShape[], target: number): number {
  let area = 0;
  for (const c of counties) for (const r of c.parts) area += ringArea(r);
  return Math.sqrt(area / target);
}

/** The cells of one county, numbered from 1 in a deterministic order. */
export function buildCountyCells(county: CountyShape, step: number, seed: number): { cells: ProvinceCell[]; sites: number } {
  const cells: ProvinceCell[] = [];
  let sites = 0;
  let n = 0;
  for (const ring of county.parts) {
    if (ring.length < 4) continue;
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const [x, y] of ring) {
      minX = Math.min(minX, x); minY = Math.min(minY, y); maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
    }
    const i0 = Math.floor((minX - X0) / step) - MARGIN, i1 = Math.floor((maxX - X0) / step) + MARGIN;
    const j0 = Math.floor((minY - Y0) / step) - MARGIN, j1 = Math.floor((maxY - Y0) / step) + MARGIN;
    const W = i1 - i0 + 1, H = j1 - j0 + 1;
    // lattice cells within MARGIN steps of the ring: their sites shape the cells along the border
    const near = new Uint8Array(W * H);
    for (let k = 0; k + 1 < ring.length; k++) {
      const [ax, ay] = ring[k];
      const [bx, by] = ring[k + 1];
      const m = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / (step / 2)));
      for (let s = 0; s <= m; s++) {
        const ci = Math.floor((ax + ((bx - ax) * s) / m - X0) / step) - i0;
        const cj = Math.floor((ay + ((by - ay) * s) / m - Y0) / step) - j0;
        for (let di = -MARGIN; di <= MARGIN; di++) {
          for (let dj = -MARGIN; dj <= MARGIN; dj++) {
            const a = ci + di, b = cj + dj;
            if (a >= 0 && a < W && b >= 0 && b < H) near[b * W + a] = 1;
          }
        }
      }
    }
    const inside = ringTester(ring);
    // partition.ts clips Voronoi cells to the ring's bbox enlarged by 5% + 0.001°; sites must lie inside it
    const m = Math.max(maxX - minX, maxY - minY) * 0.05 + 0.001 - 1e-9;
    const pts: Pt[] = [];
    for (let i = i0; i <= i1; i++) {
      for (let j = j0; j <= j1; j++) {
        const x = X0 + (i + 0.1 + 0.8 * hash01(i, j, seed, 0)) * step;
        const y = Y0 + (j + 0.1 + 0.8 * hash01(i, j, seed, 1)) * step;
        if (x <= minX - m || x >= maxX + m || y <= minY - m || y >= maxY + m) continue;
        if (near[(j - j0) * W + (i - i0)] || inside(x, y)) pts.push([x, y]);
      }
    }
    sites += pts.length;
    let groups: Map<number, number[][][][]>;
    try {
      groups = pts.length < 3 ? new Map() : partitionPolygon(ring, pts).group((s) => s);
      if (groups.size === 0) throw new Error('no cells');
    } catch {
      // a degenerate sliver of the source data: keep it as one cell
      groups = new Map([[0, [[ring.map(([x, y]) => [x, y])]]]]);
    }
    for (const coordinates of groups.values()) {
      if (coordinates.length === 0) continue;
      n++;
      cells.push({ code: `${county.code}${String(n).padStart(6, '0')}`, county: county.code, geometry: { type: 'MultiPolygon', coordinates } });
    }
  }
  return { cells, sites };
}

/** Single-threaded build (see province-parallel.ts for the worker version used by the bench). */
export function buildProvinceGrid(
  target = 1_000_000,
  seed = 370000,
  progress?: (done: number, total: number, cells: number) => void,
): ProvinceGrid {
  const counties = readCounties();
  const step = provinceStep(counties, target);
  const cells: ProvinceCell[] = [];
  let sites = 0;
  counties.forEach((county, ci) => {
    const r = buildCountyCells(county, step, seed);
    for (const c of r.cells) cells.push(c);
    sites += r.sites;
    progress?.(ci + 1, counties.length, cells.length);
  });
  return { counties, cells, step, sites };
}
