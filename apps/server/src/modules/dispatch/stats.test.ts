import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../testing/app.js';
import { chinaDay } from './stats.js';

describe('dispatch stats for the big screen', () => {
  let t: TestApp;
  let unit: string;
  before(async () => {
    t = await createTestApp();
    const node = t.fx.nodes.get('370523106')!;
    const [u] = await t.ctx.database.query<{ id: string }>(
      `insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ('统计01', '统计01', 'patrol_car', $1, $2, true) returning id`,
      [node.id, node.path],
    );
    unit = u!.id;
  });
  after(async () => t?.close());

  it('takes the local (UTC+8) day', () => {
    const d = chinaDay(new Date('2026-03-01T17:30:00Z'));
    assert.equal(d.start.toISOString(), '2026-03-01T16:00:00.000Z');
    assert.equal(d.end.toISOString(), '2026-03-02T16:00:00.000Z');
  });

  it('counts today’s calls by category, the 1-3-5 shares, open incidents and units on duty, per jurisdiction', async () => {
    const before = (await t.as('dispatcher', 'above', { url: '/api/dispatch/stats' })).json() as { callsToday: number; unitsOnDuty: number; openIncidents: number };
    const intake = await t.as('dispatcher', 'above', {
      method: 'POST',
      url: '/api/incidents',
      payload: { content: '有人打架', category: 'public_order.fight', priority: 1, location: { lon: 118.55, lat: 36.95 } },
    });
    assert.equal(intake.statusCode, 201, intake.body);
    const id = (intake.json() as { id: string }).id;
    const sent = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${id}/dispatch`, payload: { units: [{ unitId: unit }] } });
    assert.equal(sent.statusCode, 201, sent.body);
    const assignmentId = (sent.json() as { assignments: { assignmentId: string }[] }).assignments[0]!.assignmentId;
    const ack = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/assignments/${assignmentId}/status`, payload: { status: 'on_scene' } });
    assert.equal(ack.statusCode, 200, ack.body);

    const res = await t.as('dispatcher', 'above', { url: '/api/dispatch/stats' });
    assert.equal(res.statusCode, 200, res.body);
    const s = res.json() as {
      callsToday: number;
      byCategory: { category: string; count: number }[];
      acknowledgedWithin30s: { met: number; total: number };
      unitsOutWithin1m: { met: number; total: number };
      onSceneInTime: { met: number; total: number };
      openIncidents: number;
      unitsOnDuty: number;
      hourly: { calls: number }[];
    };
    assert.equal(s.callsToday, before.callsToday + 1);
    assert.ok(s.byCategory.some((c) => c.category === 'public_order' && c.count >= 1));
    assert.ok(s.acknowledgedWithin30s.met >= 1 && s.acknowledgedWithin30s.met <= s.acknowledgedWithin30s.total);
    assert.ok(s.unitsOutWithin1m.met >= 1);
    assert.ok(s.onSceneInTime.met >= 1);
    assert.equal(s.openIncidents, before.openIncidents + 1);
    assert.ok(s.unitsOnDuty >= 1);
    assert.equal(s.hourly.length, 24);
    assert.ok(s.hourly.at(-1)!.calls >= 1);

    // A sibling station sees none of it.
    const sibling = (await t.as('station_leader', 'sibling', { url: '/api/dispatch/stats' })).json() as { callsToday: number; openIncidents: number };
    assert.equal(sibling.openIncidents, 0);
    assert.equal(sibling.callsToday, 0);
  });

  it('counts incidents per ~100 m cell for the heat map, of the asker’s jurisdiction and days only', async () => {
    const take = (lon: number, lat: number) =>
      t.as('dispatcher', 'above', { method: 'POST', url: '/api/incidents', payload: { content: '热力测试', category: 'public_order.fight', priority: 3, location: { lon, lat } } });
    const cellOf = (cells: [number, number, number][], lon: number, lat: number) => cells.find(([x, y]) => x === lon && y === lat)?.[2] ?? 0;
    const read = async (role: 'dispatcher' | 'station_leader', place: 'above' | 'self' | 'sibling', days = 30) => {
      const res = await t.as(role, place, { url: `/api/incidents/density?days=${days}` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { total: number; cells: [number, number, number][] };
    };
    const before = await read('dispatcher', 'above');
    // Two in one cell of station A, one in station B.
    for (const [lon, lat] of [[118.5612, 36.9611], [118.5614, 36.9609], [118.8012, 36.9611]] as const) assert.equal((await take(lon, lat)).statusCode, 201);
    const county = await read('dispatcher', 'above');
    assert.equal(county.total, before.total + 3);
    assert.equal(cellOf(county.cells, 118.561, 36.961), cellOf(before.cells, 118.561, 36.961) + 2);
    assert.equal(cellOf(county.cells, 118.801, 36.961), cellOf(before.cells, 118.801, 36.961) + 1);
    const own = await read('station_leader', 'self');
    assert.ok(own.cells.every(([lon]) => lon < 118.75), 'station A sees only its own area');
    assert.ok(cellOf(own.cells, 118.561, 36.961) >= 2);
    const sibling = await read('station_leader', 'sibling');
    assert.equal(cellOf(sibling.cells, 118.561, 36.961), 0, 'station B does not see station A’s incidents');
    const bad = await t.as('dispatcher', 'above', { url: '/api/incidents/density?days=0' });
    assert.equal(bad.statusCode, 400);
  });
});
