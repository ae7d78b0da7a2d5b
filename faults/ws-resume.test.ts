/**
 * Connections (issue 9, item 3): command screens and unit terminals that lose their WebSocket for
 * 1 s, 30 s and 5 min resume from their last seq and receive every missed event once, in order; a
 * client further behind than the replay window gets {type:"resync"} and a snapshot instead.
 *
 * A real server process, real `ws` clients, the faults load (intake → dispatch → acknowledged → on
 * scene → cleared, two units) generating events while the clients are away (FAULTS_WS_LONG_GAP_MS
 * shortens the 5-minute gap for a quick run). What a resumed client got
 * is compared with a reference client of the same scope that never disconnected, and that one with
 * the database once the server has stopped. The replay window is 500 events here (10,000 by default)
 * so that "too far behind" is reached with a few hundred requests: a burst of 100 incidents before the
 * timed gaps, then a slower load for the five minutes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectStream, type StreamClient, type StreamMessage } from '../apps/server/src/testing/ws-client.js';
import { FAULTS_PASSWORD } from './support/county.js';
import { LoadDriver, login, request } from './support/load.js';
import { startSeededServer, type SeededServer } from './support/seeded-server.js';

const WINDOW_EVENTS = 500;
const LONG_GAP_MS = Number(process.env.FAULTS_WS_LONG_GAP_MS ?? 5 * 60_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Screen {
  name: string;
  mode: 'command' | 'terminal';
  unitId?: string;
  token: string;
  /** Every connection's messages, in the order received. */
  messages: StreamMessage[];
  client: StreamClient;
  /** The last event seq seen before the connection was lost (what the web client keeps). */
  lastSeq: number;
  lostAt?: number;
  /** Events the last connection replayed before it went live. */
  replayed?: number;
}

describe('WebSocket resume after 1 s, 30 s and 5 min; resync beyond the replay window', { timeout: LONG_GAP_MS + 8 * 60_000 }, () => {
  let s: SeededServer;
  let base: string;
  let wsBase: string;
  let dispatcher: string;
  const officers: string[] = [];

  before(async () => {
    s = await startSeededServer({ units: 2, env: { PINGAN_WS_REPLAY_MAX_EVENTS: String(WINDOW_EVENTS), PINGAN_WS_REPLAY_MAX_MINUTES: '30' } });
    base = s.server.url;
    wsBase = base.replace('http:', 'ws:');
    dispatcher = await login(base, s.county.dispatcher, FAULTS_PASSWORD);
    for (const u of s.county.units) officers.push(await login(base, u.officer, FAULTS_PASSWORD));
  });
  after(async () => s?.close());

  const ticketFor = async (screen: Pick<Screen, 'mode' | 'unitId' | 'token'>) => {
    const r = screen.mode === 'terminal'
      ? await request(`${base}/api/units/${screen.unitId}/ticket`, { method: 'POST', token: screen.token, body: {} })
      : await request(`${base}/api/auth/ticket`, { method: 'POST', token: screen.token, body: { purpose: 'ws' } });
    assert.equal(r.status, 200, r.body);
    return (JSON.parse(r.body) as { ticket: string }).ticket;
  };
  const open = async (screen: Omit<Screen, 'client' | 'messages' | 'lastSeq'> & Partial<Screen>, since: number | null): Promise<Screen> => {
    const url = `${wsBase}/api/ws?mode=${screen.mode}&ticket=${encodeURIComponent(await ticketFor(screen))}${since === null ? '' : `&since=${since}`}`;
    const client = await connectStream(url);
    const messages = screen.messages ?? [];
    // One list per screen across connections, and the last seq kept as the web client keeps it.
    const take = (m: StreamMessage) => {
      messages.push(m);
      if (m.type === 'event' && typeof m.seq === 'number') screen.lastSeq = m.seq;
      if ((m.type === 'resync' || (m.type === 'live' && screen.lastSeq === undefined)) && typeof m.seq === 'number') screen.lastSeq = m.seq;
    };
    // Messages may have arrived before this line runs (they follow the handshake in the same packet):
    // take those first, then each new one as the client's own list grows.
    for (const m of client.messages) take(m);
    client.ws.on('message', () => take(client.messages.at(-1)!));
    const full = Object.assign(screen, { client, messages, lastSeq: screen.lastSeq ?? (undefined as unknown as number) }) as Screen;
    const live = await client.waitFor((m) => m.type === 'live', 60_000);
    full.replayed = client.messages.slice(0, client.messages.indexOf(live)).filter((m) => m.type === 'event').length;
    return full;
  };
  /** Drop the connection as a lost network does: no closing handshake. */
  const lose = (screen: Screen) => {
    screen.client.ws.terminate();
    screen.lostAt = screen.lastSeq;
  };
  const eventSeqs = (screen: Screen, after = 0) => screen.messages.filter((m) => m.type === 'event' && m.seq! > after).map((m) => m.seq!);

  it('replays every missed event once and in order, and resyncs a client too far behind', async () => {
    const [u1, u2] = s.county.units;
    const screen = (name: string, mode: 'command' | 'terminal', i?: number) => ({ name, mode, unitId: i === undefined ? undefined : s.county.units[i]!.id, token: i === undefined ? dispatcher : officers[i]! });
    const refCommand = await open(screen('reference command screen', 'command'), null);
    const refTerminal = [await open(screen('reference terminal 1', 'terminal', 0), null), await open(screen('reference terminal 2', 'terminal', 1), null)];
    const farCommand = await open(screen('command screen away for the whole test', 'command'), null);
    const farTerminal = await open(screen('terminal 1 away for the whole test', 'terminal', 0), null);
    const gaps: { screen: Screen; ms: number }[] = [
      { screen: await open(screen('command screen, 1 s', 'command'), null), ms: 1000 },
      { screen: await open(screen('command screen, 30 s', 'command'), null), ms: 30_000 },
      { screen: await open(screen('terminal 1, 30 s', 'terminal', 0), null), ms: 30_000 },
      { screen: await open(screen('command screen, 5 min', 'command'), null), ms: LONG_GAP_MS },
      { screen: await open(screen('terminal 2, 5 min', 'terminal', 1), null), ms: LONG_GAP_MS },
    ];
    lose(farCommand);
    lose(farTerminal);

    const lanes = [
      { unitId: u1!.id, officerToken: officers[0]! },
      { unitId: u2!.id, officerToken: officers[1]! },
    ];
    // Burst: the far clients fall behind the replay window.
    const burstStart = Date.now();
    const burst = new LoadDriver({ baseUrl: base, dispatcherToken: dispatcher, lanes, spares: [], spareEvery: 1_000_000, incidents: 120, seed: 31 });
    await burst.run();
    assert.deepEqual(burst.failures, [], 'every request of the burst answered 2xx');
    console.log(`figure: ws-resume burst of ${burst.acknowledged.length} requests in ${((Date.now() - burstStart) / 1000).toFixed(1)} s; reference command screen at seq ${refCommand.lastSeq}`);

    // The timed gaps, all lost at once while a slower load keeps making events.
    const slow = new LoadDriver({ baseUrl: base, dispatcherToken: dispatcher, lanes, spares: [], spareEvery: 1_000_000, incidents: 10_000, seed: 32, pauseMs: 2500 });
    const slowRun = slow.run();
    await sleep(1500);
    for (const g of gaps) lose(g.screen);
    const reconnectMs: Record<string, number> = {};
    // The load's pace leaves seconds between events: a short gap gets one of its own for sure.
    const intake = async (content: string) => {
      const r = await request(`${base}/api/incidents`, { method: 'POST', token: dispatcher, body: { content, category: 'public_order.fight', priority: 2, location: s.county.place } });
      assert.equal(r.status, 201, r.body);
      return JSON.parse(r.body) as { id: string };
    };
    await Promise.all(
      gaps.map(async (g) => {
        const away = Date.now();
        if (g.ms < 5000) await intake(`断线 ${g.ms} ms 期间的警情`);
        await sleep(Math.max(0, g.ms - (Date.now() - away)));
        const t0 = Date.now();
        await open(g.screen, g.screen.lastSeq);
        reconnectMs[g.screen.name] = Date.now() - t0;
      }),
    );
    slow.stop();
    await slowRun;
    assert.deepEqual(slow.failures, [], 'every request of the slow load answered 2xx');

    // A sentinel every scope sees: once a client has it, it has everything before it (seq order).
    const sentinel = await intake('哨兵：断线恢复检查');
    const sent = await request(`${base}/api/incidents/${sentinel.id}/dispatch`, { method: 'POST', token: dispatcher, body: { units: [{ unitId: u1!.id }, { unitId: u2!.id, role: 'support' }] } });
    assert.equal(sent.status, 201, sent.body);
    const isSentinel = (m: StreamMessage) => m.event === 'dispatch' && m.incidentId === sentinel.id;
    const everyone = [refCommand, ...refTerminal, ...gaps.map((g) => g.screen)];
    await Promise.all(everyone.map((x) => x.client.waitFor(isSentinel, 60_000)));
    const sentinelSeq = refCommand.messages.find(isSentinel)!.seq!;

    for (const { screen: x, ms } of gaps) {
      const ref = x.mode === 'command' ? refCommand : refTerminal[x.unitId === u1!.id ? 0 : 1]!;
      const all = eventSeqs(x);
      assert.deepEqual(all, [...new Set(all)].sort((a, b) => a - b), `${x.name}: every event once, in seq order`);
      const expected = eventSeqs(ref, x.lostAt!);
      assert.deepEqual(eventSeqs(x, x.lostAt!), expected, `${x.name}: after the gap, exactly what a client that never left received`);
      assert.ok(!x.messages.some((m) => m.type === 'resync'), `${x.name}: replayed, not resynced`);
      assert.ok(x.replayed! > 0, `${x.name}: events happened while it was away, and came in the replay`);
      console.log(`figure: ws-resume ${x.name}: away ${(ms / 1000).toFixed(0)} s, ${x.replayed} missed events replayed on reconnect (from seq ${x.lostAt}), ${expected.length} received since, each once in order (0 duplicates, 0 gaps), reconnect to live in ${reconnectMs[x.name]} ms`);
    }

    // The far clients: more than the window behind → resync with a snapshot, no replay.
    const farSince = farCommand.lastSeq;
    await open(farCommand, farSince);
    const resync = farCommand.client.messages.find((m) => m.type === 'resync');
    assert.ok(resync, 'the command screen far behind gets a resync');
    assert.equal(resync.reason, 'too_far_behind');
    assert.ok(resync.seq! >= sentinelSeq);
    assert.equal(farCommand.client.messages.filter((m) => m.type === 'event').length, 0, 'no replay after a resync');
    await open(farTerminal, farTerminal.lastSeq);
    const termResync = farTerminal.client.messages.find((m) => m.type === 'resync');
    assert.ok(termResync, 'the terminal far behind gets a resync');
    console.log(`figure: ws-resume far behind: ${resync.seq! - farSince} events since seq ${farSince} > window ${WINDOW_EVENTS} → resync with ${resync.snapshot!.incidents!.length} open incidents; terminal → resync with ${termResync.snapshot!.tasks!.length} open task(s)`);

    for (const x of [...everyone, farCommand, farTerminal]) x.client.close();
    await s.stopServer();
    const db = await s.database();

    // The reference clients against the database: the comparison above is against the truth.
    const countyPath = (await db.query<{ path: string }>('select path from jurisdiction_node where id = $1', [s.county.countyId]))[0]!.path;
    const inCounty = (await db.query<{ seq: string }>(`select seq from incident_event where node_path like $1 and seq > $2 and seq <= $3 order by seq`, [`${countyPath}%`, gaps[0]!.screen.lostAt!, sentinelSeq])).map((r) => Number(r.seq));
    assert.deepEqual(eventSeqs(refCommand, gaps[0]!.screen.lostAt!).filter((q) => q <= sentinelSeq), inCounty, 'the reference command screen got every event of the county');
    for (const [i, ref] of refTerminal.entries()) {
      const unitId = s.county.units[i]!.id;
      const mine = (await db.query<{ seq: string }>(`select seq from incident_event where $1 = any(unit_ids) and seq > $2 and seq <= $3 order by seq`, [unitId, gaps[0]!.screen.lostAt!, sentinelSeq])).map((r) => Number(r.seq));
      assert.deepEqual(eventSeqs(ref, gaps[0]!.screen.lostAt!).filter((q) => q <= sentinelSeq), mine, `${ref.name} got every event of its unit`);
    }
    const open_ = (await db.query<{ id: string }>(`select id from incident where node_path like $1 and status not in ('closed', 'merged')`, [`${countyPath}%`])).map((r) => r.id).sort();
    assert.deepEqual(resync.snapshot!.incidents!.map((i) => i.id).sort(), open_, 'the snapshot is the open incidents of the county');
    const tasks = (await db.query<{ id: string }>(`select id from incident_assignment where unit_id = $1 and status in ('dispatched', 'acknowledged', 'en_route', 'on_scene', 'returning')`, [u1!.id])).map((r) => r.id).sort();
    assert.deepEqual(termResync.snapshot!.tasks!.map((t) => t.assignmentId).sort(), tasks, 'the terminal snapshot is its unit\'s open tasks');
    assert.ok(tasks.length >= 1, 'the sentinel dispatch is an open task');
  });
});
