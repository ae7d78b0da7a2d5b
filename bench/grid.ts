/**
 * Point → grid lookup: in-memory GridIndex vs PostGIS (GIST, ST_Intersects, deterministic ORDER BY).
 *
 *   npx tsx bench/grid.ts
 *
 * Phase "demo": the demo county's leaf grids (李鹊 micro-grids + village grids without micro-grids).
 * Phase "scale": the county outline split into ≥ 50,000 cells (tools/demo-county/scale.ts).
 * Targets (exit 1 if missed): ratio ≥ 20, build ≤ 10 s, index memory ≤ 1.5 GB, identical = 100% for
 * points farther than 1e-7° from any edge. Points on edges are reported separately (PostGIS' ST_Intersects
 * counts a boundary point in every adjacent grid and picks the smallest code; we apply the half-open rule
 * of docs/decisions/005-boundary-rule.md).
 */
import type { MultiPolygon } from 'geojson';
import { GridIndex, type GridPolygon } from '../apps/server/src/modules/jurisdiction/geo/grid-index.js';
import { buildDemoCounty } from '../tools/demo-county/county.js';
import { buildScaleGrid } from '../tools/demo-county/scale.js';
import { createRng } from '../tools/demo-county/prng.js';
import { openScratchPostgis, type ScratchDb } from './lib/postgis.js';
import { mb, memSnapshot } from './lib/measure.js';

const OURS_POINTS = 200_000;
const PG_SINGLE_POINTS = 3_000;
const PG_BATCH_POINTS = 40_000;
const EDGE_POINTS = 2_000;
const BATCH = 1_000;
const EDGE_EPS = 1e-7;

interface PhaseResult {
  name: string;
  polygons: number;
  points: number;
  oursQps: number;
  pgSingleQps: number;
  pgBatchQps: number;
  buildS: number;
  indexMb: number;
  identicalPct: number;
  compared: number;
  nearEdge: number;
  nearEdgeAgreePct: number;
  nearEdgeUnique: boolean;
}

function randomPoints(n: number, bbox: [number, number, number, number], seed: number): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = bbox[0] + rng.next() * (bbox[2] - bbox[0]);
    out[2 * i + 1] = bbox[1] + rng.next() * (bbox[3] - bbox[1]);
  }
  return out;
}

function bboxOf(polys: GridPolygon[]): [number, number, number, number] {
  let a = Infinity, b = Infinity, c = -Infinity, d = -Infinity;
  for (const p of polys) {
    for (const poly of (p.geometry as MultiPolygon).coordinates) {
      for (const [x, y] of poly[0]) {
        a = Math.min(a, x);
        b = Math.min(b, y);
        c = Math.max(c, x);
        d = Math.max(d, y);
      }
    }
  }
  return [a, b, c, d];
}

/** Points exactly on vertices and (as nearly as floats allow) on edges of random polygons. */
function edgePoints(polys: GridPolygon[], n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const ring = (rng.pick(polys).geometry as MultiPolygon).coordinates[0][0];
    const k = rng.int(0, ring.length - 2);
    const t = i % 2 === 0 ? 0 : rng.next();
    out[2 * i] = ring[k][0] + t * (ring[k + 1][0] - ring[k][0]);
    out[2 * i + 1] = ring[k][1] + t * (ring[k + 1][1] - ring[k][1]);
  }
  return out;
}

async function loadPostgis(db: ScratchDb, polys: GridPolygon[]): Promise<void> {
  await db.query('DROP TABLE IF EXISTS grids');
  await db.query('CREATE TABLE grids (code text PRIMARY KEY, depth int NOT NULL, geom geometry(MultiPolygon, 4326) NOT NULL)');
  for (let i = 0; i < polys.length; i += 2000) {
    const chunk = polys.slice(i, i + 2000);
    await db.query(
      `INSERT INTO grids SELECT c, d, ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)
         FROM unnest($1::text[], $2::int[], $3::text[]) AS t(c, d, g)`,
      [chunk.map((p) => p.code), chunk.map((p) => p.depth), chunk.map((p) => JSON.stringify(p.geometry))],
    );
  }
  await db.query('CREATE INDEX grids_geom ON grids USING gist (geom)');
  await db.query('ANALYZE grids');
}

const SINGLE_SQL = `SELECT code FROM grids
  WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
  ORDER BY depth DESC, code LIMIT 1`;
const BATCH_SQL = `SELECT p.i::int AS i,
    (SELECT g.code FROM grids g
      WHERE ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))
      ORDER BY g.depth DESC, g.code LIMIT 1) AS code
  FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i)`;

async function pgBatch(db: ScratchDb, pts: Float64Array, name: string): Promise<(string | null)[]> {
  const n = pts.length / 2;
  const out: (string | null)[] = new Array(n).fill(null);
  for (let s = 0; s < n; s += BATCH) {
    const e = Math.min(n, s + BATCH);
    const xs: number[] = [], ys: number[] = [];
    for (let i = s; i < e; i++) {
      xs.push(pts[2 * i]);
      ys.push(pts[2 * i + 1]);
    }
    const rows = await db.prepared<{ i: number; code: string | null }>(name, BATCH_SQL, [xs, ys]);
    for (const r of rows) out[s + r.i - 1] = r.code;
  }
  return out;
}

async function phase(name: string, polys: GridPolygon[], db: ScratchDb, seed: number): Promise<PhaseResult> {
  const bbox = bboxOf(polys);
  // ---- ours: build, memory ----
  const before = memSnapshot();
  const t0 = performance.now();
  let index: GridIndex | null = new GridIndex(polys);
  const buildS = (performance.now() - t0) / 1000;
  const after = memSnapshot();
  const measured = after.heap + after.external - before.heap - before.external;
  const indexMb = mb(Math.max(measured, index.memoryBytes()));
  console.log(`[${name}] index: ${index.size} polygons built in ${buildS.toFixed(3)} s; heap+external Δ ${mb(measured)} MB, estimate ${mb(index.memoryBytes())} MB, rss Δ ${mb(after.rss - before.rss)} MB`);

  // ---- ours: lookups ----
  const pts = randomPoints(OURS_POINTS, bbox, seed);
  let best = Infinity;
  let found = 0;
  for (let round = 0; round < 3; round++) {
    found = 0;
    const t = performance.now();
    for (let i = 0; i < OURS_POINTS; i++) if (index.lookup(pts[2 * i], pts[2 * i + 1]) !== null) found++;
    best = Math.min(best, performance.now() - t);
  }
  const oursQps = OURS_POINTS / (best / 1000);
  console.log(`[${name}] ours: ${OURS_POINTS} lookups, ${((100 * found) / OURS_POINTS).toFixed(1)}% inside a grid, ${Math.round(oursQps)} q/s`);

  // ---- PostGIS ----
  let t = performance.now();
  await loadPostgis(db, polys);
  console.log(`[${name}] ${db.kind}: loaded ${polys.length} polygons + GIST in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const single = randomPoints(PG_SINGLE_POINTS, bbox, seed + 1);
  for (let i = 0; i < 200; i++) await db.prepared(`single_${name}`, SINGLE_SQL, [single[2 * i], single[2 * i + 1]]); // warm-up
  t = performance.now();
  for (let i = 0; i < PG_SINGLE_POINTS; i++) await db.prepared(`single_${name}`, SINGLE_SQL, [single[2 * i], single[2 * i + 1]]);
  const pgSingleQps = PG_SINGLE_POINTS / ((performance.now() - t) / 1000);
  const batchPts = randomPoints(PG_BATCH_POINTS, bbox, seed + 2);
  await pgBatch(db, batchPts.subarray(0, 2 * BATCH), `batch_${name}`); // warm-up
  t = performance.now();
  const pgCodes = await pgBatch(db, batchPts, `batch_${name}`);
  const pgBatchQps = PG_BATCH_POINTS / ((performance.now() - t) / 1000);
  console.log(`[${name}] ${db.kind}: one query per point ${Math.round(pgSingleQps)} q/s, batched unnest(${BATCH}) ${Math.round(pgBatchQps)} q/s`);

  // ---- agreement ----
  let compared = 0, identical = 0, nearEdge = 0, nearAgree = 0;
  const mismatches: string[] = [];
  const edge = edgePoints(polys, EDGE_POINTS, seed + 3);
  const edgeCodes = await pgBatch(db, edge, `batch_${name}`);
  const check = (xy: Float64Array, codes: (string | null)[]) => {
    for (let i = 0; i < codes.length; i++) {
      const x = xy[2 * i], y = xy[2 * i + 1];
      const ours = index!.lookup(x, y)?.code ?? null;
      if (index!.isNearEdge(x, y, EDGE_EPS)) {
        nearEdge++;
        if (ours === codes[i]) nearAgree++;
        continue;
      }
      compared++;
      if (ours === codes[i]) identical++;
      else if (mismatches.length < 5) mismatches.push(`${x},${y}: ours ${ours} postgis ${codes[i]}`);
    }
  };
  check(batchPts, pgCodes);
  check(edge, edgeCodes);
  // exactly one owner for edge points among equally deep leaves (all phases index leaves only)
  let nearEdgeUnique = true;
  for (let i = 0; i < EDGE_POINTS; i++) {
    const hits = index.containing(edge[2 * i], edge[2 * i + 1]);
    if (hits.length > 1) nearEdgeUnique = false;
  }
  for (const m of mismatches) console.log(`[${name}] mismatch ${m}`);
  const identicalPct = compared === 0 ? 100 : (100 * identical) / compared;
  console.log(`[${name}] agreement: ${identical}/${compared} identical away from edges; ${nearEdge} points within ${EDGE_EPS}° of an edge (${nearAgree} same as PostGIS' smallest-code pick; ours unique: ${nearEdgeUnique})`);
  index = null;
  return {
    name, polygons: polys.length, points: OURS_POINTS, oursQps, pgSingleQps, pgBatchQps, buildS, indexMb,
    identicalPct, compared, nearEdge, nearEdgeAgreePct: nearEdge ? (100 * nearAgree) / nearEdge : 100, nearEdgeUnique,
  };
}

function line(r: PhaseResult): string {
  const pg = Math.max(r.pgSingleQps, r.pgBatchQps);
  return `bench grid: polygons=${r.polygons} points=${r.points} ours_qps=${Math.round(r.oursQps)} postgis_qps=${Math.round(pg)} ` +
    `ratio=${(r.oursQps / pg).toFixed(1)} build_s=${r.buildS.toFixed(3)} index_mb=${r.indexMb} identical=${r.identicalPct.toFixed(2)}%`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const demo = buildDemoCounty();
  const parents = new Set(demo.nodes.map((n) => n.parentCode));
  const depthOf: Record<string, number> = { grid: 4, micro_grid: 5 };
  const demoLeaves: GridPolygon[] = demo.nodes
    .filter((n) => n.geometry && (n.level === 'grid' || n.level === 'micro_grid') && !parents.has(n.code))
    .map((n) => ({ id: n.code, code: n.code, level: n.level, depth: depthOf[n.level], parentId: n.parentCode, geometry: n.geometry as MultiPolygon }));
  const t = performance.now();
  const scale: GridPolygon[] = buildScaleGrid(50_000).map((c) => ({ id: c.code, code: c.code, level: 'micro_grid', depth: 5, parentId: null, geometry: c.geometry }));
  console.log(`scale set: ${scale.length} polygons generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const db = await openScratchPostgis('pingan_bench_grid');
  const results: PhaseResult[] = [];
  try {
    console.log(`PostGIS engine: ${db.kind}${db.kind === 'postgres' ? ' (server, one connection, named prepared statements)' : ' (embedded PGlite)'}`);
    results.push(await phase('demo', demoLeaves, db, 11));
    results.push(await phase('scale', scale, db, 12));
  } finally {
    await db.close();
  }
  const failures: string[] = [];
  for (const r of results) {
    const ratio = r.oursQps / Math.max(r.pgSingleQps, r.pgBatchQps);
    if (ratio < 20) failures.push(`${r.name}: ratio ${ratio.toFixed(1)} < 20`);
    if (r.identicalPct < 100) failures.push(`${r.name}: identical ${r.identicalPct.toFixed(3)}% < 100%`);
    if (!r.nearEdgeUnique) failures.push(`${r.name}: an edge point resolved to more than one grid`);
    if (r.indexMb > 1536) failures.push(`${r.name}: index ${r.indexMb} MB > 1.5 GB`);
    if (r.polygons >= 50_000 && r.buildS > 10) failures.push(`${r.name}: build ${r.buildS} s > 10 s`);
    console.log(`[${r.name}] ${line(r)}`);
  }
  if (!results.some((r) => r.polygons >= 50_000)) failures.push('no phase with ≥ 50,000 polygons');
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s; ${failures.length === 0 ? 'all targets met' : `MISSED: ${failures.join('; ')}`}`);
  console.log(line(results[results.length - 1]));
  if (failures.length) process.exitCode = 1;
}

await main();
