/**
 * `npm run import:grids -- <file.geojson|file.zip> --parent <code> --level grid|micro_grid
 *   [--crs WGS84|GCJ02|BD09] [--fix] [--commit] [--code-field X] [--name-field Y]`
 *
 * Validates a grid file under the parent node on the configured database (DATABASE_URL, else the
 * embedded data directory PINGAN_DATA_DIR — stop the server first in that case: the embedded engine
 * takes one process) and prints the report. With --commit, writes every grid in one transaction with
 * a progress bar; Ctrl-C during the commit cancels it and rolls back: nothing is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Crs, JurisdictionLevel } from '@pingan/contracts';
import { createLocalBus, createPostgresBus } from '../apps/server/src/platform/bus.js';
import { loadConfig } from '../apps/server/src/platform/config.js';
import { openDatabase } from '../apps/server/src/platform/db/index.js';
import { DomainError } from '../apps/server/src/platform/errors.js';
import { createImportService } from '../apps/server/src/modules/jurisdiction/import/service.js';
import type { ImportReport } from '../apps/server/src/modules/jurisdiction/import/types.js';

const USAGE = `usage: npm run import:grids -- <file.geojson|file.zip> --parent <code> --level grid|micro_grid
         [--crs WGS84|GCJ02|BD09] [--fix] [--commit] [--code-field X] [--name-field Y]`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      parent: { type: 'string' },
      level: { type: 'string', default: 'grid' },
      crs: { type: 'string', default: 'WGS84' },
      fix: { type: 'boolean', default: false },
      commit: { type: 'boolean', default: false },
      'code-field': { type: 'string' },
      'name-field': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
const { values, positionals } = args;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const file = positionals[0];
if (!file || positionals.length > 1) fail(USAGE);
if (!values.parent) fail(`--parent <code> is required (the code of the node the grids go under).\n${USAGE}`);
const level = JurisdictionLevel.safeParse(values.level);
if (!level.success) fail(`--level must be one of ${JurisdictionLevel.options.join(', ')}.`);
const crs = Crs.safeParse(values.crs?.toUpperCase().replace('-', ''));
if (!crs.success) fail('--crs must be WGS84, GCJ02 or BD09.');
if (!fs.existsSync(file)) fail(`No file ${file}.`);
const body = fs.readFileSync(file);
const contentType = /\.zip$/i.test(file) ? 'application/zip' : 'application/geo+json';

const tty = process.stdout.isTTY === true;
const paint = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const width = (s: string) => [...s].reduce((w, ch) => w + (/[\u1100-\uFFFF]/.test(ch) ? 2 : 1), 0);
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - width(s)));

function printReport(r: ImportReport) {
  const s = r.summary;
  console.log(`\n${r.fileName} → ${r.parent.name} (${r.parent.code}) as ${r.level}, ${r.format}${r.encoding ? ` (${r.encoding})` : ''}, ${r.crs}${r.fix ? ', fix' : ''}`);
  console.log(`fields: code=${r.codeField ?? '—'} name=${r.nameField ?? '—'}`);
  if (r.fixes.length) {
    console.log(`\nfixed (${r.fixes.length}):`);
    for (const f of r.fixes) console.log(`  ${paint(36, f.kind.padEnd(24))} ${f.message}`);
  }
  if (r.findings.length) {
    const rows = r.findings.map((f) => [f.featureIndex === null ? '—' : String(f.featureIndex + 1), f.code ?? '', f.severity, f.kind, f.fixable ? 'yes' : '', f.message]);
    const head = ['#', 'code', 'severity', 'kind', 'fixable', 'message'];
    const widths = head.slice(0, 5).map((h, i) => Math.min(24, Math.max(width(h), ...rows.map((row) => width(row[i]!)))));
    console.log(`\nfindings (${r.findings.length}):`);
    console.log(`  ${head.slice(0, 5).map((h, i) => pad(h, widths[i]!)).join('  ')}  ${head[5]}`);
    for (const row of rows) {
      const cells = row.slice(0, 5).map((c, i) => pad(c.length > 24 ? `${c.slice(0, 23)}…` : c, widths[i]!));
      cells[2] = row[2] === 'error' ? paint(31, cells[2]!) : paint(33, cells[2]!);
      console.log(`  ${cells.join('  ')}  ${row[5]}`);
    }
  }
  const km2 = (m2: number) => `${(m2 / 1e6).toFixed(3)} km²`;
  console.log(
    `\n${s.features} features: ${s.importable} importable, ${paint(s.errors ? 31 : 32, `${s.errors} error(s)`)}, ${s.warnings} warning(s), ${s.fixed} fixed, ${s.dropped} dropped`,
  );
  console.log(`area ${km2(s.areaM2)}; parent ${km2(s.parentAreaM2)}, covered ${km2(s.coveredM2)}, gap ${km2(s.gapM2)}`);
}

function bar(done: number, total: number, phase: string) {
  const n = 30;
  const filled = total > 0 ? Math.round((done / total) * n) : 0;
  const line = `[${'#'.repeat(filled)}${'.'.repeat(n - filled)}] ${done}/${total} ${phase}`;
  if (tty) process.stdout.write(`\r${line}   `);
  else console.log(line);
}

const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.PINGAN_DATA_DIR });
// On PostgreSQL the running servers hear the change and patch their lookup index.
const bus = config.DATABASE_URL ? await createPostgresBus(database) : createLocalBus();
let exitCode = 0;
try {
  const [parent] = await database.query<{ id: string; name: string }>(
    'select id, name from jurisdiction_node where code = $1 and retired_at is null',
    [values.parent],
  );
  if (!parent) fail(`No live node with the code ${values.parent}.`);
  const imports = createImportService({ database, bus, now: () => new Date() });
  const v = await imports.validate(null, parent.id, {
    body,
    contentType,
    level: level.data,
    crs: crs.data,
    codeField: values['code-field'],
    nameField: values['name-field'],
    fix: values.fix,
    fileName: path.basename(file),
  });
  printReport(v.report);
  console.log(`import ${v.importId}`);
  if (!values.commit) {
    console.log(v.report.summary.canCommit ? 'Validated only: nothing written. Run again with --commit to write the grids.' : 'Validated only: nothing written.');
    exitCode = v.report.summary.canCommit ? 0 : 1;
  } else if (!v.report.summary.canCommit) {
    console.error(`Not committed: ${v.report.summary.errors} error(s) in the report${v.report.summary.errors && !values.fix ? ' (try --fix for the fixable ones)' : ''}. Nothing written.`);
    exitCode = 1;
  } else {
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) {
        console.error('\nStopping now; the open transaction is abandoned and nothing is written.');
        process.exit(130);
      }
      interrupted = true;
      console.error('\nCancelling: the transaction is rolled back at the next batch, nothing will be written (Ctrl-C again to quit at once).');
      void imports.cancel(null, v.importId);
    };
    process.on('SIGINT', onSigint);
    await imports.commit(null, v.importId);
    const timer = setInterval(() => {
      void imports.get(null, v.importId).then((s) => bar(s.progress.done, s.progress.total, s.progress.phase));
    }, 200);
    const end = await imports.wait(v.importId);
    clearInterval(timer);
    process.off('SIGINT', onSigint);
    if (end) bar(end.progress.done, end.progress.total, end.progress.phase);
    if (tty) process.stdout.write('\n');
    if (end?.status === 'committed') console.log(paint(32, `Committed: ${end.created} ${level.data} node(s) written under ${parent.name}, one audit record (jurisdiction.import).`));
    else if (end?.status === 'cancelled') {
      console.log('Cancelled: the transaction was rolled back; nothing was written.');
      exitCode = 130;
    } else {
      console.error(`Failed: ${end?.error ?? 'unknown error'}. The transaction was rolled back; nothing was written.`);
      exitCode = 1;
    }
  }
} catch (err) {
  if (err instanceof DomainError) {
    console.error(err.message);
    for (const i of err.issues ?? []) console.error(`  ${i.field}: ${i.message}`);
    exitCode = 2;
  } else {
    throw err;
  }
} finally {
  await bus.close();
  await database.close();
}
process.exitCode = exitCode;
