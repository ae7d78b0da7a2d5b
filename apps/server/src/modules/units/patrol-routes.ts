import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import type { MultiPolygon } from 'geojson';
import { eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { AreaGeometry, Crs } from '@pingan/contracts';
import { assertCoversNode, assertCoversPath, coversPath } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import { conflict, forbidden, invalid, notFound, unprocessable } from '../../platform/errors.js';
import { actorOf } from '../../platform/http/access-hook.js';
import { runIdempotent } from '../../platform/http/idempotency.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';
import { geometryFromWgs84, geometryToWgs84 } from '../jurisdiction/schema-http.js';
import { toWgs84 } from '../jurisdiction/geo/coords.js';
import { coverage, detectCheckpoints, type RunDetection, type TrackPoint, type UnitTrack } from './analysis.js';
import { IdParams } from './http.js';
import { canOperate, UNIT_ROLES } from './service.js';
import { patrolPlans, patrolRuns, type Checkpoint, type ScheduleSlot } from './schema.js';
import type { Tx } from '../../platform/db/index.js';

/** Rows of a raw statement inside a transaction (both drivers answer `{ rows }`). */
async function txRows<T>(tx: Tx, q: SQL): Promise<T[]> {
  const r = (await tx.execute(q)) as unknown as { rows: T[] };
  return r.rows;
}

const CHINA_OFFSET_MIN = 8 * 60;
const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM');
const Name = z.string().trim().min(1, 'enter a name').max(80);

const ZoneView = z.object({ id: z.string(), name: z.string(), nodeId: z.string(), geometry: z.object({ type: z.string(), coordinates: z.array(z.unknown()) }) });
const CheckpointBody = z.object({
  name: z.string().trim().min(1).max(80),
  lon: z.number().min(-180).max(180),
  lat: z.number().min(-90).max(90),
  radiusM: z.number().min(5, 'at least 5 m').max(5000),
  dwellS: z.number().min(0).max(4 * 3600).default(0),
});
const Slot = z.object({ weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7), start: HHMM, end: HHMM });
const PlanBody = z.object({
  name: Name,
  nodeId: z.string().uuid(),
  zoneId: z.string().uuid().nullable().optional(),
  unitId: z.string().uuid().nullable().optional(),
  checkpoints: z.array(CheckpointBody).min(1, 'a plan needs at least one checkpoint').max(200),
  schedule: z.array(Slot).max(50).default([]),
  ordered: z.boolean().default(false),
  crs: Crs.default('WGS84'),
});
const PlanPatch = z
  .object({
    name: Name.optional(),
    zoneId: z.string().uuid().nullable().optional(),
    unitId: z.string().uuid().nullable().optional(),
    checkpoints: z.array(CheckpointBody).min(1).max(200).optional(),
    schedule: z.array(Slot).max(50).optional(),
    ordered: z.boolean().optional(),
    active: z.boolean().optional(),
    crs: Crs.default('WGS84'),
  })
  .refine((b) => Object.entries(b).some(([k, v]) => k !== 'crs' && v !== undefined), 'name at least one field to change');
const PlanView = z.object({
  id: z.string(),
  name: z.string(),
  nodeId: z.string(),
  zoneId: z.string().nullable(),
  unitId: z.string().nullable(),
  checkpoints: z.array(z.object({ name: z.string(), lon: z.number(), lat: z.number(), radiusM: z.number(), dwellS: z.number() })),
  schedule: z.array(z.object({ weekdays: z.array(z.number()), start: z.string(), end: z.string() })),
  ordered: z.boolean(),
  active: z.boolean(),
});
const Detection = z.object({
  checkpoints: z.array(z.object({ index: z.number(), name: z.string(), reached: z.boolean(), reachedAt: z.string().nullable(), dwellS: z.number() })),
  reached: z.number(),
  missed: z.array(z.number()),
  outOfOrder: z.array(z.number()),
  distanceM: z.number(),
  minutesOutsideZone: z.number().nullable(),
  points: z.number(),
});
const RunView = z.object({
  id: z.string(),
  planId: z.string(),
  unitId: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  /** Deviations from the plan: late start against its schedule, checkpoints missed or out of order. */
  lateStartMinutes: z.number().nullable(),
  detection: Detection,
});

interface PlanRow extends Record<string, unknown> {
  id: string;
  name: string;
  node_id: string;
  path: string;
  zone_id: string | null;
  unit_id: string | null;
  checkpoints: Checkpoint[];
  schedule: ScheduleSlot[];
  ordered: boolean;
  active: boolean;
}
interface RunRow extends Record<string, unknown> {
  id: string;
  plan_id: string;
  unit_id: string;
  path: string;
  started_at: Date | string;
  ended_at: Date | string | null;
  result: RunDetection | null;
}

const presentPlan = (r: PlanRow) => ({
  id: r.id,
  name: r.name,
  nodeId: r.node_id,
  zoneId: r.zone_id,
  unitId: r.unit_id,
  checkpoints: r.checkpoints,
  schedule: r.schedule,
  ordered: r.ordered,
  active: r.active,
});

/** Minutes a run started after the scheduled slot start of that (local) day, or null when no slot applies. */
export function lateStartMinutes(schedule: ScheduleSlot[], startedAt: number): number | null {
  const local = new Date(startedAt + CHINA_OFFSET_MIN * 60_000);
  const weekday = ((local.getUTCDay() + 6) % 7) + 1;
  const minuteOfDay = local.getUTCHours() * 60 + local.getUTCMinutes();
  let best: number | null = null;
  for (const s of schedule) {
    if (!s.weekdays.includes(weekday)) continue;
    const [sh, sm] = s.start.split(':').map(Number) as [number, number];
    const [eh, em] = s.end.split(':').map(Number) as [number, number];
    const start = sh * 60 + sm;
    const end = eh * 60 + em;
    if (minuteOfDay >= start - 30 && minuteOfDay <= end) {
      const late = Math.max(0, minuteOfDay - start);
      if (best === null || late < best) best = late;
    }
  }
  return best;
}

/** Local (UTC+8) midnight of a YYYY-MM-DD date, in epoch ms. */
export function localDayStart(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) - CHINA_OFFSET_MIN * 60_000;
}

export function patrolRoutes(app: ZodApp, ctx: AppContext): void {
  const { database } = ctx;

  const loadPlan = async (id: string) => {
    const [p] = await database.query<PlanRow>('select * from patrol_plan where id = $1', [id]);
    if (!p) throw notFound('The patrol plan');
    return p;
  };

  const zoneGeometry = async (zoneId: string | null): Promise<MultiPolygon | null> => {
    if (!zoneId) return null;
    const [z0] = await database.query<{ g: string }>('select ST_AsGeoJSON(geom) as g from patrol_zone where id = $1', [zoneId]);
    return z0 ? (JSON.parse(z0.g) as MultiPolygon) : null;
  };

  const trackOf = async (unitId: string, from: Date, to: Date): Promise<TrackPoint[]> => {
    const rows = await database.query<{ t: Date | string; lon: number; lat: number }>(
      'select t, lon, lat from unit_position where unit_id = $1 and t >= $2 and t <= $3 order by t limit 500000',
      [unitId, from, to],
    );
    return rows.map((r) => ({ t: new Date(r.t).getTime(), lon: r.lon, lat: r.lat }));
  };

  const detect = async (run: RunRow, plan: PlanRow): Promise<RunDetection> => {
    const zone = await zoneGeometry(plan.zone_id);
    // An open run reads up to the future tolerance of ingestion: terminals whose clocks run a little ahead still count.
    const track = await trackOf(run.unit_id, new Date(run.started_at), run.ended_at ? new Date(run.ended_at) : new Date(ctx.now().getTime() + 120_000));
    return detectCheckpoints(track, plan.checkpoints, {
      ordered: plan.ordered,
      ...(zone ? { inZone: (lon: number, lat: number) => booleanPointInPolygon([lon, lat], zone) } : {}),
    });
  };

  const presentRun = async (run: RunRow) => {
    const plan = await loadPlan(run.plan_id);
    const detection = run.ended_at && run.result ? run.result : await detect(run, plan);
    return {
      id: run.id,
      planId: run.plan_id,
      unitId: run.unit_id,
      startedAt: new Date(run.started_at).toISOString(),
      endedAt: run.ended_at ? new Date(run.ended_at).toISOString() : null,
      lateStartMinutes: lateStartMinutes(plan.schedule, new Date(run.started_at).getTime()),
      detection,
    };
  };

  /** Check the zone and the unit named by a plan lie in the actor's jurisdiction. */
  const checkRefs = async (actor: ReturnType<typeof actorOf>, zoneId: string | null | undefined, unitId: string | null | undefined) => {
    if (zoneId) {
      const [z0] = await database.query<{ path: string }>('select path from patrol_zone where id = $1 and retired_at is null', [zoneId]);
      if (!z0) throw unprocessable('The zone does not exist.', [{ field: 'body.zoneId', message: 'no such zone' }]);
      assertCoversPath(actor, z0.path);
    }
    if (unitId) {
      const [u] = await database.query<{ path: string }>('select path from unit where id = $1 and retired_at is null', [unitId]);
      if (!u) throw unprocessable('The unit does not exist.', [{ field: 'body.unitId', message: 'no such unit' }]);
      assertCoversPath(actor, u.path);
    }
  };

  const toWgsCheckpoints = (cps: z.infer<typeof CheckpointBody>[], crs: z.infer<typeof Crs>): Checkpoint[] =>
    cps.map((c) => {
      const [lon, lat] = toWgs84(c.lon, c.lat, crs);
      return { name: c.name, lon, lat, radiusM: c.radiusM, dwellS: c.dwellS };
    });

  // ---- zones ---------------------------------------------------------------------------------------

  app.get(
    '/api/patrol/zones',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: {
        tags: ['patrol'],
        summary: 'Patrol zones of a jurisdiction (they may overlap)',
        querystring: z.object({ nodeId: z.string().uuid().optional(), crs: Crs.default('WGS84') }),
        response: { 200: z.object({ items: z.array(ZoneView) }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = req.query.nodeId ? await assertCoversNode(database.db, actor, req.query.nodeId) : actor.nodePath;
      const rows = await database.query<{ id: string; name: string; node_id: string; g: string }>(
        `select id, name, node_id, ST_AsGeoJSON(geom, 7) as g from patrol_zone where path like $1 and retired_at is null order by name`,
        [`${path}%`],
      );
      return {
        items: rows.map((r) => ({ id: r.id, name: r.name, nodeId: r.node_id, geometry: geometryFromWgs84(JSON.parse(r.g) as MultiPolygon, req.query.crs) })),
      };
    },
  );

  const saveZoneGeometry = async (tx: Tx, id: string, g: unknown) => {
    const json = JSON.stringify(g);
    const [v] = await txRows<{ ok: boolean; reason: string }>(
      tx,
      sql`select ST_IsValid(ST_GeomFromGeoJSON(${json})) as ok, ST_IsValidReason(ST_GeomFromGeoJSON(${json})) as reason`,
    );
    if (!v?.ok) throw unprocessable(`The zone polygon is not valid: ${v?.reason ?? 'unknown reason'}.`, [{ field: 'body.geometry', message: v?.reason ?? 'invalid' }]);
    await tx.execute(sql`update patrol_zone set geom = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${json}), 4326)) where id = ${id}::uuid`);
  };

  app.post(
    '/api/patrol/zones',
    {
      config: { access: { roles: UNIT_ROLES.managers } },
      schema: {
        tags: ['patrol'],
        summary: 'Create a patrol zone',
        body: z.object({ name: Name, nodeId: z.string().uuid(), geometry: AreaGeometry, crs: Crs.default('WGS84') }),
        response: { 201: z.object({ id: z.string() }), ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const b = req.body;
      const g = geometryToWgs84(b.geometry, b.crs);
      return runIdempotent(database, req, reply, async (tx) => {
        const path = await assertCoversNode(tx, actor, b.nodeId);
        const id = crypto.randomUUID();
          await tx.execute(sql`insert into patrol_zone (id, name, node_id, path, geom)
          select ${id}::uuid, ${b.name}, ${b.nodeId}::uuid, ${path}, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(g)}), 4326))
          where ST_IsValid(ST_GeomFromGeoJSON(${JSON.stringify(g)}))`);
        const [row] = await txRows<{ ok: number }>(tx, sql`select 1 as ok from patrol_zone where id = ${id}::uuid`);
        if (!row) throw unprocessable('The zone polygon is not valid (self-intersecting or badly closed ring).', [{ field: 'body.geometry', message: 'invalid polygon' }]);
        await appendAudit(tx, actor, { action: 'patrol.zone.create', entityType: 'patrol_zone', entityId: id, nodePath: path, details: { name: b.name } });
        return { status: 201, body: { id } };
      });
    },
  );

  app.patch(
    '/api/patrol/zones/:id',
    {
      config: { access: { roles: UNIT_ROLES.managers } },
      schema: {
        tags: ['patrol'],
        summary: 'Rename or reshape a patrol zone',
        params: IdParams,
        body: z
          .object({ name: Name.optional(), geometry: AreaGeometry.optional(), crs: Crs.default('WGS84') })
          .refine((b) => b.name !== undefined || b.geometry !== undefined, 'name at least one field to change'),
        response: { 200: z.object({ id: z.string() }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const b = req.body;
      await database.db.transaction(async (tx) => {
          const rows = await txRows<{ path: string }>(tx, sql`select path from patrol_zone where id = ${req.params.id}::uuid and retired_at is null`);
        const z0 = rows[0];
        if (!z0) throw notFound('The patrol zone');
        assertCoversPath(actor, z0.path);
        if (b.name) await tx.execute(sql`update patrol_zone set name = ${b.name} where id = ${req.params.id}::uuid`);
        if (b.geometry) await saveZoneGeometry(tx, req.params.id, geometryToWgs84(b.geometry, b.crs));
        await appendAudit(tx, actor, { action: 'patrol.zone.update', entityType: 'patrol_zone', entityId: req.params.id, nodePath: z0.path });
      });
      return { id: req.params.id };
    },
  );

  app.delete(
    '/api/patrol/zones/:id',
    {
      config: { access: { roles: UNIT_ROLES.managers } },
      schema: { tags: ['patrol'], summary: 'Retire a patrol zone', params: IdParams, response: { 204: z.null(), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      await database.db.transaction(async (tx) => {
          const rows = await txRows<{ path: string }>(tx, sql`select path from patrol_zone where id = ${req.params.id}::uuid and retired_at is null`);
        const z0 = rows[0];
        if (!z0) throw notFound('The patrol zone');
        assertCoversPath(actor, z0.path);
        await tx.execute(sql`update patrol_zone set retired_at = now() where id = ${req.params.id}::uuid`);
        await appendAudit(tx, actor, { action: 'patrol.zone.retire', entityType: 'patrol_zone', entityId: req.params.id, nodePath: z0.path });
      });
      return reply.code(204).send(null);
    },
  );

  // ---- plans ---------------------------------------------------------------------------------------

  app.get(
    '/api/patrol/plans',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: {
        tags: ['patrol'],
        summary: 'Patrol plans of a jurisdiction',
        querystring: z.object({ nodeId: z.string().uuid().optional(), active: z.enum(['true', 'false']).optional() }),
        response: { 200: z.object({ items: z.array(PlanView) }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = req.query.nodeId ? await assertCoversNode(database.db, actor, req.query.nodeId) : actor.nodePath;
      const rows = await database.query<PlanRow>(
        `select * from patrol_plan where path like $1 ${req.query.active ? `and active = ${req.query.active === 'true'}` : ''} order by name limit 2000`,
        [`${path}%`],
      );
      return { items: rows.map(presentPlan) };
    },
  );

  app.post(
    '/api/patrol/plans',
    {
      config: { access: { roles: UNIT_ROLES.managers } },
      schema: { tags: ['patrol'], summary: 'Create a patrol plan with checkpoints and a schedule', body: PlanBody, response: { 201: PlanView, ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const b = req.body;
      await checkRefs(actor, b.zoneId, b.unitId);
      const checkpoints = toWgsCheckpoints(b.checkpoints, b.crs);
      const id = await runIdempotent(database, req, reply, async (tx) => {
        const path = await assertCoversNode(tx, actor, b.nodeId);
        const [p] = await tx
          .insert(patrolPlans)
          .values({ name: b.name, nodeId: b.nodeId, path, zoneId: b.zoneId ?? null, unitId: b.unitId ?? null, checkpoints, schedule: b.schedule, ordered: b.ordered })
          .returning({ id: patrolPlans.id });
        await appendAudit(tx, actor, { action: 'patrol.plan.create', entityType: 'patrol_plan', entityId: p!.id, nodePath: path, details: { name: b.name, checkpoints: checkpoints.length } });
        return { status: 201, body: p!.id };
      });
      return presentPlan(await loadPlan(id));
    },
  );

  app.get(
    '/api/patrol/plans/:id',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: { tags: ['patrol'], summary: 'A patrol plan', params: IdParams, response: { 200: PlanView, ...ApiErrorSchemas } },
    },
    async (req) => {
      const p = await loadPlan(req.params.id);
      assertCoversPath(actorOf(req), p.path);
      return presentPlan(p);
    },
  );

  app.patch(
    '/api/patrol/plans/:id',
    {
      config: { access: { roles: UNIT_ROLES.managers } },
      schema: { tags: ['patrol'], summary: 'Edit a patrol plan (or deactivate it)', params: IdParams, body: PlanPatch, response: { 200: PlanView, ...ApiErrorSchemas } },
    },
    async (req) => {
      const actor = actorOf(req);
      const b = req.body;
      const p = await loadPlan(req.params.id);
      assertCoversPath(actor, p.path);
      await checkRefs(actor, b.zoneId, b.unitId);
      await database.db.transaction(async (tx) => {
        await tx
          .update(patrolPlans)
          .set({
            ...(b.name !== undefined ? { name: b.name } : {}),
            ...(b.zoneId !== undefined ? { zoneId: b.zoneId } : {}),
            ...(b.unitId !== undefined ? { unitId: b.unitId } : {}),
            ...(b.checkpoints ? { checkpoints: toWgsCheckpoints(b.checkpoints, b.crs) } : {}),
            ...(b.schedule ? { schedule: b.schedule } : {}),
            ...(b.ordered !== undefined ? { ordered: b.ordered } : {}),
            ...(b.active !== undefined ? { active: b.active } : {}),
            updatedAt: new Date(),
          })
          .where(eq(patrolPlans.id, p.id));
        await appendAudit(tx, actor, { action: 'patrol.plan.update', entityType: 'patrol_plan', entityId: p.id, nodePath: p.path, details: { fields: Object.keys(b).filter((k) => k !== 'crs') } });
      });
      return presentPlan(await loadPlan(p.id));
    },
  );

  // ---- runs ----------------------------------------------------------------------------------------

  app.post(
    '/api/patrol/runs',
    {
      config: { access: { roles: UNIT_ROLES.duty } },
      schema: {
        tags: ['patrol'],
        summary: 'Start a patrol run of a plan by an on-duty unit',
        body: z.object({ planId: z.string().uuid(), unitId: z.string().uuid().optional() }),
        response: { 201: RunView, ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const plan = await loadPlan(req.body.planId);
      const unitId = req.body.unitId ?? plan.unit_id;
      if (!unitId) throw invalid('body.unitId', 'the plan has no assigned unit: name one');
      const [u] = await database.query<{ path: string; on_duty: boolean; retired_at: Date | null }>('select path, on_duty, retired_at from unit where id = $1', [unitId]);
      if (!u || u.retired_at) throw unprocessable('The unit does not exist.', [{ field: 'body.unitId', message: 'no such unit' }]);
      const members = new Set(
        (await database.query<{ user_id: string }>('select user_id from unit_member where unit_id = $1', [unitId])).map((r) => r.user_id),
      );
      if (!canOperate(actor, u, members) || !(members.has(actor.userId) || coversPath(actor, plan.path))) {
        throw forbidden('Only a member of the unit or staff of the plan’s jurisdiction may start this run.');
      }
      if (!plan.active) throw conflict('The plan is inactive.');
      if (!u.on_duty) throw conflict('The unit is off duty: put it on duty first.');
      const id = await runIdempotent(database, req, reply, async (tx) => {
        const [r] = await tx
          .insert(patrolRuns)
          .values({ planId: plan.id, unitId, path: u.path, startedAt: ctx.now(), createdBy: actor.userId })
          .returning({ id: patrolRuns.id });
        await appendAudit(tx, actor, { action: 'patrol.run.start', entityType: 'patrol_run', entityId: r!.id, nodePath: u.path, details: { planId: plan.id, unitId } });
        return { status: 201, body: r!.id };
      });
      const [run] = await database.query<RunRow>('select * from patrol_run where id = $1', [id]);
      return presentRun(run!);
    },
  );

  app.get(
    '/api/patrol/runs',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: {
        tags: ['patrol'],
        summary: 'Patrol runs of a jurisdiction, newest first (summary; open one for detection)',
        querystring: z.object({ nodeId: z.string().uuid().optional(), planId: z.string().uuid().optional(), unitId: z.string().uuid().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: {
          200: z.object({
            items: z.array(z.object({ id: z.string(), planId: z.string(), unitId: z.string(), startedAt: z.string(), endedAt: z.string().nullable(), reached: z.number().nullable() })),
          }),
          ...ApiErrorSchemas,
        },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = req.query.nodeId ? await assertCoversNode(database.db, actor, req.query.nodeId) : actor.nodePath;
      const rows = await database.query<RunRow & { reached_count: number | null }>(
        `select * from patrol_run where path like $1 and ($2::uuid is null or plan_id = $2) and ($3::uuid is null or unit_id = $3)
         order by started_at desc limit $4`,
        [`${path}%`, req.query.planId ?? null, req.query.unitId ?? null, req.query.limit],
      );
      return {
        items: rows.map((r) => ({
          id: r.id,
          planId: r.plan_id,
          unitId: r.unit_id,
          startedAt: new Date(r.started_at).toISOString(),
          endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
          reached: r.reached_count,
        })),
      };
    },
  );

  const loadRun = async (id: string) => {
    const [run] = await database.query<RunRow>('select * from patrol_run where id = $1', [id]);
    if (!run) throw notFound('The patrol run');
    return run;
  };

  app.get(
    '/api/patrol/runs/:id',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: { tags: ['patrol'], summary: 'A patrol run with its checkpoints detected from the track (live while it runs)', params: IdParams, response: { 200: RunView, ...ApiErrorSchemas } },
    },
    async (req) => {
      const run = await loadRun(req.params.id);
      assertCoversPath(actorOf(req), run.path);
      return presentRun(run);
    },
  );

  app.post(
    '/api/patrol/runs/:id/end',
    {
      config: { access: { roles: UNIT_ROLES.duty } },
      schema: { tags: ['patrol'], summary: 'End a patrol run and record what was reached', params: IdParams, response: { 200: RunView, ...ApiErrorSchemas } },
    },
    async (req) => {
      const actor = actorOf(req);
      const run = await loadRun(req.params.id);
      const members = new Set(
        (await database.query<{ user_id: string }>('select user_id from unit_member where unit_id = $1', [run.unit_id])).map((r) => r.user_id),
      );
      if (!canOperate(actor, run, members)) throw forbidden('Only a member of the unit or staff of its jurisdiction may end this run.');
      if (run.ended_at) return presentRun(run);
      const endedAt = ctx.now();
      const plan = await loadPlan(run.plan_id);
      const detection = await detect({ ...run, ended_at: endedAt }, plan);
      await database.db.transaction(async (tx) => {
          await tx
          .update(patrolRuns)
          .set({ endedAt, result: detection as unknown as Record<string, unknown>, reachedCount: detection.reached })
          .where(eq(patrolRuns.id, run.id));
        await appendAudit(tx, actor, {
          action: 'patrol.run.end',
          entityType: 'patrol_run',
          entityId: run.id,
          nodePath: run.path,
          details: { reached: detection.reached, missed: detection.missed.length },
        });
      });
      return presentRun({ ...run, ended_at: endedAt, result: detection });
    },
  );

  // ---- coverage ------------------------------------------------------------------------------------

  app.get(
    '/api/patrol/coverage',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: {
        tags: ['patrol'],
        summary: 'Patrol coverage per grid or zone for a day or week (local time): minutes, distance, distinct hours; least covered first',
        querystring: z.object({
          nodeId: z.string().uuid(),
          date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
          period: z.enum(['day', 'week']).default('day'),
          by: z.enum(['grid', 'zone']).default('grid'),
          maxGapMinutes: z.coerce.number().min(0.1).max(60).default(5),
        }),
        response: {
          200: z.object({
            from: z.string(),
            to: z.string(),
            by: z.string(),
            items: z.array(
              z.object({
                id: z.string(),
                code: z.string().nullable(),
                name: z.string(),
                minutes: z.number(),
                distanceKm: z.number(),
                distinctHours: z.number(),
                hours: z.array(z.number()),
                units: z.number(),
              }),
            ),
          }),
          ...ApiErrorSchemas,
        },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const q = req.query;
      const path = await assertCoversNode(database.db, actor, q.nodeId);
      const from = localDayStart(q.date);
      if (!Number.isFinite(from)) throw invalid('querystring.date', 'must be a real date');
      const to = from + (q.period === 'week' ? 7 : 1) * 86_400_000;
      type Area = { id: string; code: string | null; name: string; geom: MultiPolygon };
      const areas: Area[] =
        q.by === 'grid'
          ? (
              await database.query<{ id: string; code: string; name: string; g: string }>(
                `select id, code, name, ST_AsGeoJSON(geom) as g from jurisdiction_node where path like $1 and level = 'grid' and retired_at is null and geom is not null`,
                [`${path}%`],
              )
            ).map((r) => ({ id: r.id, code: r.code, name: r.name, geom: JSON.parse(r.g) as MultiPolygon }))
          : (
              await database.query<{ id: string; name: string; g: string }>(
                `select id, name, ST_AsGeoJSON(geom) as g from patrol_zone where path like $1 and retired_at is null`,
                [`${path}%`],
              )
            ).map((r) => ({ id: r.id, code: null, name: r.name, geom: JSON.parse(r.g) as MultiPolygon }));
      const items = new Map<string, Area>(areas.map((a) => [a.id, a]));
      let tracks: UnitTrack[] = [];
      if (areas.length) {
        const [bb] = await database.query<{ x0: number; y0: number; x1: number; y1: number }>(
          `select ST_XMin(e) as x0, ST_YMin(e) as y0, ST_XMax(e) as x1, ST_YMax(e) as y1 from (select ST_Extent(g) as e from (select ST_GeomFromGeoJSON(unnest($1::text[])) as g) s) s2`,
          [areas.map((a) => JSON.stringify(a.geom))],
        );
        const pad = 0.02;
        const rows = await database.query<{ unit_id: string; t: Date | string; lon: number; lat: number }>(
          `select p.unit_id, p.t, p.lon, p.lat from unit_position p join unit u on u.id = p.unit_id
           where p.t >= $1 and p.t < $2 and u.type <> 'service_station'
             and p.lon between $3 and $4 and p.lat between $5 and $6
           order by p.unit_id, p.t`,
          [new Date(from), new Date(to), bb!.x0 - pad, bb!.x1 + pad, bb!.y0 - pad, bb!.y1 + pad],
        );
        const byUnit = new Map<string, TrackPoint[]>();
        for (const r of rows) {
          let list = byUnit.get(r.unit_id);
          if (!list) byUnit.set(r.unit_id, (list = []));
          list.push({ t: new Date(r.t).getTime(), lon: r.lon, lat: r.lat });
        }
        tracks = [...byUnit].map(([unitId, points]) => ({ unitId, points }));
      }
      const areasOf =
        q.by === 'grid'
          ? (lon: number, lat: number) => {
              const chain = ctx.lookup.resolve(lon, lat);
              const grid = chain?.find((n) => n.level === 'grid');
              return grid && items.has(grid.id) ? [grid.id] : [];
            }
          : (lon: number, lat: number) => areas.filter((a) => booleanPointInPolygon([lon, lat], a.geom)).map((a) => a.id);
      const cov = coverage(tracks, areasOf, { maxGapMs: q.maxGapMinutes * 60_000, utcOffsetMinutes: CHINA_OFFSET_MIN });
      const out = areas.map((a) => {
        const c = cov.get(a.id);
        const hours = c ? [...c.hours].sort((x, y) => x - y) : [];
        return {
          id: a.id,
          code: a.code,
          name: a.name,
          minutes: c ? Math.round(c.minutes * 100) / 100 : 0,
          distanceKm: c ? Math.round(c.distanceM) / 1000 : 0,
          distinctHours: hours.length,
          hours,
          units: c ? c.units.size : 0,
        };
      });
      out.sort((x, y) => x.minutes - y.minutes || x.distanceKm - y.distanceKm || x.distinctHours - y.distinctHours || x.name.localeCompare(y.name));
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), by: q.by, items: out };
    },
  );
}
