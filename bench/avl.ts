/**
 * bench avl: position pings over HTTP into the real server (rules, live store, group-commit writer,
 * day partitions) next to a raw PostgreSQL COPY … FROM STDIN of the same rows into an identically
 * partitioned table, in the same run: the two take turns (BENCH_ROUNDS slices of ours, each followed by
 * the raw COPY of the rows it stored), so the noise of a shared machine falls on both, and each turn
 * starts right after a CHECKPOINT, so the WAL's full-page images fall on every turn alike. The fastest of
 * three ways to COPY is the reference; on PGlite, which has no COPY FROM STDIN, a multi-row INSERT …
 * unnest after the run.
 *
 * The server runs in a child process (apps/server/src/main.ts, as in production), so the load
 * generator (worker threads with a lean HTTP/1.1 client on keep-alive sockets, in this process) does not share its
 * event loop. Uses the local PostgreSQL (a scratch database, dropped at the end) when reachable, else
 * PGlite. BENCH_SERVER_NODE_ARGS are added to the server's node flags (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`).
 * Ends with: bench avl: ours_pps=… raw_pps=… ratio=… p99_ms=… rss_mb=… persisted=100%
 * and exits 1 when a target (≥ 20,000 pings/s, ≥ 50 % of raw) is missed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { createAuthService, hashPassword } from '../apps/server/src/platform/auth/service.js';
import { applyMigrations, openDatabase, type Database } from '../apps/server/src/platform/db/index.js';
import type { Ping } from '../apps/server/src/modules/units/positions.js';
import { encodeTrackColumns, encodeTrackCopy } from '../apps/server/src/modules/units/writer.js';
import { startServerProcess, type ServerProcess } from '../apps/server/src/testing/server-process.js';

const PG_URL = process.env.PINGAN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Our pings and the raw COPY take turns this many times (SECONDS of ours in all). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// 32 keep-alive connections of 250 points: a fleet of 16,000 terminals (or a few gateways) keeps far more
// requests in flight; with 8 the run measured the round trips of too few clients, not the server (its
// main thread and the database were a third idle).
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
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
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const { port, token, units, batch, connections, base } = workerData;
let lat = [], acked = 0, stored = 0, errors = 0, sent = 0;
// A lean HTTP/1.1 client over one keep-alive socket per sender (as load generators such as wrk and
// autocannon do): the request line, headers and body go out in one write, and the reply is read by its
// Content-Length. node:http's client cost this process about as much CPU per request as the server's
// HTTP layer, on the two cores the server and the database need; the server's side is unchanged.
const HEAD = 'POST /api/units/positions HTTP/1.1\\r\\nHost: 127.0.0.1:' + port + '\\r\\nContent-Type: application/json\\r\\nAuthorization: Bearer ' + token + '\\r\\nContent-Length: ';
function connect() {
  const c = { sock: net.connect({ host: '127.0.0.1', port, noDelay: true }), buf: null, waiting: null, t0: 0n, dead: false };
  c.sock.on('data', (chunk) => {
    c.buf = c.buf ? Buffer.concat([c.buf, chunk]) : chunk;
    if (!c.waiting) return;
    const end = c.buf.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    const head = c.buf.toString('latin1', 0, end);
    const m = /\\r\\ncontent-length: *(\\d+)/i.exec(head);
    if (!m) return settle(c, 0, ''); // not a reply this client understands: counted as an error
    const len = Number(m[1]);
    if (c.buf.length < end + 4 + len) return;
    const body = c.buf.toString('utf8', end + 4, end + 4 + len);
    c.buf = c.buf.length > end + 4 + len ? c.buf.subarray(end + 4 + len) : null;
    settle(c, Number(head.slice(9, 12)), body);
  });
  const down = () => { c.dead = true; if (c.waiting) settle(c, 0, ''); };
  c.sock.on('error', down);
  c.sock.on('close', down);
  return c;
}
function settle(c, status, body) {
  const resolve = c.waiting;
  c.waiting = null;
  lat.push(Number(process.hrtime.bigint() - c.t0) / 1e6);
  if (status === 200) { const j = JSON.parse(body); acked += j.received; stored += j.stored; } else errors++;
  resolve();
}
function post(s, request) {
  if (!s.conn || s.conn.dead) s.conn = connect();
  const c = s.conn;
  return new Promise((resolve) => {
    c.waiting = resolve;
    c.t0 = process.hrtime.bigint();
    c.sock.write(request);
  });
}
// Each point's JSON is made once per unit as bytes with fixed-width time and longitude, and a request's
// body is those bytes copied one after another with the two fields written in place, so the load
// generator takes little of the CPU it shares with the server and the database. Each cycle a unit moves
// 0.00001° east (≈ 1 m): longitudes are written with 5 decimals, as a GNSS terminal sends them.
const T_DIGITS = 13; // epoch milliseconds, 2001 to 2286
for (const u of units) {
  const head = '{"unitId":"' + u.id + '","t":';
  const mid = '0'.repeat(T_DIGITS) + ',"lon":';
  u.segment = Buffer.from(head + mid + '000.00000,"lat":' + u.lat + ',"speed":1,"heading":90,"accuracy":5}', 'latin1');
  u.tAt = head.length;
  u.lonAt = head.length + mid.length;
}
function putDigits(buf, at, value, n) {
  for (let k = n - 1; k >= 0; k--) { buf[at + k] = 48 + (value % 10); value = Math.floor(value / 10); }
}
// One sender per connection; each keeps its place (unit, cycle) from one slice to the next.
const senders = Array.from({ length: connections }, (_, ci) => ({ mine: units.filter((_, i) => i % connections === ci), cursor: 0, cycle: 0, tDigits: Buffer.from(String(base), 'latin1') }));
async function send(s, end) {
  const mine = s.mine;
  while (Date.now() < end) {
    let length = 13; // {"points":[ and ]}
    for (let k = 0, c = s.cursor; k < batch; k++) { length += mine[c].segment.length + (k ? 1 : 0); if (++c === mine.length) c = 0; }
    const head = HEAD + length + '\\r\\n\\r\\n';
    const body = Buffer.allocUnsafe(head.length + length);
    let o = body.write(head, 0, 'latin1');
    o += body.write('{"points":[', o, 'latin1');
    for (let k = 0; k < batch; k++) {
      const u = mine[s.cursor];
      if (k) body[o++] = 44;
      body.set(u.segment, o);
      body.set(s.tDigits, o + u.tAt);
      const steps = u.lonSteps + s.cycle; // 118.50000 → 11850000: three digits, the point, five
      putDigits(body, o + u.lonAt, Math.floor(steps / 100000), 3);
      putDigits(body, o + u.lonAt + 4, steps % 100000, 5);
      o += u.segment.length;
      s.cursor++;
      if (s.cursor === mine.length) { s.cursor = 0; s.cycle++; s.tDigits = Buffer.from(String(base + s.cycle * 1000), 'latin1'); }
    }
    body.write(']}', o, 'latin1');
    sent += batch;
    await post(s, body);
  }
}
// A slice: every connection sends for this many seconds; the answer comes when the last reply is in.
parentPort.on('message', async (m) => {
  if (m.stop) { for (const s of senders) s.conn?.sock.destroy(); parentPort.close(); return; }
  lat = []; acked = 0; stored = 0; errors = 0; sent = 0;
  const end = Date.now() + m.seconds * 1000;
  await Promise.all(senders.map((s) => send(s, end)));
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

/** CPU seconds (user + system) a process has used (Linux /proc), 0 when unknown. */
function cpuOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident set of a process in bytes (Linux /proc), 0 when unknown. */
function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function main() {
  const usePg = await pgReachable();
  let database: Database;
  let reopen: () => Promise<Database>;
  let cleanup: () => Promise<void>;
  let serverEnv: Record<string, string>;
  if (usePg) {
    const name = `pingan_bench_avl_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = withDb(PG_URL, name);
    database = await openDatabase({ databaseUrl: url, poolSize: 10 });
    await applyMigrations(database, url);
    serverEnv = { DATABASE_URL: url };
    reopen = async () => database;
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
    serverEnv = { PINGAN_DATA_DIR: dir };
    // PGlite has one owner: the server opens the directory while this process has it closed.
    reopen = async () => (database = await openDatabase({ dataDir: dir }));
    cleanup = async () => {
      await database.close();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  console.log(`bench avl: engine ${database.engine}, ${UNITS} on-duty units, ${WORKERS}×${CONNECTIONS} connections, ${BATCH} points per request, ${SECONDS} s, server in a child process`);
  let server: ServerProcess | null = null;
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
    const auth = await createAuthService(database, { sessionHours: 12, maxFailures: 5, lockoutMinutes: 15 });
    const login = await auth.login('gw', pw, '127.0.0.1', 'bench');
    if (!usePg) await database.close();
    // Seeding left dirty pages: write them out now, not during the measured slices.
    else {
      await database.query('checkpoint');
      spawnSync('sync');
    }

    server = await startServerProcess({
      ...serverEnv,
      PINGAN_DEMO: 'off',
      PINGAN_SIMULATOR: 'off',
      PINGAN_WEB_DIST: '/nonexistent',
      LOG_LEVEL: 'warn',
      PINGAN_SERVER_NODE_ARGS: process.env.BENCH_SERVER_NODE_ARGS ?? '',
    });
    const port = server.port;

    const base = Date.now() - 10 * 60_000;
    // Longitude in steps of 0.00001° (exact integers), so the load generator and the raw rows agree to the bit.
    const units = unitRows.map((u, i) => ({ id: u.id, lonSteps: 11_850_000 + (i % 200) * 100, lat: (37_000 + Math.floor(i / 200)) / 1000 }));
    const serverPid = server.child.pid;
    let rssMax = rssOf(serverPid);
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssOf(serverPid))), 200);
    /** CPU seconds used so far by the PostgreSQL backends connected to the bench database (0 on PGlite). */
    const pgCpu = async () => {
      if (!usePg) return 0;
      const rows = await database.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()');
      return rows.reduce((sum, r) => sum + cpuOf(r.pid), 0);
    };

    // The raw reference: a plain PostgreSQL COPY … FROM STDIN of the same rows (the same units, times and
    // values the load generator sent) into tables of its own, identically partitioned (same primary key
    // and indexes), timed from the rows in memory to the last commit. COPY is measured three ways and the
    // fastest is the reference: one binary COPY of the slice's rows, binary COPYs of 2,000 rows three at
    // a time (as our writer runs), and one text COPY (what psql's \copy sends). PGlite has no COPY FROM
    // STDIN: there the reference is the writer's own INSERT … unnest, after the run.
    const dayStart = Math.floor(base / 86_400_000) * 86_400_000;
    const rowAt = (k: number): Ping => {
      const unit = units[k % units.length]!;
      const cycle = Math.floor(k / units.length);
      // What the load generator sent: the longitude's decimal text read back (the same double JSON.parse makes).
      return { unitId: unit.id, t: base + cycle * 1000, lon: (unit.lonSteps + cycle) / 100_000, lat: unit.lat, accuracy: 5, speed: 1, heading: 90 };
    };
    let tables = 0;
    const rawTable = async () => {
      const table = `unit_position_raw${tables++}`;
      await database.query(`create table ${table} (like unit_position including all) partition by range (t)`);
      for (const d of [dayStart, dayStart + 86_400_000]) {
        await database.query(
          `create table ${table}_p${d} partition of ${table} for values from ('${new Date(d).toISOString()}') to ('${new Date(d + 86_400_000).toISOString()}')`,
        );
      }
      return table;
    };
    const rowsOf = (from: number, n: number) => Array.from({ length: n }, (_, i) => rowAt(from + i));
    const countOf = async (table: string) => (await database.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]!.n;
    const insertUnnest = (table: string, rows: Ping[]) =>
      database
        .query(
          `insert into ${table} (unit_id, t, lon, lat, accuracy, speed, heading)
           select u, to_timestamp(t / 1000.0), x, y, a, s, h
           from unnest($1::uuid[], $2::float8[], $3::float8[], $4::float8[], $5::real[], $6::real[], $7::real[]) as r(u, t, x, y, a, s, h)
           on conflict do nothing`,
          encodeTrackColumns(rows),
        )
        .then(() => undefined);
    const copyText = (rows: Ping[]) => {
      let text = '';
      for (const r of rows) text += `${r.unitId}\t${new Date(r.t).toISOString()}\t${r.lon}\t${r.lat}\t${r.accuracy}\t${r.speed}\t${r.heading}\n`;
      return Buffer.from(text);
    };
    const cols = '(unit_id, t, lon, lat, accuracy, speed, heading)';
    interface RawWay {
      name: string;
      /** Rows per statement (0 = every row of the slice in one) and statements at once. */
      batch: number;
      concurrency: number;
      write: (table: string, rows: Ping[]) => Promise<void>;
      table: string;
      rows: number;
      seconds: number;
      cpu: number;
    }
    const copyIn = database.copyIn?.bind(database);
    const allocate = database.copyBuffer?.bind(database);
    const way = async (name: string, batch: number, concurrency: number, write: RawWay['write']): Promise<RawWay> =>
      ({ name, batch, concurrency, write, table: await rawTable(), rows: 0, seconds: 0, cpu: 0 });
    const copyWays: RawWay[] = [];
    if (usePg && copyIn) {
      copyWays.push(await way('COPY binary in one', 0, 1, (table, rows) => copyIn(`copy ${table} ${cols} from stdin (format binary)`, encodeTrackCopy(rows, allocate))));
      copyWays.push(await way('COPY binary 2,000 × 3', 2000, 3, (table, rows) => copyIn(`copy ${table} ${cols} from stdin (format binary)`, encodeTrackCopy(rows, allocate))));
      copyWays.push(await way('COPY text in one', 0, 1, (table, rows) => copyIn(`copy ${table} ${cols} from stdin`, copyText(rows))));
    }
    /** Writes rows [from, from + n) the raw way and adds the time and the backends' CPU to its totals. */
    // Every turn (ours and each raw way) starts right after a checkpoint. The run writes about a
    // gigabyte of WAL, so PostgreSQL checkpoints every 15–25 s, and after each one the first change to
    // every index page logs the whole page: CPU and I/O that fell on whichever turn was running then
    // (a 0.46 and a 0.66 in one series). Now every turn pays for its own pages alike. On PGlite: nothing.
    const checkpoint = async () => {
      if (usePg) await database.query('checkpoint');
    };
    const rawSlice = async (w: RawWay, from: number, n: number) => {
      const batch = w.batch || n;
      let next = from;
      await checkpoint();
      const cpu0 = await pgCpu();
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: w.concurrency }, async () => {
          while (next < from + n) {
            const at = next;
            next += batch;
            await w.write(w.table, rowsOf(at, Math.min(batch, from + n - at)));
          }
        }),
      );
      w.seconds += Number(process.hrtime.bigint() - t0) / 1e9;
      w.cpu += (await pgCpu()) - cpu0;
      w.rows += n;
    };

    // Ours and the raw reference take turns: a slice of pings over HTTP, then the same rows by each raw
    // way, ROUNDS times. Noise of this shared machine (a busy neighbour, a disk stall) then falls on both.
    const workers = Array.from({ length: WORKERS }, (_, w) =>
      new Worker(WORKER_JS, {
        eval: true,
        workerData: { port, token: login.token, units: units.filter((_, i) => i % WORKERS === w), batch: BATCH, connections: CONNECTIONS, base },
      }),
    );
    type SliceResult = { lat: number[]; acked: number; stored: number; errors: number; sent: number };
    const slice = (seconds: number) =>
      Promise.all(
        workers.map(
          (worker) =>
            new Promise<SliceResult>((resolve, reject) => {
              const onError = (err: Error) => reject(err);
              worker.once('error', onError);
              worker.once('message', (m: SliceResult) => {
                worker.off('error', onError);
                resolve(m);
              });
              worker.postMessage({ seconds });
            }),
        ),
      );
    const lat: number[] = [];
    let acked = 0;
    let stored = 0;
    let errors = 0;
    let elapsed = 0;
    let serverCpu = 0;
    let oursPgCpu = 0;
    let benchCpuUs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await checkpoint();
      const pg0 = await pgCpu();
      const server0 = cpuOf(serverPid);
      const bench0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const results = await slice(SECONDS / ROUNDS);
      elapsed += Number(process.hrtime.bigint() - t0) / 1e9;
      serverCpu += cpuOf(serverPid) - server0;
      oursPgCpu += (await pgCpu()) - pg0;
      const used = process.cpuUsage(bench0);
      benchCpuUs += used.user + used.system;
      const from = stored;
      for (const r of results) {
        for (const x of r.lat) lat.push(x);
        acked += r.acked;
        stored += r.stored;
        errors += r.errors;
      }
      for (const w of copyWays) await rawSlice(w, from, stored - from);
    }
    for (const worker of workers) worker.postMessage({ stop: true });
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
    const metric = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    const flushes = metric('pingan_unit_position_flush_rows_count');
    console.log(
      `writer: ${flushes} flushes, ${(metric('pingan_unit_position_flush_rows_sum') / flushes).toFixed(0)} rows and ${((metric('pingan_unit_position_flush_seconds_sum') / flushes) * 1000).toFixed(1)} ms per flush`,
    );
    clearInterval(rssTimer);
    await server.stop();
    server = null;
    database = await reopen();
    lat.sort((a, b) => a - b);
    const p99 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] ?? 0;
    const oursPps = stored / elapsed;
    const [{ n: persisted } = { n: 0 }] = await database.query<{ n: number }>('select count(*)::int as n from unit_position');
    console.log(
      `cpu during our slices: server ${((serverCpu / elapsed) * 100).toFixed(0)} % of a core (${((serverCpu / Math.max(1, stored)) * 1e6).toFixed(1)} µs per ping), load generator ${((benchCpuUs / 1e6 / elapsed) * 100).toFixed(0)} % (${(benchCpuUs / Math.max(1, stored)).toFixed(1)} µs per ping)${usePg ? `, PostgreSQL backends ${((oursPgCpu / elapsed) * 100).toFixed(0)} % (${((oursPgCpu / Math.max(1, stored)) * 1e6).toFixed(1)} µs per ping)` : ''}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
    );
    console.log(`ours: ${stored} pings stored of ${acked} acknowledged in ${elapsed.toFixed(1)} s (${ROUNDS} slices) = ${Math.round(oursPps)} pings/s; ${lat.length} requests, p50 ${lat[Math.floor(lat.length / 2)]?.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, errors ${errors}; ${persisted} rows in unit_position`);

    // The writer's own INSERT … unnest (PGlite's path), over the first slice's worth of rows, for comparison.
    const unnestWay = await way('INSERT … unnest (2,000 × 3)', 2000, database.engine === 'pglite' ? 1 : 3, insertUnnest);
    await rawSlice(unnestWay, 0, usePg ? Math.min(stored, Math.ceil(stored / ROUNDS)) : stored);
    for (const w of copyWays) {
      const n = await countOf(w.table);
      if (n !== stored) throw new Error(`raw reference stored ${n} of ${stored} rows in ${w.table}`);
    }
    const rate = (w: RawWay) => w.rows / w.seconds;
    const all = [unnestWay, ...copyWays];
    const rawPps = copyWays.length ? Math.max(...copyWays.map(rate)) : rate(unnestWay);
    console.log(
      `raw: ${all.map((w) => `${w.name} ${Math.round(rate(w))} rows/s (${w.rows} rows)`).join('; ')}; reference ${copyWays.length ? '(fastest COPY, in turns with ours)' : '(PGlite: no COPY FROM STDIN)'} ${Math.round(rawPps)} rows/s`,
    );
    if (usePg) console.log(`PostgreSQL backends' CPU per row: ${all.map((w) => `${w.name} ${((w.cpu / Math.max(1, w.rows)) * 1e6).toFixed(1)} µs`).join(', ')}`);

    const ratio = oursPps / rawPps;
    const persistedPct = stored === 0 ? 0 : (Math.min(persisted, stored) / stored) * 100;
    const rssMb = rssMax / 1048576;
    console.log(`note: RSS is the server process's peak (VmRSS); engine ${database.engine}`);
    console.log(
      `bench avl: ours_pps=${Math.round(oursPps)} raw_pps=${Math.round(rawPps)} ratio=${ratio.toFixed(2)} p99_ms=${p99.toFixed(1)} rss_mb=${Math.round(rssMb)} persisted=${persistedPct === 100 ? '100' : persistedPct.toFixed(2)}%`,
    );
    const ok = oursPps >= 20_000 && ratio >= 0.5 && persisted >= stored && errors === 0;
    await cleanup();
    process.exit(ok ? 0 : 1);
  } catch (err) {
    console.error(err);
    if (server) console.error(server.output().slice(-2000));
    await server?.stop().catch(() => undefined);
    await cleanup().catch(() => undefined);
    process.exit(1);
  }
}

void main();
