/**
 * Point → grid lookup at province scale: GridIndex (cell lookup, worker threads on shared memory) vs
 * PostGIS at its best.
 *
 *   npm run bench:grid
 *
 * 1. All of Shandong split into ≥ 1,000,000 micro-grids (tools/demo-county/province.ts, on workers).
 * 2. Our index: build time and memory; lookups of the same random points on every core (workers on
 *    the SharedArrayBuffers of the index), single-threaded and with the plain R-tree path for reference.
 * 3. PostGIS (server database from DATABASE_URL, else a scratch database on 127.0.0.1, else PGlite):
 *    loaded with multi-row INSERTs of hex EWKB from unnest() on two connections, GiST index, ANALYZE,
 *    JIT off; measured set-based (unnest of ~10k points joined with ST_Covers) on two connections in
 *    parallel, and one prepared query per point on two connections; the best is postgis_qps.
 * 4. Agreement on the random points (points within 1e-9° of an edge counted apart: PostGIS answers
 *    every adjacent grid there), and edge/vertex points: ours must answer exactly one grid.
 * Targets (exit 1 if missed): ratio ≥ 20, build ≤ 10 s, index ≤ 1.5 GB, identical = 100 %, no edge
 * point with two owners and none with zero owners inside the province.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { MultiPolygon } from 'geojson';
import { GridIndex, type GridPolygon } from '../apps/server/src/modules/jurisdiction/geo/grid-index.js';
import { buildProvinceGridParallel } from '../tools/demo-county/province-parallel.js';
import { createRng } from '../tools/demo-county/prng.js';
import { tsWorker } from '../tools/demo-county/ts-worker.js';
import { openScratchPostgis, type ScratchConn, type ScratchDb } from './lib/postgis.js';
import { mb, memSnapshot } from './lib/measure.js';
import { multiPolygonHexEwkb } from './lib/wkb.js';
import type { LookupJob } from './lib/lookup-worker.js';

const TARGET_POLYGONS = Number(process.env.BENCH_GRID_POLYGONS ?? 1_000_000); // smaller only for trying things out
const POINTS = 200_000;
const PG_SINGLE_POINTS = 20_000;
const PG_BATCH = 10_000;
const LOAD_BATCH = 10_000;
const EDGE_POINTS = 20_000;
const EDGE_EPS = 1e-9;
const OURS_ROUNDS = 7;
const DEPTH = 5;

const secs = (t0: number) => (performance.now() - t0) / 1000;
const log = (msg: string) => console.log(msg);

/** Seeded points in the province bbox: all those inside a county, and 1 in 5 of those outside. */
function randomPoints(n: number, bbox: number[], counties: GridIndex, seed: number): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; ) {
    const x = bbox[0] + rng.next() * (bbox[2] - bbox[0]);
    const y = bbox[1] + rng.next() * (bbox[3] - bbox[1]);
    if (counties.lookupExact(x, y) === null && rng.next() >= 0.2) continue;
    out[2 * i] = x;
    out[2 * i + 1] = y;
    i++;
  }
  return out;
}

/** Points exactly on vertices (even i) and on edges (odd i) of random polygons. */
function edgePoints(polys: GridPolygon[], n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const parts = (rng.pick(polys).geometry as MultiPolygon).coordinates;
    const ring = rng.pick(rng.pick(parts));
    const k = rng.int(0, ring.length - 2);
    const t = i % 2 === 0 ? 0 : rng.next();
    out[2 * i] = ring[k][0] + t * (ring[k + 1][0] - ring[k][0]);
    out[2 * i + 1] = ring[k][1] + t * (ring[k + 1][1] - ring[k][1]);
  }
  return out;
}

async function loadPostgis(db: ScratchDb, conns: ScratchConn[], polys: GridPolygon[]): Promise<void> {
  await db.query('DROP TABLE IF EXISTS grids');
  await db.query('CREATE TABLE grids (code text NOT NULL, depth int NOT NULL, geom geometry(MultiPolygon, 4326) NOT NULL)');
  let next = 0;
  const loader = async (c: ScratchConn) => {
    for (;;) {
      const s = next;
      next += LOAD_BATCH;
      if (s >= polys.length) return;
      const chunk = polys.slice(s, s + LOAD_BATCH);
      await c.query(
        `INSERT INTO grids (code, depth, geom) SELECT c, d, g::geometry FROM unnest($1::text[], $2::int[], $3::text[]) AS t(c, d, g)`,
        [chunk.map((p) => p.code), chunk.map((p) => p.depth), chunk.map((p) => multiPolygonHexEwkb(p.geometry as MultiPolygon))],
      );
    }
  };
  await Promise.all(conns.map(loader));
  await db.query(`SET maintenance_work_mem = '1GB'`).catch(() => undefined);
  await db.query('CREATE INDEX grids_geom ON grids USING gist (geom)');
  await db.query('ANALYZE grids');
}

const BATCH_SQL = `SELECT p.i::int AS i, g.code, g.depth FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i)
  JOIN grids g ON ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))`;
// no ORDER BY … LIMIT 1: with it the generic plan of a prepared statement can walk another index;
// the (rare) several rows of a boundary point are resolved here, as for the set-based query
const SINGLE_SQL = `SELECT code, depth FROM grids WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))`;

interface PgBatchResult {
  codes: (string | null)[];
  /** rows per point (ST_Covers: 2+ on shared edges) */
  rows: Uint8Array;
  qps: number;
}

/** Set-based: batches of PG_BATCH points, the batches shared out over the connections. */
async function pgBatched(conns: ScratchConn[], pts: Float64Array): Promise<PgBatchResult> {
  const n = pts.length / 2;
  const codes: (string | null)[] = new Array<string | null>(n).fill(null);
  const depth = new Int32Array(n).fill(-1);
  const rows = new Uint8Array(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(conns.map(async (c) => {
    for (;;) {
      const s = next;
      next += PG_BATCH;
      if (s >= n) return;
      const e = Math.min(n, s + PG_BATCH);
      const xs = Array.from(pts.subarray(2 * s, 2 * e).filter((_, k) => k % 2 === 0));
      const ys = Array.from(pts.subarray(2 * s, 2 * e).filter((_, k) => k % 2 === 1));
      const res = await c.prepared<{ i: number; code: string; depth: number }>('batch', BATCH_SQL, [xs, ys]);
      for (const r of res) {
        const i = s + r.i - 1;
        rows[i] = Math.min(255, rows[i] + 1);
        // deepest, then smallest code (the same order as ours)
        if (r.depth > depth[i] || (r.depth === depth[i] && (codes[i] === null || r.code < codes[i]!))) {
          depth[i] = r.depth;
          codes[i] = r.code;
        }
      }
    }
  }));
  return { codes, rows, qps: n / secs(t0) };
}

/** One prepared query per point, the points shared out over the connections. */
async function pgSingle(conns: ScratchConn[], pts: Float64Array): Promise<{ codes: (string | null)[]; qps: number }> {
  const n = pts.length / 2;
  const codes: (string | null)[] = new Array<string | null>(n).fill(null);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(conns.map(async (c) => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const res = await c.prepared<{ code: string; depth: number }>('single', SINGLE_SQL, [pts[2 * i], pts[2 * i + 1]]);
      let best: { code: string; depth: number } | null = null;
      for (const r of res) if (!best || r.depth > best.depth || (r.depth === best.depth && r.code < best.code)) best = r;
      codes[i] = best?.code ?? null;
    }
  }));
  return { codes, qps: n / secs(t0) };
}

/** Our lookups on `threads` workers over the shared index; best of OURS_ROUNDS rounds. */
async function oursOnWorkers(index: GridIndex, pts: Float64Array, threads: number): Promise<{ out: Int32Array; qps: number }> {
  const shared = index.shared();
  if (!shared) throw new Error('empty index');
  const points = new Float64Array(new SharedArrayBuffer(pts.byteLength));
  points.set(pts);
  const n = pts.length / 2;
  const out = new Int32Array(new SharedArrayBuffer(4 * n));
  const workers: Worker[] = [];
  try {
    await Promise.all(Array.from({ length: threads }, () => new Promise<void>((resolve, reject) => {
      const w = tsWorker(new URL('./lib/lookup-worker.ts', import.meta.url), { workerData: shared });
      workers.push(w);
      w.once('message', () => resolve());
      w.once('error', reject);
    })));
    const run = (rounds: number) => Promise.all(workers.map((w, k) => new Promise<number>((resolve) => {
      const job: LookupJob = { points, out, from: Math.floor((k * n) / threads), to: Math.floor(((k + 1) * n) / threads), rounds };
      w.once('message', (ms: number) => resolve(ms));
      w.postMessage(job);
    })));
    await run(1); // warm-up (JIT, page-in)
    let best = Infinity;
    for (let r = 0; r < OURS_ROUNDS; r++) {
      const t0 = performance.now();
      await run(1);
      best = Math.min(best, performance.now() - t0);
    }
    return { out, qps: n / (best / 1000) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const failures: string[] = [];

  // ---- 1. the province scale set ----
  let t0 = performance.now();
  const province = await buildProvinceGridParallel(TARGET_POLYGONS);
  const polys: GridPolygon[] = province.cells.map((c) => ({ id: c.code, code: c.code, level: 'micro_grid', depth: DEPTH, parentId: c.county, geometry: c.geometry }));
  log(`scale set: ${polys.length} micro-grids over ${province.counties.length} counties of Shandong (lattice step ${(province.step * 111).toFixed(2)} km) generated in ${secs(t0).toFixed(1)} s; ${province.dropped} degenerate cells of source slivers left out`);
  if (polys.length < TARGET_POLYGONS) failures.push(`only ${polys.length} polygons`);
  const countyIndex = new GridIndex(province.counties.map((c) => ({
    id: c.code, code: c.code, level: 'county', depth: 2, parentId: null,
    geometry: { type: 'MultiPolygon', coordinates: c.parts.map((r) => [r]) } as MultiPolygon,
  })));

  // ---- 2. our index ----
  const before = memSnapshot();
  t0 = performance.now();
  const index = new GridIndex(polys);
  const buildS = secs(t0);
  const after = memSnapshot();
  const measured = after.heap + after.external - before.heap - before.external;
  const indexMb = mb(Math.max(measured, index.memoryBytes()));
  const cs = index.cellStats();
  const bt = index.buildTimings;
  log(`index: ${index.size} polygons built in ${buildS.toFixed(2)} s (pack ${bt.packS.toFixed(2)}, R-tree ${bt.treeS.toFixed(2)}, cells ${bt.cellsS.toFixed(2)}); heap+external Δ ${mb(measured)} MB, estimate ${mb(index.memoryBytes())} MB; ` +
    `cells ${cs.nx}×${cs.ny}, ${((100 * cs.direct) / cs.cells).toFixed(1)}% answer without a point-in-polygon test, ${cs.nodes} node ints`);

  let bbox = [Infinity, Infinity, -Infinity, -Infinity];
  for (const c of province.counties) for (const r of c.parts) for (const [x, y] of r) bbox = [Math.min(bbox[0], x), Math.min(bbox[1], y), Math.max(bbox[2], x), Math.max(bbox[3], y)];
  const pts = randomPoints(POINTS, bbox, countyIndex, 20260523);
  const threads = Math.max(1, Math.min(availableParallelism(), 8));
  const ours = await oursOnWorkers(index, pts, threads);
  let found = 0;
  for (let i = 0; i < POINTS; i++) if (ours.out[i] >= 0) found++;
  // single thread, cell path and plain R-tree path (reference)
  t0 = performance.now();
  for (let i = 0; i < POINTS; i++) index.lookupIndex(pts[2 * i], pts[2 * i + 1]);
  const singleQps = POINTS / secs(t0);
  t0 = performance.now();
  let exactSame = 0;
  for (let i = 0; i < POINTS; i++) if (index.lookupExactIndex(pts[2 * i], pts[2 * i + 1]) === ours.out[i]) exactSame++;
  const plainQps = POINTS / secs(t0);
  log(`ours: ${POINTS} points (${((100 * found) / POINTS).toFixed(1)}% inside a grid): ${threads} workers ${Math.round(ours.qps)} q/s; ` +
    `one thread ${Math.round(singleQps)} q/s; plain R-tree + ray casting ${Math.round(plainQps)} q/s; cell path = plain path on ${exactSame}/${POINTS}`);
  if (exactSame !== POINTS) failures.push(`cell lookup differs from the exact path on ${POINTS - exactSame} points`);

  // ---- 3. PostGIS ----
  const db = await openScratchPostgis('pingan_bench_grid');
  let pgQps = 0, identicalPct = 0;
  try {
    const conns: ScratchConn[] = db.kind === 'postgres' ? [await db.connect(), await db.connect()] : [await db.connect()];
    // JIT off; no parallel workers per query: the two connections already use both cores, and a
    // Gather per single-point query costs ~30 ms of worker start-up (a straw man)
    for (const c of conns) {
      await c.query('SET jit = off').catch(() => undefined);
      await c.query('SET max_parallel_workers_per_gather = 0').catch(() => undefined);
    }
    t0 = performance.now();
    await loadPostgis(db, conns, polys);
    log(`${db.kind}: loaded ${polys.length} polygons (${conns.length} connections, unnest of hex EWKB) + GiST + ANALYZE in ${secs(t0).toFixed(1)} s`);
    // the scale set itself: valid polygons (all), no overlaps (sample of 5,000 cells against their neighbours)
    t0 = performance.now();
    const half = Math.ceil(polys.length / 2);
    const invalid = (await Promise.all(conns.map((c, k) => c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT geom FROM grids OFFSET $1 LIMIT $2) g WHERE NOT ST_IsValid(geom)`,
      [k * half, conns.length === 1 ? polys.length : half],
    )))).reduce((a, r) => a + r[0].n, 0);
    const [ov] = await db.query<{ pairs: number; area: number }>(
      `SELECT count(*)::int AS pairs, coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom))), 0)::float8 AS area
         FROM (SELECT code, geom FROM grids TABLESAMPLE SYSTEM (0.5) REPEATABLE (7) LIMIT 5000) a
         JOIN grids b ON b.code <> a.code AND ST_Intersects(a.geom, b.geom) AND ST_Relate(a.geom, b.geom, '2********')`,
    );
    log(`${db.kind}: scale set check: ${invalid} of ${polys.length} polygons invalid (ST_IsValid); ` +
      `${ov.pairs} overlapping pairs (interiors intersect) around a sample of 5,000 cells, ${(ov.area * 1.2e10).toFixed(2)} m² in all (${secs(t0).toFixed(1)} s)`);
    if (invalid > 0) failures.push(`${invalid} invalid polygons in the scale set`);
    await pgBatched(conns, pts.subarray(0, 2 * 2 * PG_BATCH)); // warm-up: plans, caches
    const batch = await pgBatched(conns, pts);
    const singlePts = pts.subarray(0, 2 * PG_SINGLE_POINTS);
    await pgSingle(conns, singlePts.subarray(0, 2000));
    const single = await pgSingle(conns, singlePts);
    pgQps = Math.max(batch.qps, single.qps);
    log(`${db.kind}: set-based unnest(${PG_BATCH}) ⋈ ST_Covers on ${conns.length} connections ${Math.round(batch.qps)} q/s; ` +
      `one prepared query per point on ${conns.length} connections ${Math.round(single.qps)} q/s (${PG_SINGLE_POINTS} points)`);

    // ---- 4. agreement ----
    let compared = 0, identical = 0, nearEdge = 0, nearAgree = 0, singleDiff = 0;
    const mismatches: string[] = [];
    for (let i = 0; i < POINTS; i++) {
      const x = pts[2 * i], y = pts[2 * i + 1];
      const mine = index.hitAt(ours.out[i])?.code ?? null;
      if (i < PG_SINGLE_POINTS && single.codes[i] !== batch.codes[i]) singleDiff++;
      if (index.isNearEdge(x, y, EDGE_EPS)) {
        nearEdge++;
        if (mine === batch.codes[i]) nearAgree++;
        continue;
      }
      compared++;
      if (mine === batch.codes[i]) identical++;
      else if (mismatches.length < 5) mismatches.push(`${x},${y}: ours ${mine} postgis ${batch.codes[i]}`);
    }
    identicalPct = compared === 0 ? 100 : (100 * identical) / compared;
    for (const m of mismatches) log(`mismatch ${m}`);
    log(`agreement: ${identical}/${compared} identical (${identicalPct.toFixed(3)}%) farther than ${EDGE_EPS}° from an edge; ` +
      `${nearEdge} points within ${EDGE_EPS}° (${nearAgree} same); per-point query vs set-based differ on ${singleDiff}`);
    if (identicalPct < 100) failures.push(`identical ${identicalPct.toFixed(3)}% < 100%`);

    // ---- 5. points exactly on edges and vertices ----
    const edge = edgePoints(polys, EDGE_POINTS, 7);
    const pgEdge = await pgBatched(conns, edge);
    let one = 0, none = 0, many = 0, outline = 0, cellDiff = 0, pgMany = 0, pgNone = 0;
    const d = 1e-7;
    for (let i = 0; i < EDGE_POINTS; i++) {
      const x = edge[2 * i], y = edge[2 * i + 1];
      const hits = index.containing(x, y);
      if (index.lookup(x, y)?.code !== index.lookupExact(x, y)?.code) cellDiff++;
      if (pgEdge.rows[i] > 1) pgMany++;
      if (pgEdge.rows[i] === 0) pgNone++;
      if (hits.length === 1) one++;
      else if (hits.length > 1) many++;
      else {
        // no owner: fine on the province outline (some side is outside), a failure inside it
        const around = [[-d, -d], [d, -d], [-d, d], [d, d]].every(([dx, dy]) => index.lookupExact(x + dx, y + dy) !== null);
        if (around) {
          none++;
          if (none <= 3) log(`edge point without owner: ${x},${y} near ${index.containing(x - d, y - d).map((h) => h.code).join(',')} / ${index.containing(x + d, y + d).map((h) => h.code).join(',')}`);
        }
        else outline++;
      }
    }
    log(`edge/vertex points: ${EDGE_POINTS}: ours exactly one grid ${one}, on the province outline (none) ${outline}, ` +
      `none inside ${none}, several ${many}; cell = exact path on ${EDGE_POINTS - cellDiff}; ` +
      `PostGIS ST_Covers answers several grids for ${pgMany}, none for ${pgNone}`);
    if (many > 0) failures.push(`${many} edge points with several owners`);
    if (none > 0) failures.push(`${none} edge points inside the province without an owner`);
    if (cellDiff > 0) failures.push(`${cellDiff} edge points: cell path differs from the exact path`);
  } finally {
    await db.close();
  }

  const ratio = ours.qps / pgQps;
  if (ratio < 20) failures.push(`ratio ${ratio.toFixed(1)} < 20`);
  if (buildS > 10) failures.push(`build ${buildS.toFixed(2)} s > 10 s`);
  if (indexMb > 1536) failures.push(`index ${indexMb} MB > 1.5 GB`);
  log(`total ${secs(started).toFixed(1)} s; ${failures.length === 0 ? 'all targets met' : `MISSED: ${failures.join('; ')}`}`);
  log(`bench grid: polygons=${polys.length} points=${POINTS} ours_qps=${Math.round(ours.qps)} postgis_qps=${Math.round(pgQps)} ` +
    `ratio=${ratio.toFixed(1)} build_s=${buildS.toFixed(2)} index_mb=${indexMb} identical=${identicalPct.toFixed(2)}%`);
  if (failures.length) process.exitCode = 1;
}

await main();
