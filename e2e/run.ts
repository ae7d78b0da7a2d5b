/**
 * Runs every e2e/*.test.ts (browser tests against the real server) and ends with one line:
 * `N passed, N failed` (and skipped, if any). Exit code 1 when anything failed.
 *
 *   node --import tsx e2e/run.ts [filter]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureWebBuilt, repoRoot } from './harness.js';

const dir = path.join(repoRoot, 'e2e');
const filter = process.argv[2];
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts') && (!filter || f.includes(filter)))
  .sort()
  .map((f) => path.join(dir, f));

if (files.length === 0) {
  console.log('0 passed, 0 failed (no e2e tests found)');
  process.exit(0);
}

if (process.env.PINGAN_E2E_NO_BUILD !== '1') {
  // Test what the server will serve: the current source, not a stale dist.
  const { build } = await import('vite');
  console.log('e2e: building apps/web …');
  await build({ configFile: path.join(repoRoot, 'apps/web/vite.config.ts'), logLevel: 'warn' });
} else {
  await ensureWebBuilt();
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const counts = await new Promise<{ pass: number; fail: number; skipped: number; code: number }>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', file],
      { cwd: repoRoot, env: { ...process.env, PINGAN_E2E_NO_BUILD: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const c = { pass: 0, fail: 0, skipped: 0, skippedSuites: 0 };
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      process.stdout.write(text);
      buffer += text;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        // A whole suite skipped (no browser) reports no skipped tests: count the suite.
        if (/^﹣ /.test(line)) c.skippedSuites += 1;
        const m = /^\s*ℹ (pass|fail|skipped) (\d+)\s*$/.exec(line);
        if (m?.[1] === 'pass') c.pass = Number(m[2]);
        if (m?.[1] === 'fail') c.fail = Number(m[2]);
        if (m?.[1] === 'skipped') c.skipped = Number(m[2]);
      }
    });
    child.on('exit', (code) => resolve({ pass: c.pass, fail: c.fail, skipped: c.skipped + c.skippedSuites, code: code ?? 1 }));
  });
  passed += counts.pass;
  failed += counts.fail;
  skipped += counts.skipped;
  // A file that crashed before reporting any failure still counts as one failure.
  if (counts.code !== 0 && counts.fail === 0) failed += 1;
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
