import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { Role } from '@pingan/contracts';
import { createTestApp, type Placement, type TestApp } from '../../testing/app.js';

interface Pushed {
  type: string;
  full?: boolean;
  items?: { unitId: string; callSign: string; lon: number; lat: number; t: string; stale: boolean }[];
  removed?: string[];
}

/** A real WebSocket client that keeps every positions message. */
async function screen(url: string) {
  const ws = new WebSocket(url);
  const got: Pushed[] = [];
  const waiters: { pred: (m: Pushed) => boolean; resolve: (m: Pushed) => void }[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw)) as Pushed;
    if (m.type !== 'positions') return;
    got.push(m);
    for (const w of [...waiters]) if (w.pred(m)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waitFor = (pred: (m: Pushed) => boolean, what: string, ms = 8000) => {
    const found = got.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<Pushed>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(got)}`)), ms);
      waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  };
  const units = () => new Set(got.flatMap((m) => [...(m.items ?? []).map((i) => i.unitId), ...(m.removed ?? [])]));
  return { ws, got, waitFor, units, close: () => ws.close() };
}

describe('live unit positions pushed to command screens', () => {
  let t: TestApp;
  let base: string;
  let unitA: string;
  let unitB: string;
  before(async () => {
    // Fast ticks so the test does not wait on the defaults (250 ms fan-out, 1 s push).
    process.env.PINGAN_AVL_PUBLISH_MS = '50';
    process.env.PINGAN_POSITION_PUSH_MS = '100';
    try {
      t = await createTestApp();
    } finally {
      delete process.env.PINGAN_AVL_PUBLISH_MS;
      delete process.env.PINGAN_POSITION_PUSH_MS;
    }
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    const mk = async (callSign: string, nodeCode: string) => {
      const node = t.fx.nodes.get(nodeCode)!;
      const [u] = await t.ctx.database.query<{ id: string }>(
        `insert into unit (call_sign, name, type, home_node_id, path, on_duty, duty_changed_at) values ($1, $1, 'patrol_car', $2, $3, true, now() - interval '1 hour') returning id`,
        [callSign, node.id, node.path],
      );
      return u!.id;
    };
    unitA = await mk('李鹊巡01', '370523106');
    unitB = await mk('大王巡01', '370523101');
  });
  after(async () => t?.close());

  const connect = async (role: Role, place: Placement, mode = 'command') => {
    const ticket = (await t.as(role, place, { method: 'POST', url: '/api/auth/ticket', payload: { purpose: 'ws' } })).json().ticket as string;
    return screen(`ws://${base}/api/ws?ticket=${ticket}&mode=${mode}`);
  };
  let clock = Date.now() - 60_000;
  /** A position reported by staff of the unit's own station (a duty role that covers it). */
  const report = async (place: Placement, unitId: string, lon: number, lat: number) => {
    clock += 5_000;
    const res = await t.as('station_leader', place, { method: 'POST', url: '/api/units/positions', payload: { unitId, points: [{ t: clock, lon, lat, accuracy: 5 }] } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().stored, 1, res.body);
  };
  const has = (unitId: string, lon: number) => (m: Pushed) => !!m.items?.some((i) => i.unitId === unitId && i.lon === lon);

  it('reaches the screens of the unit’s station and above, never a sibling station’s', async () => {
    const own = await connect('station_leader', 'self');
    const sibling = await connect('station_leader', 'sibling');
    const county = await connect('dispatcher', 'above');
    // Each screen starts with a snapshot of its jurisdiction.
    await Promise.all([own, sibling, county].map((s) => s.waitFor((m) => m.full === true, 'snapshot')));

    await report('self', unitA, 118.561, 36.951);
    const mine = await own.waitFor(has(unitA, 118.561), 'unit A on its station’s screen');
    assert.equal(mine.items!.find((i) => i.unitId === unitA)!.callSign, '李鹊巡01');
    await county.waitFor(has(unitA, 118.561), 'unit A on the county screen');

    await report('sibling', unitB, 118.801, 36.951);
    await sibling.waitFor(has(unitB, 118.801), 'unit B on its station’s screen');
    await county.waitFor(has(unitB, 118.801), 'unit B on the county screen');

    // One more move on each side: a socket delivers in order, so when it has arrived every earlier
    // message to that screen has too — including any that should never have been sent.
    await report('self', unitA, 118.562, 36.952);
    await report('sibling', unitB, 118.802, 36.952);
    await own.waitFor(has(unitA, 118.562), 'unit A’s second move');
    await sibling.waitFor(has(unitB, 118.802), 'unit B’s second move');
    assert.ok(!own.units().has(unitB), 'station A never hears of the sibling station’s unit');
    assert.ok(!sibling.units().has(unitA), 'station B never hears of station A’s unit');
    assert.ok(county.units().has(unitA) && county.units().has(unitB), 'the county sees both');
    console.log(`# position messages: own ${own.got.length}, sibling ${sibling.got.length}, county ${county.got.length}`);
    for (const s of [own, sibling, county]) s.close();
  });

  it('snapshots the jurisdiction on connect, tells a unit going off duty, and sends nothing to terminals', async () => {
    await report('self', unitA, 118.563, 36.953);
    const own = await connect('station_leader', 'self');
    const first = await own.waitFor((m) => m.full === true, 'snapshot');
    assert.deepEqual(first.items!.map((i) => i.unitId), [unitA], 'the snapshot holds station A’s unit only');
    assert.equal(first.items![0]!.lon, 118.563);

    const off = await t.as('station_leader', 'self', { method: 'POST', url: `/api/units/${unitA}/duty`, payload: { onDuty: false } });
    assert.equal(off.statusCode, 200, off.body);
    await own.waitFor((m) => !!m.removed?.includes(unitA), 'unit A removed');
    own.close();

    // A unit member's terminal stream carries its tasks, not the live map.
    await t.ctx.database.query('insert into unit_member (unit_id, user_id) values ($1, $2)', [unitB, t.fx.userIds.get('community-officer.sibling')]);
    const ticket = (await t.as('community_officer', 'sibling', { method: 'POST', url: `/api/units/${unitB}/ticket` })).json().ticket as string;
    const terminal = await screen(`ws://${base}/api/ws?ticket=${ticket}`);
    const county = await connect('dispatcher', 'above');
    await county.waitFor((m) => m.full === true, 'snapshot');
    await report('sibling', unitB, 118.803, 36.953);
    await county.waitFor(has(unitB, 118.803), 'unit B on the county screen');
    assert.equal(terminal.got.length, 0, 'the terminal got no positions');
    terminal.close();
    county.close();
  });
});
