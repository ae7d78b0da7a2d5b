import { sql } from 'drizzle-orm';
import type { EventBus } from '../../platform/bus.js';
import type { Database, Executor } from '../../platform/db/index.js';
import { rows, uuidArray } from '../../platform/db/rows.js';

/** Bus topic carrying "incident events up to seq N are committed": receivers read them from the database. */
export const INCIDENT_EVENTS = 'incident.events';

// Appends to the event log are serialized until commit, so seq order is commit order.
const EVENT_LOCK = 727300;

export interface NewIncidentEvent {
  incidentId: string;
  type: string;
  actorId: string | null;
  nodePath: string;
  unitIds?: readonly string[];
  data?: Record<string, unknown>;
  at: Date;
}

export interface IncidentEventRow {
  seq: number;
  incidentId: string;
  at: Date;
  type: string;
  actorId: string | null;
  nodePath: string;
  unitIds: string[];
  data: Record<string, unknown>;
}

/** Append events inside the caller's transaction; answers the seq of the last one. */
export async function appendIncidentEvents(tx: Executor, events: readonly NewIncidentEvent[]): Promise<number> {
  await tx.execute(sql`select pg_advisory_xact_lock(${EVENT_LOCK})`);
  const [last] = await rows<{ seq: number | string | null }>(tx, sql`select max(seq) as seq from incident_event`);
  let seq = Number(last?.seq ?? 0);
  for (const e of events) {
    seq++;
    await tx.execute(sql`insert into incident_event (seq, incident_id, at, type, actor_id, node_path, unit_ids, data)
      values (${seq}, ${e.incidentId}, ${e.at}, ${e.type}, ${e.actorId}, ${e.nodePath},
        ${uuidArray(e.unitIds ?? [])}::uuid[], ${JSON.stringify(e.data ?? {})}::jsonb)`);
  }
  return seq;
}

interface RawEvent {
  seq: number | string;
  incident_id: string;
  at: Date | string;
  type: string;
  actor_id: string | null;
  node_path: string;
  unit_ids: string[] | string;
  data: Record<string, unknown> | string;
}

const parseUuidArray = (v: string[] | string): string[] =>
  Array.isArray(v) ? v : v.replace(/^\{|\}$/g, '').split(',').filter(Boolean);

export function toEvent(r: RawEvent): IncidentEventRow {
  return {
    seq: Number(r.seq),
    incidentId: r.incident_id,
    at: new Date(r.at),
    type: r.type,
    actorId: r.actor_id,
    nodePath: r.node_path,
    unitIds: parseUuidArray(r.unit_ids),
    data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data,
  };
}

export async function eventsAfter(exec: Executor, afterSeq: number, limit = 1000): Promise<IncidentEventRow[]> {
  const found = await rows<RawEvent>(
    exec,
    sql`select seq, incident_id, at, type, actor_id, node_path, unit_ids, data from incident_event where seq > ${afterSeq} order by seq limit ${limit}`,
  );
  return found.map(toEvent);
}

export async function eventsOfIncident(exec: Executor, incidentId: string): Promise<IncidentEventRow[]> {
  const found = await rows<RawEvent>(
    exec,
    sql`select seq, incident_id, at, type, actor_id, node_path, unit_ids, data from incident_event where incident_id = ${incidentId} order by seq`,
  );
  return found.map(toEvent);
}

export async function lastEventSeq(database: Database): Promise<number> {
  const [r] = await database.query<{ seq: string | number | null }>('select max(seq) as seq from incident_event');
  return Number(r?.seq ?? 0);
}

/** Tell every instance (through the bus) that events up to `seq` are committed. */
export async function announceEvents(bus: EventBus, seq: number): Promise<void> {
  await bus.publish(INCIDENT_EVENTS, { seq });
}
