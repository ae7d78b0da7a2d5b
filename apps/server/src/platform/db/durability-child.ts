/**
 * Child process of durability.test.ts: opens a PGlite data directory the way the server does, commits
 * N rows one by one and, after each commit has returned, writes `ack i` with one write(2) to an
 * acknowledgement file — so strace sees, in order, the engine's syncs and each acknowledgement.
 * Usage: tsx durability-child.ts <dataDir> <ackFile> <commits> <durable|fast>
 */
import fs from 'node:fs';
import { openDatabase } from './index.js';

const [dataDir, ackFile, commits, mode] = process.argv.slice(2);
if (!dataDir || !ackFile || !commits || (mode !== 'durable' && mode !== 'fast')) {
  console.error('usage: durability-child.ts <dataDir> <ackFile> <commits> <durable|fast>');
  process.exit(2);
}
const database = await openDatabase({ dataDir, durable: mode === 'durable' });
await database.query('create table if not exists durability_probe (i int primary key, at timestamptz not null default now())');
const [last] = await database.query<{ next: number }>('select coalesce(max(i) + 1, 0)::int as next from durability_probe');
const first = last?.next ?? 0;
const ack = fs.openSync(ackFile, 'w');
fs.writeSync(ack, 'ready\n');
for (let i = 0; i < Number(commits); i++) {
  await database.query('insert into durability_probe (i) values ($1)', [first + i]);
  fs.writeSync(ack, `ack ${i}\n`);
}
fs.closeSync(ack);
await database.close();
