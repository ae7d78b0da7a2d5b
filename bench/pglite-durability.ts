/**
 * bench pglite-durability: what the durable embedded mode costs (docs/decisions/013-durable-pglite.md).
 * One PGlite data directory (opened as the server opens it, PostGIS loaded), two ways in turns:
 * durable (fsync on, the WAL synced before each commit returns) and fast (PGlite's own fsync off).
 * Each round commits small transactions one by one (an INSERT in autocommit, like one acknowledged
 * write) for BENCH_SECONDS per mode; rounds alternate so both see the same machine noise.
 * Ends with: bench pglite-durability: durable_cps=… fast_cps=… ratio=…
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../apps/server/src/platform/db/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function commitFor(database: Database, seconds: number): Promise<{ commits: number; ms: number }> {
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  let commits = 0;
  while (performance.now() < until) {
    await database.query('insert into bench_commit (note) values ($1)', [`commit ${commits}`]);
    commits++;
  }
  return { commits, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-bench-durability-'));
  try {
    console.log(`bench pglite-durability: data directory ${dir} (creating it takes ~10 s)`);
    const setup = await openDatabase({ dataDir: dir, durable: true });
    await setup.query('create table bench_commit (id bigserial primary key, note text not null, at timestamptz not null default now())');
    await setup.close();

    const totals = { durable: { commits: 0, ms: 0 }, fast: { commits: 0, ms: 0 } };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of ['durable', 'fast'] as const) {
        const database = await openDatabase({ dataDir: dir, durable: mode === 'durable' });
        const r = await commitFor(database, SECONDS);
        await database.close();
        totals[mode].commits += r.commits;
        totals[mode].ms += r.ms;
        console.log(`  round ${round} ${mode.padEnd(7)} ${r.commits} commits in ${(r.ms / 1000).toFixed(1)} s = ${((r.commits * 1000) / r.ms).toFixed(0)}/s`);
      }
    }
    const durableCps = (totals.durable.commits * 1000) / totals.durable.ms;
    const fastCps = (totals.fast.commits * 1000) / totals.fast.ms;
    console.log(
      `bench pglite-durability: durable_cps=${durableCps.toFixed(0)} fast_cps=${fastCps.toFixed(0)} ratio=${(durableCps / fastCps).toFixed(3)} ` +
        `durable_ms_per_commit=${(1000 / durableCps).toFixed(2)} fast_ms_per_commit=${(1000 / fastCps).toFixed(2)}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
