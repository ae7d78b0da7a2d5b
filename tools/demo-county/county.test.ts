import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as turf from '@turf/turf';
import { buildDemoCounty, readCountyRing, type DemoNode } from './county.js';
import { openScratchPostgis } from '../../bench/lib/postgis.js';

const county = buildDemoCounty();
const byCode = new Map(county.nodes.map((n) => [n.code, n]));
const childrenOf = (code: string) => county.nodes.filter((n) => n.parentCode === code);

test('build is deterministic and fast', () => {
  const again = buildDemoCounty();
  assert.deepEqual(again, county);
});

test('tree shape and counts', () => {
  const levels: Record<string, number> = {};
  for (const n of county.nodes) levels[n.level] = (levels[n.level] ?? 0) + 1;
  assert.equal(levels.province, 1);
  assert.equal(levels.city, 1);
  assert.equal(levels.county, 1);
  assert.equal(levels.station, 11);
  assert.ok(levels.grid > 500);
  const liqueMicro = county.nodes.filter((n) => n.level === 'micro_grid' && n.code.startsWith('370523106'));
  assert.ok(liqueMicro.length >= 1300 && liqueMicro.length <= 1380, `李鹊 micro-grids: ${liqueMicro.length}`);
  assert.equal(byCode.get('370523106')?.name, '李鹊派出所');
  // parents first, every parent exists
  const seen = new Set<string>();
  for (const n of county.nodes) {
    if (n.parentCode !== null) assert.ok(seen.has(n.parentCode), `${n.code} after its parent`);
    seen.add(n.code);
  }
  // core areas: the 街道 stations and everything below them
  for (const n of county.nodes.filter((x) => x.level === 'station')) {
    assert.equal(n.core, n.name === '广饶派出所' || n.name === '乐安派出所' || n.name === '丁庄派出所', n.name);
  }
  for (const n of county.nodes.filter((x) => x.level === 'grid' || x.level === 'micro_grid')) {
    assert.equal(n.core, byCode.get(n.parentCode!)!.core, n.code);
  }
});

test('every grid has a 4+N+N team', () => {
  const grids = county.nodes.filter((n) => n.level === 'grid' || n.level === 'micro_grid');
  const team = new Map<string, Map<string, number>>();
  for (const m of county.team) {
    const d = team.get(m.gridCode) ?? team.set(m.gridCode, new Map()).get(m.gridCode)!;
    d.set(m.duty, (d.get(m.duty) ?? 0) + 1);
    assert.match(m.phone, /^13\d{9}$/);
    assert.match(m.name, /^[\u4e00-\u9fff]{2,3}$/);
  }
  for (const g of grids) {
    const d = team.get(g.code);
    assert.ok(d, `team of ${g.code}`);
    for (const duty of ['grid_head', 'grid_instructor', 'grid_police', 'grid_manager']) assert.equal(d.get(duty), 1, `${g.code} ${duty}`);
    for (const duty of ['info_collector', 'volunteer']) {
      const n = d.get(duty) ?? 0;
      assert.ok(n >= 1 && n <= 3, `${g.code} ${duty} ${n}`);
    }
  }
  // one phone = one person
  const nameOf = new Map<string, string>();
  for (const m of county.team) {
    const prev = nameOf.get(m.phone);
    if (prev !== undefined) assert.equal(prev, m.name);
    nameOf.set(m.phone, m.name);
  }
});

test('coordinates have 6 decimals and polygons are closed MultiPolygons', () => {
  for (const n of county.nodes) {
    if (!n.geometry) continue;
    assert.equal(n.geometry.type, 'MultiPolygon');
    for (const poly of n.geometry.coordinates) {
      for (const ring of poly) {
        assert.ok(ring.length >= 4);
        assert.deepEqual(ring[0], ring[ring.length - 1]);
        for (const [x, y] of ring) {
          assert.equal(Math.round(x * 1e6) / 1e6, x);
          assert.equal(Math.round(y * 1e6) / 1e6, y);
        }
      }
    }
  }
});

test("every child's centroid lies in its parent", () => {
  for (const n of county.nodes) {
    if (!n.geometry || !n.parentCode) continue;
    const parent = byCode.get(n.parentCode)!;
    if (!parent.geometry) continue;
    // area centroid; a concave child whose centroid falls outside itself uses a point on its surface
    let p = turf.centerOfMass(n.geometry);
    if (!turf.booleanPointInPolygon(p, n.geometry)) p = turf.pointOnFeature(n.geometry);
    assert.ok(turf.booleanPointInPolygon(p, parent.geometry), `${n.code} ${n.name} in ${parent.code}`);
  }
});

test('towns cover the county area within 0.5%', () => {
  const real = turf.area(turf.polygon([readCountyRing()]));
  const towns = county.nodes.filter((n) => n.level === 'station').reduce((s, n) => s + turf.area(n.geometry!), 0);
  assert.ok(Math.abs(towns - real) / real < 0.005, `towns ${towns} vs county ${real}`);
  const countyNode = byCode.get('370523')!;
  assert.ok(Math.abs(turf.area(countyNode.geometry!) - real) / real < 0.005);
});

test('PostGIS: valid, siblings do not overlap, children cover parents', { timeout: 120_000 }, async () => {
  const db = await openScratchPostgis('pingan_test_demo_county');
  try {
    await db.query('CREATE TABLE n (code text primary key, parent text, level text, geom geometry(MultiPolygon, 4326))');
    const withGeom = county.nodes.filter((n): n is DemoNode & { geometry: NonNullable<DemoNode['geometry']> } => n.geometry !== null);
    for (let i = 0; i < withGeom.length; i += 500) {
      const chunk = withGeom.slice(i, i + 500);
      await db.query(
        `INSERT INTO n SELECT c, p, l, ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(c, p, l, g)`,
        [chunk.map((n) => n.code), chunk.map((n) => n.parentCode), chunk.map((n) => n.level), chunk.map((n) => JSON.stringify(n.geometry))],
      );
    }
    await db.query('CREATE INDEX ON n USING gist (geom)');
    const invalid = await db.query<{ code: string; why: string }>('SELECT code, ST_IsValidReason(geom) AS why FROM n WHERE NOT ST_IsValid(geom)');
    assert.deepEqual(invalid, []);
    const overlaps = await db.query<{ a: string; b: string; area: number }>(
      `SELECT a.code AS a, b.code AS b, ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS area
         FROM n a JOIN n b ON a.parent = b.parent AND a.code < b.code AND a.geom && b.geom
        WHERE ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 0.01`,
    );
    assert.deepEqual(overlaps, [], 'sibling overlaps above 0.01 m²');
    const cover = await db.query<{ code: string; gap: number }>(
      `SELECT p.code, ST_Area(ST_Difference(p.geom, ST_Union(c.geom))::geography) AS gap
         FROM n p JOIN n c ON c.parent = p.code GROUP BY p.code, p.geom
        HAVING ST_Area(ST_SymDifference(p.geom, ST_Union(c.geom))::geography) > 0.01`,
    );
    assert.deepEqual(cover, [], 'children must cover their parent exactly');
  } finally {
    await db.close();
  }
});
