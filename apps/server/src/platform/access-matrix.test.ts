import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { Role } from '@pingan/contracts';
import { createTestApp, PLACEMENTS, type Fixture, type Placement, type TestApp } from '../testing/app.js';

/**
 * The access policy, written down independently of the routes. Every /api route must have an
 * entry; a new route without one fails this test. `scoped` routes act on node A of the fixture
 * tree: allowed roles succeed from A itself and from above it, and get 403 from below and from
 * the sibling station.
 */
interface MatrixEntry {
  allowed: readonly Role[] | 'public';
  scoped: boolean;
  /** The request acts on grid A1 (below A) instead of A: an actor at A1 is then at its own node. */
  targetsGrid?: boolean;
  request: (fx: Fixture, n: number, t: TestApp) => InjectOptions | Promise<InjectOptions>;
  /** Status of a successful call. */
  ok?: number;
  /** Log in afresh for each call (the route ends the session). */
  freshSession?: boolean;
  /** Status without a session when it is not 401 / 2xx (e.g. a WebSocket route answers plain GETs 404). */
  anonymousStatus?: number;
  /** A rule that is not "role and place" (e.g. membership of a partner department). */
  expect?: (role: Role, place: Placement) => boolean;
}

const ALL = Role.options;
const MANAGERS: Role[] = ['admin', 'station_leader'];
const AUDITORS: Role[] = ['admin', 'inspector'];
const EDITORS: Role[] = ['admin', 'station_leader'];
const EXPORTERS: Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'inspector'];
const PNG_1PX = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const DISPATCHERS: Role[] = ['admin', 'dispatcher', 'station_leader'];
const READERS: Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'inspector'];
const INTAKERS: Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary'];
const RESPONDERS: Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'volunteer', 'security_guard'];
const inTree = (place: Placement) => place !== 'sibling';

/** An incident located in grid A1, taken by the county dispatcher. */
async function incidentAtA1(t: TestApp, category = 'public_order.fight'): Promise<string> {
  const res = await t.as('dispatcher', 'above', {
    method: 'POST',
    url: '/api/incidents',
    payload: { content: '矩阵测试警情', category, priority: 2, callerPhone: '13612345678', location: { lon: 118.55, lat: 36.95 } },
  });
  if (res.statusCode !== 201) throw new Error(`intake failed: ${res.body}`);
  return res.json().id as string;
}
/** An on-duty patrol car of station A. */
async function unitAtA(t: TestApp): Promise<string> {
  const [u] = await t.ctx.database.query<{ id: string }>(
    `insert into unit (call_sign, name, type, home_node_id, path, on_duty) values ('M' || substr(md5(random()::text), 1, 6), '矩阵车', 'patrol_car', $1, $2, true) returning id`,
    [t.fx.target.id, t.fx.target.path],
  );
  return u!.id;
}
async function dispatchedAssignment(t: TestApp): Promise<string> {
  const incident = await incidentAtA1(t);
  const unit = await unitAtA(t);
  const res = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${incident}/dispatch`, payload: { units: [{ unitId: unit }] } });
  if (res.statusCode !== 201) throw new Error(`dispatch failed: ${res.body}`);
  return res.json().assignments[0].assignmentId as string;
}
async function departmentOfCounty(t: TestApp): Promise<string> {
  const [found] = await t.ctx.database.query<{ id: string }>(`select id from partner_department where code = 'matrix-cg'`);
  if (found) return found.id;
  const [d] = await t.ctx.database.query<{ id: string }>(
    `insert into partner_department (node_id, code, name, categories) values ($1, 'matrix-cg', '县城管局', '{non_police}') returning id`,
    [t.fx.nodes.get('370523')!.id],
  );
  await t.ctx.database.query('insert into partner_member (user_id, department_id) values ($1, $2)', [t.fx.userIds.get('partner-staff.above'), d!.id]);
  return d!.id;
}
async function pendingDiversion(t: TestApp): Promise<string> {
  const incident = await incidentAtA1(t, 'non_police.city_management');
  const res = await t.as('dispatcher', 'above', { method: 'POST', url: `/api/incidents/${incident}/divert`, payload: { departmentId: await departmentOfCounty(t) } });
  if (res.statusCode !== 201) throw new Error(`divert failed: ${res.body}`);
  return res.json().diversionId as string;
}
/** Partner staff answer diversions of their own department (only the county's are members); admins of the place may too. */
const partnerRule = (role: Role, place: Placement) => (role === 'partner_staff' ? place === 'above' : inTree(place));

/** A small grid under A made for one call, placed so that no two overlap. */
async function freshGrid(t: TestApp, n: number, dx = 0): Promise<string> {
  const id = crypto.randomUUID();
  const x = 118.61 + (n % 150) * 0.0009 + dx * 0.0004;
  const y = 37.01 + Math.floor(n / 150) * 0.0009;
  const geom = { type: 'MultiPolygon', coordinates: [[[[x, y], [x + 0.0004, y], [x + 0.0004, y + 0.0004], [x, y + 0.0004], [x, y]]]] };
  await t.ctx.database.query(
    `insert into jurisdiction_node (id, code, name, level, parent_id, path, geom)
     values ($1, $2, $3, 'grid', $4, $5, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($6), 4326)))`,
    [id, `m${n}-${dx}`, `临时网格${n}`, t.fx.target.id, `${t.fx.target.path}${id}/`, JSON.stringify(geom)],
  );
  await t.ctx.database.query(
    `insert into jurisdiction_node_version (node_id, code, name, level, parent_id, path, geom, valid_from, change)
     select id, code, name, level, parent_id, path, geom, now(), 'create' from jurisdiction_node where id = $1`,
    [id],
  );
  await t.ctx.lookup.reload([id]);
  return id;
}
const box = (x: number, y: number, w: number) => ({
  type: 'Polygon' as const,
  coordinates: [[[x, y], [x + w, y], [x + w, y + w], [x, y + w], [x, y]]],
});
const gridA1 = (fx: Fixture) => fx.nodes.get('370523106001')!.id;
async function personAtA1(t: TestApp, withPhoto = false): Promise<string> {
  const [p] = await t.ctx.database.query<{ id: string }>(
    `insert into team_person (name, phone, node_id, photo, photo_type) values ('测试人', '13000000000', $1, $2, $3) returning id`,
    [gridA1(t.fx), withPhoto ? PNG_1PX : null, withPhoto ? 'image/png' : null],
  );
  return p!.id;
}


// ---- units module: fixtures made per call ----
const UNIT_READERS: Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'inspector'];
const UNIT_DUTY: Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'volunteer', 'security_guard'];
/** A unit at station A (on duty since an hour ago when asked), with the subject officer as member. */
async function myUnitAtA(t: TestApp, n: number, onDuty = false): Promise<string> {
  const [u] = await t.ctx.database.query<{ id: string }>(
    `insert into unit (call_sign, name, type, home_node_id, path, on_duty, duty_changed_at)
     values ($1, $1, 'patrol_car', $2, $3, $4, now() - interval '1 hour') returning id`,
    [`m-${n}`, t.fx.target.id, t.fx.target.path, onDuty],
  );
  await t.ctx.database.query('insert into unit_member (unit_id, user_id) values ($1, $2)', [u!.id, t.fx.subjectUserId]);
  return u!.id;
}
const zoneBox = box(118.52, 36.92, 0.01);
async function zoneAtA(t: TestApp): Promise<string> {
  const [z] = await t.ctx.database.query<{ id: string }>(
    `insert into patrol_zone (name, node_id, path, geom) values ('z', $1, $2, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($3), 4326))) returning id`,
    [t.fx.target.id, t.fx.target.path, JSON.stringify(zoneBox)],
  );
  return z!.id;
}
async function planAtA(t: TestApp, unitId: string | null = null): Promise<string> {
  const [p] = await t.ctx.database.query<{ id: string }>(
    `insert into patrol_plan (name, node_id, path, unit_id, checkpoints) values ('p', $1, $2, $3, $4) returning id`,
    [t.fx.target.id, t.fx.target.path, unitId, JSON.stringify([{ name: 'c', lon: 118.55, lat: 36.95, radiusM: 50, dwellS: 0 }])],
  );
  return p!.id;
}
async function runAtA(t: TestApp, n: number): Promise<string> {
  const unitId = await myUnitAtA(t, n, true);
  const planId = await planAtA(t, unitId);
  const [r] = await t.ctx.database.query<{ id: string }>(
    `insert into patrol_run (plan_id, unit_id, path, started_at) values ($1, $2, $3, now() - interval '10 minutes') returning id`,
    [planId, unitId, t.fx.target.path],
  );
  return r!.id;
}
const hourAgo = () => encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
const inAnHour = () => encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());

/** A one-grid GeoJSON file under A, placed so that no two overlap (north of the other entries' grids). */
function importFile(n: number): string {
  const x = 118.61 + (n % 150) * 0.0009;
  const y = 37.25 + Math.floor(n / 150) * 0.0009;
  return JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { code: `imp-${n}`, name: `导入网格${n}` }, geometry: box(x, y, 0.0004) }] });
}
/** A validated import under A, made by the administrator for one call. */
async function validatedImport(t: TestApp, n: number): Promise<string> {
  const res = await t.as('admin', 'above', {
    method: 'POST',
    url: `/api/jurisdictions/${t.fx.target.id}/imports?level=grid`,
    headers: { 'content-type': 'application/geo+json' },
    payload: importFile(n),
  });
  return (res.json() as { importId: string }).importId;
}

// ---- mediation: fixtures made per call ----
const CASE_READERS: Role[] = ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'mediator', 'inspector'];
const REGISTRARS: Role[] = ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker'];
const CASE_MANAGERS: Role[] = ['admin', 'station_leader', 'community_officer'];
const CASE_WORKERS: Role[] = ['admin', 'station_leader', 'community_officer', 'mediator'];
const FIGURE_READERS: Role[] = ['admin', 'station_leader', 'community_officer', 'inspector'];
/** Mediators act only on cases assigned to them; the matrix's cases are assigned to nobody. */
const notMediator = (role: Role, place: Placement) => role !== 'mediator' && inTree(place);
/** A dispute in grid A1, registered by the county administrator. */
async function disputeAtA1(t: TestApp, risky = false): Promise<string> {
  const res = await t.as('admin', 'above', {
    method: 'POST',
    url: '/api/mediation/disputes',
    payload: {
      type: 'neighbours', source: 'walk_in', title: '矩阵纠纷', description: '邻里因占道发生争执', location: { lon: 118.55, lat: 36.95 },
      parties: [{ side: 'applicant', name: '张三', phone: '13612345678' }],
      ...(risky ? { risk: { factors: { threats: true } } } : {}),
    },
  });
  if (res.statusCode !== 201) throw new Error(`dispute failed: ${res.body}`);
  return res.json().id as string;
}
async function agreementAtA1(t: TestApp, sign: boolean): Promise<{ disputeId: string; agreementId: string }> {
  const disputeId = await disputeAtA1(t);
  const res = await t.as('admin', 'above', { method: 'POST', url: `/api/mediation/disputes/${disputeId}/agreements`, payload: { terms: [{ text: '赔偿修理费', amount: 500 }] } });
  if (res.statusCode !== 201) throw new Error(`agreement failed: ${res.body}`);
  const agreementId = res.json().id as string;
  if (sign) await t.as('admin', 'above', { method: 'POST', url: `/api/mediation/agreements/${agreementId}/sign`, payload: {} });
  return { disputeId, agreementId };
}
async function closedDisputeAtA1(t: TestApp): Promise<string> {
  const id = await disputeAtA1(t);
  await t.as('admin', 'above', { method: 'POST', url: `/api/mediation/disputes/${id}/close`, payload: { outcome: 'withdrawn', note: '当事人撤回' } });
  return id;
}

export const ACCESS_MATRIX: Record<string, MatrixEntry> = {
  'GET /api/openapi.json': { allowed: 'public', scoped: false, request: () => ({ method: 'GET', url: '/api/openapi.json' }) },
  'POST /api/auth/login': {
    allowed: 'public',
    scoped: false,
    request: () => ({ method: 'POST', url: '/api/auth/login', payload: { username: 'subject.a', password: 'fixture-password-1' } }),
  },
  'POST /api/auth/token': {
    allowed: 'public',
    scoped: false,
    request: () => ({ method: 'POST', url: '/api/auth/token', payload: { username: 'subject.a', password: 'fixture-password-1' } }),
  },
  'GET /api/auth/me': { allowed: ALL, scoped: false, request: () => ({ method: 'GET', url: '/api/auth/me' }) },
  'POST /api/auth/logout': {
    allowed: ALL,
    scoped: false,
    ok: 204,
    freshSession: true,
    request: () => ({ method: 'POST', url: '/api/auth/logout' }),
  },
  'POST /api/auth/ticket': {
    allowed: ALL,
    scoped: false,
    request: () => ({ method: 'POST', url: '/api/auth/ticket', payload: { purpose: 'ws' } }),
  },
  'GET /api/audit': {
    allowed: AUDITORS,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/audit?nodeId=${fx.target.id}` }),
  },
  'GET /api/audit/verify': { allowed: AUDITORS, scoped: false, request: () => ({ method: 'GET', url: '/api/audit/verify' }) },
  'GET /api/users': {
    allowed: MANAGERS,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/users?nodeId=${fx.target.id}` }),
  },
  'GET /api/users/:id': {
    allowed: MANAGERS,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/users/${fx.subjectUserId}?reveal=phone` }),
  },
  'POST /api/users': {
    allowed: MANAGERS,
    scoped: true,
    ok: 201,
    request: (fx, n) => ({
      method: 'POST',
      url: '/api/users',
      payload: { username: `matrix.${n}`, displayName: '新用户', password: 'a-long-password', role: 'volunteer', nodeId: fx.target.id },
    }),
  },
  'PATCH /api/users/:id': {
    allowed: MANAGERS,
    scoped: true,
    request: (fx, n) => ({ method: 'PATCH', url: `/api/users/${fx.subjectUserId}`, payload: { displayName: `受测民警${n}` } }),
  },
  'POST /api/users/:id/revoke-sessions': {
    allowed: MANAGERS,
    scoped: true,
    request: (fx) => ({ method: 'POST', url: `/api/users/${fx.subjectUserId}/revoke-sessions` }),
  },
  'GET /api/jurisdictions/:id': {
    allowed: ALL,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/jurisdictions/${fx.target.id}` }),
  },
  'GET /api/jurisdictions/search': { allowed: ALL, scoped: false, request: () => ({ method: 'GET', url: '/api/jurisdictions/search?q=3705' }) },
  'GET /api/lookup': { allowed: ALL, scoped: false, request: () => ({ method: 'GET', url: '/api/lookup?lon=118.55&lat=36.95' }) },
  'GET /api/jurisdictions/owners-at': {
    allowed: ALL,
    scoped: false,
    request: () => ({ method: 'GET', url: `/api/jurisdictions/owners-at?lon=118.55&lat=36.95&at=${new Date().toISOString()}` }),
  },
  'GET /api/jurisdictions/:id/export': {
    allowed: EXPORTERS,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/jurisdictions/${fx.target.id}/export?crs=GCJ02` }),
  },
  'POST /api/jurisdictions': {
    allowed: EDITORS,
    scoped: true,
    ok: 201,
    request: (fx, n) => ({
      method: 'POST',
      url: '/api/jurisdictions',
      payload: { parentId: fx.target.id, code: `new-${n}`, name: `新网格${n}`, level: 'grid', geometry: box(118.61 + (n % 150) * 0.0009, 37.2 + Math.floor(n / 150) * 0.0009, 0.0004) },
    }),
  },
  'PATCH /api/jurisdictions/:id': {
    allowed: EDITORS,
    scoped: true,
    request: (fx, n) => ({ method: 'PATCH', url: `/api/jurisdictions/${fx.target.id}`, payload: { name: `李鹊派出所${n % 2 ? '' : ' '}`.trim() } }),
  },
  'POST /api/jurisdictions/:id/move': {
    allowed: EDITORS,
    scoped: true,
    request: async (fx, n, t) => ({ method: 'POST', url: `/api/jurisdictions/${await freshGrid(t, n)}/move`, payload: { parentId: fx.target.id } }),
  },
  'POST /api/jurisdictions/:id/split': {
    allowed: EDITORS,
    scoped: true,
    request: async (_fx, n, t) => {
      const id = await freshGrid(t, n);
      const x = 118.61 + (n % 150) * 0.0009;
      const y = 37.01 + Math.floor(n / 150) * 0.0009;
      const half = (x0: number, code: string) => ({
        code,
        name: code,
        level: 'grid',
        geometry: { type: 'Polygon', coordinates: [[[x0, y], [x0 + 0.0002, y], [x0 + 0.0002, y + 0.0004], [x0, y + 0.0004], [x0, y]]] },
      });
      return { method: 'POST', url: `/api/jurisdictions/${id}/split`, payload: { parts: [half(x, `s${n}a`), half(x + 0.0002, `s${n}b`)] } };
    },
  },
  'POST /api/jurisdictions/merge': {
    allowed: EDITORS,
    scoped: true,
    request: async (_fx, n, t) => ({
      method: 'POST',
      url: '/api/jurisdictions/merge',
      payload: { nodeIds: [await freshGrid(t, n, 0), await freshGrid(t, n, 1)], code: `merged-${n}`, name: `合并网格${n}` },
    }),
  },
  'DELETE /api/jurisdictions/:id': {
    allowed: EDITORS,
    scoped: true,
    ok: 204,
    request: async (_fx, n, t) => ({ method: 'DELETE', url: `/api/jurisdictions/${await freshGrid(t, n)}` }),
  },
  'GET /api/jurisdictions/:id/team': {
    allowed: ALL,
    scoped: true,
    targetsGrid: true,
    request: (fx) => ({ method: 'GET', url: `/api/jurisdictions/${gridA1(fx)}/team` }),
  },
  'POST /api/jurisdictions/:id/team': {
    allowed: EDITORS,
    scoped: true,
    targetsGrid: true,
    ok: 201,
    request: (fx, n) => ({ method: 'POST', url: `/api/jurisdictions/${gridA1(fx)}/team`, payload: { duty: 'volunteer', person: { name: `志愿者${n}` } } }),
  },
  'DELETE /api/jurisdictions/:id/team/:dutyId': {
    allowed: EDITORS,
    scoped: true,
    targetsGrid: true,
    ok: 204,
    request: async (fx, _n, t) => {
      const person = await personAtA1(t);
      const [d] = await t.ctx.database.query<{ id: string }>(
        `insert into grid_duty (node_id, person_id, duty) values ($1, $2, 'volunteer') returning id`,
        [gridA1(fx), person],
      );
      return { method: 'DELETE', url: `/api/jurisdictions/${gridA1(fx)}/team/${d!.id}` };
    },
  },
  'PUT /api/jurisdictions/:id/card': {
    allowed: EDITORS,
    scoped: true,
    targetsGrid: true,
    request: (fx) => ({ method: 'PUT', url: `/api/jurisdictions/${gridA1(fx)}/card`, payload: { supervisionPhone: '0546-6110110' } }),
  },
  'GET /api/jurisdictions/:id/card': {
    allowed: ALL,
    scoped: true,
    targetsGrid: true,
    request: (fx) => ({ method: 'GET', url: `/api/jurisdictions/${gridA1(fx)}/card` }),
  },
  'GET /api/jurisdictions/:id/card/qr.svg': {
    allowed: ALL,
    scoped: true,
    targetsGrid: true,
    request: (fx) => ({ method: 'GET', url: `/api/jurisdictions/${gridA1(fx)}/card/qr.svg` }),
  },
  'PUT /api/team-people/:id/photo': {
    allowed: EDITORS,
    scoped: true,
    targetsGrid: true,
    ok: 204,
    request: async (_fx, _n, t) => ({
      method: 'PUT',
      url: `/api/team-people/${await personAtA1(t)}/photo`,
      headers: { 'content-type': 'image/png' },
      payload: PNG_1PX,
    }),
  },
  'GET /api/dispatch/targets/:nodeId': { allowed: ALL, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/dispatch/targets/${fx.target.id}` }) },
  'PUT /api/dispatch/targets/:nodeId': {
    allowed: ['admin', 'station_leader'],
    scoped: true,
    request: (fx) => ({ method: 'PUT', url: `/api/dispatch/targets/${fx.target.id}`, payload: { acknowledgeSeconds: 60, arriveCoreSeconds: 180, arriveOtherSeconds: 300 } }),
  },
  'GET /api/response-plans': { allowed: ALL, scoped: false, request: () => ({ method: 'GET', url: '/api/response-plans' }) },
  'POST /api/response-plans': {
    allowed: ['admin', 'station_leader'],
    scoped: true,
    ok: 201,
    request: (fx, n) => ({ method: 'POST', url: '/api/response-plans', payload: { nodeId: fx.target.id, category: 'public_order', maxPriority: 2, name: `斗殴预案${n}`, requirements: [{ unitType: 'patrol_car', count: 2 }] } }),
  },
  'DELETE /api/response-plans/:id': {
    allowed: ['admin', 'station_leader'],
    scoped: true,
    ok: 204,
    request: async (fx, n, t) => {
      const [p] = await t.ctx.database.query<{ id: string }>(
        `insert into response_plan (node_id, category, max_priority, requirements, name) values ($1, 'traffic', 4, '[{"unitType":"patrol_car","count":1}]', $2) returning id`,
        [fx.target.id, `临时预案${n}`],
      );
      return { method: 'DELETE', url: `/api/response-plans/${p!.id}` };
    },
  },
  'GET /api/partner-departments': { allowed: ALL, scoped: false, request: () => ({ method: 'GET', url: '/api/partner-departments' }) },
  'POST /api/partner-departments': {
    allowed: ['admin', 'station_leader'],
    scoped: true,
    ok: 201,
    request: (fx, n) => ({ method: 'POST', url: '/api/partner-departments', payload: { nodeId: fx.target.id, code: `dept-${n}`, name: `镇综合执法队${n}`, categories: ['non_police'] } }),
  },
  'POST /api/partner-departments/:id/members': {
    allowed: ['admin', 'station_leader'],
    scoped: true,
    ok: 204,
    request: async (fx, n, t) => {
      const [d] = await t.ctx.database.query<{ id: string }>(`insert into partner_department (node_id, code, name) values ($1, $2, '镇城管中队') returning id`, [fx.target.id, `member-dept-${n}`]);
      return { method: 'POST', url: `/api/partner-departments/${d!.id}/members`, payload: { userId: fx.userIds.get('partner-staff.self') } };
    },
  },
  'GET /api/incident-categories': { allowed: ALL, scoped: false, request: () => ({ method: 'GET', url: '/api/incident-categories' }) },
  'POST /api/incidents': {
    allowed: INTAKERS,
    scoped: true,
    targetsGrid: true,
    ok: 201,
    request: () => ({ method: 'POST', url: '/api/incidents', payload: { content: '有人打架', category: 'public_order.fight', priority: 2, location: { lon: 118.55, lat: 36.95 } } }),
  },
  'GET /api/dispatch/stats': { allowed: READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/dispatch/stats?nodeId=${fx.target.id}` }) },
  'GET /api/incidents': { allowed: READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/incidents?nodeId=${fx.target.id}&state=all` }) },
  'GET /api/incidents/:id': {
    allowed: READERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'GET', url: `/api/incidents/${await incidentAtA1(t)}` }),
  },
  'POST /api/incidents/:id/recommendation': {
    allowed: DISPATCHERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/incidents/${await incidentAtA1(t)}/recommendation` }),
  },
  'POST /api/incidents/:id/dispatch': {
    allowed: DISPATCHERS,
    scoped: true,
    targetsGrid: true,
    ok: 201,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/incidents/${await incidentAtA1(t)}/dispatch`, payload: { units: [{ unitId: await unitAtA(t) }] } }),
  },
  'POST /api/incidents/:id/merge': {
    allowed: DISPATCHERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/incidents/${await incidentAtA1(t)}/merge`, payload: { intoIncidentId: await incidentAtA1(t) } }),
  },
  'POST /api/incidents/:id/unmerge': {
    allowed: DISPATCHERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => {
      const dup = await incidentAtA1(t);
      await t.as('admin', 'above', { method: 'POST', url: `/api/incidents/${dup}/merge`, payload: { intoIncidentId: await incidentAtA1(t) } });
      return { method: 'POST', url: `/api/incidents/${dup}/unmerge` };
    },
  },
  'POST /api/assignments/:id/status': {
    allowed: RESPONDERS,
    scoped: true,
    targetsGrid: true,
    // Members of the unit (tested in dispatch.test.ts) or dispatchers of the place.
    expect: (role, place) => DISPATCHERS.includes(role) && inTree(place),
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/assignments/${await dispatchedAssignment(t)}/status`, payload: { status: 'acknowledged' } }),
  },
  'GET /api/assignments': { allowed: RESPONDERS, scoped: false, request: () => ({ method: 'GET', url: '/api/assignments?state=all' }) },
  'POST /api/assignments/:id/reassign': {
    allowed: DISPATCHERS,
    scoped: true,
    targetsGrid: true,
    ok: 201,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/assignments/${await dispatchedAssignment(t)}/reassign`, payload: { unitId: await unitAtA(t) } }),
  },
  'POST /api/incidents/:id/close': {
    allowed: ['admin', 'dispatcher', 'station_leader', 'community_officer'],
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/incidents/${await incidentAtA1(t)}/close`, payload: { disposition: 'handled', result: '已调解，双方离开' } }),
  },
  'POST /api/incidents/:id/divert': {
    allowed: DISPATCHERS,
    scoped: true,
    targetsGrid: true,
    ok: 201,
    request: async (_fx, _n, t) => ({
      method: 'POST',
      url: `/api/incidents/${await incidentAtA1(t, 'non_police.city_management')}/divert`,
      payload: { departmentId: await departmentOfCounty(t) },
    }),
  },
  'GET /api/diversions': { allowed: ['admin', 'partner_staff', 'dispatcher', 'station_leader'], scoped: false, request: () => ({ method: 'GET', url: '/api/diversions' }) },
  'POST /api/diversions/:id/accept': {
    allowed: ['admin', 'partner_staff'],
    scoped: true,
    expect: partnerRule,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/diversions/${await pendingDiversion(t)}/accept` }),
  },
  'POST /api/diversions/:id/report': {
    allowed: ['admin', 'partner_staff'],
    scoped: true,
    expect: partnerRule,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/diversions/${await pendingDiversion(t)}/report`, payload: { report: '已清理占道摊点' } }),
  },
  'POST /api/incidents/:id/instructions': {
    allowed: DISPATCHERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/incidents/${await incidentAtA1(t)}/instructions`, payload: { text: '注意安全，带足警力', supervision: 'yellow' } }),
  },
  'PUT /api/incident-calls/:id/audio': {
    allowed: INTAKERS,
    scoped: true,
    targetsGrid: true,
    ok: 204,
    request: async (_fx, _n, t) => {
      const [c] = await t.ctx.database.query<{ id: string }>('select id from incident_call where incident_id = $1', [await incidentAtA1(t)]);
      return { method: 'PUT', url: `/api/incident-calls/${c!.id}/audio`, headers: { 'content-type': 'audio/mpeg' }, payload: Buffer.from('ID3fake-mp3-bytes') };
    },
  },
  'GET /api/incident-calls/:id/audio': {
    allowed: RESPONDERS,
    scoped: true,
    targetsGrid: true,
    expect: (role, place) => READERS.includes(role) && inTree(place),
    request: async (_fx, _n, t) => {
      const [c] = await t.ctx.database.query<{ id: string }>('select id from incident_call where incident_id = $1', [await incidentAtA1(t)]);
      await t.ctx.database.query(`update incident_call set audio = 'ID3'::bytea, audio_type = 'audio/mpeg', audio_bytes = 3 where id = $1`, [c!.id]);
      return { method: 'GET', url: `/api/incident-calls/${c!.id}/audio` };
    },
  },
  'GET /api/incidents/:id/log': {
    allowed: READERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'GET', url: `/api/incidents/${await incidentAtA1(t)}/log` }),
  },
  'GET /api/incidents/:id/eido': {
    allowed: READERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'GET', url: `/api/incidents/${await incidentAtA1(t)}/eido` }),
  },
  // Authenticated inside the handshake (ticket or cookie); a plain GET is not a WebSocket.
  'GET /api/ws': { allowed: 'public', scoped: false, anonymousStatus: 404, request: () => ({ method: 'GET', url: '/api/ws' }) },
  'GET /api/incidents/density': { allowed: READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/incidents/density?nodeId=${fx.target.id}` }) },
  'GET /api/map/config': { allowed: ALL, scoped: false, request: () => ({ method: 'GET', url: '/api/map/config' }) },
  // No basemap is configured in the fixture: a logged-in caller gets 404, not 403 (basemap.test.ts serves one).
  'GET /api/map/basemap.pmtiles': { allowed: ALL, scoped: false, ok: 404, request: () => ({ method: 'GET', url: '/api/map/basemap.pmtiles' }) },
  'POST /api/jurisdictions/:id/imports': {
    allowed: EDITORS,
    scoped: true,
    ok: 201,
    request: (fx, n) => ({
      method: 'POST',
      url: `/api/jurisdictions/${fx.target.id}/imports?level=grid`,
      headers: { 'content-type': 'application/geo+json' },
      payload: importFile(n),
    }),
  },
  'GET /api/imports/:id': {
    allowed: EDITORS,
    scoped: true,
    request: async (_fx, n, t) => ({ method: 'GET', url: `/api/imports/${await validatedImport(t, n)}` }),
  },
  'POST /api/imports/:id/commit': {
    allowed: EDITORS,
    scoped: true,
    ok: 202,
    request: async (_fx, n, t) => ({ method: 'POST', url: `/api/imports/${await validatedImport(t, n)}/commit` }),
  },
  'POST /api/imports/:id/cancel': {
    allowed: EDITORS,
    scoped: true,
    request: async (_fx, n, t) => ({ method: 'POST', url: `/api/imports/${await validatedImport(t, n)}/cancel` }),
  },
  'GET /api/public/cards/:slug': {
    allowed: 'public',
    scoped: false,
    request: async (fx, _n, t) => {
      const [c] = await t.ctx.database.query<{ slug: string }>('select slug from grid_card where node_id = $1', [gridA1(fx)]);
      return { method: 'GET', url: `/api/public/cards/${c!.slug}` };
    },
  },
  'GET /api/public/cards': { allowed: 'public', scoped: false, request: () => ({ method: 'GET', url: '/api/public/cards?lon=118.55&lat=36.95' }) },
  'GET /api/public/people/:id/photo': {
    allowed: 'public',
    scoped: false,
    request: async (_fx, _n, t) => ({ method: 'GET', url: `/api/public/people/${await personAtA1(t, true)}/photo` }),
  },
  // ---- units, positions, patrols ----
  'GET /api/units': { allowed: UNIT_READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/units?nodeId=${fx.target.id}` }) },
  'POST /api/units': {
    allowed: MANAGERS,
    scoped: true,
    ok: 201,
    request: (fx, n) => ({ method: 'POST', url: '/api/units', payload: { callSign: `c${n}`, name: `车${n}`, type: 'patrol_car', homeNodeId: fx.target.id } }),
  },
  'GET /api/units/live': { allowed: UNIT_READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/units/live?nodeId=${fx.target.id}` }) },
  'POST /api/units/positions': {
    // Authenticated by the terminal ticket in the handler, not by the access hook.
    allowed: 'public',
    scoped: false,
    request: async (_fx, n, t) => {
      const unitId = await myUnitAtA(t, n, true);
      const actor = await t.auth.actorForUser(t.fx.subjectUserId, null, null);
      const { ticket } = await t.auth.issueTicket(actor!, 'terminal', unitId);
      return { method: 'POST', url: '/api/units/positions', headers: { authorization: `Ticket ${ticket}` }, payload: { points: [{ t: Date.now(), lon: 118.55, lat: 36.95 }] } };
    },
  },
  'POST /api/units/reach': {
    allowed: UNIT_READERS,
    scoped: true,
    request: (fx) => ({ method: 'POST', url: '/api/units/reach', payload: { nodeId: fx.target.id, points: [{ lon: 118.55, lat: 36.95 }] } }),
  },
  'GET /api/units/:id': { allowed: UNIT_READERS, scoped: true, request: async (_fx, n, t) => ({ method: 'GET', url: `/api/units/${await myUnitAtA(t, n)}` }) },
  'PATCH /api/units/:id': {
    allowed: MANAGERS,
    scoped: true,
    request: async (_fx, n, t) => ({ method: 'PATCH', url: `/api/units/${await myUnitAtA(t, n)}`, payload: { name: `改名${n}` } }),
  },
  'DELETE /api/units/:id': { allowed: MANAGERS, scoped: true, ok: 204, request: async (_fx, n, t) => ({ method: 'DELETE', url: `/api/units/${await myUnitAtA(t, n)}` }) },
  'POST /api/units/:id/duty': {
    allowed: UNIT_DUTY,
    scoped: true,
    request: async (_fx, n, t) => ({ method: 'POST', url: `/api/units/${await myUnitAtA(t, n)}/duty`, payload: { onDuty: true } }),
  },
  'GET /api/units/:id/shifts': { allowed: UNIT_READERS, scoped: true, request: async (_fx, n, t) => ({ method: 'GET', url: `/api/units/${await myUnitAtA(t, n)}/shifts` }) },
  'POST /api/units/:id/ticket': { allowed: UNIT_DUTY, scoped: true, request: async (_fx, n, t) => ({ method: 'POST', url: `/api/units/${await myUnitAtA(t, n)}/ticket` }) },
  'GET /api/units/:id/track': {
    allowed: UNIT_READERS,
    scoped: true,
    request: async (_fx, n, t) => ({ method: 'GET', url: `/api/units/${await myUnitAtA(t, n)}/track?from=${hourAgo()}&to=${inAnHour()}` }),
  },
  'GET /api/patrol/zones': { allowed: UNIT_READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/patrol/zones?nodeId=${fx.target.id}` }) },
  'POST /api/patrol/zones': {
    allowed: MANAGERS,
    scoped: true,
    ok: 201,
    request: (fx, n) => ({ method: 'POST', url: '/api/patrol/zones', payload: { name: `区${n}`, nodeId: fx.target.id, geometry: zoneBox } }),
  },
  'PATCH /api/patrol/zones/:id': {
    allowed: MANAGERS,
    scoped: true,
    request: async (_fx, n, t) => ({ method: 'PATCH', url: `/api/patrol/zones/${await zoneAtA(t)}`, payload: { name: `区${n}` } }),
  },
  'DELETE /api/patrol/zones/:id': { allowed: MANAGERS, scoped: true, ok: 204, request: async (_fx, _n, t) => ({ method: 'DELETE', url: `/api/patrol/zones/${await zoneAtA(t)}` }) },
  'GET /api/patrol/plans': { allowed: UNIT_READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/patrol/plans?nodeId=${fx.target.id}` }) },
  'POST /api/patrol/plans': {
    allowed: MANAGERS,
    scoped: true,
    ok: 201,
    request: (fx, n) => ({
      method: 'POST',
      url: '/api/patrol/plans',
      payload: { name: `计划${n}`, nodeId: fx.target.id, checkpoints: [{ name: 'c', lon: 118.55, lat: 36.95, radiusM: 50, dwellS: 0 }] },
    }),
  },
  'GET /api/patrol/plans/:id': { allowed: UNIT_READERS, scoped: true, request: async (_fx, _n, t) => ({ method: 'GET', url: `/api/patrol/plans/${await planAtA(t)}` }) },
  'PATCH /api/patrol/plans/:id': {
    allowed: MANAGERS,
    scoped: true,
    request: async (_fx, n, t) => ({ method: 'PATCH', url: `/api/patrol/plans/${await planAtA(t)}`, payload: { name: `计划${n}` } }),
  },
  'POST /api/patrol/runs': {
    allowed: UNIT_DUTY,
    scoped: true,
    ok: 201,
    request: async (_fx, n, t) => ({ method: 'POST', url: '/api/patrol/runs', payload: { planId: await planAtA(t, await myUnitAtA(t, n, true)) } }),
  },
  'GET /api/patrol/runs': { allowed: UNIT_READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/patrol/runs?nodeId=${fx.target.id}` }) },
  'GET /api/patrol/runs/:id': { allowed: UNIT_READERS, scoped: true, request: async (_fx, n, t) => ({ method: 'GET', url: `/api/patrol/runs/${await runAtA(t, n)}` }) },
  'POST /api/patrol/runs/:id/end': { allowed: UNIT_DUTY, scoped: true, request: async (_fx, n, t) => ({ method: 'POST', url: `/api/patrol/runs/${await runAtA(t, n)}/end` }) },
  'GET /api/patrol/coverage': {
    allowed: UNIT_READERS,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/patrol/coverage?nodeId=${fx.target.id}&date=${new Date().toISOString().slice(0, 10)}` }),
  },
  // ---- mediation ----
  'GET /api/mediation/disputes': { allowed: CASE_READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/mediation/disputes?nodeId=${fx.target.id}&state=all` }) },
  'POST /api/mediation/disputes': {
    allowed: REGISTRARS,
    scoped: true,
    targetsGrid: true,
    ok: 201,
    request: () => ({
      method: 'POST',
      url: '/api/mediation/disputes',
      payload: { type: 'noise', source: 'patrol_visit', title: '噪声纠纷', description: '楼上装修噪声扰民', location: { lon: 118.55, lat: 36.95 }, parties: [{ side: 'applicant', name: '李四' }] },
    }),
  },
  'GET /api/mediation/disputes/:id': {
    allowed: CASE_READERS,
    scoped: true,
    targetsGrid: true,
    expect: notMediator,
    request: async (_fx, _n, t) => ({ method: 'GET', url: `/api/mediation/disputes/${await disputeAtA1(t)}` }),
  },
  'POST /api/mediation/disputes/:id/risk': {
    allowed: ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'mediator'],
    scoped: true,
    targetsGrid: true,
    expect: notMediator,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/mediation/disputes/${await disputeAtA1(t)}/risk`, payload: { factors: { moneyAtStake: true } } }),
  },
  'POST /api/mediation/disputes/:id/review': {
    allowed: REGISTRARS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/mediation/disputes/${await disputeAtA1(t)}/review`, payload: { note: '走访，双方情绪平稳' } }),
  },
  'GET /api/mediation/disputes/:id/mediator-candidates': {
    allowed: CASE_MANAGERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'GET', url: `/api/mediation/disputes/${await disputeAtA1(t)}/mediator-candidates` }),
  },
  'POST /api/mediation/disputes/:id/mediators': {
    allowed: CASE_MANAGERS,
    scoped: true,
    targetsGrid: true,
    ok: 201,
    request: async (fx, _n, t) => ({
      method: 'POST',
      url: `/api/mediation/disputes/${await disputeAtA1(t)}/mediators`,
      payload: { userId: fx.userIds.get('mediator.self'), body: 'committee', organisation: '李鹊村人民调解委员会' },
    }),
  },
  'POST /api/mediation/assignments/:id/respond': {
    allowed: CASE_WORKERS,
    scoped: true,
    targetsGrid: true,
    // Only the mediator asked may answer.
    expect: (role, place) => role === 'mediator' && place === 'self',
    request: async (fx, _n, t) => {
      const id = await disputeAtA1(t);
      const res = await t.as('admin', 'above', { method: 'POST', url: `/api/mediation/disputes/${id}/mediators`, payload: { userId: fx.userIds.get('mediator.self'), body: 'justice_office' } });
      return { method: 'POST', url: `/api/mediation/assignments/${res.json().id as string}/respond`, payload: { accept: true } };
    },
  },
  'POST /api/mediation/disputes/:id/sessions': {
    allowed: CASE_WORKERS,
    scoped: true,
    targetsGrid: true,
    ok: 201,
    expect: notMediator,
    request: async (_fx, _n, t) => ({
      method: 'POST',
      url: `/api/mediation/disputes/${await disputeAtA1(t)}/sessions`,
      payload: { heldAt: new Date(Date.now() - 3_600_000).toISOString(), place: '村委会调解室', attendees: ['张三', '王五'], notes: '双方陈述诉求' },
    }),
  },
  'POST /api/mediation/disputes/:id/agreements': {
    allowed: CASE_WORKERS,
    scoped: true,
    targetsGrid: true,
    ok: 201,
    expect: notMediator,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/mediation/disputes/${await disputeAtA1(t)}/agreements`, payload: { terms: [{ text: '道歉并赔偿', amount: 200 }] } }),
  },
  'POST /api/mediation/agreements/:id/sign': {
    allowed: CASE_WORKERS,
    scoped: true,
    targetsGrid: true,
    expect: notMediator,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/mediation/agreements/${(await agreementAtA1(t, false)).agreementId}/sign`, payload: {} }),
  },
  'PUT /api/mediation/agreements/:id/file': {
    allowed: CASE_WORKERS,
    scoped: true,
    targetsGrid: true,
    ok: 204,
    expect: notMediator,
    request: async (_fx, _n, t) => ({
      method: 'PUT',
      url: `/api/mediation/agreements/${(await agreementAtA1(t, true)).agreementId}/file`,
      headers: { 'content-type': 'application/pdf', 'x-file-name': encodeURIComponent('协议书.pdf') },
      payload: Buffer.from('%PDF-1.4 matrix'),
    }),
  },
  'GET /api/mediation/agreements/:id/file': {
    allowed: CASE_READERS,
    scoped: true,
    targetsGrid: true,
    expect: notMediator,
    request: async (_fx, _n, t) => {
      const { agreementId } = await agreementAtA1(t, true);
      await t.as('admin', 'above', { method: 'PUT', url: `/api/mediation/agreements/${agreementId}/file`, headers: { 'content-type': 'application/pdf' }, payload: Buffer.from('%PDF-1.4 matrix') });
      return { method: 'GET', url: `/api/mediation/agreements/${agreementId}/file` };
    },
  },
  'POST /api/mediation/terms/:id/status': {
    allowed: CASE_WORKERS,
    scoped: true,
    targetsGrid: true,
    expect: notMediator,
    request: async (_fx, _n, t) => {
      const { agreementId } = await agreementAtA1(t, true);
      const [term] = await t.ctx.database.query<{ id: string }>('select id from mediation_agreement_term where agreement_id = $1', [agreementId]);
      return { method: 'POST', url: `/api/mediation/terms/${term!.id}/status`, payload: { status: 'fulfilled' } };
    },
  },
  'POST /api/mediation/follow-ups/:id': {
    allowed: CASE_WORKERS,
    scoped: true,
    targetsGrid: true,
    expect: notMediator,
    request: async (_fx, _n, t) => {
      const { disputeId } = await agreementAtA1(t, true);
      const [f] = await t.ctx.database.query<{ id: string }>(`select id from dispute_follow_up where dispute_id = $1 order by due_at limit 1`, [disputeId]);
      return { method: 'POST', url: `/api/mediation/follow-ups/${f!.id}`, payload: { holds: true, recurred: false, note: '协议履行良好' } };
    },
  },
  'POST /api/mediation/disputes/:id/transfer': {
    allowed: CASE_MANAGERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/mediation/disputes/${await disputeAtA1(t)}/transfer`, payload: { to: 'court', note: '调解不成，引导诉讼' } }),
  },
  'POST /api/mediation/disputes/:id/close': {
    allowed: CASE_MANAGERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/mediation/disputes/${await disputeAtA1(t)}/close`, payload: { outcome: 'failed', note: '双方分歧过大' } }),
  },
  'POST /api/mediation/disputes/:id/reopen': {
    allowed: CASE_MANAGERS,
    scoped: true,
    targetsGrid: true,
    request: async (_fx, _n, t) => ({ method: 'POST', url: `/api/mediation/disputes/${await closedDisputeAtA1(t)}/reopen`, payload: { note: '当事人再次求助' } }),
  },
  'GET /api/mediation/tasks': {
    allowed: ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'mediator'],
    scoped: false,
    request: () => ({ method: 'GET', url: '/api/mediation/tasks' }),
  },
  'POST /api/mediation/tasks/:id/done': {
    allowed: ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'mediator'],
    scoped: true,
    targetsGrid: true,
    // The assignee (the grid's community officer, at A1) or leaders of the place.
    expect: (role, place) => (['admin', 'station_leader'].includes(role) && inTree(place)) || (role === 'community_officer' && place === 'below'),
    request: async (_fx, _n, t) => {
      const id = await disputeAtA1(t, true);
      const [task] = await t.ctx.database.query<{ id: string }>(`select id from mediation_task where dispute_id = $1`, [id]);
      return { method: 'POST', url: `/api/mediation/tasks/${task!.id}/done`, payload: { note: '已上门稳控' } };
    },
  },
  'GET /api/mediation/screening': {
    allowed: [...REGISTRARS, 'inspector'],
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/mediation/screening?nodeId=${fx.target.id}` }),
  },
  'GET /api/mediation/figures': { allowed: FIGURE_READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/mediation/figures?nodeId=${fx.target.id}` }) },
  'GET /api/mediation/figures.xlsx': { allowed: FIGURE_READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/mediation/figures.xlsx?nodeId=${fx.target.id}` }) },
  'GET /api/mediation/settings': { allowed: CASE_READERS, scoped: true, request: (fx) => ({ method: 'GET', url: `/api/mediation/settings?nodeId=${fx.target.id}` }) },
  'PUT /api/mediation/settings': {
    allowed: ['admin', 'station_leader'],
    scoped: true,
    request: (fx) => ({ method: 'PUT', url: '/api/mediation/settings', payload: { nodeId: fx.target.id, followUpDays: [7, 30], reviewIntervalDays: 30 } }),
  },
};

export function expectedAllowed(entry: MatrixEntry, role: Role, place: Placement): boolean {
  if (entry.allowed === 'public') return true;
  if (!entry.allowed.includes(role)) return false;
  if (entry.expect) return entry.expect(role, place);
  if (!entry.scoped) return true;
  return place === 'self' || place === 'above' || (entry.targetsGrid === true && place === 'below');
}

describe('access matrix: every route × every role × own / above / below / sibling node', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t?.close());

  it('has an entry for every /api route, and no stale entries', () => {
    const catalog = new Set(t.app.routeCatalog.map((r) => `${r.method} ${r.url}`));
    const missing = [...catalog].filter((k) => !(k in ACCESS_MATRIX));
    assert.deepEqual(missing, [], `routes without an access-matrix entry: ${missing.join(', ')}`);
    const stale = Object.keys(ACCESS_MATRIX).filter((k) => !catalog.has(k));
    assert.deepEqual(stale, [], `matrix entries for routes that no longer exist: ${stale.join(', ')}`);
  });

  it('answers every call as the policy says', async () => {
    let n = 0;
    const wrong: string[] = [];
    for (const [key, entry] of Object.entries(ACCESS_MATRIX)) {
      // Without a session: public routes work, the rest answer 401.
      const anon = await t.app.inject(await entry.request(t.fx, ++n, t));
      const anonOk = entry.allowed === 'public';
      if (entry.anonymousStatus !== undefined ? anon.statusCode !== entry.anonymousStatus : anonOk ? anon.statusCode >= 300 : anon.statusCode !== 401) {
        wrong.push(`${key} anonymous → ${anon.statusCode}`);
      }
      if (entry.allowed === 'public') continue;
      for (const role of Role.options) {
        for (const place of PLACEMENTS) {
          const opts = await entry.request(t.fx, ++n, t);
          let res;
          if (entry.freshSession) {
            const s = await t.auth.login(`${role.replace(/_/g, '-')}.${place}`, 'fixture-password-1', '127.0.0.1', 'test');
            res = await t.app.inject({
              ...opts,
              headers: { ...(opts.headers ?? {}), cookie: `pingan_session=${s.token}`, 'x-csrf-token': t.auth.csrfTokenFor(s.tokenHash) },
            });
          } else {
            res = await t.as(role, place, opts);
          }
          const want = expectedAllowed(entry, role, place);
          const okStatus = entry.ok ?? 200;
          if (want ? res.statusCode !== okStatus : res.statusCode !== 403) {
            wrong.push(`${key} as ${role} at ${place}: expected ${want ? okStatus : 403}, got ${res.statusCode} ${res.body.slice(0, 120)}`);
          }
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("never shows a sibling station's records in listings", async () => {
    const res = await t.as('station_leader', 'sibling', { method: 'GET', url: '/api/users' });
    assert.equal(res.statusCode, 200);
    const items = (res.json() as { items: { nodeId: string }[] }).items;
    assert.ok(items.length > 0);
    const allowedNodes = new Set([t.fx.sibling.id, t.fx.nodes.get('370523101001')!.id]);
    assert.ok(items.every((u) => allowedNodes.has(u.nodeId)), 'only the sibling station and its grid appear');
  });
});
