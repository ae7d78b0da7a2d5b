import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestDatabase, type TestDatabase } from '../../testing/database.js';
import { demoClient, startServerProcess, type ServerProcess } from '../../testing/server-process.js';
import { IDS_PER_MESSAGE } from './runtime.js';

const serverUrl = process.env.PINGAN_TEST_DATABASE_URL;

/**
 * Two server processes on one PostgreSQL and no Redis: the positions ingested on instance A reach
 * instance B's live map through the platform bus (NOTIFY with the unit ids; B re-reads the rows).
 * Many units at once: a NOTIFY carries under 8,000 bytes, so the ids must go in several messages.
 */
describe('live positions across two instances on one PostgreSQL, without Redis', { skip: !serverUrl && 'needs PostgreSQL: run with PINGAN_TEST_DATABASE_URL (CI does)' }, () => {
  let tdb: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  before(async () => {
    tdb = await openTestDatabase();
    const env = { DATABASE_URL: tdb.databaseUrl!, PINGAN_DEMO: 'on', REDIS_URL: '', PINGAN_AVL_PUBLISH_MS: '100' };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await tdb?.close();
  });


  it('shows on instance B every unit that moved on instance A, hundreds in one tick', async () => {
    const count = 3 * IDS_PER_MESSAGE + 17;
    const [station] = await tdb.database.query<{ id: string; path: string }>(`select id, path from jurisdiction_node where code = '370523106'`);
    const units = await tdb.database.query<{ id: string }>(
      `insert into unit (call_sign, name, type, home_node_id, path, on_duty, duty_changed_at)
       select '跨实例' || g, '跨实例巡逻' || g, 'patrol_car', $1, $2, true, now() - interval '1 hour' from generate_series(1, $3::int) g
       returning id`,
      [station!.id, station!.path, count],
    );
    const onA = await demoClient(a.url, 'dispatcher');
    const onB = await demoClient(b.url, 'dispatcher');
    const t = new Date(Date.now() - 1000).toISOString();
    const points = units.map((u, i) => ({ unitId: u.id, t, lon: 118.4 + i / 10_000, lat: 37.05 }));
    const ingested = await onA('/api/units/positions', { points });
    assert.equal(ingested.status, 200, await ingested.clone().text());
    assert.equal(((await ingested.json()) as { stored: number }).stored, count);

    const wanted = new Set(units.map((u) => u.id));
    const started = Date.now();
    let seen = new Map<string, { lon: number; t: string }>();
    while (Date.now() - started < 10_000) {
      const live = (await (await onB('/api/units/live')).json()) as { items: { unitId: string; lon: number; t: string }[] };
      seen = new Map(live.items.filter((i) => wanted.has(i.unitId)).map((i) => [i.unitId, i]));
      if (seen.size === count) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(seen.size, count, `instance B shows ${seen.size} of the ${count} units that moved on A`);
    const last = units.at(-1)!.id;
    assert.ok(Math.abs(seen.get(last)!.lon - (118.4 + (count - 1) / 10_000)) < 1e-9, 'B shows the position A stored');
  });
});
