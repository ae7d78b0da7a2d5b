import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations, migrationsFolder, openDatabase, type Database } from '../platform/db/index.js';

/**
 * Test databases on both engines. `PINGAN_TEST_DATABASE_URL` (set by .ci/run) points at a PostgreSQL
 * server: each test file gets a fresh database cloned from a migrated template. Without it each test
 * file gets a copy of a migrated PGlite data directory (creating PostGIS from scratch costs ~10 s,
 * a copy well under one).
 */
export interface TestDatabase {
  database: Database;
  databaseUrl: string | undefined;
  /** The PGlite data directory (embedded engine only), e.g. for a server process to open. */
  dataDir?: string;
  close(): Promise<void>;
}

const migrationsKey = () =>
  createHash('sha256')
    .update(fs.readFileSync(path.join(migrationsFolder, 'meta/_journal.json')))
    .digest('hex')
    .slice(0, 12);

export const testEngine = (): 'postgres' | 'pglite' => (process.env.PINGAN_TEST_DATABASE_URL ? 'postgres' : 'pglite');

export async function openTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.PINGAN_TEST_DATABASE_URL;
  return serverUrl ? openServerDatabase(serverUrl) : openPgliteCopy();
}

/** A fresh migrated PGlite data directory of its own under the system temp dir. */
export async function openPgliteCopy(): Promise<TestDatabase> {
  const root = path.resolve('.data/test');
  const template = path.join(root, `template-${migrationsKey()}`);
  if (!fs.existsSync(path.join(template, 'READY'))) {
    const building = `${template}.building-${process.pid}-${randomBytes(3).toString('hex')}`;
    fs.mkdirSync(building, { recursive: true });
    const db = await openDatabase({ dataDir: building, durable: false });
    await applyMigrations(db);
    await db.close();
    fs.writeFileSync(path.join(building, 'READY'), new Date().toISOString());
    try {
      fs.renameSync(building, template);
    } catch {
      // Another test process won the race; its template is as good as ours.
      fs.rmSync(building, { recursive: true, force: true });
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-test-'));
  fs.cpSync(template, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'READY'), { force: true });
  // Test copies are thrown away: PGlite's fast mode (fsync off); durability.test.ts covers the durable one.
  const database = await openDatabase({ dataDir: dir, durable: false });
  return {
    database,
    databaseUrl: undefined,
    dataDir: dir,
    async close() {
      await database.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh migrated database of its own on the PostgreSQL server at `serverUrl` (dropped by close). */
export async function openServerDatabase(serverUrl: string): Promise<TestDatabase> {
  const templateName = `pingan_test_template_${migrationsKey()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    // One process builds the template; the others wait on the lock and find it done.
    await admin.query('select pg_advisory_lock(727100)');
    const exists = await admin.query('select 1 from pg_database where datname = $1', [templateName]);
    if (exists.rowCount === 0) {
      await admin.query(`create database ${pg.escapeIdentifier(templateName)}`);
      const url = withDatabase(serverUrl, templateName);
      const db = await openDatabase({ databaseUrl: url, poolSize: 2 });
      await applyMigrations(db, url);
      await db.close();
    }
    await admin.query('select pg_advisory_unlock(727100)');
    const name = `pingan_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await admin.query(`create database ${pg.escapeIdentifier(name)} template ${pg.escapeIdentifier(templateName)}`);
    const url = withDatabase(serverUrl, name);
    const database = await openDatabase({ databaseUrl: url, poolSize: 5 });
    return {
      database,
      databaseUrl: url,
      async close() {
        await database.close();
        const c = new pg.Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
        await c.end();
      },
    };
  } finally {
    await admin.end();
  }
}
