import type { SQL } from 'drizzle-orm';
import type { Executor } from './index.js';

/** Rows of a raw SQL query on either engine (PGlite answers {rows}, node-postgres too, via Drizzle). */
export async function rows<T>(exec: Executor, query: SQL): Promise<T[]> {
  const res = await exec.execute(query);
  return (Array.isArray(res) ? res : (res as { rows: T[] }).rows) as T[];
}

/** A uuid[] literal for `= any(...)`: Drizzle would expand a JS array into a list of parameters. */
export function uuidArray(ids: readonly string[]): string {
  for (const id of ids) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new Error(`not a uuid: ${id}`);
  }
  return `{${ids.join(',')}}`;
}
