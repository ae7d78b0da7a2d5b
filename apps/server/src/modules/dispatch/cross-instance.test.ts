import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { openTestDatabase, type TestDatabase } from '../../testing/database.js';
import { demoClient, startServerProcess, type ServerProcess } from '../../testing/server-process.js';

const serverUrl = process.env.PINGAN_TEST_DATABASE_URL;

/**
 * Two server processes on one PostgreSQL: a dispatch made on instance A reaches a terminal
 * connected to instance B, through the event bus (PostgreSQL NOTIFY).
 */
describe('two instances on one PostgreSQL', { skip: !serverUrl && 'needs PostgreSQL: run with PINGAN_TEST_DATABASE_URL (CI does)' }, () => {
  let tdb: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  before(async () => {
    tdb = await openTestDatabase();
    const env = { DATABASE_URL: tdb.databaseUrl!, PINGAN_DEMO: 'on', REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
    // Started together on an empty database: exactly one of them loads the demo county.
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await tdb?.close();
  });


  it('seeded the demo county once', async () => {
    const [n] = await tdb.database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'demo.seed'`);
    assert.equal(n!.n, 1);
  });

  it('pushes a dispatch made on instance A to a terminal connected to instance B', async () => {
    // A patrol car of 李鹊派出所 with officer.lique as its member.
    const [station] = await tdb.database.query<{ id: string; path: string }>(`select id, path from jurisdiction_node where code = '370523106'`);
    const [officer] = await tdb.database.query<{ id: string }>(`select id from app_user where username = 'officer.lique'`);
    const [unit] = await tdb.database.query<{ id: string }>(
      `insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ('李鹊巡01', '李鹊巡逻车', 'patrol_car', $1, $2, true) returning id`,
      [station!.id, station!.path],
    );
    await tdb.database.query('insert into unit_member (unit_id, user_id) values ($1, $2)', [unit!.id, officer!.id]);

    const officerOnB = await demoClient(b.url, 'officer.lique');
    const ticket = ((await (await officerOnB(`/api/units/${unit!.id}/ticket`, {})).json()) as { ticket: string }).ticket;
    const ws = new WebSocket(`ws://127.0.0.1:${b.port}/api/ws?ticket=${encodeURIComponent(ticket)}`);
    const received: { event?: string; incidentId?: string; briefing?: { calls: { callerPhone: string }[] } }[] = [];
    ws.on('message', (raw) => received.push(JSON.parse(String(raw)) as (typeof received)[number]));
    await new Promise<void>((resolve, reject) => {
      ws.on('message', () => received.some((m) => (m as { type?: string }).type === 'live') && resolve());
      ws.once('error', reject);
    });

    const dispatcherOnA = await demoClient(a.url, 'dispatcher');
    const intake = await dispatcherOnA('/api/incidents', {
      content: '李鹊镇政府门口两车相撞',
      category: 'traffic.accident',
      priority: 2,
      callerPhone: '13788889999',
      location: { lon: 118.47, lat: 37.05 },
    });
    assert.equal(intake.status, 201, await intake.clone().text());
    const { id } = (await intake.json()) as { id: string };
    const sent = Date.now();
    const dispatched = await dispatcherOnA(`/api/incidents/${id}/dispatch`, { units: [{ unitId: unit!.id }] });
    assert.equal(dispatched.status, 201, await dispatched.clone().text());
    while (!received.some((m) => m.event === 'dispatch' && m.incidentId === id) && Date.now() - sent < 5000) await new Promise((r) => setTimeout(r, 20));
    const push = received.find((m) => m.event === 'dispatch' && m.incidentId === id);
    assert.ok(push, `instance B's terminal received the dispatch made on A (got ${received.map((m) => m.event).join(',')})`);
    assert.equal(push.briefing?.calls[0]?.callerPhone, '13788889999');
    ws.close();
  });
});
