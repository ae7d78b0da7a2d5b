import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../testing/app.js';
import { testEngine } from '../../testing/database.js';
import { connectStream } from '../../testing/ws-client.js';
import { INCIDENT_EVENTS } from './events.js';
import { IntakeBody } from './model.js';
import { createDispatchService } from './service.js';
import type { Actor } from '../../platform/access.js';

/** The bounded replay window of the incident stream: replay inside it, resync + snapshot beyond it. */
describe('incident stream: resume or resync', () => {
  let t: TestApp;
  let base: string;
  let unitA: string;
  const fight = { content: '李鹊村东头有人打架', category: 'public_order.fight', priority: 1, callerPhone: '13612345678', location: { lon: 118.55, lat: 36.95 } };
  const intake = async () => {
    const res = await t.as('dispatcher', 'above', { method: 'POST', url: '/api/incidents', payload: fight });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; number: string };
  };
  const ticket = async (purpose: 'ws') => (await t.as('dispatcher', 'above', { method: 'POST', url: '/api/auth/ticket', payload: { purpose } })).json().ticket as string;
  const command = async (since?: number) => connectStream(`ws://${base}/api/ws?ticket=${encodeURIComponent(await ticket('ws'))}${since === undefined ? '' : `&since=${since}`}`);
  const defaults = { maxEvents: 10_000, maxAgeMs: 30 * 60_000 };

  before(async () => {
    t = await createTestApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    const node = t.fx.target;
    const [u] = await t.ctx.database.query<{ id: string }>(
      `insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ('李鹊01', '李鹊01', 'patrol_car', $1, $2, true) returning id`,
      [node.id, node.path],
    );
    unitA = u!.id;
    await t.ctx.database.query('insert into unit_member (unit_id, user_id) values ($1, $2)', [unitA, t.fx.userIds.get('community-officer.self')]);
  });
  beforeEach(() => {
    Object.assign(t.app.dispatchHub.replay, defaults, { now: () => new Date() });
  });
  after(async () => t?.close());

  it('replays every missed event once, in order, inside the window', async () => {
    const first = await command();
    const live = await first.waitFor((m) => m.type === 'live');
    first.close();
    const made = [await intake(), await intake(), await intake()];
    await t.app.dispatchHub.settled();
    const resumed = await command(live.seq);
    await resumed.waitFor((m) => m.type === 'live');
    const events = resumed.messages.filter((m) => m.type === 'event');
    assert.deepEqual(events.filter((m) => m.event === 'intake').map((m) => m.incidentId), made.map((m) => m.id));
    const seqs = events.map((m) => m.seq!);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), 'once each, in seq order');
    assert.ok(!resumed.messages.some((m) => m.type === 'resync'));
    resumed.close();
  });

  it('resyncs with a snapshot of the open incidents when more events were missed than the window holds', async () => {
    const first = await command();
    const live = await first.waitFor((m) => m.type === 'live');
    first.close();
    const made = [await intake(), await intake(), await intake()];
    await t.app.dispatchHub.settled();
    t.app.dispatchHub.replay.maxEvents = 2;
    const resumed = await command(live.seq);
    const resync = await resumed.waitFor((m) => m.type === 'resync');
    assert.equal(resync.reason, 'too_far_behind');
    assert.equal(resync.since, live.seq);
    assert.equal(resync.seq, t.app.dispatchHub.currentSeq);
    const ids = new Set(resync.snapshot!.incidents!.map((i) => i.id));
    for (const m of made) assert.ok(ids.has(m.id), `the snapshot holds ${m.number}`);
    await resumed.waitFor((m) => m.type === 'live');
    assert.ok(!resumed.messages.some((m) => m.type === 'event'), 'no replay after a resync');
    // Live from the resync's seq on.
    const next = await intake();
    const pushed = await resumed.waitFor((m) => m.event === 'intake' && m.incidentId === next.id);
    assert.ok(pushed.seq! > resync.seq!);
    resumed.close();
  });

  it('resyncs when the first missed event is older than the window, and when the seq is unknown here', async () => {
    const first = await command();
    const live = await first.waitFor((m) => m.type === 'live');
    first.close();
    await intake();
    await t.app.dispatchHub.settled();
    t.app.dispatchHub.replay.now = () => new Date(Date.now() + 31 * 60_000);
    const old = await command(live.seq);
    assert.equal((await old.waitFor((m) => m.type === 'resync')).reason, 'too_far_behind');
    old.close();
    t.app.dispatchHub.replay.now = () => new Date();
    // A seq from another database (restored backup, a reset demo): never silently waits for it.
    const future = await command(t.app.dispatchHub.currentSeq + 1000);
    const resync = await future.waitFor((m) => m.type === 'resync');
    assert.equal(resync.reason, 'unknown_seq');
    await future.waitFor((m) => m.type === 'live');
    future.close();
  });

  it('gives a terminal its units\' open tasks with the briefing and instructions', async () => {
    const { id, number } = await intake();
    const sent = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/dispatch`, payload: { units: [{ unitId: unitA }] } });
    assert.equal(sent.statusCode, 201, sent.body);
    const instruction = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/instructions`, payload: { text: '注意安全' } });
    assert.ok(instruction.statusCode < 300, instruction.body);
    await t.app.dispatchHub.settled();
    t.app.dispatchHub.replay.maxEvents = 0;
    const unitTicket = (await t.as('community_officer', 'self', { method: 'POST', url: `/api/units/${unitA}/ticket` })).json().ticket as string;
    const terminal = await connectStream(`ws://${base}/api/ws?ticket=${encodeURIComponent(unitTicket)}&since=0`);
    const resync = await terminal.waitFor((m) => m.type === 'resync');
    const task = resync.snapshot!.tasks!.find((x) => x.incidentId === id);
    assert.ok(task, JSON.stringify(resync.snapshot));
    assert.equal(task.unitId, unitA);
    assert.equal(task.status, 'dispatched');
    assert.equal(task.briefing!.incident.number, number);
    assert.deepEqual(task.instructions, ['注意安全']);
    terminal.close();
  });

  it('pushes a dispatch to a live terminal with its briefing; on PostgreSQL from the read behind the commit', async () => {
    // A unit of its own (the one above is out on a task).
    const [u] = await t.ctx.database.query<{ id: string }>(
      `insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ('李鹊02', '李鹊02', 'patrol_car', $1, $2, true) returning id`,
      [t.fx.target.id, t.fx.target.path],
    );
    const unitB = u!.id;
    await t.ctx.database.query('insert into unit_member (unit_id, user_id) values ($1, $2)', [unitB, t.fx.userIds.get('community-officer.self')]);
    const unitTicket = (await t.as('community_officer', 'self', { method: 'POST', url: `/api/units/${unitB}/ticket` })).json().ticket as string;
    const terminal = await connectStream(`ws://${base}/api/ws?ticket=${encodeURIComponent(unitTicket)}`);
    await terminal.waitFor((m) => m.type === 'live');
    const hub = t.app.dispatchHub;
    const before = hub.stats.prefetched;
    const { id, number } = await intake();
    const sent = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/dispatch`, payload: { units: [{ unitId: unitB }] } });
    assert.equal(sent.statusCode, 201, sent.body);
    const pushed = await terminal.waitFor((m) => m.event === 'dispatch' && m.incidentId === id);
    const briefing = (pushed as unknown as { briefing: { incident: { number: string }; calls: { callerPhone: string | null }[] } }).briefing;
    assert.equal(briefing.incident.number, number);
    assert.equal(briefing.calls.length, 1, 'the caller is in the briefing');
    await hub.settled();
    // The pipelined pool reads events (and the briefing) behind the commit; PGlite's hub reads them itself.
    if (testEngine() === 'postgres') assert.ok(hub.stats.prefetched >= before + 2, `${hub.stats.prefetched - before} events came with their commits`);
    else assert.equal(hub.stats.prefetched, before);
    // A read behind a commit that starts past the hub's position would leave a gap: it is never pushed.
    const seq = hub.currentSeq;
    const ghost = { seq: seq + 7, incidentId: id, at: new Date(), type: 'instruction', actorId: null, nodePath: '/', unitIds: [unitB], data: { text: 'ghost' } };
    hub.offer({ after: seq + 6, events: [ghost], briefings: new Map() });
    t.ctx.bus.publishLocal(INCIDENT_EVENTS, {});
    await hub.settled();
    assert.equal(hub.currentSeq, seq, 'the hub read on from its own position and found nothing new');
    assert.ok(!terminal.messages.some((m) => m.seq === seq + 7));
    terminal.close();
  });
  it('leaves nothing unhandled when a transaction whose events were to be read behind its commit rolls back', async () => {
    // The read behind the commit (PostgreSQL) is awaited only when the commit is announced; a caller's
    // transaction that gives up announces nothing, and the read's failure must not end the process.
    const unhandled: unknown[] = [];
    const listen = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', listen);
    try {
      const service = createDispatchService(t.ctx);
      service.feedHub(t.app.dispatchHub);
      const above = t.fx.nodes.get('370523')!;
      const actor: Actor = { userId: t.fx.userIds.get('dispatcher.above')!, username: 'dispatcher.above', displayName: '指挥中心', role: 'dispatcher', nodeId: above.id, nodePath: above.path, sessionId: null, ip: null };
      const count = async () => (await t.ctx.database.query<{ n: number }>('select count(*)::int as n from incident'))[0]!.n;
      const before = await count();
      await assert.rejects(
        t.ctx.database.db.transaction(async (tx) => {
          await service.intake(actor, IntakeBody.parse({ ...fight, content: '回滚的警情' }), tx);
          throw new Error('the caller gives up');
        }),
        /the caller gives up/,
      );
      await new Promise((r) => setTimeout(r, 100)); // unhandled rejections are reported after the turn
      assert.deepEqual(unhandled.map(String), []);
      assert.equal(await count(), before, 'nothing of the rolled-back intake stayed');
    } finally {
      process.off('unhandledRejection', listen);
    }
  });
});
