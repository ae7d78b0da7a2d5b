import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MultiPolygon } from 'geojson';
import { CellLookup, GridIndex, type GridPolygon } from './grid-index.js';
import { buildDemoCounty } from '../../../../../../tools/demo-county/county.js';
import { createRng } from '../../../../../../tools/demo-county/prng.js';

const depthOf: Record<string, number> = { province: 0, city: 1, county: 2, station: 3, grid: 4, micro_grid: 5 };
const demo = buildDemoCounty();
const hasChildren = new Set(demo.nodes.map((n) => n.parentCode));
const all: GridPolygon[] = demo.nodes
  .filter((n) => n.geometry)
  .map((n) => ({ id: `id-${n.code}`, code: n.code, level: n.level, depth: depthOf[n.level], parentId: n.parentCode ? `id-${n.parentCode}` : null, geometry: n.geometry as MultiPolygon }));
const leaves = all.filter((p) => (p.level === 'grid' || p.level === 'micro_grid') && !hasChildren.has(p.code));
const square = (x0: number, y0: number, x1: number, y1: number) => [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];

/** Random points over the bbox, every vertex, and points on edges (midpoints and random fractions). */
function probePoints(polys: GridPolygon[], n: number, seed: number): number[][] {
  const rng = createRng(seed);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const pts: number[][] = [];
  for (const p of polys) {
    const parts = p.geometry.type === 'Polygon' ? [p.geometry.coordinates] : p.geometry.coordinates;
    for (const poly of parts) {
      for (const ring of poly) {
        for (let i = 0; i + 1 < ring.length; i++) {
          const [ax, ay] = ring[i];
          const [bx, by] = ring[i + 1];
          x0 = Math.min(x0, ax); y0 = Math.min(y0, ay); x1 = Math.max(x1, ax); y1 = Math.max(y1, ay);
          pts.push([ax, ay], [ax + 0.5 * (bx - ax), ay + 0.5 * (by - ay)]);
          const t = rng.next();
          pts.push([ax + t * (bx - ax), ay + t * (by - ay)]);
        }
      }
    }
  }
  for (let i = 0; i < n; i++) pts.push([x0 + rng.next() * (x1 - x0), y0 + rng.next() * (y1 - y0)]);
  // the bbox corners and sides, and just outside
  pts.push([x0, y0], [x1, y1], [x0, y1], [x1, y0], [x1 + 1e-9, y0], [x0 - 1e-9, y1], [NaN, y0]);
  return pts;
}

function assertSame(idx: GridIndex, pts: number[][], label: string): number {
  let inside = 0;
  for (const [x, y] of pts) {
    const cell = idx.lookup(x, y)?.code ?? null;
    const exact = idx.lookupExact(x, y)?.code ?? null;
    if (cell !== exact) assert.fail(`${label}: ${x},${y} cell ${cell} exact ${exact}`);
    if (exact !== null) inside++;
  }
  return inside;
}

test('cell lookup = exact lookup on leaves: random, vertex and edge points', () => {
  const idx = new GridIndex(leaves);
  const stats = idx.cellStats();
  assert.ok(stats.direct > 0 && stats.direct < stats.cells, 'some cells answer directly, some need candidates');
  const pts = probePoints(leaves, 50_000, 1);
  const inside = assertSame(idx, pts, 'leaves');
  assert.ok(inside > pts.length / 3);
});

test('cell lookup = exact lookup on the full tree (deepest wins across levels)', () => {
  const idx = new GridIndex(all);
  assertSame(idx, probePoints(all, 30_000, 2), 'tree');
  // coarse and fine grids give the same answers too
  for (const cellsPerPolygon of [0.5, 64]) assertSame(new GridIndex(all, { cellsPerPolygon }), probePoints(leaves, 5_000, 3), `density ${cellsPerPolygon}`);
});

test('long candidate lists are refined into sub-grids, with the same answers', () => {
  // one far-away polygon stretches the bbox, so the top cells hold hundreds of micro-grids
  const far: GridPolygon = { id: 'far', code: 'FAR', level: 'grid', depth: 4, parentId: null, geometry: { type: 'Polygon', coordinates: [square(150, 10, 151, 11)] } };
  const idx = new GridIndex([...leaves, far], { cellsPerPolygon: 1, maxList: 4 });
  assert.ok(idx.cellStats().nodes > 0);
  assertSame(idx, probePoints(leaves, 20_000, 4), 'refined');
  assert.equal(idx.lookup(150.5, 10.5)?.code, 'FAR');
});

test('overlaps, holes, duplicates: boundary rule and tie-breaks are the same on both paths', () => {
  const polys: GridPolygon[] = [
    { id: 'a', code: 'A', level: 'grid', depth: 4, parentId: null, geometry: { type: 'Polygon', coordinates: [square(0, 0, 10, 10), square(4, 4, 6, 6)] } },
    { id: 'b', code: 'B', level: 'grid', depth: 4, parentId: null, geometry: { type: 'Polygon', coordinates: [square(5, 5, 12, 12)] } },
    { id: 'c', code: 'C', level: 'micro_grid', depth: 5, parentId: 'a', geometry: { type: 'Polygon', coordinates: [square(1, 1, 2, 2)] } },
    { id: 'd', code: 'C', level: 'micro_grid', depth: 5, parentId: 'a', geometry: { type: 'Polygon', coordinates: [square(1.5, 1.5, 3, 3)] } },
    { id: 'p', code: 'P', level: 'station', depth: 3, parentId: null, geometry: { type: 'Polygon', coordinates: [square(-1, -1, 13, 13)] } },
  ];
  const idx = new GridIndex(polys);
  const pts: number[][] = [];
  for (let x = -2; x <= 14; x += 0.25) for (let y = -2; y <= 14; y += 0.25) pts.push([x, y]);
  assertSame(idx, [...pts, ...probePoints(polys, 10_000, 5)], 'synthetic');
  assert.equal(idx.lookup(5, 5)?.code, 'P', 'in the hole of A, on the south-west corner of B (which goes to its south-west) → the parent');
  assert.equal(idx.lookup(5.5, 5.5)?.code, 'B', 'hole of A, inside B');
  assert.equal(idx.lookup(1.75, 1.75)?.id, 'c', 'duplicate code → first inserted');
  assert.equal(idx.lookup(10, 10)?.code, 'A', 'corner of A inside B → A (smaller code) by the half-open rule');
  assert.equal(idx.lookup(13, 13)?.code, 'P', 'north-east corner of the outermost polygon belongs to it');
  assert.equal(idx.lookup(-1, -1), null, 'its south-west corner is outside');
  assert.equal(idx.lookup(-1, 5), null, 'west edge of the outermost polygon is outside');
  assert.equal(idx.lookup(13, 5)?.code, 'P', 'east edge belongs to its polygon');
});

test('patch invalidates cells: moved, deleted and added polygons answer at once', () => {
  const idx = new GridIndex(leaves);
  const victim = leaves[10];
  const ring = (victim.geometry as MultiPolygon).coordinates[0][0];
  const px = (ring[0][0] + ring[1][0] + ring[2][0]) / 3, py = (ring[0][1] + ring[1][1] + ring[2][1]) / 3;
  assert.equal(idx.lookup(px, py)?.code, victim.code);
  idx.patch([], [victim.id]);
  assert.equal(idx.lookup(px, py), null);
  // a new polygon over the hole and its neighbours, deeper than the leaves
  const [x0, y0] = [px - 0.01, py - 0.01];
  const cover: GridPolygon = { id: 'new', code: 'NEW', level: 'x', depth: 9, parentId: null, geometry: { type: 'Polygon', coordinates: [square(x0, y0, x0 + 0.02, y0 + 0.02)] } };
  idx.patch([cover]);
  assert.equal(idx.lookup(px, py)?.code, 'NEW');
  assertSame(idx, probePoints([...leaves, cover], 20_000, 6), 'after patch');
  idx.patch([victim], ['new']);
  assert.equal(idx.lookup(px, py)?.code, victim.code);
  assertSame(idx, probePoints(leaves, 5_000, 7), 'restored');
});

test('shared state answers in a CellLookup exactly like the index', () => {
  const idx = new GridIndex(leaves);
  const shared = idx.shared()!;
  assert.ok(shared.polygons.coords.buffer instanceof SharedArrayBuffer);
  assert.ok(shared.grid.cells.buffer instanceof SharedArrayBuffer);
  const other = new CellLookup(structuredClone(shared));
  const pts = probePoints(leaves, 10_000, 8);
  const flat = Float64Array.from(pts.flat());
  const out = new Int32Array(pts.length);
  other.lookupMany(flat, out);
  for (let i = 0; i < pts.length; i++) assert.equal(idx.hitAt(out[i])?.code ?? null, idx.lookupExact(pts[i][0], pts[i][1])?.code ?? null);
  assert.equal(new GridIndex().lookup(1, 1), null);
  assert.equal(new GridIndex().shared(), null);
});
