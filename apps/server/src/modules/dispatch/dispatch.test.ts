import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { buildApp } from '../../app.js';
import { createTestApp, type TestApp } from '../../testing/app.js';
import { TimerScheduler } from './timers.js';
import { unitsRuntime } from '../units/runtime.js';
import { sql } from 'drizzle-orm';
import { rows } from '../../platform/db/rows.js';
import { createNumberSequence, dropPastNumberSequences, nextNumber, numberSequenceOf } from './service.js';

interface WsMessage {
  type: string;
  seq?: number;
  event?: string;
  incidentId?: string;
  data?: Record<string, unknown>;
  briefing?: { calls: { callerPhone: string }[]; incident: { number: string }; plan: { name: string } };
}

/** A real WebSocket client that collects messages. */
async function connect(url: string): Promise<{ ws: WebSocket; messages: WsMessage[]; waitFor: (pred: (m: WsMessage) => boolean, ms?: number) => Promise<WsMessage>; close: () => void }> {
  const ws = new WebSocket(url);
  const messages: WsMessage[] = [];
  const waiters: { pred: (m: WsMessage) => boolean; resolve: (m: WsMessage) => void }[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw)) as WsMessage;
    messages.push(m);
    for (const w of [...waiters]) if (w.pred(m)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waitFor = (pred: (m: WsMessage) => boolean, ms = 5000) => {
    const found = messages.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<WsMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(messages.map((m) => m.event ?? m.type))}`)), ms);
      waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  };
  return { ws, messages, waitFor, close: () => ws.close() };
}

describe('call intake and dispatch', () => {
  let t: TestApp;
  let base: string;
  let unitA: string;
  let unitA2: string;
  let unitB: string;
  before(async () => {
    t = await createTestApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = t.app.server.address() as { port: number };
    base = `127.0.0.1:${addr.port}`;
    const mk = async (callSign: string, type: string, nodeCode: string, member?: string) => {
      const node = t.fx.nodes.get(nodeCode)!;
      const [u] = await t.ctx.database.query<{ id: string }>(
        `insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ($1, $1, $2, $3, $4, true) returning id`,
        [callSign, type, node.id, node.path],
      );
      if (member) await t.ctx.database.query('insert into unit_member (unit_id, user_id) values ($1, $2)', [u!.id, t.fx.userIds.get(member)]);
      return u!.id;
    };
    unitA = await mk('李鹊01', 'patrol_car', '370523106', 'community-officer.self');
    unitA2 = await mk('李鹊02', 'patrol_car', '370523106');
    unitB = await mk('大王01', 'patrol_car', '370523101');
    const now = Date.now();
    const meta = (callSign: string, path: string) => ({ callSign, type: 'patrol_car', path, accuracy: 5, speed: 0, heading: 0 });
    unitsRuntime(t.ctx).positions.set({ unitId: unitA, t: now, lon: 118.56, lat: 36.95, ...meta('李鹊01', t.fx.target.path) });
    unitsRuntime(t.ctx).positions.set({ unitId: unitA2, t: now - 10 * 60_000, lon: 118.551, lat: 36.951, ...meta('李鹊02', t.fx.target.path) });
    unitsRuntime(t.ctx).positions.set({ unitId: unitB, t: now, lon: 118.76, lat: 36.95, ...meta('大王01', t.fx.sibling.path) });
  });
  after(async () => t?.close());

  const intake = async (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.as('dispatcher', 'above', { method: 'POST', url: '/api/incidents', payload, headers });
  const fight = { content: '李鹊村东头有人打架，约五六人', category: 'public_order.fight', priority: 1, callerPhone: '13612345678', callerName: '王先生', location: { lon: 118.55, lat: 36.95 } };

  it('routes a call to the station and grid that own its location, in any coordinate system', async () => {
    const res = await intake(fight);
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json() as { number: string; routing: { stationName: string; chain: { code: string }[] } };
    assert.equal(body.routing.stationName, '李鹊派出所');
    assert.equal(body.routing.chain[0]!.code, '370523106001');
    assert.match(body.number, /^370523-\d{8}-\d{4}$/);
    const byAddress = await intake({ ...fight, location: undefined, address: '广饶县李鹊镇李鹊村网格东街' });
    assert.equal(byAddress.json().routing.stationName, '李鹊派出所');
  });

  it('numbers concurrent intakes of one day without gaps or repeats, and their events in commit order', async () => {
    const [{ seq: seqBefore }] = (await t.ctx.database.query<{ seq: number }>('select coalesce(max(seq), 0)::int as seq from incident_event')) as [{ seq: number }];
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => intake({ ...fight, content: `并发接警 ${i}`, location: { lon: 118.55 + i * 0.001, lat: 36.95 } })),
    );
    for (const a of answers) assert.equal(a.statusCode, 201, a.body);
    const suffixes = answers.map((a) => Number((a.json() as { number: string }).number.split('-')[2])).sort((x, y) => x - y);
    const first = suffixes[0]!;
    assert.deepEqual(suffixes, Array.from({ length: 12 }, (_, i) => first + i), 'twelve consecutive numbers');
    const events = await t.ctx.database.query<{ seq: number }>('select seq::int as seq from incident_event where seq > $1 order by seq', [seqBefore]);
    assert.deepEqual(events.map((e) => e.seq), Array.from({ length: events.length }, (_, i) => seqBefore + i + 1), 'event seqs are gapless');
    assert.ok(events.length >= 12);
  });

  it('starts a day\'s number sequence after what the day\'s counter row handed out, and never cuts a number short', async () => {
    const db = t.ctx.database.db;
    const day = numberSequenceOf('999999', new Date(Date.UTC(2099, 11, 31, 3)));
    assert.deepEqual(day, { prefix: '999999-20991231-', sequence: 'incident_number_999999_20991231' });
    await t.ctx.database.query('insert into incident_number_counter (prefix, last) values ($1, 9998)', [day.prefix]);
    await createNumberSequence(db, day);
    await createNumberSequence(db, day); // made once; a second call changes nothing
    const take = async () => (await rows<{ n: string }>(db, sql`select ${nextNumber(day)} as n`))[0]!.n;
    assert.equal(await take(), '999999-20991231-9999');
    assert.equal(await take(), '999999-20991231-10000');
    const fresh = numberSequenceOf('999998', new Date(Date.UTC(2099, 11, 31, 3)));
    await createNumberSequence(db, fresh);
    assert.equal((await rows<{ n: string }>(db, sql`select ${nextNumber(fresh)} as n`))[0]!.n, '999998-20991231-0001');
  });

  it('refuses a dispatch of an unknown, off-duty or busy unit, to a closed incident or from a neighbour, leaving nothing behind', async () => {
    // The assignments' write goes out beside the checks' reads (pipelined): each refusal must roll it back.
    const mk = async (callSign: string, onDuty: boolean) =>
      (await t.ctx.database.query<{ id: string }>(`insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ($1, $1, 'patrol_car', $2, $3, $4) returning id`, [callSign, t.fx.target.id, t.fx.target.path, onDuty]))[0]!.id;
    const free = await mk('李鹊拒01', true);
    const offDuty = await mk('李鹊拒02', false);
    const busy = await mk('李鹊拒03', true);
    const call = { ...fight, category: 'traffic.accident', location: { lon: 118.58, lat: 36.93 } };
    const other = (await intake({ ...call, content: '拒绝派警：占用' })).json() as { id: string; number: string };
    assert.equal((await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${other.id}/dispatch`, payload: { units: [{ unitId: busy }] } })).statusCode, 201);
    const { id } = (await intake({ ...call, content: '拒绝派警' })).json() as { id: string };
    const state = async () => {
      const [r] = await t.ctx.database.query<{ assignments: number; timers: number; events: number; status: string }>(
        `select (select count(*)::int from incident_assignment where incident_id = $1) as assignments,
                (select count(*)::int from incident_timer where incident_id = $1 and assignment_id is not null) as timers,
                (select count(*)::int from incident_event where incident_id = $1 and type = 'dispatch') as events,
                (select status from incident where id = $1) as status`,
        [id],
      );
      return r!;
    };
    const untouched = await state();
    assert.deepEqual(untouched, { assignments: 0, timers: 0, events: 0, status: 'new' });
    const send = (units: string[], role: 'dispatcher' | 'station_leader' = 'dispatcher', place: 'above' | 'sibling' = 'above') =>
      t.as(role, place, { method: 'POST', url: `/api/incidents/${id}/dispatch`, payload: { units: units.map((unitId) => ({ unitId })) } });
    const unknown = await send([free, '00000000-0000-4000-8000-000000000000']);
    assert.equal(unknown.statusCode, 422, unknown.body);
    assert.match(unknown.json().message, /is not a known unit/);
    const off = await send([free, offDuty]);
    assert.equal(off.statusCode, 422, off.body);
    assert.match(off.json().message, /李鹊拒02 is off duty/);
    const taken = await send([free, busy]);
    assert.equal(taken.statusCode, 409, taken.body);
    assert.match(taken.json().message, new RegExp(`李鹊拒03 \\(on ${other.number}\\)`));
    const neighbour = await send([free], 'station_leader', 'sibling');
    assert.equal(neighbour.statusCode, 403, neighbour.body);
    const twice = await send([free, free]);
    assert.equal(twice.statusCode, 422, twice.body);
    assert.deepEqual(await state(), untouched, 'no assignment, timer, event or status change stayed');
    // Closed: the write would have gone through, the check refuses it and nothing stays.
    await t.ctx.database.query(`update incident set status = 'closed' where id = $1`, [id]);
    const closed = await send([free]);
    assert.equal(closed.statusCode, 409, closed.body);
    assert.match(closed.json().message, /is closed; units cannot be sent/);
    assert.deepEqual(await state(), { ...untouched, status: 'closed' });
    await t.ctx.database.query(`update incident set status = 'new' where id = $1`, [id]);
    // And the same call with a free unit goes through.
    const ok = await send([free]);
    assert.equal(ok.statusCode, 201, ok.body);
    assert.deepEqual(await state(), { assignments: 1, timers: 2, events: 1, status: 'dispatched' });
    // Out of the way of the tests after this one (duplicates nearby, timers running).
    await t.ctx.database.query(`update incident_timer set cancelled_at = now() where incident_id = any($1::uuid[]) and cancelled_at is null`, [[id, other.id]]);
    await t.ctx.database.query(`update incident_assignment set status = 'cleared' where incident_id = any($1::uuid[])`, [[id, other.id]]);
    await t.ctx.database.query(`update incident set status = 'closed' where id = any($1::uuid[])`, [[id, other.id]]);
  });

  it('drops the number sequences of days before yesterday, and only those of the county', async () => {
    const db = t.ctx.database.db;
    const noon = new Date(Date.UTC(2099, 5, 10, 4)); // 2099-06-10 12:00 in Beijing
    const day = (county: string, daysBack: number) => numberSequenceOf(county, new Date(noon.getTime() - daysBack * 86400_000));
    for (const s of [day('888881', 3), day('888881', 2), day('888881', 1), day('888881', 0), day('888882', 5), day('88888', 4)]) await createNumberSequence(db, s);
    const dropped = await dropPastNumberSequences(db, '888881', noon);
    assert.deepEqual(dropped.sort(), ['incident_number_888881_20990607', 'incident_number_888881_20990608']);
    const left = await t.ctx.database.query<{ relname: string }>(`select relname from pg_class where relkind = 'S' and relname like 'incident_number_88888%'`);
    assert.deepEqual(left.map((r) => r.relname).sort(), ['incident_number_888881_20990609', 'incident_number_888881_20990610', 'incident_number_888882_20990605', 'incident_number_88888_20990606']);
    assert.deepEqual(await dropPastNumberSequences(db, '888881', noon), [], 'nothing more to drop');
    // Yesterday's numbers go on for an intake that began before midnight.
    assert.equal((await rows<{ n: string }>(db, sql`select ${nextNumber(day('888881', 1))} as n`))[0]!.n, '888881-20990609-0001');
  });

  it('sets the day\'s numbering up again when its sequence has gone (a restored backup), losing nothing', async () => {
    const first = await intake({ ...fight, category: 'traffic.accident', content: '编号序列测试' });
    assert.equal(first.statusCode, 201, first.body);
    const { sequence } = numberSequenceOf('370523', new Date());
    await t.ctx.database.query(`drop sequence ${sequence}`);
    const again = await intake({ ...fight, category: 'traffic.accident', content: '编号序列测试 2' });
    if (t.ctx.database.independent) {
      // The server's cache still named the sequence: one clear refusal, nothing stored, then numbering goes on.
      assert.equal(again.statusCode, 503, again.body);
      assert.match(again.json().message, /send the call again/);
      const [stored] = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from incident where content = '编号序列测试 2'`);
      assert.equal(stored!.n, 0);
    } else {
      assert.equal(again.statusCode, 201, again.body);
    }
    // Numbering goes on after the numbers the day's incidents hold, never reusing one.
    const next = await intake({ ...fight, category: 'traffic.accident', content: '编号序列测试 3' });
    assert.equal(next.statusCode, 201, next.body);
    const suffix = (r: typeof first) => Number((r.json() as { number: string }).number.split('-')[2]);
    assert.ok(suffix(next) > suffix(first), `${suffix(next)} follows ${suffix(first)}`);
  });

  it('flags a second call nearby as a likely duplicate, and a merge keeps both callers and can be undone', async () => {
    const first = (await intake(fight)).json() as { id: string };
    const second = (await intake({ ...fight, callerPhone: '13900001111', content: '打架的人还拿着棍子', location: { lon: 118.5505, lat: 36.9502 } })).json() as {
      id: string;
      possibleDuplicates: { id: string; distanceM: number }[];
    };
    assert.ok(second.possibleDuplicates.some((d) => d.id === first.id), 'the earlier fight 60 m away is flagged');
    const far = (await intake({ ...fight, location: { lon: 118.58, lat: 36.98 } })).json() as { possibleDuplicates: { id: string }[] };
    assert.ok(!far.possibleDuplicates.some((d) => d.id === first.id), 'a fight 4 km away is not');
    const other = (await intake({ ...fight, category: 'traffic.accident', content: '两车剐蹭' })).json() as { possibleDuplicates: { id: string }[] };
    assert.ok(!other.possibleDuplicates.some((d) => d.id === first.id), 'a traffic accident is not a duplicate of a fight');

    const merge = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${second.id}/merge`, payload: { intoIncidentId: first.id } });
    assert.equal(merge.statusCode, 200, merge.body);
    const merged = (await t.as('dispatcher', 'above', { url: `/api/incidents/${first.id}` })).json() as { calls: { callerPhone: string }[] };
    assert.deepEqual(merged.calls.map((c) => c.callerPhone).sort(), ['136****5678', '139****1111']);
    const undo = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${second.id}/unmerge` });
    assert.equal(undo.statusCode, 200);
    const back = (await t.as('dispatcher', 'above', { url: `/api/incidents/${first.id}` })).json() as { calls: unknown[]; events: { type: string }[] };
    assert.equal(back.calls.length, 1);
    assert.deepEqual(back.events.map((e) => e.type), ['intake', 'merge_received', 'merge_undone']);
  });

  it('shows caller details masked, in full only to a role that asks and may, and audits it', async () => {
    const { id } = (await intake(fight)).json() as { id: string };
    const masked = (await t.as('inspector', 'above', { url: `/api/incidents/${id}` })).json() as { calls: { callerPhone: string; callerName: string }[] };
    assert.equal(masked.calls[0]!.callerPhone, '136****5678');
    assert.equal(masked.calls[0]!.callerName, '王**');
    assert.equal((await t.as('inspector', 'above', { url: `/api/incidents/${id}?reveal=caller` })).statusCode, 403);
    const full = (await t.as('dispatcher', 'above', { url: `/api/incidents/${id}?reveal=caller` })).json() as { calls: { callerPhone: string }[] };
    assert.equal(full.calls[0]!.callerPhone, '13612345678');
    const [a] = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'personal_data.read' and entity_id = $1`, [id]);
    assert.equal(a!.n, 1);
  });

  it('recommends by ETA with reasons, marks stale positions, fills the plan and says what is missing', async () => {
    await t.ctx.database.query(`insert into response_plan (node_id, category, max_priority, requirements, name) values ($1, 'public_order', 2, '[{"unitType":"patrol_car","count":5}]', '聚众斗殴：5 车')`, [t.fx.nodes.get('370523')!.id]);
    const { id } = (await intake(fight)).json() as { id: string };
    const rec = (await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/recommendation` })).json() as {
      plan: { name: string };
      picks: { callSign: string; reasons: string[]; etaSeconds: number }[];
      others: { callSign: string; stale: boolean; reasons: string[] }[];
      missing: { unitType: string; count: number }[];
    };
    assert.equal(rec.plan.name, '聚众斗殴：5 车');
    assert.deepEqual(rec.picks.map((p) => p.callSign), ['李鹊01', '大王01']);
    assert.ok(rec.picks[0]!.reasons.includes('nearest') && rec.picks[0]!.reasons.includes('in zone'));
    assert.ok(rec.picks[1]!.reasons.includes('cross-boundary support'));
    // 900 m at 40 km/h ≈ 81 s.
    assert.ok(Math.abs(rec.picks[0]!.etaSeconds - 81) <= 3, `eta ${rec.picks[0]!.etaSeconds}`);
    const stale = rec.others.find((o) => o.callSign === '李鹊02');
    assert.ok(stale?.stale, 'the unit whose position is 10 minutes old is marked stale, not used for the plan');
    assert.deepEqual(rec.missing, [{ unitType: 'patrol_car', count: 3 }]);
    const log = (await t.as('dispatcher', 'above', { url: `/api/incidents/${id}/log` })).json() as { events: { type: string }[] };
    assert.ok(log.events.some((e) => e.type === 'recommendation_shown'));
  });

  it('pushes a dispatch to the unit terminal with everything needed, and changes to the command screens above only', async () => {
    const ticket = async (role: Parameters<TestApp['as']>[0], place: Parameters<TestApp['as']>[1], purpose: 'ws' | 'terminal', unitId?: string) =>
      (unitId
        ? await t.as(role, place, { method: 'POST', url: `/api/units/${unitId}/ticket` })
        : await t.as(role, place, { method: 'POST', url: '/api/auth/ticket', payload: { purpose } })
      ).json().ticket as string;
    const terminal = await connect(`ws://${base}/api/ws?ticket=${await ticket('community_officer', 'self', 'terminal', unitA)}`);
    const county = await connect(`ws://${base}/api/ws?ticket=${await ticket('dispatcher', 'above', 'ws')}`);
    const neighbour = await connect(`ws://${base}/api/ws?ticket=${await ticket('station_leader', 'sibling', 'ws')}`);
    await Promise.all([terminal.waitFor((m) => m.type === 'live'), county.waitFor((m) => m.type === 'live'), neighbour.waitFor((m) => m.type === 'live')]);

    const { id, number } = (await intake(fight)).json() as { id: string; number: string };
    await county.waitFor((m) => m.event === 'intake' && m.incidentId === id);
    const sent = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/dispatch`, payload: { units: [{ unitId: unitA, reason: 'nearest' }] } });
    assert.equal(sent.statusCode, 201, sent.body);
    const pushed = await terminal.waitFor((m) => m.event === 'dispatch' && m.incidentId === id);
    assert.equal(pushed.briefing!.incident.number, number);
    assert.equal(pushed.briefing!.calls[0]!.callerPhone, '13612345678', 'the officer gets the caller phone: no call-back needed');
    assert.ok(pushed.briefing!.plan.name);
    await county.waitFor((m) => m.event === 'dispatch' && m.incidentId === id);
    await t.app.dispatchHub.settled();
    assert.ok(!neighbour.messages.some((m) => m.incidentId === id), 'the neighbouring station sees nothing of it');
    assert.ok(!terminal.messages.some((m) => m.event === 'intake'), 'a terminal gets only its own unit\'s events');

    // The officer answers from the terminal: acknowledged, then on scene, with positions.
    const assignmentId = (sent.json() as { assignments: { assignmentId: string }[] }).assignments[0]!.assignmentId;
    const ack = await t.as('community_officer', 'self', { method: 'POST', url: `/api/assignments/${assignmentId}/status`, payload: { status: 'acknowledged', lon: 118.56, lat: 36.95 } });
    assert.equal(ack.statusCode, 200, ack.body);
    await county.waitFor((m) => m.event === 'unit_status' && m.data?.status === 'acknowledged');
    const illegal = await t.as('community_officer', 'self', { method: 'POST', url: `/api/assignments/${assignmentId}/status`, payload: { status: 'cleared' } });
    assert.equal(illegal.statusCode, 409);
    assert.match(illegal.json().message, /cannot become cleared/);
    const notMine = await t.as('auxiliary', 'self', { method: 'POST', url: `/api/assignments/${assignmentId}/status`, payload: { status: 'on_scene' } });
    assert.equal(notMine.statusCode, 403, 'an auxiliary who is not on the unit may not change its status');
    await t.as('community_officer', 'self', { method: 'POST', url: `/api/assignments/${assignmentId}/status`, payload: { status: 'on_scene', lon: 118.5501, lat: 36.9501 } });
    const detail = (await t.as('dispatcher', 'above', { url: `/api/incidents/${id}` })).json() as {
      status: string;
      assignments: { acknowledgedAt: string | null; enRouteAt: string | null; onSceneAt: string | null }[];
      timers: { kind: string; state: string }[];
    };
    assert.equal(detail.status, 'on_scene');
    assert.ok(detail.assignments[0]!.acknowledgedAt && detail.assignments[0]!.onSceneAt);
    assert.deepEqual(detail.timers.map((x) => `${x.kind}:${x.state}`).sort(), ['acknowledge:met', 'arrive:met']);

    const close = await t.as('community_officer', 'self', { method: 'POST', url: `/api/incidents/${id}/close`, payload: { disposition: 'mediated', result: '双方已和解' } });
    assert.equal(close.statusCode, 200);
    await terminal.waitFor((m) => m.event === 'closed' && m.incidentId === id);

    // A client that lost its connection resumes from its last seq and misses nothing.
    const lastSeen = county.messages.filter((m) => m.seq).at(-1)!.seq!;
    county.close();
    const missed = (await intake({ ...fight, content: '断线期间的新警情' })).json() as { id: string };
    const resumed = await connect(`ws://${base}/api/ws?ticket=${await ticket('dispatcher', 'above', 'ws')}&since=${lastSeen}`);
    const replayed = await resumed.waitFor((m) => m.event === 'intake' && m.incidentId === missed.id);
    assert.ok(replayed.seq! > lastSeen);
    const seqs = resumed.messages.filter((m) => m.seq).map((m) => m.seq!);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order');
    terminal.close();
    neighbour.close();
    resumed.close();
  });

  it('runs the 1-3-5 timers on the server: warning, then escalation at breach, and they survive a restart', async () => {
    const { id } = (await intake(fight)).json() as { id: string };
    await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/dispatch`, payload: { units: [{ unitId: unitA2 }] } });
    let clock = Date.now();
    const scheduler = new TimerScheduler(t.ctx.database, t.ctx.bus, () => new Date(clock));
    clock += 50_000; // 80% of the 1-minute acknowledge target has passed
    assert.deepEqual(await scheduler.tick(), { warnings: 1, breaches: 0 });
    clock += 15_000;
    assert.deepEqual(await scheduler.tick(), { warnings: 0, breaches: 1 });

    // "Restart": a new app on the same database picks up the arrive timer (not core: 5 minutes).
    const second = await buildApp({ ...t.ctx }, { logger: false });
    await second.ready();
    try {
      const after = new TimerScheduler(t.ctx.database, t.ctx.bus, () => new Date(clock + 5 * 60_000));
      const r = await after.tick();
      assert.equal(r.breaches, 1, 'the arrive timer breaches after the restart');
    } finally {
      await second.close();
    }
    const detail = (await t.as('dispatcher', 'above', { url: `/api/incidents/${id}` })).json() as { events: { type: string; data: { kind?: string; notify?: string[] } }[] };
    const escalations = detail.events.filter((e) => e.type === 'escalation');
    assert.deepEqual(escalations.map((e) => e.data.kind), ['acknowledge', 'arrive']);
    assert.deepEqual(escalations[0]!.data.notify, ['station_leader', 'dispatcher']);
  });

  it('reassigns a unit that has not arrived to another in one step', async () => {
    const { id } = (await intake(fight)).json() as { id: string };
    const mk = async (cs: string) =>
      (await t.ctx.database.query<{ id: string }>(`insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ($1, $1, 'patrol_car', $2, $3, true) returning id`, [cs, t.fx.target.id, t.fx.target.path]))[0]!.id;
    const first = await mk('李鹊21');
    const second = await mk('李鹊22');
    const sent = (await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/dispatch`, payload: { units: [{ unitId: first }] } })).json() as { assignments: { assignmentId: string }[] };
    const re = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/assignments/${sent.assignments[0]!.assignmentId}/reassign`, payload: { unitId: second, reason: '原车辆故障' } });
    assert.equal(re.statusCode, 201, re.body);
    const d = (await t.as('dispatcher', 'above', { url: `/api/incidents/${id}` })).json() as { assignments: { unitId: string; status: string }[]; timers: { assignmentId: string; state: string }[] };
    assert.deepEqual(d.assignments.map((a) => [a.unitId, a.status]), [[first, 'cancelled'], [second, 'dispatched']]);
    assert.ok(d.timers.filter((x) => x.assignmentId === sent.assignments[0]!.assignmentId).every((x) => x.state === 'cancelled'));
    const again = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/assignments/${sent.assignments[0]!.assignmentId}/reassign`, payload: { unitId: first } });
    assert.equal(again.statusCode, 409, 'a cancelled assignment cannot be reassigned again');
  });

  it("lists a terminal's own open assignments, and a jurisdiction's, never a neighbour's", async () => {
    const { id } = (await intake(fight)).json() as { id: string };
    const [u] = await t.ctx.database.query<{ id: string }>(
      `insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ('李鹊31', '李鹊31', 'patrol_car', $1, $2, true) returning id`,
      [t.fx.target.id, t.fx.target.path],
    );
    await t.ctx.database.query('insert into unit_member (unit_id, user_id) values ($1, $2)', [u!.id, t.fx.userIds.get('volunteer.self')]);
    await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/dispatch`, payload: { units: [{ unitId: u!.id }] } });
    const mine = (await t.as('volunteer', 'self', { url: '/api/assignments?mine=true' })).json() as { items: { unitId: string; incident: { id: string } }[] };
    assert.deepEqual(mine.items.map((a) => a.incident.id), [id]);
    const station = (await t.as('station_leader', 'self', { url: '/api/assignments' })).json() as { items: { unitId: string }[] };
    assert.ok(station.items.some((a) => a.unitId === u!.id));
    const neighbour = (await t.as('station_leader', 'sibling', { url: '/api/assignments' })).json() as { items: { unitId: string }[] };
    assert.ok(!neighbour.items.some((a) => a.unitId === u!.id));
  });

  it('applies 1-3-5 targets configured for the jurisdiction (nearest ancestor wins)', async () => {
    const put = await t.as('station_leader', 'self', { method: 'PUT', url: `/api/dispatch/targets/${t.fx.target.id}`, payload: { acknowledgeSeconds: 45, arriveOtherSeconds: 240 } });
    assert.equal(put.statusCode, 200, put.body);
    const inherited = (await t.as('grid_worker', 'below', { url: `/api/dispatch/targets/${t.fx.nodes.get('370523106001')!.id}` })).json() as { acknowledgeSeconds: number; inherited: boolean };
    assert.deepEqual([inherited.acknowledgeSeconds, inherited.inherited], [45, true]);
    const bad = await t.as('station_leader', 'self', { method: 'PUT', url: `/api/dispatch/targets/${t.fx.target.id}`, payload: { arriveCoreSeconds: 600, arriveOtherSeconds: 300 } });
    assert.equal(bad.statusCode, 422);
    const { id } = (await intake(fight)).json() as { id: string };
    const spare = await t.ctx.database.query<{ id: string }>(
      `insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ('李鹊09', '李鹊09', 'patrol_car', $1, $2, true) returning id`,
      [t.fx.target.id, t.fx.target.path],
    );
    const sent = await t.as('station_leader', 'self', { method: 'POST', url: `/api/incidents/${id}/dispatch`, payload: { units: [{ unitId: spare[0]!.id }] } });
    assert.equal(sent.statusCode, 201, sent.body);
    const detail = (await t.as('station_leader', 'self', { url: `/api/incidents/${id}` })).json() as { timers: { kind: string; startedAt: string; dueAt: string }[] };
    const seconds = (kind: string) => {
      const x = detail.timers.find((tm) => tm.kind === kind)!;
      return (Date.parse(x.dueAt) - Date.parse(x.startedAt)) / 1000;
    };
    assert.equal(seconds('acknowledge'), 45);
    assert.equal(seconds('arrive'), 240);
    await t.as('station_leader', 'self', { method: 'PUT', url: `/api/dispatch/targets/${t.fx.target.id}`, payload: { acknowledgeSeconds: 60, arriveOtherSeconds: 300 } });
  });

  it('diverts a non-police incident to a partner department, who accept and report back', async () => {
    const [dept] = await t.ctx.database.query<{ id: string }>(
      `insert into partner_department (node_id, code, name, categories) values ($1, 'cg', '广饶县综合行政执法局', '{non_police}') returning id`,
      [t.fx.nodes.get('370523')!.id],
    );
    await t.ctx.database.query('insert into partner_member (user_id, department_id) values ($1, $2)', [t.fx.userIds.get('partner-staff.above'), dept!.id]);
    const { id, nonPolice } = (await intake({ ...fight, category: 'non_police.city_management', content: '占道经营堵塞路口' })).json() as { id: string; nonPolice: boolean };
    assert.equal(nonPolice, true);
    const divert = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/divert`, payload: { departmentId: dept!.id, note: '请派员处理' } });
    assert.equal(divert.statusCode, 201);
    const inbox = (await t.as('partner_staff', 'above', { url: '/api/diversions?status=pending' })).json() as { items: { id: string; number: string }[] };
    assert.equal(inbox.items.length, 1);
    const stranger = await t.as('partner_staff', 'self', { method: 'POST', url: `/api/diversions/${inbox.items[0]!.id}/accept` });
    assert.equal(stranger.statusCode, 403, 'staff of no department or another one may not answer it');
    assert.equal((await t.as('partner_staff', 'above', { method: 'POST', url: `/api/diversions/${inbox.items[0]!.id}/accept` })).statusCode, 200);
    const report = await t.as('partner_staff', 'above', { method: 'POST', url: `/api/diversions/${inbox.items[0]!.id}/report`, payload: { report: '已清理，摊主已教育' } });
    assert.equal(report.statusCode, 200);
    const detail = (await t.as('dispatcher', 'above', { url: `/api/incidents/${id}` })).json() as { status: string; diversions: { status: string }[] };
    assert.equal(detail.status, 'closed');
    assert.equal(detail.diversions[0]!.status, 'handled');
  });

  it('lets leaders above instruct and supervise; exports the log and an EIDO document', async () => {
    const { id, number } = (await intake(fight)).json() as { id: string; number: string };
    const ins = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/instructions`, payload: { text: '带足警力，注意安全', supervision: 'red' } });
    assert.equal(ins.statusCode, 200);
    const eido = (await t.as('station_leader', 'self', { url: `/api/incidents/${id}/eido` })).json() as {
      incidentComponent: { incidentTrackingIdentifier: string }[];
      callComponent: { callbackNumber: string }[];
      notesComponent: { noteText: string }[];
      agencyComponent: { agencyName: string }[];
    };
    assert.equal(eido.incidentComponent[0]!.incidentTrackingIdentifier, number);
    assert.equal(eido.callComponent[0]!.callbackNumber, '136****5678');
    assert.equal(eido.agencyComponent[0]!.agencyName, '李鹊派出所');
    assert.deepEqual(eido.notesComponent.map((n) => n.noteText), ['intake', 'instruction']);
    const summary = (await t.as('station_leader', 'self', { url: `/api/incidents/${id}` })).json() as { supervision: string };
    assert.equal(summary.supervision, 'red');
  });

  it('never creates two incidents for one call retried with the same Idempotency-Key', async () => {
    const a = await intake({ ...fight, content: '重试的警情' }, { 'idempotency-key': 'call-7781' });
    const b = await intake({ ...fight, content: '重试的警情' }, { 'idempotency-key': 'call-7781' });
    assert.equal(a.statusCode, 201);
    assert.equal(b.json().id, a.json().id);
    const [n] = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from incident where content = '重试的警情'`);
    assert.equal(n!.n, 1);
  });

  it('stores and streams call audio of bounded type and size, auditing each play', async () => {
    const { id } = (await intake(fight)).json() as { id: string };
    const [call] = await t.ctx.database.query<{ id: string }>('select id from incident_call where incident_id = $1', [id]);
    const wrong = await t.as('dispatcher', 'above', { method: 'PUT', url: `/api/incident-calls/${call!.id}/audio`, headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    assert.equal(wrong.statusCode, 415);
    const audio = Buffer.from('RIFF....WAVEfmt fake wave data');
    assert.equal((await t.as('dispatcher', 'above', { method: 'PUT', url: `/api/incident-calls/${call!.id}/audio`, headers: { 'content-type': 'audio/wav' }, payload: audio })).statusCode, 204);
    const played = await t.as('community_officer', 'self', { url: `/api/incident-calls/${call!.id}/audio` });
    assert.equal(played.statusCode, 200);
    assert.equal(played.headers['content-type'], 'audio/wav');
    assert.deepEqual(played.rawPayload, audio);
  });
});
