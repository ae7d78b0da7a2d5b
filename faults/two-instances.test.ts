import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openServerDatabase, type TestDatabase } from '../apps/server/src/testing/database.js';
import { startServerProcess, type ServerProcess } from '../apps/server/src/testing/server-process.js';
import { FAULTS_PASSWORD, seedSmallCounty, type SeededCounty } from './support/county.js';
import { figure, reachablePostgres } from './support/engines.js';
import { LoadDriver, login, request } from './support/load.js';
import { openStream, reachable, type Stream } from './support/stream.js';

/**
 * Issue 9, item 4: two server processes on one PostgreSQL (and Redis). A command screen and a unit
 * terminal follow the event stream on instance A while dispatch work is done on instance B; A is
 * killed (`kill -9`) in the middle; both clients reconnect to B with the last seq they saw and must
 * end up with every event of their scope exactly once, in seq order — the same list as the database.
 */
const postgres = await reachablePostgres();
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUrl = new URL(REDIS_URL);
const redis = await reachable(redisUrl.hostname, Number(redisUrl.port || 6379));
const skip = !postgres ? 'no PostgreSQL with PostGIS on 127.0.0.1:5432 (set PINGAN_TEST_DATABASE_URL)' : !redis ? `no Redis at ${REDIS_URL}` : false;

interface Client {
  name: 'command' | 'terminal';
  /** The first connection (to A) and the second (to B, resumed). */
  streams: Stream[];
  startSeq: number;
  resumedFrom: number;
  liveOnB: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two instances: killing one loses no event for clients that reconnect to the other', { timeout: 330_000, skip }, () => {
  let tdb: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let county: SeededCounty;
  let driver: LoadDriver;
  let killedAt = 0;
  const clients: Client[] = [];
  const expected = new Map<string, number[]>();

  before(async () => {
    tdb = await openServerDatabase(postgres!);
    county = await seedSmallCounty(tdb.database, 3, { acknowledgeSeconds: 600, arriveSeconds: 1200, warnShare: 0.9 });
    const env = { DATABASE_URL: tdb.databaseUrl!, REDIS_URL, PINGAN_DEMO: 'off', PINGAN_LOGIN_RATE_PER_MINUTE: '100000' };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    // Sessions live in the database: one token works on both instances.
    const dispatcherToken = await login(b.url, county.dispatcher, FAULTS_PASSWORD);
    const officers = await Promise.all(county.units.map((u) => login(b.url, u.officer, FAULTS_PASSWORD)));
    const terminalUnit = county.units[0]!;

    const ticket = async (base: string, who: 'command' | 'terminal') => {
      const r =
        who === 'command'
          ? await request(`${base}/api/auth/ticket`, { method: 'POST', token: dispatcherToken, body: { purpose: 'ws' } })
          : await request(`${base}/api/units/${terminalUnit.id}/ticket`, { method: 'POST', token: officers[0]!, body: {} });
      assert.equal(r.status, 200, r.body);
      return (JSON.parse(r.body) as { ticket: string }).ticket;
    };
    const wsUrl = (server: ServerProcess, t: string, since?: number) =>
      `ws://127.0.0.1:${server.port}/api/ws?ticket=${encodeURIComponent(t)}${since === undefined ? '' : `&since=${since}`}`;

    for (const name of ['command', 'terminal'] as const) {
      const s = await openStream(wsUrl(a, await ticket(a.url, name)));
      const live = await s.live;
      clients.push({ name, streams: [s], startSeq: live.seq ?? 0, resumedFrom: 0, liveOnB: 0 });
    }

    // The work is done on B: intake, dispatch, acknowledged, on scene, cleared by each unit's officer.
    driver = new LoadDriver({
      baseUrl: b.url,
      dispatcherToken,
      lanes: county.units.map((u, i) => ({ unitId: u.id, officerToken: officers[i]! })),
      spares: [],
      spareEvery: 1000,
      incidents: 60,
      pauseMs: 40,
    });
    const running = driver.run();
    await driver.acknowledgedCount(100);
    killedAt = Date.now();
    await a.kill();
    // Each client notices the loss and resumes on B from the last seq it saw.
    await Promise.all(
      clients.map(async (c) => {
        const code = await c.streams[0]!.closed;
        assert.notEqual(code, 1000, 'the connection to A broke (it was not closed normally)');
        c.resumedFrom = c.streams[0]!.lastSeq() || c.startSeq;
        const s = await openStream(wsUrl(b, await ticket(b.url, c.name), c.resumedFrom));
        c.streams.push(s);
        c.liveOnB = Date.now();
      }),
    );
    await running;

    // Everything of each client's scope after its start, from the database, in seq order.
    const [{ path }] = (await tdb.database.query<{ path: string }>('select path from jurisdiction_node where id = $1', [county.countyId])) as [{ path: string }];
    for (const c of clients) {
      const found = await tdb.database.query<{ seq: string }>(
        c.name === 'command'
          ? 'select seq from incident_event where seq > $1 and node_path like $2 order by seq'
          : 'select seq from incident_event where seq > $1 and $2::uuid = any(unit_ids) order by seq',
        [c.startSeq, c.name === 'command' ? `${path}%` : terminalUnit.id],
      );
      expected.set(c.name, found.map((r) => Number(r.seq)));
    }
    // Wait until each client has the last event of its scope (bounded).
    const deadline = Date.now() + 30_000;
    for (const c of clients) {
      const last = expected.get(c.name)!.at(-1) ?? 0;
      while (c.streams[1]!.lastSeq() < last && Date.now() < deadline) await sleep(100);
    }
  });

  after(async () => {
    for (const c of clients) for (const s of c.streams) s.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await tdb?.close();
  });

  for (const name of ['command', 'terminal'] as const) {
    it(`gives the ${name === 'command' ? 'command screen' : 'unit terminal'} every event once, in order, across the kill`, () => {
      const c = clients.find((x) => x.name === name)!;
      const received = c.streams.flatMap((s) => s.messages.filter((m) => m.type === 'event').map((m) => m.seq!));
      const want = expected.get(name)!;
      assert.ok(want.length > 20, `a stream of events (${want.length})`);
      assert.ok(c.streams[0]!.messages.some((m) => m.type === 'event'), 'events arrived on A before the kill');
      assert.ok(c.streams[1]!.messages.some((m) => m.type === 'event'), 'events arrived on B after the reconnect');
      assert.equal(c.streams[1]!.messages.filter((m) => m.type === 'resync').length, 0, 'resumed, not resynced');
      assert.deepEqual(received, want, 'the events received on A then B are exactly the database list');
    });
  }

  it('prints the figures', () => {
    for (const c of clients) {
      const onA = c.streams[0]!.messages.filter((m) => m.type === 'event').length;
      const onB = c.streams[1]!.messages.filter((m) => m.type === 'event');
      const received = [...c.streams[0]!.messages, ...c.streams[1]!.messages].filter((m) => m.type === 'event').map((m) => m.seq!);
      const want = expected.get(c.name)!;
      const got = new Set(received);
      const liveMsg = c.streams[1]!.messages.find((m) => m.type === 'live');
      figure(
        `two-instances[${c.name}] events_in_db=${want.length} received=${received.length} on_A=${onA} on_B=${onB.length} ` +
          `replayed_on_resume=${onB.filter((m) => m.seq! <= (liveMsg?.seq ?? 0)).length} missed=${want.filter((s) => !got.has(s)).length} ` +
          `duplicates=${received.length - got.size} resumed_from_seq=${c.resumedFrom} reconnect_ms=${c.liveOnB - killedAt}`,
      );
    }
    figure(`two-instances requests_on_B=${driver.planned} answered_2xx=${driver.acknowledged.length} failures=${driver.failures.length}`);
  });
});

if (skip) console.log(`two-instances: skipped (${skip})`);
