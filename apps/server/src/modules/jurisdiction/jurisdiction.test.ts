import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPostgresBus } from '../../platform/bus.js';
import { openDatabase } from '../../platform/db/index.js';
import { createTestApp, FIXTURE_VALID_FROM, type TestApp } from '../../testing/app.js';
import { fromWgs84 } from './geo/coords.js';
import { JurisdictionLookup } from './lookup.js';

const square = (x: number, y: number, w: number, h = w) => ({
  type: 'Polygon' as const,
  coordinates: [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]],
});

describe('jurisdictions and grids', () => {
  let t: TestApp;
  let A: string;
  let A1: string;
  before(async () => {
    t = await createTestApp();
    A = t.fx.target.id;
    A1 = t.fx.nodes.get('370523106001')!.id;
  });
  after(async () => t?.close());

  const admin = (opts: Parameters<TestApp['as']>[2]) => t.as('admin', 'above', opts);
  const lookup = async (lon: number, lat: number, crs = 'WGS84') =>
    (await admin({ url: `/api/lookup?lon=${lon}&lat=${lat}&crs=${crs}` })).json() as {
      found: boolean;
      message: string | null;
      chain: { code: string; level: string }[];
    };

  describe('point lookup', () => {
    it('resolves a point to grid, station, county and province', async () => {
      const r = await lookup(118.55, 36.95);
      assert.equal(r.found, true);
      assert.deepEqual(r.chain.map((c) => c.code), ['370523106001', '370523106', '370523', '37']);
    });

    it('answers a point outside every grid clearly, without an error', async () => {
      const r = await lookup(100, 30);
      assert.equal(r.found, false);
      assert.match(r.message!, /outside every grid/);
    });

    it('takes GCJ-02 and BD-09 input and resolves the same place', async () => {
      const [gx, gy] = fromWgs84(118.55, 36.95, 'GCJ02');
      const [bx, by] = fromWgs84(118.55, 36.95, 'BD09');
      assert.ok(Math.abs(gx - 118.55) > 1e-4, 'GCJ-02 differs from WGS-84 in China');
      const viaGcj = await admin({ url: `/api/lookup?lon=${gx}&lat=${gy}&crs=GCJ02` });
      const viaBd = await admin({ url: `/api/lookup?lon=${bx}&lat=${by}&crs=BD09` });
      for (const res of [viaGcj, viaBd]) {
        const body = res.json() as { point: { lon: number; lat: number }; chain: { code: string }[] };
        assert.equal(body.chain[0]!.code, '370523106001');
        // Round trip within a metre: 1e-5 degrees is about 1 m.
        assert.ok(Math.abs(body.point.lon - 118.55) < 1e-5 && Math.abs(body.point.lat - 36.95) < 1e-5);
      }
    });

    it('resolves a point on the shared edge of stations A and B to exactly one, every time', async () => {
      const answers = new Set<string>();
      for (let i = 0; i < 5; i++) answers.add((await lookup(118.75, 37.15)).chain[0]!.code);
      assert.equal(answers.size, 1);
      // West side wins (docs/decisions/005-boundary-rule.md): A lies west of the edge x = 118.75.
      assert.equal([...answers][0], '370523106');
    });
  });

  describe('editing the tree', () => {
    it('creates a grid inside its parent, visible to lookup at once, versioned and audited', async () => {
      const res = await admin({
        method: 'POST',
        url: '/api/jurisdictions',
        payload: { parentId: A, code: 'T-NEW-1', name: '新建网格', level: 'grid', geometry: square(118.62, 37.1, 0.02) },
      });
      assert.equal(res.statusCode, 201, res.body);
      const r = await lookup(118.63, 37.11);
      assert.equal(r.chain[0]!.code, 'T-NEW-1');
      const versions = await t.ctx.database.query<{ n: number }>('select count(*)::int as n from jurisdiction_node_version where node_id = $1', [res.json().id]);
      assert.equal(versions[0]!.n, 1);
      const audit = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'jurisdiction.create' and entity_id = $1`, [res.json().id]);
      assert.equal(audit[0]!.n, 1);
    });

    it('refuses a child sticking out of its parent, overlapping a sibling, or of the wrong level, saying why', async () => {
      const outside = await admin({
        method: 'POST',
        url: '/api/jurisdictions',
        payload: { parentId: A, code: 'T-OUT', name: '越界', level: 'grid', geometry: square(118.7, 37.2, 0.1) },
      });
      assert.equal(outside.statusCode, 422);
      assert.match(outside.json().message, /outside its parent/);
      const overlap = await admin({
        method: 'POST',
        url: '/api/jurisdictions',
        payload: { parentId: A, code: 'T-OVER', name: '重叠', level: 'grid', geometry: square(118.55, 36.95, 0.1) },
      });
      assert.equal(overlap.statusCode, 422);
      assert.match(overlap.json().message, /overlaps 李鹊村网格/);
      const level = await admin({
        method: 'POST',
        url: '/api/jurisdictions',
        payload: { parentId: A, code: 'T-LVL', name: '错级', level: 'county', geometry: square(118.7, 37.25, 0.01) },
      });
      assert.equal(level.statusCode, 422);
      const bowtie = await admin({
        method: 'POST',
        url: '/api/jurisdictions',
        payload: {
          parentId: A,
          code: 'T-BOW',
          name: '自相交',
          level: 'grid',
          geometry: { type: 'Polygon', coordinates: [[[118.7, 37.25], [118.71, 37.26], [118.71, 37.25], [118.7, 37.26], [118.7, 37.25]]] },
        },
      });
      assert.equal(bowtie.statusCode, 422);
      assert.match(bowtie.json().message, /not a valid polygon/i);
      const dup = await admin({
        method: 'POST',
        url: '/api/jurisdictions',
        payload: { parentId: A, code: '370523106001', name: '重复', level: 'grid', geometry: square(118.7, 37.28, 0.01) },
      });
      assert.equal(dup.statusCode, 409);
    });

    it('splits a grid into parts that tile it; its children and team follow, history remembers', async () => {
      const created = await admin({
        method: 'POST',
        url: '/api/jurisdictions',
        payload: { parentId: A, code: 'T-SPLIT', name: '待拆网格', level: 'grid', geometry: square(118.66, 37.1, 0.02) },
      });
      const id = created.json().id as string;
      const micro = await admin({
        method: 'POST',
        url: '/api/jurisdictions',
        payload: { parentId: id, code: 'T-SPLIT-M', name: '微网格', level: 'micro_grid', geometry: square(118.675, 37.105, 0.004) },
      });
      assert.equal(micro.statusCode, 201, micro.body);
      const beforeSplit = new Date();
      await new Promise((r) => setTimeout(r, 20));
      const gap = await admin({
        method: 'POST',
        url: `/api/jurisdictions/${id}/split`,
        payload: { parts: [
          { code: 'T-W', name: '西', level: 'grid', geometry: square(118.66, 37.1, 0.009, 0.02) },
          { code: 'T-E', name: '东', level: 'grid', geometry: square(118.67, 37.1, 0.01, 0.02) },
        ] },
      });
      assert.equal(gap.statusCode, 422, 'parts leaving a gap are refused');
      assert.match(gap.json().message, /gaps or overhang/);
      const split = await admin({
        method: 'POST',
        url: `/api/jurisdictions/${id}/split`,
        payload: { parts: [
          { code: 'T-W', name: '西', level: 'grid', geometry: square(118.66, 37.1, 0.01, 0.02) },
          { code: 'T-E', name: '东', level: 'grid', geometry: square(118.67, 37.1, 0.01, 0.02) },
        ] },
      });
      assert.equal(split.statusCode, 200, split.body);
      assert.deepEqual((await lookup(118.665, 37.11)).chain[0]!.code, 'T-W');
      const east = await lookup(118.677, 37.107);
      assert.deepEqual(east.chain.slice(0, 2).map((c) => c.code), ['T-SPLIT-M', 'T-E'], 'the micro-grid moved under the east part');

      const owners = async (at: Date) =>
        ((await admin({ url: `/api/jurisdictions/owners-at?lon=118.665&lat=37.11&at=${at.toISOString()}` })).json() as { owners: { code: string }[] }).owners.map((o) => o.code);
      assert.deepEqual((await owners(beforeSplit))[0], 'T-SPLIT', 'before the split the old grid owned the point');
      assert.deepEqual((await owners(new Date()))[0], 'T-W');
      assert.deepEqual(await owners(new Date(FIXTURE_VALID_FROM.getTime() - 86400_000)), [], 'before the tree existed nobody did');
    });

    it('merges sibling grids into one, and refuses to merge across parents', async () => {
      const make = async (code: string, x: number) =>
        (await admin({ method: 'POST', url: '/api/jurisdictions', payload: { parentId: A, code, name: code, level: 'grid', geometry: square(x, 37.15, 0.01) } })).json().id as string;
      const a = await make('T-M1', 118.6);
      const b = await make('T-M2', 118.61);
      const merged = await admin({ method: 'POST', url: '/api/jurisdictions/merge', payload: { nodeIds: [a, b], code: 'T-M', name: '合并' } });
      assert.equal(merged.statusCode, 200, merged.body);
      assert.equal((await lookup(118.605, 37.155)).chain[0]!.code, 'T-M');
      assert.equal((await lookup(118.615, 37.155)).chain[0]!.code, 'T-M');
      const across = await admin({
        method: 'POST',
        url: '/api/jurisdictions/merge',
        payload: { nodeIds: [A1, t.fx.nodes.get('370523101001')!.id], code: 'T-X', name: 'x' },
      });
      assert.equal(across.statusCode, 422);
    });

    it('lets a station leader edit only inside the station', async () => {
      const own = await t.as('station_leader', 'self', { method: 'PATCH', url: `/api/jurisdictions/${A1}`, payload: { name: '李鹊村一网格' } });
      assert.equal(own.statusCode, 200);
      const other = await t.as('station_leader', 'self', {
        method: 'PATCH',
        url: `/api/jurisdictions/${t.fx.nodes.get('370523101001')!.id}`,
        payload: { name: '越权' },
      });
      assert.equal(other.statusCode, 403);
    });

    it('exports a subtree as GeoJSON in the coordinate system asked for', async () => {
      const wgs = (await admin({ url: `/api/jurisdictions/${A}/export` })).json() as { features: { properties: { code: string }; geometry: { coordinates: number[][][][] } }[] };
      const gcj = (await admin({ url: `/api/jurisdictions/${A}/export?crs=GCJ02` })).json() as typeof wgs;
      assert.equal(wgs.features[0]!.properties.code, '370523106');
      assert.ok(wgs.features.some((f) => f.properties.code === '370523106001'));
      const p = wgs.features[0]!.geometry.coordinates[0]![0]![0]!;
      const q = gcj.features[0]!.geometry.coordinates[0]![0]![0]!;
      const [ex, ey] = fromWgs84(p[0]!, p[1]!, 'GCJ02');
      assert.ok(Math.abs(q[0]! - ex) < 1e-6 && Math.abs(q[1]! - ey) < 1e-6);
    });
  });

  describe('teams and contact cards', () => {
    it('keeps a 4+N+N team; phones masked, revealed only to roles that need them and audited', async () => {
      const add = (duty: string, name: string, phone: string, phonePublic: boolean) =>
        t.as('station_leader', 'self', { method: 'POST', url: `/api/jurisdictions/${A1}/team`, payload: { duty, person: { name, phone, phonePublic } } });
      assert.equal((await add('grid_police', '张警官', '13811112222', true)).statusCode, 201);
      assert.equal((await add('volunteer', '李大妈', '13933334444', false)).statusCode, 201);
      const team = (await t.as('community_officer', 'self', { url: `/api/jurisdictions/${A1}/team` })).json() as { items: { name: string; phone: string }[] };
      assert.deepEqual(team.items.map((m) => m.phone).sort(), ['138****2222', '139****4444']);
      const denied = await t.as('community_officer', 'self', { url: `/api/jurisdictions/${A1}/team?reveal=phone` });
      assert.equal(denied.statusCode, 403);
      const shown = await t.as('station_leader', 'self', { url: `/api/jurisdictions/${A1}/team?reveal=phone` });
      assert.ok((shown.json().items as { phone: string }[]).some((m) => m.phone === '13811112222'));
      const audited = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'personal_data.read' and entity_id = $1`, [A1]);
      assert.equal(audited[0]!.n, 1);
    });

    it('shows residents a public card without login, by point, QR slug and address, with only public phones', async () => {
      await t.as('station_leader', 'self', { method: 'PUT', url: `/api/jurisdictions/${A1}/card`, payload: { supervisionPhone: '0546-6123456' } });
      const byPoint = await t.app.inject({ url: '/api/public/cards?lon=118.55&lat=36.95' });
      assert.equal(byPoint.statusCode, 200);
      const card = byPoint.json().items[0] as { slug: string; supervisionPhone: string; station: { name: string }; members: { name: string; phone: string | null }[] };
      assert.equal(card.supervisionPhone, '0546-6123456');
      assert.equal(card.station.name, '李鹊派出所');
      assert.equal(card.members.find((m) => m.name === '张警官')?.phone, '13811112222');
      assert.equal(card.members.find((m) => m.name === '李大妈')?.phone, null, 'a private phone never reaches the public card');
      const bySlug = await t.app.inject({ url: `/api/public/cards/${card.slug}` });
      assert.equal(bySlug.json().name, '李鹊村一网格');
      const byAddress = await t.app.inject({ url: `/api/public/cards?address=${encodeURIComponent('广饶县李鹊镇李鹊村一网格东街3号')}` });
      assert.equal(byAddress.json().items[0]?.slug, card.slug);
      const nowhere = await t.app.inject({ url: '/api/public/cards?lon=100&lat=30' });
      assert.equal(nowhere.json().items.length, 0);
      assert.match(nowhere.json().message, /110/);
      const qr = await t.as('grid_worker', 'below', { url: `/api/jurisdictions/${A1}/card/qr.svg` });
      assert.equal(qr.statusCode, 200);
      assert.match(qr.body, /<svg/);
    });
  });
});

describe('lookup across instances', () => {
  it('sees a change made on one instance on another within a second (PostgreSQL NOTIFY)', { skip: !process.env.PINGAN_TEST_DATABASE_URL && 'needs PostgreSQL: run with PINGAN_TEST_DATABASE_URL (CI does)' }, async () => {
    const t = await createTestApp();
    try {
      const url = t.tdb.databaseUrl!;
      const busA = await createPostgresBus(t.ctx.database);
      const other = await openDatabase({ databaseUrl: url, poolSize: 2 });
      const busB = await createPostgresBus(other);
      const lookupB = await JurisdictionLookup.start(other, busB);
      const { createTreeService } = await import('./tree.js');
      const tree = createTreeService({ database: t.ctx.database, bus: busA, now: () => new Date() });
      const actor = (await t.auth.actorForUser(t.fx.userIds.get('admin.above')!, null, '127.0.0.1'))!;
      assert.equal(lookupB.resolve(118.705, 37.205)?.[0]?.code, '370523106');
      const started = Date.now();
      await tree.create(actor, t.fx.target.id, { code: 'X-INST', name: '跨实例', level: 'grid', geometry: square(118.7, 37.2, 0.01) });
      while (lookupB.resolve(118.705, 37.205)?.[0]?.code !== 'X-INST' && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 10));
      assert.equal(lookupB.resolve(118.705, 37.205)?.[0]?.code, 'X-INST');
      // Behaviour is asserted; the delay is reported, not asserted (timings belong to benches).
      console.log(`cross-instance lookup: the change was visible on the other instance after ${Date.now() - started} ms`);
      lookupB.stop();
      await busB.close();
      await busA.close();
      await other.close();
    } finally {
      await t.close();
    }
  });
});
