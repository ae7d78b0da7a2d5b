import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Role } from '@pingan/contracts';
import { type Actor, assertCoversNode, roleGroups } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import { rows } from '../../platform/db/rows.js';
import { DomainError, forbidden, notFound, unprocessable } from '../../platform/errors.js';
import { actorOf } from '../../platform/http/access-hook.js';
import { sendStoredFile } from '../../platform/http/files.js';
import { runIdempotent } from '../../platform/http/idempotency.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';
import { toEido } from './eido.js';
import { appendIncidentEvents, announceEvents, eventsOfIncident } from './events.js';
import {
  ACTIVE_ASSIGNMENT,
  AUDIO_MAX_BYTES, AUDIO_TYPES, CloseBody, DispatchBody, DivertBody, DiversionReportBody, InstructionBody, IntakeBody, MergeBody, StatusBody,
  CloseAnswer, DispatchAnswer, DivertAnswer, DiversionStepAnswer, InstructionAnswer, MergeAnswer, ReassignAnswer, StatusAnswer, UnmergeAnswer,
} from './model.js';
import { incidentDetail, presentIncidentSummary, terminalBriefing } from './presenter.js';
import { RealtimeHub, type Subscriber } from './realtime.js';
import { installPositionPush } from './realtime-positions.js';
import { recommend } from './recommend.js';
import { streamSnapshot } from './snapshot.js';
import { dispatchStatsRoutes } from './stats.js';
import { createDispatchService, DISPATCH_ROLES, INCIDENT_READER_ROLES, loadIncident, type AppendedEvents, type IncidentRow } from './service.js';
import { TimerScheduler } from './timers.js';
import { unitsRuntime } from '../units/runtime.js';

/** Who takes calls and sends units; who reads incidents; who answers from a unit. */
const dispatchers = DISPATCH_ROLES;
const intakers: readonly Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary'];
const readers = INCIDENT_READER_ROLES;
const closers: readonly Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer'];
const responders: readonly Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'volunteer', 'security_guard'];
const partners: readonly Role[] = ['admin', 'partner_staff'];

const IdParams = z.object({ id: z.string().uuid() });
const Ok = z.object({}).passthrough();

export function dispatchRoutes(app: ZodApp, ctx: AppContext): void {
  const { database, bus } = ctx;
  const dispatch = createDispatchService(ctx);
  const timers = new TimerScheduler(database, bus, ctx.now, ctx.config.PINGAN_TIMER_INTERVAL_MS || 1000);
  const briefings = new Map<number, Promise<Record<string, unknown>>>();

  const hub = new RealtimeHub(database, async (e, sub) => {
    const base = { type: 'event', seq: e.seq, incidentId: e.incidentId, event: e.type, at: e.at.toISOString(), data: e.data };
    if (sub.mode === 'terminal' && e.type === 'dispatch') {
      // One briefing per dispatch, shared by every terminal that receives it.
      let briefing = briefings.get(e.seq);
      if (!briefing) {
        briefing = terminalBriefing(database.db, e.incidentId);
        briefings.set(e.seq, briefing);
        if (briefings.size > 500) briefings.delete(briefings.keys().next().value!);
      }
      return { ...base, briefing: await briefing };
    }
    return base;
  });
  // Briefings read behind a dispatch's commit serve its terminals' messages (no read of their own).
  hub.onPrefetched = (events, prefetched) => {
    for (const e of events) {
      const briefing = e.type === 'dispatch' ? prefetched.briefings.get(e.incidentId) : undefined;
      if (!briefing || briefings.has(e.seq)) continue;
      briefings.set(e.seq, Promise.resolve(briefing));
      if (briefings.size > 500) briefings.delete(briefings.keys().next().value!);
    }
  };
  dispatch.feedHub(hub);
  hub.replay = {
    maxEvents: ctx.config.PINGAN_WS_REPLAY_MAX_EVENTS,
    maxAgeMs: ctx.config.PINGAN_WS_REPLAY_MAX_MINUTES * 60_000,
    snapshot: (sub) => streamSnapshot(database.db, sub),
    now: ctx.now,
  };
  app.decorate('dispatchHub', hub);
  const positions = installPositionPush(app, ctx);
  app.decorate('dispatchTimers', timers);
  app.addHook('onReady', async () => {
    await hub.start(bus);
    if (ctx.config.PINGAN_TIMER_INTERVAL_MS > 0) timers.start();
  });
  app.addHook('onClose', async () => {
    await timers.stop();
    hub.stop();
  });

  const unitsOf = async (userId: string, exec: Executor = database.db) =>
    new Set((await rows<{ unit_id: string }>(exec, sql`select unit_id from unit_member where user_id = ${userId}`)).map((r) => r.unit_id));

  app.get(
    '/api/incident-categories',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['dispatch'],
        summary: 'The configured list of call categories (police and non-police)',
        response: { 200: z.object({ items: z.array(z.object({ code: z.string(), parentCode: z.string().nullable(), nameZh: z.string(), nameEn: z.string(), police: z.boolean(), jointForcesAllowed: z.boolean() })) }), ...ApiErrorSchemas },
      },
    },
    async () => {
      const found = await database.query<{ code: string; parent_code: string | null; name_zh: string; name_en: string; police: boolean; joint_forces_allowed: boolean }>('select * from incident_category order by sort, code');
      return { items: found.map((c) => ({ code: c.code, parentCode: c.parent_code, nameZh: c.name_zh, nameEn: c.name_en, police: c.police, jointForcesAllowed: c.joint_forces_allowed })) };
    },
  );

  app.post(
    '/api/incidents',
    {
      config: { access: { roles: intakers } },
      schema: {
        tags: ['dispatch'],
        summary: 'Intake of a call: locates it, routes it to the owning station, flags likely duplicates, shows the place history (honours Idempotency-Key)',
        body: IntakeBody,
        response: { 201: Ok, ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      // The answer is stored in the intake's own transaction; events are announced after its commit.
      let appended = null as AppendedEvents | null;
      const answer = await runIdempotent(database, req, reply, async (tx) => {
        const body = await dispatch.intake(actor, req.body, tx);
        appended = dispatch.appendedEvents(tx);
        return { status: 201, body };
      });
      // A replayed answer appended nothing: there is nothing to announce.
      if (appended) await dispatch.announce(appended);
      return answer;
    },
  );

  app.get(
    '/api/incidents',
    {
      config: { access: { roles: readers } },
      schema: {
        tags: ['dispatch'],
        summary: 'Incidents of your jurisdiction, newest first',
        querystring: z.object({
          state: z.enum(['open', 'closed', 'all']).default('open'),
          nodeId: z.string().uuid().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          before: z.coerce.date().optional(),
        }),
        response: { 200: z.object({ items: z.array(Ok) }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = req.query.nodeId ? await assertCoversNode(database.db, actor, req.query.nodeId) : actor.nodePath;
      const state = req.query.state === 'open' ? sql`and status not in ('closed', 'merged')` : req.query.state === 'closed' ? sql`and status in ('closed', 'merged')` : sql``;
      const found = await rows<IncidentRow>(
        database.db,
        sql`select * from incident where node_path like ${`${path}%`} ${state}
            ${req.query.before ? sql`and created_at < ${req.query.before}` : sql``}
            order by created_at desc limit ${req.query.limit}`,
      );
      return { items: found.map(presentIncidentSummary) };
    },
  );

  app.get(
    '/api/incidents/:id',
    {
      config: { access: { roles: readers } },
      schema: {
        tags: ['dispatch'],
        summary: 'An incident with its calls (callers masked unless reveal=caller, audited), units, timers and event log',
        params: IdParams,
        querystring: z.object({ reveal: z.enum(['caller']).optional() }),
        response: { 200: Ok, ...ApiErrorSchemas },
      },
    },
    async (req) => incidentDetail(database, actorOf(req), req.params.id, req.query.reveal === 'caller'),
  );

  app.post(
    '/api/incidents/:id/recommendation',
    {
      config: { access: { roles: dispatchers } },
      schema: {
        tags: ['dispatch'],
        summary: 'Rank available units by ETA, fill the response plan, give the reason for each pick (recorded in the log)',
        params: IdParams,
        response: { 200: Ok, ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const incident = await dispatch.loadCovered(actor, req.params.id);
      const rec = await recommend(database.db, unitsRuntime(ctx).positions, incident);
      const at = ctx.now();
      await database.db.transaction((tx) =>
        appendIncidentEvents(tx, [
          {
            incidentId: incident.id,
            type: 'recommendation_shown',
            actorId: actor.userId,
            nodePath: incident.node_path,
            at,
            data: { plan: rec.plan.name, picks: rec.picks.map((p) => ({ unitId: p.unitId, etaSeconds: p.etaSeconds, reasons: p.reasons })), missing: rec.missing },
          },
        ]),
      );
      await announceEvents(bus);
      return rec;
    },
  );

  app.post(
    '/api/incidents/:id/dispatch',
    {
      config: { access: { roles: dispatchers } },
      schema: { tags: ['dispatch'], summary: 'Send one or many units; pushes the incident to their terminals (honours Idempotency-Key)', params: IdParams, body: DispatchBody, response: { 201: DispatchAnswer, ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      let appended = null as AppendedEvents | null;
      const answer = await runIdempotent(database, req, reply, async (tx) => {
        const body = await dispatch.dispatch(actor, req.params.id, req.body, tx);
        appended = dispatch.appendedEvents(tx);
        return { status: 201, body };
      });
      if (appended) await dispatch.announce(appended);
      return answer;
    },
  );

  app.post(
    '/api/incidents/:id/merge',
    { config: { access: { roles: dispatchers } }, schema: { tags: ['dispatch'], summary: 'Merge this (duplicate) incident into another; reversible', params: IdParams, body: MergeBody, response: { 200: MergeAnswer, ...ApiErrorSchemas } } },
    async (req) => dispatch.merge(actorOf(req), req.params.id, req.body.intoIncidentId),
  );

  app.post(
    '/api/incidents/:id/unmerge',
    { config: { access: { roles: dispatchers } }, schema: { tags: ['dispatch'], summary: 'Undo a merge: the calls of this incident return to it', params: IdParams, response: { 200: UnmergeAnswer, ...ApiErrorSchemas } } },
    async (req) => dispatch.unmerge(actorOf(req), req.params.id),
  );

  app.post(
    '/api/assignments/:id/status',
    {
      config: { access: { roles: responders } },
      schema: { tags: ['dispatch'], summary: "A unit's status (acknowledged, en route, on scene, cleared …) with time, actor and position (honours Idempotency-Key)", params: IdParams, body: StatusBody, response: { 200: StatusAnswer, ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      // A terminal that lost the answer (its connection, or the server, went down) retries with the same
      // key and gets the stored answer, not a conflict from the status it already set.
      let appended = null as AppendedEvents | null;
      const answer = await runIdempotent(database, req, reply, async (tx) => {
        const body = await dispatch.setStatus(actor, req.params.id, req.body, async (exec, unitId) => (await unitsOf(actor.userId, exec)).has(unitId), tx);
        appended = dispatch.appendedEvents(tx);
        return { status: 200, body };
      });
      if (appended) await dispatch.announce(appended);
      return answer;
    },
  );

  app.get(
    '/api/assignments',
    {
      config: { access: { roles: responders } },
      schema: {
        tags: ['dispatch'],
        summary: "Assignments of units: your own units' (mine=true, for a terminal) or those of your jurisdiction, open ones by default",
        querystring: z.object({
          mine: z.enum(['true', 'false']).default('false'),
          unitId: z.string().uuid().optional(),
          state: z.enum(['open', 'all']).default('open'),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ items: z.array(Ok) }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const q = req.query;
      // A terminal sees its units' assignments; readers of a jurisdiction see the units of it.
      const scope =
        q.mine === 'true' || !readers.includes(actor.role)
          ? sql`a.unit_id in (select unit_id from unit_member where user_id = ${actor.userId})`
          : sql`u.path like ${`${actor.nodePath}%`}`;
      const open = q.state === 'open' ? sql`and a.status = any(${`{${ACTIVE_ASSIGNMENT.join(',')}}`}::text[])` : sql``;
      const found = await rows<{ id: string; unit_id: string; call_sign: string; status: string; dispatched_at: Date; incident_id: string } & IncidentRow>(
        database.db,
        sql`select i.*, a.id as assignment_id, a.unit_id, u.call_sign, a.status as assignment_status, a.dispatched_at as assignment_dispatched_at
            from incident_assignment a join incident i on i.id = a.incident_id join unit u on u.id = a.unit_id
            where ${scope} ${open} ${q.unitId ? sql`and a.unit_id = ${q.unitId}` : sql``}
            order by a.dispatched_at desc limit ${q.limit}`,
      );
      return {
        items: found.map((r) => {
          const raw = r as unknown as Record<string, unknown>;
          return {
            assignmentId: raw.assignment_id as string,
            unitId: r.unit_id,
            callSign: r.call_sign,
            status: raw.assignment_status as string,
            dispatchedAt: new Date(raw.assignment_dispatched_at as string).toISOString(),
            incident: presentIncidentSummary(r),
          };
        }),
      };
    },
  );

  app.post(
    '/api/assignments/:id/reassign',
    {
      config: { access: { roles: dispatchers } },
      schema: {
        tags: ['dispatch'],
        summary: 'Reassign: cancel a unit that has not arrived and send another in its place',
        params: IdParams,
        body: z.object({ unitId: z.string().uuid(), reason: z.string().trim().max(200).optional() }),
        response: { 201: ReassignAnswer, ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      reply.code(201);
      return dispatch.reassign(actorOf(req), req.params.id, req.body.unitId, req.body.reason);
    },
  );

  app.post(
    '/api/incidents/:id/close',
    { config: { access: { roles: closers } }, schema: { tags: ['dispatch'], summary: 'Close with a disposition and a short result', params: IdParams, body: CloseBody, response: { 200: CloseAnswer, ...ApiErrorSchemas } } },
    async (req) => dispatch.close(actorOf(req), req.params.id, req.body),
  );

  app.post(
    '/api/incidents/:id/divert',
    { config: { access: { roles: dispatchers } }, schema: { tags: ['dispatch'], summary: 'Divert a non-police incident to a partner department (联调联处)', params: IdParams, body: DivertBody, response: { 201: DivertAnswer, ...ApiErrorSchemas } } },
    async (req, reply) => {
      reply.code(201);
      return dispatch.divert(actorOf(req), req.params.id, req.body.departmentId, req.body.note);
    },
  );

  app.get(
    '/api/diversions',
    {
      config: { access: { roles: [...partners, 'dispatcher', 'station_leader'] } },
      schema: { tags: ['dispatch'], summary: "Diversions: partner staff see their departments', dispatchers their jurisdiction's", querystring: z.object({ status: z.enum(['pending', 'accepted', 'overdue', 'handled', 'all']).default('all') }), response: { 200: z.object({ items: z.array(Ok) }), ...ApiErrorSchemas } },
    },
    async (req) => {
      const actor = actorOf(req);
      const status = req.query.status === 'all' ? sql`` : sql`and d.status = ${req.query.status}`;
      const scope = actor.role === 'partner_staff'
        ? sql`d.department_id in (select department_id from partner_member where user_id = ${actor.userId})`
        : sql`i.node_path like ${`${actor.nodePath}%`}`;
      const found = await rows<{ id: string; incident_id: string; number: string; content: string; address: string | null; department: string; status: string; created_at: Date; report: string | null }>(
        database.db,
        sql`select d.id, d.incident_id, i.number, i.content, i.address, p.name as department, d.status, d.created_at, d.report
            from incident_diversion d join incident i on i.id = d.incident_id join partner_department p on p.id = d.department_id
            where ${scope} ${status} order by d.created_at desc limit 200`,
      );
      return { items: found.map((d) => ({ id: d.id, incidentId: d.incident_id, number: d.number, content: d.content, address: d.address, department: d.department, status: d.status, createdAt: new Date(d.created_at).toISOString(), report: d.report })) };
    },
  );

  app.post(
    '/api/diversions/:id/accept',
    { config: { access: { roles: partners } }, schema: { tags: ['dispatch'], summary: 'Partner department accepts a diverted incident', params: IdParams, response: { 200: DiversionStepAnswer, ...ApiErrorSchemas } } },
    async (req) => dispatch.diversionStep(actorOf(req), req.params.id, 'accept'),
  );

  app.post(
    '/api/diversions/:id/report',
    { config: { access: { roles: partners } }, schema: { tags: ['dispatch'], summary: 'Partner department reports back what it did; the incident closes', params: IdParams, body: DiversionReportBody, response: { 200: DiversionStepAnswer, ...ApiErrorSchemas } } },
    async (req) => dispatch.diversionStep(actorOf(req), req.params.id, 'report', req.body.report),
  );

  app.post(
    '/api/incidents/:id/instructions',
    {
      config: { access: { roles: ['admin', 'dispatcher', 'station_leader'] } },
      schema: { tags: ['dispatch'], summary: 'Leaders attach an instruction and/or mark the incident supervised (normal / yellow / red)', params: IdParams, body: InstructionBody, response: { 200: InstructionAnswer, ...ApiErrorSchemas } },
    },
    async (req) => dispatch.instruct(actorOf(req), req.params.id, req.body.text, req.body.supervision),
  );

  app.addContentTypeParser(AUDIO_TYPES, { parseAs: 'buffer', bodyLimit: AUDIO_MAX_BYTES }, (_req, body, done) => done(null, body));
  app.put(
    '/api/incident-calls/:id/audio',
    {
      config: { access: { roles: intakers } },
      schema: { tags: ['dispatch'], summary: `Store a call's audio (raw body: ${AUDIO_TYPES.join(', ')}; ≤ 10 MiB)`, params: IdParams, response: { 204: z.null(), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (!AUDIO_TYPES.includes(type)) {
        throw new DomainError(415, 'unsupported_media_type', `Send the audio as the raw body with one of these content types: ${AUDIO_TYPES.join(', ')}.`);
      }
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw unprocessable('The audio is empty.');
      await dispatch.setCallAudio(actorOf(req), req.params.id, req.body, type);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/incident-calls/:id/audio',
    { config: { access: { roles: responders } }, schema: { tags: ['dispatch'], summary: "A call's audio (the read is audited); units on the incident may play it", params: IdParams } },
    async (req, reply) => {
      const actor = actorOf(req);
      const [c] = await rows<{ incident_id: string; audio: Buffer | Uint8Array | null; audio_type: string | null }>(database.db, sql`select incident_id, audio, audio_type from incident_call where id = ${req.params.id}`);
      if (!c?.audio) throw notFound('The call audio');
      const incident = await loadIncident(database.db, c.incident_id);
      // Readers of the jurisdiction, or the members of a unit sent to the incident.
      if (!(readers.includes(actor.role) && incident.node_path.startsWith(actor.nodePath))) {
        const mine = await unitsOf(actor.userId);
        const [on] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from incident_assignment where incident_id = ${c.incident_id} and unit_id::text = any(string_to_array(${[...mine].join(',')}, ','))`);
        if (!on!.n) throw forbidden('Only readers of this jurisdiction and the units sent to the incident may play its call audio.');
      }
      await database.db.transaction((tx) => appendAudit(tx, actor, { action: 'personal_data.read', entityType: 'incident_call', entityId: req.params.id, nodePath: incident.node_path, details: { fields: ['audio'] } }));
      return sendStoredFile(reply, { data: c.audio, type: c.audio_type });
    },
  );

  app.get(
    '/api/incidents/:id/log',
    { config: { access: { roles: readers } }, schema: { tags: ['dispatch'], summary: 'The append-only event log of an incident (JSON)', params: IdParams, response: { 200: z.object({ incident: Ok, events: z.array(Ok) }), ...ApiErrorSchemas } } },
    async (req, reply) => {
      const incident = await dispatch.loadCovered(actorOf(req), req.params.id);
      const events = await eventsOfIncident(database.db, incident.id);
      reply.header('content-disposition', `attachment; filename="incident-${incident.number}.json"`);
      return { incident: presentIncidentSummary(incident), events: events.map((e) => ({ seq: e.seq, type: e.type, at: e.at.toISOString(), actorId: e.actorId, unitIds: e.unitIds, data: e.data })) };
    },
  );

  app.get(
    '/api/incidents/:id/eido',
    { config: { access: { roles: readers } }, schema: { tags: ['dispatch'], summary: 'The incident as a NENA EIDO JSON document', params: IdParams, response: { 200: Ok, ...ApiErrorSchemas } } },
    async (req, reply) => {
      const actor = actorOf(req);
      const detail = await incidentDetail(database, actor, req.params.id, false);
      const [station] = detail.stationId ? await rows<{ id: string; name: string; code: string }>(database.db, sql`select id, name, code from jurisdiction_node where id = ${detail.stationId}`) : [];
      reply.header('content-disposition', `attachment; filename="incident-${detail.number}.eido.json"`);
      return toEido(detail, { id: station ? `urn:gb2260:${station.code}` : 'urn:pingan:unknown', name: station?.name ?? '' }, `urn:pingan:${req.host}`);
    },
  );

  dispatchStatsRoutes(app, ctx);

  // Realtime: command screens (their node and below) and terminals (their units), resumable by seq.
  app.get(
    '/api/ws',
    {
      websocket: true,
      config: { access: { public: true } },
      schema: {
        tags: ['realtime'],
        summary: 'WebSocket of incident events. Authenticate with the session cookie or ?ticket= (POST /api/auth/ticket); ?since=<seq> resumes without gaps (too far behind: a {type:"resync"} message with a snapshot); ?mode=terminal for a unit terminal',
        querystring: z.object({ ticket: z.string().max(2000).optional(), since: z.coerce.number().int().min(0).optional(), mode: z.enum(['command', 'terminal']).default('command') }),
      },
    },
    async (socket, req) => {
      const q = req.query as { ticket?: string; since?: number; mode: 'command' | 'terminal' };
      let actor: Actor | null = req.actor;
      let unitIds = new Set<string>();
      let mode = q.mode;
      if (q.ticket) {
        const claims = (await ctx.auth.verifyTicket(q.ticket, 'ws')) ?? (await ctx.auth.verifyTicket(q.ticket, 'terminal'));
        actor = claims ? await ctx.auth.actorForUser(claims.sub, null, req.ip) : null;
        if (claims?.purpose === 'terminal') mode = 'terminal';
        if (actor && claims?.unitId) unitIds = new Set([claims.unitId]);
      }
      if (!actor) {
        socket.close(4401, 'log in first: send a valid ticket');
        return;
      }
      if (mode === 'terminal') {
        const mine = await unitsOf(actor.userId);
        unitIds = unitIds.size ? new Set([...unitIds].filter((u) => mine.has(u))) : mine;
        if (unitIds.size === 0) {
          socket.close(4403, 'you are not a member of any unit');
          return;
        }
      } else if (!readers.includes(actor.role)) {
        socket.close(4403, 'your role has no command screen');
        return;
      }
      const sub: Subscriber = { socket, actor, mode, unitIds, lastSeq: 0, live: false };
      socket.on('error', () => undefined);
      socket.send(JSON.stringify({ type: 'hello', mode, units: [...unitIds], since: q.since ?? null }));
      await hub.add(sub, q.since ?? null);
      // Command screens also get live unit positions of their jurisdiction, pushed (realtime-positions.ts).
      if (mode === 'command') positions.add(socket, actor);
    },
  );
}

declare module 'fastify' {
  interface FastifyInstance {
    dispatchHub: RealtimeHub;
    dispatchTimers: TimerScheduler;
  }
}
