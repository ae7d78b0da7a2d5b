import { sql, type SQL } from 'drizzle-orm';
import { type Actor, assertCoversPath } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { Database, Executor } from '../../platform/db/index.js';
import { rows } from '../../platform/db/rows.js';
import { forbidden, notFound } from '../../platform/errors.js';
import { maskName, maskPhone, mayReveal } from '../../platform/masking.js';
import { eventsOfIncident } from './events.js';
import { planLookup, planOf, type Requirement } from './recommend.js';
import { incidentRowOf, loadIncident, type IncidentRow } from './service.js';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

interface CallRow {
  id: string;
  caller_phone: string | null;
  caller_name: string | null;
  content: string;
  source: string;
  received_at: Date;
  audio_type: string | null;
  audio_bytes: number | null;
  origin_incident_id: string;
}

async function calls(exec: Executor, incidentId: string) {
  return rows<CallRow>(
    exec,
    sql`select id, caller_phone, caller_name, content, source, received_at, audio_type, audio_bytes, origin_incident_id
        from incident_call where incident_id = ${incidentId} order by received_at`,
  );
}

const presentCall = (c: CallRow, reveal: boolean) => ({
  id: c.id,
  callerPhone: reveal ? c.caller_phone : maskPhone(c.caller_phone),
  callerName: reveal ? c.caller_name : maskName(c.caller_name),
  content: c.content,
  source: c.source,
  receivedAt: iso(c.received_at)!,
  audioUrl: c.audio_type ? `/api/incident-calls/${c.id}/audio` : null,
  audioBytes: c.audio_bytes,
  mergedFrom: c.origin_incident_id,
});

export function presentIncidentSummary(i: IncidentRow) {
  return {
    id: i.id,
    number: i.number,
    status: i.status,
    category: i.subcategory ?? i.category,
    priority: i.priority,
    source: i.source,
    content: i.content,
    address: i.address,
    lon: i.lon === null ? null : Number(i.lon),
    lat: i.lat === null ? null : Number(i.lat),
    nodeId: i.node_id,
    stationId: i.station_id,
    core: i.core,
    supervision: i.supervision,
    mergedInto: i.merged_into,
    disposition: i.disposition,
    result: i.result,
    createdAt: iso(i.created_at)!,
    closedAt: iso(i.closed_at),
  };
}

/** The whole incident for a command screen; caller details masked unless revealed (audited). */
export async function incidentDetail(database: Database, actor: Actor, id: string, reveal: boolean) {
  const { db } = database;
  const incident = await loadIncident(db, id);
  assertCoversPath(actor, incident.node_path);
  if (reveal && !mayReveal(actor.role, 'callerPhone')) throw forbidden('Your role may not see callers in full.');
  const callRows = await calls(db, id);
  if (reveal) {
    await db.transaction((tx) =>
      appendAudit(tx, actor, { action: 'personal_data.read', entityType: 'incident', entityId: id, nodePath: incident.node_path, details: { fields: ['callerPhone', 'callerName'] } }),
    );
  }
  const assignments = await rows<{ id: string; unit_id: string; call_sign: string | null; type: string | null; status: string; role: string; reason: string | null; dispatched_at: Date; acknowledged_at: Date | null; en_route_at: Date | null; on_scene_at: Date | null; cleared_at: Date | null; cancelled_at: Date | null }>(
    db,
    sql`select a.*, u.call_sign, u.type from incident_assignment a left join unit u on u.id = a.unit_id where a.incident_id = ${id} order by a.dispatched_at`,
  );
  const timers = await rows<{ id: string; kind: string; assignment_id: string | null; diversion_id: string | null; started_at: Date; warn_at: Date; due_at: Date; warned_at: Date | null; breached_at: Date | null; met_at: Date | null; cancelled_at: Date | null }>(
    db,
    sql`select * from incident_timer where incident_id = ${id} order by started_at, kind`,
  );
  const diversions = await rows<{ id: string; department_id: string; name: string; status: string; note: string | null; created_at: Date; accepted_at: Date | null; handled_at: Date | null; report: string | null }>(
    db,
    sql`select d.*, p.name from incident_diversion d join partner_department p on p.id = d.department_id where d.incident_id = ${id} order by d.created_at`,
  );
  const events = await eventsOfIncident(db, id);
  return {
    ...presentIncidentSummary(incident),
    calls: callRows.map((c) => presentCall(c, reveal)),
    assignments: assignments.map((a) => ({
      id: a.id,
      unitId: a.unit_id,
      callSign: a.call_sign,
      unitType: a.type,
      status: a.status,
      role: a.role,
      reason: a.reason,
      dispatchedAt: iso(a.dispatched_at)!,
      acknowledgedAt: iso(a.acknowledged_at),
      enRouteAt: iso(a.en_route_at),
      onSceneAt: iso(a.on_scene_at),
      clearedAt: iso(a.cleared_at),
      cancelledAt: iso(a.cancelled_at),
    })),
    timers: timers.map((t) => ({
      id: t.id,
      kind: t.kind,
      assignmentId: t.assignment_id,
      diversionId: t.diversion_id,
      startedAt: iso(t.started_at)!,
      warnAt: iso(t.warn_at)!,
      dueAt: iso(t.due_at)!,
      state: t.met_at ? 'met' : t.cancelled_at ? 'cancelled' : t.breached_at ? 'breached' : t.warned_at ? 'warning' : 'running',
      metAt: iso(t.met_at),
      breachedAt: iso(t.breached_at),
    })),
    diversions: diversions.map((d) => ({ id: d.id, departmentId: d.department_id, department: d.name, status: d.status, note: d.note, createdAt: iso(d.created_at)!, acceptedAt: iso(d.accepted_at), handledAt: iso(d.handled_at), report: d.report })),
    events: events.map((e) => ({ seq: e.seq, type: e.type, at: e.at.toISOString(), actorId: e.actorId, data: e.data })),
  };
}

/**
 * What a unit's terminal receives with a dispatch: everything needed to respond without calling
 * back — caller phone and name in full, content, location, call audio links, place history, plan.
 * The disclosure is audited when the dispatch is made.
 */
export async function terminalBriefing(exec: Executor, incidentId: string) {
  const [row] = await rows<BriefingRow>(exec, terminalBriefingQuery(incidentId));
  if (!row) throw notFound('The incident');
  return presentBriefing(row);
}

export type BriefingRow = IncidentRow & { calls_json: CallRow[]; history_json: HistoryRow[]; plan_json: { name: string; requirements: Requirement[] } | null };

/** One read: the incident, its calls, the place's history (30 days, 200 m) and the plan. */
export function terminalBriefingQuery(incidentId: string): SQL {
  return sql`select i.*,
          coalesce((select json_agg(c order by c.received_at) from (
            select id, caller_phone, caller_name, content, source, received_at, audio_type, audio_bytes, origin_incident_id
            from incident_call where incident_id = i.id) c), '[]'::json) as calls_json,
          case when i.location is null then '[]'::json else coalesce((select json_agg(h) from (
            select h.number, coalesce(h.subcategory, h.category) as category, h.content, h.created_at, h.status from incident h
            where h.id <> i.id and h.location is not null and h.created_at >= now() - interval '30 days'
              and h.location && ST_Expand(i.location, (${HISTORY_DEG}::float8 / greatest(0.01, cos(radians(i.lat::float8))))::float8, ${HISTORY_DEG}::float8)
              and ST_DWithin(h.location::geography, i.location::geography, ${HISTORY_RADIUS_M})
            order by h.created_at desc limit 10) h), '[]'::json) end as history_json,
          (select row_to_json(p) from (${planLookup(sql`i.node_path`, sql`i.category`, sql`i.priority`)}) p) as plan_json
        from incident i where i.id = ${incidentId}`;
}

/** The terminal briefing of a row of `terminalBriefingQuery`. */
export function presentBriefing(row: BriefingRow) {
  const { calls_json: callRows, history_json: history, plan_json: plan, ...incident } = row;
  return {
    incident: presentIncidentSummary(incidentRowOf(incident as IncidentRow)),
    calls: parsed<CallRow[]>(callRows).map((c) => presentCall(c, true)),
    placeHistory: parsed<HistoryRow[]>(history).map((h) => ({ number: h.number, category: h.category, content: h.content, status: h.status, createdAt: iso(h.created_at)! })),
    plan: planOf(parsed<{ name: string; requirements: Requirement[] } | null>(plan)),
  };
}

const HISTORY_RADIUS_M = 200;
/** The history radius in degrees of latitude (with 1 % margin), for the index's bounding box. */
const HISTORY_DEG = (HISTORY_RADIUS_M / 111_000) * 1.01;

interface HistoryRow {
  number: string;
  category: string;
  content: string;
  created_at: string;
  status: string;
}

/** json columns come parsed from node-postgres and as text from some drivers. */
function parsed<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
