import { z } from 'zod';
import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { Crs } from '@pingan/contracts';
import { assertCoversNode, assertCoversPath, nodePathOf, type Actor } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import { DomainError, forbidden, invalid, notFound, unauthorized } from '../../platform/errors.js';
import { actorOf } from '../../platform/http/access-hook.js';
import { runIdempotent } from '../../platform/http/idempotency.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';
import { convert, toWgs84 } from '../jurisdiction/geo/coords.js';
import { simplifyTrack, straightLine, type TrackPoint } from './analysis.js';
import {
  CreateUnitBody, IdParams, LiveView as LiveViewSchema, PositionsAnswer, PositionsBody, ReachAnswer, ReachBody, TrackQuery, UnitView,
  UpdateUnitBody,
} from './http.js';
import { patrolRoutes } from './patrol-routes.js';
import { ScannedPositions, scanPositionsBody } from './positions-scan.js';
import { STORED, type LiveView, type Ping } from './positions.js';
import { canOperate, createUnitService, UNIT_ROLES, UNIT_TYPES } from './service.js';
import { unitsRuntime, type Sender } from './runtime.js';

const CHINA_OFFSET_MIN = 8 * 60;

// zod 4's z.string().uuid() pattern (RFC 9562 versions 1-8, variant 10xx, nil and max).
export const UUID_PATTERN = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * The UUID pattern above, by hand (a regex per point was a visible share of the ingest profile):
 * 36 characters, dashes at 8, 13, 18, 23, hex elsewhere, version 1-8 and variant 10xx, or nil/max.
 */
export function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) {
      return false;
    }
  }
  const version = s.charCodeAt(14);
  const variant = s.charCodeAt(19) | 32;
  if (version >= 49 && version <= 56 && (variant === 56 || variant === 57 || variant === 97 || variant === 98)) return true;
  return s === NIL_UUID || s === MAX_UUID;
}

const CRS_VALUES: ReadonlySet<unknown> = new Set<unknown>(Crs.options);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optNonNegative = (v: unknown) => v === undefined || v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0);

/**
 * Fast path of PositionsBody for 250-point batches: a hand-written check that accepts only what the
 * zod schema accepts (zod stays the schema of record: OpenAPI, types, and every error — anything the
 * fast check does not accept goes to zod, which answers with its own messages). Accepted bodies are
 * passed on as parsed (unknown keys are not stripped: the handler reads only the schema's keys), with
 * the default crs filled in.
 */
export function fastPositionsBody(body: unknown): z.infer<typeof PositionsBody> | null {
  if (!isObject(body)) return null;
  const { unitId, crs, points } = body;
  if (unitId !== undefined && (typeof unitId !== 'string' || !isUuid(unitId))) return null;
  if (crs !== undefined && !CRS_VALUES.has(crs)) return null;
  if (!Array.isArray(points) || points.length < 1 || points.length > 5000) return null;
  for (let i = 0; i < points.length; i++) {
    const p: unknown = points[i];
    if (!isObject(p)) return null;
    const t = p.t;
    if (typeof t === 'number' ? !Number.isFinite(t) : typeof t !== 'string' || t.length > 40) return null;
    if (typeof p.lon !== 'number' || !Number.isFinite(p.lon) || typeof p.lat !== 'number' || !Number.isFinite(p.lat)) return null;
    if (!optNonNegative(p.accuracy) || !optNonNegative(p.speed)) return null;
    const h = p.heading;
    if (h !== undefined && h !== null && (typeof h !== 'number' || !Number.isFinite(h))) return null;
    const u = p.unitId;
    if (u !== undefined && (typeof u !== 'string' || !isUuid(u))) return null;
  }
  if (crs === undefined) body.crs = 'WGS84';
  return body as z.infer<typeof PositionsBody>;
}

/** The route's validator: a body the scanner read is valid already; then the fast check; zod for everything else (and for every error). */
function positionsValidator<S>(route: { schema: S; method: string; url: string; httpPart?: string }): ReturnType<FastifySchemaCompiler<S>> {
  const viaZod = validatorCompiler({ ...route, schema: route.schema as unknown as z.ZodType });
  if (route.httpPart !== 'body') return viaZod;
  return (data: unknown) => {
    if (data instanceof ScannedPositions) return { value: data };
    const fast = fastPositionsBody(data);
    return fast ? { value: fast } : viaZod(data);
  };
}

/**
 * The batch's points as track rows in WGS-84, each with its unit (the point's, else `defaultUnit`).
 * A scanned batch's points are track rows already and are completed in place.
 */
export function pingsOf(body: z.infer<typeof PositionsBody>, defaultUnit: string | undefined): Ping[] {
  const points = body.points;
  const n = points.length;
  const wgs = body.crs === 'WGS84';
  const scanned = body instanceof ScannedPositions ? body.points : null;
  const pings = scanned ?? new Array<Ping>(n);
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    const unitId = p.unitId || defaultUnit;
    if (!unitId) throw invalid(`body.points.${i}.unitId`, 'name the unit (in the point, the batch or the ticket)');
    let lon = p.lon;
    let lat = p.lat;
    if (!wgs && Math.abs(lon) <= 180 && Math.abs(lat) <= 90) {
      try {
        [lon, lat] = toWgs84(lon, lat, body.crs);
      } catch {
        lon = Number.NaN;
      }
    }
    if (scanned) {
      const ping = scanned[i]!;
      ping.unitId = unitId;
      ping.lon = lon;
      ping.lat = lat;
    } else {
      const t = typeof p.t === 'number' ? p.t : Date.parse(p.t);
      pings[i] = { unitId, unitNo: -1, t, lon, lat, accuracy: p.accuracy ?? null, speed: p.speed ?? null, heading: p.heading ?? null };
    }
  }
  return pings;
}

function staffNow(staffing: { from: string; to: string; staff: number }[], now: Date): number {
  const local = new Date(now.getTime() + CHINA_OFFSET_MIN * 60_000);
  const hm = `${String(local.getUTCHours()).padStart(2, '0')}:${String(local.getUTCMinutes()).padStart(2, '0')}`;
  let n = 0;
  for (const s of staffing) {
    const inside = s.from <= s.to ? hm >= s.from && hm < s.to : hm >= s.from || hm < s.to;
    if (inside) n += s.staff;
  }
  return n;
}

export const presentLive = (v: LiveView) => ({
  unitId: v.unitId,
  callSign: v.callSign,
  type: v.type,
  t: new Date(v.t).toISOString(),
  lon: v.lon,
  lat: v.lat,
  accuracy: v.accuracy,
  speed: v.speed,
  heading: v.heading,
  stale: v.stale,
  ageSeconds: Math.round(v.ageMs / 1000),
});

interface UnitRow extends Record<string, unknown> {
  id: string;
  call_sign: string;
  name: string;
  type: string;
  home_node_id: string;
  path: string;
  on_duty: boolean;
  duty_changed_at: Date | string | null;
  notes: string | null;
  members: { id: string; displayName: string; role: string }[] | null;
  station: { address: string | null; phone: string | null; lon: number; lat: number; functions: string[]; staffing: { from: string; to: string; staff: number }[] } | null;
  shift: { id: string; startedAt: string; memberIds: string[] } | null;
}

const UNIT_SELECT = `
  select u.id, u.call_sign, u.name, u.type, u.home_node_id, u.path, u.on_duty, u.duty_changed_at, u.notes,
    (select coalesce(json_agg(json_build_object('id', a.id, 'displayName', a.display_name, 'role', a.role) order by a.display_name), '[]'::json)
       from unit_member m join app_user a on a.id = m.user_id where m.unit_id = u.id) as members,
    (select json_build_object('address', s.address, 'phone', s.phone, 'lon', s.lon, 'lat', s.lat, 'functions', s.functions, 'staffing', s.staffing)
       from service_station s where s.unit_id = u.id) as station,
    (select json_build_object('id', sh.id, 'startedAt', sh.started_at, 'memberIds', sh.member_ids)
       from unit_shift sh where sh.unit_id = u.id and sh.ended_at is null order by sh.started_at desc limit 1) as shift
  from unit u`;

export function unitsRoutes(app: ZodApp, ctx: AppContext): void {
  const { database } = ctx;
  const runtime = unitsRuntime(ctx);
  const service = createUnitService(ctx);
  runtime.installMetrics(app.metrics);
  app.addHook('onReady', async () => runtime.start());
  app.addHook('onClose', async () => runtime.stop());

  const present = (r: UnitRow) => {
    const live = runtime.positions.latest(r.id);
    return {
      id: r.id,
      callSign: r.call_sign,
      name: r.name,
      type: r.type,
      homeNodeId: r.home_node_id,
      onDuty: r.on_duty,
      dutyChangedAt: r.duty_changed_at ? new Date(r.duty_changed_at).toISOString() : null,
      notes: r.notes,
      members: r.members ?? [],
      station: r.station ? { ...r.station, staffNow: staffNow(r.station.staffing, ctx.now()) } : null,
      currentShift: r.shift ? { ...r.shift, startedAt: new Date(r.shift.startedAt).toISOString() } : null,
      live: live ? presentLive(live) : null,
    };
  };

  const readUnit = async (actor: Actor, id: string) => {
    const [row] = await database.query<UnitRow>(`${UNIT_SELECT} where u.id = $1 and u.retired_at is null`, [id]);
    if (!row) throw notFound('The unit');
    assertCoversPath(actor, row.path);
    return row;
  };

  app.get(
    '/api/units',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: {
        tags: ['units'],
        summary: 'Units of a jurisdiction (default: yours) with duty, shift, members, station details and live position',
        querystring: z.object({
          nodeId: z.string().uuid().optional(),
          type: z.enum(UNIT_TYPES).optional(),
          onDuty: z.enum(['true', 'false']).optional(),
        }),
        response: { 200: z.object({ items: z.array(UnitView) }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = req.query.nodeId ? await assertCoversNode(database.db, actor, req.query.nodeId) : actor.nodePath;
      const params: unknown[] = [`${path}%`];
      let where = 'u.path like $1 and u.retired_at is null';
      if (req.query.type) {
        params.push(req.query.type);
        where += ` and u.type = $${params.length}`;
      }
      if (req.query.onDuty) where += ` and u.on_duty = ${req.query.onDuty === 'true'}`;
      const rows = await database.query<UnitRow>(`${UNIT_SELECT} where ${where} order by u.call_sign limit 5000`, params);
      return { items: rows.map(present) };
    },
  );

  app.post(
    '/api/units',
    {
      config: { access: { roles: UNIT_ROLES.managers } },
      schema: {
        tags: ['units'],
        summary: 'Create a unit (a service station with its place, functions and staffing)',
        body: CreateUnitBody,
        response: { 201: UnitView, ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const b = req.body;
      const station = b.station
        ? (() => {
            const [lon, lat] = toWgs84(b.station.lon, b.station.lat, b.station.crs);
            return { ...b.station, lon, lat };
          })()
        : undefined;
      const id = await runIdempotent(database, req, reply, async (tx) => ({
        status: 201,
        body: await service.create(tx, actor, { ...b, station }),
      }));
      await runtime.refreshUnits([id]);
      return present(await readUnit(actor, id));
    },
  );

  app.get(
    '/api/units/live',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: {
        tags: ['units'],
        summary: 'Latest positions of the on-duty units of a jurisdiction, from memory (stale ones flagged)',
        querystring: z.object({ nodeId: z.string().uuid().optional(), crs: z.enum(['WGS84', 'GCJ02', 'BD09']).default('WGS84') }),
        response: { 200: z.object({ staleAfterSeconds: z.number(), items: z.array(LiveViewSchema) }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = req.query.nodeId ? await assertCoversNode(database.db, actor, req.query.nodeId) : actor.nodePath;
      const items = runtime.positions.all(path).map((v) => {
        const p = presentLive(v);
        if (req.query.crs === 'WGS84') return p;
        const [lon, lat] = convert(v.lon, v.lat, 'WGS84', req.query.crs);
        return { ...p, lon, lat };
      });
      return { staleAfterSeconds: runtime.positions.opts.staleMs / 1000, items };
    },
  );

  // The batch route reads its own bytes (positions-scan.ts); any other body goes to the ordinary JSON
  // parser. In a scope of its own, so no other route's parsing changes.
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    const jsonParser = scope.getDefaultJsonParser('error', 'error');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
      const raw = body as Buffer;
      const scanned = scanPositionsBody(raw);
      if (scanned) done(null, scanned);
      else jsonParser(req, raw.toString('utf8'), done);
    });
    scope.post(
      '/api/units/positions',
      {
        // Authenticated here, not by the access hook: a terminal ticket (`Authorization: Ticket …`)
        // or a session of someone who may operate the unit (a member, or duty staff above it).
        config: { access: { public: true } },
        validatorCompiler: positionsValidator,
        schema: {
          tags: ['units'],
          summary: 'Report positions (batched); answered after they are committed, with what each rule did',
          body: PositionsBody,
          response: { 200: PositionsAnswer, ...ApiErrorSchemas },
        },
      },
      async (req) => {
        const h = req.headers.authorization;
        let sender: Sender;
        if (typeof h === 'string' && h.startsWith('Ticket ')) {
          const claims = await ctx.auth.verifyTicket(h.slice(7).trim(), 'terminal');
          if (!claims?.unitId) throw unauthorized('The terminal ticket is invalid, expired or not bound to a unit: get a new one.');
          sender = { kind: 'ticket', userId: claims.sub, unitId: claims.unitId };
        } else if (req.actor) {
          if (req.authSession?.viaCookie) {
            const presented = req.headers['x-csrf-token'];
            if (!ctx.auth.checkCsrf(req.authSession.tokenHash, typeof presented === 'string' ? presented : undefined)) {
              throw new DomainError(403, 'csrf', 'The request lacks a valid x-csrf-token header; reload the page and try again.');
            }
          }
          sender = { kind: 'session', userId: req.actor.userId };
        } else {
          throw unauthorized('Send a terminal ticket (Authorization: Ticket …) or log in.');
        }
        const body = req.body;
        const pings = pingsOf(body, body.unitId ?? (sender.kind === 'ticket' ? sender.unitId : undefined));
        const counts = await runtime.ingest(sender, pings);
        let stored = 0;
        for (const o of STORED) stored += counts[o];
        return { received: pings.length, stored, counts, serverTime: ctx.now().toISOString() };
      },
    );
  });

  app.post(
    '/api/units/reach',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: {
        tags: ['units'],
        summary: 'Share of each grid (and of core areas) within 1/3/5 minutes of chosen stations, units or points (straight-line model)',
        body: ReachBody,
        response: { 200: ReachAnswer, ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const b = req.body;
      const path = await assertCoversNode(database.db, actor, b.nodeId);
      const speedKmh = b.speedKmh ?? runtime.settings.PINGAN_REACH_SPEED_KMH;
      const model = straightLine(speedKmh);
      const sources: { unitId: string | null; callSign: string | null; lon: number; lat: number }[] = [];
      if (b.unitIds.length) {
        const rows = await database.query<{ id: string; call_sign: string; path: string; lon: number | null; lat: number | null }>(
          `select u.id, u.call_sign, u.path, s.lon, s.lat from unit u left join service_station s on s.unit_id = u.id
           where u.id = any($1::uuid[]) and u.retired_at is null`,
          [b.unitIds],
        );
        const found = new Map(rows.map((r) => [r.id, r]));
        b.unitIds.forEach((id, i) => {
          const r = found.get(id);
          if (!r) throw invalid(`body.unitIds.${i}`, 'no such unit');
          assertCoversPath(actor, r.path);
          const live = runtime.positions.latest(id);
          if (r.lon !== null && r.lat !== null) sources.push({ unitId: id, callSign: r.call_sign, lon: r.lon, lat: r.lat });
          else if (live && !live.stale) sources.push({ unitId: id, callSign: r.call_sign, lon: live.lon, lat: live.lat });
        });
      }
      if (b.liveUnits) {
        const have = new Set(sources.map((s) => s.unitId));
        for (const v of runtime.positions.all(path)) {
          if (!v.stale && !have.has(v.unitId)) sources.push({ unitId: v.unitId, callSign: v.callSign, lon: v.lon, lat: v.lat });
        }
      }
      for (const p of b.points) {
        const [lon, lat] = toWgs84(p.lon, p.lat, b.crs);
        sources.push({ unitId: null, callSign: null, lon, lat });
      }
      const minutes = [...new Set(b.minutes)].sort((x, y) => x - y);
      const radii = minutes.map((m) => model.radiusM(m));
      const rows = await database.query<{ id: string; code: string; name: string; core: boolean; minutes: number; total: number; reached: number }>(
        `with src as (
           select ST_SetSRID(ST_MakePoint(x, y), 4326) as g from unnest($1::float8[], $2::float8[]) as s(x, y)),
         circles as (
           select r.m as minutes, ST_Union(ST_Buffer(src.g::geography, r.radius, 'quad_segs=32')::geometry) as g
           from unnest($3::float8[], $4::float8[]) as r(m, radius) cross join src group by r.m),
         grids as (
           select id, code, name, core, geom from jurisdiction_node
           where path like $5 and level = 'grid' and retired_at is null and geom is not null)
         select g.id, g.code, g.name, g.core, m.m as minutes, ST_Area(g.geom::geography) as total,
           coalesce((select ST_Area(ST_Intersection(g.geom, c.g)::geography) from circles c where c.minutes = m.m), 0) as reached
         from grids g cross join unnest($3::float8[]) as m(m)
         order by g.code, m.m`,
        [sources.map((s) => s.lon), sources.map((s) => s.lat), minutes, radii, `${path}%`],
      );
      const grids = new Map<string, { id: string; code: string; name: string; core: boolean; areaKm2: number; shares: Record<string, number> }>();
      const sum = { core: { area: 0, reached: new Map<number, number>() }, all: { area: 0, reached: new Map<number, number>() } };
      for (const r of rows) {
        let g = grids.get(r.id);
        const total = Number(r.total);
        const reached = Math.min(total, Number(r.reached));
        if (!g) {
          grids.set(r.id, (g = { id: r.id, code: r.code, name: r.name, core: r.core, areaKm2: Math.round(total / 1e4) / 100, shares: {} }));
          sum.all.area += total;
          if (r.core) sum.core.area += total;
        }
        const m = Number(r.minutes);
        g.shares[String(m)] = total > 0 ? Math.round((reached / total) * 10_000) / 10_000 : 0;
        sum.all.reached.set(m, (sum.all.reached.get(m) ?? 0) + reached);
        if (r.core) sum.core.reached.set(m, (sum.core.reached.get(m) ?? 0) + reached);
      }
      const agg = (s: { area: number; reached: Map<number, number> }) => ({
        areaKm2: Math.round(s.area / 1e4) / 100,
        shares: Object.fromEntries(minutes.map((m) => [String(m), s.area > 0 ? Math.round(((s.reached.get(m) ?? 0) / s.area) * 10_000) / 10_000 : 0])),
      });
      return {
        model: model.name,
        speedKmh,
        radiiM: Object.fromEntries(minutes.map((m, i) => [String(m), Math.round(radii[i]!)])),
        sources,
        grids: [...grids.values()],
        core: agg(sum.core),
        all: agg(sum.all),
      };
    },
  );

  app.get(
    '/api/units/:id',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: { tags: ['units'], summary: 'A unit', params: IdParams, response: { 200: UnitView, ...ApiErrorSchemas } },
    },
    async (req) => present(await readUnit(actorOf(req), req.params.id)),
  );

  app.patch(
    '/api/units/:id',
    {
      config: { access: { roles: UNIT_ROLES.managers } },
      schema: { tags: ['units'], summary: 'Edit a unit, its members or its station details', params: IdParams, body: UpdateUnitBody, response: { 200: UnitView, ...ApiErrorSchemas } },
    },
    async (req) => {
      const actor = actorOf(req);
      const { memberIds, station, ...rest } = req.body;
      const st = station
        ? (() => {
            const [lon, lat] = toWgs84(station.lon, station.lat, station.crs);
            return { ...station, lon, lat };
          })()
        : undefined;
      await service.update(actor, req.params.id, { ...rest, ...(st ? { station: st } : {}) }, memberIds);
      return present(await readUnit(actor, req.params.id));
    },
  );

  app.delete(
    '/api/units/:id',
    {
      config: { access: { roles: UNIT_ROLES.managers } },
      schema: { tags: ['units'], summary: 'Retire a unit (off duty first)', params: IdParams, response: { 204: z.null(), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      await service.retire(actorOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/units/:id/duty',
    {
      config: { access: { roles: UNIT_ROLES.duty } },
      schema: {
        tags: ['units'],
        summary: 'Put a unit on or off duty (opens or closes its shift; off duty stops tracking)',
        params: IdParams,
        body: z.object({ onDuty: z.boolean() }),
        response: { 200: z.object({ onDuty: z.boolean(), dutyChangedAt: z.string() }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const r = await service.setDuty(actorOf(req), req.params.id, req.body.onDuty);
      return { onDuty: r.onDuty, dutyChangedAt: new Date(r.dutyChangedAt).toISOString() };
    },
  );

  app.get(
    '/api/units/:id/shifts',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: {
        tags: ['units'],
        summary: 'Shifts of a unit, newest first',
        params: IdParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: {
          200: z.object({ items: z.array(z.object({ id: z.string(), startedAt: z.string(), endedAt: z.string().nullable(), memberIds: z.array(z.string()) })) }),
          ...ApiErrorSchemas,
        },
      },
    },
    async (req) => {
      await readUnit(actorOf(req), req.params.id);
      const rows = await database.query<{ id: string; started_at: Date | string; ended_at: Date | string | null; member_ids: string[] }>(
        'select id, started_at, ended_at, member_ids from unit_shift where unit_id = $1 order by started_at desc limit $2',
        [req.params.id, req.query.limit],
      );
      return {
        items: rows.map((r) => ({
          id: r.id,
          startedAt: new Date(r.started_at).toISOString(),
          endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
          memberIds: r.member_ids,
        })),
      };
    },
  );

  app.post(
    '/api/units/:id/ticket',
    {
      config: { access: { roles: UNIT_ROLES.duty } },
      schema: {
        tags: ['units'],
        summary: "A terminal ticket (12 h) for this unit's position feed",
        params: IdParams,
        response: { 200: z.object({ ticket: z.string(), expiresAt: z.string() }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const u = await service.loadUnit(req.params.id);
      if (!canOperate(actor, u, await service.memberSet(u.id))) throw forbidden('Only a member of the unit or staff of its jurisdiction may get its ticket.');
      const t = await ctx.auth.issueTicket(actor, 'terminal', u.id);
      return { ticket: t.ticket, expiresAt: t.expiresAt.toISOString() };
    },
  );

  app.get(
    '/api/units/:id/track',
    {
      config: { access: { roles: UNIT_ROLES.readers } },
      schema: {
        tags: ['units'],
        summary: "A unit's recorded track for replay, simplified to at most maxPoints (the read is audited)",
        params: IdParams,
        querystring: TrackQuery,
        response: {
          200: z.object({
            unitId: z.string(),
            from: z.string(),
            to: z.string(),
            total: z.number(),
            toleranceM: z.number(),
            points: z.array(z.object({ t: z.string(), lon: z.number(), lat: z.number(), speed: z.number().nullable(), heading: z.number().nullable() })),
          }),
          ...ApiErrorSchemas,
        },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const from = new Date(req.query.from);
      const to = new Date(req.query.to);
      if (!(to > from)) throw invalid('querystring.to', 'must be after from');
      if (to.getTime() - from.getTime() > 31 * 86_400_000) throw invalid('querystring.to', 'replay at most 31 days at once');
      const row = await readUnit(actor, req.params.id);
      const rows = await database.query<{ t: Date | string; lon: number; lat: number; speed: number | null; heading: number | null }>(
        'select t, lon, lat, speed, heading from unit_position where unit_id = $1 and t >= $2 and t < $3 order by t limit 1000000',
        [req.params.id, from, to],
      );
      await database.db.transaction(async (tx) =>
        appendAudit(tx, actor, {
          action: 'unit.track.read',
          entityType: 'unit',
          entityId: req.params.id,
          nodePath: row.path,
          details: { from: from.toISOString(), to: to.toISOString(), points: rows.length },
        }),
      );
      const pts: (TrackPoint & { speed: number | null; heading: number | null })[] = rows.map((r) => ({
        t: new Date(r.t).getTime(),
        lon: r.lon,
        lat: r.lat,
        speed: r.speed,
        heading: r.heading,
      }));
      const s = simplifyTrack(pts, req.query.maxPoints);
      return {
        unitId: req.params.id,
        from: from.toISOString(),
        to: to.toISOString(),
        total: rows.length,
        toleranceM: s.toleranceM,
        points: s.points.map((p) => {
          const [lon, lat] = convert(p.lon, p.lat, 'WGS84', req.query.crs);
          return { t: new Date(p.t).toISOString(), lon, lat, speed: p.speed, heading: p.heading };
        }),
      };
    },
  );

  patrolRoutes(app, ctx);
  void nodePathOf;
}
