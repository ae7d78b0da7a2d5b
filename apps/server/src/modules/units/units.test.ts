import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, userNameFor, type TestApp } from '../../testing/app.js';
import { coverage, detectCheckpoints, simplifyTrack } from './analysis.js';
import { lateStartMinutes, localDayStart } from './patrol-routes.js';
import { DEFAULT_RULES, IngestFilter, PositionStore, distanceM, type LiveSlot, type Ping, type RuleSlot } from './positions.js';
import { unitsRuntime } from './runtime.js';
import { encodeTrackCopy, partitionName } from './writer.js';
import { unitIds } from './unit-ids.js';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { PositionsBody } from './http.js';
import { fastPositionsBody, isUuid, pingsOf, UUID_PATTERN } from './routes.js';
import { scanPositionsBody } from './positions-scan.js';

const NOW = Date.UTC(2025, 5, 2, 2, 0, 0); // 2025-06-02 10:00 in China
const ping = (t: number, lon: number, lat: number): Ping => ({ unitId: 'u1', t, lon, lat, accuracy: null, speed: null, heading: null });
const ON = { onDuty: true, dutySince: NOW - 3_600_000 };

describe('ingestion rules (pure)', () => {
  it('accepts in order, flags out-of-order, drops duplicates, future, expired, off-duty and invalid points', () => {
    const f = new IngestFilter({ ...DEFAULT_RULES });
    assert.equal(f.classify(ping(NOW - 60_000, 118.5, 37), ON, NOW), 'accepted');
    assert.equal(f.classify(ping(NOW - 50_000, 118.5005, 37), ON, NOW), 'accepted');
    assert.equal(f.classify(ping(NOW - 50_000, 118.5005, 37), ON, NOW), 'duplicate', 'same time as the latest');
    assert.equal(f.classify(ping(NOW - 55_000, 118.5002, 37), ON, NOW), 'out_of_order', 'older than the latest: stored, not live');
    assert.equal(f.classify(ping(NOW - 55_000, 118.5002, 37), ON, NOW), 'duplicate', 'a resent older point');
    assert.equal(f.classify(ping(NOW + 121_000, 118.5005, 37), ON, NOW), 'future');
    assert.equal(f.classify(ping(NOW + 119_000, 118.5006, 37), ON, NOW), 'accepted', 'within 2 minutes of clock skew');
    assert.equal(f.classify(ping(NOW - 91 * 86_400_000, 118.5, 37), { onDuty: true, dutySince: null }, NOW), 'expired');
    assert.equal(f.classify(ping(NOW, 118.5, 37), { onDuty: false, dutySince: null }, NOW), 'off_duty');
    assert.equal(f.classify(ping(NOW - 2 * 3_600_000, 118.5, 37), ON, NOW), 'off_duty', 'before the shift started');
    assert.equal(f.classify(ping(NOW, 200, 37), ON, NOW), 'invalid');
    assert.equal(f.classify(ping(Number.NaN, 118, 37), ON, NOW), 'invalid');
  });

  it('rejects impossible jumps (> 250 km/h) and re-anchors when two points agree', () => {
    const f = new IngestFilter({ ...DEFAULT_RULES });
    assert.equal(f.classify(ping(NOW - 30_000, 118.5, 37), ON, NOW), 'accepted');
    // 0.1° of longitude ≈ 8.9 km in 10 s ≈ 3,200 km/h.
    assert.equal(f.classify(ping(NOW - 20_000, 118.6, 37), ON, NOW), 'jump');
    // 240 km/h for 10 s = 667 m (+100 m slack): fine from the anchor.
    const near = 118.5 + 600 / (111_320 * Math.cos((37 * Math.PI) / 180));
    assert.equal(f.classify(ping(NOW - 20_000 + 1, near, 37), ON, NOW), 'accepted');
    const g = new IngestFilter({ ...DEFAULT_RULES });
    g.classify(ping(NOW - 30_000, 118.5, 37), ON, NOW);
    assert.equal(g.classify(ping(NOW - 20_000, 118.6, 37), ON, NOW), 'jump');
    assert.equal(g.classify(ping(NOW - 10_000, 118.6001, 37), ON, NOW), 'reanchored', 'agrees with the rejected point');
    assert.equal(g.classify(ping(NOW - 5_000, 118.6002, 37), ON, NOW), 'accepted');
    const slow = new IngestFilter({ ...DEFAULT_RULES, maxSpeedKmh: 50 });
    slow.classify(ping(NOW - 30_000, 118.5, 37), ON, NOW);
    assert.equal(slow.classify(ping(NOW - 20_000, 118.5 + 0.003, 37), ON, NOW), 'jump', '267 m in 10 s > 50 km/h + 100 m');
  });

  it('a held rule-state handle follows resets (the runtime keeps one per unit to skip the lookup)', () => {
    const f = new IngestFilter({ ...DEFAULT_RULES });
    const slot: RuleSlot = { rules: null };
    assert.equal(f.classify(ping(NOW - 30_000, 118.5, 37), ON, NOW, slot), 'accepted');
    assert.ok(slot.rules, 'the first point leaves its state in the slot');
    assert.equal(f.classify(ping(NOW - 20_000, 118.6, 37), ON, NOW, slot), 'jump');
    assert.equal(f.classify(ping(NOW - 30_000, 118.5, 37), ON, NOW, slot), 'duplicate');
    // Forgotten (failed write, off duty): the handle is stale, so the next point starts afresh …
    f.reset('u1');
    assert.equal(f.classify(ping(NOW - 30_000, 118.5, 37), ON, NOW, slot), 'accepted', 'not a duplicate of forgotten state');
    // … and a reset to a given fix is what the handle sees next.
    f.reset('u1', { t: NOW - 10_000, lon: 118.7, lat: 37, accuracy: null });
    assert.equal(f.classify(ping(NOW - 5_000, 118.5, 37), ON, NOW, slot), 'jump', 'judged against the new anchor');
    // A slot and a plain lookup share one state.
    assert.equal(f.classify(ping(NOW - 10_000, 118.7, 37), ON, NOW), 'duplicate');
  });
});

describe('PositionStore', () => {
  it('a held live handle follows removal and re-adding (the runtime keeps one per unit)', () => {
    const s = new PositionStore({ staleMs: 300_000, indexMaxAgeMs: 0, now: () => NOW });
    const slot: LiveSlot = { live: null };
    const at = (t: number, lon: number) => ({ unitId: 'a', callSign: 'A', type: 'patrol_car', path: '/a/', t, lon, lat: 37, accuracy: null, speed: null, heading: null });
    assert.equal(s.set(at(NOW - 2000, 118.5), slot), true);
    assert.ok(slot.live);
    assert.equal(s.set(at(NOW - 3000, 118.6), slot), false, 'older than the held entry');
    assert.equal(s.set(at(NOW - 1000, 118.51), slot), true);
    assert.equal(s.latest('a')!.lon, 118.51);
    s.remove('a');
    assert.equal(s.latest('a'), null);
    assert.equal(s.set(at(NOW - 4000, 118.52), slot), true, 'a removed unit comes back with any point, not compared with the dead entry');
    assert.equal(s.latest('a')!.lon, 118.52);
    assert.equal(s.nearest(118.52, 37, 1)[0]?.unitId, 'a');
    assert.equal(s.size, 1);
  });

  it('keeps the newest position, flags stale ones and answers the nearest k with a filter', () => {
    let now = NOW;
    const s = new PositionStore({ staleMs: 300_000, indexMaxAgeMs: 0, now: () => now });
    const put = (id: string, lon: number, lat: number, t = now, type = 'patrol_car') =>
      s.set({ unitId: id, callSign: id, type, path: '/a/', t, lon, lat, accuracy: null, speed: null, heading: null });
    put('a', 118.50, 37.0);
    put('b', 118.51, 37.0);
    put('c', 118.60, 37.0, now - 400_000);
    put('d', 118.505, 37.0, now, 'foot_patrol');
    assert.equal(put('a', 118.0, 37.0, now - 1), false, 'an older point does not replace');
    assert.equal(s.latest('c')!.stale, true);
    assert.equal(s.latest('a')!.stale, false);
    assert.deepEqual(s.nearest(118.5, 37.0, 2).map((h) => h.unitId), ['a', 'd']);
    assert.deepEqual(s.nearest(118.5, 37.0, 2, (u) => u.type === 'patrol_car').map((h) => h.unitId), ['a', 'b']);
    assert.deepEqual(s.nearest(118.5, 37.0, 5, (u) => !u.stale).map((h) => h.unitId), ['a', 'd', 'b']);
    put('e', 118.5001, 37.0);
    assert.equal(s.nearest(118.5001, 37.0, 1)[0]!.unitId, 'e', 'a unit added after the index was built');
    now += 600_000;
    assert.equal(s.latest('a')!.stale, true);
    s.remove('a');
    assert.equal(s.latest('a'), null);
  });
  it('answers exactly between index builds: units that moved (a little or far), appeared or left', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 2246822507) + 0x6d2b79f5) >>> 0) / 4294967296);
    const now = NOW;
    const s = new PositionStore({ staleMs: 300_000, indexMaxAgeMs: 60_000, now: () => now });
    const pos = new Map<string, { lon: number; lat: number; type: string; t: number }>();
    const put = (id: string, lon: number, lat: number, t: number, type: string) => {
      pos.set(id, { lon, lat, type, t });
      s.set({ unitId: id, callSign: id, type, path: '/a/', t, lon, lat, accuracy: null, speed: null, heading: null });
    };
    for (let i = 0; i < 3000; i++) put(`u${i}`, 118.3 + rand() * 0.6, 36.9 + rand() * 0.4, now - 1000, i % 4 === 0 ? 'foot_patrol' : 'patrol_car');
    s.rebuild();
    const builds = s.builds;
    // Between builds: small moves (< 250 m), far moves (kilometres), new units, removals.
    for (let i = 0; i < 3000; i += 3) {
      const p = pos.get(`u${i}`)!;
      const far = i % 9 === 0;
      put(`u${i}`, p.lon + (rand() - 0.5) * (far ? 0.2 : 0.004), p.lat + (rand() - 0.5) * (far ? 0.2 : 0.003), now, p.type);
    }
    for (let i = 3000; i < 3200; i++) put(`u${i}`, 118.3 + rand() * 0.6, 36.9 + rand() * 0.4, now, 'patrol_car');
    for (let i = 1; i < 3000; i += 50) {
      s.remove(`u${i}`);
      pos.delete(`u${i}`);
    }
    const brute = (lon: number, lat: number, k: number, type: string | null, maxM: number) =>
      [...pos].map(([id, p]) => ({ id, d: distanceM(lon, lat, p.lon, p.lat), type: p.type }))
        .filter((x) => (type === null || x.type === type) && x.d <= maxM)
        .sort((a, b) => a.d - b.d)
        .slice(0, k);
    for (let q = 0; q < 300; q++) {
      const lon = 118.3 + rand() * 0.6;
      const lat = 36.9 + rand() * 0.4;
      const k = 1 + (q % 40);
      const type = q % 3 === 0 ? 'foot_patrol' : null;
      const maxM = q % 5 === 0 ? 3000 : Infinity;
      const got = s.nearest(lon, lat, k, type ? (u) => u.type === type : undefined, maxM);
      const want = brute(lon, lat, k, type, maxM);
      assert.deepEqual(got.map((h) => h.distanceM), want.map((w) => w.d), `query ${q}`);
      for (const h of got) assert.equal(h.distanceM, distanceM(lon, lat, h.lon, h.lat));
    }
    assert.equal(s.builds, builds, 'no rebuild on the query path');
    // The moved units answer with their current position.
    const moved = s.nearest(pos.get('u3')!.lon, pos.get('u3')!.lat, 1)[0]!;
    assert.equal(moved.unitId, 'u3');
    assert.equal(moved.distanceM, 0);
  });

  it('answers exactly on clustered fleets, far outliers, units along one line and points outside the grid', () => {
    // Layouts the uniform grid could get wrong: dense towns in an empty county, one unit 1,000 km away
    // (must not stretch the grid, and must still be found), every unit on one parallel or meridian,
    // queries far outside the units' box, a single unit; and every unit moved a little since the build,
    // some left and others came.
    const layout = fc.record({
      n: fc.integer({ min: 1, max: 2500 }),
      shape: fc.constantFrom('towns', 'line-ew', 'line-ns', 'uniform'),
      outliers: fc.array(fc.tuple(fc.double({ min: 100, max: 135, noNaN: true }), fc.double({ min: 20, max: 50, noNaN: true })), { maxLength: 3 }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      drift: fc.boolean(),
      queries: fc.array(fc.tuple(fc.double({ min: 117, max: 120, noNaN: true }), fc.double({ min: 36, max: 38, noNaN: true }), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 12 }),
    });
    fc.assert(
      fc.property(layout, ({ n, shape, outliers, seed, drift, queries }) => {
        let z = seed;
        const rand = () => ((z = (Math.imul(z ^ (z >>> 15), 2246822507) + 0x6d2b79f5) >>> 0) / 4294967296);
        const s = new PositionStore({ staleMs: 300_000, indexMaxAgeMs: 60_000, now: () => NOW });
        const pos: { id: string; lon: number; lat: number; type: string }[] = [];
        const towns = [[118.45, 37.05], [118.62, 37.1], [118.8, 36.95]] as const;
        for (let i = 0; i < n; i++) {
          let lon: number, lat: number;
          if (shape === 'towns') {
            const [tl, tt] = towns[i % 3]!;
            lon = tl + (rand() - 0.5) * 0.01;
            lat = tt + (rand() - 0.5) * 0.008;
          } else if (shape === 'line-ew') [lon, lat] = [118.3 + rand() * 0.6, 37.0];
          else if (shape === 'line-ns') [lon, lat] = [118.5, 36.9 + rand() * 0.4];
          else [lon, lat] = [118.3 + rand() * 0.6, 36.9 + rand() * 0.4];
          pos.push({ id: `u${i}`, lon, lat, type: i % 3 === 0 ? 'foot_patrol' : 'patrol_car' });
        }
        outliers.forEach(([lon, lat], j) => pos.push({ id: `far${j}`, lon, lat, type: 'patrol_car' }));
        for (const p of pos) s.set({ unitId: p.id, callSign: p.id, type: p.type, path: '/a/', t: NOW, lon: p.lon, lat: p.lat, accuracy: null, speed: null, heading: null });
        s.rebuild();
        if (drift) {
          // Every unit moves up to 240 m after the build (under the drift limit: it stays in the grid, off its place).
          for (const p of pos) {
            const a = rand() * 2 * Math.PI, m = rand() * 240;
            p.lon += (m * Math.cos(a)) / (111_320 * Math.cos((p.lat * Math.PI) / 180));
            p.lat += (m * Math.sin(a)) / 110_540;
            s.set({ unitId: p.id, callSign: p.id, type: p.type, path: '/a/', t: NOW + 1, lon: p.lon, lat: p.lat, accuracy: null, speed: null, heading: null });
          }
          // Some leave and others come (their rows in the store are reused) before the next build.
          for (let i = pos.length - 1; i >= 0; i -= 7) s.remove(pos.splice(i, 1)[0]!.id);
          for (let i = 0; i < 5; i++) {
            const p = { id: `new${i}`, lon: 118.3 + rand() * 0.6, lat: 36.9 + rand() * 0.4, type: 'patrol_car' };
            pos.push(p);
            s.set({ unitId: p.id, callSign: p.id, type: p.type, path: '/a/', t: NOW + 1, lon: p.lon, lat: p.lat, accuracy: null, speed: null, heading: null });
          }
        }
        for (const [lon, lat, k] of queries) {
          const type = k % 2 === 0 ? 'patrol_car' : null;
          const got = s.nearest(lon, lat, k, type ? (u) => u.type === type : undefined);
          const want = pos.filter((p) => type === null || p.type === type).map((p) => distanceM(lon, lat, p.lon, p.lat)).sort((a, b) => a - b).slice(0, k);
          assert.deepEqual(got.map((h) => h.distanceM), want);
        }
      }),
      { numRuns: 60, seed: 20261123 },
    );
  });

  it('rebuilds the index by a timer while it is queried, off the query path', async () => {
    const s = new PositionStore({ staleMs: 300_000, indexMaxAgeMs: 20, now: () => NOW });
    for (let i = 0; i < 500; i++) s.set({ unitId: `u${i}`, callSign: 'x', type: 'patrol_car', path: '/a/', t: NOW, lon: 118 + i * 0.001, lat: 37, accuracy: null, speed: null, heading: null });
    assert.equal(s.builds, 0, 'no query yet: nothing is built');
    assert.equal(s.nearest(118.0, 37, 1)[0]!.unitId, 'u0');
    const built = s.builds;
    assert.equal(built, 1, 'the first query builds the first index');
    s.set({ unitId: 'u1', callSign: 'x', type: 'patrol_car', path: '/a/', t: NOW + 1, lon: 118.7, lat: 37, accuracy: null, speed: null, heading: null });
    assert.equal(s.nearest(118.7, 37, 1)[0]!.unitId, 'u1');
    assert.equal(s.builds, built);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(s.builds, built + 1, 'rebuilt after the change');
    assert.equal(s.nearest(118.7, 37, 1)[0]!.unitId, 'u1');
  });
});

describe('track analysis (hand-computed)', () => {
  const lat = 37;
  const mPerDegLon = (Math.PI / 180) * 6_371_008.8 * Math.cos((lat * Math.PI) / 180);
  const east = (m: number) => 118.5 + m / mPerDegLon;

  it('detects checkpoints with radius and dwell, misses and order', () => {
    const t0 = NOW;
    // Walk east 0 → 1000 m at 10 m/s, one point per 10 s; stand at 500 m for 60 s.
    const track = [];
    for (let x = 0, t = t0; x <= 1000; x += 100, t += 10_000) {
      track.push({ t, lon: east(x), lat });
      if (x === 500) for (let k = 1; k <= 6; k++) track.push({ t: t + k * 10_000, lon: east(500), lat });
      if (x === 500) t += 60_000;
    }
    const cps = [
      { name: 'far end', lon: east(1000), lat, radiusM: 30, dwellS: 0 },
      { name: 'middle', lon: east(500), lat, radiusM: 30, dwellS: 45 },
      { name: 'pass-by', lon: east(300), lat, radiusM: 30, dwellS: 30 },
      { name: 'off route', lon: east(500), lat: lat + 0.01, radiusM: 50, dwellS: 0 },
    ];
    const d = detectCheckpoints(track, cps, { ordered: true });
    assert.deepEqual(d.checkpoints.map((c) => c.reached), [true, true, false, false]);
    assert.equal(d.checkpoints[1]!.dwellS, 60);
    assert.equal(d.checkpoints[1]!.reachedAt, new Date(t0 + 50_000).toISOString());
    assert.deepEqual(d.missed, [2, 3]);
    assert.deepEqual(d.outOfOrder, [1], 'middle was reached before the far end (checkpoint 0)');
    assert.ok(Math.abs(d.distanceM - 1000) < 0.5, `distance ${d.distanceM}`);
  });

  it('computes coverage minutes, distance and distinct hours per area', () => {
    // Unit 1: 09:50–10:10 local in A (5 points, 5 min apart, 100 m steps) → 20 min, 400 m, hours {9, 10}.
    // Then a 30-minute gap (not counted), one segment in B at 11:00 of 2 min / 50 m.
    const base = localDayStart('2025-06-02') + (9 * 60 + 50) * 60_000;
    const u1 = [0, 1, 2, 3, 4].map((i) => ({ t: base + i * 300_000, lon: east(i * 100), lat }));
    u1.push({ t: base + 70 * 60_000, lon: 119, lat }, { t: base + 72 * 60_000, lon: 119 + 50 / mPerDegLon, lat });
    // Unit 2: one 3-minute, 0 m segment in A at 23:59 (hour 23).
    const b2 = localDayStart('2025-06-02') + (23 * 60 + 59) * 60_000;
    const u2 = [{ t: b2, lon: east(0), lat }, { t: b2 + 180_000, lon: east(0), lat }];
    const cov = coverage(
      [{ unitId: 'u1', points: u1 }, { unitId: 'u2', points: u2 }],
      (lon) => (lon < 118.9 ? ['A'] : ['B']),
      { maxGapMs: 5 * 60_000, utcOffsetMinutes: 480 },
    );
    const a = cov.get('A')!;
    assert.equal(a.minutes, 23);
    assert.ok(Math.abs(a.distanceM - 400) < 0.5);
    assert.deepEqual([...a.hours].sort((x, y) => x - y), [9, 10, 23]);
    assert.equal(a.units.size, 2);
    const b = cov.get('B')!;
    assert.equal(b.minutes, 2);
    assert.ok(Math.abs(b.distanceM - 50) < 0.5);
    assert.deepEqual([...b.hours], [11]);
  });

  it('simplifies a long track to maxPoints keeping both ends', () => {
    const pts = Array.from({ length: 10_000 }, (_, i) => ({ t: NOW + i * 1000, lon: east(i), lat: lat + Math.sin(i / 500) * 0.001 }));
    const s = simplifyTrack(pts, 200);
    assert.ok(s.points.length <= 200 && s.points.length >= 10, `${s.points.length}`);
    assert.equal(s.points[0], pts[0]);
    assert.equal(s.points.at(-1), pts.at(-1));
    assert.equal(simplifyTrack(pts.slice(0, 50), 200).points.length, 50);
  });

  it('measures a late start against the schedule', () => {
    const slot = { weekdays: [1], start: '09:00', end: '11:00' };
    // 2025-06-02 is a Monday; 10:00 local is 60 minutes late.
    assert.equal(lateStartMinutes([slot], NOW), 60);
    assert.equal(lateStartMinutes([{ ...slot, weekdays: [2] }], NOW), null);
  });

  it('names day partitions by UTC day', () => {
    assert.equal(partitionName(Date.UTC(2025, 0, 31, 23, 59)), 'unit_position_p20250131');
    assert.ok(distanceM(118, 37, 118, 38) > 111_000);
  });
});

describe('positions body fast path', () => {
  const U = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';
  const point = fc.record(
    {
      t: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 45 }), fc.constant(null), fc.boolean()),
      lon: fc.oneof(fc.double({ min: -200, max: 200, noNaN: true }), fc.string(), fc.constant(null)),
      lat: fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }), fc.constant(undefined)),
      accuracy: fc.oneof(fc.double({ min: -5, max: 50, noNaN: true }), fc.constant(null), fc.constant(undefined), fc.string()),
      speed: fc.oneof(fc.double({ min: -5, max: 50, noNaN: true }), fc.constant(null), fc.constant(undefined)),
      heading: fc.oneof(fc.double({ noNaN: true }), fc.constant(null), fc.constant(undefined), fc.boolean()),
      unitId: fc.oneof(fc.constant(U), fc.constant(U.toUpperCase()), fc.uuid(), fc.string({ maxLength: 40 }), fc.constant(undefined)),
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  );
  const body = fc.record(
    {
      unitId: fc.oneof(fc.constant(U), fc.string(), fc.constant(undefined), fc.constant(null)),
      crs: fc.oneof(fc.constantFrom('WGS84', 'GCJ02', 'BD09', 'wgs84', ''), fc.constant(undefined)),
      points: fc.oneof(fc.array(point, { maxLength: 6 }), fc.constant(null), fc.jsonValue({ maxDepth: 2 })),
    },
    { requiredKeys: [] },
  );

  it('the hand-written uuid check agrees with the pattern, also one character off a valid uuid', () => {
    const near = fc.tuple(fc.uuid(), fc.nat(35), fc.constantFrom(...'0123456789abcdefABCDEFgG-_ 9'.split('')), fc.boolean()).map(([u, i, c, upper]) => {
      const s = upper ? u.toUpperCase() : u;
      return s.slice(0, i) + c + s.slice(i + 1);
    });
    const cases = fc.oneof(near, fc.uuid(), fc.string({ maxLength: 40 }), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'));
    fc.assert(fc.property(cases, (s) => assert.equal(isUuid(s), UUID_PATTERN.test(s), s)), { numRuns: 5000 });
    assert.equal(isUuid(U), true);
    assert.equal(isUuid(U.replace('-4f70-', '-0f70-')), false, 'version 0');
    assert.equal(isUuid(U.replace('-8a9b-', '-ca9b-')), false, 'variant 11xx');
  });

  it('accepts only what the zod schema accepts, with the same values', () => {
    fc.assert(
      fc.property(fc.oneof(body, fc.jsonValue({ maxDepth: 3 })), (b) => {
        const viaZod = PositionsBody.safeParse(structuredClone(b));
        const fast = fastPositionsBody(structuredClone(b));
        if (fast === null) return; // zod decides (and words every error)
        assert.ok(viaZod.success, `the fast path accepted what zod rejects: ${JSON.stringify(b)}`);
        assert.equal(fast.crs, viaZod.data.crs);
        assert.equal(fast.unitId, viaZod.data.unitId);
        assert.equal(fast.points.length, viaZod.data.points.length);
        fast.points.forEach((p, i) => {
          const z = viaZod.data.points[i]!;
          for (const k of ['t', 'lon', 'lat', 'accuracy', 'speed', 'heading', 'unitId'] as const) assert.deepEqual(p[k], z[k], `points.${i}.${k}`);
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the fast path for ordinary batches', () => {
    const points = Array.from({ length: 250 }, (_, i) => ({ unitId: U, t: NOW + i, lon: 118.5, lat: 37, speed: 1, heading: 90, accuracy: 5 }));
    assert.ok(fastPositionsBody({ points }));
    assert.ok(fastPositionsBody({ crs: 'GCJ02', unitId: U, points: [{ t: '2025-06-02T02:00:00Z', lon: 118.5, lat: 37, accuracy: null }] }));
    assert.equal(fastPositionsBody({ points: [] }), null);
  });
});

describe('positions body scanner', () => {
  const U = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';
  const rand = (seed: number) => {
    let x = seed >>> 0 || 1;
    return () => ((x = (Math.imul(x ^ (x >>> 15), 2246822507) + 0x6d2b79f5) >>> 0) / 4294967296);
  };
  /** JSON text of a value with random (valid) whitespace and number spellings: 5 as 5, 5.0, 5e0 or 0.5E1. */
  function jsonText(v: unknown, r: () => number): string {
    const ws = () => ['', ' ', '\n  ', '\t', '\r\n'][Math.floor(r() * 5)]!;
    if (typeof v === 'number') {
      const k = Math.floor(r() * 4);
      if (k === 1) return v.toExponential();
      if (k === 2 && Math.abs(v) < 1e21) return v.toFixed(Math.floor(r() * 12));
      if (k === 3) return v.toExponential().replace('e', 'E');
      return JSON.stringify(v);
    }
    if (Array.isArray(v)) return `[${ws()}${v.map((x) => jsonText(x, r)).join(`${ws()},${ws()}`)}${ws()}]`;
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      return `{${ws()}${entries.map(([k, x]) => `${JSON.stringify(k)}${ws()}:${ws()}${jsonText(x, r)}`).join(`${ws()},${ws()}`)}${ws()}}`;
    }
    return JSON.stringify(v);
  }
  /** What the ordinary path makes of a text: the track rows, or null when JSON.parse or zod rejects it. */
  function ordinary(text: string): Ping[] | null {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return null; // not JSON (the generator spells Infinity as numbers cannot be)
    }
    const parsed = PositionsBody.safeParse(json);
    return parsed.success ? pingsOf(parsed.data, parsed.data.unitId ?? U) : null;
  }
  // Mostly what terminals send, sometimes what the schema rejects or the scanner leaves alone.
  const often = <T, U>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<U>) => fc.oneof({ arbitrary: usual, weight: 12 }, { arbitrary: odd, weight: 1 });
  const point = fc.record(
    {
      t: often(fc.oneof(fc.integer({ min: 0, max: 2e12 }), fc.double({ noNaN: true }), fc.constant('2025-06-02T02:00:00Z')), fc.constantFrom('yesterday', 'x'.repeat(41), null)),
      lon: often(fc.oneof(fc.double({ min: -200, max: 200, noNaN: true }), fc.integer({ min: -180, max: 180 })), fc.constantFrom('118.5', null)),
      lat: often(fc.double({ min: -100, max: 100, noNaN: true }), fc.constant(undefined)),
      accuracy: often(fc.oneof(fc.double({ min: 0, max: 50, noNaN: true }), fc.constant(null), fc.constant(undefined)), fc.double({ min: -5, max: -0.001 })),
      speed: often(fc.oneof(fc.double({ min: 0, max: 50, noNaN: true }), fc.constant(null), fc.constant(undefined)), fc.constant(-1)),
      heading: often(fc.oneof(fc.double({ noNaN: true }), fc.constant(null), fc.constant(undefined)), fc.boolean()),
      unitId: often(
        fc.oneof(fc.constant(U), fc.uuid(), fc.constant('00000000-0000-0000-0000-000000000000'), fc.constant(undefined)),
        fc.oneof(fc.constant(U.toUpperCase()), fc.string({ maxLength: 40 })),
      ),
      extra: often(fc.constant(undefined), fc.constant(1)),
    },
    { requiredKeys: ['t', 'lon', 'lat', 'accuracy', 'speed', 'heading', 'unitId', 'extra'] },
  );
  const body = fc.record(
    {
      unitId: often(fc.oneof(fc.constant(U), fc.uuid(), fc.constant(undefined)), fc.constant(null)),
      crs: often(fc.constantFrom('WGS84', 'GCJ02', 'BD09', undefined), fc.constant('wgs84')),
      points: often(fc.array(point, { minLength: 1, maxLength: 5 }), fc.constantFrom(null, [])),
    },
    { requiredKeys: ['unitId', 'crs', 'points'] },
  );

  it('reads exactly what JSON.parse and zod read, or leaves the body to them', () => {
    let scanned = 0;
    fc.assert(
      fc.property(body, fc.integer(), (b, seed) => {
        const text = jsonText(b, rand(seed));
        const fast = scanPositionsBody(Buffer.from(text));
        const slow = ordinary(text);
        if (fast === null) return;
        scanned++;
        assert.ok(slow, `the scanner accepted what zod rejects: ${text}`);
        assert.deepEqual(pingsOf(fast, fast.unitId ?? U), slow, text);
      }),
      { numRuns: 4000 },
    );
    assert.ok(scanned > 200, `only ${scanned} bodies took the scanner`);
  });

  it('reads every finite number as JSON.parse does (exact, also past 15 digits and with exponents)', () => {
    const spellings = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
      fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 20 })).map(([x, d]) => x.toFixed(d)),
      fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 30 }), fc.boolean()).map(([m, d, neg]) => {
        const digits = m.toString().padStart(d + 1, '0');
        return `${neg ? '-' : ''}${d ? `${digits.slice(0, -d)}.${digits.slice(-d)}` : digits}`;
      }),
    );
    fc.assert(
      fc.property(spellings, (num) => {
        const text = `{"points":[{"unitId":"${U}","t":0,"lon":${num},"lat":${num}}]}`;
        const fast = scanPositionsBody(Buffer.from(text));
        assert.ok(fast, num);
        assert.ok(Object.is(fast.points[0]!.lon, JSON.parse(num)), `${num}: ${fast.points[0]!.lon} vs ${JSON.parse(num)}`);
      }),
      { numRuns: 20000 },
    );
  });

  it('takes the ordinary batches of terminals and gateways, and leaves bad JSON and odd bodies to the parser', () => {
    const batch = { crs: 'GCJ02', unitId: U, points: [{ t: '2025-06-02T02:00:00Z', lon: 118.5, lat: 37, accuracy: null }, { unitId: U, t: NOW, lon: 118.50001000000001, lat: -0.0, speed: 1.5, heading: -90 }] };
    const fast = scanPositionsBody(Buffer.from(JSON.stringify(batch, null, 2)));
    assert.ok(fast);
    assert.equal(fast.crs, 'GCJ02');
    assert.deepEqual(pingsOf(fast, fast.unitId), ordinary(JSON.stringify(batch)));
    const bad = ['{"points":[{"t":1,"lon":1,"lat":1},]}', '{"points":[{"t":01,"lon":1,"lat":1}]}', '{"points":[{"t":1.,"lon":1,"lat":1}]}', '{"points":[{"t":1,"lon":1,"lat":1}]} x', '{"points":[{"t":1,"lon":1,"lat":1}]'];
    for (const text of bad) {
      assert.equal(scanPositionsBody(Buffer.from(text)), null, text);
      assert.throws(() => JSON.parse(text), text);
    }
    const odd = [
      `{"points":[{"unitId":"${U.toUpperCase()}","t":1,"lon":1,"lat":1}]}`, // valid to zod: the ordinary path decides
      '{"points":[{"t":"2025-06-02T02:00:00\\u005a","lon":1,"lat":1}]}', // an escape
      `{"points":[{"t":1,"lon":1,"lat":1,"note":"x"}]}`, // a key the schema does not name
      `{"points":[]}`, '{}', '[]', '\ufeff{"points":[{"t":1,"lon":1,"lat":1}]}',
      `{"points":[${Array.from({ length: 5001 }, () => '{"t":1,"lon":1,"lat":1}').join(',')}]}`,
    ];
    for (const text of odd) assert.equal(scanPositionsBody(Buffer.from(text)), null, text.slice(0, 80));
  });

  it('numbers the points of registered units, and the track COPY is the same bytes with or without the number', () => {
    const id = randomUUID();
    const text = `{"points":[{"unitId":"${id}","t":${NOW},"lon":118.5,"lat":37,"speed":null},{"unitId":"${U}","t":${NOW},"lon":118.5,"lat":37}]}`;
    const before = scanPositionsBody(Buffer.from(text))!.points;
    assert.deepEqual(before.map((p) => p.unitNo), [-1, -1]);
    const no = unitIds.register(id.toUpperCase());
    assert.equal(unitIds.register(id), no, 'one number per id');
    assert.equal(unitIds.register('3f1c2b4a-5d6e-0f70-8a9b-0c1d2e3f4a5b'), -1, 'a version the body schema refuses gets no number');
    const after = scanPositionsBody(Buffer.from(text))!.points;
    assert.equal(after[0]!.unitNo, no);
    assert.equal(after[0]!.unitId, id);
    assert.equal(after[1]!.unitNo, -1);
    // Enough other ids to rehash the registry's table: numbers and lookups stay.
    const others = Array.from({ length: 3000 }, () => randomUUID());
    const nos = others.map((o) => unitIds.register(o));
    assert.equal(new Set(nos).size, others.length);
    assert.equal(scanPositionsBody(Buffer.from(text))!.points[0]!.unitNo, no);
    assert.ok(others.every((o, k) => unitIds.idOf(nos[k]!) === o));
    assert.deepEqual(encodeTrackCopy(after), encodeTrackCopy(after.map((p) => ({ ...p, unitNo: -1 }))));
    assert.deepEqual(encodeTrackCopy(after.slice(0, 1)).subarray(25, 41), Buffer.from(id.replace(/-/g, ''), 'hex'), 'the id follows the header and the field count');
  });
});

describe('units over HTTP', () => {
  let t: TestApp;
  let unitId: string;
  let memberId: string;
  const A1 = () => t.fx.nodes.get('370523106001')!.id;

  before(async () => {
    t = await createTestApp();
    memberId = t.fx.userIds.get(userNameFor('community_officer', 'self'))!;
    const res = await t.as('station_leader', 'self', {
      method: 'POST',
      url: '/api/units',
      payload: { callSign: '李鹊1', name: '巡逻车1', type: 'patrol_car', homeNodeId: t.fx.target.id, memberIds: [memberId] },
    });
    assert.equal(res.statusCode, 201, res.body);
    unitId = res.json<{ id: string }>().id;
  });
  after(async () => t?.close());

  const ticket = async () => {
    const r = await t.as('community_officer', 'self', { method: 'POST', url: `/api/units/${unitId}/ticket` });
    assert.equal(r.statusCode, 200, r.body);
    return r.json<{ ticket: string }>().ticket;
  };
  const send = async (tk: string, points: unknown[]) =>
    t.app.inject({ method: 'POST', url: '/api/units/positions', headers: { authorization: `Ticket ${tk}` }, payload: { points } });
  const count = async () => Number((await t.ctx.database.query<{ n: number }>('select count(*)::int as n from unit_position where unit_id = $1', [unitId]))[0]!.n);

  it('lists, reads and hides units from a sibling station', async () => {
    const list = await t.as('dispatcher', 'above', { method: 'GET', url: '/api/units' });
    assert.equal(list.json<{ items: { id: string; members: unknown[] }[] }>().items.length, 1);
    const sib = await t.as('dispatcher', 'sibling', { method: 'GET', url: '/api/units' });
    assert.equal(sib.json<{ items: unknown[] }>().items.length, 0);
    assert.equal((await t.as('dispatcher', 'sibling', { method: 'GET', url: `/api/units/${unitId}` })).statusCode, 403);
  });

  it('counts off-duty points, then ingests on duty with every rule counted and committed before the answer', async () => {
    const tk = await ticket();
    const now = Date.now();
    let r = await send(tk, [{ t: now, lon: 118.55, lat: 36.95 }]);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json<{ counts: { off_duty: number } }>().counts.off_duty, 1);
    const duty = await t.as('community_officer', 'self', { method: 'POST', url: `/api/units/${unitId}/duty`, payload: { onDuty: true } });
    assert.equal(duty.statusCode, 200, duty.body);
    await backdate();
    const t0 = Date.now();
    r = await send(tk, [
      { t: t0 - 2000, lon: 118.55, lat: 36.95, speed: 5 },
      { t: new Date(t0 - 1000).toISOString(), lon: 118.5501, lat: 36.95 },
      { t: t0 - 1000, lon: 118.5501, lat: 36.95 },
      { t: t0 - 500, lon: 118.7, lat: 36.95 },
      { t: t0 + 10 * 60_000, lon: 118.5502, lat: 36.95 },
    ]);
    const body = r.json<{ stored: number; counts: Record<string, number> }>();
    assert.equal(body.stored, 2);
    assert.equal(body.counts.duplicate, 1);
    assert.equal(body.counts.jump, 1);
    assert.equal(body.counts.future, 1);
    assert.equal(await count(), 2, 'acknowledged points are in the table');
    r = await send(tk, [{ t: t0 - 1500, lon: 118.55005, lat: 36.95 }]);
    assert.equal(r.json<{ counts: Record<string, number> }>().counts.out_of_order, 1);
    const live = runtime().positions.latest(unitId)!;
    assert.equal(live.t, t0 - 1000, 'an out-of-order point does not move the live position');
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /pingan_unit_positions_total\{outcome="jump"\} 1/);
    // A session of a member works too; someone else's ticket for this unit does not.
    r = await t.as('community_officer', 'self', { method: 'POST', url: '/api/units/positions', payload: { unitId, points: [{ t: Date.now(), lon: 118.5502, lat: 36.95 }] } });
    assert.equal(r.json<{ stored: number }>().stored, 1, r.body);
    r = await t.as('volunteer', 'sibling', { method: 'POST', url: '/api/units/positions', payload: { unitId, points: [{ t: Date.now() + 1, lon: 118.5502, lat: 36.95 }] } });
    assert.equal(r.json<{ counts: Record<string, number> }>().counts.forbidden, 1);
    r = await t.app.inject({ method: 'POST', url: '/api/units/positions', headers: { authorization: 'Ticket nonsense' }, payload: { unitId, points: [{ t: 1, lon: 1, lat: 1 }] } });
    assert.equal(r.statusCode, 401);
    const liveList = await t.as('dispatcher', 'self', { method: 'GET', url: '/api/units/live' });
    assert.equal(liveList.json<{ items: { unitId: string; stale: boolean }[] }>().items[0]!.unitId, unitId);
  });

  const runtime = () => unitsRuntime(t.ctx);
  /** The shift (and any run) began an hour ago, so points from the last minutes are on duty. */
  const backdate = async () => {
    await t.ctx.database.query(`update unit set duty_changed_at = now() - interval '1 hour' where on_duty`);
    await t.ctx.database.query(`update patrol_run set started_at = now() - interval '1 hour' where ended_at is null`);
    const ids = await t.ctx.database.query<{ id: string }>('select id from unit');
    await runtime().refreshUnits(ids.map((r) => r.id));
  };

  it('counts points of made-up units as unknown, and remembers a bounded number of such ids', async () => {
    const dispatcher = t.fx.userIds.get(userNameFor('dispatcher', 'above'))!;
    const sender = { kind: 'session' as const, userId: dispatcher };
    const made = Array.from({ length: 10_050 }, () => randomUUID());
    const counts = await runtime().ingest(sender, made.map((unitId) => ({ unitId, t: Date.now(), lon: 118.55, lat: 36.95, accuracy: null, speed: null, heading: null })));
    assert.equal(counts.unknown_unit, made.length);
    assert.ok(runtime().missingIds > 0 && runtime().missingIds <= 10_000, `${runtime().missingIds} unknown ids remembered`);
    const again = await runtime().ingest(sender, [{ unitId: made.at(-1)!, t: Date.now(), lon: 118.55, lat: 36.95, accuracy: null, speed: null, heading: null }]);
    assert.equal(again.unknown_unit, 1);
  });

  it('replays the track (audited) and converts coordinates', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const r = await t.as('dispatcher', 'above', { method: 'GET', url: `/api/units/${unitId}/track?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&maxPoints=2` });
    assert.equal(r.statusCode, 200, r.body);
    const b = r.json<{ total: number; points: { t: string }[] }>();
    assert.equal(b.total, 4);
    assert.equal(b.points.length, 2);
    const audit = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'unit.track.read'`);
    assert.equal(audit[0]!.n, 1);
  });

  it('going off duty stops tracking and closes the shift', async () => {
    const tk = await ticket();
    await t.as('community_officer', 'self', { method: 'POST', url: `/api/units/${unitId}/duty`, payload: { onDuty: false } });
    assert.equal(runtime().positions.latest(unitId), null);
    const r = await send(tk, [{ t: Date.now(), lon: 118.55, lat: 36.95 }]);
    assert.equal(r.json<{ counts: Record<string, number> }>().counts.off_duty, 1);
    const shifts = await t.as('dispatcher', 'self', { method: 'GET', url: `/api/units/${unitId}/shifts` });
    const items = shifts.json<{ items: { endedAt: string | null; memberIds: string[] }[] }>().items;
    assert.equal(items.length, 1);
    assert.ok(items[0]!.endedAt);
    assert.deepEqual(items[0]!.memberIds, [memberId]);
  });

  it('creates day partitions on demand and retention drops old ones', async () => {
    const w = runtime().writer;
    const day = 86_400_000;
    const old = Date.now() - 100 * day;
    await w.ensurePartitions([old, old + day]);
    await t.ctx.database.query(`insert into unit_position (unit_id, t, lon, lat) values ($1, $2, 118, 37)`, [unitId, new Date(old)]);
    const before = await w.partitions();
    assert.ok(before.includes(partitionName(old)) && before.includes(partitionName(Date.now())) && before.includes(partitionName(Date.now() + day)));
    const dropped = await w.applyRetention();
    assert.deepEqual(dropped.sort(), [partitionName(old), partitionName(old + day)].sort());
    assert.ok(!(await w.partitions()).includes(partitionName(old)));
    assert.equal(Number((await t.ctx.database.query<{ n: number }>('select count(*)::int as n from unit_position where t < $1', [new Date(old + 2 * day)]))[0]!.n), 0);
  });

  it('the track writer stores every column exactly (binary COPY on PostgreSQL) and skips rows another instance stored', async () => {
    const w = runtime().writer;
    const at = Date.now() - 3 * 86_400_000; // a day of its own, so the other tests' rows do not count
    const rows: Ping[] = [
      { unitId, t: at, lon: 118.123456789012, lat: 36.987654321098, accuracy: 4.5, speed: 12.25, heading: 359.5 },
      { unitId, t: at + 1001.5, lon: -0.5, lat: -89.999999, accuracy: null, speed: null, heading: null },
      { unitId: unitId.toUpperCase(), t: at + 86_400_000 - 1, lon: 180, lat: 90, accuracy: 0, speed: 0, heading: -1 },
    ];
    await w.ensurePartitions(rows.map((r) => r.t));
    const conflicts = w.stats.copyConflicts;
    await w.enqueue(rows);
    const read = () =>
      t.ctx.database.query<{ us: string; lon: number; lat: number; accuracy: number | null; speed: number | null; heading: number | null }>(
        `select (extract(epoch from t) * 1000000)::bigint::text as us, lon, lat, accuracy, speed, heading
         from unit_position where unit_id = $1 and t >= $2 and t < $3 order by t`,
        [unitId, new Date(at), new Date(at + 86_400_000)],
      );
    const got = await read();
    assert.deepEqual(
      got.map((r) => [Number(r.us), r.lon, r.lat, r.accuracy, r.speed, r.heading]),
      rows.map((r) => [Math.round(r.t * 1000), r.lon, r.lat, r.accuracy, r.speed, r.heading]),
    );
    // The same rows again, as a second instance whose rules never saw them would send them: no error,
    // nothing stored twice, plus one new row in the same flush.
    await w.enqueue([...rows, { ...rows[0]!, t: at + 5000 }]);
    assert.equal((await read()).length, 4);
    assert.equal(w.stats.copyConflicts - conflicts, t.ctx.database.engine === 'postgres' ? 1 : 0, 'PostgreSQL retries the COPY as INSERT … ON CONFLICT');
  });

  it('service stations are places with staffing and dispatchable units with a fixed position', async () => {
    const r = await t.as('station_leader', 'self', {
      method: 'POST',
      url: '/api/units',
      payload: {
        callSign: '服务站1', name: '李鹊街面警务站', type: 'service_station', homeNodeId: t.fx.target.id,
        station: { address: '李鹊镇中心路', lon: 118.55, lat: 36.95, functions: ['reception', 'first_aid'], staffing: [{ from: '00:00', to: '24:00', staff: 2 }] },
      },
    });
    assert.equal(r.statusCode, 201, r.body);
    const st = r.json<{ id: string; station: { staffNow: number } }>();
    assert.equal(st.station.staffNow, 2);
    const bad = await t.as('station_leader', 'self', { method: 'POST', url: '/api/units', payload: { callSign: 'x', name: 'x', type: 'service_station', homeNodeId: t.fx.target.id } });
    assert.equal(bad.statusCode, 422);
    await t.as('station_leader', 'self', { method: 'POST', url: `/api/units/${st.id}/duty`, payload: { onDuty: true } });
    const near = runtime().positions.nearest(118.551, 36.95, 1);
    assert.equal(near[0]?.unitId, st.id);
  });

  it('reach: share of a grid within 1/3/5 minutes of a point (hand-computed circle areas)', async () => {
    // Grid A1 is the box 118.5–118.6 × 36.9–37.0; a point at its centre, 30 km/h → r = 0.5, 1.5, 2.5 km.
    const r = await t.as('dispatcher', 'self', {
      method: 'POST',
      url: '/api/units/reach',
      payload: { nodeId: t.fx.target.id, points: [{ lon: 118.55, lat: 36.95 }], speedKmh: 30 },
    });
    assert.equal(r.statusCode, 200, r.body);
    const b = r.json<{ grids: { id: string; areaKm2: number; shares: Record<string, number> }[]; radiiM: Record<string, number> }>();
    assert.deepEqual(b.radiiM, { 1: 500, 3: 1500, 5: 2500 });
    const g = b.grids.find((x) => x.id === A1())!;
    // Box area on the ellipsoid: 0.1° lon × cos(36.95°) × 111.32 km × 0.1° lat × 110.99 km ≈ 98.8 km².
    assert.ok(Math.abs(g.areaKm2 - 98.8) < 0.5, `area ${g.areaKm2}`);
    for (const [m, rKm] of [['1', 0.5], ['3', 1.5], ['5', 2.5]] as const) {
      const expected = (Math.PI * rKm * rKm) / g.areaKm2;
      assert.ok(Math.abs(g.shares[m]! - expected) / expected < 0.02, `${m} min: ${g.shares[m]} vs ${expected}`);
    }
  });

  it('patrol: zone, plan, run with checkpoints detected from ingested positions, coverage per grid', async () => {
    const zone = await t.as('station_leader', 'self', {
      method: 'POST',
      url: '/api/patrol/zones',
      payload: { name: '李鹊北区', nodeId: t.fx.target.id, geometry: { type: 'Polygon', coordinates: [[[118.5, 36.9], [118.6, 36.9], [118.6, 37], [118.5, 37], [118.5, 36.9]]] } },
    });
    assert.equal(zone.statusCode, 201, zone.body);
    const badZone = await t.as('station_leader', 'self', {
      method: 'POST',
      url: '/api/patrol/zones',
      payload: { name: 'bow', nodeId: t.fx.target.id, geometry: { type: 'Polygon', coordinates: [[[118.5, 36.9], [118.6, 37], [118.6, 36.9], [118.5, 37], [118.5, 36.9]]] } },
    });
    assert.equal(badZone.statusCode, 422);
    const plan = await t.as('station_leader', 'self', {
      method: 'POST',
      url: '/api/patrol/plans',
      payload: {
        name: '早巡', nodeId: t.fx.target.id, zoneId: zone.json<{ id: string }>().id, unitId,
        checkpoints: [{ name: '学校', lon: 118.552, lat: 36.95, radiusM: 50, dwellS: 10 }, { name: '市场', lon: 118.56, lat: 36.95, radiusM: 50, dwellS: 0 }],
        schedule: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' }],
      },
    });
    assert.equal(plan.statusCode, 201, plan.body);
    await t.as('community_officer', 'self', { method: 'POST', url: `/api/units/${unitId}/duty`, payload: { onDuty: true } });
    const run = await t.as('community_officer', 'self', { method: 'POST', url: '/api/patrol/runs', payload: { planId: plan.json<{ id: string }>().id } });
    assert.equal(run.statusCode, 201, run.body);
    const runId = run.json<{ id: string }>().id;
    await backdate();
    const tk = await ticket();
    const t0 = Date.now() + 1000;
    const pts = [0, 5, 10, 15].map((s) => ({ t: t0 + s * 1000, lon: 118.552, lat: 36.95 }));
    const r = await send(tk, pts);
    assert.equal(r.json<{ stored: number }>().stored, 4, r.body);
    const got = await t.as('dispatcher', 'self', { method: 'GET', url: `/api/patrol/runs/${runId}` });
    const d = got.json<{ detection: { reached: number; missed: number[]; checkpoints: { dwellS: number }[] } }>().detection;
    assert.equal(d.reached, 1);
    assert.deepEqual(d.missed, [1]);
    assert.equal(d.checkpoints[0]!.dwellS, 15);
    const ended = await t.as('community_officer', 'self', { method: 'POST', url: `/api/patrol/runs/${runId}/end` });
    assert.ok(ended.json<{ endedAt: string | null }>().endedAt);

    const date = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const cov = await t.as('dispatcher', 'self', { method: 'GET', url: `/api/patrol/coverage?nodeId=${t.fx.target.id}&date=${date}` });
    assert.equal(cov.statusCode, 200, cov.body);
    const items = cov.json<{ items: { id: string; minutes: number }[] }>().items;
    const a1 = items.find((i) => i.id === A1())!;
    assert.ok(a1.minutes > 0.2, `A1 minutes ${a1.minutes}`);
    const byZone = await t.as('dispatcher', 'self', { method: 'GET', url: `/api/patrol/coverage?nodeId=${t.fx.target.id}&date=${date}&by=zone` });
    assert.ok(byZone.json<{ items: { minutes: number }[] }>().items[0]!.minutes > 0.2);
  });
});
