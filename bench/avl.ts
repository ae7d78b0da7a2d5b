/**
 * bench avl: position pings over HTTP into the real app (rules, live store, group-commit writer,
 * day partitions) next to a raw multi-row INSERT … unnest of the same number of rows into an
 * identically partitioned table (pg-copy-streams is not installed, so no true COPY: the raw
 * reference is the fastest plain SQL path we have and says so).
 *
 * Uses the local PostgreSQL (a scratch database, dropped at the end) when reachable, else PGlite.
 * The load generator runs in worker threads with keep-alive node:http agents.
 * Ends with: bench avl: ours_pps=… raw_pps=… ratio=… p99_ms=… rss_mb=… persisted=100%
 * and exits 1 when a target (≥ 20,000 pings/s, ≥ 50 % of raw) is missed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { buildApp } from '../apps/server/src/app.js';
import { createAuthService } from '../apps/server/src/platform/auth/service.js';
import { createLocalBus } from '../apps/server/src/platform/bus.js';
import { loadConfig } from '../apps/server/src/platform/config.js';
import { applyMigrations, openDatabase, type Database } from '../apps/server/src/platform/db/index.js';
import { JurisdictionLookup } from '../apps/server/src/modules/jurisdiction/lookup.js';
import { hashPassword } from '../apps/server/src/platform/auth/service.js';

const PG_URL = process.env.PINGAN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const BATCH = Number(process.env.BENCH_BATCH ?? 250);
const UNITS = Number(process.env.BENCH_UNITS ?? 16_000);

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1500 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const withDb = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

// The load generator: plain JS evaluated in a worker thread (no TypeScript loader needed there).
const WORKER_JS = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { port, token, units, batch, connections, seconds, base } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const lat = [];
let acked = 0, stored = 0, errors = 0, sent = 0;
const end = Date.now() + seconds * 1000;
function post(body) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/units/positions', agent,
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => {
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (res.statusCode === 200) { const j = JSON.parse(data); acked += j.received; stored += j.stored; } else errors++;
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end(body);
  });
}
async function conn(ci) {
  const mine = units.filter((_, i) => i % connections === ci);
  let cursor = 0, cycle = 0;
  while (Date.now() < end) {
    const points = [];
    for (let k = 0; k < batch; k++) {
      const u = mine[cursor];
      points.push({ unitId: u.id, t: base + cycle * 1000, lon: u.lon + cycle * 0.00001, lat: u.lat, speed: 1, heading: 90, accuracy: 5 });
      cursor++;
      if (cursor === mine.length) { cursor = 0; cycle++; }
    }
    sent += points.length;
    await post(JSON.stringify({ points }));
  }
}
Promise.all(Array.from({ length: connections }, (_, i) => conn(i))).then(() => {
  agent.destroy();
  parentPort.postMessage({ lat, acked, stored, errors, sent });
});
`;

async function seed(database: Database, nodeId: string) {
  await database.query(
    `insert into unit (call_sign, name, type, home_node_id, path, on_duty, duty_changed_at)
     select 'B' || g, '压测' || g, 'patrol_car', $1, (select path from jurisdiction_node where id = $1), true, now() - interval '1 hour'
     from generate_series(1, $2) g`,
    [nodeId, UNITS],
  );
  return database.query<{ id: string }>('select id from unit order by call_sign');
}

async function main() {
  const usePg = await pgReachable();
  let database: Database;
  let cleanup: () => Promise<void>;
  let url: string | undefined;
  if (usePg) {
    const name = `pingan_bench_avl_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    await admin.end();
    url = withDb(PG_URL, name);
    database = await openDatabase({ databaseUrl: url, poolSize: 10 });
    await applyMigrations(database, url);
    cleanup = async () => {
      await database.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-bench-avl-'));
    database = await openDatabase({ dataDir: dir });
    await applyMigrations(database);
    cleanup = async () => {
      await database.close();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  console.log(`bench avl: engine ${database.engine}, ${UNITS} on-duty units, ${WORKERS}×${CONNECTIONS} connections, ${BATCH} points per request, ${SECONDS} s`);
  try {
    const [node] = await database.query<{ id: string }>(
      `insert into jurisdiction_node (code, name, level, path) values ('B1', '压测站', 'station', '/') returning id`,
    );
    await database.query(`update jurisdiction_node set path = '/' || id || '/' where id = $1`, [node!.id]);
    const pw = 'bench-password-1';
    await database.query(`insert into app_user (username, display_name, password_hash, role, node_id) values ('gw', 'AVL gateway', $1, 'dispatcher', $2)`, [
      await hashPassword(pw),
      node!.id,
    ]);
    const unitRows = await seed(database, node!.id);
    const config = loadConfig({ LOG_LEVEL: 'silent', PINGAN_DEMO: 'off', PINGAN_SIMULATOR: 'off' }, { PINGAN_WEB_DIST: '/nonexistent', ...(url ? { DATABASE_URL: url } : {}) });
    const auth = await createAuthService(database, { sessionHours: 12, maxFailures: 5, lockoutMinutes: 15 });
    const bus = createLocalBus();
    const lookup = await JurisdictionLookup.start(database, bus);
    const app = await buildApp({ config, database, auth, bus, lookup, now: () => new Date() }, { logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const login = await auth.login('gw', pw, '127.0.0.1', 'bench');

    const base = Date.now() - 10 * 60_000;
    const units = unitRows.map((u, i) => ({ id: u.id, lon: 118.5 + (i % 200) * 0.001, lat: 37 + Math.floor(i / 200) * 0.001 }));
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 200);
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: WORKERS }, (_, w) =>
        new Promise<{ lat: number[]; acked: number; stored: number; errors: number; sent: number }>((resolve, reject) => {
          const worker = new Worker(WORKER_JS, {
            eval: true,
            workerData: { port, token: login.token, units: units.filter((_, i) => i % WORKERS === w), batch: BATCH, connections: CONNECTIONS, seconds: SECONDS, base },
          });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
      ),
    );
    const elapsed = (Date.now() - started) / 1000;
    clearInterval(rssTimer);
    await app.close();
    lookup.stop();
    const lat = results.flatMap((r) => r.lat).sort((a, b) => a - b);
    const acked = results.reduce((s, r) => s + r.acked, 0);
    const stored = results.reduce((s, r) => s + r.stored, 0);
    const errors = results.reduce((s, r) => s + r.errors, 0);
    const p99 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] ?? 0;
    const oursPps = stored / elapsed;
    const [{ n: persisted } = { n: 0 }] = await database.query<{ n: number }>('select count(*)::int as n from unit_position');
    console.log(`ours: ${stored} pings stored of ${acked} acknowledged in ${elapsed.toFixed(1)} s = ${Math.round(oursPps)} pings/s; ${lat.length} requests, p50 ${lat[Math.floor(lat.length / 2)]?.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, errors ${errors}`);

    // Raw reference: the same number of rows, multi-row INSERT … unnest (batches of 2,000, as many at once as our writer uses).
    await database.query(`create table unit_position_raw (like unit_position including all) partition by range (t)`);
    const dayStart = Math.floor(base / 86_400_000) * 86_400_000;
    for (const d of [dayStart, dayStart + 86_400_000]) {
      await database.query(
        `create table unit_position_raw_p${d} partition of unit_position_raw for values from ('${new Date(d).toISOString()}') to ('${new Date(d + 86_400_000).toISOString()}')`,
      );
    }
    const total = Math.max(stored, 1);
    const rawBatch = 2000;
    const concurrency = database.engine === 'pglite' ? 1 : 3;
    let next = 0;
    const rawStart = Date.now();
    const insertOne = async () => {
      while (next < total) {
        const from = next;
        next += rawBatch;
        const n = Math.min(rawBatch, total - from);
        const u: string[] = [], t: number[] = [], x: number[] = [], y: number[] = [], a: number[] = [], s: number[] = [], h: number[] = [];
        for (let i = 0; i < n; i++) {
          const k = from + i;
          const unit = units[k % units.length]!;
          u.push(unit.id);
          t.push(base + Math.floor(k / units.length) * 1000);
          x.push(unit.lon);
          y.push(unit.lat);
          a.push(5);
          s.push(1);
          h.push(90);
        }
        await database.query(
          `insert into unit_position_raw (unit_id, t, lon, lat, accuracy, speed, heading)
           select u, to_timestamp(t / 1000.0), x, y, a, s, h
           from unnest($1::uuid[], $2::float8[], $3::float8[], $4::float8[], $5::real[], $6::real[], $7::real[]) as r(u, t, x, y, a, s, h)
           on conflict do nothing`,
          [u, t, x, y, a, s, h],
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, insertOne));
    const rawElapsed = (Date.now() - rawStart) / 1000;
    const rawPps = total / rawElapsed;
    console.log(`raw: ${total} rows by INSERT … unnest (no pg-copy-streams for COPY) in ${rawElapsed.toFixed(2)} s = ${Math.round(rawPps)} rows/s`);

    const ratio = oursPps / rawPps;
    const persistedPct = stored === 0 ? 0 : (Math.min(persisted, stored) / stored) * 100;
    const rssMb = rssMax / 1048576;
    console.log(`note: RSS is the whole bench process (server + load generator threads); engine ${database.engine}`);
    console.log(
      `bench avl: ours_pps=${Math.round(oursPps)} raw_pps=${Math.round(rawPps)} ratio=${ratio.toFixed(2)} p99_ms=${p99.toFixed(1)} rss_mb=${Math.round(rssMb)} persisted=${persistedPct === 100 ? '100' : persistedPct.toFixed(2)}%`,
    );
    await bus.close();
    const ok = oursPps >= 20_000 && ratio >= 0.5 && persisted >= stored && errors === 0;
    await cleanup();
    process.exit(ok ? 0 : 1);
  } catch (err) {
    console.error(err);
    await cleanup().catch(() => undefined);
    process.exit(1);
  }
}

void main();
