import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServerProcess, type ServerProcess } from '../../apps/server/src/testing/server-process.js';
import { generateDay } from './calls.js';
import { Simulator } from './driver.js';

describe('drill simulator: calls', () => {
  it('is deterministic for a seed and varies between seeds', () => {
    const a = generateDay(42, 300);
    const b = generateDay(42, 300);
    assert.deepEqual(a, b);
    assert.notDeepEqual(generateDay(43, 300), a);
    assert.ok(a.length > 250 && a.length < 350, `${a.length} calls`);
  });

  it('follows a daily rhythm, a realistic mix and varied Chinese texts', () => {
    const day = generateDay(7, 2000);
    const night = day.filter((c) => c.atSecond < 5 * 3600).length;
    const evening = day.filter((c) => c.atSecond >= 17 * 3600 && c.atSecond < 22 * 3600).length;
    assert.ok(evening > night * 3, `evening ${evening} vs night ${night}`);
    const categories = new Set(day.map((c) => c.category));
    for (const c of ['criminal.theft', 'dispute.neighbour', 'traffic.accident', 'public_order.fight', 'help.lost_property', 'non_police.city_management']) {
      assert.ok(categories.has(c), `has ${c}`);
    }
    const texts = new Set(day.map((c) => c.content));
    assert.ok(texts.size > day.length * 0.6, 'texts vary');
    assert.ok(day.every((c) => /[\u4e00-\u9fff]/.test(c.content)));
  });
});

/**
 * A seeded hour at 60× against a real server (embedded engine), through the public API only; then
 * the invariants of the whole loop are checked in the database.
 */
describe('drill simulator: a seeded hour against a real server', { timeout: 600_000 }, () => {
  let server: ServerProcess;
  let dir: string;
  let sim: Simulator;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-sim-'));
    server = await startServerProcess({ PINGAN_DATA_DIR: dir, PINGAN_DEMO: 'on', PINGAN_SIMULATOR: 'off', PINGAN_LOGIN_RATE_PER_MINUTE: '1000' });
    sim = new Simulator({ baseUrl: server.url, seed: 11, speed: 60, callsPerDay: 600, startHour: 9, durationMs: 60_000, password: 'pingan-demo-2026', pingIntervalMs: 2000 });
    await sim.prepare();
    await sim.start();
    // Let units already out reach their scenes and clear (travel is physical, time on scene is scaled).
    await new Promise((r) => setTimeout(r, 45_000));
    await sim.stop();
  });
  after(async () => {
    await sim?.stop();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ran the loop without errors', () => {
    assert.equal(sim.stats.errors, 0, sim.stats.lastError ?? '');
    assert.ok(sim.stats.calls >= 10, `calls ${sim.stats.calls}`);
    assert.ok(sim.stats.dispatched >= 5, `dispatched ${sim.stats.dispatched}`);
    assert.ok(sim.stats.pings > 100, `pings ${sim.stats.pings}`);
  });

  it('keeps the invariants of the loop', async () => {
    // The server is an embedded database in another process: read it through the API as the county dispatcher.
    const login = await fetch(`${server.url}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dispatcher', password: 'pingan-demo-2026' }) });
    const { token } = (await login.json()) as { token: string };
    const get = async <T>(p: string) => (await (await fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;
    const list = await get<{ items: { id: string; status: string }[] }>('/api/incidents?state=all&limit=500');
    assert.ok(list.items.length >= 10);
    const intervals = new Map<string, [number, number, string][]>();
    for (const item of list.items) {
      const d = await get<{
        status: string;
        assignments: { unitId: string; status: string; dispatchedAt: string; acknowledgedAt: string | null; enRouteAt: string | null; onSceneAt: string | null; clearedAt: string | null; cancelledAt: string | null }[];
      }>(`/api/incidents/${item.id}`);
      const active = d.assignments.filter((a) => ['dispatched', 'acknowledged', 'en_route', 'on_scene', 'returning'].includes(a.status));
      // Final, or legitimately open: waiting for units, or with units still working.
      assert.ok(['closed', 'merged', 'diverted'].includes(d.status) || d.status === 'new' || active.length > 0, `${item.id} is ${d.status} with no active unit`);
      for (const a of d.assignments) {
        const times = [a.dispatchedAt, a.acknowledgedAt, a.enRouteAt, a.onSceneAt, a.clearedAt].filter((x): x is string => x !== null).map((x) => Date.parse(x));
        assert.deepEqual(times, [...times].sort((x, y) => x - y), `status times of ${a.unitId} on ${item.id} are ordered`);
        const end = Date.parse(a.clearedAt ?? a.cancelledAt ?? '') || Number.POSITIVE_INFINITY;
        const list2 = intervals.get(a.unitId) ?? [];
        list2.push([Date.parse(a.dispatchedAt), a.status === 'unavailable' ? Date.parse(a.dispatchedAt) + 1 : end, item.id]);
        intervals.set(a.unitId, list2);
      }
    }
    for (const [unit, spans] of intervals) {
      spans.sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < spans.length; i++) {
        assert.ok(spans[i]![0] >= spans[i - 1]![1], `unit ${unit} is never on two incidents at once (${spans[i - 1]![2]} and ${spans[i]![2]})`);
      }
    }
  });
  it('shows on the big screen the 1-3-5 figures that the event logs give', async () => {
    const login = await fetch(`${server.url}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dispatcher', password: 'pingan-demo-2026' }) });
    const { token } = (await login.json()) as { token: string };
    const get = async <T>(p: string) => (await (await fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;
    const stats = await get<{ acknowledgedWithin30s: { met: number; total: number }; unitsOutWithin1m: { met: number; total: number }; onSceneInTime: { met: number; total: number } }>('/api/dispatch/stats');
    const now = Date.now();
    const list = await get<{ items: { id: string; core: boolean }[] }>('/api/incidents?state=all&limit=500');
    const ack = { met: 0, total: 0 };
    const out = { met: 0, total: 0 };
    const scene = { met: 0, total: 0 };
    for (const item of list.items) {
      const log = await get<{ incident: { createdAt: string; status: string; core: boolean }; events: { type: string; at: string; data: Record<string, unknown> }[] }>(`/api/incidents/${item.id}/log`);
      const created = Date.parse(log.incident.createdAt);
      const units = new Map<string, { sent: number; ack?: number; scene?: number; end?: number; cancelled: boolean }>();
      let firstOut: number | null = null;
      for (const e of log.events) {
        const at = Date.parse(e.at);
        if (e.type === 'dispatch') {
          for (const a of e.data.assignments as { unitId: string }[]) units.set(a.unitId, { sent: at, cancelled: false });
          firstOut ??= at;
        }
        if (e.type === 'unit_status') {
          const u = units.get(e.data.unitId as string)!;
          const st = e.data.status as string;
          if (['acknowledged', 'en_route', 'on_scene'].includes(st)) u.ack ??= at;
          if (st === 'on_scene') u.scene ??= at;
          if (st === 'cancelled') (u.cancelled = true), (u.end = at);
          if (st === 'unavailable') u.end ??= at;
        }
        if (e.type === 'closed') {
          for (const u of units.values()) if (u.scene === undefined && u.end === undefined) (u.cancelled = true), (u.end = at);
        }
      }
      if (!['merged', 'diverted'].includes(log.incident.status)) {
        if (firstOut !== null && firstOut - created <= 60_000) out.met++;
        if (firstOut !== null || created < now - 60_000) out.total++;
      }
      const arrive = log.incident.core ? 180_000 : 300_000;
      for (const u of units.values()) {
        if (!(u.cancelled && u.ack === undefined && u.end! <= u.sent + 30_000)) {
          if (u.ack !== undefined && u.ack - u.sent <= 30_000) ack.met++;
          if (u.ack !== undefined || u.sent < now - 30_000) ack.total++;
        }
        const due = u.sent + arrive;
        const endedBeforeDue = u.end !== undefined && u.scene === undefined && u.end < due;
        if (u.scene !== undefined && u.scene <= due) scene.met++;
        if ((u.scene !== undefined || due < now) && !endedBeforeDue) scene.total++;
      }
    }
    assert.ok(ack.total > 0 && scene.total >= 0);
    assert.deepEqual({ met: stats.acknowledgedWithin30s.met, total: stats.acknowledgedWithin30s.total }, ack, 'acknowledged within 30 s');
    assert.deepEqual({ met: stats.unitsOutWithin1m.met, total: stats.unitsOutWithin1m.total }, out, 'units out within 1 min');
    assert.deepEqual({ met: stats.onSceneInTime.met, total: stats.onSceneInTime.total }, scene, 'on scene within 3/5 min');
  });
});

