import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../testing/app.js';
import { gbk, writeShapefileZip } from '../../../testing/shapefile.js';
import { fromWgs84 } from '../geo/coords.js';
import { createImportService } from './service.js';
import type { Finding, ImportReport } from './types.js';

/**
 * Grid imports on the fixture tree: station A (370523106) is the box 118.5–118.75 × 36.9–37.3 and
 * its grid A1 (370523106001) covers 118.5–118.6 × 36.9–37.0.
 */
const box = (x: number, y: number, w: number, h = w) => ({
  type: 'Polygon' as const,
  coordinates: [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]],
});
type Geometry = { type: string; coordinates: unknown };
const feature = (code: string | null, name: string | null, geometry: Geometry | null) => ({
  type: 'Feature',
  properties: { ...(code !== null ? { code } : {}), ...(name !== null ? { name } : {}) },
  geometry,
});
const collection = (features: unknown[]) => JSON.stringify({ type: 'FeatureCollection', features });

interface ImportAnswer {
  importId: string;
  report: ImportReport;
}

describe('grid imports', () => {
  let t: TestApp;
  let stationA: string;
  before(async () => {
    t = await createTestApp();
    stationA = t.fx.target.id;
  });
  after(async () => t?.close());

  const upload = async (body: string | Uint8Array, query = '', contentType = 'application/geo+json') => {
    const res = await t.as('station_leader', 'self', {
      method: 'POST',
      url: `/api/jurisdictions/${stationA}/imports?${query}`,
      headers: { 'content-type': contentType },
      payload: typeof body === 'string' ? body : Buffer.from(body),
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as ImportAnswer;
  };
  const kinds = (r: ImportReport, index: number | null) => r.findings.filter((f) => f.featureIndex === index).map((f) => f.kind);
  const finding = (r: ImportReport, index: number, kind: Finding['kind']) => r.findings.find((f) => f.featureIndex === index && f.kind === kind);
  const nodeCount = async (like = '%') =>
    Number((await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from jurisdiction_node where code like $1`, [like]))[0]!.n);
  const commitAndWait = async (importId: string) => {
    const res = await t.as('station_leader', 'self', { method: 'POST', url: `/api/imports/${importId}/commit` });
    assert.equal(res.statusCode, 202, res.body);
    for (let i = 0; i < 600; i++) {
      const s = await t.as('station_leader', 'self', { method: 'GET', url: `/api/imports/${importId}` });
      assert.equal(s.statusCode, 200, s.body);
      const state = s.json() as { status: string; progress: { done: number; total: number }; error: string | null; created: number | null };
      if (state.status !== 'committing') {
        await t.ctx.lookup.settled();
        return state;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the commit did not finish');
  };

  // Deliberately broken: each feature carries one problem.
  const broken = collection([
    feature('bt-1', '蝴蝶形', { type: 'Polygon', coordinates: [[[118.62, 37.1], [118.64, 37.12], [118.64, 37.1], [118.62, 37.12], [118.62, 37.1]]] }), // 0 bow-tie
    feature('sl-1', '碎片', box(118.7, 37.25, 0.00004)), // 1 sliver (~15 m²)
    feature('ov-1', '重叠甲', box(118.65, 37.05, 0.02)), // 2
    feature('ov-2', '重叠乙', box(118.66, 37.06, 0.02)), // 3 overlaps 2
    feature('out-1', '出界', box(118.74, 37.15, 0.02)), // 4 half outside A
    feature('ov-1', '重码', box(118.62, 37.2, 0.01)), // 5 duplicate of 2's code
    feature('370523106001', '已有编码', box(118.64, 37.2, 0.01)), // 6 code of grid A1
    feature('ln-1', '线', { type: 'LineString', coordinates: [[118.6, 37.1], [118.61, 37.11]] }), // 7 not a polygon
    feature('nn-1', null, box(118.66, 37.2, 0.01)), // 8 no name
    feature('ex-1', '压盖', box(118.59, 36.95, 0.02)), // 9 overlaps grid A1
  ]);

  it('reports every problem of a broken file with its kind, and writes nothing', async () => {
    const before_ = await nodeCount();
    const { importId, report } = await upload(broken, 'level=grid');
    assert.ok(importId);
    assert.ok(kinds(report, 0).includes('invalid_geometry'), JSON.stringify(kinds(report, 0)));
    assert.match(finding(report, 0, 'invalid_geometry')!.message, /crosses itself/);
    assert.ok(kinds(report, 1).includes('sliver'));
    assert.ok(kinds(report, 3).includes('overlap_in_file'));
    assert.match(finding(report, 3, 'overlap_in_file')!.message, /overlaps feature 3 \(ov-1\) by [\d.]+ (m²|km²)/);
    assert.ok(kinds(report, 4).includes('outside_parent'));
    assert.equal(finding(report, 4, 'outside_parent')!.severity, 'error');
    assert.ok(kinds(report, 5).includes('duplicate_code_in_file'));
    assert.ok(kinds(report, 6).includes('duplicate_code_existing'));
    assert.ok(kinds(report, 7).includes('not_polygon'));
    assert.ok(kinds(report, 8).includes('missing_name'));
    assert.ok(kinds(report, 9).includes('overlap_existing'));
    assert.match(finding(report, 9, 'overlap_existing')!.message, /李鹊村网格 \(370523106001\)/);
    assert.ok(kinds(report, null).includes('gap'), 'the parent is not fully covered');
    assert.ok(kinds(report, 2).every((k) => k !== 'overlap_in_file'), 'an overlap is reported once, on the later feature');
    assert.equal(report.summary.canCommit, false);
    assert.ok(report.summary.errors >= 9);
    // Validation wrote no node, and the commit is refused while errors remain.
    assert.equal(await nodeCount(), before_);
    const refused = await t.as('station_leader', 'self', { method: 'POST', url: `/api/imports/${importId}/commit` });
    assert.equal(refused.statusCode, 422);
    assert.match(refused.json().message, /error/);
  });

  it('fix=true repairs what can be fixed and reports what it did', async () => {
    const { report } = await upload(broken, 'level=grid&fix=true');
    const fixedKinds = new Set(report.fixes.map((f) => `${f.featureIndex}:${f.kind}`));
    assert.ok(fixedKinds.has('0:made_valid'));
    assert.ok(fixedKinds.has('1:dropped_sliver'));
    assert.ok(fixedKinds.has('3:removed_overlap_in_file'));
    assert.ok(fixedKinds.has('4:clipped_to_parent'));
    assert.ok(fixedKinds.has('9:removed_overlap_existing'));
    for (const i of [0, 1, 2, 3, 4, 9]) {
      const left = report.findings.filter((f) => f.featureIndex === i && f.severity === 'error');
      assert.deepEqual(left, [], `feature ${i} still has ${JSON.stringify(left)}`);
    }
    assert.equal(report.features[1]!.status, 'dropped');
    // Not fixable: codes, names, non-polygons.
    assert.ok(kinds(report, 5).includes('duplicate_code_in_file'));
    assert.ok(kinds(report, 6).includes('duplicate_code_existing'));
    assert.ok(kinds(report, 7).includes('not_polygon'));
    assert.ok(kinds(report, 8).includes('missing_name'));
    assert.ok(report.findings.filter((f) => f.severity === 'error').every((f) => !f.fixable));
  });

  it('commits a fixed file in one go: nodes, cards, versions, audit; lookup finds them', async () => {
    const file = collection([
      feature('fx-1', '修复甲', { type: 'Polygon', coordinates: [[[118.62, 37.1], [118.64, 37.12], [118.64, 37.1], [118.62, 37.12], [118.62, 37.1]]] }),
      feature('fx-2', '修复乙', box(118.65, 37.05, 0.02)),
      feature('fx-3', '修复丙', box(118.66, 37.06, 0.02)),
      feature('fx-4', '修复丁', box(118.74, 37.15, 0.02)),
      feature('fx-5', '碎片', box(118.7, 37.25, 0.00004)),
    ]);
    const { importId, report } = await upload(file, 'level=grid&fix=true');
    assert.equal(report.summary.canCommit, true, JSON.stringify(report.findings));
    assert.equal(report.summary.importable, 4);
    const state = await commitAndWait(importId);
    assert.equal(state.status, 'committed', state.error ?? '');
    assert.equal(state.created, 4);
    assert.equal(await nodeCount('fx-%'), 4);
    // Where features overlapped, the earlier one owns the point; the clipped one stays inside A.
    assert.equal(t.ctx.lookup.resolve(118.665, 37.065)?.[0]?.code, 'fx-2', JSON.stringify(t.ctx.lookup.resolve(118.665, 37.065)));
    assert.equal(t.ctx.lookup.resolve(118.675, 37.075)?.[0]?.code, 'fx-3');
    assert.equal(t.ctx.lookup.resolve(118.745, 37.16)?.[0]?.code, 'fx-4');
    assert.equal(t.ctx.lookup.resolve(118.745, 37.16)?.[1]?.code, '370523106');
    assert.equal(t.ctx.lookup.resolve(118.622, 37.11)?.[0]?.code, 'fx-1', 'the left wing of the repaired bow-tie');
    assert.equal(t.ctx.lookup.resolve(118.638, 37.11)?.[0]?.code, 'fx-1', 'the right wing');
    const [check] = await t.ctx.database.query<{ cards: number; versions: number; outside: number; audits: number }>(
      `select (select count(*)::int from grid_card c join jurisdiction_node n on n.id = c.node_id where n.code like 'fx-%') as cards,
              (select count(*)::int from jurisdiction_node_version where code like 'fx-%' and change = 'import' and valid_to is null) as versions,
              (select count(*)::int from jurisdiction_node n, jurisdiction_node p where n.code = 'fx-4' and p.code = '370523106'
                 and ST_Area(ST_Difference(n.geom, p.geom)::geography) > 1) as outside,
              (select count(*)::int from audit_log where action = 'jurisdiction.import' and entity_id = $1) as audits`,
      [importId],
    );
    assert.deepEqual(check, { cards: 4, versions: 4, outside: 0, audits: 1 });
    const [row] = await t.ctx.database.query<{ status: string }>('select status from grid_import where id = $1', [importId]);
    assert.equal(row!.status, 'committed');
    // A second commit of the same import is refused.
    const again = await t.as('station_leader', 'self', { method: 'POST', url: `/api/imports/${importId}/commit` });
    assert.equal(again.statusCode, 409);
  });

  it('converts GCJ-02 input to WGS-84 and commits from the stored input after a restart', async () => {
    const [gx, gy] = fromWgs84(118.69, 37.22, 'GCJ02');
    const file = collection([feature('gcj-1', '火星网格', box(gx, gy, 0.005))]);
    const { importId, report } = await upload(file, 'level=grid&crs=GCJ02');
    assert.equal(report.summary.canCommit, true, JSON.stringify(report.findings));
    // A fresh service (as after a restart) has nothing in memory: it reads grid_import.report.input.
    const restarted = createImportService(t.ctx);
    await restarted.commit(null, importId);
    const done = await restarted.wait(importId);
    assert.equal(done?.status, 'committed', done?.error ?? '');
    await t.ctx.lookup.settled();
    assert.equal(t.ctx.lookup.resolve(118.6925, 37.2225)?.[0]?.code, 'gcj-1');
    const [corner] = await t.ctx.database.query<{ x: number; y: number }>(
      `select ST_XMin(geom)::float8 as x, ST_YMin(geom)::float8 as y from jurisdiction_node where code = 'gcj-1'`,
    );
    assert.ok(Math.abs(corner!.x - 118.69) < 1e-5 && Math.abs(corner!.y - 37.22) < 1e-5, `stored in WGS-84: ${JSON.stringify(corner)}`);
  });

  it('cancelling a commit of thousands of features leaves no node written', async () => {
    const features = [];
    for (let r = 0; r < 50; r++) {
      // West of the other imports: 118.5–118.6 × 37.0–37.1, just north of grid A1.
      for (let c = 0; c < 60; c++) features.push(feature(`cx-${r}-${c}`, `取消${r}-${c}`, box(118.5 + c * (0.1 / 60), 37.0 + r * 0.002, 0.1 / 60, 0.002)));
    }
    const service = createImportService(t.ctx, { batchSize: 100 });
    const v = await service.validate(null, stationA, {
      body: Buffer.from(collection(features)),
      contentType: 'application/geo+json',
      level: 'micro_grid',
      crs: 'WGS84',
      fix: false,
    });
    assert.equal(v.report.summary.features, 3000);
    assert.equal(v.report.summary.canCommit, true, JSON.stringify(v.report.findings.slice(0, 3)));
    const before_ = await nodeCount();
    await service.commit(null, v.importId);
    // Progress is served from memory while the job's transaction holds the connection.
    let seen = 0;
    for (let i = 0; i < 5000 && seen === 0; i++) {
      const p = await service.get(null, v.importId);
      seen = p.progress.done;
      if (seen === 0) await new Promise((r) => setImmediate(r));
    }
    assert.ok(seen > 0 && seen < 3000, `progress seen mid-commit: ${seen}`);
    const c = await service.cancel(null, v.importId);
    assert.equal(c.status, 'committing', 'the cancel is taken at the next batch');
    const end = await service.wait(v.importId);
    assert.equal(end?.status, 'cancelled');
    assert.equal(end?.progress.phase, 'cancelled');
    assert.equal(await nodeCount(), before_);
    assert.equal(await nodeCount('cx-%'), 0);
    const [row] = await t.ctx.database.query<{ status: string; versions: number }>(
      `select status, (select count(*)::int from jurisdiction_node_version where code like 'cx-%') as versions from grid_import where id = $1`,
      [v.importId],
    );
    assert.deepEqual(row, { status: 'cancelled', versions: 0 });
  });

  it('reads a UTF-8 shapefile zip (.cpg UTF-8) with its names', async () => {
    const zip = writeShapefileZip(
      [
        { geometry: box(118.61, 37.27, 0.01), properties: { CODE: 'shp-u1', NAME: '李鹊村东网格' } },
        { geometry: box(118.62, 37.27, 0.01), properties: { CODE: 'shp-u2', NAME: '李鹊村西网格' } },
      ],
      { cpg: 'UTF-8' },
    );
    const { importId, report } = await upload(zip, 'level=grid', 'application/zip');
    assert.equal(report.format, 'shapefile');
    assert.equal(report.encoding, 'utf-8');
    assert.deepEqual(report.features.map((f) => f.name), ['李鹊村东网格', '李鹊村西网格']);
    assert.equal(report.summary.canCommit, true, JSON.stringify(report.findings));
    assert.equal((await commitAndWait(importId)).status, 'committed');
    assert.equal(t.ctx.lookup.resolve(118.615, 37.275)?.[0]?.name, '李鹊村东网格');
  });

  it('reads a GBK shapefile without .cpg, with Chinese field names', async () => {
    assert.deepEqual([...gbk('李鹊村')], [0xc0, 0xee, 0xc8, 0xb5, 0xb4, 0xe5]);
    const zip = writeShapefileZip(
      [
        { geometry: box(118.61, 37.285, 0.01), properties: { 编码: 'shp-g1', 名称: '李鹊村一网格' } },
        { geometry: box(118.62, 37.285, 0.01), properties: { 编码: 'shp-g2', 名称: '李鹊村二网格' } },
      ],
      { encode: gbk },
    );
    const { importId, report } = await upload(zip, 'level=grid', 'application/zip');
    assert.equal(report.encoding, 'gbk');
    assert.equal(report.codeField, '编码');
    assert.equal(report.nameField, '名称');
    assert.deepEqual(report.features.map((f) => [f.code, f.name]), [['shp-g1', '李鹊村一网格'], ['shp-g2', '李鹊村二网格']]);
    assert.equal((await commitAndWait(importId)).status, 'committed');
    const [n] = await t.ctx.database.query<{ name: string }>(`select name from jurisdiction_node where code = 'shp-g2'`);
    assert.equal(n!.name, '李鹊村二网格');
  });

  it('names the code field when asked, and refuses what is not a grid file', async () => {
    const file = collection([{ type: 'Feature', properties: { WGBH: 'cf-1', 网格名称: '自定义字段' }, geometry: box(118.63, 37.29, 0.005) }]);
    const { report } = await upload(file, 'codeField=WGBH');
    assert.equal(report.codeField, 'WGBH');
    assert.equal(report.nameField, '网格名称');
    assert.equal(report.features[0]!.code, 'cf-1');
    const post = (payload: string, type: string, query = '') =>
      t.as('station_leader', 'self', { method: 'POST', url: `/api/jurisdictions/${stationA}/imports${query}`, headers: { 'content-type': type }, payload });
    assert.equal((await post('{"type":"Topology"}', 'application/json')).statusCode, 422);
    assert.equal((await post('not json', 'application/geo+json')).statusCode, 422);
    assert.equal((await post('PK\u0003\u0004garbage', 'application/zip')).statusCode, 422);
    assert.equal((await post(file, 'application/json', '?level=station')).statusCode, 422, 'a station cannot sit under a station');
    const sibling = await t.as('station_leader', 'sibling', {
      method: 'POST',
      url: `/api/jurisdictions/${stationA}/imports`,
      headers: { 'content-type': 'application/json' },
      payload: file,
    });
    assert.equal(sibling.statusCode, 403);
  });
});
