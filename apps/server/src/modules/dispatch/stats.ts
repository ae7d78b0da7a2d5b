import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { assertCoversNode } from '../../platform/access.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import { rows } from '../../platform/db/rows.js';
import { actorOf } from '../../platform/http/access-hook.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';
import { INCIDENT_READER_ROLES } from './service.js';

/** Local day (China Standard Time, UTC+8, no daylight saving) that contains `now`: [start, end). */
export function chinaDay(now: Date): { start: Date; end: Date } {
  const offset = 8 * 3_600_000;
  const local = new Date(now.getTime() + offset);
  const start = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) - offset);
  return { start, end: new Date(start.getTime() + 86_400_000) };
}

const Share = z.object({ met: z.number(), total: z.number(), share: z.number().nullable() });
export const DispatchStats = z.object({
  nodeId: z.string().nullable(),
  from: z.string(),
  to: z.string(),
  callsToday: z.number(),
  byCategory: z.array(z.object({ category: z.string(), count: z.number() })),
  acknowledgedWithin30s: Share,
  unitsOutWithin1m: Share,
  onSceneInTime: Share,
  onSceneCoreWithin3m: Share,
  onSceneOtherWithin5m: Share,
  openIncidents: z.number(),
  unitsOnDuty: z.number(),
  hourly: z.array(z.object({ hour: z.string(), calls: z.number(), dispatched: z.number(), avgOnSceneSeconds: z.number().nullable() })),
});

const share = (met: number, total: number) => ({ met, total, share: total > 0 ? Math.round((met / total) * 10_000) / 10_000 : null });
const num = (v: unknown) => Number(v ?? 0);

/**
 * Read-only aggregates for the big screen (大屏): today's calls by category, the 1-3-5 shares and
 * hourly trends of the last 24 hours, over the asker's jurisdiction (or a node below it).
 */
export function dispatchStatsRoutes(app: ZodApp, ctx: AppContext): void {
  const { database } = ctx;
  app.get(
    '/api/dispatch/stats',
    {
      config: { access: { roles: INCIDENT_READER_ROLES } },
      schema: {
        tags: ['dispatch'],
        summary: 'KPIs of today (calls by category, acknowledged within 30 s, units out within 1 min, on scene within 3/5 min, open incidents, units on duty) and hourly trends',
        querystring: z.object({ nodeId: z.string().uuid().optional() }),
        response: { 200: DispatchStats, ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = req.query.nodeId ? await assertCoversNode(database.db, actor, req.query.nodeId) : actor.nodePath;
      const like = `${path}%`;
      const now = ctx.now();
      const { start, end } = chinaDay(now);
      const db = database.db;

      const byCategory = await rows<{ category: string; n: number }>(
        db,
        sql`select i.category, count(c.id)::int as n from incident_call c join incident i on i.id = c.incident_id
            where i.node_path like ${like} and c.received_at >= ${start} and c.received_at < ${end}
            group by i.category order by n desc, i.category`,
      );
      const [ack] = await rows<{ met: number; total: number }>(
        db,
        sql`select count(*) filter (where a.acknowledged_at is not null and a.acknowledged_at <= a.dispatched_at + interval '30 seconds')::int as met,
                   count(*) filter (where a.acknowledged_at is not null or a.dispatched_at < ${now}::timestamptz - interval '30 seconds')::int as total
            from incident_assignment a join incident i on i.id = a.incident_id
            where i.node_path like ${like} and a.dispatched_at >= ${start} and a.dispatched_at < ${end}
              and not (a.status = 'cancelled' and a.acknowledged_at is null and a.cancelled_at <= a.dispatched_at + interval '30 seconds')`,
      );
      const [out] = await rows<{ met: number; total: number }>(
        db,
        sql`with f as (
              select i.id, i.created_at, (select min(a.dispatched_at) from incident_assignment a where a.incident_id = i.id) as first_out
              from incident i
              where i.node_path like ${like} and i.created_at >= ${start} and i.created_at < ${end} and i.status not in ('merged', 'diverted'))
            select count(*) filter (where first_out is not null and first_out <= created_at + interval '60 seconds')::int as met,
                   count(*) filter (where first_out is not null or created_at < ${now}::timestamptz - interval '60 seconds')::int as total
            from f`,
      );
      const scene = await rows<{ core: boolean; met: number; total: number }>(
        db,
        sql`select i.core,
                   count(*) filter (where t.met_at is not null and t.met_at <= t.due_at)::int as met,
                   count(*) filter (where (t.met_at is not null or t.due_at < ${now}) and not (t.cancelled_at is not null and t.met_at is null and t.cancelled_at < t.due_at))::int as total
            from incident_timer t join incident i on i.id = t.incident_id
            where t.kind = 'arrive' and i.node_path like ${like} and t.started_at >= ${start} and t.started_at < ${end}
            group by i.core`,
      );
      const [open] = await rows<{ n: number }>(db, sql`select count(*)::int as n from incident where node_path like ${like} and status not in ('closed', 'merged')`);
      const [duty] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit where path like ${like} and on_duty and retired_at is null`);

      const since = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 - 23 * 3_600_000);
      const calls = await rows<{ h: Date | string; n: number }>(
        db,
        sql`select date_trunc('hour', c.received_at) as h, count(*)::int as n from incident_call c join incident i on i.id = c.incident_id
            where i.node_path like ${like} and c.received_at >= ${since} group by 1`,
      );
      const sent = await rows<{ h: Date | string; n: number; avg: number | null }>(
        db,
        sql`select date_trunc('hour', a.dispatched_at) as h, count(*)::int as n,
                   avg(extract(epoch from (a.on_scene_at - a.dispatched_at))) as avg
            from incident_assignment a join incident i on i.id = a.incident_id
            where i.node_path like ${like} and a.dispatched_at >= ${since} group by 1`,
      );
      const key = (h: Date | string) => new Date(h).toISOString();
      const callsBy = new Map(calls.map((c) => [key(c.h), num(c.n)]));
      const sentBy = new Map(sent.map((s) => [key(s.h), s]));
      const hourly = Array.from({ length: 24 }, (_, i) => {
        const hour = new Date(since.getTime() + i * 3_600_000).toISOString();
        const s = sentBy.get(hour);
        return { hour, calls: callsBy.get(hour) ?? 0, dispatched: num(s?.n), avgOnSceneSeconds: s?.avg == null ? null : Math.round(Number(s.avg)) };
      });

      const core = scene.find((s) => s.core);
      const other = scene.find((s) => !s.core);
      return {
        nodeId: req.query.nodeId ?? null,
        from: start.toISOString(),
        to: end.toISOString(),
        callsToday: byCategory.reduce((a, c) => a + num(c.n), 0),
        byCategory: byCategory.map((c) => ({ category: c.category, count: num(c.n) })),
        acknowledgedWithin30s: share(num(ack?.met), num(ack?.total)),
        unitsOutWithin1m: share(num(out?.met), num(out?.total)),
        onSceneInTime: share(num(core?.met) + num(other?.met), num(core?.total) + num(other?.total)),
        onSceneCoreWithin3m: share(num(core?.met), num(core?.total)),
        onSceneOtherWithin5m: share(num(other?.met), num(other?.total)),
        openIncidents: num(open?.n),
        unitsOnDuty: num(duty?.n),
        hourly,
      };
    },
  );

  app.get(
    '/api/incidents/density',
    {
      config: { access: { roles: INCIDENT_READER_ROLES } },
      schema: {
        tags: ['dispatch'],
        summary: 'Where incidents of the last N days happened, counted per cell of about 100 m (the heat-map layer of the command map)',
        querystring: z.object({ nodeId: z.string().uuid().optional(), days: z.coerce.number().int().min(1).max(365).default(30) }),
        response: { 200: z.object({ days: z.number(), total: z.number(), cells: z.array(z.tuple([z.number(), z.number(), z.number()])) }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = req.query.nodeId ? await assertCoversNode(database.db, actor, req.query.nodeId) : actor.nodePath;
      const since = new Date(ctx.now().getTime() - req.query.days * 86_400_000);
      // Cells of 0.001° (≈ 100 m): a county's month is a few thousand cells, not every incident.
      const cells = await rows<{ lon: number; lat: number; n: number }>(
        database.db,
        sql`select round(lon::numeric, 3)::float8 as lon, round(lat::numeric, 3)::float8 as lat, count(*)::int as n
            from incident
            where node_path like ${`${path}%`} and created_at >= ${since} and lon is not null and lat is not null and merged_into is null
            group by 1, 2 order by n desc limit 20000`,
      );
      return { days: req.query.days, total: cells.reduce((a, c) => a + c.n, 0), cells: cells.map((c) => [c.lon, c.lat, c.n] as [number, number, number]) };
    },
  );
}
