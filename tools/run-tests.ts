/**
 * Runs every *.test.ts of the repository (but e2e/, which has its own runner) with node:test and
 * ends with one line `N passed, N failed`. Usage: tsx tools/run-tests.ts [dir-or-file …]
 * With PINGAN_TEST_DATABASE_URL set, the database suites run against that PostgreSQL server.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOTS = ['apps', 'packages', 'tools'];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.data', 'e2e']);

function findTests(entry: string, out: string[]): string[] {
  const stat = fs.statSync(entry);
  if (stat.isFile()) {
    if (entry.endsWith('.test.ts')) out.push(entry);
    return out;
  }
  for (const name of fs.readdirSync(entry).sort()) {
    if (SKIP_DIRS.has(name)) continue;
    findTests(path.join(entry, name), out);
  }
  return out;
}

/**
 * The longest files (minutes, not seconds, in CI's logs) go first: node:test starts files in the order
 * given, two at a time, and the simulator's file — last in alphabetical order — used to run alone at
 * the end while the other slot idled. The rest keep their alphabetical order.
 */
const LONGEST_FIRST = [
  'apps/server/src/platform/access-matrix.test.ts',
  'tools/simulator/simulator.test.ts',
  'apps/server/src/platform/http/malformed-input.test.ts',
  'apps/server/src/modules/basemap/basemap.test.ts',
  'apps/server/src/modules/dispatch/dispatch.test.ts',
  'apps/server/src/platform/http/real-server.test.ts',
];
const rank = (file: string) => {
  const i = LONGEST_FIRST.indexOf(path.normalize(file));
  return i < 0 ? LONGEST_FIRST.length : i;
};

const args = process.argv.slice(2);
const found = (args.length ? args : ROOTS.filter((r) => fs.existsSync(r))).flatMap((r) => findTests(r, []));
// A stable sort: files not in LONGEST_FIRST stay in the order found.
const files = found.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
if (files.length === 0) {
  console.log('0 passed, 0 failed (no test files found)');
  process.exit(1);
}
const engine = process.env.PINGAN_TEST_DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite';
console.log(`Running ${files.length} test files (database suites on ${engine}) …`);

fs.mkdirSync('.data', { recursive: true });
// One TAP file per run: several runs may share the checkout.
const TAP = `.data/test-${process.pid}.tap`;
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${process.env.PINGAN_TEST_CONCURRENCY ?? 2}`, '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${TAP}`, ...files],
  { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_ENV: 'test' } },
);
child.on('exit', (code) => {
  const tap = fs.existsSync(TAP) ? fs.readFileSync(TAP, 'utf8') : '';
  fs.rmSync(TAP, { force: true });
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)`, 'm').exec(tap)?.[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  const skipped = count('skipped');
  console.log(`${passed} passed, ${failed} failed${skipped ? ` (${skipped} skipped)` : ''}`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
