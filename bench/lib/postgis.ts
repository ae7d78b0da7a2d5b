/**
 * Scratch PostGIS for benchmarks and geometry tests: a throw-away database on the server PostgreSQL
 * (DATABASE_URL, else postgres@127.0.0.1:5432 if reachable), or embedded PGlite + PostGIS otherwise.
 */
import pg from 'pg';

export interface ScratchDb {
  kind: 'postgres' | 'pglite';
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Same as query, but as a named prepared statement where the engine supports it. */
  prepared<T extends Record<string, unknown>>(name: string, sql: string, params: unknown[]): Promise<T[]>;
  /** Another connection to the same database (PGlite: the same single connection). */
  connect(): Promise<ScratchConn>;
  close(): Promise<void>;
}

export type ScratchConn = Pick<ScratchDb, 'query' | 'prepared'> & { end(): Promise<void> };

function adminUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

async function tryServer(dbName: string): Promise<ScratchDb | null> {
  const admin = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${dbName}`;
  const open = async (): Promise<ScratchConn> => {
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    return {
      query: async <T extends Record<string, unknown>>(sql: string, params?: unknown[]) => (await c.query<T>(sql, params)).rows,
      prepared: async <T extends Record<string, unknown>>(name: string, sql: string, params: unknown[]) =>
        (await c.query<T>({ name, text: sql, values: params })).rows,
      end: () => c.end(),
    };
  };
  const main = await open();
  const extra: ScratchConn[] = [];
  await main.query('CREATE EXTENSION IF NOT EXISTS postgis');
  return {
    kind: 'postgres',
    query: main.query,
    prepared: main.prepared,
    connect: async () => {
      const c = await open();
      extra.push(c);
      return c;
    },
    close: async () => {
      for (const c of extra.splice(0)) await c.end().catch(() => undefined);
      await main.end();
      const a = new pg.Client({ connectionString: adminUrl() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await a.end();
    },
  };
}

async function pglite(): Promise<ScratchDb> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { postgis } = await import('@electric-sql/pglite-postgis');
  const db = await PGlite.create({ extensions: { postgis } });
  await db.exec('CREATE EXTENSION IF NOT EXISTS postgis');
  const query = async <T extends Record<string, unknown>>(sql: string, params?: unknown[]) =>
    (await db.query<T>(sql, params)).rows;
  const prepared = <T extends Record<string, unknown>>(_n: string, sql: string, params: unknown[]) => query<T>(sql, params);
  return {
    kind: 'pglite', query, prepared,
    connect: async () => ({ query, prepared, end: async () => undefined }),
    close: () => db.close(),
  };
}

export async function openScratchPostgis(dbName: string): Promise<ScratchDb> {
  if (!/^[a-z_][a-z0-9_]*$/.test(dbName)) throw new Error('bad scratch database name');
  return (await tryServer(dbName)) ?? (await pglite());
}
