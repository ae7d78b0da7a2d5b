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

function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const v = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

function onSegment(ax: number, ay: number, bx: number, by: number, px: number, py: number): boolean {
  return Math.min(ax, bx) <= px && px <= Math.max(ax, bx) && Math.min(ay, by) <= py && py <= Math.max(ay, by);
}

/** A closed ring with ≥ 3 distinct vertices, non-zero area, and no two non-adjacent edges meeting. */
export function ringIsSimple(ring: number[][]): boolean {
  const n = ring.length - 1; // closed: last = first
  if (n < 3) return false;
  let area = 0;
  for (let i = 0; i < n; i++) area += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  if (area === 0) return false;
  for (let i = 0; i < n; i++) {
    const [ax, ay] = ring[i], [bx, by] = ring[i + 1];
    if (ax === bx && ay === by) return false;
    for (let j = i + 1; j < n; j++) {
      const [cx, cy] = ring[j], [dx, dy] = ring[j + 1];
      const adjacent = j === i + 1 || (i === 0 && j === n - 1);
      const o1 = orient(ax, ay, bx, by, cx, cy), o2 = orient(ax, ay, bx, by, dx, dy);
      const o3 = orient(cx, cy, dx, dy, ax, ay), o4 = orient(cx, cy, dx, dy, bx, by);
      if (adjacent) {
        // adjacent edges may share only their common vertex (no folding back along each other)
        if (j === i + 1 ? (o2 === 0 && onSegment(ax, ay, bx, by, dx, dy)) || (o3 === 0 && onSegment(cx, cy, dx, dy, ax, ay))
          : (o1 === 0 && onSegment(ax, ay, bx, by, cx, cy)) || (o4 === 0 && onSegment(cx, cy, dx, dy, bx, by))) return false;
        continue;
      }
      if (o1 * o2 < 0 && o3 * o4 < 0) return false;
      if ((o1 === 0 && onSegment(ax, ay, bx, by, cx, cy)) || (o2 === 0 && onSegment(ax, ay, bx, by, dx, dy))) return false;
      if ((o3 === 0 && onSegment(cx, cy, dx, dy, ax, ay)) || (o4 === 0 && onSegment(cx, cy, dx, dy, bx, by))) return false;
    }
  }
  return true;
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
  /** cells left out because their ring was not simple (degenerate source slivers) */
  dropped: number;
}

const X0 = 114, Y0 = 34, MARGIN = 3;

/** Lattice step for about `target` cells over the province. */
export function provinceStep(counties: CountyShape[], target: number): number {
  let area = 0;
  for (const c of counties) for (const r of c.parts) area += ringArea(r);
  return Math.sqrt(area / target);
}

/** The cells of one county, numbered from 1 in a deterministic order. */
export function buildCountyCells(county: CountyShape, step: number, seed: number): { cells: ProvinceCell[]; sites: number; dropped: number } {
  const cells: ProvinceCell[] = [];
  let sites = 0;
  let dropped = 0;
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
      // the source has a few degenerate island slivers (self-intersecting or collapsed rings): leave them out
      if (!coordinates.every((poly) => poly.every(ringIsSimple))) {
        dropped++;
        continue;
      }
      n++;
      cells.push({ code: `${county.code}${String(n).padStart(6, '0')}`, county: county.code, geometry: { type: 'MultiPolygon', coordinates } });
    }
  }
  return { cells, sites, dropped };
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
  let sites = 0, dropped = 0;
  counties.forEach((county, ci) => {
    const r = buildCountyCells(county, step, seed);
    for (const c of r.cells) cells.push(c);
    sites += r.sites;
    dropped += r.dropped;
    progress?.(ci + 1, counties.length, cells.length);
  });
  return { counties, cells, step, sites, dropped };
}
