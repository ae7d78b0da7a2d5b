import pg from 'pg';

/**
 * The PostgreSQL server the faults suite may use: PINGAN_TEST_DATABASE_URL, else the machine's
 * server on 127.0.0.1:5432; null when none answers (the PostgreSQL parts then skip).
 */
export async function reachablePostgres(): Promise<string | null> {
  const url = process.env.PINGAN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    const r = await c.query<{ ok: number }>(`select count(*)::int as ok from pg_available_extensions where name = 'postgis'`);
    return r.rows[0]?.ok ? url : null;
  } catch {
    return null;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Print one figure of the suite (CI logs carry the lines starting `figure:`). */
export function figure(line: string): void {
  console.log(`figure: ${line}`);
}
