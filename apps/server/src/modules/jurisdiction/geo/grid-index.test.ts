import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { booleanPointInPolygon } from '@turf/turf';
import type { MultiPolygon } from 'geojson';
import { GridIndex, type GridPolygon } from './grid-index.js';
import { buildDemoCounty } from '../../../../../../tools/demo-county/county.js';

const depthOf: Record<string, number> = { province: 0, city: 1, county: 2, station: 3, grid: 4, micro_grid: 5 };
const demo = buildDemoCounty();
const hasChildren = new Set(demo.nodes.map((n) => n.parentCode));
const all: GridPolygon[] = demo.nodes
  .filter((n) => n.geometry)
  .map((n) => ({ id: `id-${n.code}`, code: n.code, level: n.level, depth: depthOf[n.level], parentId: n.parentCode ? `id-${n.parentCode}` : null, geometry: n.geometry as MultiPolygon }));
const leaves = all.filter((p) => (p.level === 'grid' || p.level === 'micro_grid') && !hasChildren.has(p.code));

const square = (x0: number, y0: number, x1: number, y1: number) => [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];

test('holes resolve outside, multipolygon parts resolve inside', () => {
  const idx = new GridIndex([
    { id: 'a', code: 'A', level: 'grid', depth: 4, parentId: null, geometry: { type: 'Polygon', coordinates: [square(0, 0, 10, 10), square(4, 4, 6, 6)] } },
    { id: 'b', code: 'B', level: 'grid', depth: 4, parentId: null, geometry: { type: 'MultiPolygon', coordinates: [[square(20, 0, 22, 2)], [square(30, 0, 32, 2)]] } },
  ]);
  assert.equal(idx.lookup(1, 1)?.code, 'A');
  assert.equal(idx.lookup(5, 5), null, 'in the hole');
  assert.equal(idx.lookup(21, 1)?.code, 'B');
  assert.equal(idx.lookup(31, 1)?.code, 'B');
  assert.equal(idx.lookup(25, 1), null, 'between parts');
  assert.equal(idx.lookup(-1, 1), null);
  assert.equal(idx.size, 2);
});

test('boundary rule: shared edge goes west/south, deepest wins, code breaks ties', () => {
  const idx = new GridIndex([
    { id: 'w', code: 'W', level: 'grid', depth: 4, parentId: 'p', geometry: { type: 'Polygon', coordinates: [square(0, 0, 1, 1)] } },
    { id: 'e', code: 'E', level: 'grid', depth: 4, parentId: 'p', geometry: { type: 'Polygon', coordinates: [square(1, 0, 2, 1)] } },
    { id: 's', code: 'S', level: 'grid', depth: 4, parentId: 'p', geometry: { type: 'Polygon', coordinates: [square(0, -1, 2, 0)] } },
    { id: 'p', code: 'P', level: 'station', depth: 3, parentId: null, geometry: { type: 'Polygon', coordinates: [square(-5, -5, 5, 5)] } },
    { id: 'x1', code: 'X2', level: 'grid', depth: 4, parentId: 'p', geometry: { type: 'Polygon', coordinates: [square(3, 3, 4, 4)] } },
    { id: 'x2', code: 'X1', level: 'grid', depth: 4, parentId: 'p', geometry: { type: 'Polygon', coordinates: [square(3, 3, 4, 4)] } },
  ]);
  assert.equal(idx.lookup(1, 0.5)?.code, 'W', 'vertical shared edge → west');
  assert.equal(idx.lookup(0.5, 0)?.code, 'S', 'horizontal shared edge → south');
  assert.equal(idx.lookup(1, 0)?.code, 'S', 'shared vertex of W, E, S → the south-west one');
  assert.equal(idx.lookup(0.5, 0.5)?.code, 'W');
  assert.equal(idx.lookup(-2, 0.5)?.code, 'P', 'only the parent contains it');
  assert.equal(idx.lookup(3.5, 3.5)?.code, 'X1', 'overlap → smallest code');
  assert.equal(idx.lookup(9, 9), null);
});

test('demo county: shared edges and vertices resolve to exactly one grid, identically', () => {
  const idx = new GridIndex(leaves);
  const key = (x: number, y: number) => `${x},${y}`;
  const vertexOwners = new Map<string, Set<string>>();
  const edges = new Map<string, { a: number[]; b: number[]; owners: Set<string> }>();
  for (const p of leaves) {
    for (const poly of (p.geometry as MultiPolygon).coordinates) {
      for (const ring of poly) {
        for (let i = 0; i + 1 < ring.length; i++) {
          const [a, b] = [ring[i], ring[i + 1]];
          const k = key(a[0], a[1]);
          (vertexOwners.get(k) ?? vertexOwners.set(k, new Set()).get(k)!).add(p.code);
          const ek = [key(a[0], a[1]), key(b[0], b[1])].sort().join('|');
          (edges.get(ek) ?? edges.set(ek, { a, b, owners: new Set() }).get(ek)!).owners.add(p.code);
        }
      }
    }
  }
  let vertices = 0, shared = 0;
  for (const [k, owners] of vertexOwners) {
    if (owners.size < 2) continue;
    const [x, y] = k.split(',').map(Number);
    const hits = idx.containing(x, y);
    // interior vertices (3+ owners, or 2 owners not on the county border) are claimed by exactly one
    if (owners.size >= 3) {
      assert.equal(hits.length, 1, `vertex ${k} owners ${[...owners]}`);
      vertices++;
    } else assert.ok(hits.length <= 1);
    if (hits.length === 1) assert.ok(owners.has(hits[0].code));
    const first = idx.lookup(x, y)?.code;
    for (let r = 0; r < 3; r++) assert.equal(idx.lookup(x, y)?.code, first);
  }
  for (const { a, b, owners } of edges.values()) {
    if (owners.size !== 2) continue;
    for (const t of [0.5, 0.25, 1 / 3]) {
      const x = a[0] + t * (b[0] - a[0]);
      const y = a[1] + t * (b[1] - a[1]);
      const hits = idx.containing(x, y);
      assert.equal(hits.length, 1, `edge point ${x},${y} of ${[...owners]}`);
      assert.ok(owners.has(hits[0].code));
      assert.equal(idx.lookup(x, y)?.code, hits[0].code);
      shared++;
    }
  }
  assert.ok(vertices > 1000 && shared > 3000, `${vertices} vertices, ${shared} edge points`);
});

test('full tree: deepest wins and the chain is resolvable', () => {
  const idx = new GridIndex(all);
  const micro = leaves.find((p) => p.level === 'micro_grid')!;
  const ring = (micro.geometry as MultiPolygon).coordinates[0][0];
  // a point just inside: average of three consecutive vertices works for these convex-ish cells
  const x = (ring[0][0] + ring[1][0] + ring[2][0]) / 3;
  const y = (ring[0][1] + ring[1][1] + ring[2][1]) / 3;
  const hit = idx.lookup(x, y)!;
  assert.equal(hit.level, 'micro_grid');
  const chain: string[] = [];
  for (let h: typeof hit | null = hit; h; h = h.parentId ? idx.get(h.parentId) : null) chain.push(h.level);
  assert.deepEqual(chain, ['micro_grid', 'grid', 'station', 'county']);
  assert.equal(idx.lookup(117.0, 37.0), null, 'outside the county');
  assert.equal(idx.lookup(118.3, 36.95), null, 'inside the bbox, outside the county');
});

test('patch: add, move and delete are reflected', () => {
  const idx = new GridIndex(leaves);
  const n = idx.size;
  const geom = (x: number): GridPolygon['geometry'] => ({ type: 'Polygon', coordinates: [square(x, 10, x + 1, 11)] });
  idx.patch([{ id: 'new', code: 'N', level: 'grid', depth: 4, parentId: null, geometry: geom(100) }]);
  assert.equal(idx.size, n + 1);
  assert.equal(idx.lookup(100.5, 10.5)?.code, 'N');
  idx.patch([{ id: 'new', code: 'N', level: 'grid', depth: 4, parentId: null, geometry: geom(200) }]);
  assert.equal(idx.lookup(100.5, 10.5), null, 'moved away');
  assert.equal(idx.lookup(200.5, 10.5)?.code, 'N');
  const victim = leaves[0];
  const ring = (victim.geometry as MultiPolygon).coordinates[0][0];
  const px = (ring[0][0] + ring[1][0] + ring[2][0]) / 3, py = (ring[0][1] + ring[1][1] + ring[2][1]) / 3;
  assert.equal(idx.lookup(px, py)?.code, victim.code);
  idx.patch([], ['new', victim.id]);
  assert.equal(idx.size, n - 1);
  assert.equal(idx.lookup(200.5, 10.5), null);
  assert.equal(idx.lookup(px, py), null, 'deleted grid leaves a hole');
  idx.patch([victim]);
  assert.equal(idx.lookup(px, py)?.code, victim.code);
  assert.ok(idx.memoryBytes() > 0);
});

test('property: agrees with @turf/boolean-point-in-polygon away from edges', () => {
  const idx = new GridIndex(leaves);
  const [x0, y0, x1, y1] = [118.28, 36.93, 119.05, 37.37];
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (u, v) => {
      const x = x0 + u * (x1 - x0);
      const y = y0 + v * (y1 - y0);
      if (idx.isNearEdge(x, y, 1e-9)) return true;
      const turfHits = leaves.filter((p) => booleanPointInPolygon([x, y], p.geometry)).map((p) => p.code);
      const ours = idx.lookup(x, y);
      assert.ok(turfHits.length <= 1);
      assert.equal(ours?.code ?? null, turfHits[0] ?? null);
      return true;
    }),
    { numRuns: 3000, seed: 42 },
  );
});
